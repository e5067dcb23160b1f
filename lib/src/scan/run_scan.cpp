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
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/detail/dates.hpp>

#ifndef TENANTSCAN_VERSION
#define TENANTSCAN_VERSION "0.0.0"
#endif

namespace tenantscan {

namespace {

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

// Marks the fail/review findings a waiver covers as waived (never an error), records a waiver that matched
// but has expired on the finding, and says what became of each waiver. Findings come one rule at a
// time; the outcomes count over all of them.
class WaiverTally {
public:
    WaiverTally(const std::vector<Waiver>& waivers, std::string asOf) : asOf_(std::move(asOf)) {
        for (const auto& w : waivers) outcomes_.push_back({w, WaiverState::Stale, 0});
    }

    void apply(std::vector<Finding>& findings) {
        for (auto& f : findings) {
            // An error means tenantscan does not know: it always fails the gate, whatever the waivers say.
            if (f.status != Status::Fail && f.status != Status::Review) continue;
            const WaiverOutcome* active = nullptr;
            const WaiverOutcome* lapsed = nullptr;
            for (auto& outcome : outcomes_) {
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
    }

    std::vector<WaiverOutcome> outcomes() && {
        for (auto& outcome : outcomes_) {
            if (expired(outcome.waiver)) outcome.state = WaiverState::Expired;
            else if (outcome.matchedFindings > 0) outcome.state = WaiverState::Applied;
        }
        return std::move(outcomes_);
    }

private:
    // Dates are YYYY-MM-DD, so text order is date order; a waiver applies through its expiry day.
    bool expired(const Waiver& w) const { return asOf_ > w.expires; }
    std::string asOf_;
    std::vector<WaiverOutcome> outcomes_;
};

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

// The summary counts and the gate, over findings that come one rule at a time.
class SummaryTally {
public:
    SummaryTally(Severity failOn, bool failOnReview) : failOn_(failOn), failOnReview_(failOnReview) {}

    void count(const std::vector<Finding>& findings) {
        for (const auto& f : findings) {
            switch (f.status) {
                case Status::Pass: ++s_.pass; break;
                case Status::Fail:
                    ++s_.fail;
                    if (at_least(f.severity, failOn_)) {
                        ++gatingFails_;
                        if (f.waiver && f.waiver->expired) ++lapsedWaivers_;
                    }
                    break;
                case Status::Review:
                    ++s_.review;
                    if (failOnReview_ && at_least(f.severity, failOn_)) ++gatingReviews_;
                    break;
                case Status::NotApplicable: ++s_.notApplicable; break;
                case Status::Error: ++s_.error; break;
                case Status::Waived: ++s_.waived; break;
            }
        }
    }

    Summary finish() && {
        if (gatingFails_ > 0)
            s_.gateReasons.push_back(fmt::format("{} at severity {} or above{}", plural(gatingFails_, "failing finding"),
                                                 to_string(failOn_),
                                                 lapsedWaivers_ ? fmt::format(" ({} with an expired waiver)", lapsedWaivers_)
                                                                : std::string()));
        if (gatingReviews_ > 0)
            s_.gateReasons.push_back(fmt::format("{} to review at severity {} or above (fail-on-review is set)",
                                                 plural(gatingReviews_, "finding"), to_string(failOn_)));
        if (s_.error > 0)
            s_.gateReasons.push_back(fmt::format("{} could not be evaluated (error)", plural(s_.error, "rule result")));
        s_.gatePassed = s_.gateReasons.empty();
        return std::move(s_);
    }

private:
    Severity failOn_;
    bool failOnReview_;
    Summary s_;
    int gatingFails_ = 0, gatingReviews_ = 0, lapsedWaivers_ = 0;
};

// The non-streamed scan: keeps every rule's findings, in order.
class CollectingSink : public FindingSink {
public:
    explicit CollectingSink(std::vector<Finding>& findings) : findings_(findings) {}
    void begin(const Report&) override {}
    void add(std::vector<Finding>& ruleFindings) override {
        findings_.insert(findings_.end(), std::make_move_iterator(ruleFindings.begin()),
                         std::make_move_iterator(ruleFindings.end()));
    }

private:
    std::vector<Finding>& findings_;
};

}  // namespace

bool subject_matches(const std::string& pattern, const Subject& subject) {
    return glob_matches(pattern, subject.name) || (!subject.id.empty() && glob_matches(pattern, subject.id));
}

Summary summarise(const std::vector<Finding>& findings, Severity failOn, bool failOnReview) {
    SummaryTally tally(failOn, failOnReview);
    tally.count(findings);
    return std::move(tally).finish();
}

Report run_scan(const Snapshot& snapshot, const Registry& registry, const ScanOptions& options) {
    std::vector<Finding> findings;
    CollectingSink sink(findings);
    Report report = run_scan(snapshot, registry, options, sink);
    report.findings = std::move(findings);
    return report;
}

Report run_scan(const Snapshot& snapshot, const Registry& registry, const ScanOptions& options, FindingSink& sink) {
    for (const auto& id : options.disabledRules) require_known_rule(registry, id, "disabledRules");
    for (const auto& [id, severity] : options.severityOverrides) require_known_rule(registry, id, "severityOverrides");
    for (const auto& w : options.waivers) require_known_rule(registry, w.rule, "waivers");

    const auto indexStart = std::chrono::steady_clock::now();
    Directory directory(snapshot);
    ConditionalAccessEngine engine(snapshot, directory);
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
    if (snapshot.conditionalAccessPolicies)
        for (const auto& policy : *snapshot.conditionalAccessPolicies)
            report.policySources[policy.id] = {policy.sourceFile.empty() ? snapshot.sourcePath : policy.sourceFile,
                                               policy.sourcePointer, 0};
    const auto timeSink = [&](auto&& call) {
        const auto start = std::chrono::steady_clock::now();
        call();
        report.timings.sinkSeconds += seconds_since(start);
    };
    timeSink([&] { sink.begin(report); });

    WaiverTally waivers(options.waivers, options.asOf);
    SummaryTally summary(options.failOn, options.failOnReview);
    for (const Rule* rule : registry.rules()) {  // sorted by id: the report's order
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
        std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
            return std::tie(a.subject.name, a.subject.id) < std::tie(b.subject.name, b.subject.id);
        });
        waivers.apply(findings);
        summary.count(findings);
        timeSink([&] { sink.add(findings); });
    }
    report.waivers = std::move(waivers).outcomes();
    report.summary = std::move(summary).finish();
    report.timings.rulesSeconds = seconds_since(rulesStart) - report.timings.sinkSeconds;
    return report;
}

std::string format_utc(std::time_t when, const char* format) {
    std::tm tm{};
    gmtime_r(&when, &tm);
    char buffer[64];
    const std::size_t length = std::strftime(buffer, sizeof buffer, format, &tm);
    return std::string(buffer, length);
}

std::string today_utc() { return format_utc(std::time(nullptr), "%Y-%m-%d"); }

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

// Declared with the inventory (smtp_clients.hpp), defined here: choosing between --clients and the
// snapshot's section is the scan's decision, and the loader does not know ScanOptions.
const SmtpClientInventory* scan_inventory(const Snapshot& snapshot, const ScanOptions& options) {
    if (options.smtpClients) return options.smtpClients.get();
    if (snapshot.smtpClients) return &*snapshot.smtpClients;
    return nullptr;
}

}  // namespace tenantscan
