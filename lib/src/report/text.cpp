// The human report: what is broken first, each finding with its cause, evidence and fix.
#include <tenantscan/scan.hpp>

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <tenantscan/detail/migration_plan.hpp>
#include <tenantscan/report.hpp>

#include <sstream>

#include "report/common.hpp"

namespace tenantscan {

namespace {

using report_detail::StreamedText;

constexpr std::size_t kMaxListedItems = 10;

struct Palette {
    bool on;
    std::string paint(const std::string& text, const char* code) const {
        return on ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : text;
    }
};

const char* status_colour(Status s) {
    switch (s) {
        case Status::Fail: return "1;31";
        case Status::Error: return "1;35";
        case Status::Review: return "1;33";
        case Status::Pass: return "32";
        case Status::NotApplicable: return "2";
        case Status::Waived: return "36";
    }
    return "0";
}

const char* status_heading(Status s) {
    switch (s) {
        case Status::Error: return "ERRORS: could not be evaluated";
        case Status::Fail: return "FAILURES: will break or is unsafe";
        case Status::Review: return "REVIEW: depends on something the snapshot cannot tell";
        case Status::Pass: return "PASSED";
        case Status::NotApplicable: return "NOT APPLICABLE";
        case Status::Waived: return "WAIVED: accepted by a waiver until it expires";
    }
    return "";
}

std::string scalar_text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "none";
    return v.dump();
}

// One line for an object in an evidence list: its scalar fields, and the size of its lists.
std::string object_line(const nlohmann::json& object) {
    std::string line;
    for (const auto& [key, value] : object.items()) {
        std::string part;
        if (value.is_array()) {
            if (value.empty()) continue;
            bool scalars = std::all_of(value.begin(), value.end(), [](const nlohmann::json& x) { return !x.is_structured(); });
            if (!scalars) {
                part = fmt::format("{}: {} item{}", key, value.size(), value.size() == 1 ? "" : "s");
            } else {
                std::string joined;
                for (const auto& x : value) joined += (joined.empty() ? "" : ", ") + scalar_text(x);
                part = fmt::format("{}: {}", key, joined);
            }
        } else if (value.is_object()) {
            continue;
        } else {
            part = fmt::format("{}: {}", key, scalar_text(value));
        }
        line += (line.empty() ? "" : "; ") + part;
    }
    return line;
}

void render_evidence(StreamedText& out, const nlohmann::json& evidence, const std::string& indent) {
    if (!evidence.is_object()) return;
    for (const auto& [key, value] : evidence.items()) {
        if (value.is_array()) {
            if (value.empty()) continue;
            out += fmt::format("{}{}:\n", indent, key);
            std::size_t shown = 0;
            for (const auto& item : value) {
                if (shown++ == kMaxListedItems) {
                    out += fmt::format("{}  … and {} more (see the JSON report)\n", indent, value.size() - kMaxListedItems);
                    break;
                }
                out += fmt::format("{}  - {}\n", indent, item.is_object() ? object_line(item) : scalar_text(item));
            }
        } else if (value.is_object()) {
            auto line = object_line(value);
            if (!line.empty()) out += fmt::format("{}{}: {}\n", indent, key, line);
        } else {
            out += fmt::format("{}{}: {}\n", indent, key, scalar_text(value));
        }
    }
}

// Continuation lines of a multi-line text (e.g. a block of PowerShell commands) keep the indent.
std::string indent_lines(const std::string& text, const std::string& indent) {
    std::string out;
    for (char c : text) {
        out += c;
        if (c == '\n') out += indent;
    }
    return out;
}

std::string waiver_line(const Waiver& w) {
    return fmt::format("'{}' (expires {}{}; {})", w.reason, w.expires,
                       w.approvedBy.empty() ? "" : ", approved by " + w.approvedBy, w.origin);
}

void render_header(StreamedText& out, const Report& report) {
    out += fmt::format("tenant:   {}\n", report.tenantId.empty() ? "(not in snapshot)" : report.tenantId);
    out += fmt::format("snapshot: {}\n", report.snapshotPath);
    out += fmt::format("as of:    {}\n", report.asOf);
    if (!report.schedule.empty()) out += fmt::format("schedule: {}\n", report.schedule);
    if (!report.configPath.empty()) out += fmt::format("config:   {}\n", report.configPath);
    if (!report.disabledRules.empty())
        out += fmt::format("disabled: {}\n", fmt::join(report.disabledRules, ", "));
    for (const auto& [rule, severity] : report.severityOverrides)
        out += fmt::format("severity: {} set to {}\n", rule, to_string(severity));
    if (report.policyChanges.empty()) return;
    out += fmt::format("proposed Conditional Access change ({} polic{}):\n", report.policyChanges.size(),
                       report.policyChanges.size() == 1 ? "y" : "ies");
    for (const auto& c : report.policyChanges) {
        std::string how = c.kind == PolicyChange::Kind::Removed ? "--remove-policy"
                          : c.source.pointer.empty()          ? c.source.file
                                                              : c.source.file + " " + c.source.pointer;
        out += fmt::format("  {} '{}' ({}, state {}) from {}\n", to_string(c.kind), c.displayName, c.id,
                           graph_state_name(c.state), how);
        if (!c.note.empty()) out += fmt::format("    note: {}\n", c.note);
    }
}

void render_waivers(StreamedText& out, const Report& report, const Palette& p) {
    std::vector<const WaiverOutcome*> notable;
    for (const auto& w : report.waivers)
        if (w.state != WaiverState::Applied) notable.push_back(&w);
    if (notable.empty()) return;
    out += "\n" + p.paint("WAIVERS THAT NEED ATTENTION", "1;33") + "\n";
    for (const auto* w : notable) {
        if (w->state == WaiverState::Expired)
            out += fmt::format("  expired: {} / {}: expired on {}, no longer applies ({} matching finding{})\n",
                               w->waiver.rule, w->waiver.subject, w->waiver.expires, w->matchedFindings,
                               w->matchedFindings == 1 ? "" : "s");
        else
            out += fmt::format("  stale:   {} / {}: matches no fail, review or error finding; remove it\n",
                               w->waiver.rule, w->waiver.subject);
        out += fmt::format("           {}\n", waiver_line(w->waiver));
    }
}

}  // namespace

