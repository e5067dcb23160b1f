// `tenantscan diff`: comparing two JSON reports for baseline gating, end to end through the CLI.
#include <doctest/doctest.h>

#include "support.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

const std::string kAsOf = "2026-11-27";

std::string ca_as_code(const std::string& part) { return testsupport::source_dir() + "/examples/ci/ca-as-code/" + part; }

// Scans a snapshot into a JSON report file in `dir`.
std::string report(const testsupport::TempDir& dir, const std::string& name, const std::string& snapshot,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"scan", snapshot, "--as-of", kAsOf, "--no-config", "--format", "json",
                                     "--output", dir.file(name)};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE((r.exitCode == 0 || r.exitCode == 1));
    return dir.file(name);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("diff: a change that blocks HVE accounts is a new failure and fails with exit 1") {
    testsupport::TempDir dir;
    const std::string contoso = testsupport::example_snapshot("contoso-ready");
    auto before = report(dir, "before.json", contoso);
    auto after = report(dir, "after.json", contoso, {"--policies", ca_as_code("pull-request")});

    auto r = run_cli({"diff", before, after, "--format", "json"});
    INFO(r.err);
    CHECK(r.exitCode == 1);
    auto diff = json::parse(r.out);
    CHECK(diff["summary"]["gate"] == "failed");
    REQUIRE(diff["newFailures"].size() == 2);
    for (const auto& change : diff["newFailures"]) {
        CHECK(change["rule"] == "hve-conditional-access");
        CHECK(change["before"]["status"] == "pass");
        CHECK(change["after"]["status"] == "fail");
        CHECK(contains(change["after"]["message"].get<std::string>(), "CA007"));
    }
    CHECK(diff["resolvedFailures"].empty());
    CHECK(diff["summary"]["unchanged"].get<int>() > 0);

    auto text = run_cli({"diff", before, after});
    CHECK(text.exitCode == 1);
    CHECK(contains(text.out, "NEW FAILURES (2)"));
    CHECK(contains(text.out, "pass high → fail high"));
    CHECK(contains(text.out, "Gate: FAILED (2 new failing findings at severity low or above"));

    auto markdown = run_cli({"diff", before, after, "--format", "markdown"});
    CHECK(contains(markdown.out, "## ❌ tenantscan diff: new failures"));
    CHECK(contains(markdown.out, "### New failures (2)"));

    // The other way round, the same findings are resolved failures and nothing gates.
    auto reverse = run_cli({"diff", after, before, "--format", "json"});
    CHECK(reverse.exitCode == 0);
    auto reversed = json::parse(reverse.out);
    CHECK(reversed["resolvedFailures"].size() == 2);
    CHECK(reversed["newFailures"].empty());
}

TEST_CASE("diff: a tenant that is not clean passes when nothing new breaks") {
    testsupport::TempDir dir;
    const std::string fabrikam = testsupport::example_snapshot("fabrikam-broken");
    auto before = report(dir, "before.json", fabrikam);
    auto later = report(dir, "later.json", fabrikam);
    auto r = run_cli({"diff", before, later});
    INFO(r.out << r.err);
    CHECK(r.exitCode == 0);
    CHECK(contains(r.out, "0 new failures, 0 resolved, 0 other changes"));
    CHECK(contains(r.out, "Gate: PASSED"));
}

TEST_CASE("diff: --fail-on sets which new failures gate, status and severity changes are listed") {
    testsupport::TempDir dir;
    const std::string contoso = testsupport::example_snapshot("contoso-ready");
    auto before = report(dir, "before.json", contoso);
    auto after = report(dir, "after.json", contoso, {"--policies", ca_as_code("pull-request")});
    // hve-conditional-access fails at high: not at or above critical.
    CHECK(run_cli({"diff", before, after, "--fail-on", "critical"}).exitCode == 0);
    CHECK(run_cli({"diff", before, after, "--fail-on", "high"}).exitCode == 1);

    // A configured severity change of a rule shows up as an "other change".
    testsupport::TempFile config(R"({"rules": {"hve-authentication-policy": {"severity": "info"}}})");
    auto reseverity = report(dir, "severity.json", contoso, {"--config", config.path()});
    auto r = run_cli({"diff", before, reseverity, "--format", "json"});
    auto diff = json::parse(r.out);
    CHECK(r.exitCode == 0);
    CHECK(diff["changed"].size() > 0);
    for (const auto& c : diff["changed"]) {
        CHECK(c["rule"] == "hve-authentication-policy");
        CHECK(c["after"]["severity"] == "info");
    }
}

TEST_CASE("diff: inputs that are not reports of one tenant exit 2 naming the problem") {
    testsupport::TempDir dir;
    auto contoso = report(dir, "contoso.json", testsupport::example_snapshot("contoso-ready"));
    auto fabrikam = report(dir, "fabrikam.json", testsupport::example_snapshot("fabrikam-broken"));
    auto r = run_cli({"diff", contoso, fabrikam});
    CHECK(r.exitCode == 2);
    CHECK(contains(r.err, "the reports are about different tenants"));

    testsupport::TempFile snapshot(testsupport::read_file(testsupport::example_snapshot("contoso-ready")));
    r = run_cli({"diff", contoso, snapshot.path()});
    CHECK(r.exitCode == 2);
    CHECK(contains(r.err, snapshot.path() + ": /reportVersion: missing reportVersion"));

    auto broken = json::parse(testsupport::read_file(contoso));
    broken["findings"][0]["status"] = "exploded";
    testsupport::TempFile bad(broken.dump());
    r = run_cli({"diff", contoso, bad.path()});
    CHECK(r.exitCode == 2);
    CHECK(contains(r.err, bad.path() + ": /findings/0/status: unknown status \"exploded\""));
}
