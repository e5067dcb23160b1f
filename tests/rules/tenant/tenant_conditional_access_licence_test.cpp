#include "rules/rule_test_support.hpp"
#include "tenant/tenant_rules.hpp"

using namespace rulestest;

namespace {

json p1_sku(const std::string& capability = "Enabled") {
    return {{"skuId", "s1"}, {"skuPartNumber", "SPE_E3"}, {"capabilityStatus", capability},
            {"servicePlans", {{{"servicePlanId", "p1"}, {"servicePlanName", "AAD_PREMIUM"}, {"provisioningStatus", "Success"}}}}};
}

json exchange_only_sku() {
    return {{"skuId", "s2"}, {"skuPartNumber", "EXCHANGESTANDARD"}, {"capabilityStatus", "Enabled"},
            {"servicePlans", {{{"servicePlanId", "p2"}, {"servicePlanName", "EXCHANGE_S_STANDARD"}, {"provisioningStatus", "Success"}}}}};
}

json document(json policies, bool defaults, json skus, bool hve = true) {
    json accounts = hve ? json::array({hve_account("c9000000-0000-4000-8000-000000000001", "hve@contoso.com")}) : json::array();
    return tenant({{"conditionalAccessPolicies", std::move(policies)},
                   {"securityDefaults", {{"isEnabled", defaults}}},
                   {"subscribedSkus", std::move(skus)}},
                  {{"hveAccounts", accounts}});
}

Finding scan(const json& doc) {
    return single(run_rule(tenantscan::rules::make_tenant_conditional_access_licence_rule(), doc));
}

}  // namespace

TEST_CASE("tenant-conditional-access-licence: registered, and its doc page matches its metadata") {
    check_registered_and_documented("tenant-conditional-access-licence", "rules/tenant/tenant_conditional_access_licence.md");
}

TEST_CASE("tenant-conditional-access-licence: CA in use without P1 → fail, with P1 → pass") {
    const json policies = {block_legacy_policy("p-1", "Block legacy"), require_mfa_policy("p-2", "MFA", "enabledForReportingButNotEnforced"),
                           require_mfa_policy("p-3", "Old", "disabled")};
    Finding fail = scan(document(policies, false, {exchange_only_sku(), p1_sku("Suspended")}));
    CHECK(fail.status == Status::Fail);
    CHECK(fail.severity == Severity::High);
    CHECK(contains(fail.message, "2 Conditional Access policies are enabled or report-only"));
    CHECK(fail.evidence["policiesInUse"].size() == 2);
    CHECK(fail.evidence["entraIdP1"]["status"] == "notLicensed");
    Finding pass = scan(document(policies, false, {p1_sku()}));
    CHECK(pass.status == Status::Pass);
}

TEST_CASE("tenant-conditional-access-licence: security defaults blocking HVE accounts call for CA, hence P1") {
    Finding f = scan(document(json::array(), true, {exchange_only_sku()}));
    CHECK(f.status == Status::Fail);
    CHECK(contains(f.message, "security defaults block the tenant's 1 HVE account"));
    CHECK(contains(f.remediation, "hve-security-defaults"));
}

TEST_CASE("tenant-conditional-access-licence: neither in use nor needed → not-applicable, licences missing → error") {
    CHECK(scan(document({require_mfa_policy("p-3", "Old", "disabled")}, true, {exchange_only_sku()}, false)).status ==
          Status::NotApplicable);
    json doc = document(json::array(), true, json::array());
    doc["graph"].erase("subscribedSkus");
    CHECK(scan(doc).status == Status::Error);
}

// subscribedSku.capabilityStatus and servicePlanInfo.provisioningStatus say whether the plan can
// be used; an export without them does not prove a licence.
TEST_CASE("tenant-conditional-access-licence: a P1 plan without capabilityStatus or provisioningStatus → review, not pass") {
    const json policies = {block_legacy_policy("p-1", "Block legacy")};
    SUBCASE("the SKU has no capabilityStatus") {
        json sku = p1_sku();
        sku.erase("capabilityStatus");
        Finding f = scan(document(policies, false, {sku}));
        CHECK(f.status == Status::Review);
        CHECK(f.evidence["entraIdP1"]["status"] == "undetermined");
        CHECK(contains(f.message, "capabilityStatus of SKU 'SPE_E3'"));
        CHECK(contains(f.remediation, "subscribedSkus"));
    }
    SUBCASE("the plan has no provisioningStatus") {
        json sku = p1_sku();
        sku["servicePlans"][0]["provisioningStatus"] = nullptr;
        Finding f = scan(document(policies, false, {sku}));
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "provisioningStatus of plan AAD_PREMIUM"));
    }
    SUBCASE("a known-good plan elsewhere still makes it licensed") {
        json sku = p1_sku();
        sku.erase("capabilityStatus");
        CHECK(scan(document(policies, false, {sku, p1_sku()})).status == Status::Pass);
    }
    SUBCASE("a suspended SKU stays not licensed, whatever its plan lacks") {
        json sku = p1_sku("Suspended");
        sku["servicePlans"][0].erase("provisioningStatus");
        CHECK(scan(document(policies, false, {sku})).status == Status::Fail);
    }
}
