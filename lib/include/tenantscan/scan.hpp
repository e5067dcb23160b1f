// Running a rule set over a snapshot, and the report it produces.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/rule.hpp>

namespace tenantscan {

struct Summary {
    int pass = 0, fail = 0, review = 0, notApplicable = 0, error = 0;
    bool gatePassed = true;
    std::vector<std::string> gateReasons;  // why the gate failed, one line each
};

struct Report {
    std::string toolVersion;
    std::string tenantId;
    std::string asOf;
    std::string snapshotPath;
    std::vector<Finding> findings;  // sorted by (rule, subject name, subject id)
    Summary summary;
};

// Evaluates every rule in the registry. Rules whose required sections are missing yield an
// `error` finding naming the section; a rule that throws yields an `error` finding for itself.
Report run_scan(const Snapshot& snapshot, const Registry& registry, const ScanOptions& options);

// Recomputes summary counts and the gate (fail at or above failOn, or any error).
Summary summarise(const std::vector<Finding>& findings, Severity failOn);

// JSON report v1.
nlohmann::json report_to_json(const Report& report);
// Human-readable report: grouped by status, worst first; ANSI colour when `colour` is true.
std::string report_to_text(const Report& report, bool colour);

// Today's date (UTC) as YYYY-MM-DD, and validation of such dates.
std::string today_utc();
bool is_valid_date(const std::string& yyyy_mm_dd);

// The library version ("0.1.0").
const char* version();

}  // namespace tenantscan
