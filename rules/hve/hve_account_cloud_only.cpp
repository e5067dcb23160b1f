// hve-account-cloud-only: every HVE account is a cloud-only Entra user, not a directory-synced one.
#include <fmt/format.h>
#include <tenantscan/model.hpp>

#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-account-cloud-only";
    m.concernsHveAccounts = true;
    m.title = "Every HVE account is cloud-only, not synchronised from Active Directory";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "An HVE account is created only in the cloud (New-MailUser -HVEAccount); it cannot be an AD-synced account. "
        "An HVE account whose Entra user is synchronised from on-premises Active Directory is owned by the sync "
        "engine: its attributes and password follow the on-premises object, and a sync change can overwrite or "
        "delete it, cutting off the devices that send through it.";
    m.remediation =
        "Create a new cloud-only HVE account (New-MailUser -HVEAccount) for the devices, move them to it, and stop "
        "synchronising the on-premises object (or remove it from the sync scope).";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
    };
    m.requiredSections = {"/exchange/hveAccounts", "/graph/users"};
    return m;
}

class HveAccountCloudOnlyRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

std::vector<Finding> HveAccountCloudOnlyRule::evaluate(const RuleContext& context) const {
    return per_hve_account_user(
        context, "it is synchronised from Active Directory", "onPremisesSyncEnabled",
        [&](const HveAccount& account, const User& user, nlohmann::json& evidence) {
            const std::string address = hve_account_address(account);
            const auto& synced = user.onPremisesSyncEnabled;
            evidence["onPremisesSyncEnabled"] = synced ? nlohmann::json(*synced) : nlohmann::json(nullptr);
            if (synced && *synced) {
                Finding r = finding(Status::Fail, hve_account_subject(account),
                                    fmt::format("The Entra user of HVE account {} ({}) is synchronised from on-premises "
                                                "Active Directory (onPremisesSyncEnabled true); an HVE account must be "
                                                "cloud-only.",
                                                address, user.userPrincipalName));
                r.remediation = fmt::format(
                    "Create a cloud-only HVE account (New-MailUser -HVEAccount -Name <name> -PrimarySmtpAddress <new "
                    "address> -Password <secure>), move the devices that send as {} to it, then take the on-premises "
                    "object out of the sync scope.",
                    address);
                return r;
            }
            return finding(Status::Pass, hve_account_subject(account),
                           fmt::format("The Entra user of HVE account {} is cloud-only.", address));
        });
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_account_cloud_only_rule() {
    return std::make_unique<HveAccountCloudOnlyRule>(make_metadata());
}

}  // namespace tenantscan::rules
