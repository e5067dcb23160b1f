# tenantscan $VERSION remediation script
# tenant:   8f3c2a51-6d4e-4b1a-9c7f-2e5d8a1b3c4d
# snapshot: $SOURCE/examples/contoso-ready/snapshot.json
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

# Nothing for this script to change.
Write-Host 'Nothing to change.'

# ---- Checklist: changes that need a person ----
# Address conflicts, device reconfiguration, billing and anything the snapshot could not decide.
# [ ] hve-basic-auth-sunset (fail info) Scanner 3F: 'Scanner 3F' uses Basic auth with HVE account scanner-hve@contoso.com; Basic auth on HVE ends on 2028-09-30 (September 2028; 669 days left): plan OAuth.
#       Fix: Plan OAuth for 'Scanner 3F' (owner: Facilities): register an Entra app with the Exchange Mail.Send application permission, run Add-HVEAppAccess -Identity scanner-hve@contoso.com -AppIds <app id> (at most 10 apps per account), and configure the device for XOAUTH2 if its software supports it.

if ($DryRun) { Write-Host 'Dry run finished: nothing was changed. Run with -Apply to make the changes.' }
