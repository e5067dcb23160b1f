// smtp-auth-switches: the effective SmtpClientAuthenticationDisabled of every account seen
// submitting mail with SMTP AUTH (mailbox value when set, else the organization's).
#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/detail/text.hpp>

#include "support/rule_base.hpp"
#include "support/smtp_inventory.hpp"
#include "support/smtp_senders.hpp"
#include "support/subjects.hpp"
#include "smtp/smtp_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "smtp-auth-switches";
    m.title = "SMTP AUTH is enabled for every account that submits mail with it";
    m.defaultSeverity = Severity::Low;
    m.rationale =
        "Exchange Online refuses SMTP AUTH submissions of a mailbox whose effective SmtpClientAuthenticationDisabled "
        "is true: the mailbox's own value (Get-CASMailbox) when it is set, else the organization's (Get-TransportConfig). "
        "An account seen sending with SMTP AUTH while the switch is off is failing today; if it is to keep sending "
        "through OAuth SMTP AUTH after the Basic retirement, the switch must be on for it. The switches do not "
        "affect HVE accounts, so they are left out.";
    m.remediation =
        "Enable SMTP AUTH for the mailbox only (Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled "
        "$false) if it must keep sending with OAuth SMTP AUTH; otherwise move the sender to HVE or Azure "
        "Communication Services and leave the switch off.";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission",
    };
    m.requiredSections = {"/graph/signIns", "/exchange/hveAccounts", "/exchange/transportConfig", "/exchange/casMailboxes"};
    return m;
}

class SmtpAuthSwitchesRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

// An account seen submitting with SMTP AUTH, and where it was seen.
struct SeenAccount {
    Subject subject;
    std::optional<UserIndex> user;    // its Entra user, when in /graph/users
    std::string entraId;              // its Entra object id when known (a sign-in's userId, or its user's id)
    std::vector<std::string> seenIn;  // "12 'Authenticated SMTP' sign-ins", "inventory: 'Scanner 3F' (oauth)"
};

// Accounts from the sign-in logs and from inventory entries that submit to Exchange Online with
// SMTP AUTH, HVE accounts left out; keyed by lower-case UPN / user name.
std::map<std::string, SeenAccount> seen_accounts(const RuleContext& context, const HveAccountIndex& hve) {
    std::map<std::string, SeenAccount> accounts;
    for (const SmtpSender& sender : non_hve_smtp_senders(context, hve)) {
        auto& account = accounts[to_lower(sender.subject.name.empty() ? sender.subject.id : sender.subject.name)];
        account.user = sender.user;
        account.entraId = sender.subject.id;
        account.subject = sender.subject;
        account.seenIn.push_back(fmt::format("{} 'Authenticated SMTP' sign-in{}", sender.signIns.size(),
                                             sender.signIns.size() == 1 ? "" : "s"));
    }
    if (auto inventory = scan_inventory(context.snapshot(), context.options()))
        for (const SmtpClient& client : inventory->clients) {
            if (!client.valid() || *client.auth == SmtpAuth::None || hve.find(client.username)) continue;
            // The switches are Exchange Online's, in every cloud (the sovereign hosts included).
            const SmtpEndpoint endpoint = classify_endpoint(client.host);
            if (!is_exchange_submission(endpoint) && endpoint != SmtpEndpoint::SovereignSubmission) continue;
            // Keyed like the senders (by UPN): a user name that is the user's object id joins its sign-ins.
            const auto user = context.directory().find_user(client.username);
            auto [it, inserted] = accounts.try_emplace(
                to_lower(user ? context.directory().user(*user).userPrincipalName : client.username));
            if (inserted) {
                it->second.user = user;
                if (user) it->second.entraId = context.directory().user(*user).id;
                it->second.subject = user ? Subject{"user", context.directory().user(*user).id,
                                                    context.directory().user(*user).userPrincipalName}
                                          : Subject{"user", client.username, client.username};
            }
            it->second.seenIn.push_back(fmt::format("inventory: '{}' ({})", client.name, to_string(*client.auth)));
        }
    return accounts;
}

// The CAS mailbox of an account, by the strongest identifier: the mailbox whose object id is the
// account's id; only when none has it, the mailbox whose primary address is the account's name and
// that names no other Entra object. Indexed once, so thousands of senders cost no scan of
// thousands of mailboxes each.
class CasMailboxIndex {
public:
    explicit CasMailboxIndex(const std::vector<CasMailbox>& mailboxes) : mailboxes_(mailboxes) {
        for (std::size_t i = 0; i < mailboxes.size(); ++i) {
            if (!mailboxes[i].externalDirectoryObjectId.empty())
                byId_.emplace(to_lower(mailboxes[i].externalDirectoryObjectId), i);  // keeps the first
            if (!mailboxes[i].primarySmtpAddress.empty())
                byAddress_.emplace(Directory::normalise_address(mailboxes[i].primarySmtpAddress), i);
        }
    }
    // entraId: the account's Entra object id, "" when not known; name: its UPN or user name.
    const CasMailbox* find(const std::string& entraId, const std::string& name) const {
        if (!entraId.empty())
            if (auto it = byId_.find(to_lower(entraId)); it != byId_.end()) return &mailboxes_[it->second];
        auto it = byAddress_.find(Directory::normalise_address(name));
        if (it == byAddress_.end()) return nullptr;
        const CasMailbox& mailbox = mailboxes_[it->second];
        // A mailbox of another Entra object is another account, whatever its address says.
        const bool otherObject = !entraId.empty() && !mailbox.externalDirectoryObjectId.empty() &&
                                 !iequals(mailbox.externalDirectoryObjectId, entraId);
        return otherObject ? nullptr : &mailbox;
    }

private:
    const std::vector<CasMailbox>& mailboxes_;
    std::unordered_map<std::string, std::size_t> byId_, byAddress_;
};

