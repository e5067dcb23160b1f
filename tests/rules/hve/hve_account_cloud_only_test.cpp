#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

using namespace rulestest;

namespace {

const std::string kSynced = "c5000000-0000-4000-8000-000000000001";
const std::string kCloud = "c5000000-0000-4000-8000-000000000002";
const std::string kNullSync = "c5000000-0000-4000-8000-000000000003";
const std::string kMissing = "c5000000-0000-4000-8000-000000000004";

std::vector<Finding> scan(const json& doc) { return run_rule(tenantscan::rules::make_hve_account_cloud_only_rule(), doc); }

}  // namespace

TEST_CASE("hve-account-cloud-only: registered, and its doc page matches its metadata") {
    check_registered_and_documented("hve-account-cloud-only", "rules/hve/hve_account_cloud_only.md");
}

TEST_CASE("hve-account-cloud-only: synced → fail, cloud-only → pass, unknown user → review") {
    const auto findings = scan(tenant(
        {{"users", {user(kSynced, "synced@contoso.com", {{"onPremisesSyncEnabled", true}}),
                    user(kCloud, "cloud@contoso.com", {{"onPremisesSyncEnabled", false}}), user(kNullSync, "null@contoso.com")}}},
        {{"hveAccounts", {hve_account(kSynced, "synced@contoso.com"), hve_account(kCloud, "cloud@contoso.com"),
                          hve_account(kNullSync, "null@contoso.com"), hve_account(kMissing, "missing@contoso.com")}}}));
    REQUIRE(findings.size() == 4);
    Finding synced = finding_for(findings, "synced@contoso.com");
    CHECK(synced.status == Status::Fail);
    CHECK(synced.severity == Severity::High);
    CHECK(contains(synced.message, "onPremisesSyncEnabled true"));
    CHECK(contains(synced.remediation, "New-MailUser -HVEAccount"));
    CHECK(synced.evidence["onPremisesSyncEnabled"] == true);
    CHECK(finding_for(findings, "cloud@contoso.com").status == Status::Pass);
    CHECK(finding_for(findings, "null@contoso.com").status == Status::Pass);
    Finding missing = finding_for(findings, "missing@contoso.com");
    CHECK(missing.status == Status::Review);
    CHECK(contains(missing.message, kMissing));
}

TEST_CASE("hve-account-cloud-only: no HVE accounts → not-applicable, users not collected → error") {
    CHECK(single(scan(tenant({{"users", json::array()}}, {{"hveAccounts", json::array()}}))).status == Status::NotApplicable);
    CHECK(single(scan(tenant(json::object(), {{"hveAccounts", {hve_account(kCloud, "cloud@contoso.com")}}}))).status ==
          Status::Error);
}
