// SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, any SARIF viewer).
#include <tenantscan/json_input.hpp>
#include <tenantscan/report.hpp>
#include <tenantscan/detail/crypto.hpp>
#include <tenantscan/detail/text.hpp>

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "report/common.hpp"

namespace tenantscan {

namespace {

using nlohmann::json;
using report_detail::PolicyReference;

constexpr const char* kSarifSchema = "https://json.schemastore.org/sarif-2.1.0.json";

// GitHub ranks security alerts by this number: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium,
// 0.1-3.9 low. Info findings carry none: they are not security problems.
const char* security_severity(Severity s) {
    switch (s) {
        case Severity::Critical: return "9.5";
        case Severity::High: return "8.0";
        case Severity::Medium: return "5.5";
        case Severity::Low: return "3.0";
        case Severity::Info: break;
    }
    return nullptr;
}

const char* level(Severity s) {
    switch (s) {
        case Severity::Critical:
        case Severity::High: return "error";
        case Severity::Medium: return "warning";
        case Severity::Low:
        case Severity::Info: break;
    }
    return "note";
}

const char* result_kind(Status s) {
    switch (s) {
        case Status::Pass: return "pass";
        case Status::Fail:
        case Status::Waived: return "fail";
        case Status::NotApplicable: return "notApplicable";
        case Status::Review:
        case Status::Error: break;
    }
    return "review";
}

// "hve-conditional-access" → "HveConditionalAccess" (SARIF's reportingDescriptor.name style).
std::string pascal_case(const std::string& id) {
    std::string out;
    bool upper = true;
    for (char c : id) {
        if (c == '-') {
            upper = true;
            continue;
        }
        out += upper ? to_upper(c) : c;
        upper = false;
    }
    return out;
}

// A path as a SARIF artifact location: relative paths are relative to the repository root
// (%SRCROOT%, as code scanning expects), absolute ones become file:// URIs.
json artifact_location(const std::string& path) {
    std::string encoded;
    for (unsigned char c : path) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/')
            encoded += static_cast<char>(c);
        else
            encoded += fmt::format("%{:02X}", c);
    }
    if (!path.empty() && path.front() == '/') return {{"uri", "file://" + encoded}};
    while (encoded.rfind("./", 0) == 0) encoded.erase(0, 2);
    return {{"uri", encoded}, {"uriBaseId", "%SRCROOT%"}};
}

// A SARIF location for a place in a file; without physicalLocation when there is no file to
// point at (a snapshot collected live and not saved: its name is not a path).
json physical_location(const SourceLocation& source, const Report& report) {
    if (source.file.empty() || (!report.snapshotIsFile && source.file == report.snapshotPath)) return json::object();
    return {{"physicalLocation",
             {{"artifactLocation", artifact_location(source.file)}, {"region", {{"startLine", std::max(source.line, 1)}}}}}};
}

std::string join_lines(const std::vector<std::string>& items, const char* prefix) {
    std::string out;
    for (const auto& i : items) out += prefix + i + "\n";
    return out;
}

json rule_descriptor(const RuleMetadata& m) {
    const std::string uri = rule_help_uri(m.id);
    std::string text = fmt::format("{}\n\nWhy: {}\n\nFix: {}\n", m.title, m.rationale, m.remediation);
    if (!m.references.empty()) text += "\nReferences:\n" + join_lines(m.references, "- ");
    text += "\nDocumentation: " + uri + "\n";
    std::string markdown = fmt::format("**{}**\n\n**Why.** {}\n\n**Fix.** {}\n", m.title, m.rationale, m.remediation);
    if (!m.references.empty()) markdown += "\n**References**\n\n" + join_lines(m.references, "- ");
    markdown += fmt::format("\n[Rule documentation]({})\n", uri);

    std::string module = m.id.substr(0, m.id.find('-'));
    json properties = {{"tags", {"security", "tenantscan", module}}, {"precision", "high"},
                       {"requiredSections", m.requiredSections}};
    if (const char* score = security_severity(m.defaultSeverity)) properties["security-severity"] = score;
    return {{"id", m.id},
            {"name", pascal_case(m.id)},
            {"shortDescription", {{"text", m.title}}},
            {"fullDescription", {{"text", m.rationale}}},
            {"help", {{"text", text}, {"markdown", markdown}}},
            {"helpUri", uri},
            {"defaultConfiguration", {{"level", level(m.defaultSeverity)}}},
            {"properties", properties}};
}

json locations_for(const Finding& f, const Report& report, json& related) {
    const auto references = report_detail::referenced_policies(f, report);
    const PolicyChange* proposed = report_detail::proposed_change_behind(f, report);
    // The primary location: the proposed policy behind the finding, else the first policy the
    // evidence names, else the snapshot itself.
    std::string primaryId = proposed ? proposed->id : references.empty() ? "" : references.front().id;
    SourceLocation primary{report.snapshotPath, "", 1};
    if (!primaryId.empty()) primary = report.policySources.at(primaryId);
    int relatedId = 1;
    for (const PolicyReference& r : references) {
        if (r.id == primaryId) continue;
        json location = physical_location(report.policySources.at(r.id), report);
        location["id"] = relatedId++;
        location["message"] = {{"text", fmt::format("Conditional Access policy '{}' ({})",
                                                    r.displayName.empty() ? r.id : r.displayName, r.id)}};
        related.push_back(std::move(location));
    }
    json location = physical_location(primary, report);
    location["logicalLocations"] = json::array(
        {{{"name", f.subject.name}, {"fullyQualifiedName", f.subject.kind + "/" + f.subject.name}, {"kind", f.subject.kind}}});
    if (proposed)
        location["message"] = {{"text", fmt::format("Proposed policy '{}' ({})", proposed->displayName, proposed->id)}};
    return json::array({location});
}

json result_for(const Finding& f, std::size_t ruleIndex, const Report& report) {
    std::string text = fmt::format("{}: {}", f.subject.name, f.message);
    const bool actionable = f.status == Status::Fail || f.status == Status::Review || f.status == Status::Error ||
                            f.status == Status::Waived;
    if (actionable && !f.remediation.empty()) text += "\n\nFix: " + f.remediation;
    if (f.waiver && f.waiver->expired)
        text += fmt::format("\n\nThe waiver for this finding expired on {}: {}", f.waiver->waiver.expires, f.waiver->waiver.reason);

    json properties = {{"status", to_string(f.status)},
                       {"severity", to_string(f.severity)},
                       {"subject", {{"kind", f.subject.kind}, {"id", f.subject.id}, {"name", f.subject.name}}},
                       {"evidence", f.evidence}};
    json related = json::array();
    json result = {{"ruleId", f.rule},
                   {"ruleIndex", ruleIndex},
                   {"kind", result_kind(f.status)},
                   {"level", f.status == Status::Fail || f.status == Status::Waived ? level(f.severity) : "none"},
                   {"message", {{"text", text}}},
                   {"locations", locations_for(f, report, related)},
                   {"partialFingerprints",
                    {{"tenantscanFinding/v1", detail::sha256_hex(report_detail::finding_identity(f)).substr(0, 32)}}}};
    if (!related.empty()) result["relatedLocations"] = std::move(related);
    if (f.waiver) {
        const Waiver& w = f.waiver->waiver;
        properties["waiver"] = {{"reason", w.reason}, {"expires", w.expires}, {"expired", f.waiver->expired},
                                {"originalStatus", to_string(f.waiver->originalStatus)}};
        if (!f.waiver->expired) {
            json suppression = {{"kind", "external"},
                                {"status", "accepted"},
                                {"justification", fmt::format("{} (waiver until {}{}; {})", w.reason, w.expires,
                                                              w.approvedBy.empty() ? "" : ", approved by " + w.approvedBy,
                                                              w.origin)}};
            result["suppressions"] = json::array({suppression});
        }
    }
    result["properties"] = std::move(properties);
    return result;
}

}  // namespace

