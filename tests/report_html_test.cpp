// The HTML report, rendered in a real browser: headless Chromium (Debian's chromium package) loads the
// file, runs its script, and dumps the resulting DOM, which the tests read. The page keeps its view in
// the URL fragment, so filters, sorting and opened details are driven through the URL.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

#include "report_fixtures.hpp"
#include "support.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

const std::string kChromium = "/usr/bin/chromium";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct Rendered {
    std::string html;  // the file tenantscan wrote
    json report;       // the JSON report of the same scan
    std::string path;
};

Rendered render(const testsupport::TempDir& dir, const std::string& snapshot) {
    auto r = run_cli({"scan", snapshot, "--as-of", "2026-11-27", "--no-config", "--format", "html", "--output",
                      dir.file("report.html"), "--output", "json=" + dir.file("report.json")});
    INFO(r.err);
    REQUIRE((r.exitCode == 0 || r.exitCode == 1));
    return {testsupport::read_file(dir.file("report.html")), json::parse(testsupport::read_file(dir.file("report.json"))),
            dir.file("report.html")};
}

// Flags for an isolated headless browser on a machine without network access (see
// docs/ci.md): no sandbox (the tests may run as root), no background connections, a fresh profile.
std::vector<std::string> chromium_args(const std::string& profile) {
    REQUIRE_MESSAGE(std::filesystem::exists(kChromium),
                    "Chromium is needed for the HTML report tests: run scripts/install-deps.sh (Debian package chromium)");
    return {"120", kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"};
}

struct Page {
    std::string dom;  // document.documentElement.outerHTML after the scripts ran
    std::string log;  // the browser's log: console messages, blocked content
};

Page load(const std::string& file, const std::string& fragment) {
    testsupport::TempDir profile;
    auto args = chromium_args(profile.path());
    args.push_back("--dump-dom");
    args.push_back("file://" + file + fragment);
    auto r = testsupport::run_program("/usr/bin/timeout", args);
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    return {r.out, r.err};
}

// The page loaded, its script ran to the end, nothing failed and nothing was blocked.
void check_clean(const Page& page) {
    const auto start = page.dom.find("<html");
    REQUIRE(start != std::string::npos);
    const std::string root = page.dom.substr(start, page.dom.find('>', start) - start);
    INFO(root);
    CHECK(contains(root, "data-ready=\"1\""));
    CHECK_FALSE(contains(root, "data-js-errors"));
    CHECK_FALSE(contains(root, "data-csp-violations"));
    CHECK_FALSE(contains(root, "data-pwned"));
    INFO(page.log);
    CHECK_FALSE(contains(page.log, "Uncaught"));
    CHECK_FALSE(contains(page.log, "Refused to"));
}

struct Row {
    std::string id, status, severity, rule, subject;
    bool hidden = false;
};

std::string attribute(const std::string& tag, const std::string& name) {
    const std::string key = " " + name + "=\"";
    auto at = tag.find(key);
    if (at == std::string::npos) return {};
    at += key.size();
    return tag.substr(at, tag.find('"', at) - at);
}

// The finding rows in document order, as the browser left them.
std::vector<Row> finding_rows(const std::string& dom) {
    std::vector<Row> rows;
    for (auto at = dom.find("<tr class=\"finding\""); at != std::string::npos; at = dom.find("<tr class=\"finding\"", at + 1)) {
        const std::string tag = dom.substr(at, dom.find('>', at) - at);
        rows.push_back({attribute(tag, "id"), attribute(tag, "data-status"), attribute(tag, "data-severity"),
                        attribute(tag, "data-rule"), attribute(tag, "data-subject"), contains(tag, " hidden")});
    }
    return rows;
}

// The opening tag of the element with this id.
std::string tag_with_id(const std::string& dom, const std::string& id) {
    auto at = dom.find("id=\"" + id + "\"");
    REQUIRE(at != std::string::npos);
    auto open = dom.rfind('<', at);
    return dom.substr(open, dom.find('>', at) - open);
}

std::size_t visible(const std::vector<Row>& rows) {
    return static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), [](const Row& r) { return !r.hidden; }));
}

}  // namespace

