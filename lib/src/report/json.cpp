// JSON report v1 (issue 2's output contract). Later additions are new keys only: summary.waived,
// summary.failOn/failOnReview, finding.waiver, and the optional top-level configuration, waivers
// and policyOverlay objects; a reader of the original contract is unaffected.
#include <tenantscan/scan.hpp>

#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/report.hpp>

#include <string_view>

namespace tenantscan {

namespace {

using nlohmann::json;

json waiver_json(const Waiver& w) {
    json out = {{"rule", w.rule}, {"subject", w.subject}, {"reason", w.reason}, {"expires", w.expires}};
    if (!w.approvedBy.empty()) out["approvedBy"] = w.approvedBy;
    if (!w.origin.empty()) out["origin"] = w.origin;
    return out;
}

// A finding's members but its evidence (the bulk of it, which the streaming writer does not copy).
json finding_json_without_evidence(const Finding& f) {
    json out = {{"rule", f.rule},
                {"status", to_string(f.status)},
                {"severity", to_string(f.severity)},
                {"subject", {{"kind", f.subject.kind}, {"id", f.subject.id}, {"name", f.subject.name}}},
                {"message", f.message},
                {"remediation", f.remediation}};
    if (f.waiver) {
        json w = waiver_json(f.waiver->waiver);
        w["originalStatus"] = to_string(f.waiver->originalStatus);
        w["expired"] = f.waiver->expired;
        out["waiver"] = std::move(w);
    }
    return out;
}

json finding_json(const Finding& f) {
    json out = finding_json_without_evidence(f);
    out["evidence"] = f.evidence;
    return out;
}

json overlay_json(const std::vector<PolicyChange>& changes) {
    json out = json::array();
    for (const auto& c : changes) {
        json item = {{"change", to_string(c.kind)},
                     {"id", c.id},
                     {"displayName", c.displayName},
                     {"state", graph_state_name(c.state)}};
        if (!c.matchedBy.empty()) item["matchedBy"] = c.matchedBy;
        if (!c.replacedDisplayName.empty() && c.replacedDisplayName != c.displayName)
            item["replacedDisplayName"] = c.replacedDisplayName;
        if (!c.source.file.empty()) item["file"] = c.source.file;
        if (!c.source.pointer.empty()) item["pointer"] = c.source.pointer;
        if (!c.note.empty()) item["note"] = c.note;
        out.push_back(std::move(item));
    }
    return out;
}

Subject subject_from(const JsonView& view) {
    Subject s{view.string("kind"), view.string("id"), view.string("name")};
    if (s.name.empty()) view.get("name").fail("missing subject name");
    return s;
}

std::string required_string(const JsonView& parent, const char* key) {
    std::string value = parent.string(key);
    if (value.empty()) parent.get(key).fail(std::string("missing ") + key);
    return value;
}

constexpr std::size_t kFlushAt = std::size_t(1) << 20;  // the streaming writer's buffer, in bytes
constexpr std::string_view kFindingsKey = "findings";
constexpr std::string_view kEvidenceKey = "evidence";  // sorts before every other member of a finding

// Every member of the report but its findings.
json report_without_findings(const Report& report) {
    const auto& s = report.summary;
    json out = {{"reportVersion", 1},
                {"tool", {{"name", "tenantscan"}, {"version", report.toolVersion}}},
                {"tenant", {{"id", report.tenantId}}},
                {"asOf", report.asOf},
                {"snapshot", report.snapshotPath},
                {"summary",
                 {{"pass", s.pass},
                  {"fail", s.fail},
                  {"review", s.review},
                  {"notApplicable", s.notApplicable},
                  {"error", s.error},
                  {"waived", s.waived},
                  {"gate", s.gatePassed ? "passed" : "failed"},
                  {"gateReasons", s.gateReasons},
                  {"failOn", to_string(report.failOn)},
                  {"failOnReview", report.failOnReview}}}};
    if (!report.configPath.empty() || !report.disabledRules.empty() || !report.severityOverrides.empty() ||
        !report.parameters.empty()) {
        json severities = json::object();
        for (const auto& [rule, severity] : report.severityOverrides) severities[rule] = to_string(severity);
        json configuration = {{"disabledRules", report.disabledRules},
                              {"severityOverrides", severities},
                              {"parameters", report.parameters}};
        if (!report.configPath.empty()) configuration["file"] = report.configPath;
        out["configuration"] = std::move(configuration);
    }
    if (!report.waivers.empty()) {
        json waivers = json::array();
        for (const auto& w : report.waivers) {
            json item = waiver_json(w.waiver);
            item["state"] = to_string(w.state);
            item["matchedFindings"] = w.matchedFindings;
            waivers.push_back(std::move(item));
        }
        out["waivers"] = std::move(waivers);
    }
    if (!report.policyChanges.empty()) out["policyOverlay"] = overlay_json(report.policyChanges);
    return out;
}

}  // namespace

nlohmann::json report_to_json(const Report& report) {
    json out = report_without_findings(report);
    json findings = json::array();
    for (const auto& f : report.findings) findings.push_back(finding_json(f));
    out[std::string(kFindingsKey)] = std::move(findings);
    return out;
}

// The streaming writer reproduces nlohmann's dump(2) layout: objects' members in key order (json's
// objects are std::maps), two spaces a level, "key": value, "[]" and "{}" when empty. Values are
// serialised by nlohmann's own serializer at the indent they sit at, so strings and numbers are
// written exactly as dump() writes them. tests/report_json_stream_test.cpp compares the two.
JsonReportWriter::JsonReportWriter(std::ostream& out) : out_(out) { buffer_.reserve(kFlushAt + 4096); }

JsonReportWriter::~JsonReportWriter() = default;

void JsonReportWriter::write(const json& value, unsigned indent) {
    nlohmann::detail::serializer<json> serializer(nlohmann::detail::output_adapter<char>(buffer_), ' ',
                                                  json::error_handler_t::strict);
    serializer.dump(value, true, false, 2, indent);
}

void JsonReportWriter::flush_if_full() {
    if (buffer_.size() < kFlushAt) return;
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
}

void JsonReportWriter::member(std::string_view key, const json& value, unsigned indent) {
    buffer_.append(indent, ' ');
    write(json(key), indent);  // the key as dump() escapes it
    buffer_ += ": ";
    write(value, indent);
}

void JsonReportWriter::begin(const Report& header) {
    buffer_ += "{\n";
    const json members = report_without_findings(header);
    for (const auto& [key, value] : members.items()) {
        if (key >= kFindingsKey) break;
        member(key, value, 2);
        buffer_ += ",\n";
    }
    buffer_ += "  \"findings\": ";
    flush_if_full();
}

void JsonReportWriter::add(std::vector<Finding>& ruleFindings) { write_findings(ruleFindings); }

void JsonReportWriter::write_findings(const std::vector<Finding>& findings) {
    for (const auto& f : findings) {
        buffer_ += anyFinding_ ? ",\n    {\n" : "[\n    {\n";
        anyFinding_ = true;
        member(kEvidenceKey, f.evidence, 6);
        const json members = finding_json_without_evidence(f);
        for (const auto& [key, value] : members.items()) {
            buffer_ += ",\n";
            member(key, value, 6);
        }
        buffer_ += "\n    }";
        flush_if_full();
    }
}

void JsonReportWriter::end(const Report& report) {
    buffer_ += anyFinding_ ? "\n  ]" : "[]";
    const json members = report_without_findings(report);
    for (const auto& [key, value] : members.items()) {
        if (key <= kFindingsKey) continue;
        buffer_ += ",\n";
        member(key, value, 2);
    }
    buffer_ += "\n}\n";
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
    out_.flush();
}

void write_report_json(const Report& report, std::ostream& out) {
    JsonReportWriter writer(out);
    writer.begin(report);
    writer.write_findings(report.findings);
    writer.end(report);
}

Report report_from_json(const nlohmann::json& document, const std::string& file) {
    const JsonView root(document, file, "");
    if (!root.is_object()) root.fail("expected a tenantscan JSON report (an object), got " + describe_json_type(document));
    const JsonView version = root.get("reportVersion");
    if (version.is_null()) version.fail("missing reportVersion: not a tenantscan JSON report");
    if (version.value() != 1) version.fail("unsupported report version " + version.value().dump() + " (this tenantscan reads version 1)");

    Report report;
    report.toolVersion = root.get("tool").string("version");
    report.tenantId = root.get("tenant").string("id");
    report.asOf = root.string("asOf");
    report.snapshotPath = root.string("snapshot");
    const JsonView summary = root.get("summary");
    if (auto failOn = parse_severity(summary.string("failOn", "low"))) report.failOn = *failOn;
    report.failOnReview = summary.boolean("failOnReview", false);

    const JsonView findings = root.get("findings");
    if (!findings.value().is_array()) findings.fail("expected the findings as an array, got " + describe_json_type(findings.value()));
    for (const JsonView& item : findings.as_elements()) {
        if (!item.is_object()) item.fail("expected a finding object, got " + describe_json_type(item.value()));
        Finding f;
        f.rule = required_string(item, "rule");
        const std::string status = required_string(item, "status");
        const auto parsedStatus = parse_status(status);
        if (!parsedStatus) item.get("status").fail("unknown status \"" + status + "\"");
        f.status = *parsedStatus;
        const std::string severity = required_string(item, "severity");
        const auto parsedSeverity = parse_severity(severity);
        if (!parsedSeverity) item.get("severity").fail("unknown severity \"" + severity + "\"");
        f.severity = *parsedSeverity;
        const JsonView subject = item.get("subject");
        if (!subject.is_object()) subject.fail("expected the subject as an object, got " + describe_json_type(subject.value()));
        f.subject = subject_from(subject);
        f.message = item.string("message");
        if (!item.get("evidence").is_null()) f.evidence = item.get("evidence").value();
        f.remediation = item.string("remediation");
        const JsonView waiver = item.get("waiver");
        if (waiver.is_object()) {
            FindingWaiver w;
            w.waiver = {f.rule, waiver.string("subject"), waiver.string("reason"), waiver.string("expires"),
                        waiver.string("approvedBy"), waiver.string("origin")};
            w.expired = waiver.boolean("expired", false);
            w.originalStatus = parse_status(waiver.string("originalStatus", "fail")).value_or(Status::Fail);
            f.waiver = std::move(w);
        }
        if (f.status == Status::Waived && !f.waiver) item.get("waiver").fail("a waived finding needs its waiver object");
        report.findings.push_back(std::move(f));
    }
    report.summary = summarise(report.findings, report.failOn, report.failOnReview);
    return report;
}

}  // namespace tenantscan
