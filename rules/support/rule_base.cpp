#include "support/rule_base.hpp"

#include <tenantscan/model.hpp>
#include <tenantscan/smtp_clients.hpp>

#include "support/smtp_inventory.hpp"
#include "support/subjects.hpp"

namespace tenantscan::rules {

std::optional<Finding> RuleBase::no_hve_accounts(const Snapshot& snapshot) const {
    if (!snapshot.hveAccounts->empty()) return std::nullopt;
    return finding(Status::NotApplicable, tenant_subject(snapshot),
                   "The tenant has no HVE accounts (/exchange/hveAccounts is empty).");
}

std::vector<Finding> RuleBase::per_hve_account_user(const RuleContext& context, const std::string& what,
                                                   const std::string& property, const EntraUserJudge& judge) const {
    const Snapshot& snapshot = context.snapshot();
    if (auto none = no_hve_accounts(snapshot)) return {*none};

    std::vector<Finding> findings;
    for (const HveAccount& account : *snapshot.hveAccounts) {
        const auto user = context.directory().user_of_hve(account);
        nlohmann::json evidence = {{"entraUser", entra_user_evidence(context.directory(), user)}};
        Finding f = [&] {
            if (!user) {
                Finding r = finding(Status::Review, hve_account_subject(account), missing_entra_user_message(account, what));
                r.remediation = "Add the account's Entra user (with " + property + ") to /graph/users and scan again.";
                return r;
            }
            return judge(account, context.directory().user(*user), evidence);
        }();
        f.evidence = std::move(evidence);
        f.related = entra_user_related(context.directory(), user);
        findings.push_back(std::move(f));
    }
    return findings;
}

Finding RuleBase::invalid_inventory_entry(const SmtpClient& client) const {
    Finding f = finding(Status::Error, smtp_client_subject(client), invalid_client_message(client));
    f.evidence = {{"client", to_json(client)}};
    f.related = device_related(client);
    f.remediation = invalid_client_remediation(client);
    return f;
}

}  // namespace tenantscan::rules
