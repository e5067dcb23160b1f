#include <tenantscan/remediation.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tenantscan/directory.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/schedule.hpp>

#include <tenantscan/detail/text.hpp>

namespace tenantscan {

namespace {

// ---- Tenant text in the script (docs/remediate.md, "Tenant text in the script") ----
// Names, addresses and ids come from the tenant, so from whoever can name a group or a policy. They
// land in exactly two places: inside a single-quoted literal (ps_value) or inside a line comment
// (comment_line, comment_block). Both follow PowerShell's own tokenizer:
// - a single-quoted string ends at any of the five single-quote characters U+0027, U+2018, U+2019,
//   U+201A, U+201B, and two of them in a row stand for the second one (Tokenizer.ScanStringLiteral,
//   CharExtensions.IsSingleQuote), so each of them is written twice;
// - a line comment ends at CR or LF (Tokenizer.ScanToEndOfCommentLine);
// - a comment line that resembles "# SIG # Begin signature block" marks the start of a signature, and
//   nothing may follow it (same function).

// The next code point of UTF-8 text; an invalid byte reads as U+FFFD (JSON input is valid UTF-8, so
// this happens only with bytes that never came through the loader).
char32_t next_code_point(std::string_view text, std::size_t& i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) {
        ++i;
        return 0xFFFD;
    }
    char32_t cp = length == 1 ? lead : lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            ++i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return 0xFFFD;
    }
    i += length;
    return cp;
}

bool is_powershell_single_quote(char32_t c) { return c == U'\'' || (c >= 0x2018 && c <= 0x201B); }

// Characters never written raw, in a literal or a comment: they end a line (CR, LF, and for other
// readers U+0085, U+2028, U+2029), make the file look binary (NUL and the other C0/C1 controls, DEL),
// or make the text a reviewer sees differ from what runs (bidirectional formatting, U+FEFF).
bool is_hidden_or_line_breaking(char32_t c) {
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029 || c == 0x061C || c == 0x200E ||
           c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
}

// A tenant value as a PowerShell expression that evaluates to exactly that string: one single-quoted
// literal ('Contoso’’s MFA'), or, when it holds characters that are never written raw, literals and
// [char] code points joined into a string: ('Line 1' + [char]0x000A + 'Line 2').
std::string ps_value(std::string_view text) {
    std::vector<std::string> parts;
    std::string literal;
    bool open = false;
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t start = i;
        const char32_t c = next_code_point(text, i);
        if (is_hidden_or_line_breaking(c)) {
            if (open) parts.push_back("'" + literal + "'");
            literal.clear();
            open = false;
            parts.push_back(fmt::format("[char]0x{:04X}", static_cast<std::uint32_t>(c)));
            continue;
        }
        open = true;
        const std::string_view encoded = c == 0xFFFD && text.compare(start, 3, "\xEF\xBF\xBD") != 0
                                             ? std::string_view("\xEF\xBF\xBD")
                                             : text.substr(start, i - start);
        literal.append(encoded);
        if (is_powershell_single_quote(c)) literal.append(encoded);  // written twice: one of it
    }
    if (open || parts.empty()) parts.push_back("'" + literal + "'");
    if (parts.size() == 1) return parts.front();
    // A string first, so that + concatenates strings rather than adding [char] numbers.
    if (parts.front().front() != '\'') parts.insert(parts.begin(), "''");
    return fmt::format("({})", fmt::join(parts, " + "));
}

// Text for a comment: every character that is never written raw shows as <U+XXXX>.
std::string comment_text(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t start = i;
        const char32_t c = next_code_point(text, i);
        if (is_hidden_or_line_breaking(c)) {
            out += fmt::format("<U+{:04X}>", static_cast<std::uint32_t>(c));
        } else if (c == 0xFFFD && text.compare(start, 3, "\xEF\xBF\xBD") != 0) {
            out += "\xEF\xBF\xBD";
        } else {
            out.append(text.substr(start, i - start));
        }
    }
    return out;
}

