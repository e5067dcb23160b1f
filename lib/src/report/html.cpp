// One self-contained HTML page: everything is inline, and the Content Security Policy forbids
// loading anything and runs only this file's own style and scripts (by hash), so neither a
// network nor a hostile policy name in the tenant can change what the page does. All tenant text
// is escaped; the script reads and writes only text and attributes, never HTML.
#include <tenantscan/report.hpp>
#include <tenantscan/detail/crypto.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "report/common.hpp"
#include "report_assets.hpp"  // generated from lib/src/report/assets/ (lib/CMakeLists.txt)

namespace tenantscan {

namespace {

using report_detail::escape_html;
using report_detail::StreamedText;

// The page's style and scripts are real files, lib/src/report/assets/{report.css,watchdog.js,report.js},
// embedded at build time as kStyle, kWatchdog (runs first, in <head>: records script errors and blocked
// content in attributes of <html>, so that a test can see that the page loaded cleanly) and kScript.

// 'sha256-…' as a Content Security Policy source for an inline element's exact text.
std::string csp_hash(const std::string& text) {
    return "'sha256-" + detail::base64_encode(detail::sha256(text)) + "'";
}

// A CSS class name for a status ("not-applicable" → "s-not-applicable").
std::string status_class(Status s) { return std::string("s-") + to_string(s); }

std::string badge(Status s) {
    return fmt::format("<span class=\"badge {}\">{}</span>", status_class(s), escape_html(report_detail::status_words(s)));
}

void render_header(StreamedText& out, const Report& report) {
    const auto& s = report.summary;
    out += fmt::format("<header class=\"{}\">\n<h1>tenantscan report: SMTP AUTH / HVE readiness</h1>\n",
                       s.gatePassed ? "passed" : "failed");
    out += fmt::format("<p class=\"verdict\" id=\"gate\">Gate {}</p>\n", s.gatePassed ? "passed" : "failed");
    if (!s.gateReasons.empty()) {
        out += "<ul class=\"reasons\">\n";
        for (const auto& reason : s.gateReasons) out += "<li>" + escape_html(reason) + "</li>\n";
        out += "</ul>\n";
    }
    out += "<dl class=\"meta\">\n";
    auto item = [&](const char* term, const std::string& value) {
        if (!value.empty()) out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", term, escape_html(value));
    };
    item("Tenant", report.tenantId.empty() ? "(not in snapshot)" : report.tenantId);
    item("As of", report.asOf);
    item("Snapshot", report.snapshotPath);
    item("Configuration", report.configPath);
    item("Schedule", report.schedule);
    item("Gate", fmt::format("fails on {} or worse{}; any error fails it", to_string(report.failOn),
                             report.failOnReview ? ", reviews included" : ""));
    if (!report.disabledRules.empty()) {
        std::string joined;
        for (const auto& r : report.disabledRules) joined += (joined.empty() ? "" : ", ") + r;
        item("Disabled rules", joined);
    }
    item("Tool", "tenantscan " + report.toolVersion);
    out += "</dl>\n</header>\n";
}

void render_summary(StreamedText& out, const Report& report) {
    const auto& s = report.summary;
    out += "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n";
    const std::pair<Status, int> counts[] = {{Status::Fail, s.fail},     {Status::Error, s.error},
                                             {Status::Review, s.review}, {Status::Waived, s.waived},
                                             {Status::Pass, s.pass},     {Status::NotApplicable, s.notApplicable}};
    for (const auto& [status, count] : counts)
        out += fmt::format("<button type=\"button\" class=\"card {}\" data-set-status=\"{}\" title=\"Show only these\">"
                           "<span class=\"count\">{}</span>{}</button>\n",
                           status_class(status), to_string(status), count,
                           escape_html(report_detail::status_words(status)));
    out += "</div>\n</section>\n";
}

void render_overlay(StreamedText& out, const Report& report) {
    if (report.policyChanges.empty()) return;
    out += "<section id=\"overlay\">\n<h2>Proposed Conditional Access change</h2>\n<table>\n<thead><tr><th>Change</th>"
           "<th>Policy</th><th>State</th><th>From</th><th>Note</th></tr></thead>\n<tbody>\n";
    for (const auto& c : report.policyChanges)
        out += fmt::format("<tr><td>{}</td><td>{}<div class=\"kind\">{}</div></td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>\n",
                           to_string(c.kind), escape_html(c.displayName), escape_html(c.id),
                           graph_state_name(c.state),
                           escape_html(c.source.file.empty() ? c.matchedBy : c.source.file + " " + c.source.pointer),
                           escape_html(c.note));
    out += "</tbody>\n</table>\n</section>\n";
}

void render_waivers(StreamedText& out, const Report& report) {
    if (report.waivers.empty()) return;
    out += "<section id=\"waivers\">\n<h2>Waivers</h2>\n<table>\n<thead><tr><th>State</th><th>Rule</th><th>Subject</th>"
           "<th>Expires</th><th>Reason</th><th>Approved by</th><th>Matched</th></tr></thead>\n<tbody>\n";
    for (const auto& w : report.waivers) {
        std::string state = w.state == WaiverState::Applied   ? "applied"
                            : w.state == WaiverState::Expired ? "<span class=\"expired\">expired: no longer applies</span>"
                                                              : "<span class=\"expired\">stale: matches nothing to waive</span>";
        out += fmt::format("<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                           state, escape_html(w.waiver.rule), escape_html(w.waiver.subject), escape_html(w.waiver.expires),
                           escape_html(w.waiver.reason), escape_html(w.waiver.approvedBy), w.matchedFindings);
    }
    out += "</tbody>\n</table>\n</section>\n";
}

// The per-HVE-account view: for each account, its verdict per rule and every Conditional Access
// policy its findings relate to it as blocking, would-block (report-only) or may-block.
struct PolicyLine {
    std::string id, displayName, state, controls, relation;
    bool proposed = false;
};

// "enabledForReportingButNotEnforced" → "report-only"; other states as Graph spells them.
std::string state_words(const std::string& state) {
    return state == "enabledForReportingButNotEnforced" ? "report-only" : state;
}

std::string relation_words(const Related& policy) {
    if (policy.role == Related::Role::Blocks) return "blocks it";
    if (policy.role == Related::Role::WouldBlock) return "would block it once enforced (report-only)";
    return policy.dependsOn.empty() ? "may block it"
                                    : fmt::format("may block it, depending on {}", fmt::join(policy.dependsOn, ", "));
}

std::vector<PolicyLine> policy_lines(const Finding& f, const Report& report) {
    std::vector<PolicyLine> out;
    for (const Related& p : f.related) {
        if (p.kind != Related::Kind::ConditionalAccessPolicy ||
            (p.role != Related::Role::Blocks && p.role != Related::Role::WouldBlock && p.role != Related::Role::MayBlock))
            continue;
        PolicyLine line;
        line.id = p.id;
        line.displayName = p.name;
        line.state = state_words(p.state);
        line.controls = fmt::format("{}", fmt::join(p.controls, ", "));
        line.relation = relation_words(p);
        line.proposed = std::any_of(report.policyChanges.begin(), report.policyChanges.end(), [&](const PolicyChange& c) {
            return c.kind != PolicyChange::Kind::Removed && c.id == line.id;
        });
        out.push_back(std::move(line));
    }
    return out;
}

void render_accounts(StreamedText& out, const Report& report) {
    std::map<std::string, std::vector<const Finding*>> byAccount;  // by name, then id: sorted and stable
    std::vector<const Finding*> tenantWide;
    std::set<std::string> hveRules;
    for (const RuleMetadata& rule : report.rules)
        if (rule.concernsHveAccounts) hveRules.insert(rule.id);
    for (const auto& f : report.findings) {
        if (f.subject.kind == "hveAccount") byAccount[f.subject.name + "\n" + f.subject.id].push_back(&f);
        else if (f.subject.kind == "tenant" && hveRules.count(f.rule) &&
                 (f.status == Status::Fail || f.status == Status::Error || f.status == Status::Review))
            tenantWide.push_back(&f);
    }
    out += "<section id=\"accounts\">\n<h2>HVE accounts: which policies block them</h2>\n";
    if (byAccount.empty() && tenantWide.empty()) {
        out += "<p class=\"muted\">No finding is about an HVE account.</p>\n</section>\n";
        return;
    }
    if (!tenantWide.empty()) {
        out += "<p>Tenant-wide, for every HVE account:</p>\n<ul>\n";
        for (const Finding* f : tenantWide)
            out += fmt::format("<li>{} <code>{}</code>: {}</li>\n", badge(f->status), escape_html(f->rule), escape_html(f->message));
        out += "</ul>\n";
    }
    out += "<table id=\"accounts-table\">\n<thead><tr><th>HVE account</th><th>Verdicts</th><th>Conditional Access policies "
           "that block or may block it</th></tr></thead>\n<tbody>\n";
    for (const auto& [key, findings] : byAccount) {
        const Subject& subject = findings.front()->subject;
        std::string verdicts, policies;
        for (const Finding* f : findings) {
            verdicts += fmt::format("<div>{} <code>{}</code></div>", badge(f->status), escape_html(f->rule));
            for (const auto& p : policy_lines(*f, report))
                policies += fmt::format(
                    "<li><strong>{}</strong>{} {} <span class=\"muted\">({}; state {}{}{})</span></li>",
                    escape_html(p.displayName.empty() ? p.id : p.displayName),
                    p.proposed ? " <span class=\"badge proposed\">proposed</span>" : "", escape_html(p.relation),
                    escape_html(p.id), escape_html(p.state), p.controls.empty() ? "" : "; controls ",
                    escape_html(p.controls));
        }
        if (policies.empty()) policies = "<span class=\"muted\">none</span>";
        else policies = "<ul class=\"policies\">" + policies + "</ul>";
        out += fmt::format("<tr class=\"account\" data-account=\"{}\"><td>{}<div class=\"kind\">{}</div>"
                           "<button type=\"button\" class=\"link\" data-set-q=\"{}\">Show its findings</button></td>"
                           "<td class=\"verdicts\">{}</td><td>{}</td></tr>\n",
                           escape_html(subject.name), escape_html(subject.name), escape_html(subject.id),
                           escape_html(subject.name), verdicts, policies);
    }
    out += "</tbody>\n</table>\n</section>\n";
}

std::string options(const std::vector<std::pair<std::string, std::string>>& values, const char* allLabel) {
    std::string out = fmt::format("<option value=\"\">{}</option>", allLabel);
    for (const auto& [value, label] : values)
        out += fmt::format("<option value=\"{}\">{}</option>", escape_html(value), escape_html(label));
    return out;
}

void render_findings(StreamedText& out, const Report& report) {
    std::vector<std::pair<std::string, std::string>> statuses, severities, rules;
    for (Status s : {Status::Fail, Status::Error, Status::Review, Status::Waived, Status::Pass, Status::NotApplicable})
        statuses.emplace_back(to_string(s), report_detail::status_words(s));
    for (Severity s : {Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info})
        severities.emplace_back(to_string(s), to_string(s));
    std::map<std::string, bool> ruleIds;
    for (const auto& f : report.findings) ruleIds[f.rule] = true;
    for (const auto& [id, present] : ruleIds) rules.emplace_back(id, id);

    out += "<section id=\"findings\">\n<h2>Findings</h2>\n<form class=\"filters\" id=\"filters\" autocomplete=\"off\">\n";
    out += fmt::format("<label>Status<select id=\"filter-status\">{}</select></label>\n", options(statuses, "all"));
    out += fmt::format("<label>Severity<select id=\"filter-severity\">{}</select></label>\n", options(severities, "all"));
    out += fmt::format("<label>Rule<select id=\"filter-rule\">{}</select></label>\n", options(rules, "all"));
    out += "<label>Search<input id=\"filter-q\" type=\"search\" placeholder=\"account, policy, message, evidence…\"></label>\n"
           "<button type=\"button\" id=\"filter-clear\">Clear filters</button>\n"
           "<span class=\"counter\" id=\"findings-counter\"></span>\n</form>\n";
    out += "<table id=\"findings-table\">\n<thead><tr><th data-sort=\"status\">Status</th><th data-sort=\"severity\">Severity</th>"
           "<th data-sort=\"rule\">Rule</th><th data-sort=\"subject\">Subject</th><th>Message</th></tr></thead>\n"
           "<tbody id=\"findings-body\">\n";
    std::size_t index = 0;
    for (const Finding* f : report_detail::findings_worst_first(report)) {
        ++index;
        out += fmt::format(
            "<tr class=\"finding\" id=\"f{0}\" data-details=\"d{0}\" data-status=\"{1}\" data-status-rank=\"{2}\" "
            "data-severity=\"{3}\" data-severity-rank=\"{4}\" data-rule=\"{5}\" data-subject=\"{6}\">"
            "<td>{7}</td><td><span class=\"sev sev-{3}\">{3}</span></td><td><code>{5}</code></td>"
            "<td>{6}<div class=\"kind\">{8}</div></td><td>{9}<button type=\"button\" class=\"toggle\" aria-expanded=\"false\" "
            "aria-controls=\"d{0}\">Details</button></td></tr>\n",
            index, to_string(f->status), report_detail::status_rank(f->status), to_string(f->severity), static_cast<int>(f->severity),
            escape_html(f->rule), escape_html(f->subject.name), badge(f->status), escape_html(f->subject.kind),
            escape_html(f->message));
        std::string details;
        if (!f->remediation.empty())
            details += fmt::format("<p><strong>Fix:</strong> <span class=\"fix\">{}</span></p>", escape_html(f->remediation));
        if (f->waiver) {
            const Waiver& w = f->waiver->waiver;
            details += fmt::format("<p class=\"{}\"><strong>{}</strong> {} (expires {}{}; {})</p>",
                                   f->waiver->expired ? "expired" : "waiver",
                                   f->waiver->expired ? "Waiver expired, no longer applies:"
                                                      : fmt::format("Waived (was {}):", to_string(f->waiver->originalStatus)),
                                   escape_html(w.reason), escape_html(w.expires),
                                   w.approvedBy.empty() ? "" : ", approved by " + escape_html(w.approvedBy),
                                   escape_html(w.origin));
        }
        details += fmt::format("<div class=\"kind\">Subject id {}</div>", escape_html(f->subject.id));
        details += fmt::format("<pre class=\"evidence\">{}</pre>", escape_html(f->evidence.dump(2)));
        out += fmt::format("<tr class=\"details\" id=\"d{}\" hidden><td colspan=\"5\">{}</td></tr>\n", index, details);
    }
    out += "<tr id=\"findings-empty\" hidden><td colspan=\"5\" class=\"empty\">No finding matches the filters.</td></tr>\n";
    out += "</tbody>\n</table>\n</section>\n";
}

}  // namespace

void write_report_html(const Report& report, std::ostream& stream) {
    // The head depends only on the embedded assets and the report's header, so it goes first.
    const std::string csp = fmt::format(
        "default-src 'none'; style-src {}; script-src {} {}; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(kStyle), csp_hash(kWatchdog), csp_hash(kScript));
    StreamedText out(stream);
    out += fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>tenantscan: gate {} for tenant {}</title>\n<script>{}</script>\n<style>{}</style>\n</head>\n<body>\n",
        csp, report.summary.gatePassed ? "passed" : "failed", escape_html(report.tenantId), kWatchdog, kStyle);
    render_header(out, report);
    out += "<main>\n";
    render_summary(out, report);
    render_overlay(out, report);
    render_accounts(out, report);
    render_findings(out, report);
    render_waivers(out, report);
    out += "</main>\n";
    out += fmt::format("<footer>Generated by tenantscan {} from {}. Evidence is also in the JSON report.</footer>\n",
                       escape_html(report.toolVersion), escape_html(report.snapshotPath));
    out += fmt::format("<script>{}</script>\n</body>\n</html>\n", kScript);
    out.flush();
}

std::string report_to_html(const Report& report) {
    std::ostringstream out;
    write_report_html(report, out);
    return out.str();
}

}  // namespace tenantscan
