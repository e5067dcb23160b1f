// Markdown for a pull-request comment or a GitHub job summary: what a reviewer needs first (the
// gate and why), then what to fix, with everything else collapsed. GitHub limits a comment to
// 65 536 characters and a job summary to 1 MiB, so long lists are cut with a pointer to the full
// report.
#include <tenantscan/report.hpp>

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "report/common.hpp"

namespace tenantscan {

namespace {

using report_detail::escape_markdown;
using report_detail::StreamedText;

constexpr std::size_t kMaxDetailedFindings = 40;
constexpr std::size_t kMaxTableRows = 300;
constexpr std::size_t kMaxEvidenceChars = 3000;

// A fenced code block whose fence is longer than any backtick run inside.
std::string code_block(const std::string& content, const char* language) {
    std::size_t longest = 0, run = 0;
    for (char c : content) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    std::string fence(std::max<std::size_t>(3, longest + 1), '`');
    return fmt::format("{}{}\n{}\n{}\n", fence, language, content, fence);
}

std::string code_span(const std::string& text) {
    std::string content;
    for (char c : text) content += (c == '\n' || c == '\r') ? ' ' : c;
    std::size_t longest = 0, run = 0;
    for (char c : content) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    std::string ticks(longest + 1, '`');
    // A space keeps a backtick at either end apart from the delimiters (CommonMark strips it).
    const bool pad = !content.empty() && (content.front() == '`' || content.back() == '`');
    return pad ? ticks + " " + content + " " + ticks : ticks + content + ticks;
}

const char* status_icon(Status s) {
    switch (s) {
        case Status::Fail: return "❌";
        case Status::Error: return "⛔";
        case Status::Review: return "🔍";
        case Status::Waived: return "🏳️";
        case Status::Pass: return "✅";
        case Status::NotApplicable: return "➖";
    }
    return "";
}

std::string evidence_block(const nlohmann::json& evidence) {
    std::string dump = evidence.dump(2);
    if (dump.size() > kMaxEvidenceChars) {
        // Cut at a line break so the block stays readable.
        auto cut = dump.rfind('\n', kMaxEvidenceChars);
        dump = dump.substr(0, cut == std::string::npos ? kMaxEvidenceChars : cut) + "\n… (cut; the JSON report has all of it)";
    }
    return code_block(dump, "json");
}

void finding_section(StreamedText& out, const Finding& f) {
    out += fmt::format("#### {} {} · {} · {}\n\n", status_icon(f.status), to_string(f.severity), code_span(f.rule),
                       escape_markdown(f.subject.name));
    out += escape_markdown(f.message) + "\n\n";
    if (!f.remediation.empty()) {
        if (f.remediation.find('\n') == std::string::npos)
            out += "**Fix:** " + escape_markdown(f.remediation) + "\n\n";
        else
            out += "**Fix:**\n\n" + code_block(f.remediation, "") + "\n";
    }
    if (f.waiver && f.waiver->expired)
        out += fmt::format("⏰ A waiver for this finding **expired on {}** and no longer applies: {}\n\n",
                           f.waiver->waiver.expires, escape_markdown(f.waiver->waiver.reason));
    if (!f.evidence.empty())
        out += "<details><summary>Evidence</summary>\n\n" + evidence_block(f.evidence) + "\n</details>\n\n";
}

void status_sections(StreamedText& out, const Report& report) {
    struct Section {
        Status status;
        const char* heading;
    };
    const Section sections[] = {{Status::Error, "Errors: could not be evaluated"},
                                {Status::Fail, "Failures"},
                                {Status::Review, "To review"}};
    auto ordered = report_detail::findings_worst_first(report);
    std::size_t shown = 0;
    for (const auto& section : sections) {
        std::vector<const Finding*> group;
        for (const Finding* f : ordered)
            if (f->status == section.status) group.push_back(f);
        if (group.empty()) continue;
        out += fmt::format("### {} ({})\n\n", section.heading, group.size());
        if (section.status == Status::Fail) {
            const auto below = std::count_if(group.begin(), group.end(),
                                             [&](const Finding* f) { return !at_least(f->severity, report.failOn); });
            if (below > 0)
                out += fmt::format("_{} of them {} below the gate's threshold ({}) and {} not fail it._\n\n", below,
                                   below == 1 ? "is" : "are", to_string(report.failOn), below == 1 ? "does" : "do");
        }
        for (const Finding* f : group) {
            if (shown == kMaxDetailedFindings) {
                out += fmt::format("… and more: {} findings are listed in detail here; the full report has all.\n\n",
                                   kMaxDetailedFindings);
                break;
            }
            finding_section(out, *f);
            ++shown;
        }
    }
}

void overlay_section(StreamedText& out, const Report& report) {
    if (report.policyChanges.empty()) return;
    out += "### Proposed Conditional Access change\n\n";
    for (const auto& c : report.policyChanges) {
        out += fmt::format("- **{}** '{}' ({}), state {}", to_string(c.kind), escape_markdown(c.displayName), code_span(c.id),
                           code_span(graph_state_name(c.state)));
        if (!c.source.file.empty()) out += " from " + code_span(c.source.file);
        if (!c.note.empty()) out += " — " + escape_markdown(c.note);
        out += "\n";
    }
    out += "\n";
}

void waiver_section(StreamedText& out, const Report& report) {
    if (report.waivers.empty()) return;
    out += "### Waivers\n\n| state | rule | subject | expires | reason | approved by |\n|---|---|---|---|---|---|\n";
    for (const auto& w : report.waivers) {
        const char* state = w.state == WaiverState::Applied   ? "applied"
                            : w.state == WaiverState::Expired ? "⏰ **expired**: no longer applies"
                                                              : "🧹 **stale**: matches nothing to waive; remove it";
        out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", state, code_span(w.waiver.rule), escape_markdown(w.waiver.subject),
                           w.waiver.expires, escape_markdown(w.waiver.reason), escape_markdown(w.waiver.approvedBy));
    }
    out += "\n";
}

void all_findings_table(StreamedText& out, const Report& report) {
    out += fmt::format("<details><summary>All {} findings</summary>\n\n", report.findings.size());
    out += "| status | severity | rule | subject | message |\n|---|---|---|---|---|\n";
    std::size_t rows = 0;
    for (const Finding* f : report_detail::findings_worst_first(report)) {
        if (rows++ == kMaxTableRows) {
            out += fmt::format("\n… {} more in the full report.\n", report.findings.size() - kMaxTableRows);
            break;
        }
        out += fmt::format("| {} {} | {} | {} | {} | {} |\n", status_icon(f->status), report_detail::status_words(f->status),
                           to_string(f->severity), code_span(f->rule), escape_markdown(f->subject.name), escape_markdown(f->message));
    }
    out += "\n</details>\n\n";
}

}  // namespace

