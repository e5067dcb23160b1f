#include <fmt/format.h>

#include "rules/rule_test_support.hpp"
#include "tenant/tenant_rules.hpp"

using namespace rulestest;

namespace {

const std::string kAliceId = "a6000000-0000-4000-8000-000000000001";
const std::string kBobId = "a6000000-0000-4000-8000-000000000002";
const std::string kBreakGlassId = "a6000000-0000-4000-8000-000000000003";
const std::string kScannerId = "a6000000-0000-4000-8000-000000000004";
const std::string kFormerId = "a6000000-0000-4000-8000-000000000005";
const std::string kHveGroupId = "b6000000-0000-4000-8000-000000000001";
const std::string kBreakGlassGroupId = "b6000000-0000-4000-8000-000000000002";
const std::string kSalesGroupId = "b6000000-0000-4000-8000-000000000003";
const std::string kBlockLegacyId = "c6000000-0000-4000-8000-000000000001";

json users() {
    return {user(kAliceId, "alice@contoso.com"), user(kBobId, "bob@contoso.com"),
            user(kBreakGlassId, "breakglass@contoso.com"), user(kScannerId, "scanner@contoso.com"),
            user(kFormerId, "former@contoso.com", {{"accountEnabled", false}})};
}

json groups() {
    return {group(kHveGroupId, "Exchange-HVEUserAccounts", {kScannerId}),
            group(kBreakGlassGroupId, "Break glass", {kBreakGlassId}), group(kSalesGroupId, "Sales", {kAliceId})};
}

json graph_with(json policies, bool securityDefaults = false) {
    return ca_graph(std::move(policies), users(), groups(), securityDefaults);
}

json exchange() { return {{"hveAccounts", {hve_account(kScannerId, "scanner@contoso.com")}}}; }

std::vector<Finding> scan(const json& document) {
    return run_rule(tenantscan::rules::make_tenant_legacy_auth_protection_rule(), document);
}

}  // namespace

TEST_CASE("tenant-legacy-auth-protection: registered, and its doc page matches its metadata") {
    check_registered_and_documented("tenant-legacy-auth-protection", "rules/tenant/tenant_legacy_auth_protection.md");
}

TEST_CASE("tenant-legacy-auth-protection: security defaults on → pass") {
    Finding f = single(scan(tenant(graph_with(json::array(), true), exchange())));
    CHECK(f.status == Status::Pass);
    CHECK(f.subject.kind == "tenant");
    CHECK(contains(f.message, "Security defaults are enabled"));
}

TEST_CASE("tenant-legacy-auth-protection: neither security defaults nor a legacy block → critical fail") {
    // Report-only, disabled and browser-only policies do not block a legacy client.
    json browserOnly = policy("c6000000-0000-4000-8000-000000000009", "MFA in browsers", "enabled",
                              {{"users", users_condition()},
                               {"applications", {{"includeApplications", {"All"}}}},
                               {"clientAppTypes", {"browser"}}},
                              grant({"mfa"}));
    Finding f = single(scan(tenant(graph_with({block_legacy_policy(kBlockLegacyId, "Block legacy authentication",
                                                                   "enabledForReportingButNotEnforced"),
                                               block_legacy_policy("c6000000-0000-4000-8000-000000000008", "Old block",
                                                                   "disabled"),
                                               browserOnly}),
                                   exchange())));
    CHECK(f.status == Status::Fail);
    CHECK(f.severity == Severity::Critical);
    CHECK(f.message ==
          "Neither security defaults nor Conditional Access block legacy authentication: a serious security gap.");
    CHECK(f.evidence["legacyBlockingPolicies"].empty());
    CHECK(contains(f.remediation, "0b2282f9-2862-4178-88b5-d79340b36cb8"));
    CHECK(contains(f.remediation, "Exchange ActiveSync clients and Other clients"));
    CHECK(contains(f.remediation, "'Exchange-HVEUserAccounts'"));
}

