// hve-report-only-policies: no report-only Conditional Access policy would block the Basic SMTP
// AUTH sign-in of an HVE account once it is turned on.
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

// What Microsoft says about Microsoft-managed policies left in report-only (docs/microsoft-facts.md §6; the
// 90 days were announced, the current documentation says "no less than 45 days").
constexpr const char* kManagedPolicyNote =
    "Microsoft-managed policies turn themselves on when left in report-only: 90 days after creation as first "
    "announced, no less than 45 days after introduction (with 28 days' notice) in Microsoft's current "
    "documentation.";

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-report-only-policies";
    m.concernsHveAccounts = true;
    m.title = "No report-only Conditional Access policy would block an HVE account once turned on";
    m.defaultSeverity = Severity::Medium;
    m.rationale =
        "Report-only policies do not block today, but the day someone turns one on, or Microsoft turns on a "
        "Microsoft-managed policy by itself, every HVE account it applies to stops sending: a Basic SMTP AUTH "
        "client can satisfy no grant control. Excluding the HVE exemption group before enforcement avoids the "
        "outage.";
    m.remediation =
        "Exclude the HVE exemption group from each report-only policy that would block an HVE account before it is "
        "turned on (for Microsoft-managed policies, exclusions are one of the few settings you can edit).";
    m.references = {
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/concept-conditional-access-report-only",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/managed-policies",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/what-if-tool",
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
    };
    m.requiredSections = {"/graph/conditionalAccessPolicies", "/exchange/hveAccounts", "/graph/users", "/graph/groups"};
    return m;
}

class HveReportOnlyPoliciesRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    Finding evaluate_account(const RuleContext& context, const HveBasicSmtpSimulation& simulation) const;
};

bool any_microsoft_managed(const PolicyList& policies) {
    const auto list = policies.policies();
    return std::any_of(list.begin(), list.end(), [](const ConditionalAccessPolicy* p) { return is_microsoft_managed(*p); });
}

std::string exclusion_remediation(const RuleContext& context, const PolicyList& policies, const std::string& address) {
    return fmt::format(
        "Before turning them on, exclude the HVE exemption group {} from {} (Entra admin center > Protection > "
        "Conditional Access > Policies > the policy > Users > Exclude; with Graph, add the group's id to "
        "conditions.users.excludeGroups), and make {} a member of that group (see hve-exclusion-group).{}",
        describe_hve_exemption_group(context), policies.describe_with_ids(), address,
        any_microsoft_managed(policies) ? std::string(" ") + kManagedPolicyNote : std::string());
}

std::vector<Finding> HveReportOnlyPoliciesRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    if (auto none = no_hve_accounts(snapshot)) return {*none};
    return judge_each_hve_basic_smtp(
        context, [&](const HveBasicSmtpSimulation& simulation) { return evaluate_account(context, simulation); });
}

Finding HveReportOnlyPoliciesRule::evaluate_account(const RuleContext& context,
                                                    const HveBasicSmtpSimulation& simulation) const {
    const BlockingPolicies policies = blocking_policies(simulation, PolicyScope::ReportOnly);
    const PolicyList& wouldBlock = policies.blocking;
    const PolicyList& mayBlock = policies.undetermined;
    nlohmann::json evidence = simulation.evidence;
    evidence["wouldBlockPolicies"] = wouldBlock.to_json();
    evidence["undeterminedPolicies"] = mayBlock.to_json();

    const std::string address = hve_account_address(*simulation.account);
    const std::string missingUser = missing_entra_user_note(simulation);
    Finding f = [&] {
        if (!wouldBlock.empty()) {
            Finding r = finding(
                Status::Fail, simulation.subject,
                fmt::format("{} would block Basic SMTP AUTH sign-ins of this HVE account once enforced.{}{}",
                            wouldBlock.size() == 1 ? "Report-only policy " + wouldBlock.describe()
                                                   : fmt::format("{} report-only policies ({})", wouldBlock.size(),
                                                                 wouldBlock.describe()),
                            any_microsoft_managed(wouldBlock) ? std::string(" ") + kManagedPolicyNote : "",
                            missingUser));
            // Microsoft enforces its managed policies without an admin's action: the outage is scheduled.
            if (any_microsoft_managed(wouldBlock)) r.severity = Severity::High;
            r.remediation = exclusion_remediation(context, wouldBlock, address);
            r.steps = exclude_group_steps(context, simulation.subject, wouldBlock.related(Related::Role::WouldBlock));
            return r;
        }
        if (!mayBlock.empty()) {
            Finding r = finding(
                Status::Review, simulation.subject,
                fmt::format("Whether report-only {} would block Basic SMTP AUTH sign-ins of this HVE account once "
                            "enforced depends on input the snapshot does not give: {}.{}",
                            mayBlock.describe(), join_words(mayBlock.unknowns()), missingUser));
            r.remediation = exclusion_remediation(context, mayBlock, address);
            return r;
        }
        return finding(Status::Pass, simulation.subject,
                       fmt::format("No report-only Conditional Access policy would block Basic SMTP AUTH sign-ins of "
                                   "this HVE account once enforced {}.{}",
                                   evaluated_locations_phrase(simulation), missingUser));
    }();
    f.evidence = std::move(evidence);
    // Listed in the order people have read them so far: what may block, then what would block.
    f.related = mayBlock.related(Related::Role::MayBlock);
    append(f.related, wouldBlock.related(Related::Role::WouldBlock));
    return f;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_report_only_policies_rule() {
    return std::make_unique<HveReportOnlyPoliciesRule>(make_metadata());
}

}  // namespace tenantscan::rules