// PowerShell's test for a comment line that disguises itself as the start of a signature block
// (Tokenizer.ScanToEndOfCommentLine): the text after '#', lowercased, without white space, plus the
// line break, within an edit distance of 10 of "sig#beginsignatureblock\n". Here any non-ASCII
// character counts as matching (a lowercase mapping may turn it into ASCII), so the test errs on the
// side of finding one.
bool resembles_signature_begin(std::string_view commentAfterHash) {
    static const std::string target = "sig#beginsignatureblock\n";
    std::string line;
    for (std::size_t i = 0; i < commentAfterHash.size();) {
        const char32_t c = next_code_point(commentAfterHash, i);
        const bool space = c == ' ' || c == '\t' || c == 0x0B || c == 0x0C || c == 0xA0 || c == 0x85 || c == 0x1680 ||
                           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
                           c == 0x3000;
        if (space) continue;
        if (c < 0x80) {
            line += to_lower(static_cast<char>(c));
        } else {
            line += '\x80';  // any non-ASCII character: a wildcard below
        }
    }
    line += '\n';
    if (line.size() > target.size() + 10 || line.size() + 10 < target.size()) return false;  // PowerShell's bounds
    std::vector<std::size_t> previous(target.size() + 1), current(target.size() + 1);
    for (std::size_t j = 0; j <= target.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= line.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= target.size(); ++j) {
            const bool same = line[i - 1] == target[j - 1] || line[i - 1] == '\x80';
            current[j] = same ? previous[j - 1] : 1 + std::min({previous[j], current[j - 1], previous[j - 1]});
        }
        std::swap(previous, current);
    }
    return previous[target.size()] < 10;
}

// One comment line: the prefix (which starts with '#') and the sanitised text. A line PowerShell would
// take for the start of a signature block gets a note that makes it too long to be one.
std::string comment_line(std::string_view text, const std::string& prefix = "# ") {
    std::string line = prefix + comment_text(text);
    if (resembles_signature_begin(std::string_view(line).substr(1)))
        line += " (tenantscan: this comment line only resembles a signature block)";
    return line + "\n";
}

// Text inside a comment: one comment line per line of the text (CR LF, CR or LF), each behind the
// prefix; every other character that is never written raw shows as <U+XXXX>.
std::string comment_block(const std::string& text, const std::string& prefix) {
    std::string out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = text.find_first_of("\r\n", start);
        out += comment_line(std::string_view(text).substr(start, end == std::string::npos ? std::string::npos : end - start),
                            prefix);
        if (end == std::string::npos) return out;
        start = end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1);
    }
}

bool is_open(const Finding& f) {
    return f.status == Status::Fail || f.status == Status::Review || f.status == Status::Error;
}

using Action = RemediationStep::Action;

// A step and the finding it fixes.
struct PlannedStep {
    const Finding* finding;
    const RemediationStep* step;
};

struct PolicyToExclude {
    std::string id;
    std::string displayName;
    std::string state;
    std::set<std::string> accounts;  // the accounts it blocks
    std::set<std::string> rules;     // the findings' rules
    std::set<std::string> controls;
};

std::string mail_nickname(const std::string& name) {
    std::string nickname;
    for (char c : name)
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') nickname += c;
    return nickname.empty() ? "HVEUserAccounts" : nickname;
}


class ScriptWriter {
public:
    ScriptWriter(const Snapshot& snapshot, const Report& report, const ScanOptions& options);

    std::string write();

private:
    std::vector<PlannedStep> steps(Action action) const;
    void header(bool exchange, bool graph);
    void authentication_policy_steps();
    void exemption_group_steps();
    void explanations();
    void checklist();

    const Snapshot& snapshot_;
    const Report& report_;
    const ScanOptions& options_;
    std::vector<PlannedStep> steps_;    // the steps of the failing findings, in report order
    std::set<const Finding*> handled_;  // findings a step fixes; the rest go to the checklist
    std::string out_;
};

// Only a failing finding needs a change: the steps of waived, passing or undecided findings are not written.
ScriptWriter::ScriptWriter(const Snapshot& snapshot, const Report& report, const ScanOptions& options)
    : snapshot_(snapshot), report_(report), options_(options) {
    for (const Finding& f : report.findings)
        if (f.status == Status::Fail)
            for (const RemediationStep& step : f.steps) steps_.push_back({&f, &step});
}

