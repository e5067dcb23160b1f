// hve-security-defaults: security defaults are off while the tenant has HVE accounts.
#include <algorithm>

#include <fmt/format.h>
#include <tenantscan/model.hpp>

#include <tenantscan/detail/hve_exemption_group.hpp>
#include "support/entra_licence.hpp"
#include "support/policy_evidence.hpp"
#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

// Addresses listed in the evidence; the count is always complete.
constexpr std::size_t kSampleSize = 20;

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-security-defaults";
    m.concernsHveAccounts = true;
    m.title = "Security defaults are off while the tenant has HVE accounts";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "Security defaults block every legacy-protocol sign-in, Basic SMTP AUTH of HVE accounts included (the "
        "device gets 535 5.7.139), and they allow no exceptions. The way out is to replace them with Conditional "
        "Access policies that exclude the HVE accounts, which needs Microsoft Entra ID P1.";
    m.remediation =
        "Replace security defaults with Conditional Access policies that give the same protection (MFA for all "
        "users, block legacy authentication) and exclude the HVE exemption group, then turn security defaults off.";
    m.references = {
        "https://learn.microsoft.com/en-us/entra/fundamentals/security-defaults",
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/overview",
    };
    m.requiredSections = {"/graph/securityDefaults", "/exchange/hveAccounts"};
    return m;
}

class HveSecurityDefaultsRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

std::vector<Finding> HveSecurityDefaultsRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const Subject tenant = tenant_subject(snapshot);
    const auto& accounts = *snapshot.hveAccounts;
    if (accounts.empty())
        return {finding(Status::NotApplicable, tenant, "The tenant has no HVE accounts (/exchange/hveAccounts is empty).")};

    if (const std::string inconsistent = inconsistent_security_defaults(snapshot); !inconsistent.empty()) {
        Finding f = finding(Status::Error, tenant, inconsistent);
        f.remediation = inconsistent_security_defaults_remediation();
        f.evidence = {{"securityDefaultsEnabled", true}};
        return {f};
    }

    std::vector<std::string> addresses;
    for (const auto& account : accounts) addresses.push_back(hve_account_address(account));
    std::sort(addresses.begin(), addresses.end());
    nlohmann::json hveEvidence = {
        {"count", addresses.size()},
        {"sample", std::vector<std::string>(addresses.begin(),
                                            addresses.begin() + static_cast<long>(std::min(kSampleSize, addresses.size())))}};

    if (!snapshot.securityDefaults->isEnabled) {
        Finding f = finding(Status::Pass, tenant,
                            fmt::format("Security defaults are off, so they do not block the tenant's HVE account{}.",
                                        addresses.size() == 1 ? "" : "s"));
        f.evidence = {{"securityDefaultsEnabled", false}, {"hveAccounts", hveEvidence}};
        return {f};
    }

    const P1Licence licence = find_p1_licence(snapshot);
    const std::string licenceSentence =
        licence.status == "licensed"
            ? "The tenant has Microsoft Entra ID P1 (service plan AAD_PREMIUM or AAD_PREMIUM_P2), so it can use "
              "Conditional Access."
        : licence.status == "notLicensed"
            ? "The tenant has no Microsoft Entra ID P1 service plan (AAD_PREMIUM or AAD_PREMIUM_P2) in "
              "/graph/subscribedSkus: it needs Entra ID P1 (standalone, or in Microsoft 365 Business Premium, E3 or "
              "E5) before it can use Conditional Access."
        : licence.status == "undetermined"
            ? fmt::format("Whether the tenant's Microsoft Entra ID P1 plan (needed for Conditional Access) is usable is "
                          "unknown: /graph/subscribedSkus does not give the {}.",
                          join_words(licence.missing))
            : "/graph/subscribedSkus was not collected, so whether the tenant has Microsoft Entra ID P1 (needed for "
              "Conditional Access) is unknown.";

    Finding f = finding(Status::Fail, tenant,
                        fmt::format("Security defaults are enabled and block Basic SMTP AUTH for {} (535 5.7.139). {}",
                                    addresses.size() == 1 ? std::string("the tenant's HVE account")
                                                          : fmt::format("all {} HVE accounts", addresses.size()),
                                    licenceSentence));
    f.evidence = {{"securityDefaultsEnabled", true},
                  {"hveAccounts", hveEvidence},
                  {"entraIdP1", {{"status", licence.status}, {"servicePlans", licence.servicePlans}}}};
    f.remediation = fmt::format(
        "{}Create Conditional Access policies that replace security defaults (at least: require MFA for all users, "
        "and block legacy authentication), each excluding the HVE exemption group {} and your break-glass accounts; "
        "start them in report-only, check them, then turn security defaults off (Entra admin center > Identity > "
        "Overview > Properties > Manage security defaults > Disabled) and the policies on in the same change window. "
        "Security defaults allow no exclusions, so there is no way to keep them and let HVE accounts use Basic SMTP "
        "AUTH; where the software supports it, OAuth on HVE (Add-HVEAppAccess) avoids Basic altogether.",
        licence.status == "licensed" ? ""
                                     : "Get Microsoft Entra ID P1 for the tenant (Conditional Access needs it). ",
        describe_hve_exemption_group(context));
    f.related = {{Related::Kind::Setting, "securityDefaults", "security defaults", Related::Role::Blocks, "enabled", {}, {}, {}}};
    RemediationStep explain;
    explain.action = RemediationStep::Action::Explain;
    explain.heading = "Security defaults: explained, never turned off by this script";
    explain.note = fmt::format(
        "Security defaults allow no exclusions. To let the HVE accounts use Basic SMTP AUTH, replace them:\n"
        "  1. Make sure the tenant has Microsoft Entra ID P1 (see tenant-conditional-access-licence).\n"
        "  2. Create Conditional Access policies that give the same protection (require MFA for all users,\n"
        "     block legacy authentication), each excluding the group '{}' and your break-glass\n"
        "     accounts, in report-only; check their effect in the sign-in logs.\n"
        "  3. In one change window, turn security defaults off (Entra admin center > Identity > Overview >\n"
        "     Properties > Manage security defaults) and turn the policies on.",
        configured_hve_exemption_group(context.options()));
    explain.warning = "Security defaults block the HVE accounts; this script does not turn them off: see the steps in its comments.";
    f.steps.push_back(std::move(explain));
    return {f};
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_security_defaults_rule() {
    return std::make_unique<HveSecurityDefaultsRule>(make_metadata());
}

}  // namespace tenantscan::rules
