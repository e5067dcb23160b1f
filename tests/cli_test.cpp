// The command line as a user runs it: exit codes, output shapes, help, error messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "support.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

std::string example(const std::string& name) { return testsupport::source_dir() + "/examples/" + name + "/snapshot.json"; }

json scan_json(const std::string& snapshot, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"scan", snapshot, "--format", "json", "--as-of", "2026-11-27"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE((r.exitCode == 0 || r.exitCode == 1));
    return json::parse(r.out);
}

}  // namespace

TEST_CASE("cli: the ready example passes the gate with exit code 0") {
    auto r = run_cli({"scan", example("contoso-ready"), "--as-of", "2026-11-27"});
    INFO(r.out << r.err);
    CHECK(r.exitCode == 0);
    CHECK(r.out.find("Gate: PASSED") != std::string::npos);
    CHECK(r.out.find("\x1b[") == std::string::npos);  // piped: no colour
}

TEST_CASE("cli: the broken example fails the gate with exit code 1 and says why") {
    auto r = run_cli({"scan", example("fabrikam-broken"), "--as-of", "2026-11-27"});
    INFO(r.out << r.err);
    CHECK(r.exitCode == 1);
    CHECK(r.out.find("Gate: FAILED") != std::string::npos);
    CHECK(r.out.find("FAILURES") != std::string::npos);
    // Worst first: failures are listed before passes.
    CHECK(r.out.find("FAILURES") < r.out.find("PASSED"));
}

TEST_CASE("cli: JSON report v1 has the contract's shape, sorted findings and consistent counts") {
    auto report = scan_json(example("fabrikam-broken"));
    CHECK(report["reportVersion"] == 1);
    CHECK(report["tool"]["name"] == "tenantscan");
    CHECK(report["tenant"]["id"] == "2b7e1f3a-9c4d-4e5f-8a6b-1c2d3e4f5a6b");
    CHECK(report["asOf"] == "2026-11-27");
    CHECK(report["snapshot"] == example("fabrikam-broken"));
    const auto& findings = report["findings"];
    REQUIRE(findings.is_array());
    REQUIRE(!findings.empty());

    std::map<std::string, int> counts;
    const std::set<std::string> statuses = {"pass", "fail", "review", "not-applicable", "error"};
    const std::set<std::string> severities = {"critical", "high", "medium", "low", "info"};
    std::pair<std::string, std::string> previous;
    for (const auto& f : findings) {
        CHECK(statuses.count(f["status"].get<std::string>()) == 1);
        CHECK(severities.count(f["severity"].get<std::string>()) == 1);
        CHECK(f["subject"].contains("kind"));
        CHECK(f["subject"].contains("id"));
        CHECK(f["subject"].contains("name"));
        CHECK(f["message"].is_string());
        CHECK(f["evidence"].is_object());
        CHECK(f["remediation"].is_string());
        std::pair<std::string, std::string> key{f["rule"], f["subject"]["name"]};
        CHECK(previous <= key);
        previous = key;
        ++counts[f["status"]];
    }
    const auto& s = report["summary"];
    CHECK(s["pass"] == counts["pass"]);
    CHECK(s["fail"] == counts["fail"]);
    CHECK(s["review"] == counts["review"]);
    CHECK(s["notApplicable"] == counts["not-applicable"]);
    CHECK(s["error"] == counts["error"]);
    CHECK(s["gate"] == "failed");
    CHECK(counts["fail"] > 0);
}

TEST_CASE("cli: the same snapshot gives byte-identical JSON reports") {
    auto a = run_cli({"scan", example("fabrikam-broken"), "--format", "json", "--as-of", "2026-11-27"});
    auto b = run_cli({"scan", example("fabrikam-broken"), "--format", "json", "--as-of", "2026-11-27"});
    CHECK(a.out == b.out);
}

