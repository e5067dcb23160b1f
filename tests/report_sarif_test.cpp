// SARIF 2.1.0 output, end to end through the CLI, validated against the official schema.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include <tenantscan/report.hpp>

#include "support.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

const std::string kAsOf = "2026-11-27";

std::string schema_path() { return testsupport::sarif_schema_path(); }

testsupport::CommandResult validate(const std::string& sarifPath) {
    return testsupport::run_program("/usr/bin/python3", {testsupport::source_dir() + "/tests/tools/validate_sarif.py",
                                                         schema_path(), sarifPath});
}

json scan_sarif(const std::string& snapshot, const testsupport::TempDir& dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"scan", snapshot, "--as-of", kAsOf, "--no-config", "--output",
                                     "sarif=" + dir.file("report.sarif"), "--output", "json=" + dir.file("report.json")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE((r.exitCode == 0 || r.exitCode == 1));
    return json::parse(testsupport::read_file(dir.file("report.sarif")));
}

std::string line_of(const std::string& file, int line) {
    std::istringstream in(testsupport::read_file(file));
    std::string text;
    for (int i = 0; i < line && std::getline(in, text); ++i) {
    }
    return text;
}

}  // namespace

TEST_CASE("sarif: the reports of both example tenants are valid SARIF 2.1.0") {
    for (const std::string name : {"fabrikam-broken", "contoso-ready", "northwind-defaults"}) {
        testsupport::TempDir dir;
        scan_sarif(testsupport::example_snapshot(name), dir);
        auto v = validate(dir.file("report.sarif"));
        INFO(name << ": " << v.out << v.err);
        CHECK(v.exitCode == 0);
    }
}

TEST_CASE("sarif: the schema check rejects an invalid document") {
    testsupport::TempDir dir;
    json sarif = scan_sarif(testsupport::example_snapshot("fabrikam-broken"), dir);
    sarif["runs"][0]["results"][0]["kind"] = "broken";
    sarif["runs"][0]["results"][0]["level"] = "fatal";
    testsupport::write_file(dir.file("invalid.sarif"), sarif.dump());
    auto v = validate(dir.file("invalid.sarif"));
    CHECK(v.exitCode == 1);
    CHECK(v.err.find("/runs/0/results/0/kind") != std::string::npos);
}

TEST_CASE("sarif: tool.driver.rules describe each rule from its metadata, with working help links") {
    testsupport::TempDir dir;
    json sarif = scan_sarif(testsupport::example_snapshot("fabrikam-broken"), dir);
    auto catalogue = json::parse(run_cli({"rules", "--format", "json"}).out)["rules"];
    const auto& rules = sarif["runs"][0]["tool"]["driver"]["rules"];
    REQUIRE(rules.size() == catalogue.size());
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const auto& rule = rules[i];
        const auto& meta = catalogue[i];
        INFO(rule["id"]);
        CHECK(rule["id"] == meta["id"]);
        CHECK(rule["shortDescription"]["text"] == meta["title"]);
        CHECK(rule["fullDescription"]["text"] == meta["rationale"]);
        CHECK(rule["help"]["text"].get<std::string>().find(meta["remediation"].get<std::string>()) != std::string::npos);
        const std::string id = meta["id"];
        CHECK(rule["helpUri"] == tenantscan::kRuleDocBaseUrl + tenantscan::rule_doc_path(id));
        // The help link points at the rule's documentation page in this repository.
        CHECK(std::filesystem::exists(testsupport::source_dir() + "/" + tenantscan::rule_doc_path(id)));
        const std::string severity = meta["defaultSeverity"];
        const std::string level = rule["defaultConfiguration"]["level"];
        CHECK(level == (severity == "critical" || severity == "high" ? "error" : severity == "medium" ? "warning" : "note"));
        if (severity == "info") CHECK_FALSE(rule["properties"].contains("security-severity"));
        else CHECK(std::stod(rule["properties"]["security-severity"].get<std::string>()) > 0.0);
    }
    CHECK(tenantscan::rule_doc_path("hve-conditional-access") == "rules/hve/hve_conditional_access.md");
}

TEST_CASE("sarif: one result per finding, kind from the status, level none unless fail") {
    testsupport::TempDir dir;
    json sarif = scan_sarif(testsupport::example_snapshot("fabrikam-broken"), dir);
    json report = json::parse(testsupport::read_file(dir.file("report.json")));
    const auto& results = sarif["runs"][0]["results"];
    const auto& findings = report["findings"];
    REQUIRE(results.size() == findings.size());
    const std::map<std::string, std::string> kinds = {{"pass", "pass"},          {"fail", "fail"},
                                                      {"review", "review"},      {"not-applicable", "notApplicable"},
                                                      {"error", "review"},       {"waived", "fail"}};
    std::set<std::string> seenKinds;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& result = results[i];
        const auto& finding = findings[i];
        INFO(finding.dump());
        CHECK(result["ruleId"] == finding["rule"]);
        CHECK(sarif["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"].get<std::size_t>()]["id"] == finding["rule"]);
        CHECK(result["kind"] == kinds.at(finding["status"]));
        seenKinds.insert(result["kind"]);
        if (finding["status"] == "fail") CHECK(result["level"] != "none");
        else CHECK(result["level"] == "none");
        CHECK(result["message"]["text"].get<std::string>().find(finding["message"].get<std::string>()) != std::string::npos);
        const auto& location = result["locations"][0];
        CHECK(location["physicalLocation"]["region"]["startLine"].get<int>() >= 1);
        CHECK(location["logicalLocations"][0]["name"] == finding["subject"]["name"]);
    }
    CHECK(seenKinds.count("fail"));
    CHECK(seenKinds.count("pass"));
}

