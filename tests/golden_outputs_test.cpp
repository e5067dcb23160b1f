// Behaviour preserved across restructuring (issue 14): every report format, the remediation script
// and the migration plan of every example tenant and of the S synthetic tenant, byte for byte
// against golden files in tests/golden/outputs/. A change that alters an output must say so by
// regenerating them (TENANTSCAN_UPDATE_GOLDEN=1 build/tests/tenantscan_tests -tc='golden*') and
// explaining the difference in its commit.
//
// The evaluation date is fixed (--as-of) and no configuration is read (--no-config), so nothing
// depends on the clock or the checkout; the checkout's path and the release number are replaced.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <tenantscan/builtin_rules.hpp>
#include <tenantscan/report.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/source_location.hpp>

#include "support.hpp"

using namespace testsupport;

namespace {

struct Variable {
    std::string from;
    std::string to;
};

std::string normalised(std::string text, const std::vector<Variable>& variables) {
    for (const auto& v : variables) replace_all(text, v.from, v.to);
    return text;
}

// SHA-256 and size of a text, by coreutils' sha256sum (an implementation independent of ours).
std::string checksum(const std::string& text) {
    TempDir dir;
    write_file(dir.file("output"), text);
    auto r = run_program("/usr/bin/sha256sum", {dir.file("output")});
    REQUIRE_MESSAGE(r.exitCode == 0, r.err);
    return r.out.substr(0, 64) + " " + std::to_string(text.size()) + " bytes\n";
}

// One command's output against its golden file; exit codes are part of the behaviour. A large
// output (the synthetic tenant's, megabytes) is kept as its checksum; on a mismatch the output is
// written beside the build's working directory for a diff.
void check_golden(const std::string& goldenName, const std::vector<std::string>& args, int expectedExit,
                  const std::vector<Variable>& variables, bool checksumOnly = false) {
    INFO(goldenName);
    auto r = run_cli(args);
    INFO(r.err);
    CHECK(r.exitCode == expectedExit);
    const std::string out = normalised(r.out, variables);
    CHECK(out.size() > 200);  // a report, not an empty or one-line output
    const std::string golden = source_dir() + "/tests/golden/outputs/" + goldenName + (checksumOnly ? ".sha256" : "");
    const std::string kept = checksumOnly ? checksum(out) : out;
    if (std::getenv("TENANTSCAN_UPDATE_GOLDEN") != nullptr) std::ofstream(golden, std::ios::binary) << kept;
    const bool same = kept == read_file(golden);
    if (!same && checksumOnly) std::ofstream("golden-mismatch-" + goldenName, std::ios::binary) << out;
    CHECK_MESSAGE(same, "differs from " << golden);
}

void check_tenant(const std::string& name, const std::string& snapshot, int scanExit, const std::vector<Variable>& variables,
                  const std::vector<std::string>& extra = {}, bool checksumOnly = false) {
    std::vector<std::string> common = {snapshot, "--as-of", "2026-12-01", "--no-config"};
    common.insert(common.end(), extra.begin(), extra.end());
    auto with = [&](std::vector<std::string> head) {
        head.insert(head.end(), common.begin(), common.end());
        return head;
    };
    for (const char* format : {"text", "json", "sarif", "junit", "markdown", "html"}) {
        const std::string extension = std::string(format) == "text" ? "txt" : std::string(format) == "markdown" ? "md" : format;
        check_golden(name + ".scan." + extension, with({"scan", "--format", format}), scanExit, variables, checksumOnly);
    }
    check_golden(name + ".remediate.ps1", with({"remediate"}), 0, variables, checksumOnly);
}

std::vector<Variable> release_variables() {
    return {{source_dir(), "$SOURCE"}, {std::string(tenantscan::version()), "$VERSION"}};
}

// The report `scan SNAPSHOT --as-of 2026-12-01 --no-config [--clients FILE]` writes, made in process.
tenantscan::Report scan_in_process(const std::string& snapshotPath, const std::string& clients) {
    tenantscan::Registry registry;
    tenantscan::register_builtin_rules(registry);
    tenantscan::ScanOptions options;
    options.asOf = "2026-12-01";
    if (!clients.empty())
        options.smtpClients = std::make_shared<tenantscan::SmtpClientInventory>(tenantscan::load_smtp_clients(clients));
    const tenantscan::Snapshot snapshot = tenantscan::load_snapshot(snapshotPath);
    tenantscan::Report report = tenantscan::run_scan(snapshot, registry, options);
    tenantscan::locate_lines(report.policySources);  // as the CLI does for SARIF
    return report;
}

}  // namespace

