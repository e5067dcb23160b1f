// Report formats for CI and people, beside the JSON and text reports of scan.hpp:
// SARIF 2.1.0 (code scanning), JUnit XML (test dashboards), Markdown (pull-request comments and
// job summaries) and a self-contained HTML page.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tenantscan/scan.hpp>

namespace tenantscan {

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

// JUnit XML: a testsuite per rule, a testcase per finding (classname = rule, name = subject):
// fail → <failure>, error → <error>, not-applicable and waived → <skipped>, review → <skipped>
// (→ <failure> when review gates), pass → empty.
std::string report_to_junit(const Report& report);

// Markdown for a pull-request comment or a GitHub job summary: the gate and why, counts, the
// findings that need action with their fixes, waivers and the proposed change; details collapsed.
std::string report_to_markdown(const Report& report);

// One self-contained HTML page (no network access: inline CSS and script, a Content Security
// Policy that forbids loading anything): summary, a filterable and sortable findings table with
// evidence on demand, and a per-HVE-account view of the policies that block each account.
// The view is kept in the URL fragment, so it can be linked: #status=fail&severity=high&rule=…&q=text
// &sort=subject&dir=descending&open=f3 (open: findings whose details are expanded).
std::string report_to_html(const Report& report);

}  // namespace tenantscan
