#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

using namespace rulestest;

namespace {

json document(json clients) {
    json doc = tenant(json::object(), {{"hveAccounts", {hve_account("c8000000-0000-4000-8000-000000000001", "hve@contoso.com")}}});
    if (!clients.is_null()) doc["smtpClients"] = std::move(clients);
    return doc;
}

json device(const std::string& name, const std::string& auth, const std::string& username) {
    return {{"name", name}, {"host", "smtp.hve.mx.microsoft"}, {"port", 587}, {"security", "starttls"},
            {"auth", auth}, {"username", username}};
}

std::vector<Finding> scan(const json& doc, const std::string& asOf = "2026-11-27") {
    return run_rule(tenantscan::rules::make_hve_basic_auth_sunset_rule(), doc, as_of(asOf));
}

}  // namespace

TEST_CASE("hve-basic-auth-sunset: registered, and its doc page matches its metadata") {
    check_registered_and_documented("hve-basic-auth-sunset", "rules/hve/hve_basic_auth_sunset.md");
}

TEST_CASE("hve-basic-auth-sunset: Basic on HVE is an info finding, OAuth passes, other devices are left out") {
    const auto findings = scan(document({device("scanner", "basic", "hve@contoso.com"),
                                         device("app", "oauth", "hve@contoso.com"),
                                         device("other", "basic", "someone@contoso.com")}));
    REQUIRE(findings.size() == 2);
    Finding basic = finding_for(findings, "scanner");
    CHECK(basic.status == Status::Fail);
    CHECK(basic.severity == Severity::Info);
    CHECK(contains(basic.message, "September 2028"));
    CHECK(contains(basic.remediation, "Add-HVEAppAccess -Identity hve@contoso.com"));
    CHECK(finding_for(findings, "app").status == Status::Pass);
}

// hve.basicAuthEndsOn (2028-09-30) is the day Basic auth on HVE ends: critical on it and after it,
// as the rule's doc, docs/schedules.md and rules/schedules.json say.
TEST_CASE("hve-basic-auth-sunset: the day before the end date is info, the day itself and after are critical") {
    const json doc = document({device("scanner", "basic", "hve@contoso.com")});
    Finding before = single(scan(doc, "2028-09-29"));
    CHECK(before.severity == Severity::Info);
    CHECK(contains(before.message, "1 day left"));
    Finding on = single(scan(doc, "2028-09-30"));
    CHECK(on.status == Status::Fail);
    CHECK(on.severity == Severity::Critical);
    CHECK(contains(on.message, "ends today"));
    Finding after = single(scan(doc, "2028-10-01"));
    CHECK(after.severity == Severity::Critical);
    CHECK(contains(after.message, "ended"));
}

TEST_CASE("hve-basic-auth-sunset: every document states the same day-of behaviour") {
    const std::string schedules = testsupport::read_file(testsupport::source_dir() + "/docs/schedules.md");
    CHECK(contains(schedules, "critical on it and after it"));
    const std::string json = testsupport::read_file(testsupport::source_dir() + "/rules/schedules.json");
    CHECK(contains(json, "critical on it and after it"));
    const std::string doc = testsupport::read_file(testsupport::source_dir() + "/rules/hve/hve_basic_auth_sunset.md");
    CHECK(contains(doc, "critical on the end date and after it"));
}

TEST_CASE("hve-basic-auth-sunset: no inventory or no HVE device → not-applicable, a bad row → error") {
    CHECK(single(scan(document(nullptr))).status == Status::NotApplicable);
    CHECK(single(scan(document({device("other", "basic", "someone@contoso.com")}))).status == Status::NotApplicable);
    CHECK(single(scan(document({device("bad", "password", "hve@contoso.com")}))).status == Status::Error);
}