TEST_CASE("tenant-legacy-auth-protection: every enabled user blocked, HVE accounts exempt → pass") {
    SUBCASE("by a legacy block") {
        Finding f = single(scan(tenant(graph_with({block_legacy_policy(kBlockLegacyId, "Block legacy authentication",
                                                                       "enabled", {kHveGroupId})}),
                                       exchange())));
        CHECK(f.status == Status::Pass);
        CHECK(f.message == "Conditional Access blocks legacy authentication for all 3 enabled users (HVE accounts aside).");
        const json& counts = f.evidence["users"];
        CHECK(counts["inDirectory"] == 5);
        CHECK(counts["disabled"] == 1);
        CHECK(counts["hveAccounts"] == 1);
        CHECK(counts["evaluated"] == 3);
        CHECK(counts["blocked"] == 3);
        CHECK(f.evidence["legacyBlockingPolicies"][0]["id"] == kBlockLegacyId);
        CHECK(f.evidence["legacyBlockingPolicies"][0]["usersBlocked"] == 3);
    }
    SUBCASE("by MFA for all client apps (a legacy client cannot do MFA)") {
        Finding f = single(scan(tenant(graph_with({require_mfa_policy("c6000000-0000-4000-8000-000000000002",
                                                                      "Require MFA for all users", "enabled",
                                                                      {kHveGroupId})}),
                                       exchange())));
        CHECK(f.status == Status::Pass);
    }
}

TEST_CASE("tenant-legacy-auth-protection: users unblocked only because a policy excludes them → review listing them") {
    Finding f = single(scan(tenant(graph_with({block_legacy_policy(kBlockLegacyId, "Block legacy authentication",
                                                                   "enabled", {kHveGroupId, kBreakGlassGroupId})}),
                                   exchange())));
    CHECK(f.status == Status::Review);
    CHECK(f.severity == Severity::Critical);
    CHECK(f.message == "1 of 3 enabled users are not blocked from legacy authentication only because a policy excludes them.");
    const json& excluded = f.evidence["excluded"];
    CHECK(excluded["count"] == 1);
    REQUIRE(excluded["sample"].size() == 1);
    CHECK(excluded["sample"][0]["userPrincipalName"] == "breakglass@contoso.com");
    CHECK(excluded["sample"][0]["policyId"] == kBlockLegacyId);
    CHECK(excluded["sample"][0]["excludedBy"] == "group 'Break glass' (" + kBreakGlassGroupId + ")");
    CHECK(excluded["byExclusion"][0]["users"] == 1);
    CHECK(excluded["byExclusion"][0]["policyName"] == "Block legacy authentication");
    CHECK(contains(f.remediation, "excluded.byExclusion"));
}

TEST_CASE("tenant-legacy-auth-protection: excluded break-glass accounts listed in the parameter are accepted") {
    const json document = tenant(graph_with({block_legacy_policy(kBlockLegacyId, "Block legacy authentication",
                                                                 "enabled", {kHveGroupId, kBreakGlassGroupId})}),
                                 exchange());
    auto with_break_glass = [&](json value) {
        tenantscan::ScanOptions options;
        options.parameters["tenant-legacy-auth-protection.breakGlass"] = std::move(value);
        return single(run_rule(tenantscan::rules::make_tenant_legacy_auth_protection_rule(), document, options));
    };
    SUBCASE("by group display name (case-insensitive), group id, UPN or user id") {
        for (const json& value : {json{"break GLASS"}, json{kBreakGlassGroupId}, json{"breakglass@contoso.com"},
                                  json{kBreakGlassId}}) {
            CAPTURE(value.dump());
            Finding f = with_break_glass(value);
            CHECK(f.status == Status::Pass);
            CHECK(f.message ==
                  "Conditional Access blocks legacy authentication for all 2 enabled users (HVE accounts and 1 "
                  "break-glass accounts aside).");
            CHECK(f.evidence["users"]["breakGlass"] == 1);
            CHECK(f.evidence["breakGlass"]["accounts"] == 1);
            REQUIRE(f.evidence["breakGlass"]["accepted"]["sample"].size() == 1);
            CHECK(f.evidence["breakGlass"]["accepted"]["sample"][0]["userPrincipalName"] == "breakglass@contoso.com");
            CHECK(f.evidence["breakGlass"]["accepted"]["sample"][0]["excludedBy"] ==
                  "group 'Break glass' (" + kBreakGlassGroupId + ")");
        }
    }
    SUBCASE("a break-glass entry only accepts its own accounts: others excluded with them still need review") {
        Finding f = with_break_glass(json{"alice@contoso.com"});
        CHECK(f.status == Status::Review);
        CHECK(f.evidence["excluded"]["sample"][0]["userPrincipalName"] == "breakglass@contoso.com");
    }
    SUBCASE("an entry that matches nobody is named in the message and the evidence") {
        Finding f = with_break_glass(json{"Break glass", "emergency@contoso.com"});
        CHECK(f.status == Status::Pass);
        CHECK(contains(f.message, "Break-glass entries that match no user or group: 'emergency@contoso.com'."));
        CHECK(f.evidence["breakGlass"]["unresolved"] == json{"emergency@contoso.com"});
    }
    SUBCASE("a value that is not an array of strings → error naming the parameter") {
        Finding f = with_break_glass("Break glass");
        CHECK(f.status == Status::Error);
        CHECK(contains(f.message, "tenant-legacy-auth-protection.breakGlass must be an array of strings"));
    }
}

