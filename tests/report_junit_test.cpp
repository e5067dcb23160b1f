// JUnit XML output, end to end through the CLI, read back by an XML parser as CI servers do.
#include <doctest/doctest.h>

#include "report_fixtures.hpp"
#include "support.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

struct JUnit {
    json report;  // the JSON report of the same scan
    json parsed;  // check_junit.py's view: totals and cases
};

JUnit scan_junit(const std::string& snapshot, std::vector<std::string> extra = {}) {
    testsupport::TempDir dir;
    std::vector<std::string> args = {"scan", snapshot, "--as-of", "2026-11-27", "--no-config", "--output",
                                     "junit=" + dir.file("TEST-tenantscan.xml"), "--output", "json=" + dir.file("report.json")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE((r.exitCode == 0 || r.exitCode == 1));
    auto check = testsupport::run_program(
        "/usr/bin/python3", {testsupport::source_dir() + "/tests/tools/check_junit.py", dir.file("TEST-tenantscan.xml")});
    INFO(check.err);
    REQUIRE(check.exitCode == 0);
    return {json::parse(testsupport::read_file(dir.file("report.json"))), json::parse(check.out)};
}

}  // namespace

TEST_CASE("junit: one testcase per finding, named by rule and subject, with consistent counts") {
    auto [report, junit] = scan_junit(testsupport::example_snapshot("fabrikam-broken"));
    const auto& s = report["summary"];
    const auto& totals = junit["totals"];
    CHECK(totals["tests"] == report["findings"].size());
    CHECK(totals["failures"] == s["fail"]);
    CHECK(totals["errors"] == s["error"]);
    CHECK(totals["skipped"].get<int>() == s["notApplicable"].get<int>() + s["review"].get<int>() + s["waived"].get<int>());
    REQUIRE(junit["cases"].size() == report["findings"].size());
    const std::map<std::string, std::string> outcomes = {
        {"pass", "passed"}, {"fail", "failure"}, {"error", "error"}, {"not-applicable", "skipped"}, {"review", "skipped"}};
    for (std::size_t i = 0; i < report["findings"].size(); ++i) {
        const auto& finding = report["findings"][i];
        const auto& c = junit["cases"][i];
        INFO(finding.dump());
        CHECK(c["classname"] == finding["rule"]);
        CHECK(c["suite"] == finding["rule"]);
        CHECK(c["name"] == finding["subject"]["name"]);
        CHECK(c["outcome"] == outcomes.at(finding["status"]));
        if (finding["status"] == "fail") {
            CHECK(c["type"] == finding["severity"]);
            CHECK(c["message"] == finding["message"]);
            CHECK(c["text"].get<std::string>().find(finding["remediation"].get<std::string>()) != std::string::npos);
        }
    }
    CHECK(s["fail"].get<int>() > 0);
}

TEST_CASE("junit: review findings are failures when reviews fail the gate") {
    auto without = scan_junit(testsupport::example_snapshot("fabrikam-broken"));
    auto with = scan_junit(testsupport::example_snapshot("fabrikam-broken"), {"--fail-on-review"});
    const int reviews = without.report["summary"]["review"];
    REQUIRE(reviews > 0);
    CHECK(with.parsed["totals"]["failures"].get<int>() == without.parsed["totals"]["failures"].get<int>() + reviews);
    int reviewFailures = 0;
    for (const auto& c : with.parsed["cases"])
        if (c["outcome"] == "failure" && c["type"] == "review") ++reviewFailures;
    CHECK(reviewFailures == reviews);
}

TEST_CASE("junit: markup and control characters in tenant data are escaped") {
    testsupport::TempDir dir;
    reportfixtures::write_hostile_snapshot(dir.file("snapshot.json"));
    auto [report, junit] = scan_junit(dir.file("snapshot.json"));
    // Well-formed (check_junit.py parsed it), and the hostile names come back as plain text.
    bool found = false;
    for (const auto& c : junit["cases"]) {
        const std::string text = c["message"].get<std::string>() + c["text"].get<std::string>();
        if (text.find("<script>document.documentElement") != std::string::npos &&
            text.find("]]> **bold** | pipe") != std::string::npos)
            found = true;
    }
    CHECK(found);
}
