// The Basic SMTP AUTH retirement schedule as data: Microsoft has moved the dates more than once
// (docs/microsoft-facts.md §1), so the dates live in rules/schedules.json, compiled into the library, and a scan
// picks one by name (ScanOptions::schedule) or gives its own dates. See docs/schedules.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <tenantscan/rule.hpp>

namespace tenantscan {

struct ScheduleMilestone {
    std::string date;   // YYYY-MM-DD
    std::string event;  // "Basic SMTP AUTH is disabled by default for existing tenants"
    std::string state;  // "Basic SMTP AUTH disabled by default" (reads "<state> since <date>")
    // Whether an admin can still turn Basic SMTP AUTH back on once this milestone is reached
    // (schedules.json "adminCanTurnBackOn"); nullopt when the schedule does not say.
    std::optional<bool> adminCanTurnBackOn = std::nullopt;
};

struct RetirementSchedule {
    std::string id;         // "2026-01", "2025-06", or "custom"
    std::string title;
    std::string announced;  // YYYY-MM-DD; empty for custom dates
    std::string note;
    std::vector<std::string> references;
    std::vector<ScheduleMilestone> milestones;  // ascending by date, at least one
};

// Dates about High Volume Email that rules compare the as-of date with (docs/microsoft-facts.md §2).
struct HveDates {
    std::string billingFrom;        // HVE accounts need a valid billing policy from this date
    std::string basicAuthEndsOn;    // last day Basic auth is supported on HVE
    std::string basicAuthEndsText;  // "September 2028"
    std::vector<std::string> references;
};

// Where the as-of date falls in a schedule.
struct ScheduleStatus {
    RetirementSchedule schedule;
    std::string asOf;
    // High before the first milestone, Critical on or after it: the severity of a finding that
    // says "this sender uses Basic SMTP AUTH".
    Severity severity = Severity::High;
    std::optional<ScheduleMilestone> reached;  // the latest milestone on or before asOf
    std::optional<ScheduleMilestone> next;     // the first milestone after asOf
    long daysToNext = 0;                       // days from asOf to next->date

    bool cutOffReached() const { return reached.has_value(); }
    // "before the cut-off" | "cut-off passed" | "final milestone passed"
    std::string phase() const;
    // "34 days left until 2026-12-31, when Basic SMTP AUTH is disabled by default for existing
    // tenants" / "Basic SMTP AUTH disabled by default since 2026-12-31"; both parts, joined by
    // "; ", between two milestones.
    std::string sentence() const;
    // One line for report headers: "2026-01 (announced 2026-01-27): before the cut-off; 34 days left …".
    std::string header_line() const;
};

// The schedules compiled into the library, in file order; and the name used when none is chosen.
const std::vector<RetirementSchedule>& builtin_schedules();
const std::string& default_schedule_id();
const HveDates& hve_dates();

// A schedule by name ("2026-01"), or custom dates "YYYY-MM-DD" or "YYYY-MM-DD,YYYY-MM-DD" (first
// cut-off, then final removal). Throws std::invalid_argument naming the known schedules.
RetirementSchedule resolve_schedule(const std::string& spec);

// Where asOf (YYYY-MM-DD) falls in the schedule. Throws std::invalid_argument on a malformed date.
ScheduleStatus schedule_status(const RetirementSchedule& schedule, const std::string& asOf);
// The same for a scan: options.schedule (empty = the default) at options.asOf.
ScheduleStatus schedule_status(const ScanOptions& options);

// Whole days from `from` to `to` (negative when `to` is earlier); both YYYY-MM-DD.
long days_between(const std::string& from, const std::string& to);

}  // namespace tenantscan
