// The report formats: JSON report v1 (built, or streamed as the scan runs), text for people,
// SARIF 2.1.0 (code scanning), JUnit XML (test dashboards), Markdown (pull-request comments and
// job summaries) and a self-contained HTML page. Each takes the Report of scan.hpp.
//
// Every format has a writer, write_report_<format>(report, …, out), that writes to the stream as it
// goes: none builds its whole output in memory (a writer holds at most about a MiB of it, or one
// finding's part). report_to_text, _markdown, _junit and _html return the same bytes as a string;
// report_to_json and report_to_sarif return the document.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tenantscan/scan.hpp>

namespace tenantscan {

// JSON report v1.
nlohmann::json report_to_json(const Report& report);

// The same JSON report written as it goes, without building the document: the bytes are those of
// report_to_json(report).dump(2) followed by a newline. Use it as a FindingSink with the streamed
// run_scan: begin() writes the members before "findings" (the header must carry them: asOf and the
// configuration), add() writes findings, end() the members after them from the finished report.
class JsonReportWriter : public FindingSink {
public:
    explicit JsonReportWriter(std::ostream& out);
    ~JsonReportWriter() override;
    JsonReportWriter(const JsonReportWriter&) = delete;
    JsonReportWriter& operator=(const JsonReportWriter&) = delete;

    void begin(const Report& header) override;
    void add(std::vector<Finding>& ruleFindings) override;  // = write_findings
    void write_findings(const std::vector<Finding>& findings);
    void end(const Report& report);  // flushes; the stream's state is the caller's to check

private:
    void write(const nlohmann::json& value, unsigned indent);
    void member(std::string_view key, const nlohmann::json& value, unsigned indent);
    void flush_if_full();
    std::ostream& out_;
    std::string buffer_;
    bool anyFinding_ = false;
};

// report_to_json(report).dump(2) + "\n" to `out`, without building the document.
void write_report_json(const Report& report, std::ostream& out);
// Reads a JSON report v1 back (for `diff`). Throws InputError with the JSON pointer when the
// document is not one.
Report report_from_json(const nlohmann::json& document, const std::string& file);
// Human-readable report: grouped by status, worst first; ANSI colour when `colour` is true.
void write_report_text(const Report& report, bool colour, std::ostream& out);
std::string report_to_text(const Report& report, bool colour);  // the same, as a string

// Rule documentation lives beside each rule's source: rules/<module>/<rule_id_with_underscores>.md,
// the module being the id's prefix ("hve-conditional-access" → "rules/hve/hve_conditional_access.md").
std::string rule_doc_path(std::string_view ruleId);
// tenantscan's public repository, and the base of SARIF help links to its rule documentation
// pages (docs/ci.md). Links point at the main branch, so they follow the current text of a rule.
inline constexpr const char* kProjectUrl = "https://github.com/tenantscan/tenantscan";
inline constexpr const char* kRuleDocBaseUrl = "https://github.com/tenantscan/tenantscan/blob/main/";
std::string rule_help_uri(std::string_view ruleId);  // kRuleDocBaseUrl + rule_doc_path(ruleId)

// SARIF 2.1.0, one run. tool.driver.rules from report.rules; one result per finding with kind
// pass | fail | review | notApplicable (level "none" unless fail; waived findings are fail results
// with an accepted suppression; error findings are review results plus a tool notification),
// partialFingerprints from rule + subject, and a location in the snapshot, or in the proposed
// policy file when a proposed policy is behind the finding. Lines come from report.policySources
// (fill them with locate_lines first to point at the policy's own line). When
// !report.snapshotIsFile, places in the snapshot get no physicalLocation (logical location only).
nlohmann::json report_to_sarif(const Report& report);
// The same document written as it goes, one result at a time: the bytes of
// report_to_sarif(report).dump(2) followed by a newline, without the whole document in memory.
void write_report_sarif(const Report& report, std::ostream& out);

// JUnit XML: a testsuite per rule, a testcase per finding (classname = rule, name = subject):
// fail → <failure>, error → <error>, not-applicable and waived → <skipped>, review → <skipped>
// (→ <failure> when review gates), pass → empty.
void write_report_junit(const Report& report, std::ostream& out);
std::string report_to_junit(const Report& report);  // the same, as a string

// Markdown for a pull-request comment or a GitHub job summary: the gate and why, counts, the
// findings that need action with their fixes, waivers and the proposed change; details collapsed.
void write_report_markdown(const Report& report, std::ostream& out);
std::string report_to_markdown(const Report& report);  // the same, as a string

// One self-contained HTML page (no network access: inline CSS and script, a Content Security
// Policy that forbids loading anything): summary, a filterable and sortable findings table with
// evidence on demand, and a per-HVE-account view of the policies that block each account.
// The view is kept in the URL fragment, so it can be linked: #status=fail&severity=high&rule=…&q=text
// &sort=subject&dir=descending&open=f3 (open: findings whose details are expanded).
void write_report_html(const Report& report, std::ostream& out);
std::string report_to_html(const Report& report);  // the same, as a string

}  // namespace tenantscan
