// `tenantscan remediate`: golden scripts for the example tenants, and the safety properties every
// script must have (dry run by default, each step commented, idempotent checks, security defaults
// and the rest of each policy left alone).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <tenantscan/remediation.hpp>
#include <tenantscan/scan.hpp>

#include "support.hpp"

using testsupport::run_cli;

namespace {

std::string example(const std::string& name) { return testsupport::source_dir() + "/examples/" + name + "/snapshot.json"; }

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
}

// The script with what depends on the checkout and the release replaced, so golden files are stable.
std::string normalised(std::string script) {
    replace_all(script, testsupport::source_dir(), "$SOURCE");
    replace_all(script, std::string("tenantscan ") + tenantscan::version() + " ", "tenantscan $VERSION ");
    return script;
}

std::string remediate(const std::string& name) {
    auto r = run_cli({"remediate", example(name), "--as-of", "2026-11-27", "--no-config"});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    return r.out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The safety properties, checked on any generated script.
void check_safe(const std::string& script) {
    const auto lines = lines_of(script);
    CHECK(contains(script, "[switch]$Apply"));
    CHECK(contains(script, "$DryRun = -not $Apply"));
    const char* changing[] = {"New-AuthenticationPolicy ", "Set-User ", "New-MgGroup ", "New-MgGroupMemberByRef ",
                              "Update-MgIdentityConditionalAccessPolicy ", "Set-CASMailbox ", "Set-Mailbox "};
    const char* steps[] = {"Set-HveAuthenticationPolicy '", "Add-HveGroupMember '", "Add-HveGroupExclusion '"};
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

TEST_CASE("remediation: the scripts for the example tenants match their golden files") {
    const bool update = std::getenv("TENANTSCAN_UPDATE_GOLDEN") != nullptr;
    for (const char* name : {"fabrikam-broken", "contoso-ready", "northwind-defaults"}) {
        INFO(name);
        const std::string script = normalised(remediate(name));
        const std::string golden = testsupport::source_dir() + "/tests/golden/remediate/" + name + ".ps1";
        if (update) std::ofstream(golden, std::ios::binary) << script;
        CHECK(script == testsupport::read_file(golden));
        check_safe(script);
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
}
