#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

using namespace rulestest;

namespace {

json hve_accounts() {
    return {hve_account("a3000000-0000-4000-8000-000000000002", "scanner@contoso.com"),
            hve_account("a3000000-0000-4000-8000-000000000001", "alarm@contoso.com")};
}

json sku(const std::string& partNumber, const std::vector<std::pair<std::string, std::string>>& plans,
         const std::string& capabilityStatus = "Enabled") {
    json servicePlans = json::array();
    for (const auto& [name, status] : plans)
        servicePlans.push_back({{"servicePlanId", "p-" + name}, {"servicePlanName", name}, {"provisioningStatus", status}});
    return {{"skuId", "s-" + partNumber},
            {"skuPartNumber", partNumber},
            {"capabilityStatus", capabilityStatus},
            {"servicePlans", servicePlans}};
}

std::vector<Finding> scan(const json& document) {
    return run_rule(tenantscan::rules::make_hve_security_defaults_rule(), document);
}

}  // namespace

TEST_CASE("hve-security-defaults: registered, and its doc page matches its metadata") {
    check_registered_and_documented("hve-security-defaults", "rules/hve/hve_security_defaults.md");
}

TEST_CASE("hve-security-defaults: on while HVE accounts exist → fail, saying whether the tenant has Entra ID P1") {
    json graph = {{"securityDefaults", {{"isEnabled", true}}}};
    SUBCASE("with P1 (Business Premium)") {
        graph["subscribedSkus"] = {sku("SPB", {{"EXCHANGE_S_STANDARD", "Success"}, {"AAD_PREMIUM", "Success"}})};
        Finding f = single(scan(tenant(graph, {{"hveAccounts", hve_accounts()}})));
        CHECK(f.status == Status::Fail);
        CHECK(f.severity == Severity::High);
        CHECK(f.subject.kind == "tenant");
        CHECK(f.subject.name == kTenantId);
        CHECK(contains(f.message, "block Basic SMTP AUTH for all 2 HVE accounts"));
        CHECK(contains(f.message, "535 5.7.139"));
        CHECK(contains(f.message, "has Microsoft Entra ID P1"));
        CHECK(f.evidence["entraIdP1"]["status"] == "licensed");
        CHECK(f.evidence["entraIdP1"]["servicePlans"][0]["skuPartNumber"] == "SPB");
        CHECK(f.evidence["hveAccounts"]["count"] == 2);
        CHECK(f.evidence["hveAccounts"]["sample"] == json::array({"alarm@contoso.com", "scanner@contoso.com"}));
        CHECK(contains(f.remediation, "Manage security defaults"));
        CHECK(contains(f.remediation, "'Exchange-HVEUserAccounts'"));
        CHECK_FALSE(contains(f.remediation, "Get Microsoft Entra ID P1"));
    }
    SUBCASE("without P1 (a disabled plan or a suspended SKU does not count)") {
        graph["subscribedSkus"] = {sku("O365_BUSINESS_ESSENTIALS", {{"EXCHANGE_S_STANDARD", "Success"}}),
                                   sku("EMS", {{"AAD_PREMIUM", "Disabled"}}),
                                   sku("AAD_PREMIUM_P2", {{"AAD_PREMIUM_P2", "Success"}}, "Suspended")};
        Finding f = single(scan(tenant(graph, {{"hveAccounts", hve_accounts()}})));
        CHECK(f.status == Status::Fail);
        CHECK(contains(f.message, "no Microsoft Entra ID P1"));
        CHECK(f.evidence["entraIdP1"]["status"] == "notLicensed");
        CHECK(contains(f.remediation, "Get Microsoft Entra ID P1"));
    }
    SUBCASE("licences not collected") {
        Finding f = single(scan(tenant(graph, {{"hveAccounts", hve_accounts()}})));
        CHECK(f.status == Status::Fail);
        CHECK(contains(f.message, "/graph/subscribedSkus was not collected"));
        CHECK(f.evidence["entraIdP1"]["status"] == "unknown");
    }
}

TEST_CASE("hve-security-defaults: off → pass") {
    Finding f = single(scan(tenant({{"securityDefaults", {{"isEnabled", false}}}}, {{"hveAccounts", hve_accounts()}})));
    CHECK(f.status == Status::Pass);
    CHECK(f.evidence["securityDefaultsEnabled"] == false);
    CHECK(f.remediation.empty());
}

TEST_CASE("hve-security-defaults: no HVE accounts → not-applicable") {
    Finding f = single(scan(tenant({{"securityDefaults", {{"isEnabled", true}}}}, {{"hveAccounts", json::array()}})));
    CHECK(f.status == Status::NotApplicable);
}

TEST_CASE("hve-security-defaults: security defaults not collected → error naming the section") {
    check_section_missing(scan(tenant(json::object(), {{"hveAccounts", hve_accounts()}})), "/graph/securityDefaults");
}

// Entra allows no enabled Conditional Access policy while security defaults are on: a snapshot
// that says both is out of date or edited, and the rule must not pick one.
TEST_CASE("hve-security-defaults: on while a Conditional Access policy is enabled → error: the snapshot is inconsistent") {
    json graph = {{"securityDefaults", {{"isEnabled", true}}},
                  {"conditionalAccessPolicies",
                   {block_legacy_policy("c3000000-0000-4000-8000-000000000001", "Block legacy authentication")}}};
    Finding f = single(scan(tenant(graph, {{"hveAccounts", hve_accounts()}})));
    CHECK(f.status == Status::Error);
    CHECK(contains(f.message, "inconsistent"));
    CHECK(contains(f.message, "'Block legacy authentication'"));
    // A disabled or report-only policy is allowed beside security defaults: the usual verdict.
    graph["conditionalAccessPolicies"][0]["state"] = "enabledForReportingButNotEnforced";
    CHECK(single(scan(tenant(graph, {{"hveAccounts", hve_accounts()}}))).status == Status::Fail);
}

TEST_CASE("hve-security-defaults: a P1 plan whose statuses were not exported is not 'licensed'") {
    json graph = {{"securityDefaults", {{"isEnabled", true}}},
                  {"subscribedSkus", {sku("SPB", {{"AAD_PREMIUM", "Success"}}, "")}}};
    graph["subscribedSkus"][0].erase("capabilityStatus");
    Finding f = single(scan(tenant(graph, {{"hveAccounts", hve_accounts()}})));
    CHECK(f.evidence["entraIdP1"]["status"] == "undetermined");
    CHECK(contains(f.message, "capabilityStatus"));
}

// One tenant identity: the scan's own findings (a missing section) and a rule's tenant finding
// name the same subject, so waivers and diff pair them, also when the snapshot has no tenantId.
TEST_CASE("tenant subject: without tenantId the scan and the rules give the tenant one identity") {
    json withAccounts = tenant({{"securityDefaults", {{"isEnabled", false}}}}, {{"hveAccounts", json::array()}});
    withAccounts.erase("tenantId");
    json missingSection = tenant(json::object(), {{"hveAccounts", json::array()}});
    missingSection.erase("tenantId");
    const Finding fromRule = single(scan(withAccounts));            // not-applicable, from the rule
    const Finding fromScan = single(scan(missingSection));          // error, from the scan framework
    CHECK(fromRule.status == Status::NotApplicable);
    CHECK(fromScan.status == Status::Error);
    CHECK(fromRule.subject.kind == fromScan.subject.kind);
    CHECK(fromRule.subject.id == fromScan.subject.id);
    CHECK(fromRule.subject.name == fromScan.subject.name);
    CHECK(fromRule.subject.name == "(tenant id not in snapshot)");
}
