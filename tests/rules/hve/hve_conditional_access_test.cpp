#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

#include <optional>

#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>

using namespace rulestest;

namespace {

const std::string kScannerId = "a1000000-0000-4000-8000-000000000001";
const std::string kScanner = "scanner@contoso.com";
const std::string kAliceId = "a1000000-0000-4000-8000-000000000002";
const std::string kHveGroupId = "b1000000-0000-4000-8000-000000000001";
const std::string kDevicesGroupId = "b1000000-0000-4000-8000-000000000002";
const std::string kBlockLegacyId = "c1000000-0000-4000-8000-000000000001";

json exchange_with_scanner() { return {{"hveAccounts", {hve_account(kScannerId, kScanner)}}}; }

json base_graph(json policies, json extra = json::object()) {
    json graph = ca_graph(std::move(policies), json::array({user(kScannerId, kScanner), user(kAliceId, "alice@contoso.com")}),
                          // The scanner is in the exemption group through a nested group.
                          json::array({group(kHveGroupId, "Exchange-HVEUserAccounts", {}, {kDevicesGroupId}),
                                       group(kDevicesGroupId, "HVE devices", {kScannerId})}));
    graph.update(extra);
    return graph;
}

std::vector<Finding> scan(const json& document) {
    return run_rule(tenantscan::rules::make_hve_conditional_access_rule(), document);
}

// What the engine (as whatif) says of a sign-in of the scanner in the document (the policies it
// returns point into a snapshot that is gone: read only the outcome and its reasons).
tenantscan::WhatIfResult scanner_what_if(const json& document) {
    const auto snapshot = testsupport::snapshot_from(document);
    const tenantscan::Directory directory(snapshot);
    const tenantscan::ConditionalAccessEngine engine(snapshot, directory);
    tenantscan::SignInContext signIn;
    signIn.userId = kScannerId;
    return engine.evaluate(signIn);
}

}  // namespace

TEST_CASE("hve-conditional-access: registered, and its doc page matches its metadata") {
    check_registered_and_documented("hve-conditional-access", "rules/hve/hve_conditional_access.md");
}

TEST_CASE("hve-conditional-access: legacy block policy blocks the account → fail") {
    auto findings = scan(tenant(base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication")}),
                                exchange_with_scanner()));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Fail);
    CHECK(f.severity == Severity::High);
    CHECK(f.subject.kind == "hveAccount");
    CHECK(f.subject.id == kScannerId);
    CHECK(contains(f.message, "'Block legacy authentication' (block)"));
    const json& blocking = f.evidence.at("blockingPolicies");
    REQUIRE(blocking.size() == 1);
    CHECK(blocking[0]["id"] == kBlockLegacyId);
    CHECK(blocking[0]["displayName"] == "Block legacy authentication");
    CHECK(blocking[0]["state"] == "enabled");
    CHECK(blocking[0]["controls"] == json::array({"block"}));
    CHECK(blocking[0]["locations"] == json::array({"unknown location"}));
    CHECK(f.evidence["signInLocations"]["signInsCollected"] == false);
    CHECK(f.evidence["entraUser"]["id"] == kScannerId);
    // The fix names the group (with its id), the policy (with its id) and the account.
    CHECK(contains(f.remediation, "'Exchange-HVEUserAccounts' (id " + kHveGroupId + ")"));
    CHECK(contains(f.remediation, "'Block legacy authentication' (id " + kBlockLegacyId + ")"));
    CHECK(contains(f.remediation, "conditions.users.excludeGroups"));
    CHECK(contains(f.remediation, kScanner));
}

TEST_CASE("hve-conditional-access: MFA for all client apps blocks a Basic client → fail naming the mfa control") {
    auto findings = scan(tenant(base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "enabled",
                                                                {kHveGroupId}),
                                            require_mfa_policy("c1000000-0000-4000-8000-000000000002",
                                                               "Require MFA for all users")}),
                                exchange_with_scanner()));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Fail);
    CHECK(contains(f.message, "'Require MFA for all users' (mfa)"));
    CHECK_FALSE(contains(f.message, "Block legacy authentication"));
    REQUIRE(f.evidence["blockingPolicies"].size() == 1);
    CHECK(f.evidence["blockingPolicies"][0]["controls"] == json::array({"mfa"}));
}

