#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

using namespace rulestest;

namespace {

json document(json billing) {
    return tenant(json::object(),
                  {{"hveAccounts", {hve_account("c7000000-0000-4000-8000-000000000001", "valid@contoso.com"),
                                    hve_account("c7000000-0000-4000-8000-000000000002", "broken@contoso.com"),
                                    hve_account("c7000000-0000-4000-8000-000000000003", "unlisted@contoso.com")}},
                   {"hveBillingPolicies", std::move(billing)}});
}

const json kBilling = {{{"Identity", "VALID@contoso.com"}, {"BillingPolicyStatus", "BillingPolicyValid"}},
                       {{"Identity", "broken"}, {"BillingPolicyStatus", "NoProperBillingPolicyStored"}}};

std::vector<Finding> scan(const json& doc, const std::string& asOf) {
    return run_rule(tenantscan::rules::make_hve_billing_policy_rule(), doc, as_of(asOf));
}

}  // namespace

TEST_CASE("hve-billing-policy: registered, and its doc page matches its metadata") {
    check_registered_and_documented("hve-billing-policy", "rules/hve/hve_billing_policy.md");
}

TEST_CASE("hve-billing-policy: from 2026-06-01 only BillingPolicyValid passes") {
    const auto findings = scan(document(kBilling), "2026-06-01");
    REQUIRE(findings.size() == 3);
    CHECK(finding_for(findings, "valid@contoso.com").status == Status::Pass);
    Finding broken = finding_for(findings, "broken@contoso.com");  // matched by its identity
    CHECK(broken.status == Status::Fail);
    CHECK(broken.severity == Severity::Critical);
    CHECK(contains(broken.message, "NoProperBillingPolicyStored"));
    CHECK(broken.evidence["billingPolicyStatus"] == "NoProperBillingPolicyStored");
    CHECK(contains(broken.remediation, "BillingPolicyValid"));
    Finding unlisted = finding_for(findings, "unlisted@contoso.com");
    CHECK(unlisted.status == Status::Review);
}

TEST_CASE("hve-billing-policy: before 2026-06-01 → not-applicable, sections missing → error") {
    const auto before = scan(document(kBilling), "2026-05-31");
    REQUIRE(before.size() == 3);
    for (const auto& f : before) CHECK(f.status == Status::NotApplicable);
    json doc = document(kBilling);
    doc["exchange"].erase("hveBillingPolicies");
    CHECK(single(scan(doc, "2026-11-27")).status == Status::Error);
}

// Display names are not unique: an entry that names another account by its identity must not
// pass for an account whose display name it happens to equal, when that account has its own entry.
TEST_CASE("hve-billing-policy: an exact address beats another account's entry that carries this account's display name") {
    json printer = hve_account("c7000000-0000-4000-8000-000000000011", "printer@contoso.com");
    printer["DisplayName"] = "Office printer";
    json copier = hve_account("c7000000-0000-4000-8000-000000000012", "copier@contoso.com");
    copier["Identity"] = "Office printer";  // the copier's Exchange identity is the printer's display name
    copier["Name"] = "Office printer";
    const json doc = tenant(json::object(),
                            {{"hveAccounts", {printer, copier}},
                             {"hveBillingPolicies",
                              {{{"Identity", "Office printer"}, {"BillingPolicyStatus", "BillingPolicyValid"}},
                               {{"Identity", "printer@contoso.com"}, {"BillingPolicyStatus", "SubscriptionIsNotActive"}}}}});
    const auto findings = scan(doc, "2026-11-27");
    const Finding p = finding_for(findings, "printer@contoso.com");
    CHECK(p.status == Status::Fail);
    CHECK(p.evidence["billingIdentity"] == "printer@contoso.com");
    CHECK(finding_for(findings, "copier@contoso.com").status == Status::Pass);

    // Without its own entry, the printer still does not take the copier's: review, not pass.
    json onlyCopier = doc;
    onlyCopier["exchange"]["hveBillingPolicies"].erase(1);
    CHECK(finding_for(scan(onlyCopier, "2026-11-27"), "printer@contoso.com").status == Status::Review);
}

TEST_CASE("hve-billing-policy: an entry named by two accounts' display names belongs to neither") {
    json a = hve_account("c7000000-0000-4000-8000-000000000021", "scan-a@contoso.com");
    json b = hve_account("c7000000-0000-4000-8000-000000000022", "scan-b@contoso.com");
    a["DisplayName"] = b["DisplayName"] = "Scanner";
    const json doc = tenant(json::object(), {{"hveAccounts", {a, b}},
                                             {"hveBillingPolicies", {{{"Identity", "Scanner"}, {"BillingPolicyStatus", "BillingPolicyValid"}}}}});
    const auto findings = scan(doc, "2026-11-27");
    CHECK(finding_for(findings, "scan-a@contoso.com").status == Status::Review);
    CHECK(finding_for(findings, "scan-b@contoso.com").status == Status::Review);
}
