#include <tenantscan/scan.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/schedule.hpp>

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

// Marks the fail/review/error findings a waiver covers as waived, records a waiver that matched
// but has expired on the finding, and says what became of each waiver.
std::vector<WaiverOutcome> apply_waivers(std::vector<Finding>& findings, const std::vector<Waiver>& waivers,
                                         const std::string& asOf) {
    std::vector<WaiverOutcome> outcomes;
    for (const auto& w : waivers) outcomes.push_back({w, WaiverState::Stale, 0});
    // Dates are YYYY-MM-DD, so text order is date order; a waiver applies through its expiry day.
    auto expired = [&](const Waiver& w) { return asOf > w.expires; };
    for (auto& f : findings) {
        if (f.status != Status::Fail && f.status != Status::Review && f.status != Status::Error) continue;
        const WaiverOutcome* active = nullptr;
        const WaiverOutcome* lapsed = nullptr;
        for (auto& outcome : outcomes) {
            if (outcome.waiver.rule != f.rule || !subject_matches(outcome.waiver.subject, f.subject)) continue;
            ++outcome.matchedFindings;
            if (expired(outcome.waiver)) {
                if (!lapsed) lapsed = &outcome;
            } else if (!active) {
                active = &outcome;
            }
        }
        if (active) {
            f.waiver = FindingWaiver{active->waiver, f.status, false};
            f.status = Status::Waived;
        } else if (lapsed) {
            f.waiver = FindingWaiver{lapsed->waiver, f.status, true};
        }
    }
    for (auto& outcome : outcomes) {
        if (expired(outcome.waiver)) outcome.state = WaiverState::Expired;
        else if (outcome.matchedFindings > 0) outcome.state = WaiverState::Applied;
    }
    return outcomes;
}

void require_known_rule(const Registry& registry, const std::string& id, const char* option) {
    if (!registry.find(id)) throw std::invalid_argument(fmt::format("ScanOptions::{}: unknown rule id '{}'", option, id));
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string plural(int n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

// A glob with * (any run) and ? (any one character), ASCII case-insensitive.
bool glob_matches(std::string_view pattern, std::string_view text) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    std::size_t p = 0, t = 0, starP = std::string_view::npos, starT = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            starP = p++;
            starT = t;
        } else if (p < pattern.size() && (pattern[p] == '?' || lower(pattern[p]) == lower(text[t]))) {
            ++p;
            ++t;
        } else if (starP != std::string_view::npos) {
            p = starP + 1;
            t = ++starT;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

}  // namespace

bool subject_matches(const std::string& pattern, const Subject& subject) {
    return glob_matches(pattern, subject.name) || (!subject.id.empty() && glob_matches(pattern, subject.id));
}

Summary summarise(const std::vector<Finding>& findings, Severity failOn, bool failOnReview) {
    Summary s;
    int gatingFails = 0, gatingReviews = 0, lapsedWaivers = 0;
    for (const auto& f : findings) {
        switch (f.status) {
            case Status::Pass: ++s.pass; break;
            case Status::Fail:
                ++s.fail;
                if (at_least(f.severity, failOn)) {
                    ++gatingFails;
                    if (f.waiver && f.waiver->expired) ++lapsedWaivers;
                }
                break;
            case Status::Review:
                ++s.review;
                if (failOnReview && at_least(f.severity, failOn)) ++gatingReviews;
                break;
            case Status::NotApplicable: ++s.notApplicable; break;
            case Status::Error: ++s.error; break;
            case Status::Waived: ++s.waived; break;
        }
    }
    if (gatingFails > 0)
        s.gateReasons.push_back(fmt::format("{} at severity {} or above{}", plural(gatingFails, "failing finding"),
                                            to_string(failOn),
                                            lapsedWaivers ? fmt::format(" ({} with an expired waiver)", lapsedWaivers)
                                                          : std::string()));
    if (gatingReviews > 0)
        s.gateReasons.push_back(fmt::format("{} to review at severity {} or above (fail-on-review is set)",
                                            plural(gatingReviews, "finding"), to_string(failOn)));
    if (s.error > 0)
        s.gateReasons.push_back(fmt::format("{} could not be evaluated (error)", plural(s.error, "rule result")));
    s.gatePassed = s.gateReasons.empty();
    return s;
}

Report run_scan(const Snapshot& snapshot, const Registry& registry, const ScanOptions& options) {
    for (const auto& id : options.disabledRules) require_known_rule(registry, id, "disabledRules");
    for (const auto& [id, severity] : options.severityOverrides) require_known_rule(registry, id, "severityOverrides");
    for (const auto& w : options.waivers) require_known_rule(registry, w.rule, "waivers");

    const auto indexStart = std::chrono::steady_clock::now();
    Directory directory(snapshot);
    Engine engine(snapshot, directory);
    RuleContext context(snapshot, directory, engine, options);

    Report report;
    report.timings.indexSeconds = seconds_since(indexStart);
    const auto rulesStart = std::chrono::steady_clock::now();
    report.toolVersion = version();
    report.tenantId = snapshot.tenantId;
    report.asOf = options.asOf;
    // An invalid schedule is reported by the rules that use it (error findings); the header says so too.
    try {
        report.schedule = schedule_status(options).header_line();
    } catch (const std::invalid_argument& e) {
        report.schedule = e.what();
    }
    report.snapshotPath = snapshot.sourcePath;
    report.failOn = options.failOn;
    report.failOnReview = options.failOnReview;
    report.disabledRules.assign(options.disabledRules.begin(), options.disabledRules.end());
    report.severityOverrides = options.severityOverrides;
    report.parameters = options.parameters;
    for (const Rule* rule : registry.rules()) {
        if (options.disabledRules.count(rule->metadata().id)) continue;
        RuleMetadata metadata = rule->metadata();
        const auto ruleStart = std::chrono::steady_clock::now();
        auto findings = evaluate_rule(*rule, context);
        report.timings.ruleSeconds.emplace_back(metadata.id, seconds_since(ruleStart));
        auto override = options.severityOverrides.find(metadata.id);
        if (override != options.severityOverrides.end()) {
            metadata.defaultSeverity = override->second;
            for (auto& f : findings) f.severity = override->second;
        }
        report.rules.push_back(std::move(metadata));
        report.findings.insert(report.findings.end(), std::make_move_iterator(findings.begin()),
                               std::make_move_iterator(findings.end()));
    }
    std::stable_sort(report.findings.begin(), report.findings.end(), [](const Finding& a, const Finding& b) {
        return std::tie(a.rule, a.subject.name, a.subject.id) < std::tie(b.rule, b.subject.name, b.subject.id);
    });
    report.waivers = apply_waivers(report.findings, options.waivers, options.asOf);
    report.timings.rulesSeconds = seconds_since(rulesStart);
    report.summary = summarise(report.findings, options.failOn, options.failOnReview);
    if (snapshot.conditionalAccessPolicies)
        for (const auto& policy : *snapshot.conditionalAccessPolicies)
            report.policySources[policy.id] = {policy.sourceFile.empty() ? snapshot.sourcePath : policy.sourceFile,
                                               policy.sourcePointer, 0};
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

const char* to_string(WaiverState state) {
    switch (state) {
        case WaiverState::Applied: return "applied";
        case WaiverState::Expired: return "expired";
        case WaiverState::Stale: break;
    }
    return "stale";
}

}  // namespace tenantscan
