// Gating a proposed Conditional Access change: policy files (Graph JSON, as a "Conditional Access
// as code" repository keeps them) laid over the snapshot's policies before the scan, so that the
// rules judge the tenant as it would be after the change. Microsoft's own what-if API only knows
// policies that already exist.
#pragma once

#include <string>
#include <vector>

#include <tenantscan/model.hpp>
#include <tenantscan/source_location.hpp>

namespace tenantscan {

struct PolicyOverlay {
    // Files, or directories searched recursively for *.json (hidden directories skipped), in
    // sorted order. Each file holds one policy, a list, or a {"value": [...]} list response.
    std::vector<std::string> paths;
    // Policy ids removed from the snapshot, modelling deletion.
    std::vector<std::string> removePolicyIds;
};

struct PolicyChange {
    enum class Kind { Added, Replaced, Removed };
    Kind kind = Kind::Added;
    std::string id;            // the policy's id (for an added policy without one: "proposed:<file>[#pointer]")
    std::string displayName;   // the proposed name (the removed policy's name for Removed)
    PolicyState state = PolicyState::Disabled;  // the proposed state (the removed policy's for Removed)
    std::string matchedBy;     // Replaced: "id" or "displayName"; Removed: "--remove-policy"; Added: ""
    std::string replacedDisplayName;  // Replaced: the snapshot policy's name before the change
    std::string note;          // e.g. an added policy whose name a snapshot policy already has
    SourceLocation source;     // the proposed policy's file and pointer (empty for Removed)
};

// Applies the overlay to snapshot.conditionalAccessPolicies: a proposed policy whose id matches a
// snapshot policy replaces it; one without an id replaces the policy with the same display name
// (case-insensitive); any other is added. "state": "disabled" models switching a policy off.
// Returns the changes in the order applied (removals last). Throws InputError naming the file and
// JSON pointer for: a snapshot without /graph/conditionalAccessPolicies, an unreadable file or
// directory without policy files, an object that is not a policy (no state or conditions), a
// display name that matches several snapshot policies, two proposed policies for the same
// policy, or a --remove-policy id that is not in the snapshot.
std::vector<PolicyChange> apply_policy_overlay(Snapshot& snapshot, const PolicyOverlay& overlay);

const char* to_string(PolicyChange::Kind kind);  // "added" "replaced" "removed"

// Graph's spelling of a policy state: "enabled", "disabled", "enabledForReportingButNotEnforced".
const char* graph_state_name(PolicyState state);

}  // namespace tenantscan
