// hve-account-enabled: the Entra user of every HVE account is enabled, since a disabled account
// cannot sign in at all, whatever the other settings allow.
#include <fmt/format.h>
#include <tenantscan/model.hpp>

#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-account-enabled";
    m.concernsHveAccounts = true;
    m.title = "Every HVE account's Entra user is enabled";
    m.defaultSeverity = Severity::Critical;
    m.rationale =
        "An HVE account signs in as its Entra user. When that user is disabled (accountEnabled false), Entra refuses "
        "every sign-in before Conditional Access or Exchange is asked, so every device that sends as the account is "
        "refused, however the other settings are configured.";
    m.remediation =
        "Enable the HVE account's Entra user if its devices still send as it (Update-MgUser -UserId <id> "
        "-AccountEnabled:$true), or retire the account and reconfigure its devices.";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
        "https://learn.microsoft.com/en-us/graph/api/resources/user",
    };
    m.requiredSections = {"/exchange/hveAccounts", "/graph/users"};
    return m;
}

class HveAccountEnabledRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

std::vector<Finding> HveAccountEnabledRule::evaluate(const RuleContext& context) const {
    return per_hve_account_user(
        context, "it is enabled", "accountEnabled",
        [&](const HveAccount& account, const User& entraUser, nlohmann::json& evidence) {
            const std::string address = hve_account_address(account);
            evidence["accountEnabled"] =
                entraUser.accountEnabled ? nlohmann::json(*entraUser.accountEnabled) : nlohmann::json(nullptr);
            if (!entraUser.accountEnabled) {
                Finding r = finding(Status::Review, hve_account_subject(account),
                                    fmt::format("/graph/users does not give accountEnabled for {} ({}), the Entra user "
                                                "of HVE account {}, so whether it can sign in at all is unknown.",
                                                entraUser.userPrincipalName, entraUser.id, address));
                r.remediation =
                    "Export the users with accountEnabled (GET /v1.0/users?$select=...,accountEnabled, or Get-MgUser "
                    "-All -Property ...,accountEnabled; tenantscan collect selects it) and scan again.";
                return r;
            }
            if (!*entraUser.accountEnabled) {
                Finding r = finding(Status::Fail, hve_account_subject(account),
                                    fmt::format("The Entra user of HVE account {} ({}) is disabled (accountEnabled "
                                                "false): it cannot sign in at all, so every device that sends as {} is "
                                                "refused, whatever Conditional Access and Exchange allow.",
                                                address, entraUser.userPrincipalName, address));
                r.remediation = fmt::format(
                    "If devices still send as {0}, enable its Entra user: Entra admin center > Users > {1} > Edit "
                    "properties > Settings > Account enabled; or with Microsoft Graph PowerShell: Update-MgUser "
                    "-UserId {2} -AccountEnabled:$true. If the account is no longer used, remove it "
                    "(Remove-MailUser {0}) and reconfigure or retire the devices that send as it.",
                    address, entraUser.userPrincipalName, entraUser.id);
                return r;
            }
            return finding(Status::Pass, hve_account_subject(account),
                           fmt::format("The Entra user of HVE account {} ({}) is enabled.", address,
                                       entraUser.userPrincipalName));
        });
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_account_enabled_rule() { return std::make_unique<HveAccountEnabledRule>(make_metadata()); }

}  // namespace tenantscan::rules
