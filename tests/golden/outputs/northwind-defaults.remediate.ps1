# tenantscan $VERSION remediation script
# tenant:   5c9d8e7f-1a2b-4c3d-9e4f-5a6b7c8d9e0f
# snapshot: $SOURCE/examples/northwind-defaults/snapshot.json
# as of:    2026-12-01
# schedule: 2026-01 (announced 2026-01-27): before the cut-off; 30 days left until 2026-12-31, when Basic SMTP AUTH is disabled by default for existing tenants
#
# Review every step before running it. Each step names the finding it fixes and checks the current
# state first, so running the script again changes nothing that is already done.
# By default every change runs with -WhatIf and only says what it would do; run the script with
# -Apply to make the changes. Security defaults are never turned off by this script, and the
# changes that need a person are listed as a checklist at the end.
[CmdletBinding()]
param(
    # Make the changes. Without this switch every change runs with -WhatIf.
    [switch]$Apply
)
$ErrorActionPreference = 'Stop'
$DryRun = -not $Apply
if ($DryRun) { Write-Host 'Dry run: changes run with -WhatIf. Run with -Apply to make them.' }

# ---- Security defaults: explained, never turned off by this script ----
# hve-security-defaults: Security defaults are enabled and block Basic SMTP AUTH for the tenant's HVE account (535 5.7.139). The tenant has no Microsoft Entra ID P1 service plan (AAD_PREMIUM or AAD_PREMIUM_P2) in /graph/subscribedSkus: it needs Entra ID P1 (standalone, or in Microsoft 365 Business Premium, E3 or E5) before it can use Conditional Access.
# Security defaults allow no exclusions. To let the HVE accounts use Basic SMTP AUTH, replace them:
#   1. Make sure the tenant has Microsoft Entra ID P1 (see tenant-conditional-access-licence).
#   2. Create Conditional Access policies that give the same protection (require MFA for all users,
#      block legacy authentication), each excluding the group 'Exchange-HVEUserAccounts' and your break-glass
#      accounts, in report-only; check their effect in the sign-in logs.
#   3. In one change window, turn security defaults off (Entra admin center > Identity > Overview >
#      Properties > Manage security defaults) and turn the policies on.
Write-Warning 'Security defaults block the HVE accounts; this script does not turn them off: see the steps in its comments.'

# Nothing for this script to change.
Write-Host 'Nothing to change.'

# ---- Checklist: changes that need a person ----
# Address conflicts, device reconfiguration, billing and anything the snapshot could not decide.
# [ ] tenant-conditional-access-licence (fail high) 5c9d8e7f-1a2b-4c3d-9e4f-5a6b7c8d9e0f: The tenant needs Conditional Access (security defaults block the tenant's 1 HVE account, and Conditional Access is the way out (hve-security-defaults)) but has no Microsoft Entra ID P1 service plan (AAD_PREMIUM or AAD_PREMIUM_P2) in /graph/subscribedSkus.
#       Fix: Get Microsoft Entra ID P1 for the tenant: standalone, or in Microsoft 365 Business Premium, E3 or E5, or EMS E3/E5. Then replace security defaults with Conditional Access policies that exclude the HVE exemption group (see hve-security-defaults).

if ($DryRun) { Write-Host 'Dry run finished: nothing was changed. Run with -Apply to make the changes.' }
