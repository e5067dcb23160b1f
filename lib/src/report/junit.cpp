// JUnit XML, as GitLab (artifacts:reports:junit) and Azure DevOps (PublishTestResults) read it.
#include <tenantscan/report.hpp>

#include <map>
#include <sstream>

#include <fmt/format.h>

#include "report/common.hpp"

namespace tenantscan {

namespace {

// XML 1.0 text and attribute values: markup characters as entities, line breaks kept in text
// and encoded in attributes (a parser would turn them into spaces), and the characters XML
// cannot carry at all (other C0 controls, U+FFFE, U+FFFF) replaced by U+FFFD.
std::string escape_xml(std::string_view text, bool attribute) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        switch (c) {
            case '&': out += "&amp;"; continue;
            case '<': out += "&lt;"; continue;
            case '>': out += "&gt;"; continue;
            case '"': out += attribute ? "&quot;" : "\""; continue;
            case '\'': out += attribute ? "&apos;" : "'"; continue;
            case '\n': out += attribute ? "&#10;" : "\n"; continue;
            case '\r': out += "&#13;"; continue;
            case '\t': out += attribute ? "&#9;" : "\t"; continue;
            default: break;
        }
        if (c < 0x20) {
            out += "\xEF\xBF\xBD";
        } else if (c == 0xEF && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xBF &&
                   (static_cast<unsigned char>(text[i + 2]) == 0xBE || static_cast<unsigned char>(text[i + 2]) == 0xBF)) {
            out += "\xEF\xBF\xBD";
            i += 2;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string attr(std::string_view text) { return escape_xml(text, true); }
std::string text(std::string_view value) { return escape_xml(value, false); }

// The body of a <failure>/<error>/<skipped>: what a developer reads in the CI test view.
std::string details(const Finding& f) {
    std::string out = fmt::format("{}\n\nSubject: {} {} ({})\nSeverity: {}\n", f.message, f.subject.kind, f.subject.name,
                                  f.subject.id, to_string(f.severity));
    if (!f.remediation.empty()) out += "\nFix: " + f.remediation + "\n";
    if (f.waiver)
        out += fmt::format("\nWaiver{}: {} (expires {}{}; {})\n", f.waiver->expired ? " (EXPIRED, no longer applies)" : "",
                           f.waiver->waiver.reason, f.waiver->waiver.expires,
                           f.waiver->waiver.approvedBy.empty() ? "" : ", approved by " + f.waiver->waiver.approvedBy,
                           f.waiver->waiver.origin);
    if (!f.evidence.empty()) out += "\nEvidence:\n" + f.evidence.dump(2) + "\n";
    return out;
}

struct Counts {
    int tests = 0, failures = 0, errors = 0, skipped = 0;
};

// What a finding is as a testcase: passed, or its <failure>, <error> or <skipped> element with
// the element's message and type attributes.
struct Outcome {
    const char* tag = nullptr;  // nullptr: passed
    std::string message, type;
};

Outcome outcome(const Finding& f, const Report& report) {
    switch (f.status) {
        case Status::Pass: return {};
        case Status::Fail: return {"failure", f.message, to_string(f.severity)};
        case Status::Error: return {"error", f.message, "error"};
        case Status::Review:
            if (report.failOnReview && at_least(f.severity, report.failOn))
                return {"failure", "needs review: " + f.message, "review"};
            return {"skipped", "needs review: " + f.message, "review"};
        case Status::Waived:
            return {"skipped", fmt::format("waived until {}: {}", f.waiver->waiver.expires, f.waiver->waiver.reason),
                    "waived"};
        case Status::NotApplicable: return {"skipped", f.message, "not-applicable"};
    }
    return {};
}

void count(const Finding& f, const Report& report, Counts& counts) {
    ++counts.tests;
    const char* tag = outcome(f, report).tag;
    if (!tag) return;
    const std::string_view kind = tag;
    if (kind == "failure") ++counts.failures;
    else if (kind == "error") ++counts.errors;
    else ++counts.skipped;
}

std::string testcase(const Finding& f, const Report& report) {
    std::string open = fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"", attr(f.rule), attr(f.subject.name));
    const Outcome o = outcome(f, report);
    if (!o.tag) return open + "/>\n";
    return fmt::format("{}>\n      <{} message=\"{}\" type=\"{}\">{}</{}>\n    </testcase>\n", open, o.tag, attr(o.message),
                       attr(o.type), text(details(f)), o.tag);
}

}  // namespace

// The root element carries the totals and each <testsuite> its rule's counts, so the counts are
// taken first (from the findings' statuses alone); then each testcase is written as it is made.
void write_report_junit(const Report& report, std::ostream& stream) {
    std::map<std::string, std::vector<const Finding*>> byRule;
    for (const auto& f : report.findings) byRule[f.rule].push_back(&f);
    std::map<std::string, std::string> titles;
    for (const auto& m : report.rules) titles[m.id] = m.title;

    std::map<std::string, Counts> counts;
    Counts total;
    for (const auto& [rule, findings] : byRule)
        for (const Finding* f : findings) {
            count(*f, report, counts[rule]);
            count(*f, report, total);
        }

    report_detail::StreamedText out(stream);
    out += fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuites name=\"tenantscan {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">\n",
        attr(report.tenantId), total.tests, total.failures, total.errors, total.skipped);
    for (const auto& [rule, findings] : byRule) {
        const Counts& c = counts[rule];
        out += fmt::format(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">\n"
            "    <properties>\n"
            "      <property name=\"title\" value=\"{}\"/>\n"
            "      <property name=\"tenant\" value=\"{}\"/>\n"
            "      <property name=\"asOf\" value=\"{}\"/>\n"
            "    </properties>\n",
            attr(rule), c.tests, c.failures, c.errors, c.skipped, attr(titles.count(rule) ? titles[rule] : rule),
            attr(report.tenantId), attr(report.asOf));
        for (const Finding* f : findings) out += testcase(*f, report);
        out += "  </testsuite>\n";
    }
    out += "</testsuites>\n";
    out.flush();
}

std::string report_to_junit(const Report& report) {
    std::ostringstream out;
    write_report_junit(report, out);
    return out.str();
}

}  // namespace tenantscan
