#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

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
    json graph = {{"conditionalAccessPolicies", std::move(policies)},
                  {"securityDefaults", {{"isEnabled", false}}},
                  {"users", {user(kScannerId, kScanner), user(kAliceId, "alice@contoso.com")}},
                  // The scanner is in the exemption group through a nested group.
                  {"groups",
                   {group(kHveGroupId, "Exchange-HVEUserAccounts", {}, {kDevicesGroupId}),
                    group(kDevicesGroupId, "HVE devices", {kScannerId})}},
                  {"namedLocations", json::array()}};
    graph.update(extra);
    return graph;
}

std::vector<Finding> scan(const json& document) {
    return run_rule(tenantscan::rules::make_hve_conditional_access_rule(), document);
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

    SUBCASE("no sign-in logs: the location is unknown → review naming it") {
        auto findings = scan(tenant(base_graph({blockOutsideOffice}, {{"namedLocations", {office}}}), exchange_with_scanner()));
        Finding f = finding_for(findings, kScanner);
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "'Block legacy outside the office'"));
        CHECK(contains(f.message, "location"));
        CHECK(f.evidence["undeterminedPolicies"][0]["id"] == "c1000000-0000-4000-8000-000000000006");
        CHECK(contains(f.evidence["signInLocations"]["note"].get<std::string>(), "not collected"));
        CHECK(contains(f.remediation, "/auditLogs/signIns"));
    }
    SUBCASE("sign-ins only from the office → pass") {
        auto findings = scan(tenant(base_graph({blockOutsideOffice},
                                               {{"namedLocations", {office}},
                                                {"signIns", {sign_in(kScannerId, kScanner, "203.0.113.7", "DE")}}}),
                                    exchange_with_scanner()));
        Finding f = finding_for(findings, kScanner);
        CHECK(f.status == Status::Pass);
        CHECK(contains(f.message, "203.0.113.7 (DE)"));
        CHECK(f.evidence["signInLocations"]["signInsMatched"] == 1);
    }
    SUBCASE("a sign-in (matched by UPN) from elsewhere → fail naming where") {
        auto findings = scan(tenant(base_graph({blockOutsideOffice},
                                               {{"namedLocations", {office}},
                                                {"signIns",
                                                 {sign_in(kScannerId, kScanner, "203.0.113.7", "DE"),
                                                  sign_in("", "Scanner@Contoso.com", "198.51.100.9", "FR"),
                                                  sign_in(kAliceId, "alice@contoso.com", "192.0.2.1", "US")}}}),
                                    exchange_with_scanner()));
        Finding f = finding_for(findings, kScanner);
        CHECK(f.status == Status::Fail);
        CHECK(f.evidence["signInLocations"]["signInsMatched"] == 2);
        CHECK(f.evidence["signInLocations"]["evaluated"].size() == 2);
        CHECK(f.evidence["blockingPolicies"][0]["locations"] == json::array({"198.51.100.9 (FR)"}));
    }
    SUBCASE("sign-in logs collected but none for this account → review, and the evidence says so") {
        auto findings = scan(tenant(base_graph({blockOutsideOffice},
                                               {{"namedLocations", {office}},
                                                {"signIns", {sign_in(kAliceId, "alice@contoso.com", "192.0.2.1", "US")}}}),
                                    exchange_with_scanner()));
        Finding f = finding_for(findings, kScanner);
        CHECK(f.status == Status::Review);
        CHECK(contains(f.evidence["signInLocations"]["note"].get<std::string>(), "no sign-in of this account"));
    }
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
    json graph = base_graph({block_legacy_policy(kBlockLegacyId, "Block legacy authentication")});
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
    Finding f = single(scan(tenant(graph, exchange_with_scanner())));
    CHECK(f.status == Status::Error);
    CHECK(contains(f.message, "/graph/groups"));
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
