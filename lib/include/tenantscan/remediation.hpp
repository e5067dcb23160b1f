// `tenantscan remediate`: a PowerShell script that fixes what the findings say a script can fix,
// for an admin to review and run (docs/remediate.md).
//
// The script writer knows no rule: it writes the steps (RemediationStep, rule.hpp) that the rules
// attached to their failing findings, by action —
// - Exchange Online PowerShell: the authentication policy the steps name (created when they say so),
//   assigned to each account (AssignAuthenticationPolicy);
// - Microsoft Graph PowerShell: the group the steps name (created on CreateGroup), its missing members
//   (AddGroupMember), and the group added to conditions.users.excludeGroups of each policy an
//   ExcludeGroupFromPolicy step names; nothing else in a policy is sent;
// - Explain: comments a person follows (security defaults are never turned off by the script).
// Every step is preceded by a comment naming the finding it fixes and checks the current state
// first, so running the script twice changes nothing the second time. Changes run with -WhatIf
// unless the script is started with -Apply. Every other open finding becomes a commented checklist
// at the end.
#pragma once

#include <string>

#include <tenantscan/model.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/scan.hpp>

namespace tenantscan {

// The script for a scan's report. Deterministic: the same report gives the same bytes.
std::string remediation_script(const Snapshot& snapshot, const Report& report, const ScanOptions& options);

}  // namespace tenantscan
