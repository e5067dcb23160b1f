#include "report_common.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include <fmt/format.h>

namespace tenantscan::report_detail {

namespace {

void collect_policies(const nlohmann::json& value, const Report& report, std::vector<PolicyReference>& out) {
    if (value.is_object()) {
        for (const auto& [key, member] : value.items()) {
            if (member.is_string() && report.policySources.count(member.get<std::string>())) {
                const std::string id = member.get<std::string>();
                auto name = value.find("displayName");
                bool seen = std::any_of(out.begin(), out.end(), [&](const PolicyReference& r) { return r.id == id; });
                if (!seen)
                    out.push_back({id, name != value.end() && name->is_string() ? name->get<std::string>() : ""});
            } else {
                collect_policies(member, report, out);
            }
        }
    } else if (value.is_array()) {
        for (const auto& item : value) collect_policies(item, report, out);
    } else if (value.is_string() && report.policySources.count(value.get<std::string>())) {
        const std::string id = value.get<std::string>();
        if (std::none_of(out.begin(), out.end(), [&](const PolicyReference& r) { return r.id == id; }))
            out.push_back({id, ""});
    }
}

}  // namespace

std::vector<PolicyReference> referenced_policies(const Finding& finding, const Report& report) {
    std::vector<PolicyReference> out;
    if (!report.policySources.empty()) collect_policies(finding.evidence, report, out);
    return out;
}

const PolicyChange* proposed_change_behind(const Finding& finding, const Report& report) {
    if (report.policyChanges.empty()) return nullptr;
    for (const auto& reference : referenced_policies(finding, report))
        for (const auto& change : report.policyChanges)
            if (change.kind != PolicyChange::Kind::Removed && change.id == reference.id) return &change;
    return nullptr;
}

std::string finding_identity(const Finding& finding) {
    return finding.rule + "\n" + finding.subject.kind + "\n" +
           (finding.subject.id.empty() ? finding.subject.name : finding.subject.id);
}

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string escape_markdown(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\n': out += "<br>"; break;
            case '\r': break;
            case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '#': case '~': case '!':
                out += '\\';
                out += c;
                break;
            default: out += c;
        }
    }
    return out;
}

std::string status_words(Status status) {
    return status == Status::NotApplicable ? "not applicable" : to_string(status);
}

int status_rank(Status status) {
    switch (status) {
        case Status::Error: return 0;
        case Status::Fail: return 1;
        case Status::Review: return 2;
        case Status::Waived: return 3;
        case Status::Pass: return 4;
        case Status::NotApplicable: return 5;
    }
    return 6;
}

std::vector<const Finding*> findings_worst_first(const Report& report) {
    std::vector<const Finding*> out;
    for (const auto& f : report.findings) out.push_back(&f);
    std::stable_sort(out.begin(), out.end(), [&](const Finding* a, const Finding* b) {
        return std::make_pair(status_rank(a->status), static_cast<int>(a->severity)) <
               std::make_pair(status_rank(b->status), static_cast<int>(b->severity));
    });
    return out;
}

}  // namespace tenantscan::report_detail
