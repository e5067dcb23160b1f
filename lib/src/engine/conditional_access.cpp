// Conditional Access "what if" (docs/microsoft-facts.md §7; the decisions are explained in docs/engine.md).
//
// Every condition answers Yes, No, Unknown (an input the snapshot or the sign-in does not give)
// or NotConfigured. A policy applies when no condition says No and none says Unknown; it does
// not apply as soon as one says No; otherwise we cannot tell. Everything that does not depend
// on the sign-in is resolved once in the ConditionalAccessEngine constructor (EngineIndex), and the conditions
// build their explanations only when asked for them (Note*), so ConditionalAccessEngine::decide() evaluates a
// user against every policy without touching a string.
//
// This file is the engine's API (conditional_access.hpp); the rest is beside it: ca_catalogue.hpp
// (Graph's vocabulary: known apps, roles, controls), ca_index.{hpp,cpp} (policies compiled once per
// scan) and ca_evaluator.{hpp,cpp} (the conditions, and the detailed evaluation with its reasons).
#include <tenantscan/conditional_access.hpp>

#include "engine/ca_evaluator.hpp"

#include <algorithm>
#include <deque>
#include <iterator>
#include <memory>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <tenantscan/detail/device_filter.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>
#include <tenantscan/detail/ip.hpp>