nlohmann::json optional_bool(const std::optional<bool>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::vector<Finding> SmtpAuthSwitchesRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const HveAccountIndex hve(context.directory());
    const auto accounts = seen_accounts(context, hve);
    if (accounts.empty())
        return {finding(Status::NotApplicable, tenant_subject(snapshot),
                        "No account other than an HVE account was seen submitting mail with SMTP AUTH (sign-ins and "
                        "device inventory).")};

    const std::optional<bool> org = snapshot.transportConfig->smtpClientAuthenticationDisabled;
    std::vector<Finding> findings;
    const CasMailboxIndex mailboxes(*snapshot.casMailboxes);
    for (const auto& entry : accounts) {
        const auto& account = entry.second;  // not a structured binding: clang 14 cannot capture one in the lambda below
        const CasMailbox* mailbox = mailboxes.find(account.entraId, account.subject.name);
        const std::optional<bool> own = mailbox ? mailbox->smtpClientAuthenticationDisabled : std::nullopt;
        nlohmann::json evidence = {{"seenIn", account.seenIn},
                                   {"organizationSmtpClientAuthenticationDisabled", optional_bool(org)},
                                   {"mailboxFound", mailbox != nullptr},
                                   {"mailboxSmtpClientAuthenticationDisabled", optional_bool(own)}};
        const std::string& name = account.subject.name;
        const bool disabled = account.user && context.directory().user(*account.user).accountEnabled == false;
        evidence["accountEnabled"] = account.user && context.directory().user(*account.user).accountEnabled
                                         ? nlohmann::json(*context.directory().user(*account.user).accountEnabled)
                                         : nlohmann::json(nullptr);
        Finding f = [&] {
            if (disabled)
                return finding(Status::Fail, account.subject,
                               fmt::format("The Entra user {} is disabled (accountEnabled false): it cannot sign in at "
                                           "all, so its SMTP AUTH submissions are refused whatever "
                                           "SmtpClientAuthenticationDisabled says.",
                                           name));
            if (!mailbox)
                return finding(Status::Review, account.subject,
                               fmt::format("/exchange/casMailboxes has no entry for {}, so whether its own "
                                           "SmtpClientAuthenticationDisabled overrides the organization's ({}) is "
                                           "unknown.",
                                           name, org ? (*org ? "true" : "false") : "not set"));
            const bool inherited = !own.has_value();
            const std::optional<bool> effective = inherited ? org : own;
            if (!effective)
                return finding(Status::Review, account.subject,
                               fmt::format("{} inherits SmtpClientAuthenticationDisabled from the organization, but "
                                           "/exchange/transportConfig does not give the organization's value.",
                                           name));
            evidence["effective"] = *effective;
            evidence["effectiveFrom"] = inherited ? "organization" : "mailbox";
            const std::string origin = inherited ? "inherited from the organization (Get-TransportConfig)"
                                                 : "set on the mailbox (Get-CASMailbox)";
            if (*effective)
                return finding(Status::Fail, account.subject,
                               fmt::format("SMTP AUTH is disabled for {} (SmtpClientAuthenticationDisabled true, {}), "
                                           "yet it was seen submitting with it: its submissions are refused today.",
                                           name, origin));
            return finding(Status::Pass, account.subject,
                           fmt::format("SMTP AUTH is enabled for {} (SmtpClientAuthenticationDisabled false, {}).",
                                       name, origin));
        }();
        if (disabled)
            f.remediation = fmt::format(
                "If a device must keep submitting as {}, enable the account (Update-MgUser -UserId {} "
                "-AccountEnabled:$true) and check its SMTP AUTH switch; otherwise reconfigure or retire the devices "
                "that submit as it.",
                name, account.subject.id);
        else if (f.status == Status::Fail)
            f.remediation = fmt::format(
                "If {0} must keep sending through OAuth SMTP AUTH, enable the switch for this mailbox only: "
                "Set-CASMailbox -Identity {0} -SmtpClientAuthenticationDisabled $false. If it is moving to HVE or "
                "Azure Communication Services, leave it off and reconfigure the sender.",
                name);
        else if (f.status == Status::Review)
            f.remediation = "Collect Get-CASMailbox for this account and Get-TransportConfig (see the snapshot format) "
                            "and scan again.";
        f.evidence = std::move(evidence);
        // The switches that decide: the organization's and the mailbox's SmtpClientAuthenticationDisabled.
        const auto setting = [](const char* id, const char* label, std::optional<bool> value) {
            return Related{Related::Kind::Setting, id, label, Related::Role::Names,
                           value ? (*value ? "true" : "false") : "not set", {}, {}, {}};
        };
        f.related = {setting("organization/SmtpClientAuthenticationDisabled",
                             "SmtpClientAuthenticationDisabled (Get-TransportConfig)", org)};
        if (mailbox)
            f.related.push_back(setting("mailbox/SmtpClientAuthenticationDisabled",
                                        "SmtpClientAuthenticationDisabled (Get-CASMailbox)", own));
        findings.push_back(std::move(f));
    }
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_smtp_auth_switches_rule() { return std::make_unique<SmtpAuthSwitchesRule>(make_metadata()); }

}  // namespace tenantscan::rules