void write_report_markdown(const Report& report, std::ostream& stream) {
    const auto& s = report.summary;
    StreamedText out(stream);
    out += fmt::format("## {} tenantscan: gate {}\n\n", s.gatePassed ? "✅" : "❌", s.gatePassed ? "passed" : "failed");
    out += fmt::format("Tenant {} · as of {} · snapshot {}", code_span(report.tenantId.empty() ? "(unknown)" : report.tenantId),
                       report.asOf, code_span(report.snapshotPath));
    if (!report.configPath.empty()) out += " · config " + code_span(report.configPath);
    out += fmt::format(" · fails on {} or worse{}\n\n", to_string(report.failOn), report.failOnReview ? " (reviews too)" : "");
    if (!report.schedule.empty()) out += "Schedule: " + escape_markdown(report.schedule) + "\n\n";
    if (!s.gatePassed) {
        out += "**Why the gate failed:**\n\n";
        for (const auto& reason : s.gateReasons) out += "- " + escape_markdown(reason) + "\n";
        out += "\n";
    }
    out += "| ❌ fail | ⛔ error | 🔍 review | 🏳️ waived | ✅ pass | ➖ not applicable |\n|---:|---:|---:|---:|---:|---:|\n";
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n\n", s.fail, s.error, s.review, s.waived, s.pass, s.notApplicable);
    overlay_section(out, report);
    status_sections(out, report);
    waiver_section(out, report);
    all_findings_table(out, report);
    out += fmt::format("<sub>tenantscan {}</sub>\n", report.toolVersion);
    out.flush();
}

std::string report_to_markdown(const Report& report) {
    std::ostringstream out;
    write_report_markdown(report, out);
    return out.str();
}

}  // namespace tenantscan
