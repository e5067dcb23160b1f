// The streaming SARIF writer (write_report_sarif) against report_to_sarif(report).dump(2), and a scan with
// several outputs against the same scan with one output each: same bytes. `scan` writes every output
// into its file as it is made (docs/performance.md), so several outputs cost no more memory than the
// largest one.
#include <doctest/doctest.h>

#include <sstream>

#include <tenantscan/config.hpp>
#include <tenantscan/policy_overlay.hpp>
#include <tenantscan/report.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/builtin_rules.hpp>

#include "support.hpp"

using namespace tenantscan;

namespace {

Report scan_example(const std::string& name, const std::string& config, const std::string& overlay) {
    Registry registry;
    register_builtin_rules(registry);
    Snapshot snapshot = load_snapshot(testsupport::example_snapshot(name));
    Report report;
    std::vector<PolicyChange> changes;
    if (!overlay.empty()) changes = apply_policy_overlay(snapshot, PolicyOverlay{{overlay}, {}});
    ScanOptions options;
    options.asOf = "2027-02-01";
    if (!config.empty()) load_config(config, registry).apply_rule_settings(options);
    report = run_scan(snapshot, registry, options);
    report.policyChanges = changes;
    return report;
}

}  // namespace

TEST_CASE("sarif stream: write_report_sarif writes the bytes of report_to_sarif().dump(2)") {
    const std::string config = testsupport::source_dir() + "/examples/config/tenantscan.json";
    const std::string overlay = testsupport::source_dir() + "/examples/ci/ca-as-code/pull-request";
    for (const auto& [name, withConfig, withOverlay] :
         {std::make_tuple("fabrikam-broken", false, false), std::make_tuple("fabrikam-broken", true, false),
          std::make_tuple("contoso-ready", true, true), std::make_tuple("northwind-defaults", false, false)}) {
        CAPTURE(name);
        const Report report = scan_example(name, withConfig ? config : "", withOverlay ? overlay : "");
        REQUIRE_FALSE(report.findings.empty());
        std::ostringstream out;
        write_report_sarif(report, out);
        CHECK(out.str() == report_to_sarif(report).dump(2) + "\n");
    }
    Report empty;  // no finding: "results": []
    std::ostringstream out;
    write_report_sarif(empty, out);
    CHECK(out.str() == report_to_sarif(empty).dump(2) + "\n");
    CHECK(out.str().find("\"results\": []") != std::string::npos);
}

TEST_CASE("sarif stream: a scan with several outputs writes each as the scan with that output alone") {
    testsupport::TempDir dir;
    const std::string snapshot = testsupport::example_snapshot("fabrikam-broken");
    const std::vector<std::string> common = {snapshot, "--as-of", "2026-12-01", "--no-config"};
    auto scan = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"scan"};
        args.insert(args.end(), common.begin(), common.end());
        args.insert(args.end(), extra.begin(), extra.end());
        return testsupport::run_cli(args);
    };
    const auto several = scan({"--output", "json=" + dir.file("a.json"), "--output", "sarif=" + dir.file("b.sarif"),
                               "--output", "html=" + dir.file("c.html"), "--format", "text"});
    REQUIRE(several.exitCode == 1);
    CHECK(several.out == scan({"--format", "text"}).out);
    CHECK(testsupport::read_file(dir.file("a.json")) == scan({"--format", "json"}).out);
    CHECK(testsupport::read_file(dir.file("b.sarif")) == scan({"--format", "sarif"}).out);
    CHECK(testsupport::read_file(dir.file("c.html")) == scan({"--format", "html"}).out);
}
