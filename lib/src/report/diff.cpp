#include <tenantscan/report_diff.hpp>

#include <algorithm>
#include <map>
#include <tuple>
#include <stdexcept>

#include <fmt/format.h>

#include "report/common.hpp"

namespace tenantscan {

namespace {

using report_detail::escape_markdown;

using nlohmann::json;

bool failing(const std::optional<Finding>& f) { return f && (f->status == Status::Fail || f->status == Status::Error); }

// "fail high", "absent"
std::string state_words(const std::optional<Finding>& f) {
    return f ? fmt::format("{} {}", report_detail::status_words(f->status), to_string(f->severity)) : "absent";
}

json side_json(const std::optional<Finding>& f) {
    if (!f) return nullptr;
    return {{"status", to_string(f->status)}, {"severity", to_string(f->severity)}, {"message", f->message}};
}

json change_json(const FindingChange& c) {
    const Finding& f = c.current();
    return {{"rule", f.rule},
            {"subject", {{"kind", f.subject.kind}, {"id", f.subject.id}, {"name", f.subject.name}}},
            {"before", side_json(c.before)},
            {"after", side_json(c.after)}};
}

std::string paint(bool colour, const std::string& text, const char* code) {
    return colour ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : text;
}

std::string gate_reason(const ReportDiff& diff) {
    const auto gating = diff.gating();
    return fmt::format("{} new failing finding{} at severity {} or above (errors always count)", gating.size(),
                       gating.size() == 1 ? "" : "s", to_string(diff.failOn));
}

}  // namespace

std::vector<FindingChange> ReportDiff::gating() const {
    std::vector<FindingChange> out;
    for (const auto& c : newFailures)
        if (c.after->status == Status::Error || at_least(c.after->severity, failOn)) out.push_back(c);
    return out;
}

ReportDiff diff_reports(const Report& before, const Report& after, Severity failOn) {
    if (!before.tenantId.empty() && !after.tenantId.empty() && before.tenantId != after.tenantId)
        throw std::invalid_argument(fmt::format("the reports are about different tenants ({} and {})", before.tenantId,
                                                after.tenantId));
    ReportDiff diff;
    diff.beforePath = before.snapshotPath;
    diff.afterPath = after.snapshotPath;
    diff.beforeAsOf = before.asOf;
    diff.afterAsOf = after.asOf;
    diff.tenantId = after.tenantId.empty() ? before.tenantId : after.tenantId;
    diff.failOn = failOn;

    // Ordered by identity so that the output is deterministic and the report order is kept.
    std::map<std::string, FindingChange> pairs;
    std::vector<std::string> order;
    for (const auto& f : before.findings) {
        auto key = report_detail::finding_identity(f);
        if (!pairs.count(key)) order.push_back(key);
        pairs[key].before = f;
    }
    for (const auto& f : after.findings) {
        auto key = report_detail::finding_identity(f);
        if (!pairs.count(key)) order.push_back(key);
        pairs[key].after = f;
    }
    std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
        const Finding& fa = pairs[a].current();
        const Finding& fb = pairs[b].current();
        return std::tie(fa.rule, fa.subject.name) < std::tie(fb.rule, fb.subject.name);
    });
    for (const auto& key : order) {
        const FindingChange& c = pairs[key];
        const bool wasFailing = failing(c.before), isFailing = failing(c.after);
        const bool same = c.before && c.after && c.before->status == c.after->status &&
                          c.before->severity == c.after->severity;
        if (isFailing && (!wasFailing || c.before->status != c.after->status)) diff.newFailures.push_back(c);
        else if (wasFailing && !isFailing) diff.resolvedFailures.push_back(c);
        else if (same) ++diff.unchanged;
        else diff.changed.push_back(c);
    }
    return diff;
}

nlohmann::json diff_to_json(const ReportDiff& diff) {
    auto list = [](const std::vector<FindingChange>& changes) {
        json out = json::array();
        for (const auto& c : changes) out.push_back(change_json(c));
        return out;
    };
    const bool passed = diff.gatePassed();
    return {{"diffVersion", 1},
            {"tenant", {{"id", diff.tenantId}}},
            {"before", {{"snapshot", diff.beforePath}, {"asOf", diff.beforeAsOf}}},
            {"after", {{"snapshot", diff.afterPath}, {"asOf", diff.afterAsOf}}},
            {"summary",
             {{"newFailures", diff.newFailures.size()},
              {"resolvedFailures", diff.resolvedFailures.size()},
              {"changed", diff.changed.size()},
              {"unchanged", diff.unchanged},
              {"failOn", to_string(diff.failOn)},
              {"gate", passed ? "passed" : "failed"},
              {"gateReasons", passed ? json::array() : json::array({gate_reason(diff)})}}},
            {"newFailures", list(diff.newFailures)},
            {"resolvedFailures", list(diff.resolvedFailures)},
            {"changed", list(diff.changed)}};
}