namespace tenantscan {

using namespace ca;

// ---------------------------------------------------------------------------------------------

bool PolicyEvaluation::enforced() const { return policy && policy->state == PolicyState::Enabled; }

std::vector<const PolicyEvaluation*> WhatIfResult::blocking_enforced() const {
    std::vector<const PolicyEvaluation*> out;
    for (const auto& p : policies)
        if (p.enforced() && p.applicability == Applicability::Applies && p.wouldBlock()) out.push_back(&p);
    return out;
}

std::vector<const PolicyEvaluation*> WhatIfResult::undetermined_enforced() const {
    std::vector<const PolicyEvaluation*> out;
    for (const auto& p : policies)
        if (p.enforced() && p.applicability == Applicability::CannotTell && p.wouldBlock()) out.push_back(&p);
    return out;
}

std::vector<const PolicyEvaluation*> WhatIfResult::blocking_report_only() const {
    std::vector<const PolicyEvaluation*> out;
    for (const auto& p : policies)
        if (p.policy && p.policy->state == PolicyState::ReportOnly && p.wouldBlock()) out.push_back(&p);
    return out;
}

std::vector<std::string> ConditionalAccessEngine::legacy_blocking_controls(const ConditionalAccessPolicy& policy) {
    std::vector<std::string> controls;
    for (const auto& control : policy.builtInControls) {
        std::string name = control;
        for (const char* known : kBuiltInControls)
            if (iequals(control, known)) name = known;
        add_unique(controls, name);
    }
    if (policy.requiresAuthenticationStrength) add_unique(controls, "authenticationStrength");
    if (!policy.termsOfUse.empty()) add_unique(controls, "termsOfUse");
    if (!policy.customAuthenticationFactors.empty()) add_unique(controls, "customAuthenticationFactors");
    // "block" first: it is what decides, whatever else is listed.
    std::stable_partition(controls.begin(), controls.end(), [](const std::string& c) { return c == "block"; });
    return controls;
}

ConditionalAccessEngine::ConditionalAccessEngine(const Snapshot& snapshot, const Directory& directory) : snapshot_(&snapshot), directory_(&directory) {
    auto index = std::make_shared<detail::EngineIndex>();
    index->policiesCollected = snapshot.conditionalAccessPolicies.has_value();
    index->rolesCollected = snapshot.roleAssignments.has_value();
    if (snapshot.namedLocations) {
        auto ipRanges = std::make_shared<std::unordered_map<const NamedLocation*, detail::IpRangeIndex>>();
        auto trustedIpRanges = std::make_shared<detail::IpRangeIndex>();
        for (const auto& location : *snapshot.namedLocations) {
            index->locationsById.emplace(to_lower(location.id), &location);
            if (location.kind != NamedLocation::Kind::Ip) continue;
            (*ipRanges)[&location].add(location);
            if (location.isTrusted) {
                index->trustedIpLocations.push_back(&location);
                trustedIpRanges->add(location);
            }
        }
        index->ipRanges = std::move(ipRanges);
        index->trustedIpRanges = std::move(trustedIpRanges);
    }
    if (snapshot.conditionalAccessPolicies) {
        index->memberSlotOfGroup.assign(directory.group_count(), -1);
        index->policies.reserve(snapshot.conditionalAccessPolicies->size());
        for (const auto& policy : *snapshot.conditionalAccessPolicies) {
            index->policies.push_back(compile_policy(policy, directory, *index));
            if (policy.state == PolicyState::Enabled) index->anyEnabledPolicy = true;
        }
        for (auto& bits : index->groupMembers) bits.assign((directory.user_count() + 63) / 64, 0);
        if (!index->groupMembers.empty())
            for (UserIndex u = 0; u < directory.user_count(); ++u)
                for (GroupIndex g : directory.transitive_groups(u))
                    if (std::int32_t slot = index->memberSlotOfGroup[g]; slot >= 0)
                        index->groupMembers[static_cast<std::size_t>(slot)][u / 64] |= std::uint64_t{1} << (u % 64);
    }
    index_ = std::move(index);
}

WhatIfResult ConditionalAccessEngine::evaluate(const SignInContext& context) const {
    WhatIfResult result;
    result.context = context;
    result.user = directory_->find_user(context.userId);
    evaluate_detailed(result, *index_, *directory_, *snapshot_, nullptr);
    return result;
}

WhatIfResult ConditionalAccessEngine::evaluate_blocking(const PreparedSignIn& prepared, UserIndex user) const {
    WhatIfResult result;
    result.context = prepared.context_;
    result.context.userId = directory_->user(user).id;
    result.user = user;
    // Every other policy is disabled, cannot block this client, or is ruled out by a condition that
    // does not depend on the user: evaluate() would find that it does not apply.
    std::vector<std::uint32_t> candidates;
    for (const auto& candidate : prepared.enforced_) candidates.push_back(candidate.policy);
    for (const auto& candidate : prepared.reportOnly_) candidates.push_back(candidate.policy);
    std::sort(candidates.begin(), candidates.end());
    evaluate_detailed(result, *index_, *directory_, *snapshot_, &candidates);
    return result;
}

PolicyEvaluation ConditionalAccessEngine::evaluate_policy(const ConditionalAccessPolicy& policy, const SignInContext& context,
                                         std::optional<UserIndex> user) const {
    const SignInFacts s = facts_of(context);
    const UserFacts facts = facts_of_user(*directory_, user, context.userId);
    const Evaluator evaluator(*index_, *directory_);
    for (const auto& c : index_->policies)
        if (c.policy == &policy) return evaluate_compiled(evaluator, c, s, facts);
    // A policy from elsewhere (e.g. a proposed change): resolve its references now.
    detail::EngineIndex scratch;
    scratch.trustedIpLocations = index_->trustedIpLocations;
    scratch.locationsById = index_->locationsById;
    scratch.ipRanges = index_->ipRanges;
    scratch.trustedIpRanges = index_->trustedIpRanges;
    scratch.rolesCollected = index_->rolesCollected;
    CompiledPolicy c = compile_policy(policy, *directory_, scratch);
    const Evaluator scratchEvaluator(scratch, *directory_);
    return evaluate_compiled(scratchEvaluator, c, s, facts);
}

PreparedSignIn ConditionalAccessEngine::prepare(const SignInContext& context) const {
    PreparedSignIn prepared;
    prepared.context_ = context;
    const SignInFacts s = facts_of(prepared.context_);
    const Evaluator evaluator(*index_, *directory_);
    for (std::uint32_t i = 0; i < index_->policies.size(); ++i) {
        const auto& c = index_->policies[i];
        if (c.policy->state == PolicyState::Disabled) continue;
        if ((s.legacyClient ? c.legacyControls : c.modernControls).empty()) continue;  // cannot change the outcome
        if (evaluator.workload(c, nullptr).match == Match::No) continue;
        bool known = true, excluded = false;
        for (ContextCondition condition : kContextConditions) {
            Match m = (evaluator.*condition)(c, s, nullptr).match;
            if (m == Match::No) {
                excluded = true;
                break;
            }
            if (m == Match::Unknown) known = false;
        }
        if (!excluded) (c.policy->state == PolicyState::Enabled ? prepared.enforced_ : prepared.reportOnly_).push_back({i, known});
    }
    const TenantVerdict tenant = tenant_verdict(*snapshot_, *index_, s);
    prepared.securityDefaultsBlock_ = tenant.securityDefaultsBlock;
    prepared.securityDefaultsUnknown_ = tenant.securityDefaultsUnknown;
    prepared.policiesUnknown_ = tenant.policiesUnknown;
    return prepared;
}

UserDecision ConditionalAccessEngine::decide(const PreparedSignIn& prepared, UserIndex user) const {
    const Evaluator evaluator(*index_, *directory_);
    const UserFacts facts = facts_of_user(*directory_, user, {});
    UserDecision decision;
    OutcomeTally enforced, reportOnly;
    const ConditionalAccessPolicy* firstUndetermined = nullptr;
    // The first policy that blocks decides: the scans stop there.
    for (const auto& candidate : prepared.enforced_) {
        const auto& c = index_->policies[candidate.policy];
        UsersMatch m = evaluator.users(c, facts, nullptr);
        if (m == UsersMatch::Excluded && !decision.excludedBy) decision.excludedBy = c.policy;
        if (m == UsersMatch::NotIncluded || m == UsersMatch::Excluded) continue;
        if (m == UsersMatch::Included && candidate.otherConditionsKnown) {
            enforced.blocked = true;
            decision.decidedBy = c.policy;
            break;
        }
        enforced.undetermined = true;
        if (!firstUndetermined) firstUndetermined = c.policy;
    }
    for (const auto& candidate : prepared.reportOnly_) {
        UsersMatch m = evaluator.users(index_->policies[candidate.policy], facts, nullptr);
        if (m == UsersMatch::NotIncluded || m == UsersMatch::Excluded) continue;
        if (m == UsersMatch::Included && candidate.otherConditionsKnown) {
            reportOnly.blocked = true;
            break;
        }
        reportOnly.undetermined = true;
    }
    TenantVerdict tenant;
    tenant.securityDefaultsBlock = prepared.securityDefaultsBlock_;
    tenant.securityDefaultsUnknown = prepared.securityDefaultsUnknown_;
    tenant.policiesUnknown = prepared.policiesUnknown_;
    finish(tenant, enforced, reportOnly);
    decision.blockedBySecurityDefaults = tenant.securityDefaultsBlock;
    decision.outcome = enforced.outcome();
    decision.reportOnlyOutcome = reportOnly.outcome();
    if (decision.outcome == AccessOutcome::Undetermined) decision.decidedBy = firstUndetermined;
    if (decision.outcome == AccessOutcome::Blocked) decision.excludedBy = nullptr;
    return decision;
}

const char* to_string(Applicability a) {
    switch (a) {
        case Applicability::Applies: return "applies";
        case Applicability::DoesNotApply: return "doesNotApply";
        case Applicability::CannotTell: return "cannotTell";
    }
    return "cannotTell";
}

const char* to_string(AccessOutcome o) {
    switch (o) {
        case AccessOutcome::Blocked: return "blocked";
        case AccessOutcome::Allowed: return "allowed";
        case AccessOutcome::Undetermined: return "undetermined";
    }
    return "undetermined";
}

}  // namespace tenantscan
