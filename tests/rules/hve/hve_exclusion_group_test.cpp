#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

using namespace rulestest;

namespace {

const std::string kScannerId = "a5000000-0000-4000-8000-000000000001";
const std::string kScanner = "scanner@contoso.com";
const std::string kAlarmId = "a5000000-0000-4000-8000-000000000002";
const std::string kAlarm = "alarm@contoso.com";
const std::string kHveGroupId = "b5000000-0000-4000-8000-000000000001";
const std::string kDevicesGroupId = "b5000000-0000-4000-8000-000000000002";

json graph_with(json groups) {
    return {{"users", {user(kScannerId, kScanner), user(kAlarmId, kAlarm)}}, {"groups", std::move(groups)}};
}

json exchange() { return {{"hveAccounts", {hve_account(kScannerId, kScanner), hve_account(kAlarmId, kAlarm)}}}; }

std::vector<Finding> scan(const json& document, tenantscan::ScanOptions options = {}) {
    return run_rule(tenantscan::rules::make_hve_exclusion_group_rule(), document, std::move(options));
}

tenantscan::ScanOptions with_group(const std::string& group) {
    tenantscan::ScanOptions options;
    options.parameters["hve-exclusion-group.group"] = group;
    return options;
}

}  // namespace

TEST_CASE("hve-exclusion-group: registered, and its doc page matches its metadata (parameter and default)") {
    check_registered_and_documented("hve-exclusion-group", "rules/hve/hve_exclusion_group.md");
}

TEST_CASE("hve-exclusion-group: a nested member passes, a non-member fails with the command that adds it") {
    auto findings = scan(tenant(graph_with({group(kHveGroupId, "Exchange-HVEUserAccounts", {}, {kDevicesGroupId}),
                                            group(kDevicesGroupId, "HVE devices", {kScannerId})}),
                                exchange()));
    REQUIRE(findings.size() == 2);

    Finding member = finding_for(findings, kScanner);
    CHECK(member.status == Status::Pass);
    CHECK(contains(member.message, "through nested groups (Exchange-HVEUserAccounts > HVE devices)"));
    CHECK(member.evidence["membershipPath"] == json::array({"Exchange-HVEUserAccounts", "HVE devices"}));
    CHECK(member.evidence["group"]["id"] == kHveGroupId);

    Finding missing = finding_for(findings, kAlarm);
    CHECK(missing.status == Status::Fail);
    CHECK(missing.severity == Severity::Medium);
    CHECK(missing.subject.id == kAlarmId);
    CHECK(contains(missing.message, "not a member of the HVE exemption group 'Exchange-HVEUserAccounts'"));
    CHECK(missing.evidence["member"] == false);
    CHECK(contains(missing.remediation, "New-MgGroupMember -GroupId " + kHveGroupId + " -DirectoryObjectId " + kAlarmId));
    CHECK(contains(missing.remediation, "hve-conditional-access"));
}

TEST_CASE("hve-exclusion-group: the group is missing → one tenant fail and no per-account findings") {
    Finding f = single(scan(tenant(graph_with({group(kDevicesGroupId, "HVE devices", {kScannerId, kAlarmId})}), exchange())));
    CHECK(f.status == Status::Fail);
    CHECK(f.subject.kind == "tenant");
    CHECK(contains(f.message, "'Exchange-HVEUserAccounts' does not exist in /graph/groups"));
    CHECK(contains(f.message, "2 HVE accounts"));
    CHECK(contains(f.remediation, "New-MgGroup -DisplayName \"Exchange-HVEUserAccounts\""));
    CHECK(contains(f.remediation, "hve-exclusion-group.group"));
}