TEST_CASE("tenant-legacy-auth-protection: users no blocking policy targets → fail listing them") {
    json salesOnly = block_legacy_policy(kBlockLegacyId, "Block legacy authentication for Sales");
    salesOnly["conditions"]["users"] = {{"includeGroups", {kSalesGroupId}}};
    Finding f = single(scan(tenant(graph_with({salesOnly}), exchange())));
    CHECK(f.status == Status::Fail);
    CHECK(f.severity == Severity::Critical);
    CHECK(f.message == "2 of 3 enabled users are not targeted by any Conditional Access policy that blocks legacy "
                       "authentication.");
    CHECK(f.evidence["notTargeted"]["count"] == 2);
    CHECK(f.evidence["notTargeted"]["sample"] ==
          json({{{"id", kBobId}, {"userPrincipalName", "bob@contoso.com"}},
                {{"id", kBreakGlassId}, {"userPrincipalName", "breakglass@contoso.com"}}}));
    CHECK(contains(f.remediation, "'Block legacy authentication for Sales' (id " + kBlockLegacyId + ")"));
}

TEST_CASE("tenant-legacy-auth-protection: a block that depends on the sign-in location → review counting those users") {
    json conditions = {{"users", users_condition({kHveGroupId})},
                       {"applications", {{"includeApplications", {"All"}}}},
                       {"clientAppTypes", {"exchangeActiveSync", "other"}},
                       {"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {"AllTrusted"}}}}};
    json graph = graph_with({policy(kBlockLegacyId, "Block legacy outside trusted networks", "enabled", conditions,
                                    grant({"block"}))});
    graph["namedLocations"] = {ip_location("d6000000-0000-4000-8000-000000000001", "Office", {"203.0.113.0/24"})};
    Finding f = single(scan(tenant(graph, exchange())));
    CHECK(f.status == Status::Review);
    CHECK(f.message == "Whether legacy authentication is blocked for 3 of 3 enabled users depends on input the "
                       "snapshot does not give (location).");
    CHECK(f.evidence["undetermined"]["count"] == 3);
    CHECK(f.evidence["undetermined"]["byUnknown"]["location"] == 3);
    CHECK(f.evidence["undetermined"]["sample"][0]["policyId"] == kBlockLegacyId);
}

TEST_CASE("tenant-legacy-auth-protection: evidence stays bounded: counts plus the first 20 users by UPN") {
    json manyUsers = json::array();
    for (int i = 0; i < 50; ++i)
        manyUsers.push_back(user(fmt::format("a6100000-0000-4000-8000-{:012d}", i), fmt::format("user{:02d}@contoso.com", 49 - i)));
    json onlyNobody = block_legacy_policy(kBlockLegacyId, "Block legacy authentication for Sales");
    onlyNobody["conditions"]["users"] = {{"includeGroups", {kSalesGroupId}}};
    json graph = graph_with({onlyNobody});
    graph["users"] = manyUsers;
    Finding f = single(scan(tenant(graph, {{"hveAccounts", json::array()}})));
    CHECK(f.status == Status::Fail);
    CHECK(f.evidence["notTargeted"]["count"] == 50);
    const json& sample = f.evidence["notTargeted"]["sample"];
    REQUIRE(sample.size() == 20);
    CHECK(sample[0]["userPrincipalName"] == "user00@contoso.com");
    CHECK(sample[19]["userPrincipalName"] == "user19@contoso.com");
    CHECK(f.evidence["sampleSize"] == 20);
}

TEST_CASE("tenant-legacy-auth-protection: HVE accounts not collected → evaluated like everyone, and the evidence says so") {
    Finding f = single(scan(tenant(graph_with({block_legacy_policy(kBlockLegacyId, "Block legacy authentication",
                                                                   "enabled", {kHveGroupId})}),
                                   json::object())));
    CHECK(f.status == Status::Review);  // the scanner, no longer known as an HVE account, is excluded
    CHECK(f.evidence["users"]["hveAccounts"] == 0);
    CHECK(contains(f.evidence["assumptions"].dump(), "/exchange/hveAccounts was not collected"));
}

TEST_CASE("tenant-legacy-auth-protection: security defaults not collected → error naming the section") {
    json graph = graph_with(json::array());
    graph.erase("securityDefaults");
    check_section_missing(scan(tenant(graph, exchange())), "/graph/securityDefaults");
}

// Microsoft's guidance (and its 'Block legacy authentication' template) targets All resources: a
// block limited to Exchange Online or Office 365 leaves legacy sign-ins to other resources open.
TEST_CASE("tenant-legacy-auth-protection: a legacy block scoped to one app is not a pass, the message names what stays open") {
    auto scoped = [](const std::string& id, const std::string& name, json include, json exclude = json::array()) {
        json p = block_legacy_policy(id, name, "enabled", {kHveGroupId});
        p["conditions"]["applications"] = {{"includeApplications", include}, {"excludeApplications", exclude}};
        return p;
    };
    SUBCASE("Exchange Online only") {
        Finding f = single(scan(tenant(
            graph_with({scoped(kBlockLegacyId, "Block legacy for Exchange", {kExchangeOnline})}), exchange())));
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "'Block legacy for Exchange'"));
        CHECK(contains(f.message, "every resource but Exchange Online"));
        CHECK(contains(f.remediation, "All resources"));
        CHECK(f.evidence["blockedForSomeResourcesOnly"]["count"] == 3);
        CHECK(f.evidence["blockedForSomeResourcesOnly"]["byPolicy"][0]["policyId"] == kBlockLegacyId);
    }
    SUBCASE("Office 365 only") {
        Finding f = single(
            scan(tenant(graph_with({scoped(kBlockLegacyId, "Block legacy for Office", {"Office365"})}), exchange())));
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "every resource but Office 365"));
    }
    SUBCASE("All resources but an excluded app") {
        Finding f = single(scan(tenant(
            graph_with({scoped(kBlockLegacyId, "Block legacy", {"All"}, {"00000003-0000-0ff1-ce00-000000000000"})}),
            exchange())));
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "the excluded app 00000003-0000-0ff1-ce00-000000000000"));
    }
    SUBCASE("a scoped block first, an All-resources block as well → pass") {
        Finding f = single(scan(tenant(
            graph_with({scoped("c6000000-0000-4000-8000-0000000000a1", "Block legacy for Exchange", {kExchangeOnline}),
                        block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "enabled", {kHveGroupId})}),
            exchange())));
        CHECK(f.status == Status::Pass);
        CHECK(f.evidence["blockedForSomeResourcesOnly"]["count"] == 0);
    }
}

