#include "engine/engine_rules.hpp"
#include "rules/rule_test_support.hpp"

using namespace rulestest;

namespace {

const std::string kPrinterId = "a3000000-0000-4000-8000-000000000001";
const std::string kPrinter = "printer@fabrikam.com";
const std::string kHveGroupId = "b3000000-0000-4000-8000-000000000001";
const std::string kBlockLegacyId = "c3000000-0000-4000-8000-000000000001";
const std::string kMfaId = "c3000000-0000-4000-8000-000000000002";

json graph() {
    return {{"conditionalAccessPolicies",
             {block_legacy_policy(kBlockLegacyId, "Block legacy authentication", "enabled", {kHveGroupId}),
              require_mfa_policy(kMfaId, "Require MFA for all users")}},
            {"securityDefaults", {{"isEnabled", false}}},
            {"users", {user(kPrinterId, kPrinter)}},
            {"groups", {group(kHveGroupId, "Exchange-HVEUserAccounts", {kPrinterId})}}};
}

// One answer of POST /identity/conditionalAccess/evaluate (a whatIfAnalysisResult).
json answer(const std::string& id, const std::string& name, bool applies, const std::string& reasons) {
    return {{"id", id}, {"displayName", name}, {"state", "enabled"}, {"policyApplies", applies}, {"analysisReasons", reasons}};
}

// What `collect --cross-check` stores for one HVE account.
json cross_check(json answers) {
    return json::array({{{"userId", kPrinterId},
                         {"account", kPrinter},
                         {"request",
                          {{"signInIdentity", {{"@odata.type", "#microsoft.graph.userSignIn"}, {"userId", kPrinterId}}},
                           {"signInContext",
                            {{"@odata.type", "#microsoft.graph.applicationContext"}, {"includeApplications", {kExchangeOnline}}}},
                           {"signInConditions", {{"clientAppType", "other"}, {"signInRiskLevel", "none"}, {"userRiskLevel", "none"}}}}},
                         {"value", std::move(answers)}}});
}

std::vector<Finding> scan(json document) {
    return run_rule(tenantscan::rules::make_engine_cross_check_rule(), document);
}

json document_with(json answers) {
    json document = tenant(graph(), {{"hveAccounts", {hve_account(kPrinterId, kPrinter)}}});
    document["crossCheck"] = cross_check(std::move(answers));
    return document;
}

}  // namespace

TEST_CASE("engine-cross-check: registered, and its doc page matches its metadata") {
    check_registered_and_documented("engine-cross-check", "rules/engine/engine_cross_check.md");
}

TEST_CASE("engine-cross-check: Microsoft and the engine agree on every policy → pass") {
    // The legacy block excludes the HVE group (does not apply); MFA for all users applies to a legacy client.
    auto findings = scan(document_with({answer(kBlockLegacyId, "Block legacy authentication", false, "users"),
                                        answer(kMfaId, "Require MFA for all users", true, "notSet")}));
    Finding f = finding_for(findings, kPrinter);
    CHECK(f.status == Status::Pass);
    CHECK(f.subject.kind == "hveAccount");
    CHECK(f.subject.id == kPrinterId);
    CHECK(contains(f.message, "agrees with Microsoft's what-if evaluation on 2 policies"));
    CHECK(f.evidence["agreed"] == 2);
    CHECK(f.evidence["disagreements"].empty());
    CHECK(f.evidence["signIn"]["clientAppType"] == "other");
}

TEST_CASE("engine-cross-check: a policy Microsoft applies and the engine does not → review with both reasons") {
    auto findings = scan(document_with({answer(kBlockLegacyId, "Block legacy authentication", true, "notSet"),
                                        answer(kMfaId, "Require MFA for all users", true, "notSet")}));
    Finding f = finding_for(findings, kPrinter);
    CHECK(f.status == Status::Review);
    CHECK(f.severity == Severity::Low);
    CHECK(contains(f.message, "disagree on 1 policy"));
    CHECK(contains(f.message, "'Block legacy authentication' (Microsoft: applies; engine: does not apply, users)"));
    REQUIRE(f.evidence["disagreements"].size() == 1);
    const json& d = f.evidence["disagreements"][0];
    CHECK(d["id"] == kBlockLegacyId);
    CHECK(d["microsoft"]["policyApplies"] == true);
    CHECK(d["microsoft"]["analysisReasons"] == json::array({"notSet"}));
    CHECK(d["engine"]["applicability"] == "doesNotApply");
    CHECK(d["engine"]["analysisReasons"] == json::array({"users"}));
    CHECK(f.evidence["agreed"] == 1);
}

TEST_CASE("engine-cross-check: a policy only one side knows is a disagreement") {
    auto findings = scan(document_with({answer(kBlockLegacyId, "Block legacy authentication", false, "users"),
                                        answer("c3000000-0000-4000-8000-00000000000f", "Created after the export", false, "users")}));
    Finding f = finding_for(findings, kPrinter);
    CHECK(f.status == Status::Review);
    CHECK(contains(f.message, "'Created after the export' (unknown to the snapshot)"));
    CHECK(contains(f.message, "'Require MFA for all users' (missing from Microsoft's answer)"));
    CHECK(f.evidence["disagreements"].size() == 2);
}

TEST_CASE("engine-cross-check: without cross-check data the rule is not applicable") {
    auto findings = scan(tenant(graph(), {{"hveAccounts", {hve_account(kPrinterId, kPrinter)}}}));
    Finding f = single(findings);
    CHECK(f.status == Status::NotApplicable);
    CHECK(f.subject.kind == "tenant");
    CHECK(contains(f.message, "--cross-check"));
}

TEST_CASE("engine-cross-check: cross-check asked for but not collected → error with the collector's reason") {
    json document = tenant(graph(), {{"hveAccounts", {hve_account(kPrinterId, kPrinter)}}});
    const std::string reason = "403 Forbidden: needs Policy.Read.All and an Entra ID P1 or P2 licence in the tenant";
    document["notCollected"] = {{"/crossCheck", reason}};
    Finding f = single(scan(document));
    CHECK(f.status == Status::Error);
    CHECK(f.subject.kind == "tenant");
    CHECK(contains(f.message, "asked for but not collected: " + reason));
    CHECK(f.evidence["reasons"]["/crossCheck"] == reason);
}

TEST_CASE("engine-cross-check: cross-check data without the policies the engine needs → error naming them") {
    json document = document_with({answer(kMfaId, "Require MFA for all users", true, "notSet")});
    document["graph"].erase("groups");
    document["notCollected"] = {{"/graph/groups", "403 Forbidden: needs GroupMember.Read.All"}};
    Finding f = single(scan(document));
    CHECK(f.status == Status::Error);
    CHECK(contains(f.message, "lacks /graph/groups"));
    CHECK(f.evidence["reasons"]["/graph/groups"] == "403 Forbidden: needs GroupMember.Read.All");
}