TEST_CASE("hve-exclusion-group: the parameter names the group by object id or by another display name") {
    json graph = graph_with({group(kDevicesGroupId, "SMTP devices (exempt)", {kScannerId, kAlarmId})});
    SUBCASE("object id") {
        auto findings = scan(tenant(graph, exchange()), with_group(kDevicesGroupId));
        CHECK(finding_for(findings, kScanner).status == Status::Pass);
        CHECK(finding_for(findings, kAlarm).status == Status::Pass);
    }
    SUBCASE("display name, case-insensitive") {
        auto findings = scan(tenant(graph, exchange()), with_group("smtp devices (EXEMPT)"));
        CHECK(finding_for(findings, kAlarm).status == Status::Pass);
    }
    SUBCASE("an object id that matches nothing") {
        Finding f = single(scan(tenant(graph, exchange()), with_group("b5000000-0000-4000-8000-00000000ffff")));
        CHECK(f.status == Status::Fail);
        CHECK(contains(f.message, "with object id b5000000-0000-4000-8000-00000000ffff"));
    }
    SUBCASE("a parameter that is not a string → error for this rule") {
        tenantscan::ScanOptions options;
        options.parameters["hve-exclusion-group.group"] = 42;
        Finding f = single(scan(tenant(graph, exchange()), options));
        CHECK(f.status == Status::Error);
        CHECK(contains(f.message, "hve-exclusion-group.group"));
    }
}

TEST_CASE("hve-exclusion-group: two groups carry the name → review (ambiguous)") {
    Finding f = single(scan(tenant(graph_with({group(kHveGroupId, "Exchange-HVEUserAccounts", {kScannerId}),
                                               group(kDevicesGroupId, "exchange-hveuseraccounts", {kAlarmId})}),
                                   exchange())));
    CHECK(f.status == Status::Review);
    CHECK(contains(f.message, kHveGroupId));
    CHECK(contains(f.message, kDevicesGroupId));
    CHECK(f.evidence["matchingGroupIds"].size() == 2);
}

TEST_CASE("hve-exclusion-group: what the snapshot cannot show → review") {
    SUBCASE("the account's Entra user is not in /graph/users") {
        json graph = graph_with({group(kHveGroupId, "Exchange-HVEUserAccounts", {kScannerId, kAlarmId})});
        graph["users"] = {user(kScannerId, kScanner)};
        Finding f = finding_for(scan(tenant(graph, exchange())), kAlarm);
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "not in /graph/users"));
    }
    SUBCASE("the group nests a group missing from /graph/groups") {
        json graph = graph_with({group(kHveGroupId, "Exchange-HVEUserAccounts", {kScannerId},
                                       {"b5000000-0000-4000-8000-0000000000aa"})});
        auto findings = scan(tenant(graph, exchange()));
        CHECK(finding_for(findings, kScanner).status == Status::Pass);
        Finding f = finding_for(findings, kAlarm);
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "b5000000-0000-4000-8000-0000000000aa"));
        CHECK(f.evidence["unresolvedNestedGroups"] == json::array({"b5000000-0000-4000-8000-0000000000aa"}));
    }
}

TEST_CASE("hve-exclusion-group: no HVE accounts → not-applicable, groups not collected → error") {
    SUBCASE("no HVE accounts") {
        Finding f = single(scan(tenant(graph_with(json::array()), {{"hveAccounts", json::array()}})));
        CHECK(f.status == Status::NotApplicable);
    }
    SUBCASE("/graph/groups not collected") {
        json graph = graph_with(json::array());
        graph.erase("groups");
        check_section_missing(scan(tenant(graph, exchange())), "/graph/groups");
    }
}

// Get-MgGroup without -ExpandProperty members writes a group with no "members": its members are
// unknown, not none, so a missing membership cannot be ruled out.
TEST_CASE("hve-exclusion-group: a group (or a nested group) exported without members → review, not fail") {
    json bare = {{"id", kHveGroupId}, {"displayName", "Exchange-HVEUserAccounts"}, {"securityEnabled", true}};
    auto findings = scan(tenant(graph_with({bare}), exchange()));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Review);
    CHECK(contains(f.message, "exported without its members"));
    bare["members"] = nullptr;
    CHECK(finding_for(scan(tenant(graph_with({bare}), exchange())), kScanner).status == Status::Review);
    // An empty array is a group with no members: the account is certainly not in it.
    bare["members"] = json::array();
    CHECK(finding_for(scan(tenant(graph_with({bare}), exchange())), kScanner).status == Status::Fail);
    // A nested group without members.
    json nested = {{"id", kDevicesGroupId}, {"displayName", "HVE devices"}};
    findings = scan(tenant(graph_with({group(kHveGroupId, "Exchange-HVEUserAccounts", {}, {kDevicesGroupId}), nested}),
                           exchange()));
    CHECK(finding_for(findings, kScanner).status == Status::Review);
}