TEST_CASE("golden: each format's streaming writer and its string function give the golden bytes") {
    using namespace tenantscan;
    using Writer = std::function<void(const Report&, std::ostream&)>;
    const std::vector<std::tuple<const char*, Writer, std::function<std::string(const Report&)>>> formats = {
        {"txt", [](const Report& r, std::ostream& o) { write_report_text(r, false, o); },
         [](const Report& r) { return report_to_text(r, false); }},
        {"md", [](const Report& r, std::ostream& o) { write_report_markdown(r, o); }, report_to_markdown},
        {"junit", [](const Report& r, std::ostream& o) { write_report_junit(r, o); }, report_to_junit},
        {"html", [](const Report& r, std::ostream& o) { write_report_html(r, o); }, report_to_html},
        {"sarif", [](const Report& r, std::ostream& o) { write_report_sarif(r, o); },
         [](const Report& r) { return report_to_sarif(r).dump(2) + "\n"; }},
        {"json", [](const Report& r, std::ostream& o) { write_report_json(r, o); },
         [](const Report& r) { return report_to_json(r).dump(2) + "\n"; }},
    };
    const std::string examples = source_dir() + "/examples/";
    const std::vector<std::tuple<std::string, std::string, std::string>> tenants = {
        {"contoso-ready", examples + "contoso-ready/snapshot.json", ""},
        {"fabrikam-broken", examples + "fabrikam-broken/snapshot.json", ""},
        {"northwind-defaults", examples + "northwind-defaults/snapshot.json", ""},
        {"fabrikam-broken-inventory", examples + "fabrikam-broken/snapshot.json", examples + "inventory/smtp-clients.csv"}};
    for (const auto& [name, snapshot, clients] : tenants) {
        const Report report = scan_in_process(snapshot, clients);
        for (const auto& [extension, write, to_string] : formats) {
            const std::string golden = name + ".scan." + extension;
            INFO(golden);
            std::ostringstream streamed;
            write(report, streamed);
            CHECK(streamed.good());
            CHECK(normalised(streamed.str(), release_variables()) == read_file(source_dir() + "/tests/golden/outputs/" + golden));
            CHECK(to_string(report) == streamed.str());
        }
    }
}

TEST_CASE("golden: every report format and the fix script of the example tenants are unchanged") {
    const std::vector<std::pair<std::string, int>> tenants = {
        {"contoso-ready", 0}, {"fabrikam-broken", 1}, {"northwind-defaults", 1}};
    for (const auto& [name, exitCode] : tenants)
        check_tenant(name, source_dir() + "/examples/" + name + "/snapshot.json", exitCode, release_variables());
}

TEST_CASE("golden: the broken tenant with the bundled device inventory (migration plan per device) is unchanged") {
    check_tenant("fabrikam-broken-inventory", source_dir() + "/examples/fabrikam-broken/snapshot.json", 1, release_variables(),
                 {"--clients", source_dir() + "/examples/inventory/smtp-clients.csv"});
}

TEST_CASE("golden: the rule catalogue is unchanged") {
    check_golden("rules.json", {"rules", "--format", "json"}, 0, release_variables());
    check_golden("rules.txt", {"rules"}, 0, release_variables());
}

#ifdef TENANTSCAN_GENERATOR
TEST_CASE("golden: every report format and the fix script of the S synthetic tenant (seed 1) are unchanged") {
    TempDir dir;
    const std::string snapshot = dir.file("synthetic-s.json");
    auto generated = run_program(TENANTSCAN_GENERATOR, {"--size", "S", "--seed", "1", "--output", snapshot});
    REQUIRE_MESSAGE(generated.exitCode == 0, generated.err);
    auto variables = release_variables();
    variables.insert(variables.begin(), {snapshot, "$SNAPSHOT"});
    variables.insert(variables.begin() + 1, {dir.path(), "$TMP"});
    check_tenant("synthetic-s", snapshot, 1, variables, {}, true);
}
#endif
