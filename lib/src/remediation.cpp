#include <tenantscan/remediation.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>
#include <tenantscan/directory.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/schedule.hpp>

#include "common/hve_exemption_group.hpp"

namespace tenantscan {

namespace {

// The rules whose fixes the script makes; their other findings (review, error) go to the checklist.
constexpr const char* kAuthenticationPolicyRule = "hve-authentication-policy";
constexpr const char* kExclusionGroupRule = "hve-exclusion-group";
constexpr const char* kConditionalAccessRule = "hve-conditional-access";
constexpr const char* kReportOnlyRule = "hve-report-only-policies";
constexpr const char* kSecurityDefaultsRule = "hve-security-defaults";
constexpr const char* kRecommendedPolicyName = "Allow Basic Auth SMTP";

// A PowerShell single-quoted string: nothing inside is interpreted; ' is doubled.
std::string ps_literal(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

// Text inside a comment: one line per line of the text, each behind the prefix.
std::string comment_block(const std::string& text, const std::string& prefix) {
    std::string out = prefix;
    for (char c : text) {
        if (c == '\r') continue;
        out += c;
        if (c == '\n') out += prefix;
    }
    return out + "\n";
}

bool is_open(const Finding& f) {
    return f.status == Status::Fail || f.status == Status::Review || f.status == Status::Error;
}

std::vector<const Finding*> findings_of(const Report& report, const char* rule, Status status) {
    std::vector<const Finding*> out;
    for (const Finding& f : report.findings)
        if (f.rule == rule && f.status == status) out.push_back(&f);
    return out;
}

// The authentication policy the HVE accounts get: an existing one that allows Basic SMTP AUTH
// (first by name, as hve-authentication-policy proposes), else Microsoft's recommended one under
// a name not yet taken.
std::string smtp_policy_name(const Snapshot& snapshot, bool& create) {
    std::vector<std::string> allowing;
    std::set<std::string> taken;
    if (snapshot.authenticationPolicies)
        for (const auto& p : *snapshot.authenticationPolicies) {
            const std::string name = p.name.empty() ? p.identity : p.name;
            taken.insert(to_lower(name));
            if (p.allowBasicAuthSmtp) allowing.push_back(name);
        }
    std::sort(allowing.begin(), allowing.end());
    create = allowing.empty();
    if (!create) return allowing.front();
    std::string name = kRecommendedPolicyName;
    for (int n = 2; taken.count(to_lower(name)); ++n) name = fmt::format("{} {}", kRecommendedPolicyName, n);
    return name;
}

struct PolicyToExclude {
    std::string id;
    std::string displayName;
    std::string state;
    std::set<std::string> accounts;  // HVE addresses it blocks
    std::set<std::string> rules;     // the findings' rules
    std::set<std::string> controls;
};

// Blocking policies named in the evidence of failing hve-conditional-access ("blockingPolicies")
// and hve-report-only-policies ("wouldBlockPolicies") findings, by policy id.
std::map<std::string, PolicyToExclude> policies_to_exclude(const Report& report) {
    std::map<std::string, PolicyToExclude> policies;
    const std::pair<const char*, const char*> sources[] = {{kConditionalAccessRule, "blockingPolicies"},
                                                           {kReportOnlyRule, "wouldBlockPolicies"}};
    for (const auto& [rule, key] : sources)
        for (const Finding* f : findings_of(report, rule, Status::Fail)) {
            auto list = f->evidence.find(key);
            if (list == f->evidence.end() || !list->is_array()) continue;
            for (const auto& p : *list) {
                const std::string id = p.value("id", std::string());
                if (id.empty()) continue;
                auto& entry = policies[id];
                entry.id = id;
                entry.displayName = p.value("displayName", std::string());
                entry.state = p.value("state", std::string());
                entry.accounts.insert(f->subject.name);
                entry.rules.insert(rule);
                for (const auto& c : p.value("controls", nlohmann::json::array()))
                    if (c.is_string()) entry.controls.insert(c.get<std::string>());
            }
        }
    return policies;
}

// The HVE accounts (Entra object id → address) to add to the exemption group: those
// hve-exclusion-group fails for, or every HVE account when it says the group is missing.
std::map<std::string, std::string> members_to_add(const Snapshot& snapshot, const Report& report, bool groupMissing) {
    std::map<std::string, std::string> members;
    if (groupMissing) {
        if (snapshot.hveAccounts)
            for (const auto& account : *snapshot.hveAccounts)
                if (!account.externalDirectoryObjectId.empty())
                    members[account.externalDirectoryObjectId] = account.primarySmtpAddress;
        return members;
    }
    for (const Finding* f : findings_of(report, kExclusionGroupRule, Status::Fail))
        if (f->subject.kind == "hveAccount" && !f->subject.id.empty()) members[f->subject.id] = f->subject.name;
    return members;
}

std::string mail_nickname(const std::string& name) {
    std::string nickname;
    for (char c : name)
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') nickname += c;
    return nickname.empty() ? "HVEUserAccounts" : nickname;
}

std::string join(const std::set<std::string>& items) {
    return fmt::format("{}", fmt::join(items, ", "));
}

class ScriptWriter {
public:
    ScriptWriter(const Snapshot& snapshot, const Report& report, const ScanOptions& options)
        : snapshot_(snapshot), report_(report), options_(options), directory_(snapshot) {}

    std::string write();

private:
    void header(bool exchange, bool graph);
    void authentication_policy_steps();
    void exemption_group_steps(const std::map<std::string, PolicyToExclude>& policies);
    void security_defaults_explanation();
    void checklist();

    const Snapshot& snapshot_;
    const Report& report_;
    const ScanOptions& options_;
    Directory directory_;
    std::string out_;
    std::set<const Finding*> handled_;  // findings a step fixes; the rest go to the checklist
};

void ScriptWriter::header(bool exchange, bool graph) {
    std::vector<std::string> modules;
    if (exchange) modules.push_back("ExchangeOnlineManagement");
    if (graph) {
        modules.push_back("Microsoft.Graph.Authentication");
        modules.push_back("Microsoft.Graph.Groups");
        modules.push_back("Microsoft.Graph.Identity.SignIns");
    }
    out_ += fmt::format("# tenantscan {} remediation script\n", report_.toolVersion);
    out_ += fmt::format("# tenant:   {}\n", snapshot_.tenantId.empty() ? "(not in snapshot)" : snapshot_.tenantId);
    out_ += fmt::format("# snapshot: {}\n", report_.snapshotPath);
    out_ += fmt::format("# as of:    {}\n", report_.asOf);
    out_ += fmt::format("# schedule: {}\n", schedule_status(options_).header_line());
    out_ += "#\n"
            "# Review every step before running it. Each step names the finding it fixes and checks the current\n"
            "# state first, so running the script again changes nothing that is already done.\n"
            "# By default every change runs with -WhatIf and only says what it would do; run the script with\n"
            "# -Apply to make the changes. Security defaults are never turned off by this script, and the\n"
            "# changes that need a person are listed as a checklist at the end.\n";
    if (!modules.empty()) out_ += fmt::format("#Requires -Modules {}\n", fmt::join(modules, ", "));
    out_ += "[CmdletBinding()]\n"
            "param(\n"
            "    # Make the changes. Without this switch every change runs with -WhatIf.\n"
            "    [switch]$Apply\n"
            ")\n"
            "$ErrorActionPreference = 'Stop'\n"
            "$DryRun = -not $Apply\n"
            "if ($DryRun) { Write-Host 'Dry run: changes run with -WhatIf. Run with -Apply to make them.' }\n";
    if (exchange) out_ += "Connect-ExchangeOnline -ShowBanner:$false\n";
    if (graph)
        out_ += "Connect-MgGraph -NoWelcome -Scopes 'Group.ReadWrite.All', 'Policy.Read.All', "
                "'Policy.ReadWrite.ConditionalAccess'\n";
}

void ScriptWriter::authentication_policy_steps() {
    const auto failing = findings_of(report_, kAuthenticationPolicyRule, Status::Fail);
    if (failing.empty()) return;
    bool create = false;
    const std::string policy = smtp_policy_name(snapshot_, create);
    out_ += "\n# ---- Exchange Online: an authentication policy that allows Basic SMTP AUTH ----\n";
    out_ += fmt::format("$SmtpPolicyName = {}\n", ps_literal(policy));
    out_ += fmt::format("# Fixes {} for {} HVE account{}: {}.\n", kAuthenticationPolicyRule, failing.size(),
                        failing.size() == 1 ? "" : "s",
                        create ? "no authentication policy allows Basic SMTP AUTH yet, so create one"
                               : "reuse the existing policy that allows Basic SMTP AUTH");
    out_ += "$policy = Get-AuthenticationPolicy -Identity $SmtpPolicyName -ErrorAction SilentlyContinue\n"
            "if (-not $policy) {\n"
            "    New-AuthenticationPolicy -Name $SmtpPolicyName -AllowBasicAuthSmtp -WhatIf:$DryRun\n"
            "    $SmtpPolicyState = if ($DryRun) { 'planned' } else { 'ready' }\n"
            "} elseif (-not $policy.AllowBasicAuthSmtp) {\n"
            "    # Changing it would change every account that already has it: a person decides.\n"
            "    Write-Warning \"Authentication policy '$SmtpPolicyName' exists but does not allow Basic SMTP AUTH: no account is assigned to it.\"\n"
            "    $SmtpPolicyState = 'unusable'\n"
            "} else {\n"
            "    Write-Host \"ok: authentication policy '$SmtpPolicyName' allows Basic SMTP AUTH\"\n"
            "    $SmtpPolicyState = 'ready'\n"
            "}\n"
            "function Set-HveAuthenticationPolicy([string]$Account) {\n"
            "    $current = (Get-User -Identity $Account).AuthenticationPolicy\n"
            "    if ($current -eq $SmtpPolicyName -or \"$current\" -like \"CN=$SmtpPolicyName,*\") {\n"
            "        Write-Host \"ok: $Account already has '$SmtpPolicyName'\"\n"
            "    } elseif ($SmtpPolicyState -eq 'ready') {\n"
            "        # Takes effect within 24 hours (about 30 minutes after Set-User -STSRefreshTokensValidFrom (Get-Date)).\n"
            "        Set-User -Identity $Account -AuthenticationPolicy $SmtpPolicyName -WhatIf:$DryRun\n"
            "    } elseif ($SmtpPolicyState -eq 'planned') {\n"
            "        Write-Host \"would give $Account '$SmtpPolicyName' once the policy exists\"\n"
            "    }\n"
            "}\n";
    for (const Finding* f : failing) {
        out_ += comment_block(fmt::format("Fixes {} for {}: {}", f->rule, f->subject.name, f->message), "# ");
        out_ += fmt::format("Set-HveAuthenticationPolicy {}\n", ps_literal(f->subject.name));
        handled_.insert(f);
    }
}

void ScriptWriter::exemption_group_steps(const std::map<std::string, PolicyToExclude>& policies) {
    const auto groupFailures = findings_of(report_, kExclusionGroupRule, Status::Fail);
    const auto missing = std::find_if(groupFailures.begin(), groupFailures.end(),
                                      [](const Finding* f) { return f->subject.kind == "tenant"; });
    const bool groupMissing = missing != groupFailures.end();
    const auto members = members_to_add(snapshot_, report_, groupMissing);
    if (!groupMissing && members.empty() && policies.empty()) return;

    const std::string configured = rules::configured_hve_exemption_group(options_);
    const auto matches = rules::resolve_hve_exemption_group(directory_, configured);
    const std::string groupName = matches.size() == 1 ? directory_.group(matches.front()).displayName : configured;
    out_ += "\n# ---- Microsoft Graph: the HVE exemption group and the policies that must exclude it ----\n";
    out_ += fmt::format("$HveGroupName = {}\n", ps_literal(groupName));
    if (matches.size() == 1) {
        out_ += fmt::format("$HveGroup = Get-MgGroup -GroupId {}\n", ps_literal(directory_.group(matches.front()).id));
    } else {
        out_ += "$HveGroup = @(Get-MgGroup -All -Filter \"displayName eq '$($HveGroupName -replace \"'\", \"''\")'\")\n"
                "if ($HveGroup.Count -gt 1) { throw \"Several groups are named '$HveGroupName': keep one, or configure its id.\" }\n"
                "$HveGroup = $HveGroup | Select-Object -First 1\n";
    }
    if (groupMissing) {
        out_ += comment_block(fmt::format("Fixes {}: {}", (*missing)->rule, (*missing)->message), "# ");
        out_ += fmt::format(
            "if (-not $HveGroup) {{\n"
            "    $HveGroup = New-MgGroup -DisplayName $HveGroupName -MailEnabled:$false -MailNickname {} -SecurityEnabled "
            "-Description 'HVE accounts: excluded from Conditional Access policies that block Basic SMTP AUTH' "
            "-WhatIf:$DryRun\n"
            "}} else {{\n"
            "    Write-Host \"ok: group '$HveGroupName' exists\"\n"
            "}}\n",
            ps_literal(mail_nickname(groupName)));
        handled_.insert(*missing);
    }
    out_ += "function Add-HveGroupMember([string]$UserId, [string]$Account) {\n"
            "    if (-not $HveGroup) { Write-Host \"would add $Account to '$HveGroupName' once the group exists\"; return }\n"
            "    $members = @(Get-MgGroupMember -GroupId $HveGroup.Id -All | ForEach-Object { $_.Id })\n"
            "    if ($members -contains $UserId) { Write-Host \"ok: $Account is a member of '$HveGroupName'\"; return }\n"
            "    New-MgGroupMemberByRef -GroupId $HveGroup.Id -OdataId \"https://graph.microsoft.com/v1.0/directoryObjects/$UserId\" "
            "-WhatIf:$DryRun\n"
            "}\n"
            "function Add-HveGroupExclusion([string]$PolicyId, [string]$PolicyName) {\n"
            "    if (-not $HveGroup) { Write-Host \"would exclude '$HveGroupName' from '$PolicyName' once the group exists\"; return }\n"
            "    $policy = Get-MgIdentityConditionalAccessPolicy -ConditionalAccessPolicyId $PolicyId\n"
            "    $excluded = @($policy.Conditions.Users.ExcludeGroups | Where-Object { $_ })\n"
            "    if ($excluded -contains $HveGroup.Id) { Write-Host \"ok: '$PolicyName' already excludes '$HveGroupName'\"; return }\n"
            "    # Only conditions.users.excludeGroups is sent, extended by the group: nothing else in the policy changes.\n"
            "    $body = @{ conditions = @{ users = @{ excludeGroups = @($excluded + $HveGroup.Id) } } }\n"
            "    Update-MgIdentityConditionalAccessPolicy -ConditionalAccessPolicyId $PolicyId -BodyParameter $body "
            "-WhatIf:$DryRun\n"
            "}\n";
    for (const auto& [id, address] : members) {
        out_ += fmt::format("# Fixes {} for {}: {}.\n", kExclusionGroupRule, address,
                            groupMissing ? "the group is new, so every HVE account joins it"
                                         : "the account is not a member of the group");
        out_ += fmt::format("Add-HveGroupMember {} {}\n", ps_literal(id), ps_literal(address));
    }
    for (const Finding* f : groupFailures)
        if (f->subject.kind == "hveAccount") handled_.insert(f);

    std::vector<const PolicyToExclude*> ordered;
    for (const auto& [id, policy] : policies) ordered.push_back(&policy);
    std::sort(ordered.begin(), ordered.end(), [](const PolicyToExclude* a, const PolicyToExclude* b) {
        return std::tie(a->displayName, a->id) < std::tie(b->displayName, b->id);
    });
    for (const PolicyToExclude* p : ordered) {
        out_ += fmt::format("# Fixes {}: '{}' ({}; {}) blocks the Basic SMTP AUTH sign-ins of {}.\n", join(p->rules),
                            p->displayName, p->state, join(p->controls), join(p->accounts));
        out_ += fmt::format("Add-HveGroupExclusion {} {}\n", ps_literal(p->id), ps_literal(p->displayName));
    }
    for (const char* rule : {kConditionalAccessRule, kReportOnlyRule})
        for (const Finding* f : findings_of(report_, rule, Status::Fail)) handled_.insert(f);
}

void ScriptWriter::security_defaults_explanation() {
    const auto failing = findings_of(report_, kSecurityDefaultsRule, Status::Fail);
    if (failing.empty()) return;
    const std::string group = rules::configured_hve_exemption_group(options_);
    out_ += "\n# ---- Security defaults: explained, never turned off by this script ----\n";
    out_ += comment_block(fmt::format("{}: {}", kSecurityDefaultsRule, failing.front()->message), "# ");
    out_ += fmt::format(
        "# Security defaults allow no exclusions. To let the HVE accounts use Basic SMTP AUTH, replace them:\n"
        "#   1. Make sure the tenant has Microsoft Entra ID P1 (see tenant-conditional-access-licence).\n"
        "#   2. Create Conditional Access policies that give the same protection (require MFA for all users,\n"
        "#      block legacy authentication), each excluding the group '{}' and your break-glass\n"
        "#      accounts, in report-only; check their effect in the sign-in logs.\n"
        "#   3. In one change window, turn security defaults off (Entra admin center > Identity > Overview >\n"
        "#      Properties > Manage security defaults) and turn the policies on.\n"
        "Write-Warning 'Security defaults block the HVE accounts; this script does not turn them off: see the steps in its comments.'\n",
        group);
    handled_.insert(failing.front());
}

void ScriptWriter::checklist() {
    std::vector<const Finding*> open;
    for (const Finding& f : report_.findings)
        if (is_open(f) && !handled_.count(&f)) open.push_back(&f);
    out_ += "\n# ---- Checklist: changes that need a person ----\n";
    if (open.empty()) {
        out_ += "# Nothing: no other finding needs a change.\n";
        return;
    }
    out_ += "# Address conflicts, device reconfiguration, billing and anything the snapshot could not decide.\n";
    for (const Finding* f : open) {
        out_ += comment_block(fmt::format("[ ] {} ({} {}) {}: {}", f->rule, to_string(f->status), to_string(f->severity),
                                          f->subject.name, f->message),
                              "# ");
        if (!f->remediation.empty()) out_ += comment_block("Fix: " + f->remediation, "#       ");
    }
}

std::string ScriptWriter::write() {
    const auto policies = policies_to_exclude(report_);
    const bool exchange = !findings_of(report_, kAuthenticationPolicyRule, Status::Fail).empty();
    const bool graph = !findings_of(report_, kExclusionGroupRule, Status::Fail).empty() || !policies.empty();
    header(exchange, graph);
    authentication_policy_steps();
    exemption_group_steps(policies);
    security_defaults_explanation();
    if (!exchange && !graph) out_ += "\n# Nothing for this script to change.\nWrite-Host 'Nothing to change.'\n";
    checklist();
    out_ += "\nif ($DryRun) { Write-Host 'Dry run finished: nothing was changed. Run with -Apply to make the changes.' }\n";
    return out_;
}

}  // namespace

std::string remediation_script(const Snapshot& snapshot, const Report& report, const ScanOptions& options) {
    return ScriptWriter(snapshot, report, options).write();
}

}  // namespace tenantscan