std::string rule_doc_path(std::string_view ruleId) {
    std::string id(ruleId);
    std::string module = id.substr(0, id.find('-'));
    std::string stem = id;
    for (char& c : stem)
        if (c == '-') c = '_';
    return "rules/" + module + "/" + stem + ".md";
}

std::string rule_help_uri(std::string_view ruleId) { return kRuleDocBaseUrl + rule_doc_path(ruleId); }

namespace {

// The SARIF document with an empty results array, and for each finding (in report order) the index
// of its rule in tool.driver.rules.
struct SarifSkeleton {
    json document;
    std::vector<std::size_t> ruleIndexOfFinding;
};

SarifSkeleton sarif_skeleton(const Report& report) {
    SarifSkeleton skeleton;
    json rules = json::array();
    std::map<std::string, std::size_t> ruleIndex;
    for (const auto& m : report.rules) {
        ruleIndex[m.id] = rules.size();
        rules.push_back(rule_descriptor(m));
    }
    json notifications = json::array();
    skeleton.ruleIndexOfFinding.reserve(report.findings.size());
    for (const auto& f : report.findings) {
        auto index = ruleIndex.find(f.rule);
        if (index == ruleIndex.end()) {
            // A finding of a rule the report does not describe (e.g. a report read back from JSON):
            // describe the rule from what the finding says.
            RuleMetadata m;
            m.id = f.rule;
            m.title = f.rule;
            m.defaultSeverity = f.severity;
            index = ruleIndex.emplace(f.rule, rules.size()).first;
            rules.push_back(rule_descriptor(m));
        }
        skeleton.ruleIndexOfFinding.push_back(index->second);
        if (f.status == Status::Error)
            notifications.push_back({{"level", "error"},
                                     {"message", {{"text", fmt::format("{}: {}", f.subject.name, f.message)}}},
                                     {"associatedRule", {{"id", f.rule}, {"index", index->second}}}});
    }
    const auto& s = report.summary;
    json invocation = {{"executionSuccessful", true},
                       {"properties",
                        {{"gate", s.gatePassed ? "passed" : "failed"},
                         {"gateReasons", s.gateReasons},
                         {"failOn", to_string(report.failOn)},
                         {"failOnReview", report.failOnReview},
                         {"asOf", report.asOf},
                         {"snapshot", report.snapshotPath}}}};
    if (!notifications.empty()) invocation["toolExecutionNotifications"] = std::move(notifications);

    json run = {{"tool",
                 {{"driver",
                   {{"name", "tenantscan"},
                    {"version", report.toolVersion},
                    {"semanticVersion", report.toolVersion},
                    {"informationUri", kProjectUrl},
                    {"rules", std::move(rules)}}}}},
                {"automationDetails", {{"id", "tenantscan/" + (report.tenantId.empty() ? "unknown-tenant" : report.tenantId) + "/"}}},
                {"invocations", json::array({invocation})},
                {"results", json::array()},
                {"properties", {{"tenantId", report.tenantId}}}};
    skeleton.document = {{"$schema", kSarifSchema}, {"version", "2.1.0"}, {"runs", json::array({run})}};
    return skeleton;
}

const json::json_pointer kResults("/runs/0/results");

}  // namespace

nlohmann::json report_to_sarif(const Report& report) {
    SarifSkeleton skeleton = sarif_skeleton(report);
    json& results = skeleton.document[kResults];
    for (std::size_t i = 0; i < report.findings.size(); ++i)
        results.push_back(result_for(report.findings[i], skeleton.ruleIndexOfFinding[i], report));
    return std::move(skeleton.document);
}

void write_report_sarif(const Report& report, std::ostream& out) {
    const SarifSkeleton skeleton = sarif_skeleton(report);
    report_detail::dump_streaming(out, skeleton.document, kResults, [&](const report_detail::JsonEmitter& emit) {
        for (std::size_t i = 0; i < report.findings.size(); ++i)
            emit(result_for(report.findings[i], skeleton.ruleIndexOfFinding[i], report));
    });
}

}  // namespace tenantscan
