// `tenantscan remediate`: the safety properties every script must have (dry run by default, each step
// commented, idempotent checks, security defaults and the rest of each policy left alone). Tenant text with every character PowerShell treats
// specially lands only inside a single-quoted literal that reads back to exactly that text, or inside
// a comment it cannot leave; every script generated here is also parsed with a real PowerShell
// grammar (tree-sitter-powershell, tests/tools/parse_powershell.js).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <filesystem>
#include <optional>
#include <sstream>

#include <tenantscan/remediation.hpp>
#include <tenantscan/scan.hpp>

#include "support.hpp"

using testsupport::replace_all;
using testsupport::run_cli;

namespace {

std::string example(const std::string& name) { return testsupport::source_dir() + "/examples/" + name + "/snapshot.json"; }

void check_script(const std::string& script);

std::string remediate(const std::string& name) {
    auto r = run_cli({"remediate", example(name), "--as-of", "2026-11-27", "--no-config"});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    check_script(r.out);
    return r.out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- An independent reading of the script, from PowerShell's lexical rules ----
// (PowerShell Language Specification 3.0, chapter 2: new-line-character, single-line-comment,
// single-quote-character, verbatim-string-part, double-quote-character; docs/remediate.md.) It knows nothing of how
// remediation.cpp writes: it finds the single-quoted literals and their values, the comments, and
// everything else is code.

// One code point of UTF-8 text (the test's own decoder); -1 for an invalid byte.
long code_point_at(const std::string& text, std::size_t at, std::size_t& length) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = b(at);
    length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (length == 0 || at + length > text.size()) {
        length = 1;
        return -1;
    }
    long cp = length == 1 ? lead : lead & (0xFF >> (length + 1));
    for (std::size_t k = 1; k < length; ++k) cp = (cp << 6) | (b(at + k) & 0x3F);
    return cp;
}

bool single_quote(long c) { return c == '\'' || c == 0x2018 || c == 0x2019 || c == 0x201A || c == 0x201B; }
bool double_quote(long c) { return c == '"' || c == 0x201C || c == 0x201D || c == 0x201E; }

struct Span {
    std::size_t begin = 0, end = 0;  // bytes [begin, end)
};

struct Reading {
    std::vector<Span> literals;  // single-quoted literals, quotes included
    std::vector<std::string> values;  // their values, as PowerShell reads them
    std::vector<Span> comments;  // line comments, '#' included
    std::vector<std::string> problems;
};

class Reader {
public:
    explicit Reader(const std::string& text) : text_(text) {}

    Reading read() {
        code(false);
        return std::move(reading_);
    }

private:
    long peek(std::size_t at) const {
        std::size_t length = 0;
        return at < text_.size() ? code_point_at(text_, at, length) : -2;
    }
    std::size_t next(std::size_t at) const {
        std::size_t length = 1;
        code_point_at(text_, at, length);
        return at + length;
    }

    // Code, up to the end of the text, or (inside "$(") up to the ")" that closes it.
    void code(bool subexpression) {
        int depth = 0;
        while (pos_ < text_.size()) {
            const long c = peek(pos_);
            const char before = pos_ == 0 ? '\n' : text_[pos_ - 1];
            if (c == '#' && (before == '\n' || before == ' ' || before == '\t' || before == ';' || before == '(' || before == '{')) {
                const std::size_t begin = pos_;
                while (pos_ < text_.size() && text_[pos_] != '\r' && text_[pos_] != '\n') ++pos_;
                reading_.comments.push_back({begin, pos_});
            } else if (c == '<' && peek(pos_ + 1) == '#') {
                reading_.problems.push_back("a block comment at byte " + std::to_string(pos_));
                pos_ += 2;
            } else if (c == '@' && (single_quote(peek(pos_ + 1)) || double_quote(peek(pos_ + 1)))) {
                reading_.problems.push_back("a here-string at byte " + std::to_string(pos_));
                pos_ = next(pos_);
            } else if (single_quote(c)) {
                literal();
            } else if (double_quote(c)) {
                expandable();
            } else if (c == '`') {
                pos_ = next(next(pos_));  // an escaped character: never a quote, comment or bracket
            } else {
                if (subexpression && c == '(') ++depth;
                if (subexpression && c == ')' && depth-- == 0) {
                    ++pos_;
                    return;
                }
                pos_ = next(pos_);
            }
        }
        if (subexpression) reading_.problems.push_back("an unclosed $( in a double-quoted string");
    }