TEST_CASE("hve-conditional-access: 'block unknown platforms' applies to a Basic client → fail with the assumption stated") {
    json conditions = {{"users", users_condition()},
                       {"applications", {{"includeApplications", {"All"}}}},
                       {"clientAppTypes", {"all"}},
                       {"platforms",
                        {{"includePlatforms", {"all"}},
                         {"excludePlatforms", {"android", "iOS", "windows", "macOS", "linux"}}}}};
    auto findings = scan(tenant(base_graph({policy("c1000000-0000-4000-8000-000000000003", "Block unknown platforms",
                                                   "enabled", conditions, grant({"block"}))}),
                                exchange_with_scanner()));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Fail);
    CHECK(contains(f.message, "'Block unknown platforms'"));
    CHECK_FALSE(f.evidence["assumptions"].empty());
    CHECK(contains(f.evidence["assumptions"].dump(), "platform"));
}

TEST_CASE("hve-conditional-access: the account is excluded through the nested exemption group → pass") {
    auto findings = scan(tenant(base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "enabled",
                                                                {kHveGroupId}),
                                            // Report-only and disabled policies are not enforced.
                                            block_legacy_policy("c1000000-0000-4000-8000-000000000004", "Pilot block",
                                                                "enabledForReportingButNotEnforced"),
                                            block_legacy_policy("c1000000-0000-4000-8000-000000000005", "Old block",
                                                                "disabled")}),
                                exchange_with_scanner()));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Pass);
    CHECK(contains(f.message, "(sign-in location unknown)"));
    CHECK(f.evidence["blockingPolicies"].empty());
    CHECK(f.evidence["undeterminedPolicies"].empty());
    CHECK(f.remediation.empty());
}

TEST_CASE("hve-conditional-access: a location-dependent block is decided per sign-in location") {
    json conditions = {{"users", users_condition()},
                       {"applications", {{"includeApplications", {"All"}}}},
                       {"clientAppTypes", {"other"}},
                       {"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {"d1000000-0000-4000-8000-000000000001"}}}}};
    json blockOutsideOffice = policy("c1000000-0000-4000-8000-000000000006", "Block legacy outside the office", "enabled",
                                     conditions, grant({"block"}));
    json office = ip_location("d1000000-0000-4000-8000-000000000001", "Head office", {"203.0.113.0/24"});
    // The scanner's finding with the office as a named location and these sign-ins (none: not collected).
    auto scanner_finding = [&](std::optional<json> signIns) {
        json extra = {{"namedLocations", {office}}};
        if (signIns) extra["signIns"] = std::move(*signIns);
        return finding_for(scan(tenant(base_graph({blockOutsideOffice}, extra), exchange_with_scanner())), kScanner);
    };

    SUBCASE("no sign-in logs: the location is unknown → review naming it") {
        Finding f = scanner_finding(std::nullopt);
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "'Block legacy outside the office'"));
        CHECK(contains(f.message, "location"));
        CHECK(f.evidence["undeterminedPolicies"][0]["id"] == "c1000000-0000-4000-8000-000000000006");
        CHECK(contains(f.evidence["signInLocations"]["note"].get<std::string>(), "not collected"));
        CHECK(contains(f.remediation, "/auditLogs/signIns"));
    }
    SUBCASE("sign-ins only from the office → pass") {
        Finding f = scanner_finding(json::array({sign_in(kScannerId, kScanner, "203.0.113.7", "DE")}));
        CHECK(f.status == Status::Pass);
        CHECK(contains(f.message, "203.0.113.7 (DE)"));
        CHECK(f.evidence["signInLocations"]["signInsMatched"] == 1);
    }
    SUBCASE("a sign-in (matched by UPN) from elsewhere → fail naming where") {
        Finding f = scanner_finding(json::array({sign_in(kScannerId, kScanner, "203.0.113.7", "DE"),
                                                 sign_in("", "Scanner@Contoso.com", "198.51.100.9", "FR"),
                                                 sign_in(kAliceId, "alice@contoso.com", "192.0.2.1", "US")}));
        CHECK(f.status == Status::Fail);
        CHECK(f.evidence["signInLocations"]["signInsMatched"] == 2);
        CHECK(f.evidence["signInLocations"]["evaluated"].size() == 2);
        CHECK(f.evidence["blockingPolicies"][0]["locations"] == json::array({"198.51.100.9 (FR)"}));
    }
    SUBCASE("sign-in logs collected but none for this account → review, and the evidence says so") {
        Finding f = scanner_finding(json::array({sign_in(kAliceId, "alice@contoso.com", "192.0.2.1", "US")}));
        CHECK(f.status == Status::Review);
        CHECK(contains(f.evidence["signInLocations"]["note"].get<std::string>(),
                       "no 'Authenticated SMTP' sign-in of this account"));
    }
    // Only SMTP AUTH sign-ins say where the device is: the account's browser sign-in from the office
    // says nothing about the printer's address (the sign-in log's clientAppUsed tells them apart).
    SUBCASE("only a browser sign-in of the account, from the office → the device's location is unknown → review") {
        json browser = sign_in(kScannerId, kScanner, "203.0.113.7", "DE");
        browser["clientAppUsed"] = "Browser";
        Finding f = scanner_finding(json::array({browser}));
        CHECK(f.status == Status::Review);
        CHECK(f.evidence["signInLocations"]["signInsMatched"] == 0);
        CHECK(contains(f.message, "location"));
    }
    SUBCASE("an office browser sign-in does not hide an SMTP sign-in from elsewhere → fail") {
        json browser = sign_in(kScannerId, kScanner, "203.0.113.7", "DE");
        browser["clientAppUsed"] = "Browser";
        Finding f = scanner_finding(json::array({browser, sign_in(kScannerId, kScanner, "198.51.100.9", "FR")}));
        CHECK(f.status == Status::Fail);
        CHECK(f.evidence["signInLocations"]["evaluated"] == json::array({"198.51.100.9 (FR)"}));
    }
    // A sign-in names its user by userId: Alice's sign-in that carries the scanner's UPN is Alice's.
    SUBCASE("a sign-in with the account's UPN but another user's userId is not the account's → review") {
        Finding f = scanner_finding(json::array({sign_in(kAliceId, kScanner, "203.0.113.7", "DE")}));
        CHECK(f.status == Status::Review);
        CHECK(f.evidence["signInLocations"]["signInsMatched"] == 0);
    }
}

