#include "support/rule_base.hpp"

#include <tenantscan/model.hpp>
#include <tenantscan/smtp_clients.hpp>

#include "support/smtp_inventory.hpp"

namespace tenantscan::rules {

std::optional<Finding> RuleBase::no_hve_accounts(const Snapshot& snapshot) const {
    if (!snapshot.hveAccounts->empty()) return std::nullopt;
    return finding(Status::NotApplicable, tenant_subject(snapshot),
                   "The tenant has no HVE accounts (/exchange/hveAccounts is empty).");
}

Finding RuleBase::invalid_inventory_entry(const SmtpClient& client) const {
    Finding f = finding(Status::Error, smtp_client_subject(client), invalid_client_message(client));
    f.evidence = {{"client", to_json(client)}};
    f.related = device_related(client);
    f.remediation = invalid_client_remediation(client);
    return f;
}

}  // namespace tenantscan::rules
