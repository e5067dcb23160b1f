// Every report writer streams (report.hpp): it hands its output to the stream in pieces as it goes,
// never as one whole-output string; and `scan` with several outputs writes each from the findings it
// holds once, giving every file the bytes of the same scan with that output alone. (Memory itself is
// measured by the benchmark figures in docs/performance.md, not here.)
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include <tenantscan/report.hpp>
#include <tenantscan/scan.hpp>

#include "support.hpp"

using namespace tenantscan;

namespace {

// A stream buffer without a buffer of its own: it records the size of each piece a writer hands to
// the stream, and keeps the bytes.
class PieceRecorder : public std::streambuf {
public:
    std::vector<std::size_t> pieces;
    std::string bytes;

protected:
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        pieces.push_back(static_cast<std::size_t>(n));
        bytes.append(s, static_cast<std::size_t>(n));
        return n;
    }
    int_type overflow(int_type c) override {
        if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
        return static_cast<int_type>(xsputn(reinterpret_cast<const char*>(&c), 1));
    }
};

// A report of `count` failing findings, each with a kilobyte or so of evidence: some megabytes in every
// format that lists every finding.
Report large_report(std::size_t count) {
    Report report;
    report.toolVersion = "test";
    report.tenantId = "00000000-0000-0000-0000-000000000001";
    report.asOf = "2026-12-01";
    report.snapshotPath = "snapshot.json";
    report.rules.push_back(RuleMetadata{});
    report.rules.back().id = "hve-conditional-access";
    report.rules.back().title = "HVE accounts and Conditional Access";
    for (std::size_t i = 0; i < count; ++i) {
        Finding f;
        f.rule = "hve-conditional-access";
        f.status = i % 3 == 0 ? Status::Pass : Status::Fail;
        f.severity = i % 2 ? Severity::High : Severity::Medium;
        f.subject = {"hveAccount", "id-" + std::to_string(i), "hve" + std::to_string(i) + "@contoso.example"};
        f.message = "Basic SMTP sign-in is blocked by a Conditional Access policy <" + std::to_string(i) + ">";
        f.remediation = "Exclude the HVE exemption group from the policy & re-run the scan";
        f.evidence = {{"policies", nlohmann::json::array()}, {"note", std::string(600, 'x')}};
        for (int p = 0; p < 4; ++p) f.evidence["policies"].push_back({{"id", "policy-" + std::to_string(p)}, {"state", "enabled"}});
        report.findings.push_back(std::move(f));
    }
    report.summary = summarise(report.findings, report.failOn);
    return report;
}

}  // namespace

TEST_CASE("report stream: each writer hands its output to the stream in pieces, none of them the whole output") {
    const Report report = large_report(6000);
    const std::vector<std::pair<std::string, std::function<void(std::ostream&)>>> writers = {
        {"text", [&](std::ostream& o) { write_report_text(report, false, o); }},
        {"text, colour", [&](std::ostream& o) { write_report_text(report, true, o); }},
        {"junit", [&](std::ostream& o) { write_report_junit(report, o); }},
        {"html", [&](std::ostream& o) { write_report_html(report, o); }},
        {"json", [&](std::ostream& o) { write_report_json(report, o); }},
        {"sarif", [&](std::ostream& o) { write_report_sarif(report, o); }},
        {"markdown", [&](std::ostream& o) { write_report_markdown(report, o); }},
    };
    for (const auto& [name, write] : writers) {
        CAPTURE(name);
        PieceRecorder recorder;
        std::ostream out(&recorder);
        write(out);
        CHECK(out.good());
        const std::size_t largest = *std::max_element(recorder.pieces.begin(), recorder.pieces.end());
        // A piece is what gathered since the last MiB: at most a MiB and one finding's part.
        CHECK(largest < (std::size_t(1) << 20) + 64 * 1024);
        if (name == "markdown") {
            // Markdown lists 40 findings in detail and 300 in its table: a small output.
            CHECK(recorder.bytes.size() < (std::size_t(1) << 20));
            CHECK(recorder.bytes == report_to_markdown(report));
        } else {
            CHECK(recorder.bytes.size() > 4 * (std::size_t(1) << 20));
            CHECK(recorder.pieces.size() > 4);
        }
    }
}

TEST_CASE("report stream: a scan with all six outputs writes each file as the scan with that output alone") {
    testsupport::TempDir dir;
    const std::string source = testsupport::source_dir();
    struct Case {
        const char* name;
        std::vector<std::string> options;
    };
    const std::vector<Case> cases = {
        {"broken tenant", {testsupport::example_snapshot("fabrikam-broken"), "--as-of", "2026-12-01", "--no-config"}},
        {"inventory", {testsupport::example_snapshot("fabrikam-broken"), "--as-of", "2026-12-01", "--no-config", "--clients",
                       source + "/examples/inventory/smtp-clients.csv"}},
        // A configuration and a proposed policy: SARIF points into the policy file, at its lines.
        {"config and proposed policies", {testsupport::example_snapshot("contoso-ready"), "--as-of", "2027-02-01", "--config",
                                          source + "/examples/config/tenantscan.json", "--policies",
                                          source + "/examples/ci/ca-as-code/pull-request"}},
    };
    const std::vector<std::pair<std::string, std::string>> formats = {
        {"json", "json"}, {"text", "txt"}, {"sarif", "sarif"}, {"junit", "xml"}, {"markdown", "md"}, {"html", "html"}};
    for (const auto& c : cases) {
        CAPTURE(c.name);
        auto scan = [&](const std::vector<std::string>& extra) {
            std::vector<std::string> args = {"scan"};
            args.insert(args.end(), c.options.begin(), c.options.end());
            args.insert(args.end(), extra.begin(), extra.end());
            return testsupport::run_cli(args);
        };
        std::vector<std::string> all;
        for (const auto& [format, extension] : formats) {
            all.push_back("--output");
            all.push_back(format + "=" + dir.file("all." + extension));
        }
        // Every format into its file, plus the JSON report a second time on standard output.
        all.push_back("--format");
        all.push_back("json");
        const auto several = scan(all);
        INFO(several.err);
        const auto alone = scan({"--format", "json"});
        REQUIRE(alone.out.size() > 200);
        CHECK(several.exitCode == alone.exitCode);
        CHECK(several.out == alone.out);
        for (const auto& [format, extension] : formats) {
            CAPTURE(format);
            CHECK(testsupport::read_file(dir.file("all." + extension)) == scan({"--format", format}).out);
            // And the same format alone in a file (the single-output path: JSON is streamed as the scan runs).
            const auto single = scan({"--output", dir.file("one." + extension), "--format", format});
            CHECK(single.exitCode == alone.exitCode);
            CHECK(testsupport::read_file(dir.file("one." + extension)) == scan({"--format", format}).out);
        }
    }
}

TEST_CASE("report stream: the text report on standard output beside a JSON file is the text report alone") {
    testsupport::TempDir dir;
    const std::vector<std::string> common = {"scan", testsupport::example_snapshot("northwind-defaults"), "--as-of",
                                             "2026-12-01", "--no-config"};
    auto with = [&](std::vector<std::string> extra) {
        extra.insert(extra.begin(), common.begin(), common.end());
        return testsupport::run_cli(extra);
    };
    const auto both = with({"--output", "json=" + dir.file("r.json"), "--output", "markdown=" + dir.file("r.md")});
    CHECK(both.exitCode == 1);
    CHECK(both.out == with({}).out);
    CHECK(testsupport::read_file(dir.file("r.json")) == with({"--format", "json"}).out);
    CHECK(testsupport::read_file(dir.file("r.md")) == with({"--format", "markdown"}).out);
}