// Microsoft's what-if and this rule answer the same question: with security defaults not
// collected and no enabled policy to prove them off, neither may say "allowed".
TEST_CASE("hve-conditional-access: security defaults not collected and no enabled policy → review, as whatif says undetermined") {
    json graph = base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication (off)", "disabled")});
    graph.erase("securityDefaults");
    const json doc = tenant(graph, exchange_with_scanner());
    Finding f = finding_for(scan(doc), kScanner);
    CHECK(f.status == Status::Review);
    CHECK(contains(f.message, "security defaults"));
    CHECK(f.evidence["securityDefaultsUnknown"] == true);
    CHECK(contains(f.remediation, "identitySecurityDefaultsEnforcementPolicy"));

    const auto whatIf = scanner_what_if(doc);
    CHECK(whatIf.outcome == tenantscan::AccessOutcome::Undetermined);
    CHECK(whatIf.undeterminedBy == std::vector<std::string>{"security defaults"});
}

TEST_CASE("hve-conditional-access: security defaults not collected, an enabled policy proves them off → decided") {
    json graph = base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "enabled", {kHveGroupId})});
    graph.erase("securityDefaults");
    Finding f = finding_for(scan(tenant(graph, exchange_with_scanner())), kScanner);
    CHECK(f.status == Status::Pass);
    CHECK(f.evidence["securityDefaultsUnknown"] == false);
}

// Entra allows no enabled Conditional Access policy while security defaults are on.
TEST_CASE("hve-conditional-access: security defaults on while a policy is enabled → the snapshot is inconsistent → error") {
    json graph = base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "enabled", {kHveGroupId})});
    graph["securityDefaults"]["isEnabled"] = true;
    const json doc = tenant(graph, exchange_with_scanner());
    Finding f = single(scan(doc));
    CHECK(f.status == Status::Error);
    CHECK(f.subject.kind == "tenant");
    CHECK(contains(f.message, "inconsistent"));
    CHECK(contains(f.message, "'Block legacy authentication' (id " + kBlockLegacyId + ")"));
    CHECK_FALSE(f.remediation.empty());

    // whatif does not pick one either: the policy excludes the account, so security defaults decide, and they are unknown.
    const auto whatIf = scanner_what_if(doc);
    CHECK_FALSE(whatIf.blockedBySecurityDefaults);
    CHECK(whatIf.outcome == tenantscan::AccessOutcome::Undetermined);
    CHECK(std::any_of(whatIf.assumptions.begin(), whatIf.assumptions.end(),
                      [](const std::string& a) { return contains(a, "inconsistent"); }));
}

