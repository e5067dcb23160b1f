// tenant-conditional-access-licence: a tenant that uses Conditional Access, or needs it for its HVE
// accounts, has Microsoft Entra ID P1.
#include <algorithm>

#include <fmt/format.h>
#include <tenantscan/model.hpp>

#include "support/entra_licence.hpp"
#include "support/policy_evidence.hpp"
#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "tenant/tenant_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "tenant-conditional-access-licence";
    m.title = "A tenant that uses or needs Conditional Access has Microsoft Entra ID P1";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "Conditional Access needs Microsoft Entra ID P1 (service plan AAD_PREMIUM, or AAD_PREMIUM_P2). Without it "
        "the policies cannot be changed, for instance to exclude the HVE accounts, and a tenant whose security "
        "defaults block its HVE accounts cannot move to Conditional Access, the only way to let them use Basic "
        "SMTP AUTH.";
    m.remediation =
        "Get Microsoft Entra ID P1 for the tenant: standalone, or in Microsoft 365 Business Premium, E3 or E5, or "
        "EMS E3/E5.";
    m.references = {
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/overview",
        "https://learn.microsoft.com/en-us/entra/fundamentals/security-defaults",
        "https://learn.microsoft.com/en-us/entra/identity/users/licensing-service-plan-reference",
    };
    m.requiredSections = {"/graph/subscribedSkus", "/graph/conditionalAccessPolicies", "/graph/securityDefaults",
                          "/exchange/hveAccounts"};
    return m;
}

class TenantConditionalAccessLicenceRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

std::vector<Finding> TenantConditionalAccessLicenceRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const Subject tenant = tenant_subject(snapshot);
    const P1Licence licence = find_p1_licence(snapshot);

    // In use: policies that are enabled or report-only (disabled ones do nothing).
    nlohmann::json inUse = nlohmann::json::array();
    std::vector<Related> related;
    for (const auto& policy : *snapshot.conditionalAccessPolicies)
        if (policy.state != PolicyState::Disabled) {
            inUse.push_back({{"id", policy.id}, {"displayName", policy.displayName}, {"state", graph_state_name(policy.state)}});
            related.push_back(related_policy(policy, Related::Role::Names));
        }
    // Needed: security defaults block the HVE accounts, and Conditional Access is the way out (hve-security-defaults).
    const std::size_t hveAccounts = snapshot.hveAccounts->size();
    const bool neededForHve = snapshot.securityDefaults->isEnabled && hveAccounts > 0;

    nlohmann::json evidence = {{"entraIdP1",
                                {{"status", licence.status},
                                 {"servicePlans", licence.servicePlans},
                                 {"missing", licence.missing}}},
                               {"policiesInUse", inUse},
                               {"securityDefaultsEnabled", snapshot.securityDefaults->isEnabled},
                               {"hveAccounts", hveAccounts}};
    std::vector<std::string> reasons;
    if (!inUse.empty())
        reasons.push_back(fmt::format("{} Conditional Access polic{} enabled or report-only", inUse.size(),
                                      inUse.size() == 1 ? "y is" : "ies are"));
    if (neededForHve)
        reasons.push_back(fmt::format("security defaults block the tenant's {} HVE account{}, and Conditional Access "
                                      "is the way out (hve-security-defaults)",
                                      hveAccounts, hveAccounts == 1 ? "" : "s"));

    Finding f = [&] {
        if (reasons.empty())
            return finding(Status::NotApplicable, tenant,
                           "The tenant uses no Conditional Access policy and no finding calls for one.");
        if (licence.status == "licensed")
            return finding(Status::Pass, tenant,
                           fmt::format("The tenant has Microsoft Entra ID P1 for Conditional Access ({}).",
                                       fmt::join(reasons, "; ")));
        if (licence.status == "undetermined") {
            Finding r = finding(Status::Review, tenant,
                                fmt::format("The tenant needs Conditional Access ({}), and whether its Microsoft Entra "
                                            "ID P1 plan is usable is unknown: /graph/subscribedSkus does not give the {}.",
                                            fmt::join(reasons, "; "), join_words(licence.missing)));
            r.remediation = "Export the subscribed SKUs with capabilityStatus and servicePlans[].provisioningStatus "
                            "(GET /v1.0/subscribedSkus, or Get-MgSubscribedSku -All | ConvertTo-Json -Depth 5) and "
                            "scan again.";
            return r;
        }
        Finding r = finding(Status::Fail, tenant,
                            fmt::format("The tenant needs Conditional Access ({}) but has no Microsoft Entra ID P1 "
                                        "service plan (AAD_PREMIUM or AAD_PREMIUM_P2) in /graph/subscribedSkus.",
                                        fmt::join(reasons, "; ")));
        r.remediation = metadata().remediation +
                        (neededForHve ? " Then replace security defaults with Conditional Access policies that exclude "
                                        "the HVE exemption group (see hve-security-defaults)."
                                      : " Until then the existing policies cannot be edited, e.g. to exclude the HVE "
                                        "exemption group.");
        return r;
    }();
    f.evidence = std::move(evidence);
    f.related = std::move(related);
    return {f};
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_tenant_conditional_access_licence_rule() {
    return std::make_unique<TenantConditionalAccessLicenceRule>(make_metadata());
}

}  // namespace tenantscan::rules
