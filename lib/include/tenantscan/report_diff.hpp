// Comparing two JSON reports of the same tenant (`tenantscan diff`): what broke, what was fixed,
// what else changed. Lets a pipeline gate on "no new breakage" while a tenant is not yet clean.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/scan.hpp>

namespace tenantscan {

// One finding (rule + subject) as it was and as it is; nullopt where a report does not have it.
struct FindingChange {
    std::optional<Finding> before;
    std::optional<Finding> after;
    const Finding& current() const { return after ? *after : *before; }
};

struct ReportDiff {
    std::string beforePath, afterPath;  // as given
    std::string beforeAsOf, afterAsOf;
    std::string tenantId;
    Severity failOn = Severity::Low;
    // Failing means status fail or error (a waived finding is not failing).
    std::vector<FindingChange> newFailures;       // failing now, not before (or with another status)
    std::vector<FindingChange> resolvedFailures;  // failing before, not now
    std::vector<FindingChange> changed;           // any other change of status or severity
    int unchanged = 0;
    // New failures that gate: errors, and fails at or above failOn.
    std::vector<FindingChange> gating() const;
    bool gatePassed() const { return gating().empty(); }
};

// Pairs findings by rule, subject kind and subject id (name when there is no id). Throws
// std::invalid_argument when the reports are about different tenants.
ReportDiff diff_reports(const Report& before, const Report& after, Severity failOn);

nlohmann::json diff_to_json(const ReportDiff& diff);
std::string diff_to_text(const ReportDiff& diff, bool colour);
std::string diff_to_markdown(const ReportDiff& diff);

}  // namespace tenantscan
