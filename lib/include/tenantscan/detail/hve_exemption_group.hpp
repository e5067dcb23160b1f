// The HVE exemption group: the Entra group whose members Conditional Access policies exclude so
// that HVE accounts can sign in with Basic SMTP AUTH. Configured once, as the parameter "group"
// of hve-exclusion-group, and named by every rule whose fix is "exclude the group".
//
// Shared by the rules and the fix script (lib/src/remediate), so it lives in the core (defined in
// lib/src/scan/hve_exemption_group.cpp): the core never includes anything from rules/. Not part of
// the API: no stability promise, and not installed.
#pragma once

#include <string>
#include <vector>

#include <tenantscan/directory.hpp>
#include <tenantscan/rule.hpp>

namespace tenantscan::rules {

inline constexpr const char* kHveExclusionGroupRuleId = "hve-exclusion-group";
inline constexpr const char* kHveExemptionGroupParameter = "group";
inline constexpr const char* kDefaultHveExemptionGroup = "Exchange-HVEUserAccounts";

// The configured group (display name or object id): option "hve-exclusion-group.group", else
// the default. A non-string option is left to hve-exclusion-group to report; here it falls
// back to the default, since it only names the group in remediation text.
std::string configured_hve_exemption_group(const ScanOptions& options);

// The groups in /graph/groups the configured value designates: the group with that object id,
// else every group with that display name (case-insensitive; several = ambiguous).
std::vector<GroupIndex> resolve_hve_exemption_group(const Directory& directory, const std::string& group);

// The group as a related object: the one group that matches (its id and display name), else the
// configured value as its name and no id (the fix script then looks it up by name, or creates it).
Related hve_exemption_group_related(const ScanOptions& options, const Directory& directory);

// Fix-script steps for a finding whose Conditional Access policies block (or would block) an HVE
// account: exclude the HVE exemption group from each of them.
std::vector<RemediationStep> exclude_group_steps(const RuleContext& context, const Subject& account,
                                                 const std::vector<Related>& policies);

// "'Exchange-HVEUserAccounts' (id 5b1e…)" when exactly one group matches, else "'<configured>'".
std::string describe_hve_exemption_group(const RuleContext& context);

}  // namespace tenantscan::rules