TEST_CASE("cli: --fail-on raises the gate threshold, errors always fail it") {
    auto report = scan_json(example("fabrikam-broken"));
    // Highest severity among failures decides whether --fail-on critical still fails the gate.
    bool criticalFail = false;
    for (const auto& f : report["findings"])
        if (f["status"] == "fail" && f["severity"] == "critical") criticalFail = true;
    auto r = run_cli({"scan", example("fabrikam-broken"), "--as-of", "2026-11-27", "--fail-on", "critical"});
    CHECK(r.exitCode == (criticalFail ? 1 : 0));

    // A snapshot with only a tenant id: every rule that needs a section lacks it → errors → the gate
    // fails at any threshold. A rule that needs no section (engine-cross-check reads optional input)
    // may say not-applicable, never pass.
    testsupport::TempFile empty(R"({"snapshotVersion": 1, "tenantId": "t-empty"})");
    auto e = run_cli({"scan", empty.path(), "--format", "json", "--fail-on", "critical"});
    CHECK(e.exitCode == 1);
    auto j = json::parse(e.out);
    CHECK(j["summary"]["pass"] == 0);
    CHECK(j["summary"]["error"].get<int>() > 0);
    std::set<std::string> needSections;
    const json catalogue = json::parse(run_cli({"rules", "--format", "json"}).out);
    for (const auto& rule : catalogue["rules"])
        if (!rule["requiredSections"].empty()) needSections.insert(rule["id"].get<std::string>());
    CHECK(needSections.size() + 1 >= catalogue["rules"].size());
    for (const auto& f : j["findings"]) {
        CAPTURE(f["rule"]);
        if (needSections.count(f["rule"].get<std::string>()) == 0) {
            CHECK(f["status"] == "not-applicable");
            continue;
        }
        CHECK(f["status"] == "error");
        CHECK(f["message"].get<std::string>().find("/") != std::string::npos);  // names the missing section
    }
}

TEST_CASE("cli: --output writes the report to a file and nothing to stdout") {
    testsupport::TempFile out("");
    auto r = run_cli({"scan", example("contoso-ready"), "--format", "json", "--output", out.path()});
    CHECK(r.exitCode == 0);
    CHECK(r.out.empty());
    auto report = json::parse(testsupport::read_file(out.path()));
    CHECK(report["summary"]["gate"] == "passed");
}

TEST_CASE("cli: unreadable or invalid input exits 2 with the file and JSON pointer named") {
    auto missing = run_cli({"scan", "/nonexistent/tenant.json"});
    CHECK(missing.exitCode == 2);
    CHECK(missing.err.find("/nonexistent/tenant.json") != std::string::npos);
    CHECK(missing.out.empty());

    testsupport::TempFile bad(R"({"snapshotVersion": 1, "graph": {"conditionalAccessPolicies": "oops"}})");
    auto wrongType = run_cli({"scan", bad.path(), "--format", "json"});
    CHECK(wrongType.exitCode == 2);
    CHECK(wrongType.err.find(bad.path()) != std::string::npos);
    CHECK(wrongType.err.find("/graph/conditionalAccessPolicies") != std::string::npos);
    CHECK(wrongType.out.empty());  // never a partial verdict

    testsupport::TempFile truncated(R"({"snapshotVersion": 1, "graph": {"users": [)");
    auto syntax = run_cli({"scan", truncated.path()});
    CHECK(syntax.exitCode == 2);
    CHECK(syntax.err.find(truncated.path()) != std::string::npos);
}

TEST_CASE("cli: usage errors exit 2, --help exits 0 for every command") {
    CHECK(run_cli({}).exitCode == 2);
    CHECK(run_cli({"frobnicate"}).exitCode == 2);
    CHECK(run_cli({"scan"}).exitCode == 2);
    CHECK(run_cli({"scan", example("contoso-ready"), "--format", "yaml"}).exitCode == 2);
    CHECK(run_cli({"scan", example("contoso-ready"), "--as-of", "2026-02-30"}).exitCode == 2);
    CHECK(run_cli({"scan", example("contoso-ready"), "--fail-on", "urgent"}).exitCode == 2);
    CHECK(run_cli({"whatif", example("contoso-ready")}).exitCode == 2);  // --user is required
    for (const char* command : {"scan", "rules", "whatif"}) {
        auto r = run_cli({command, "--help"});
        CHECK(r.exitCode == 0);
        CHECK(r.out.find("--") != std::string::npos);
    }
    auto top = run_cli({"--help"});
    CHECK(top.exitCode == 0);
    CHECK(top.out.find("Exit codes") != std::string::npos);
}

