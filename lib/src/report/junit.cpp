// JUnit XML, as GitLab (artifacts:reports:junit) and Azure DevOps (PublishTestResults) read it.
#include <tenantscan/report.hpp>

#include <map>

#include <fmt/format.h>

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

std::string testcase(const Finding& f, const Report& report, Counts& counts) {
    ++counts.tests;
    std::string open = fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"", attr(f.rule), attr(f.subject.name));
    auto element = [&](const char* tag, const std::string& message, const std::string& type) {
        return fmt::format("{}>\n      <{} message=\"{}\" type=\"{}\">{}</{}>\n    </testcase>\n", open, tag,
                           attr(message), attr(type), text(details(f)), tag);
    };
    switch (f.status) {
        case Status::Pass: return open + "/>\n";
        case Status::Fail: ++counts.failures; return element("failure", f.message, to_string(f.severity));
        case Status::Error: ++counts.errors; return element("error", f.message, "error");
        case Status::Review:
            if (report.failOnReview && at_least(f.severity, report.failOn)) {
                ++counts.failures;
                return element("failure", "needs review: " + f.message, "review");
            }
            ++counts.skipped;
            return element("skipped", "needs review: " + f.message, "review");
        case Status::Waived:
            ++counts.skipped;
            return element("skipped", fmt::format("waived until {}: {}", f.waiver->waiver.expires, f.waiver->waiver.reason),
                           "waived");
        case Status::NotApplicable: ++counts.skipped; return element("skipped", f.message, "not-applicable");
    }
    return open + "/>\n";
}

}  // namespace

std::string report_to_junit(const Report& report) {
    std::map<std::string, std::vector<const Finding*>> byRule;
    for (const auto& f : report.findings) byRule[f.rule].push_back(&f);
    std::map<std::string, std::string> titles;
    for (const auto& m : report.rules) titles[m.id] = m.title;

    Counts total;
    std::string suites;
    for (const auto& [rule, findings] : byRule) {
        Counts counts;
        std::string cases;
        for (const Finding* f : findings) cases += testcase(*f, report, counts);
        suites += fmt::format(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">\n"
            "    <properties>\n"
            "      <property name=\"title\" value=\"{}\"/>\n"
            "      <property name=\"tenant\" value=\"{}\"/>\n"
            "      <property name=\"asOf\" value=\"{}\"/>\n"
            "    </properties>\n{}  </testsuite>\n",
            attr(rule), counts.tests, counts.failures, counts.errors, counts.skipped,
            attr(titles.count(rule) ? titles[rule] : rule), attr(report.tenantId), attr(report.asOf), cases);
        total.tests += counts.tests;
        total.failures += counts.failures;
        total.errors += counts.errors;
        total.skipped += counts.skipped;
    }
    return fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuites name=\"tenantscan {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">\n{}"
        "</testsuites>\n",
        attr(report.tenantId), total.tests, total.failures, total.errors, total.skipped, suites);
}

}  // namespace tenantscan
