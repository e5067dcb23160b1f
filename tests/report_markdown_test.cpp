// Markdown output (pull-request comments, job summaries), end to end through the CLI.
#include <doctest/doctest.h>

#include <sstream>

#include "report_fixtures.hpp"
#include "support.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

struct Scan {
    int exitCode;
    std::string markdown;
    json report;
};

Scan scan_markdown(const std::string& snapshot, std::vector<std::string> extra = {}) {
    testsupport::TempDir dir;
    std::vector<std::string> args = {"scan", snapshot, "--as-of", "2026-11-27", "--no-config", "--format", "markdown",
                                     "--output", "json=" + dir.file("report.json")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE((r.exitCode == 0 || r.exitCode == 1));
    return {r.exitCode, r.out, json::parse(testsupport::read_file(dir.file("report.json")))};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("markdown: a failing tenant shows the gate, why, the counts and each failure with its fix") {
    auto scan = scan_markdown(testsupport::example_snapshot("fabrikam-broken"));
    const auto& md = scan.markdown;
    CHECK(scan.exitCode == 1);
    CHECK(md.rfind("## ❌ tenantscan: gate failed", 0) == 0);
    CHECK(contains(md, "**Why the gate failed:**"));
    for (const auto& reason : scan.report["summary"]["gateReasons"]) CHECK(contains(md, "- " + reason.get<std::string>()));
    const auto& s = scan.report["summary"];
    auto n = [&](const char* key) { return std::to_string(s[key].get<int>()); };
    CHECK(contains(md, "| " + n("fail") + " | " + n("error") + " | " + n("review") + " | " + n("waived") + " | " +
                           n("pass") + " | " + n("notApplicable") + " |"));
    int failures = 0;
    for (const auto& f : scan.report["findings"]) {
        if (f["status"] != "fail") continue;
        ++failures;
        CHECK(contains(md, "`" + f["rule"].get<std::string>() + "`"));
    }
    CHECK(contains(md, "### Failures (" + std::to_string(failures) + ")"));
    CHECK(contains(md, "**Fix:**"));
    CHECK(contains(md, "<details><summary>Evidence</summary>"));
    CHECK(contains(md, "<details><summary>All " + std::to_string(scan.report["findings"].size()) + " findings</summary>"));
}

TEST_CASE("markdown: a ready tenant passes the gate, failures below the threshold are listed as such") {
    auto scan = scan_markdown(testsupport::example_snapshot("contoso-ready"));
    CHECK(scan.exitCode == 0);
    CHECK(scan.markdown.rfind("## ✅ tenantscan: gate passed", 0) == 0);
    CHECK_FALSE(contains(scan.markdown, "Why the gate failed"));
    // contoso-ready's only failure is an info-level reminder, below the default threshold (low).
    CHECK(scan.report["summary"]["fail"] == 1);
    CHECK(contains(scan.markdown, "### Failures (1)\n\n_1 of them is below the gate's threshold (low) and does not fail it._"));
    auto strict = scan_markdown(testsupport::example_snapshot("contoso-ready"), {"--fail-on", "info"});
    CHECK(strict.exitCode == 1);
    CHECK_FALSE(contains(strict.markdown, "below the gate's threshold"));
}

TEST_CASE("markdown: tenant text cannot inject HTML or Markdown") {
    testsupport::TempDir dir;
    reportfixtures::write_hostile_snapshot(dir.file("snapshot.json"));
    auto scan = scan_markdown(dir.file("snapshot.json"));
    // Fenced code blocks (evidence, multi-line fixes) are shown as literal text by every renderer;
    // everywhere else the markup must be escaped.
    std::string prose;
    bool inFence = false;
    std::istringstream lines(scan.markdown);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("```", 0) == 0) inFence = !inFence;
        else if (!inFence) prose += line + "\n";
    }
    CHECK_FALSE(inFence);
    CHECK(contains(scan.markdown, "```json"));
    CHECK_FALSE(contains(prose, "<script"));
    CHECK_FALSE(contains(prose, "<img"));
    CHECK(contains(scan.markdown, "&lt;script&gt;"));
    CHECK(contains(scan.markdown, "\\*\\*bold\\*\\*"));
    CHECK(contains(scan.markdown, "\\| pipe"));
}
