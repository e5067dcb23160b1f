// `tenantscan remediate`: a PowerShell script that fixes what the findings say a script can fix,
// for an admin to review and run (docs/remediate.md).
//
// - Exchange Online PowerShell: an authentication policy that allows Basic SMTP AUTH, assigned to
//   each HVE account that hve-authentication-policy fails for.
// - Microsoft Graph PowerShell: the HVE exemption group (created when hve-exclusion-group says it
//   is missing), its missing members, and the group added to conditions.users.excludeGroups of
//   each policy that hve-conditional-access or hve-report-only-policies names as blocking; nothing
//   else in a policy is sent.
// Every step is preceded by a comment naming the finding it fixes and checks the current state
// first, so running the script twice changes nothing the second time. Changes run with -WhatIf
// unless the script is started with -Apply. Security defaults are never turned off: the script
// explains the steps. Everything else that failed becomes a commented checklist at the end.
#pragma once

#include <string>

#include <tenantscan/model.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/scan.hpp>

namespace tenantscan {

// The script for a scan's report. Deterministic: the same report gives the same bytes.
std::string remediation_script(const Snapshot& snapshot, const Report& report, const ScanOptions& options);

}  // namespace tenantscan
