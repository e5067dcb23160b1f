#include <tenantscan/scan.hpp>

#include <algorithm>
#include <ctime>
#include <exception>

#include <fmt/format.h>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>

#ifndef TENANTSCAN_VERSION
#define TENANTSCAN_VERSION "0.0.0"
#endif

namespace tenantscan {

namespace {

Subject tenant_subject(const Snapshot& snapshot) {
    const std::string& id = snapshot.tenantId.empty() ? std::string("(tenant id not in snapshot)") : snapshot.tenantId;
    return {"tenant", snapshot.tenantId, id};
}

Finding error_finding(const Rule& rule, const Snapshot& snapshot, std::string message, nlohmann::json evidence,
                      std::string remediation) {
    Finding f;
    f.rule = rule.metadata().id;
    f.status = Status::Error;
    f.severity = rule.metadata().defaultSeverity;
    f.subject = tenant_subject(snapshot);
    f.message = std::move(message);
    f.evidence = std::move(evidence);
    f.remediation = std::move(remediation);
    return f;
}

Finding missing_sections_finding(const Rule& rule, const Snapshot& snapshot, const std::vector<std::string>& missing) {
    nlohmann::json reasons = nlohmann::json::object();
    std::string joined;
    for (const auto& section : missing) {
        joined += (joined.empty() ? "" : ", ") + section;
        auto it = snapshot.notCollected.find(section);
        reasons[section] = it != snapshot.notCollected.end() ? it->second : "absent from the snapshot";
    }
    return error_finding(
        rule, snapshot,
        fmt::format("Cannot evaluate: the snapshot lacks {} {}.", missing.size() == 1 ? "section" : "sections", joined),
        {{"missingSections", missing}, {"reasons", reasons}},
        fmt::format("Collect {} (see docs/snapshot-format.md for the Graph request or cmdlet) and scan again.", joined));
}

std::vector<Finding> evaluate_rule(const Rule& rule, const RuleContext& context) {
    const auto& snapshot = context.snapshot();
    std::vector<std::string> missing;
    for (const auto& section : rule.metadata().requiredSections)
        if (!snapshot.has_section(section)) missing.push_back(section);
    if (!missing.empty()) return {missing_sections_finding(rule, snapshot, missing)};

    try {
        auto findings = rule.evaluate(context);
        if (findings.empty())
            return {error_finding(rule, snapshot, "The rule produced no result; treat it as not evaluated.",
                                  nlohmann::json::object(), "Report this as a tenantscan bug.")};
        for (auto& f : findings) f.rule = rule.metadata().id;
        return findings;
    } catch (const std::exception& e) {
        return {error_finding(rule, snapshot, fmt::format("The rule failed: {}", e.what()),
                              {{"exception", e.what()}}, "Report this as a tenantscan bug; other rules are unaffected.")};
    }
}

}  // namespace

Summary summarise(const std::vector<Finding>& findings, Severity failOn) {
    Summary s;
    int gatingFails = 0;
    for (const auto& f : findings) {
        switch (f.status) {
            case Status::Pass: ++s.pass; break;
            case Status::Fail:
                ++s.fail;
                if (at_least(f.severity, failOn)) ++gatingFails;
                break;
            case Status::Review: ++s.review; break;
            case Status::NotApplicable: ++s.notApplicable; break;
            case Status::Error: ++s.error; break;
        }
    }
    if (gatingFails > 0)
        s.gateReasons.push_back(fmt::format("{} failing finding{} at severity {} or above", gatingFails,
                                            gatingFails == 1 ? "" : "s", to_string(failOn)));
    if (s.error > 0)
        s.gateReasons.push_back(fmt::format("{} rule result{} could not be evaluated (error)", s.error,
                                            s.error == 1 ? "" : "s"));
    s.gatePassed = s.gateReasons.empty();
    return s;
}

Report run_scan(const Snapshot& snapshot, const Registry& registry, const ScanOptions& options) {
    Directory directory(snapshot);
    Engine engine(snapshot, directory);
    RuleContext context(snapshot, directory, engine, options);

    Report report;
    report.toolVersion = version();
    report.tenantId = snapshot.tenantId;
    report.asOf = options.asOf;
    report.snapshotPath = snapshot.sourcePath;
    for (const Rule* rule : registry.rules()) {
        auto findings = evaluate_rule(*rule, context);
        report.findings.insert(report.findings.end(), std::make_move_iterator(findings.begin()),
                               std::make_move_iterator(findings.end()));
    }
    std::stable_sort(report.findings.begin(), report.findings.end(), [](const Finding& a, const Finding& b) {
        return std::tie(a.rule, a.subject.name, a.subject.id) < std::tie(b.rule, b.subject.name, b.subject.id);
    });
    report.summary = summarise(report.findings, options.failOn);
    return report;
}

std::string today_utc() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[11];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d", &tm);
    return buffer;
}

bool is_valid_date(const std::string& text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (text[i] < '0' || text[i] > '9') return false;
    int year = std::stoi(text.substr(0, 4)), month = std::stoi(text.substr(5, 2)), day = std::stoi(text.substr(8, 2));
    if (month < 1 || month > 12 || day < 1) return false;
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int maxDay = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
    return day <= maxDay;
}

const char* version() { return TENANTSCAN_VERSION; }

}  // namespace tenantscan