    // A single-quoted string: any single-quote character ends it; two in a row stand for the second.
    void literal() {
        const std::size_t begin = pos_;
        pos_ = next(pos_);
        std::string value;
        for (;;) {
            if (pos_ >= text_.size()) {
                reading_.problems.push_back("an unterminated single-quoted string at byte " + std::to_string(begin));
                return;
            }
            const std::size_t at = pos_;
            const long c = peek(at);
            pos_ = next(at);
            if (single_quote(c)) {
                if (!single_quote(peek(pos_))) break;
                const std::size_t second = pos_;
                pos_ = next(second);
                value.append(text_, second, pos_ - second);
                continue;
            }
            value.append(text_, at, pos_ - at);
        }
        reading_.literals.push_back({begin, pos_});
        reading_.values.push_back(value);
    }

    // A double-quoted string (the script's own text): backtick escapes, doubled quotes, $( ... ).
    void expandable() {
        const std::size_t begin = pos_;
        pos_ = next(pos_);
        while (pos_ < text_.size()) {
            const long c = peek(pos_);
            if (c == '`') {
                pos_ = next(next(pos_));
            } else if (double_quote(c)) {
                pos_ = next(pos_);
                if (!double_quote(peek(pos_))) return;
                pos_ = next(pos_);
            } else if (c == '$' && peek(pos_ + 1) == '(') {
                pos_ += 2;
                code(true);
            } else {
                pos_ = next(pos_);
            }
        }
        reading_.problems.push_back("an unterminated double-quoted string at byte " + std::to_string(begin));
    }

