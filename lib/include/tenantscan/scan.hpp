// Running a rule set over a snapshot, and the report it produces.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/policy_overlay.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/source_location.hpp>

namespace tenantscan {

struct Summary {
    int pass = 0, fail = 0, review = 0, notApplicable = 0, error = 0, waived = 0;
    bool gatePassed = true;
    std::vector<std::string> gateReasons;  // why the gate failed, one line each
};

// What became of a configured waiver in this scan.
enum class WaiverState {
    Applied,  // it waived at least one finding
    Expired,  // its date has passed: the findings it matches gate again
    Stale     // it matches no fail/review finding: the problem is gone or the waiver is wrong (errors are never waived)
};

struct WaiverOutcome {
    Waiver waiver;
    WaiverState state = WaiverState::Stale;
    int matchedFindings = 0;  // fail/review findings it matches (whether or not it applied)
};

struct Report {
    std::string toolVersion;
    std::string tenantId;
    std::string asOf;
    std::string snapshotPath;
    // False when the snapshot was not read from a file (`scan --live` without --save-snapshot):
    // snapshotPath then only describes it, and SARIF results carry no file location for it.
    bool snapshotIsFile = true;
    // The retirement schedule and where asOf falls in it (ScheduleStatus::header_line, schedule.hpp),
    // e.g. "2026-01 (announced 2026-01-27): before the cut-off; 34 days left until 2026-12-31, …".
    std::string schedule;
    std::vector<Finding> findings;  // sorted by (rule, subject name, subject id)
    Summary summary;

    // How the scan was set up, so every format can say why the gate decided as it did.
    Severity failOn = Severity::Low;
    bool failOnReview = false;
    std::string configPath;                             // "" = no configuration file
    std::vector<RuleMetadata> rules;                    // the rules that ran, sorted by id, with the configured severity
    std::vector<std::string> disabledRules;             // sorted
    std::map<std::string, Severity> severityOverrides;  // rule id → severity
    std::map<std::string, nlohmann::json> parameters;   // "<rule-id>.<name>" → value, as configured
    std::vector<WaiverOutcome> waivers;                 // in configuration order
    std::vector<PolicyChange> policyChanges;            // a proposed change laid over the snapshot
    // Where each Conditional Access policy (by id) was read from: the snapshot or a proposed file.
    std::map<std::string, SourceLocation> policySources;

    // How long run_scan's phases took (wall-clock seconds; `scan --timings`, docs/performance.md):
    // building the directory index and the Conditional Access engine, then each rule (in run order).
    struct Timings {
        double indexSeconds = 0;
        double rulesSeconds = 0;   // evaluating the rules (and applying overrides and waivers)
        double sinkSeconds = 0;    // inside the FindingSink (streamed scans: writing the report)
        std::vector<std::pair<std::string, double>> ruleSeconds;  // rule id → seconds
    };
    Timings timings;
};

// Evaluates every rule in the registry that is not disabled. Rules whose required sections are
// missing yield an `error` finding naming the section; a rule that throws yields an `error`
// finding for itself. Then applies severity overrides and waivers (as of options.asOf) and
// decides the gate.
Report run_scan(const Snapshot& snapshot, const Registry& registry, const ScanOptions& options);

// Receives a streamed scan's findings, one rule at a time, instead of the Report keeping them.
class FindingSink {
public:
    virtual ~FindingSink() = default;
    // Once, before any finding: the report's header (everything but findings, waivers, summary and
    // timings), so a writer can start its output.
    virtual void begin(const Report& header) = 0;
    // Once a rule that ran, in rule-id order: that rule's findings, sorted by (subject name, subject
    // id), with severity overrides and waivers applied. The sink may keep or move them.
    virtual void add(std::vector<Finding>& ruleFindings) = 0;
};

// The same scan, streamed: each rule's findings go to `sink` and are then dropped, so memory holds
// one rule's findings at a time (docs/performance.md). The returned Report has no findings; its
// summary, waivers, rules and timings are complete. run_scan(snapshot, registry, options) is this
// with a sink that keeps everything, so both give the same findings in the same order.
Report run_scan(const Snapshot& snapshot, const Registry& registry, const ScanOptions& options, FindingSink& sink);

// Recomputes summary counts and the gate: a fail at or above failOn, any error, and with
// failOnReview a review at or above failOn, each fail it. Waived findings never gate.
Summary summarise(const std::vector<Finding>& findings, Severity failOn, bool failOnReview = false);

// True when the subject (its name or id) matches a waiver's pattern: exact or a glob with * and ?,
// ASCII case-insensitive.
bool subject_matches(const std::string& pattern, const Subject& subject);

// The library version ("0.1.0").
const char* version();

const char* to_string(WaiverState state);  // "applied" "expired" "stale"

}  // namespace tenantscan
