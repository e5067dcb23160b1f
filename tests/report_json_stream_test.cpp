// The streamed scan (run_scan with a FindingSink) and the streaming JSON writer (JsonReportWriter,
// write_report_json) against the plain scan and report_to_json(report).dump(2): same findings, same
// bytes, in every report shape (configuration, waivers of every state, a policy overlay, no findings,
// text that needs escaping).
#include <doctest/doctest.h>

#include <set>
#include <sstream>

#include <tenantscan/config.hpp>
#include <tenantscan/policy_overlay.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/report.hpp>
#include <tenantscan/builtin_rules.hpp>

#include "support.hpp"

using namespace tenantscan;

namespace {

std::string dom_bytes(const Report& report) { return report_to_json(report).dump(2) + "\n"; }

std::string streamed_bytes(const Report& report) {
    std::ostringstream out;
    write_report_json(report, out);
    return out.str();
}

// Records what a streamed scan hands over, rule by rule.
class RecordingSink : public FindingSink {
public:
    void begin(const Report& header) override {
        ++begins;
        headerAsOf = header.asOf;
        findingsInHeader = header.findings.size();
    }
    void add(std::vector<Finding>& ruleFindings) override {
        REQUIRE_FALSE(ruleFindings.empty());
        chunks.push_back(ruleFindings.front().rule);
        for (const auto& f : ruleFindings) CHECK(f.rule == chunks.back());
        all.insert(all.end(), ruleFindings.begin(), ruleFindings.end());
    }
    int begins = 0;
    std::string headerAsOf;
    std::size_t findingsInHeader = 0;
    std::vector<std::string> chunks;
    std::vector<Finding> all;
};

struct Setup {
    std::string name;
    std::string snapshot;     // an example's name
    std::string config;       // "" or a configuration file
    std::string asOf = "2026-11-27";
    std::string overlay;      // "" or a proposed-policies directory
};

Report scan_streamed_and_plain(const Setup& setup, std::string& streamedOutput) {
    Registry registry;
    register_builtin_rules(registry);
    Snapshot snapshot = load_snapshot(testsupport::example_snapshot(setup.snapshot));
    std::vector<PolicyChange> changes;
    if (!setup.overlay.empty()) changes = apply_policy_overlay(snapshot, PolicyOverlay{{setup.overlay}, {}});
    ScanOptions options;
    options.asOf = setup.asOf;
    std::string configPath;
    if (!setup.config.empty()) {
        const Config config = load_config(setup.config, registry);
        config.apply_rule_settings(options);
        options.failOn = config.failOn.value_or(options.failOn);
        options.failOnReview = config.failOnReview.value_or(false);
        configPath = config.path;
    }

    Report plain = run_scan(snapshot, registry, options);
    plain.configPath = configPath;
    plain.policyChanges = changes;

    // The streamed scan through the writer, its header completed as the CLI does.
    struct Described : FindingSink {
        JsonReportWriter& writer;
        const Report& like;
        Described(JsonReportWriter& w, const Report& l) : writer(w), like(l) {}
        void begin(const Report& header) override {
            Report h = header;
            h.configPath = like.configPath;
            h.policyChanges = like.policyChanges;
            writer.begin(h);
        }
        void add(std::vector<Finding>& f) override { writer.add(f); }
    };
    std::ostringstream out;
    JsonReportWriter writer(out);
    Described sink(writer, plain);
    Report streamed = run_scan(snapshot, registry, options, sink);
    CHECK(streamed.findings.empty());
    streamed.configPath = configPath;
    streamed.policyChanges = changes;
    writer.end(streamed);
    streamedOutput = out.str();
    return plain;
}

}  // namespace

TEST_CASE("streamed scan and writer: the same bytes as report_to_json().dump(2) in every report shape") {
    const std::string config = testsupport::source_dir() + "/examples/config/tenantscan.json";
    const std::string overlay = testsupport::source_dir() + "/examples/ci/ca-as-code/pull-request";
    const std::vector<Setup> setups = {
        {"contoso, no configuration", "contoso-ready", "", "2026-11-27", ""},
        {"fabrikam, no configuration", "fabrikam-broken", "", "2026-11-27", ""},
        {"northwind, no configuration", "northwind-defaults", "", "2026-11-27", ""},
        {"fabrikam, configuration with applied waivers", "fabrikam-broken", config, "2026-11-27", ""},
        {"fabrikam, configuration with expired waivers", "fabrikam-broken", config, "2027-02-01", ""},
        {"contoso, stale waivers and a policy overlay", "contoso-ready", config, "2026-11-27", overlay},
    };
    std::set<std::string> waiverStates;
    for (const auto& setup : setups) {
        CAPTURE(setup.name);
        std::string streamed;
        const Report plain = scan_streamed_and_plain(setup, streamed);
        REQUIRE_FALSE(plain.findings.empty());
        const std::string expected = dom_bytes(plain);
        CHECK(streamed_bytes(plain) == expected);  // the writer given a whole report
        CHECK(streamed == expected);               // the streamed scan through the writer
        for (const auto& w : plain.waivers) waiverStates.insert(to_string(w.state));
        if (!setup.overlay.empty()) CHECK_FALSE(plain.policyChanges.empty());
    }
    // The setups cover every waiver state, so the waivers member is written in each form.
    CHECK(waiverStates == std::set<std::string>{"applied", "expired", "stale"});
}

