// hve-conditional-access: no enabled Conditional Access policy blocks the Basic SMTP AUTH sign-in
// of an HVE account.
#include <algorithm>

#include <fmt/format.h>
#include <tenantscan/model.hpp>

#include <tenantscan/detail/hve_exemption_group.hpp>
#include "support/hve_basic_smtp.hpp"
#include "support/policy_evidence.hpp"
#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-conditional-access";
    m.concernsHveAccounts = true;
    m.title = "Conditional Access lets every HVE account sign in with Basic SMTP AUTH";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "An HVE account is an Entra user, so Conditional Access evaluates its Basic SMTP AUTH sign-in (client app "
        "'other', resource Exchange Online, no usable platform, no device). Such a client can satisfy no grant "
        "control: any enabled policy that applies and blocks, or requires MFA, a compliant device or anything "
        "else, rejects the sign-in with 535 5.7.139 and the device stops sending.";
    m.remediation =
        "Exclude the HVE exemption group from every policy that blocks the account, and make every HVE account a "
        "member of that group (see hve-exclusion-group).";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/what-if-tool",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/block-legacy-authentication",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/concept-conditional-access-users-groups",
    };
    m.requiredSections = {"/graph/conditionalAccessPolicies", "/exchange/hveAccounts", "/graph/users", "/graph/groups"};
    return m;
}

class HveConditionalAccessRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    Finding evaluate_account(const RuleContext& context, const HveBasicSmtpSimulation& simulation) const;
};

std::string exclusion_remediation(const RuleContext& context, const PolicyList& policies, const std::string& address) {
    return fmt::format(
        "Exclude the HVE exemption group {} from {} (Entra admin center > Protection > Conditional Access > Policies "
        "> the policy > Users > Exclude > Users and groups; with Graph, add the group's id to "
        "conditions.users.excludeGroups), and make {} a member of that group (see hve-exclusion-group).",
        describe_hve_exemption_group(context), policies.describe_with_ids(), address);
}

std::vector<Finding> HveConditionalAccessRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    if (auto none = no_hve_accounts(snapshot)) return {*none};

    if (const std::string inconsistent = inconsistent_security_defaults(snapshot); !inconsistent.empty()) {
        Finding f = finding(Status::Error, tenant_subject(snapshot), inconsistent);
        f.remediation = inconsistent_security_defaults_remediation();
        f.evidence = {{"securityDefaultsEnabled", true}};
        return {f};
    }
    std::vector<Finding> findings;
    if (snapshot.securityDefaults && snapshot.securityDefaults->isEnabled) {
        // With security defaults on, Conditional Access policies are not what decides (docs/microsoft-facts.md §5).
        for (const HveAccount& account : *snapshot.hveAccounts) {
            Finding f = finding(Status::NotApplicable, hve_account_subject(account),
                                "Security defaults are enabled, so Conditional Access policies are not evaluated for "
                                "this HVE account; hve-security-defaults reports what blocks it.");
            f.evidence = {{"securityDefaultsEnabled", true}};
            findings.push_back(std::move(f));
        }
        return findings;
    }
    return judge_each_hve_basic_smtp(
        context, [&](const HveBasicSmtpSimulation& simulation) { return evaluate_account(context, simulation); });
}

Finding HveConditionalAccessRule::evaluate_account(const RuleContext& context,
                                                   const HveBasicSmtpSimulation& simulation) const {
    const BlockingPolicies policies = blocking_policies(simulation, PolicyScope::Enforced);
    const PolicyList& blocking = policies.blocking;
    const PolicyList& undetermined = policies.undetermined;
    nlohmann::json evidence = simulation.evidence;
    evidence["blockingPolicies"] = blocking.to_json();
    evidence["undeterminedPolicies"] = undetermined.to_json();
    evidence["securityDefaultsUnknown"] = simulation.securityDefaultsUnknown;

    const std::string address = hve_account_address(*simulation.account);
    const std::string missingUser = missing_entra_user_note(simulation);
    Finding f = [&] {
        if (!blocking.empty()) {
            Finding r = finding(Status::Fail, simulation.subject,
                                (blocking.size() == 1
                                     ? fmt::format("Conditional Access policy {} blocks Basic SMTP AUTH sign-ins of "
                                                   "this HVE account.",
                                                   blocking.describe())
                                     : fmt::format("{} enabled Conditional Access policies block Basic SMTP AUTH "
                                                   "sign-ins of this HVE account: {}.",
                                                   blocking.size(), blocking.describe())) +
                                    missingUser);
            r.remediation = exclusion_remediation(context, blocking, address);
            r.steps = exclude_group_steps(context, simulation.subject, blocking.related(Related::Role::Blocks));
            return r;
        }
        if (undetermined.empty() && simulation.securityDefaultsUnknown) {
            // No policy may block, but security defaults would block every HVE account's Basic sign-in.
            Finding r = finding(Status::Review, simulation.subject,
                                fmt::format("No enabled Conditional Access policy blocks Basic SMTP AUTH sign-ins of "
                                            "this HVE account, but /graph/securityDefaults was not collected and no "
                                            "enabled policy proves security defaults off: if they are on, they block "
                                            "it (535 5.7.139). The answer depends on input the snapshot does not "
                                            "give: {}.{}",
                                            unknown_input::kSecurityDefaults, missingUser));
            r.remediation = "Collect /graph/securityDefaults (GET /v1.0/policies/identitySecurityDefaultsEnforcementPolicy) "
                            "and scan again; hve-security-defaults then says whether they block the HVE accounts.";
            return r;
        }
        if (!undetermined.empty()) {
            auto unknowns = undetermined.unknowns();
            if (simulation.securityDefaultsUnknown) {
                unknowns.push_back(unknown_input::kSecurityDefaults);
                std::sort(unknowns.begin(), unknowns.end());
            }
            Finding r = finding(Status::Review, simulation.subject,
                                fmt::format("Whether {} blocks Basic SMTP AUTH sign-ins of this HVE account depends on "
                                            "input the snapshot does not give: {}.{}",
                                            undetermined.describe(), join_words(unknowns), missingUser));
            std::string resolve;
            if (std::find(unknowns.begin(), unknowns.end(), unknown_input::kLocation) != unknowns.end())
                resolve += "Collect this account's sign-ins (/graph/signIns: GET /auditLogs/signIns?$filter="
                           "clientAppUsed eq 'Authenticated SMTP') so the devices' public IPs are known, and scan "
                           "again. ";
            if (!simulation.user)
                resolve += fmt::format("Add the account's Entra user (object id {}) to /graph/users and scan again. ",
                                       simulation.subject.id);
            r.remediation = fmt::format("{}To be independent of the unknown input: {}", resolve,
                                        exclusion_remediation(context, undetermined, address));
            return r;
        }
        return finding(Status::Pass, simulation.subject,
                       fmt::format("No enabled Conditional Access policy blocks Basic SMTP AUTH sign-ins of this HVE "
                                   "account {}.{}",
                                   evaluated_locations_phrase(simulation), missingUser));
    }();
    f.evidence = std::move(evidence);
    f.related = blocking.related(Related::Role::Blocks);
    append(f.related, undetermined.related(Related::Role::MayBlock));
    return f;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_conditional_access_rule() {
    return std::make_unique<HveConditionalAccessRule>(make_metadata());
}

}  // namespace tenantscan::rules
