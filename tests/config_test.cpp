// The configuration file and the gate, end to end through the CLI: rules, parameters, waivers
// (applied, expired, stale), gate settings, and the errors that name the offending JSON pointer.
#include <doctest/doctest.h>

#include <filesystem>

#include <tenantscan/config.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/builtin_rules.hpp>

#include "support.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

const std::string kAsOf = "2026-11-27";

std::string fabrikam() { return testsupport::example_snapshot("fabrikam-broken"); }

struct Scan {
    int exitCode;
    json report;
    std::string err;
};

Scan scan(const std::string& snapshot, std::vector<std::string> extra) {
    std::vector<std::string> args = {"scan", snapshot, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    if (std::find(args.begin(), args.end(), "--as-of") == args.end()) args.insert(args.end(), {"--as-of", kAsOf});
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE((r.exitCode == 0 || r.exitCode == 1));
    return {r.exitCode, json::parse(r.out), r.err};
}

Scan scan_with_config(const json& config, std::vector<std::string> extra = {}) {
    testsupport::TempFile file(config.dump(2));
    extra.insert(extra.end(), {"--config", file.path()});
    return scan(fabrikam(), extra);
}

// The findings of the plain scan that a waiver could cover (an error never is: docs/config.md).
std::vector<json> waivable_findings() {
    std::vector<json> out;
    const auto plain = scan(fabrikam(), {"--no-config"});
    for (const auto& f : plain.report["findings"])
        if (f["status"] == "fail" || f["status"] == "review") out.push_back(f);
    return out;
}

json waiver(const json& finding, const std::string& expires = "2027-01-31") {
    return {{"rule", finding["rule"]}, {"subject", finding["subject"]["name"]}, {"reason", "accepted for the test"},
            {"expires", expires}, {"approvedBy", "ciso@fabrikam.com"}};
}

const json* find_finding(const json& report, const std::string& rule, const std::string& subject) {
    for (const auto& f : report["findings"])
        if (f["rule"] == rule && f["subject"]["name"] == subject) return &f;
    return nullptr;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("config: waived findings are reported as waived with their reason and do not gate") {
    auto findings = waivable_findings();
    REQUIRE(!findings.empty());
    json waivers = json::array();
    for (const auto& f : findings) waivers.push_back(waiver(f));
    auto result = scan_with_config({{"waivers", waivers}});
    CHECK(result.exitCode == 0);
    const auto& s = result.report["summary"];
    CHECK(s["gate"] == "passed");
    CHECK(s["fail"] == 0);
    CHECK(s["review"] == 0);
    CHECK(s["error"] == 0);
    CHECK(s["waived"] == findings.size());
    for (const auto& original : findings) {
        const json* f = find_finding(result.report, original["rule"], original["subject"]["name"]);
        REQUIRE(f);
        CHECK((*f)["status"] == "waived");
        CHECK((*f)["severity"] == original["severity"]);
        CHECK((*f)["waiver"]["reason"] == "accepted for the test");
        CHECK((*f)["waiver"]["originalStatus"] == original["status"]);
        CHECK((*f)["waiver"]["expired"] == false);
        CHECK((*f)["waiver"]["approvedBy"] == "ciso@fabrikam.com");
    }
    for (const auto& w : result.report["waivers"]) CHECK(w["state"] == "applied");
}

TEST_CASE("config: a waiver subject can be a case-insensitive glob") {
    auto result = scan_with_config(
        {{"waivers", {{{"rule", "hve-conditional-access"}, {"subject", "*@FABRIKAM.COM"}, {"reason", "rollout"}, {"expires", "2027-01-31"}}}}});
    int waived = 0;
    for (const auto& f : result.report["findings"]) {
        if (f["rule"] != "hve-conditional-access") continue;
        CHECK(f["status"] != "fail");
        CHECK(f["status"] != "review");
        if (f["status"] == "waived") ++waived;
    }
    CHECK(waived > 0);
    CHECK(result.report["waivers"][0]["matchedFindings"] == waived);

    tenantscan::Subject subject{"hveAccount", "e1000000-0000-4000-8000-000000000001", "MFP-Floor2@fabrikam.com"};
    CHECK(tenantscan::subject_matches("mfp-floor?@fabrikam.com", subject));
    CHECK(tenantscan::subject_matches("*floor*", subject));
    CHECK(tenantscan::subject_matches("e1000000-*", subject));
    CHECK(tenantscan::subject_matches("*", subject));
    CHECK_FALSE(tenantscan::subject_matches("mfp-floor2", subject));
    CHECK_FALSE(tenantscan::subject_matches("*@contoso.com", subject));
    CHECK_FALSE(tenantscan::subject_matches("mfp-floor??@fabrikam.com", subject));
}

TEST_CASE("config: a waiver applies through its expiry day and stops applying after it, and the report says so") {
    auto findings = waivable_findings();
    const json* fail = nullptr;
    for (const auto& f : findings)
        if (f["status"] == "fail") fail = &f;
    REQUIRE(fail);
    const json config = {{"waivers", {waiver(*fail, "2026-11-26")}}};

    auto onTheDay = scan_with_config(config, {"--as-of", "2026-11-26"});
    CHECK((*find_finding(onTheDay.report, (*fail)["rule"], (*fail)["subject"]["name"]))["status"] == "waived");
    CHECK(onTheDay.report["waivers"][0]["state"] == "applied");

    auto after = scan_with_config(config, {"--as-of", "2026-11-27"});
    const json* f = find_finding(after.report, (*fail)["rule"], (*fail)["subject"]["name"]);
    CHECK((*f)["status"] == "fail");
    CHECK((*f)["waiver"]["expired"] == true);
    CHECK((*f)["waiver"]["expires"] == "2026-11-26");
    CHECK(after.report["waivers"][0]["state"] == "expired");
    CHECK(after.exitCode == 1);
    bool mentioned = false;
    for (const auto& reason : after.report["summary"]["gateReasons"])
        mentioned = mentioned || contains(reason.get<std::string>(), "1 with an expired waiver");
    CHECK(mentioned);

    testsupport::TempFile file(config.dump());
    auto text = run_cli({"scan", fabrikam(), "--as-of", "2026-11-27", "--config", file.path()});
    CHECK(contains(text.out, "Waiver expired on 2026-11-26, so it no longer applies"));
    CHECK(contains(text.out, "expired: " + (*fail)["rule"].get<std::string>()));
}

TEST_CASE("config: a waiver that matches nothing to waive is reported as stale") {
    const json* passing = nullptr;
    auto plain = scan(fabrikam(), {"--no-config"});
    for (const auto& f : plain.report["findings"])
        if (f["status"] == "pass") passing = &f;
    REQUIRE(passing);
    const json config = {{"waivers",
                          {{{"rule", "hve-conditional-access"}, {"subject", "nobody@fabrikam.com"}, {"reason", "typo"}, {"expires", "2027-01-31"}},
                           waiver(*passing)}}};
    auto result = scan_with_config(config);
    for (const auto& w : result.report["waivers"]) {
        CHECK(w["state"] == "stale");
        CHECK(w["matchedFindings"] == 0);
    }
    CHECK(result.report["summary"]["waived"] == 0);
    CHECK(result.exitCode == plain.exitCode);  // stale waivers are reported, they do not gate

    testsupport::TempFile file(config.dump());
    auto text = run_cli({"scan", fabrikam(), "--as-of", kAsOf, "--config", file.path()});
    CHECK(contains(text.out, "stale:   hve-conditional-access / nobody@fabrikam.com"));
}

TEST_CASE("config: rules can be disabled, their severity overridden and their parameters set") {
    auto result = scan_with_config({{"rules",
                                     {{"hve-conditional-access", {{"enabled", false}}},
                                      {"hve-authentication-policy", {{"severity", "info"}}},
                                      {"hve-exclusion-group", {{"parameters", {{"group", "No Such HVE Group"}}}}}}}});
    bool sawExclusionGroup = false;
    for (const auto& f : result.report["findings"]) {
        CHECK(f["rule"] != "hve-conditional-access");
        if (f["rule"] == "hve-authentication-policy") CHECK(f["severity"] == "info");
        if (f["rule"] == "hve-exclusion-group" && f["subject"]["kind"] == "tenant") {
            sawExclusionGroup = true;
            CHECK(f["status"] == "fail");
            CHECK(contains(f["message"].get<std::string>(), "No Such HVE Group"));
        }
    }
    CHECK(sawExclusionGroup);
    const auto& configuration = result.report["configuration"];
    CHECK(configuration["disabledRules"] == json::array({"hve-conditional-access"}));
    CHECK(configuration["severityOverrides"]["hve-authentication-policy"] == "info");
    CHECK(configuration["parameters"]["hve-exclusion-group.group"] == "No Such HVE Group");
}

TEST_CASE("config: break-glass accounts whose exclusion from the legacy block is accepted") {
    auto legacy = [](const Scan& result) {
        return find_finding(result.report, "tenant-legacy-auth-protection", "2b7e1f3a-9c4d-4e5f-8a6b-1c2d3e4f5a6b");
    };
    const auto plain = scan(fabrikam(), {"--no-config"});
    REQUIRE(legacy(plain) != nullptr);
    CHECK((*legacy(plain))["status"] == "review");

    const auto accepted = scan_with_config(
        {{"rules", {{"tenant-legacy-auth-protection", {{"parameters", {{"breakGlass", {"legacy AUTH exceptions"}}}}}}}}});
    REQUIRE(legacy(accepted) != nullptr);
    CHECK((*legacy(accepted))["status"] == "pass");
    CHECK((*legacy(accepted))["evidence"]["breakGlass"]["accepted"]["count"] == 1);
    CHECK(accepted.report["configuration"]["parameters"]["tenant-legacy-auth-protection.breakGlass"] ==
          json{"legacy AUTH exceptions"});

    testsupport::TempFile wrongType(
        json{{"rules", {{"tenant-legacy-auth-protection", {{"parameters", {{"breakGlass", "Break glass"}}}}}}}}.dump());
    auto r = run_cli({"scan", fabrikam(), "--as-of", kAsOf, "--config", wrongType.path()});
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(contains(r.err, "/rules/tenant-legacy-auth-protection/parameters/breakGlass"), r.err);
}

TEST_CASE("config: the gate settings come from the file, and flags win over them") {
    auto plain = scan(fabrikam(), {"--no-config"});
    // What the gate must say at a threshold, computed from the findings.
    auto expected_exit = [&](const std::string& threshold) {
        const auto failOn = *tenantscan::parse_severity(threshold);
        for (const auto& f : plain.report["findings"]) {
            if (f["status"] == "error") return 1;
            if (f["status"] == "fail" && tenantscan::at_least(*tenantscan::parse_severity(f["severity"].get<std::string>()), failOn))
                return 1;
        }
        return 0;
    };
    auto critical = scan_with_config({{"gate", {{"failOn", "critical"}}}});
    CHECK(critical.report["summary"]["failOn"] == "critical");
    CHECK(critical.exitCode == expected_exit("critical"));
    auto overridden = scan_with_config({{"gate", {{"failOn", "critical"}}}}, {"--fail-on", "low"});
    CHECK(overridden.report["summary"]["failOn"] == "low");
    CHECK(overridden.exitCode == expected_exit("low"));
    CHECK(expected_exit("low") == 1);
}

TEST_CASE("gate: --fail-on-review fails the gate on review findings and says why") {
    json waivers = json::array();
    int reviews = 0;
    for (const auto& f : waivable_findings()) {
        if (f["status"] == "review") ++reviews;
        else waivers.push_back(waiver(f));
    }
    REQUIRE(reviews > 0);
    auto relaxed = scan_with_config({{"waivers", waivers}});
    CHECK(relaxed.exitCode == 0);
    CHECK(relaxed.report["summary"]["review"] == reviews);

    auto strict = scan_with_config({{"waivers", waivers}}, {"--fail-on-review"});
    CHECK(strict.exitCode == 1);
    CHECK(strict.report["summary"]["failOnReview"] == true);
    const auto& reasons = strict.report["summary"]["gateReasons"];
    REQUIRE(reasons.size() == 1);
    CHECK(contains(reasons[0].get<std::string>(), "to review at severity low or above (fail-on-review is set)"));

    auto fromFile = scan_with_config({{"waivers", waivers}, {"gate", {{"failOnReview", true}}}});
    CHECK(fromFile.exitCode == 1);
}

TEST_CASE("config: tenantscan.json beside the snapshot is read by default, --no-config ignores it") {
    testsupport::TempDir dir;
    std::filesystem::copy_file(fabrikam(), dir.file("snapshot.json"));
    testsupport::write_file(dir.file("tenantscan.json"), R"({"rules": {"hve-conditional-access": {"enabled": false}}})");
    auto configured = scan(dir.file("snapshot.json"), {});
    CHECK(configured.report["configuration"]["file"] == dir.file("tenantscan.json"));
    for (const auto& f : configured.report["findings"]) CHECK(f["rule"] != "hve-conditional-access");

    auto ignored = scan(dir.file("snapshot.json"), {"--no-config"});
    CHECK_FALSE(ignored.report.contains("configuration"));
    CHECK(std::any_of(ignored.report["findings"].begin(), ignored.report["findings"].end(),
                      [](const json& f) { return f["rule"] == "hve-conditional-access"; }));
}

TEST_CASE("config: invalid settings exit 2 naming the file and the JSON pointer") {
    struct Case {
        std::string config;
        std::string expected;
    };
    const Case cases[] = {
        {R"({"rules": {"hve-conditional-acess": {"enabled": false}}})",
         "/rules/hve-conditional-acess: unknown rule id \"hve-conditional-acess\""},
        {R"({"rules": {"hve-exclusion-group": {"parameters": {"grp": "x"}}}})",
         "/rules/hve-exclusion-group/parameters/grp: unknown parameter \"grp\" of rule hve-exclusion-group (it has: group)"},
        {R"({"rules": {"hve-exclusion-group": {"parameters": {"group": 7}}}})",
         "/rules/hve-exclusion-group/parameters/group: expected a string like the default"},
        {R"({"rules": {"hve-conditional-access": {"severity": "urgent"}}})",
         "/rules/hve-conditional-access/severity: unknown severity \"urgent\""},
        {R"({"rules": {"hve-conditional-access": {"enable": false}}})",
         "/rules/hve-conditional-access/enable: unknown setting \"enable\""},
        {R"({"waiver": []})", "/waiver: unknown setting \"waiver\""},
        {R"({"gate": {"failOn": "severe"}})", "/gate/failOn: unknown severity \"severe\""},
        {R"({"schedule": "2031-13"})", "/schedule: "},
        {R"({"waivers": [{"rule": "no-such-rule", "subject": "x", "reason": "r", "expires": "2027-01-01"}]})",
         "/waivers/0/rule: unknown rule id \"no-such-rule\""},
        {R"({"waivers": [{"rule": "hve-conditional-access", "subject": "x", "expires": "2027-01-01"}]})",
         "/waivers/0/reason: a waiver needs \"reason\""},
        {R"({"waivers": [{"rule": "hve-conditional-access", "subject": "x", "reason": "  ", "expires": "2027-01-01"}]})",
         "/waivers/0/reason: must not be empty"},
        {R"({"waivers": [{"rule": "hve-conditional-access", "subject": "x", "reason": "r"}]})",
         "/waivers/0/expires: a waiver needs \"expires\""},
        {R"({"waivers": [{"rule": "hve-conditional-access", "subject": "x", "reason": "r", "expires": "2027-02-30"}]})",
         "/waivers/0/expires: expected a date YYYY-MM-DD, got \"2027-02-30\""},
        {R"({"waivers": {"rule": "hve-conditional-access"}})", "/waivers: expected an array of waivers, got an object"},
        {R"([1, 2])", ": expected a tenantscan configuration object, got an array"},
        {R"({"configVersion": 2})", "/configVersion: unsupported configuration version"},
        {R"({"rules": )", "tenantscan-test-"},
    };
    for (const auto& c : cases) {
        testsupport::TempFile file(c.config);
        auto r = run_cli({"scan", fabrikam(), "--as-of", kAsOf, "--config", file.path()});
        INFO(c.config << "\n" << r.err);
        CHECK(r.exitCode == 2);
        CHECK(contains(r.err, file.path()));
        CHECK(contains(r.err, c.expected));
        CHECK(r.out.empty());
    }
    auto missing = run_cli({"scan", fabrikam(), "--config", "/nonexistent/tenantscan.json"});
    CHECK(missing.exitCode == 2);
    CHECK(contains(missing.err, "/nonexistent/tenantscan.json"));
}

TEST_CASE("config: the example configuration file is valid") {
    auto r = run_cli({"scan", fabrikam(), "--as-of", kAsOf, "--format", "json", "--config",
                      testsupport::source_dir() + "/examples/config/tenantscan.json"});
    INFO(r.err);
    REQUIRE((r.exitCode == 0 || r.exitCode == 1));
    auto report = json::parse(r.out);
    CHECK(report["summary"]["waived"].get<int>() > 0);
    CHECK(report["summary"]["failOn"] == "high");
}

TEST_CASE("config: load_config in the library checks against the registered rules") {
    tenantscan::Registry registry;
    tenantscan::register_builtin_rules(registry);
    auto config = tenantscan::decode_config(
        json::parse(R"({"rules": {"hve-exclusion-group": {"parameters": {"group": "HVE"}}}, "schedule": "2025-06",
                        "waivers": [{"rule": "hve-conditional-access", "subject": "*", "reason": "r", "expires": "2027-01-01"}]})"),
        "inline.json", registry);
    tenantscan::ScanOptions options;
    config.apply_rule_settings(options);
    CHECK(options.parameters.at("hve-exclusion-group.group") == "HVE");
    CHECK(options.schedule == "2025-06");
    REQUIRE(options.waivers.size() == 1);
    CHECK(options.waivers[0].origin == "inline.json: /waivers/0");
}