    const std::string& text_;
    std::size_t pos_ = 0;
    Reading reading_;
};

// The value of the PowerShell expression at `at`: a single-quoted literal, or a parenthesised
// concatenation of literals and [char]0xXXXX code points. Empty when it is neither.
std::optional<std::string> value_at(const std::string& text, std::size_t at, std::size_t* end = nullptr) {
    auto literal_at = [&](std::size_t& p) -> std::optional<std::string> {
        std::size_t length = 0;
        if (p >= text.size() || !single_quote(code_point_at(text, p, length))) return std::nullopt;
        Reading r = Reader(text.substr(p)).read();
        if (r.literals.empty() || r.literals.front().begin != 0) return std::nullopt;
        p += r.literals.front().end;
        return r.values.front();
    };
    std::size_t p = at;
    if (auto single = literal_at(p)) {
        if (end) *end = p;
        return single;
    }
    if (p >= text.size() || text[p] != '(') return std::nullopt;
    ++p;
    std::string value;
    for (bool first = true;; first = false) {
        if (!first) {
            if (text.compare(p, 3, " + ") != 0) break;
            p += 3;
        }
        if (auto piece = literal_at(p)) {
            value += *piece;
        } else if (text.compare(p, 8, "[char]0x") == 0) {
            std::size_t digits = 0;
            const unsigned long cp = std::stoul(text.substr(p + 8, 6), &digits, 16);
            REQUIRE(digits >= 4);
            p += 8 + digits;
            std::string utf8;
            if (cp < 0x80) {
                utf8 += static_cast<char>(cp);
            } else if (cp < 0x800) {
                utf8 += static_cast<char>(0xC0 | (cp >> 6));
                utf8 += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                utf8 += static_cast<char>(0xE0 | (cp >> 12));
                utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                utf8 += static_cast<char>(0x80 | (cp & 0x3F));
            }
            value += utf8;
        } else {
            return std::nullopt;
        }
    }
    if (p >= text.size() || text[p] != ')') return std::nullopt;
    if (end) *end = p + 1;
    return value;
}

// The values of the arguments of every line that starts with `command` (e.g. "Add-HveGroupMember ").
std::vector<std::vector<std::string>> arguments_of(const std::string& script, const std::string& command) {
    std::vector<std::vector<std::string>> calls;
    for (std::size_t at = script.find("\n" + command); at != std::string::npos; at = script.find("\n" + command, at + 1)) {
        std::size_t p = at + 1 + command.size();
        std::vector<std::string> values;
        while (auto value = value_at(script, p, &p)) {
            values.push_back(*value);
            if (p < script.size() && script[p] == ' ') ++p;
        }
        calls.push_back(values);
    }
    return calls;
}

// PowerShell's "looks like the start of a signature block" test on a line comment (its tokenizer's
// Levenshtein comparison; the test's own implementation): nothing may follow such a line.
bool resembles_signature(const std::string& comment) {
    std::string line;
    for (std::size_t i = 1; i < comment.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(comment[i]);
        if (c == ' ' || c == '\t') continue;
        line += static_cast<char>(std::tolower(c));
    }
    line += '\n';
    const std::string target = "sig#beginsignatureblock\n";
    std::vector<std::vector<std::size_t>> d(line.size() + 1, std::vector<std::size_t>(target.size() + 1));
    for (std::size_t i = 0; i <= line.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= target.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= line.size(); ++i)
        for (std::size_t j = 1; j <= target.size(); ++j)
            d[i][j] = line[i - 1] == target[j - 1] ? d[i - 1][j - 1] : 1 + std::min({d[i - 1][j], d[i][j - 1], d[i - 1][j - 1]});
    return d[line.size()][target.size()] < 10;
}

// Every generated script goes through a real PowerShell grammar: no ERROR or MISSING node.
void parse_with_grammar(const std::vector<std::string>& scripts) {
    testsupport::TempDir dir;
    std::vector<std::string> args = {testsupport::source_dir() + "/tests/tools/parse_powershell.js"};
    for (std::size_t i = 0; i < scripts.size(); ++i) {
        args.push_back(dir.file("script-" + std::to_string(i) + ".ps1"));
        testsupport::write_file(args.back(), scripts[i]);
    }
    const std::string node = TENANTSCAN_NODE;
    REQUIRE_MESSAGE(node.find("NOTFOUND") == std::string::npos, "node not found: run scripts/install-deps.sh");
    auto r = testsupport::run_program(node, args);
    INFO(r.out << r.err);
    REQUIRE_MESSAGE(r.exitCode != 2, "tree-sitter-powershell is not installed: run scripts/install-deps.sh");
    CHECK(r.exitCode == 0);
    CHECK(contains(r.out, "parse_powershell: " + std::to_string(scripts.size()) + " script(s), 0 with syntax errors"));
}

// The properties of where text lands, on any script: PowerShell reads it without a stray quote, block
// comment or here-string; no raw character that breaks a line or hides text; no comment line that
// PowerShell would take for #requires or a signature block; a BOM exactly when it is not ASCII.
Reading check_text(const std::string& withBom) {
    const bool ascii = std::all_of(withBom.begin(), withBom.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    const bool bom = withBom.rfind("\xEF\xBB\xBF", 0) == 0;
    CHECK(bom == !ascii);
    const std::string script = bom ? withBom.substr(3) : withBom;
    for (std::size_t i = 0; i < script.size();) {
        std::size_t length = 0;
        const long c = code_point_at(script, i, length);
        const bool hidden = c < 0 || (c < 0x20 && c != '\n') || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029 ||
                            (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F ||
                            c == 0x061C || c == 0xFEFF;
        if (hidden) {
            FAIL_CHECK("raw U+" << std::hex << c << std::dec << " at byte " << i);
            break;
        }
        i += length;
    }
    Reading reading = Reader(script).read();
    for (const std::string& problem : reading.problems) FAIL_CHECK(problem);
    for (const Span& comment : reading.comments) {
        const std::string text = script.substr(comment.begin, comment.end - comment.begin);
        INFO("comment: " << text);
        CHECK_FALSE(resembles_signature(text));
        if (text.size() > 1 && text[1] != ' ') CHECK(text.rfind("#Requires -Modules ", 0) == 0);
    }
    return reading;
}

// A generated script: checked as text and parsed by the grammar.
void check_script(const std::string& script) {
    check_text(script);
    parse_with_grammar({script});
}

// The safety properties, checked on any generated script.
void check_safe(const std::string& script) {
    const auto lines = lines_of(script);
    CHECK(contains(script, "[switch]$Apply"));
    CHECK(contains(script, "$DryRun = -not $Apply"));
    const char* changing[] = {"New-AuthenticationPolicy ", "Set-User ", "New-MgGroup ", "New-MgGroupMemberByRef ",
                              "Update-MgIdentityConditionalAccessPolicy ", "Set-CASMailbox ", "Set-Mailbox "};
    const char* steps[] = {"Set-HveAuthenticationPolicy ", "Add-HveGroupMember ", "Add-HveGroupExclusion "};
    auto is_comment = [](const std::string& line) {
        const auto first = line.find_first_not_of(' ');
        return first != std::string::npos && line[first] == '#';
    };
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        if (is_comment(line)) continue;  // comments (the checklist, notes) may quote commands
        for (const char* cmdlet : changing)
            if (contains(line, cmdlet)) {
                INFO("line " << i + 1 << ": " << line);
                CHECK(contains(line, "-WhatIf:$DryRun"));
            }
        for (const char* step : steps)
            if (line.rfind(step, 0) == 0) {
                INFO("line " << i + 1 << ": " << line);
                // The comment block just above the step starts with "# Fixes ".
                std::size_t first = i;
                while (first > 0 && is_comment(lines[first - 1])) --first;
                REQUIRE(first < i);
                CHECK(lines[first].rfind("# Fixes ", 0) == 0);
            }
    }
    // Security defaults are explained, never changed; a policy update sends excludeGroups only.
    CHECK_FALSE(contains(script, "SecurityDefaultEnforcementPolicy"));
    CHECK_FALSE(contains(script, "isEnabled"));
    if (contains(script, "Update-MgIdentityConditionalAccessPolicy"))
        CHECK(contains(script, "$body = @{ conditions = @{ users = @{ excludeGroups = @($excluded + $HveGroup.Id) } } }"));
}

}  // namespace

// Their bytes are golden files of tests/golden_outputs_test.cpp (tests/golden/outputs/*.remediate.ps1);
// here every example tenant's script is parsed (check_script) and held to the safety properties.
TEST_CASE("remediation: the scripts for the example tenants parse and keep the safety properties") {
    for (const char* name : {"fabrikam-broken", "contoso-ready", "northwind-defaults"}) {
        INFO(name);
        check_safe(remediate(name));
    }
}

TEST_CASE("remediation: the broken tenant's script fixes policies, group and authentication policy, and lists the rest") {
    const std::string script = remediate("fabrikam-broken");
    // Exchange: the existing policy that allows Basic SMTP is reused for the account whose policy blocks it.
    CHECK(contains(script, "$SmtpPolicyName = 'Allow Basic Auth SMTP'"));
    CHECK(contains(script, "Set-HveAuthenticationPolicy 'mfp-floor2@fabrikam.com'"));
    CHECK(contains(script, "Add-HveGroupMember 'd1000000-0000-4000-8000-000000000006' 'mfp-floor2@fabrikam.com'"));
    CHECK(contains(script, "Connect-ExchangeOnline"));
    // Graph: the group exists in the snapshot, so it is read by id; the blocking policies get the exclusion.
    CHECK(contains(script, "$HveGroup = Get-MgGroup -GroupId 'e2000000-0000-4000-8000-000000000001'"));
    CHECK_FALSE(contains(script, "New-MgGroup -DisplayName"));
    CHECK(contains(script, "Add-HveGroupExclusion 'a9000000-0000-4000-8000-000000000001' 'Block legacy authentication - employees'"));
    CHECK(contains(script, "Add-HveGroupExclusion 'a9000000-0000-4000-8000-000000000005' 'Microsoft-managed: Block legacy authentication'"));
    CHECK_FALSE(contains(script, "'a9000000-0000-4000-8000-000000000006'"));  // disabled policy: nothing to do
    // The checklist: what needs a person.
    const auto checklist = script.substr(script.find("# ---- Checklist"));
    for (const char* item : {"[ ] hve-address-conflict (fail high) payroll-hve@fabrikam.com",
                             "[ ] hve-billing-policy (fail critical) payroll-hve@fabrikam.com",
                             "[ ] hve-account-cloud-only (fail high) backup-alerts@fabrikam.com",
                             "[ ] smtp-client-endpoint (fail high) MFP floor 2",
                             "[ ] smtp-client-recipients (fail high) CRM notifications",
                             "[ ] smtp-basic-auth-sign-ins (fail high) erp-mailer@fabrikam.com",
                             "[ ] tenant-conditional-access-licence (fail high)",
                             "[ ] hve-authentication-policy (review high) payroll-hve@fabrikam.com"}) {
        INFO(item);
        CHECK(contains(checklist, item));
    }
    CHECK(contains(checklist, "#       Fix: "));
}

TEST_CASE("remediation: security defaults are explained, never turned off") {
    const std::string script = remediate("northwind-defaults");
    CHECK(contains(script, "# ---- Security defaults: explained, never turned off by this script ----"));
    CHECK(contains(script, "Write-Warning 'Security defaults block the HVE accounts"));
    check_safe(script);
}

TEST_CASE("remediation: a ready tenant needs no change and no connection") {
    const std::string script = remediate("contoso-ready");
    CHECK(contains(script, "# Nothing for this script to change."));
    CHECK_FALSE(contains(script, "Connect-ExchangeOnline"));
    CHECK_FALSE(contains(script, "Connect-MgGraph"));
    CHECK_FALSE(contains(script, "#Requires"));
}

TEST_CASE("remediation: a missing exemption group is created before accounts join it and policies exclude it") {
    nlohmann::json doc = nlohmann::json::parse(testsupport::read_file(example("fabrikam-broken")));
    auto& groups = doc["graph"]["groups"];
    groups.erase(groups.begin());  // Exchange-HVEUserAccounts
    testsupport::TempFile file(doc.dump());
    auto r = run_cli({"remediate", file.path(), "--as-of", "2026-11-27", "--no-config"});
    REQUIRE(r.exitCode == 0);
    const std::string& script = r.out;
    check_script(script);
    const auto create = script.find("New-MgGroup -DisplayName $HveGroupName");
    const auto firstMember = script.find("Add-HveGroupMember '");
    const auto firstExclusion = script.find("Add-HveGroupExclusion '");
    REQUIRE(create != std::string::npos);
    REQUIRE(firstMember != std::string::npos);
    REQUIRE(firstExclusion != std::string::npos);
    CHECK(create < firstMember);
    CHECK(firstMember < firstExclusion);
    CHECK(contains(script, "Get-MgGroup -All -Filter \"displayName eq '$($HveGroupName -replace \"'\", \"''\")'\""));
    CHECK(contains(script, "-MailNickname 'Exchange-HVEUserAccounts'"));
    for (const char* id : {"d1000000-0000-4000-8000-000000000006", "d1000000-0000-4000-8000-000000000007",
                           "d1000000-0000-4000-8000-000000000008", "d1000000-0000-4000-8000-000000000009"})
        CHECK(contains(script, std::string("Add-HveGroupMember '") + id + "'"));
    check_safe(script);
}

TEST_CASE("remediation: the command writes to --output, and rejects bad input with exit 2") {
    testsupport::TempFile out("", ".ps1");
    auto r = run_cli({"remediate", example("fabrikam-broken"), "--as-of", "2026-11-27", "--output", out.path()});
    CHECK(r.exitCode == 0);
    CHECK(r.out.empty());
    CHECK(contains(testsupport::read_file(out.path()), "[switch]$Apply"));
    check_script(testsupport::read_file(out.path()));
    CHECK(run_cli({"remediate", "--help"}).exitCode == 0);
    CHECK(run_cli({"remediate"}).exitCode == 2);
    auto missing = run_cli({"remediate", "/nonexistent/snapshot.json"});
    CHECK(missing.exitCode == 2);
    CHECK(contains(missing.err, "/nonexistent/snapshot.json"));
    auto schedule = run_cli({"remediate", example("fabrikam-broken"), "--schedule", "2024-04"});
    CHECK(schedule.exitCode == 2);
    CHECK(contains(schedule.err, "2026-01"));
}

TEST_CASE("remediation: ps literals survive quotes in names") {
    nlohmann::json doc = nlohmann::json::parse(testsupport::read_file(example("fabrikam-broken")));
    doc["graph"]["conditionalAccessPolicies"][0]["displayName"] = "Block legacy auth (O'Brien's test)";
    testsupport::TempFile file(doc.dump());
    auto r = run_cli({"remediate", file.path(), "--as-of", "2026-11-27", "--no-config"});
    REQUIRE(r.exitCode == 0);
    CHECK(contains(r.out, "'Block legacy auth (O''Brien''s test)'"));
    check_script(r.out);
}

namespace {

// Hostile tenant text of one kind, around a tag (e.g. "ZQX3K1") repeated after every dangerous piece,
// so that any part of it that escapes its literal or comment shows up in code. No commas: some of these
// values also go into Exchange distinguished names.
std::string hostile(int kind, const std::string& tag) {
    switch (kind) {
        case 0:  // every single-quote character PowerShell knows, alone and doubled, at the end too
            return "q'" + tag + "\u2018" + tag + "\u2019" + tag + "\u201A" + tag + "\u201B" + tag + "''" + tag +
                   "\u2019\u2019" + tag + "'\u2019'";
        case 1:  // what would run if it escaped
            return "`" + tag + " $(Remove-Item -Recurse -Force C:\\) " + tag + " $env:USERPROFILE " + tag +
                   " ; Write-Host pwned " + tag + " | Out-Null #" + tag + " `n";
        case 2:  // every line break, PowerShell's (CR, LF) and other readers'
            return "a\n" + tag + "\r\n" + tag + "\r" + tag + "\u2028" + tag + "\u2029" + tag + "\u0085" + tag +
                   "\u000B\u000C" + tag + "\n";
        case 3:  // NUL, escape sequences, DEL, bidirectional overrides, BOM, TAB
            return std::string("n\0", 2) + tag + "\x1b[31m" + tag + "\x7f" + tag + "\u202E" + tag + "\u2066" + tag +
                   "\uFEFF" + tag + "\t" + tag;
        case 4:  // double quotes, comment and here-string markers
            return "\"" + tag + "\u201C" + tag + "\u201D" + tag + "\u201E" + tag + " #> " + tag + " <# " + tag + " @'\n" +
                   tag + "\n'@ @\"\n" + tag;
        case 5:  // lines that PowerShell reads specially in a comment
            return "x\nSIG # Begin signature block\n" + tag + "\n#requires -RunAsAdministrator\n" + tag +
                   "\nrequires -Version 99\n# SIG # Begin signature block\n" + tag;
        case 6: {  // very long, full of quotes
            std::string text;
            for (int i = 0; i < 3000; ++i) text += "\u2019'\u201B" + tag;
            return text;
        }
        default:  // ordinary non-ASCII names: kept as they are, in a UTF-8 script with a BOM
            return "Contoso\u2019s MFA \u2014 M\u00FCller Micha\u0142 \u2713 \U0001F600 " + tag;
    }
}
constexpr int kHostileKinds = 8;

std::string json_escaped(const std::string& text) {
    const std::string quoted = nlohmann::json(text).dump();
    return quoted.substr(1, quoted.size() - 2);
}

// Every place the fabrikam-broken tenant's text reaches the script, with the hostile value it gets.
struct Slots {
    std::string policyName, policyId, address, userId, groupName, groupId, authPolicy, client, tenantId;
};

Slots hostile_slots(int kind) {
    auto tag = [&](int slot) { return "ZQX" + std::to_string(slot) + "K" + std::to_string(kind) + "Q"; };
    return {hostile(kind, tag(1)),
            hostile(kind, tag(2)),
            hostile(kind, tag(3)) + "@fabrikam.com",
            hostile(kind, tag(4)),
            hostile(kind, tag(5)),
            hostile(kind, tag(6)),
            hostile(kind, tag(7)),
            hostile(kind, tag(8)),
            hostile(kind, tag(9))};
}

// The fabrikam-broken snapshot with each slot's text replaced everywhere, and the configuration that
// names the (renamed) exemption group.
struct HostileTenant {
    testsupport::TempDir dir;
    std::string snapshot, config;
};

void write_hostile_tenant(HostileTenant& tenant, const Slots& v, const std::string& folder, bool dropGroup) {
    std::string text = testsupport::read_file(example("fabrikam-broken"));
    const std::pair<const char*, const std::string*> replacements[] = {
        {"Block legacy authentication - employees", &v.policyName},
        {"a9000000-0000-4000-8000-000000000001", &v.policyId},
        {"mfp-floor2@fabrikam.com", &v.address},
        {"d1000000-0000-4000-8000-000000000006", &v.userId},
        {"Exchange-HVEUserAccounts", &v.groupName},
        {"e2000000-0000-4000-8000-000000000001", &v.groupId},
        {"Allow Basic Auth SMTP", &v.authPolicy},
        {"MFP floor 2", &v.client},
        {"2b7e1f3a-9c4d-4e5f-8a6b-1c2d3e4f5a6b", &v.tenantId}};
    for (const auto& [from, to] : replacements) {
        REQUIRE_MESSAGE(contains(text, from), from);
        replace_all(text, from, json_escaped(*to));
    }
    nlohmann::json doc = nlohmann::json::parse(text);
    if (dropGroup) {
        auto& groups = doc["graph"]["groups"];
        groups.erase(groups.begin());
    }
    const std::string folderPath = tenant.dir.file(folder);
    REQUIRE(std::filesystem::create_directory(folderPath));
    tenant.snapshot = folderPath + "/snapshot.json";
    testsupport::write_file(tenant.snapshot, doc.dump(2));
    tenant.config = tenant.dir.file("tenantscan.json");
    testsupport::write_file(tenant.config, nlohmann::json{{"configVersion", 1},
                                                          {"rules", {{"hve-exclusion-group", {{"parameters", {{"group", v.groupName}}}}}}}}
                                               .dump());
}

std::string without_bom(const std::string& script) {
    return script.rfind("\xEF\xBB\xBF", 0) == 0 ? script.substr(3) : script;
}

// Every tag in the script lies inside a single-quoted literal or a comment.
void check_tags_contained(const std::string& withBom, const Reading& reading) {
    const std::string script = without_bom(withBom);
    int found = 0;
    for (std::size_t at = script.find("ZQX"); at != std::string::npos; at = script.find("ZQX", at + 1)) {
        ++found;
        auto inside = [&](const std::vector<Span>& spans) {
            return std::any_of(spans.begin(), spans.end(), [&](const Span& s) { return s.begin < at && at + 3 <= s.end; });
        };
        if (!inside(reading.literals) && !inside(reading.comments)) {
            const std::size_t lineStart = script.rfind('\n', at) == std::string::npos ? 0 : script.rfind('\n', at) + 1;
            FAIL_CHECK("tenant text outside a literal or comment at byte " << at << ": "
                                                                          << script.substr(lineStart, 200));
            return;
        }
    }
    CHECK(found > 0);
}

// Runs `tenantscan remediate` on hostile input; checks the script as text and where its tags landed.
std::string remediate_hostile(const std::vector<std::string>& args) {
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    const Reading reading = check_text(r.out);
    check_tags_contained(r.out, reading);
    return r.out;
}

bool has_call(const std::vector<std::vector<std::string>>& calls, const std::vector<std::string>& expected) {
    return std::find(calls.begin(), calls.end(), expected) != calls.end();
}

}  // namespace

TEST_CASE("remediation: hostile tenant text stays inside literals that read back to it, or inside comments") {
    std::vector<std::string> scripts;
    for (int kind = 0; kind < kHostileKinds; ++kind) {
        CAPTURE(kind);
        const Slots v = hostile_slots(kind);
        HostileTenant tenant;
        // The snapshot's own path is in the script's header too: a folder name with line breaks and quotes.
        write_hostile_tenant(tenant, v, "snap\nZQX0K" + std::to_string(kind) + "Q\u2028'\u2019ZQX0K" + std::to_string(kind) + "Q",
                             false);
        const std::string withBom =
            remediate_hostile({"remediate", tenant.snapshot, "--as-of", "2026-11-27", "--config", tenant.config});
        const std::string script = without_bom(withBom);
        // Each value reads back to exactly the tenant's text, where the steps use it.
        CHECK(arguments_of(script, "$SmtpPolicyName = ") == std::vector<std::vector<std::string>>{{v.authPolicy}});
        CHECK(arguments_of(script, "$HveGroupName = ") == std::vector<std::vector<std::string>>{{v.groupName}});
        CHECK(arguments_of(script, "$HveGroup = Get-MgGroup -GroupId ") == std::vector<std::vector<std::string>>{{v.groupId}});
        CHECK(has_call(arguments_of(script, "Set-HveAuthenticationPolicy "), {v.address}));
        CHECK(has_call(arguments_of(script, "Add-HveGroupMember "), {v.userId, v.address}));
        CHECK(has_call(arguments_of(script, "Add-HveGroupExclusion "), {v.policyId, v.policyName}));
        check_safe(script);
        scripts.push_back(withBom);
    }
    parse_with_grammar(scripts);
}

TEST_CASE("remediation: a hostile exemption group name, created by the script, stays inside its literal") {
    std::vector<std::string> scripts;
    for (int kind = 0; kind < kHostileKinds; ++kind) {
        CAPTURE(kind);
        const Slots v = hostile_slots(kind);
        HostileTenant tenant;
        write_hostile_tenant(tenant, v, "snapshot", true);
        const std::string withBom =
            remediate_hostile({"remediate", tenant.snapshot, "--as-of", "2026-11-27", "--config", tenant.config});
        const std::string script = without_bom(withBom);
        CHECK(arguments_of(script, "$HveGroupName = ") == std::vector<std::vector<std::string>>{{v.groupName}});
        CHECK(contains(script, "New-MgGroup -DisplayName $HveGroupName"));
        check_safe(script);
        scripts.push_back(withBom);
    }
    parse_with_grammar(scripts);
}

TEST_CASE("remediation: security defaults' explanation names a hostile group only inside a comment") {
    std::vector<std::string> scripts;
    for (int kind = 0; kind < kHostileKinds; ++kind) {
        CAPTURE(kind);
        testsupport::TempDir dir;
        const std::string group = hostile(kind, "ZQX1K" + std::to_string(kind) + "Q");
        testsupport::write_file(dir.file("tenantscan.json"),
                                nlohmann::json{{"configVersion", 1},
                                               {"rules", {{"hve-exclusion-group", {{"parameters", {{"group", group}}}}}}}}
                                    .dump());
        const std::string script = remediate_hostile(
            {"remediate", example("northwind-defaults"), "--as-of", "2026-11-27", "--config", dir.file("tenantscan.json")});
        REQUIRE(contains(script, "# ---- Security defaults"));
        scripts.push_back(script);
    }
    parse_with_grammar(scripts);
}