// A group exported without its members (Get-MgGroup without -ExpandProperty members) is not an
// empty group: a block that targets it may apply to the account.
TEST_CASE("hve-conditional-access: a block targeting a group exported without members → review, not pass") {
    json devices = {{"id", "b1000000-0000-4000-8000-0000000000aa"}, {"displayName", "All devices"}, {"securityEnabled", true}};
    json conditions = {{"users", users_condition({}, {})},
                       {"applications", {{"includeApplications", {"All"}}}},
                       {"clientAppTypes", {"other"}}};
    conditions["users"]["includeGroups"] = {"b1000000-0000-4000-8000-0000000000aa"};
    json blockDevices = policy("c1000000-0000-4000-8000-000000000009", "Block legacy for devices", "enabled", conditions,
                               grant({"block"}));
    json graph = base_graph({blockDevices});
    graph["groups"].push_back(devices);
    Finding f = finding_for(scan(tenant(graph, exchange_with_scanner())), kScanner);
    CHECK(f.status == Status::Review);
    CHECK(contains(f.message, "group membership"));
    CHECK(contains(f.evidence["undeterminedPolicies"][0]["details"].dump(), "exported without its members"));
}

TEST_CASE("hve-conditional-access: the account's Entra user is missing, its exclusion group cannot be checked → review") {
    json graph = base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "enabled", {kHveGroupId})});
    graph["users"] = {user(kAliceId, "alice@contoso.com")};
    auto findings = scan(tenant(graph, exchange_with_scanner()));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Review);
    CHECK(contains(f.message, "not in /graph/users"));
    CHECK(f.evidence["entraUser"].is_null());
}

TEST_CASE("hve-conditional-access: security defaults on → not-applicable per account, pointing at hve-security-defaults") {
    // Entra allows no enabled policy beside security defaults: the block is off.
    json graph = base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "disabled")});
    graph["securityDefaults"]["isEnabled"] = true;
    auto findings = scan(tenant(graph, exchange_with_scanner()));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::NotApplicable);
    CHECK(contains(f.message, "hve-security-defaults"));
}

TEST_CASE("hve-conditional-access: no HVE accounts → one tenant finding, not-applicable") {
    auto findings = scan(tenant(base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication")}),
                                {{"hveAccounts", json::array()}}));
    Finding f = single(findings);
    CHECK(f.status == Status::NotApplicable);
    CHECK(f.subject.kind == "tenant");
    CHECK(f.subject.id == kTenantId);
}

TEST_CASE("hve-conditional-access: a needed section is missing → error naming it") {
    json graph = base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication")});
    graph.erase("groups");
    check_section_missing(scan(tenant(graph, exchange_with_scanner())), "/graph/groups");
}

TEST_CASE("hve-conditional-access: several accounts each get their own verdict") {
    // The first account is explained in detail; the others are screened with the engine's fast path
    // and explained only when a policy blocks them.
    const std::string kAlarmId = "a1000000-0000-4000-8000-000000000003", kAlarm = "alarm@contoso.com";
    const std::string kBadgeId = "a1000000-0000-4000-8000-000000000004", kBadge = "badge@contoso.com";
    json graph = base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "enabled", {kHveGroupId})});
    graph["users"].push_back(user(kAlarmId, kAlarm));
    graph["users"].push_back(user(kBadgeId, kBadge));
    graph["groups"][1]["members"].push_back({{"@odata.type", "#microsoft.graph.user"}, {"id", kAlarmId}});
    json exchange = {{"hveAccounts", {hve_account(kScannerId, kScanner), hve_account(kAlarmId, kAlarm),
                                      hve_account(kBadgeId, kBadge)}}};
    auto findings = scan(tenant(graph, exchange));
    REQUIRE(findings.size() == 3);
    CHECK(finding_for(findings, kScanner).status == Status::Pass);
    Finding alarm = finding_for(findings, kAlarm);
    CHECK(alarm.status == Status::Pass);
    CHECK_FALSE(alarm.evidence["assumptions"].empty());
    Finding badge = finding_for(findings, kBadge);
    CHECK(badge.status == Status::Fail);
    CHECK(badge.evidence["blockingPolicies"][0]["id"] == kBlockLegacyId);
    CHECK(badge.evidence["assumptions"] == alarm.evidence["assumptions"]);
}