std::string diff_to_text(const ReportDiff& diff, bool colour) {
    std::string out = paint(colour, "tenantscan diff", "1") +
                      fmt::format(" — tenant {}\nbefore: {} (as of {})\nafter:  {} (as of {})\n",
                                  diff.tenantId.empty() ? "(unknown)" : diff.tenantId, diff.beforePath, diff.beforeAsOf,
                                  diff.afterPath, diff.afterAsOf);
    auto section = [&](const char* heading, const char* code, const std::vector<FindingChange>& changes, bool withMessage) {
        if (changes.empty()) return;
        out += "\n" + paint(colour, fmt::format("{} ({})", heading, changes.size()), code) + "\n";
        for (const auto& c : changes) {
            const Finding& f = c.current();
            out += fmt::format("  {}  {}: {} → {}\n", f.rule, f.subject.name, state_words(c.before), state_words(c.after));
            if (withMessage) out += fmt::format("    {}\n", f.message);
        }
    };
    section("NEW FAILURES", "1;31", diff.newFailures, true);
    section("RESOLVED FAILURES", "1;32", diff.resolvedFailures, false);
    section("OTHER CHANGES", "1;33", diff.changed, false);
    out += fmt::format("\n{} new failure{}, {} resolved, {} other change{}, {} unchanged\n", diff.newFailures.size(),
                       diff.newFailures.size() == 1 ? "" : "s", diff.resolvedFailures.size(), diff.changed.size(),
                       diff.changed.size() == 1 ? "" : "s", diff.unchanged);
    if (diff.gatePassed())
        out += paint(colour, "Gate: PASSED", "1;32") +
               fmt::format(" (no new failure at severity {} or above)\n", to_string(diff.failOn));
    else
        out += paint(colour, "Gate: FAILED", "1;31") + " (" + gate_reason(diff) + ")\n";
    return out;
}

std::string diff_to_markdown(const ReportDiff& diff) {
    const bool passed = diff.gatePassed();
    std::string out = fmt::format("## {} tenantscan diff: {}\n\n", passed ? "✅" : "❌",
                                  passed ? "no new breakage" : "new failures");
    out += fmt::format("Tenant `{}` · before: as of {} · after: as of {} · fails on {} or worse\n\n",
                       diff.tenantId.empty() ? "(unknown)" : diff.tenantId, diff.beforeAsOf, diff.afterAsOf,
                       to_string(diff.failOn));
    if (!passed) out += "**Why the gate failed:** " + escape_markdown(gate_reason(diff)) + "\n\n";
    out += "| new failures | resolved | other changes | unchanged |\n|---:|---:|---:|---:|\n";
    out += fmt::format("| {} | {} | {} | {} |\n\n", diff.newFailures.size(), diff.resolvedFailures.size(),
                       diff.changed.size(), diff.unchanged);
    auto table = [&](const char* heading, const std::vector<FindingChange>& changes, bool collapsed) {
        if (changes.empty()) return;
        if (collapsed) out += fmt::format("<details><summary>{} ({})</summary>\n\n", heading, changes.size());
        else out += fmt::format("### {} ({})\n\n", heading, changes.size());
        out += "| rule | subject | before | after | message |\n|---|---|---|---|---|\n";
        for (const auto& c : changes) {
            const Finding& f = c.current();
            out += fmt::format("| `{}` | {} | {} | {} | {} |\n", f.rule, escape_markdown(f.subject.name), state_words(c.before),
                               state_words(c.after), escape_markdown(f.message));
        }
        out += collapsed ? "\n</details>\n\n" : "\n";
    };
    table("New failures", diff.newFailures, false);
    table("Resolved failures", diff.resolvedFailures, false);
    table("Other changes", diff.changed, true);
    return out;
}

}  // namespace tenantscan
