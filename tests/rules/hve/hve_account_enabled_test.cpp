#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"
#include <tenantscan/builtin_rules.hpp>

using namespace rulestest;

namespace {

const std::string kScannerId = "a7000000-0000-4000-8000-000000000001";
const std::string kScanner = "scanner@contoso.com";

json document(json scannerUser) {
    return tenant({{"users", {std::move(scannerUser)}}}, {{"hveAccounts", {hve_account(kScannerId, kScanner)}}});
}

std::vector<Finding> scan(const json& doc) { return run_rule(tenantscan::rules::make_hve_account_enabled_rule(), doc); }

}  // namespace

TEST_CASE("hve-account-enabled: registered, and its doc page matches its metadata") {
    check_registered_and_documented("hve-account-enabled", "rules/hve/hve_account_enabled.md");
}

// Entra refuses every sign-in of a disabled user (accountEnabled false), before Conditional Access
// or Exchange: the HVE account cannot send at all.
TEST_CASE("hve-account-enabled: a disabled HVE account fails, naming the fix") {
    const Finding f = finding_for(scan(document(user(kScannerId, kScanner, {{"accountEnabled", false}}))), kScanner);
    CHECK(f.status == Status::Fail);
    CHECK(f.severity == Severity::Critical);
    CHECK(f.subject.kind == "hveAccount");
    CHECK(f.subject.id == kScannerId);
    CHECK(contains(f.message, "disabled"));
    CHECK(contains(f.message, "cannot sign in"));
    CHECK(f.evidence["accountEnabled"] == false);
    CHECK(contains(f.remediation, "-AccountEnabled:$true"));
    CHECK(contains(f.remediation, kScannerId));
}

TEST_CASE("hve-account-enabled: an enabled HVE account passes") {
    const Finding f = finding_for(scan(document(user(kScannerId, kScanner))), kScanner);
    CHECK(f.status == Status::Pass);
    CHECK(f.evidence["accountEnabled"] == true);
}

TEST_CASE("hve-account-enabled: accountEnabled not exported (absent or null) is review, not pass") {
    json absent = user(kScannerId, kScanner);
    absent.erase("accountEnabled");
    json null = user(kScannerId, kScanner, {{"accountEnabled", nullptr}});
    for (const json& u : {absent, null}) {
        const Finding f = finding_for(scan(document(u)), kScanner);
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "accountEnabled"));
        CHECK(f.evidence["accountEnabled"].is_null());
    }
}

TEST_CASE("hve-account-enabled: the account's Entra user missing from /graph/users is review") {
    const Finding f = finding_for(scan(document(user("a7000000-0000-4000-8000-0000000000ff", "other@contoso.com"))),
                                  kScanner);
    CHECK(f.status == Status::Review);
    CHECK(contains(f.message, "not in /graph/users"));
}

TEST_CASE("hve-account-enabled: no HVE accounts is not applicable, /graph/users missing is an error") {
    CHECK(single(scan(tenant({{"users", json::array()}}, {{"hveAccounts", json::array()}}))).status ==
          Status::NotApplicable);
    CHECK(single(scan(tenant(json::object(), {{"hveAccounts", {hve_account(kScannerId, kScanner)}}}))).status ==
          Status::Error);
}

// The whole catalogue: a disabled HVE account does not pass every rule any more.
TEST_CASE("hve-account-enabled: in a full scan, a disabled HVE account gets a failing finding") {
    tenantscan::Registry registry;
    tenantscan::register_builtin_rules(registry);
    tenantscan::ScanOptions options;
    options.asOf = "2026-11-27";
    const auto snapshot = testsupport::snapshot_from(document(user(kScannerId, kScanner, {{"accountEnabled", false}})));
    const auto report = tenantscan::run_scan(snapshot, registry, options);
    CHECK(std::any_of(report.findings.begin(), report.findings.end(), [](const Finding& f) {
        return f.subject.name == kScanner && f.status == Status::Fail && f.rule == "hve-account-enabled";
    }));
}