std::vector<PlannedStep> ScriptWriter::steps(Action action) const {
    std::vector<PlannedStep> out;
    for (const PlannedStep& planned : steps_)
        if (planned.step->action == action) out.push_back(planned);
    return out;
}

void ScriptWriter::header(bool exchange, bool graph) {
    std::vector<std::string> modules;
    if (exchange) modules.push_back("ExchangeOnlineManagement");
    if (graph) {
        modules.push_back("Microsoft.Graph.Authentication");
        modules.push_back("Microsoft.Graph.Groups");
        modules.push_back("Microsoft.Graph.Identity.SignIns");
    }
    out_ += comment_line(fmt::format("tenantscan {} remediation script", report_.toolVersion));
    out_ += comment_line(fmt::format("tenant:   {}", snapshot_.tenantId.empty() ? "(not in snapshot)" : snapshot_.tenantId));
    out_ += comment_line(fmt::format("snapshot: {}", report_.snapshotPath));
    out_ += comment_line(fmt::format("as of:    {}", report_.asOf));
    out_ += comment_line(fmt::format("schedule: {}", schedule_status(options_).header_line()));
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
    const auto assign = steps(Action::AssignAuthenticationPolicy);
    if (assign.empty()) return;
    // One policy for every account: the one the first step names (every step names the same).
    const RemediationStep& first = *assign.front().step;
    const bool create = first.create;
    const std::string& policy = first.policy.name;
    out_ += "\n# ---- Exchange Online: an authentication policy that allows Basic SMTP AUTH ----\n";
    out_ += fmt::format("$SmtpPolicyName = {}\n", ps_value(policy));
    out_ += fmt::format("# Fixes {} for {} HVE account{}: {}.\n", assign.front().finding->rule, assign.size(),
                        assign.size() == 1 ? "" : "s",
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
    for (const auto& [f, step] : assign) {
        out_ += comment_block(fmt::format("Fixes {} for {}: {}", f->rule, step->account.name, f->message), "# ");
        out_ += fmt::format("Set-HveAuthenticationPolicy {}\n", ps_value(step->account.name));
        handled_.insert(f);
    }
}

void ScriptWriter::exemption_group_steps() {
    const auto create = steps(Action::CreateGroup);
    const auto add = steps(Action::AddGroupMember);
    const auto exclude = steps(Action::ExcludeGroupFromPolicy);
    const bool groupMissing = !create.empty();
    std::map<std::string, std::pair<std::string, std::string>> members;  // Entra object id → address, why
    for (const auto& [f, step] : add)
        if (!step->account.id.empty()) members.emplace(step->account.id, std::make_pair(step->account.name, step->note));
    std::map<std::string, PolicyToExclude> policies;  // by policy id
    for (const auto& [f, step] : exclude) {
        if (step->policy.id.empty()) continue;
        auto& entry = policies[step->policy.id];
        entry.id = step->policy.id;
        entry.displayName = step->policy.name;
        entry.state = step->policy.state;
        entry.accounts.insert(step->account.name);
        entry.rules.insert(f->rule);
        entry.controls.insert(step->policy.controls.begin(), step->policy.controls.end());
    }
    if (!groupMissing && members.empty() && policies.empty()) return;  // nothing to write: the checklist has them
    for (const auto* list : {&add, &exclude})
        for (const PlannedStep& planned : *list) handled_.insert(planned.finding);

    // Every step names the same group: the one group that matches the configuration (with its id), else
    // the configured name.
    const Related& group = (!create.empty() ? create : !add.empty() ? add : exclude).front().step->group;
    const std::string& groupName = group.name;
    out_ += "\n# ---- Microsoft Graph: the HVE exemption group and the policies that must exclude it ----\n";
    out_ += fmt::format("$HveGroupName = {}\n", ps_value(groupName));
    if (!group.id.empty()) {
        out_ += fmt::format("$HveGroup = Get-MgGroup -GroupId {}\n", ps_value(group.id));
    } else {
        out_ += "$HveGroup = @(Get-MgGroup -All -Filter \"displayName eq '$($HveGroupName -replace \"'\", \"''\")'\")\n"
                "if ($HveGroup.Count -gt 1) { throw \"Several groups are named '$HveGroupName': keep one, or configure its id.\" }\n"
                "$HveGroup = $HveGroup | Select-Object -First 1\n";
    }
    if (groupMissing) {
        const Finding* missing = create.front().finding;
        out_ += comment_block(fmt::format("Fixes {}: {}", missing->rule, missing->message), "# ");
        out_ += fmt::format(
            "if (-not $HveGroup) {{\n"
            "    $HveGroup = New-MgGroup -DisplayName $HveGroupName -MailEnabled:$false -MailNickname {} -SecurityEnabled "
            "-Description 'HVE accounts: excluded from Conditional Access policies that block Basic SMTP AUTH' "
            "-WhatIf:$DryRun\n"
            "}} else {{\n"
            "    Write-Host \"ok: group '$HveGroupName' exists\"\n"
            "}}\n",
            ps_value(mail_nickname(groupName)));
        handled_.insert(missing);
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
    for (const auto& [id, member] : members) {
        const auto& [address, why] = member;
        const std::string rule = add.front().finding->rule;
        out_ += comment_line(fmt::format("Fixes {} for {}: {}.", rule, address, why));
        out_ += fmt::format("Add-HveGroupMember {} {}\n", ps_value(id), ps_value(address));
    }

    std::vector<const PolicyToExclude*> ordered;
    for (const auto& [id, policy] : policies) ordered.push_back(&policy);
    std::sort(ordered.begin(), ordered.end(), [](const PolicyToExclude* a, const PolicyToExclude* b) {
        return std::tie(a->displayName, a->id) < std::tie(b->displayName, b->id);
    });
    for (const PolicyToExclude* p : ordered) {
        out_ += comment_line(fmt::format("Fixes {}: '{}' ({}; {}) blocks the Basic SMTP AUTH sign-ins of {}.", fmt::join(p->rules, ", "),
                                         p->displayName, p->state, fmt::join(p->controls, ", "), fmt::join(p->accounts, ", ")));
        out_ += fmt::format("Add-HveGroupExclusion {} {}\n", ps_value(p->id), ps_value(p->displayName));
    }
}

void ScriptWriter::explanations() {
    for (const auto& [f, step] : steps(Action::Explain)) {
        out_ += fmt::format("\n# ---- {} ----\n", comment_text(step->heading));
        out_ += comment_block(fmt::format("{}: {}", f->rule, f->message), "# ");
        out_ += comment_block(step->note, "# ");
        if (!step->warning.empty()) out_ += fmt::format("Write-Warning {}\n", ps_value(step->warning));
        handled_.insert(f);
    }
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
    const bool exchange = !steps(Action::AssignAuthenticationPolicy).empty();
    const bool graph = !steps(Action::CreateGroup).empty() || !steps(Action::AddGroupMember).empty() ||
                       !steps(Action::ExcludeGroupFromPolicy).empty();
    header(exchange, graph);
    authentication_policy_steps();
    exemption_group_steps();
    explanations();
    if (!exchange && !graph) out_ += "\n# Nothing for this script to change.\nWrite-Host 'Nothing to change.'\n";
    checklist();
    out_ += "\nif ($DryRun) { Write-Host 'Dry run finished: nothing was changed. Run with -Apply to make the changes.' }\n";
    // Windows PowerShell 5.1 reads a script without a byte order mark in the ANSI code page, where the
    // bytes of a UTF-8 "ł" (C5 82) read as "Å‚" — and U+201A ends a single-quoted string. A script
    // with any non-ASCII character therefore starts with the UTF-8 BOM, which every PowerShell honours.
    const bool ascii = std::all_of(out_.begin(), out_.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    return ascii ? out_ : "\xEF\xBB\xBF" + out_;
}

}  // namespace

std::string remediation_script(const Snapshot& snapshot, const Report& report, const ScanOptions& options) {
    return ScriptWriter(snapshot, report, options).write();
}

}  // namespace tenantscan
