#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

using namespace rulestest;

namespace {

const std::string kPrinterId = "a2000000-0000-4000-8000-000000000001";
const std::string kPrinter = "printer@fabrikam.com";
const std::string kHveGroupId = "b2000000-0000-4000-8000-000000000001";
const std::string kPilotId = "c2000000-0000-4000-8000-000000000001";
const std::string kManagedId = "c2000000-0000-4000-8000-000000000002";

json graph_with(json policies) {
    return ca_graph(std::move(policies), json::array({user(kPrinterId, kPrinter)}),
                    json::array({group(kHveGroupId, "Exchange-HVEUserAccounts", {kPrinterId})}));
}

json exchange() { return {{"hveAccounts", {hve_account(kPrinterId, kPrinter)}}}; }

std::vector<Finding> scan(const json& document) {
    return run_rule(tenantscan::rules::make_hve_report_only_policies_rule(), document);
}

}  // namespace

TEST_CASE("hve-report-only-policies: registered, and its doc page matches its metadata") {
    check_registered_and_documented("hve-report-only-policies", "rules/hve/hve_report_only_policies.md");
}

TEST_CASE("hve-report-only-policies: a report-only legacy block would block the account → fail") {
    auto findings = scan(tenant(graph_with({block_legacy_policy(kPilotId, "Pilot: block legacy authentication",
                                                                "enabledForReportingButNotEnforced")}),
                                exchange()));
    Finding f = finding_for(findings, kPrinter);
    CHECK(f.status == Status::Fail);
    CHECK(f.severity == Severity::Medium);
    CHECK(contains(f.message, "Report-only policy 'Pilot: block legacy authentication' (block) would block"));
    CHECK_FALSE(contains(f.message, "Microsoft-managed"));
    REQUIRE(f.evidence["wouldBlockPolicies"].size() == 1);
    CHECK(f.evidence["wouldBlockPolicies"][0]["id"] == kPilotId);
    CHECK(f.evidence["wouldBlockPolicies"][0]["state"] == "enabledForReportingButNotEnforced");
    CHECK(contains(f.remediation, "'Exchange-HVEUserAccounts' (id " + kHveGroupId + ")"));
    CHECK(contains(f.remediation, "(id " + kPilotId + ")"));
}

TEST_CASE("hve-report-only-policies: a Microsoft-managed policy would turn itself on → fail, high, saying so") {
    auto findings = scan(tenant(
        graph_with({require_mfa_policy(kManagedId, "Microsoft-managed: Multifactor authentication for all users",
                                       "enabledForReportingButNotEnforced")}),
        exchange()));
    Finding f = finding_for(findings, kPrinter);
    CHECK(f.status == Status::Fail);
    CHECK(f.severity == Severity::High);
    CHECK(contains(f.message, "(mfa)"));
    CHECK(contains(f.message, "Microsoft-managed policies turn themselves on"));
    CHECK(contains(f.message, "90 days"));
    CHECK(f.evidence["wouldBlockPolicies"][0]["microsoftManaged"] == true);
    CHECK(contains(f.remediation, "90 days"));
}

TEST_CASE("hve-report-only-policies: enforced policies and excluded report-only ones are not its business → pass") {
    auto findings = scan(tenant(graph_with({block_legacy_policy("c2000000-0000-4000-8000-000000000003",
                                                                "Block legacy authentication", "enabled"),
                                            block_legacy_policy(kPilotId, "Pilot: block legacy authentication",
                                                                "enabledForReportingButNotEnforced", {kHveGroupId})}),
                                exchange()));
    Finding f = finding_for(findings, kPrinter);
    CHECK(f.status == Status::Pass);
    CHECK(f.evidence["wouldBlockPolicies"].empty());
}

TEST_CASE("hve-report-only-policies: a report-only block that depends on the location → review naming it") {
    json conditions = {{"users", users_condition()},
                       {"applications", {{"includeApplications", {"Office365"}}}},
                       {"clientAppTypes", {"exchangeActiveSync", "other"}},
                       {"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {"AllTrusted"}}}}};
    json graph = graph_with({policy(kPilotId, "Pilot: block legacy outside trusted networks",
                                    "enabledForReportingButNotEnforced", conditions, grant({"block"}))});
    graph["namedLocations"] = {ip_location("d2000000-0000-4000-8000-000000000001", "Plant", {"192.0.2.0/24"})};
    Finding f = finding_for(scan(tenant(graph, exchange())), kPrinter);
    CHECK(f.status == Status::Review);
    CHECK(contains(f.message, "location"));
    CHECK(f.evidence["undeterminedPolicies"][0]["id"] == kPilotId);
    CHECK(f.evidence["wouldBlockPolicies"].empty());
}

TEST_CASE("hve-report-only-policies: no HVE accounts → not-applicable, a missing section → error") {
    SUBCASE("no HVE accounts") {
        Finding f = single(scan(tenant(graph_with(json::array()), {{"hveAccounts", json::array()}})));
        CHECK(f.status == Status::NotApplicable);
        CHECK(f.subject.kind == "tenant");
    }
    SUBCASE("no Conditional Access policies collected") {
        json graph = graph_with(json::array());
        graph.erase("conditionalAccessPolicies");
        check_section_missing(scan(tenant(graph, exchange())), "/graph/conditionalAccessPolicies");
    }
}

TEST_CASE("hve-report-only-policies: several accounts each get their own verdict") {
    const std::string kFaxId = "a2000000-0000-4000-8000-000000000002", kFax = "fax@fabrikam.com";
    json graph = graph_with({block_legacy_policy(kPilotId, "Pilot: block legacy authentication",
                                                 "enabledForReportingButNotEnforced", {kHveGroupId})});
    graph["users"].push_back(user(kFaxId, kFax));
    auto findings = scan(tenant(graph, {{"hveAccounts", {hve_account(kPrinterId, kPrinter), hve_account(kFaxId, kFax)}}}));
    REQUIRE(findings.size() == 2);
    CHECK(finding_for(findings, kPrinter).status == Status::Pass);
    Finding fax = finding_for(findings, kFax);
    CHECK(fax.status == Status::Fail);
    CHECK(fax.evidence["wouldBlockPolicies"][0]["id"] == kPilotId);
}
