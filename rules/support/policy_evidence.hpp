// How rules name Conditional Access policies in messages and evidence.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/policy_overlay.hpp>  // graph_state_name: Graph's spelling of a policy state
#include <tenantscan/rule.hpp>

namespace tenantscan::rules {

// "'Block legacy authentication'" (the id when the policy has no display name).
std::string quoted_name(const ConditionalAccessPolicy& policy);

// Microsoft-managed policies carry display names starting "Microsoft-managed:" (docs/microsoft-facts.md §6).
bool is_microsoft_managed(const ConditionalAccessPolicy& policy);

// "unknown location", "203.0.113.7 (DE)", "203.0.113.7", "country DE".
std::string location_label(const SignInContext& context);

// The policies that block (or may block) a sign-in, gathered over several simulated sign-ins of
// one subject (one per location), each listed once with every location where it blocks.
// Holds pointers into the WhatIfResults, which must outlive it.
class PolicyList {
public:
    void add(const PolicyEvaluation& evaluation, const std::string& location);

    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }
    std::vector<const ConditionalAccessPolicy*> policies() const;
    // Union of the unknown inputs the policies depend on ("location", ...), sorted.
    std::vector<std::string> unknowns() const;

    // [{id, displayName, state, controls, reasons, details, unknowns, locations, microsoftManaged}]
    nlohmann::json to_json() const;
    // The same policies as typed related objects playing `role` (id, name, state, controls, dependsOn).
    std::vector<Related> related(Related::Role role) const;
    // "'Block legacy authentication' (block), 'Require MFA' (mfa)"
    std::string describe() const;
    // "'Block legacy authentication' (id 1f0c…), 'Require MFA' (id 7a2b…)"
    std::string describe_with_ids() const;

private:
    struct Entry {
        const PolicyEvaluation* evaluation;
        std::vector<std::string> details;
        std::vector<std::string> unknowns;
        std::vector<std::string> locations;
    };
    std::vector<Entry> entries_;
};

// Entra allows no enabled Conditional Access policy while security defaults are on. When the
// snapshot says both (sections exported at different times, or edited), the sentence that says so,
// naming the enabled policies; else "". Rules whose verdict depends on which one is true report
// it as `error` (docs/engine.md, "Overall outcome").
std::string inconsistent_security_defaults(const Snapshot& snapshot);
// How to resolve that: export both sections again, together.
std::string inconsistent_security_defaults_remediation();

// A Conditional Access policy as a related object of a finding.
Related related_policy(const ConditionalAccessPolicy& policy, Related::Role role);
// Appends `more` to `related`.
void append(std::vector<Related>& related, std::vector<Related> more);

// Joins with ", " and a final " and ": "a", "a and b", "a, b and c".
std::string join_words(const std::vector<std::string>& words);

}  // namespace tenantscan::rules