TEST_CASE("streamed scan: one chunk per rule in id order, sorted, with overrides and waivers, nothing kept") {
    Registry registry;
    register_builtin_rules(registry);
    const Snapshot snapshot = load_snapshot(testsupport::example_snapshot("fabrikam-broken"));
    ScanOptions options;
    options.asOf = "2026-11-27";
    const Config config = load_config(testsupport::source_dir() + "/examples/config/tenantscan.json", registry);
    config.apply_rule_settings(options);

    const Report plain = run_scan(snapshot, registry, options);
    RecordingSink sink;
    const Report streamed = run_scan(snapshot, registry, options, sink);

    CHECK(sink.begins == 1);
    CHECK(sink.headerAsOf == "2026-11-27");
    CHECK(sink.findingsInHeader == 0);
    CHECK(streamed.findings.empty());
    // One chunk per rule that ran (hve-basic-auth-sunset is disabled by the configuration), in id order.
    std::vector<std::string> ran;
    for (const auto& rule : plain.rules) ran.push_back(rule.id);
    CHECK(sink.chunks == ran);
    CHECK(std::find(ran.begin(), ran.end(), "hve-basic-auth-sunset") == ran.end());
    // The same findings, in the same order, with the same statuses and waivers.
    REQUIRE(sink.all.size() == plain.findings.size());
    Report rebuilt = streamed;
    rebuilt.findings = sink.all;
    CHECK(dom_bytes(rebuilt) == dom_bytes(plain));
    CHECK(streamed.summary.waived > 0);
    CHECK(streamed.summary.waived == plain.summary.waived);
    CHECK(streamed.summary.gateReasons == plain.summary.gateReasons);
    CHECK(streamed.waivers.size() == plain.waivers.size());
}

TEST_CASE("streaming writer: no findings, and text that needs escaping, as dump() writes them") {
    Report report;
    report.toolVersion = "0.1.0";
    report.tenantId = "t\"en\\ant";
    report.asOf = "2026-11-27";
    report.snapshotPath = "dir/sn\u00e4pshot \x01.json";
    std::ostringstream empty;
    write_report_json(report, empty);
    CHECK(empty.str() == dom_bytes(report));
    CHECK(empty.str().find("\"findings\": [],") != std::string::npos);

    Finding f;
    f.rule = "hve-conditional-access";
    f.status = Status::Fail;
    f.severity = Severity::High;
    f.subject = {"hveAccount", "id-1", "sc\u00e4nner@contoso.com"};
    f.message = "line 1\nline 2\t\"quoted\" \\ \x1f \xe2\x9c\x93";
    f.evidence = {{"policies", nlohmann::json::array({{{"id", "p1"}, {"unknowns", nlohmann::json::array()}}})},
                  {"empty", nlohmann::json::object()},
                  {"numbers", {1, -2, 3.5, nullptr, true}}};
    f.remediation = "";
    Finding g = f;
    g.subject.name = "a@contoso.com";
    g.evidence = nullptr;
    g.status = Status::Waived;
    g.waiver = FindingWaiver{{"hve-conditional-access", "a@*", "reason", "2027-01-01", "", ""}, Status::Fail, false};
    report.findings = {g, f};
    report.parameters["hve-exclusion-group.group"] = "Exchange-HVEUserAccounts";
    std::ostringstream full;
    write_report_json(report, full);
    CHECK(full.str() == dom_bytes(report));

    // A report larger than the writer's 1 MiB buffer is written in pieces, still the same bytes.
    Finding big = f;
    big.evidence = {{"blob", std::string(3u << 20, 'x')}};
    report.findings.push_back(big);
    std::ostringstream large;
    write_report_json(report, large);
    CHECK(large.str() == dom_bytes(report));
}

TEST_CASE("scan --format json: the streamed report on stdout equals the one written beside another format") {
    testsupport::TempDir dir;
    const std::string snapshot = testsupport::example_snapshot("fabrikam-broken");
    const std::string config = testsupport::source_dir() + "/examples/config/tenantscan.json";
    // One JSON target is streamed; with a second format the report is built whole and rendered.
    auto streamed = testsupport::run_cli({"scan", snapshot, "--as-of", "2026-11-27", "--config", config, "--format", "json"});
    auto streamedFile = testsupport::run_cli({"scan", snapshot, "--as-of", "2026-11-27", "--config", config, "--format",
                                              "json", "--output", dir.file("streamed.json")});
    auto whole = testsupport::run_cli({"scan", snapshot, "--as-of", "2026-11-27", "--config", config, "--format", "json",
                                       "--output", "json=" + dir.file("whole.json"), "--output",
                                       "sarif=" + dir.file("whole.sarif")});
    INFO(streamed.err, whole.err);
    CHECK(streamed.exitCode == 1);
    CHECK(streamedFile.exitCode == 1);
    CHECK(whole.exitCode == 1);
    const std::string expected = testsupport::read_file(dir.file("whole.json"));
    CHECK(nlohmann::json::parse(expected)["findings"].size() > 10);
    CHECK(streamed.out == expected);
    CHECK(testsupport::read_file(dir.file("streamed.json")) == expected);
    // An output file that cannot be written: exit 2 naming it, no partial file left.
    auto bad = testsupport::run_cli({"scan", snapshot, "--as-of", "2026-11-27", "--no-config", "--format", "json",
                                     "--output", dir.file("missing-dir/report.json")});
    CHECK(bad.exitCode == 2);
    CHECK(bad.err.find("missing-dir/report.json: cannot write the output file") != std::string::npos);
}