TEST_CASE("html: the report is one self-contained file that loads nothing") {
    testsupport::TempDir dir;
    auto page = render(dir, testsupport::example_snapshot("fabrikam-broken"));
    CHECK(page.html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(contains(page.html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "));
    for (const std::string external : {"<link", " src=", "href=\"http", "@import", "url(", "<iframe"})
        CHECK_MESSAGE(!contains(page.html, external), external);
}

TEST_CASE("html: the page loads in Chromium without errors, and the status filter in the URL works") {
    testsupport::TempDir dir;
    auto rendered = render(dir, testsupport::example_snapshot("fabrikam-broken"));
    const std::size_t fails = static_cast<std::size_t>(rendered.report["summary"]["fail"].get<int>());
    REQUIRE(fails > 0);

    auto all = load(rendered.path, "");
    check_clean(all);
    auto rows = finding_rows(all.dom);
    CHECK(rows.size() == rendered.report["findings"].size());
    CHECK(visible(rows) == rows.size());

    auto failing = load(rendered.path, "#status=fail");
    check_clean(failing);
    rows = finding_rows(failing.dom);
    for (const auto& row : rows) CHECK_MESSAGE(row.hidden == (row.status != "fail"), row.id);
    CHECK(visible(rows) == fails);
    CHECK(contains(failing.dom, "Showing " + std::to_string(fails) + " of " + std::to_string(rows.size())));
    CHECK(contains(tag_with_id(failing.dom, "findings-body"), "data-visible=\"" + std::to_string(fails) + "\""));
}

TEST_CASE("html: text search, rule and severity filters combine") {
    testsupport::TempDir dir;
    auto rendered = render(dir, testsupport::example_snapshot("fabrikam-broken"));
    std::string account;
    for (const auto& f : rendered.report["findings"])
        if (f["rule"] == "hve-conditional-access" && f["status"] == "fail") account = f["subject"]["name"];
    REQUIRE(!account.empty());

    auto page = load(rendered.path, "#rule=hve-conditional-access&q=" + account);
    check_clean(page);
    auto rows = finding_rows(page.dom);
    CHECK(visible(rows) == 1);
    for (const auto& row : rows) CHECK(row.hidden == !(row.rule == "hve-conditional-access" && row.subject == account));

    page = load(rendered.path, "#severity=critical");
    rows = finding_rows(page.dom);
    for (const auto& row : rows) CHECK(row.hidden == (row.severity != "critical"));

    page = load(rendered.path, "#q=no-such-text-anywhere");
    CHECK(visible(finding_rows(page.dom)) == 0);
    CHECK_FALSE(contains(tag_with_id(page.dom, "findings-empty"), "hidden"));
}

TEST_CASE("html: evidence opens on demand and columns sort") {
    testsupport::TempDir dir;
    auto rendered = render(dir, testsupport::example_snapshot("fabrikam-broken"));
    auto closed = load(rendered.path, "");
    CHECK(contains(tag_with_id(closed.dom, "d1"), "hidden"));

    auto open = load(rendered.path, "#open=f1");
    check_clean(open);
    CHECK_FALSE(contains(tag_with_id(open.dom, "d1"), "hidden"));
    CHECK(contains(tag_with_id(open.dom, "d2"), "hidden"));
    // The first row is the worst finding; its details hold the evidence as JSON.
    const auto details = open.dom.substr(open.dom.find("id=\"d1\""));
    CHECK(contains(details.substr(0, details.find("</tr>")), "class=\"evidence\""));

    auto sorted = load(rendered.path, "#sort=subject&dir=descending");
    check_clean(sorted);
    auto rows = finding_rows(sorted.dom);
    std::vector<std::string> subjects;
    for (const auto& row : rows) subjects.push_back(tenantscan::to_lower(row.subject));
    CHECK(std::is_sorted(subjects.rbegin(), subjects.rend()));
    CHECK(contains(sorted.dom, "data-sort=\"subject\" aria-sort=\"descending\""));
}

TEST_CASE("html: the HVE account view names the policies that block each account") {
    testsupport::TempDir dir;
    auto rendered = render(dir, testsupport::example_snapshot("fabrikam-broken"));
    int blocked = 0;
    for (const auto& f : rendered.report["findings"]) {
        if (f["rule"] != "hve-conditional-access" || f["status"] != "fail") continue;
        const std::string name = f["subject"]["name"];
        auto row = rendered.html.find("<tr class=\"account\" data-account=\"" + name + "\"");
        REQUIRE(row != std::string::npos);
        const std::string cells = rendered.html.substr(row, rendered.html.find("</tr>", row) - row);
        for (const auto& policy : f["evidence"]["blockingPolicies"]) {
            CHECK(contains(cells, policy["displayName"].get<std::string>()));
            CHECK(contains(cells, "blocks it"));
        }
        ++blocked;
    }
    CHECK(blocked > 0);
}

TEST_CASE("html: a policy name with a script in it is shown as text and never runs") {
    testsupport::TempDir dir;
    reportfixtures::write_hostile_snapshot(dir.file("snapshot.json"));
    auto rendered = render(dir, dir.file("snapshot.json"));
    CHECK_FALSE(contains(rendered.html, "<script>document.documentElement.setAttribute('data-pwned'"));
    CHECK_FALSE(contains(rendered.html, "<img src=x"));
    auto page = load(rendered.path, "#status=fail");
    check_clean(page);  // includes: no data-pwned attribute, no blocked inline script
    CHECK(contains(page.dom, "&lt;script&gt;document.documentElement.setAttribute('data-pwned'"));
    auto search = load(rendered.path, "#q=" + std::string("%3Cscript%3E"));
    check_clean(search);
    CHECK(visible(finding_rows(search.dom)) > 0);
}

TEST_CASE("html: a screenshot of the report is kept as a test artifact") {
    testsupport::TempDir dir;
    auto rendered = render(dir, testsupport::example_snapshot("fabrikam-broken"));
    const std::string artifacts = testsupport::binary_dir() + "/test-artifacts";
    std::filesystem::create_directories(artifacts);
    const std::string png = artifacts + "/html-report-fabrikam.png";
    std::filesystem::remove(png);
    testsupport::TempDir profile;
    auto args = chromium_args(profile.path());
    args.insert(args.end(), {"--hide-scrollbars", "--window-size=1280,2400", "--screenshot=" + png});
    args.push_back("file://" + rendered.path);
    auto r = testsupport::run_program("/usr/bin/timeout", args);
    REQUIRE_MESSAGE(r.exitCode == 0, r.err);
    const std::string bytes = testsupport::read_file(png);
    CHECK(bytes.rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    CHECK(bytes.size() > 20000);
    MESSAGE("screenshot: " << png);
}