// Entra allows no enabled Conditional Access policy while security defaults are on.
TEST_CASE("tenant-legacy-auth-protection: security defaults on while a policy is enabled → error: inconsistent snapshot") {
    Finding f = single(scan(tenant(
        graph_with({block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "enabled", {kHveGroupId})}, true),
        exchange())));
    CHECK(f.status == Status::Error);
    CHECK(contains(f.message, "inconsistent"));
    CHECK(contains(f.message, kBlockLegacyId));
}

// A user whose accountEnabled was not exported may sign in: it must be protected like any other.
TEST_CASE("tenant-legacy-auth-protection: a user without accountEnabled counts as able to sign in") {
    json onlyAlice = block_legacy_policy(kBlockLegacyId, "Block legacy for Alice");
    onlyAlice["conditions"]["users"]["includeUsers"] = {kAliceId};
    json graph = graph_with({onlyAlice});
    graph["users"] = {{{"id", "a6000000-0000-4000-8000-0000000000b1"}, {"userPrincipalName", "nosel@contoso.com"}},
                      user(kAliceId, "alice@contoso.com")};
    Finding f = single(scan(tenant(graph, exchange())));
    CHECK(f.status == Status::Fail);
    CHECK(f.evidence["users"]["evaluated"] == 2);
    CHECK(f.evidence["users"]["disabled"] == 0);
    CHECK(f.evidence["notTargeted"]["sample"][0]["userPrincipalName"] == "nosel@contoso.com");
}