void write_report_text(const Report& report, bool colour, std::ostream& stream) {
    Palette p{colour};
    StreamedText out(stream);
    out += p.paint(fmt::format("tenantscan {} — SMTP AUTH / HVE readiness", report.toolVersion), "1") + "\n";
    render_header(out, report);
    // For each sender: what it is, what breaks, where it should go (migration_plan.hpp).
    out.flush();
    write_migration_plan_text(build_migration_plan(report.findings), colour, stream);

    const Status order[] = {Status::Error, Status::Fail, Status::Review, Status::Waived, Status::Pass,
                            Status::NotApplicable};
    for (Status status : order) {
        std::vector<const Finding*> group;
        for (const auto& f : report.findings)
            if (f.status == status) group.push_back(&f);
        if (group.empty()) continue;
        std::stable_sort(group.begin(), group.end(), [](const Finding* a, const Finding* b) {
            return static_cast<int>(a->severity) < static_cast<int>(b->severity);
        });
        out += "\n" + p.paint(fmt::format("{} ({})", status_heading(status), group.size()), status_colour(status)) + "\n";
        bool detailed = status == Status::Error || status == Status::Fail || status == Status::Review;
        for (const Finding* f : group) {
            auto tag = fmt::format("[{} {}]", to_string(f->status), to_string(f->severity));
            if (!detailed) {
                out += fmt::format("  {} {}  {}: {}\n", p.paint(tag, status_colour(status)), f->rule, f->subject.name,
                                   f->message);
                if (f->waiver)
                    out += fmt::format("    was {}; waived: {}\n", to_string(f->waiver->originalStatus),
                                       waiver_line(f->waiver->waiver));
                continue;
            }
            out += fmt::format("\n  {} {}  {} ({})\n", p.paint(tag, status_colour(status)), p.paint(f->rule, "1"),
                               f->subject.name, f->subject.kind);
            out += fmt::format("    {}\n", f->message);
            render_evidence(out, f->evidence, "    ");
            if (!f->remediation.empty()) out += fmt::format("    {} {}\n", p.paint("Fix:", "1"), indent_lines(f->remediation, "         "));
            if (f->waiver && f->waiver->expired)
                out += fmt::format("    Waiver expired on {}, so it no longer applies: {}\n", f->waiver->waiver.expires,
                                   waiver_line(f->waiver->waiver));
        }
    }
    render_waivers(out, report, p);

    const auto& s = report.summary;
    out += fmt::format("\n{} pass, {} fail, {} review, {} not applicable, {} error, {} waived\n", s.pass, s.fail,
                       s.review, s.notApplicable, s.error, s.waived);
    if (s.gatePassed) {
        out += p.paint("Gate: PASSED", "1;32") + "\n";
    } else {
        std::string reasons;
        for (const auto& r : s.gateReasons) reasons += (reasons.empty() ? "" : "; ") + r;
        out += p.paint("Gate: FAILED", "1;31") + fmt::format(" ({})\n", reasons);
    }
    out.flush();
}

std::string report_to_text(const Report& report, bool colour) {
    std::ostringstream out;
    write_report_text(report, colour, out);
    return out.str();
}

}  // namespace tenantscan