TEST_CASE("sarif: fingerprints are unique per finding and stable across scans and as-of dates") {
    testsupport::TempDir first, second;
    json a = scan_sarif(testsupport::example_snapshot("fabrikam-broken"), first);
    run_cli({"scan", testsupport::example_snapshot("fabrikam-broken"), "--as-of", "2026-12-24", "--no-config", "--output",
             "sarif=" + second.file("report.sarif")});
    json b = json::parse(testsupport::read_file(second.file("report.sarif")));
    std::map<std::string, std::string> byFinding;  // rule + subject → fingerprint
    std::set<std::string> unique;
    for (const auto& r : a["runs"][0]["results"]) {
        std::string fingerprint = r["partialFingerprints"]["tenantscanFinding/v1"];
        CHECK(fingerprint.size() == 32);
        CHECK(unique.insert(fingerprint).second);
        byFinding[r["ruleId"].get<std::string>() + " " + r["properties"]["subject"]["id"].get<std::string>()] = fingerprint;
    }
    for (const auto& r : b["runs"][0]["results"]) {
        auto key = r["ruleId"].get<std::string>() + " " + r["properties"]["subject"]["id"].get<std::string>();
        if (byFinding.count(key)) CHECK(byFinding[key] == r["partialFingerprints"]["tenantscanFinding/v1"]);
    }
}

TEST_CASE("sarif: a finding caused by a policy points at that policy's line in the snapshot") {
    testsupport::TempDir dir;
    const std::string snapshot = testsupport::example_snapshot("fabrikam-broken");
    json sarif = scan_sarif(snapshot, dir);
    int checked = 0;
    for (const auto& r : sarif["runs"][0]["results"]) {
        if (r["ruleId"] != "hve-conditional-access" || r["kind"] != "fail") continue;
        const auto& blocking = r["properties"]["evidence"]["blockingPolicies"];
        REQUIRE(!blocking.empty());
        const auto& physical = r["locations"][0]["physicalLocation"];
        CHECK(physical["artifactLocation"]["uri"] == "file://" + snapshot);
        // The region starts at the policy object: its id is on one of the next lines.
        const int line = physical["region"]["startLine"];
        CHECK(line > 1);
        std::string window;
        for (int i = line; i < line + 4; ++i) window += line_of(snapshot, i);
        CHECK(window.find(blocking[0]["id"].get<std::string>()) != std::string::npos);
        ++checked;
    }
    CHECK(checked > 0);
}

TEST_CASE("sarif: relative snapshot paths are relative to the source root, with spaces encoded") {
    testsupport::TempDir dir;
    std::filesystem::create_directory(dir.file("my tenant"));
    std::filesystem::copy_file(testsupport::example_snapshot("contoso-ready"), dir.file("my tenant/snap shot.json"));
    auto r = testsupport::run_program("/bin/sh", {"-c", "cd " + dir.path() + " && " + testsupport::cli_path() +
                                                            " scan './my tenant/snap shot.json' --as-of 2026-11-27 "
                                                            "--format sarif --output out.sarif"});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    json sarif = json::parse(testsupport::read_file(dir.file("out.sarif")));
    for (const auto& result : sarif["runs"][0]["results"]) {
        const auto& artifact = result["locations"][0]["physicalLocation"]["artifactLocation"];
        CHECK(artifact["uri"] == "my%20tenant/snap%20shot.json");
        CHECK(artifact["uriBaseId"] == "%SRCROOT%");
    }
    CHECK(validate(dir.file("out.sarif")).exitCode == 0);
}

TEST_CASE("sarif: a waived finding carries an accepted suppression, an expired waiver none") {
    testsupport::TempDir dir;
    const json config = {{"waivers",
                          {{{"rule", "hve-conditional-access"}, {"subject", "crm-notify@fabrikam.com"}, {"reason", "CHG-1"},
                            {"expires", "2027-01-31"}, {"approvedBy", "ciso@fabrikam.com"}},
                           {{"rule", "hve-conditional-access"}, {"subject", "mfp-floor2@fabrikam.com"}, {"reason", "CHG-2"},
                            {"expires", "2026-11-01"}}}}};
    testsupport::write_file(dir.file("tenantscan.json"), config.dump());
    json sarif = scan_sarif(testsupport::example_snapshot("fabrikam-broken"), dir, {"--config", dir.file("tenantscan.json")});
    auto v = validate(dir.file("report.sarif"));
    INFO(v.err);
    CHECK(v.exitCode == 0);
    int checked = 0;
    for (const auto& r : sarif["runs"][0]["results"]) {
        if (r["ruleId"] != "hve-conditional-access") continue;
        const std::string subject = r["properties"]["subject"]["name"];
        if (subject == "crm-notify@fabrikam.com") {
            CHECK(r["kind"] == "fail");
            CHECK(r["level"] == "error");
            REQUIRE(r.contains("suppressions"));
            CHECK(r["suppressions"][0]["kind"] == "external");
            CHECK(r["suppressions"][0]["status"] == "accepted");
            CHECK(r["suppressions"][0]["justification"].get<std::string>().rfind("CHG-1 (waiver until 2027-01-31, approved by ciso@fabrikam.com", 0) == 0);
            ++checked;
        } else if (subject == "mfp-floor2@fabrikam.com") {
            CHECK(r["kind"] == "fail");
            CHECK_FALSE(r.contains("suppressions"));
            CHECK(r["properties"]["waiver"]["expired"] == true);
            CHECK(r["message"]["text"].get<std::string>().find("expired on 2026-11-01") != std::string::npos);
            ++checked;
        }
    }
    CHECK(checked == 2);
}