TEST_CASE("cli: rules lists the catalogue in id order, as text and as JSON") {
    auto r = run_cli({"rules", "--format", "json"});
    REQUIRE(r.exitCode == 0);
    auto j = json::parse(r.out);
    std::vector<std::string> ids;
    for (const auto& rule : j["rules"]) {
        ids.push_back(rule["id"]);
        CHECK(!rule["title"].get<std::string>().empty());
        CHECK(!rule["rationale"].get<std::string>().empty());
        CHECK(!rule["remediation"].get<std::string>().empty());
        CHECK(rule["requiredSections"].is_array());  // empty for rules whose input is optional
    }
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    for (const char* id : {"hve-authentication-policy", "hve-conditional-access", "hve-exclusion-group",
                           "hve-report-only-policies", "hve-security-defaults", "tenant-legacy-auth-protection"})
        CHECK(std::find(ids.begin(), ids.end(), id) != ids.end());
    auto text = run_cli({"rules"});
    CHECK(text.exitCode == 0);
    CHECK(text.out.find("hve-conditional-access") != std::string::npos);
}

TEST_CASE("cli: whatif explains a blocked Basic SMTP sign-in policy by policy") {
    auto r = run_cli({"whatif", example("fabrikam-broken"), "--user", "mfp-floor2@fabrikam.com", "--format", "json"});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    auto j = json::parse(r.out);
    CHECK(j["outcome"] == "blocked");
    CHECK(j["signIn"]["clientAppType"] == "other");
    CHECK(j["signIn"]["application"] == "00000002-0000-0ff1-ce00-000000000000");
    CHECK(j["policies"].size() == 6);
    bool legacyBlock = false;
    for (const auto& p : j["policies"]) {
        if (p["displayName"] == "Block legacy authentication - employees") {
            legacyBlock = true;
            CHECK(p["result"] == "applies");
            CHECK(std::find(p["blockingControls"].begin(), p["blockingControls"].end(), "block") != p["blockingControls"].end());
        }
        if (p["displayName"] == "Old pilot - require compliant device") {
            CHECK(p["result"] == "doesNotApply");
            CHECK(p["analysisReasons"][0] == "policyNotEnabled");
        }
    }
    CHECK(legacyBlock);
    CHECK(!j["assumptions"].empty());

    auto text = run_cli({"whatif", example("fabrikam-broken"), "--user", "mfp-floor2@fabrikam.com"});
    CHECK(text.out.find("Outcome: BLOCKED") != std::string::npos);
}

TEST_CASE("cli: whatif names the unknown location, and decides once the IP is given") {
    auto unknown = run_cli({"whatif", example("fabrikam-broken"), "--user", "backup-alerts@fabrikam.com", "--format", "json"});
    REQUIRE(unknown.exitCode == 0);
    auto j = json::parse(unknown.out);
    CHECK(j["outcome"] == "undetermined");
    CHECK(j["undeterminedBy"].dump().find("location") != std::string::npos);

    auto inside = json::parse(run_cli({"whatif", example("fabrikam-broken"), "--user", "backup-alerts@fabrikam.com",
                                       "--ip", "192.0.2.10", "--format", "json"}).out);
    CHECK(inside["outcome"] == "allowed");
    auto outside = json::parse(run_cli({"whatif", example("fabrikam-broken"), "--user", "backup-alerts@fabrikam.com",
                                        "--ip", "198.51.100.1", "--format", "json"}).out);
    CHECK(outside["outcome"] == "blocked");
}

TEST_CASE("cli: whatif rejects an unknown user and a malformed IP with exit 2") {
    auto r = run_cli({"whatif", example("contoso-ready"), "--user", "nobody@contoso.com"});
    CHECK(r.exitCode == 2);
    CHECK(r.err.find("nobody@contoso.com") != std::string::npos);
    auto ip = run_cli({"whatif", example("contoso-ready"), "--user", "alice@contoso.com", "--ip", "300.1.1.1"});
    CHECK(ip.exitCode == 2);
}

TEST_CASE("cli: security defaults decide, not Conditional Access, when they are on") {
    auto j = json::parse(run_cli({"whatif", example("northwind-defaults"), "--user", "copier-hve@northwindtraders.com",
                                  "--format", "json"}).out);
    CHECK(j["securityDefaultsBlock"] == true);
    CHECK(j["outcome"] == "blocked");
}
