// Evaluating policies in detail, with every reason (ca_evaluator.hpp).
#include "engine/ca_evaluator.hpp"

namespace tenantscan::ca {

namespace {


// Condition i of a policy, in reporting order: workload identities, users, then kContextConditions.
constexpr std::size_t kConditionCount = 2 + std::size(kContextConditions);

Verdict run_condition(std::size_t i, const Evaluator& evaluator, const CompiledPolicy& c, const SignInFacts& s,
                      const UserFacts& user, Note* note) {
    if (i == 0) return evaluator.workload(c, note);
    if (i == 1) return users_verdict(evaluator.users(c, user, note));
    const ContextCondition condition = kContextConditions[i - 2];
    return (evaluator.*condition)(c, s, note);
}

}  // namespace

PolicyEvaluation evaluate_compiled(const Evaluator& evaluator, const CompiledPolicy& c, const SignInFacts& s,
                                   const UserFacts& user) {
    PolicyEvaluation e;
    e.policy = c.policy;
    e.blockingControls = s.legacyClient ? c.legacyControls : c.modernControls;
    e.applicability = Applicability::DoesNotApply;
    if (c.policy->state == PolicyState::Disabled) {
        e.analysisReasons = {"policyNotEnabled"};
        e.details = {"the policy is disabled"};
        return e;
    }
    // A first pass without words finds the condition that rules the policy out, if any: only
    // that one is then explained.
    for (std::size_t i = 0; i < kConditionCount; ++i) {
        if (run_condition(i, evaluator, c, s, user, nullptr).match != Match::No) continue;
        Note note;
        e.analysisReasons = {run_condition(i, evaluator, c, s, user, &note).reason};
        e.details = {std::move(note.detail)};
        e.excludedBy = std::move(note.excludedBy);
        return e;
    }
    std::vector<std::string> unknownDetails;
    for (std::size_t i = 0; i < kConditionCount; ++i) {
        Note note;
        Verdict verdict = run_condition(i, evaluator, c, s, user, &note);
        if (verdict.match == Match::Yes) {
            e.analysisReasons.push_back(verdict.reason);
            e.details.push_back(std::move(note.detail));
        } else if (verdict.match == Match::Unknown) {
            unknownDetails.push_back(std::move(note.detail));
            for (auto& u : note.unknowns) e.unknowns.push_back(std::move(u));
        }
    }
    if (unknownDetails.empty()) {
        e.applicability = Applicability::Applies;
    } else {
        e.applicability = Applicability::CannotTell;
        e.analysisReasons = {"notEnoughInformation"};
        for (auto& d : unknownDetails) e.details.push_back(std::move(d));
        sort_unique(e.unknowns);
    }
    e.details.push_back(describe_controls(c, s));
    if (c.policy->state == PolicyState::ReportOnly)
        e.details.push_back("the policy is report-only: evaluated and logged, never enforced");
    return e;
}

void tally(OutcomeTally& t, const PolicyEvaluation& e) {
    if (!e.wouldBlock()) return;
    if (e.applicability == Applicability::Applies) {
        t.blocked = true;
    } else {
        t.undetermined = true;
        t.unknowns.insert(t.unknowns.end(), e.unknowns.begin(), e.unknowns.end());
    }
}

std::vector<std::string> assumptions_for(const SignInFacts& s, const EngineIndex& index, const Snapshot& snapshot) {
    const SignInContext& context = *s.context;
    std::vector<std::string> out;
    if (s.platformUnknown)
        out.push_back("device platform unknown (legacy clients report none): it matches a platform condition that "
                      "includes 'all' and is never in an exclude list; an include list of named platforms does not "
                      "match (Microsoft states no explicit rule)");
    out.push_back("no registered device: every device property is null, so positive device-filter operators do not "
                  "match and negative ones do");
    std::vector<std::string> noRisk;
    if (iequals(context.signInRisk, "none")) noRisk.push_back("sign-in");
    if (iequals(context.userRisk, "none")) noRisk.push_back("user");
    if (iequals(context.insiderRisk, "none")) noRisk.push_back("insider");
    if (iequals(context.servicePrincipalRisk, "none")) noRisk.push_back("service principal");
    if (!noRisk.empty()) out.push_back(fmt::format("risk levels ({}) assumed 'none'", fmt::join(noRisk, ", ")));
    if (s.ipMalformed)
        out.push_back(fmt::format("'{}' is not a valid IP address: the location is treated as unknown", *context.ipAddress));
    else if (!s.ip)
        out.push_back("IP address unknown: location conditions that depend on it cannot be decided");
    if (index.anyCountryLocation && !s.countryKnown && s.ip)
        out.push_back("country unknown: tenantscan does not map IP addresses to countries, so country locations cannot be decided");
    if (index.anyAllTrusted)
        out.push_back("AllTrusted covers the trusted IP named locations only: the MFA service's trusted IPs are not in the snapshot");
    if (s.legacyClient && !snapshot.securityDefaults && index.anyEnabledPolicy)
        out.push_back("security defaults were not collected; they are off, since Entra allows no enabled Conditional Access policy while they are on");
    if (s.legacyClient && snapshot.securityDefaults && snapshot.securityDefaults->isEnabled && index.anyEnabledPolicy)
        out.push_back("the snapshot is inconsistent: security defaults are enabled while Conditional Access policies are "
                      "enabled, which Entra does not allow; whether security defaults are on is treated as unknown");
    return out;
}

// Fills every field of `result` but context and user (set by the caller): the detailed evaluation of
// every policy, or with `candidates` (policy indices, ascending) of just those whose users condition
// can hold for the user.
void evaluate_detailed(WhatIfResult& result, const EngineIndex& index, const Directory& directory,
                       const Snapshot& snapshot, const std::vector<std::uint32_t>* candidates) {
    const SignInFacts s = facts_of(result.context);
    const UserFacts user = facts_of_user(directory, result.user, result.context.userId);
    const Evaluator evaluator(index, directory);
    OutcomeTally enforced, reportOnly;
    auto evaluate_one = [&](const CompiledPolicy& c) {
        result.policies.push_back(evaluate_compiled(evaluator, c, s, user));
        const auto& e = result.policies.back();
        if (c.policy->state == PolicyState::Enabled) tally(enforced, e);
        else if (c.policy->state == PolicyState::ReportOnly) tally(reportOnly, e);
    };
    if (!candidates) {
        result.policies.reserve(index.policies.size());
        for (const auto& c : index.policies) evaluate_one(c);
    } else {
        for (std::uint32_t i : *candidates) {
            const auto& c = index.policies[i];
            UsersMatch m = evaluator.users(c, user, nullptr);
            if (m != UsersMatch::NotIncluded && m != UsersMatch::Excluded) evaluate_one(c);
        }
    }
    const TenantVerdict tenant = tenant_verdict(snapshot, index, s);
    finish(tenant, enforced, reportOnly);
    result.blockedBySecurityDefaults = tenant.securityDefaultsBlock;
    result.outcome = enforced.outcome();
    result.reportOnlyOutcome = reportOnly.outcome();
    if (result.outcome == AccessOutcome::Undetermined) result.undeterminedBy = std::move(enforced.unknowns);
    if (result.reportOnlyOutcome == AccessOutcome::Undetermined) result.reportOnlyUndeterminedBy = std::move(reportOnly.unknowns);
    result.assumptions = assumptions_for(s, index, snapshot);
}


}  // namespace tenantscan::ca
