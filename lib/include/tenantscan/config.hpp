// The configuration file (docs/config.md): which rules run, at what severity, with which
// parameters, the gate, the retirement schedule, and waivers that expire.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/rule.hpp>

namespace tenantscan {

struct Config {
    std::string path;
    std::set<std::string> disabledRules;
    std::map<std::string, Severity> severityOverrides;
    std::map<std::string, nlohmann::json> parameters;  // "<rule-id>.<name>" → value
    std::optional<Severity> failOn;
    std::optional<bool> failOnReview;
    // The Basic SMTP AUTH retirement schedule (schedule.hpp): a schedule name such as "2026-01",
    // or custom dates "YYYY-MM-DD[,YYYY-MM-DD]", as the --schedule flag takes it.
    std::optional<std::string> schedule;
    std::vector<Waiver> waivers;

    // Copies rules, parameters, the schedule and waivers into the options. The gate (failOn,
    // failOnReview) is left to the caller; command-line flags take precedence over the file, so a
    // caller applies them (e.g. --schedule) after this.
    void apply_rule_settings(ScanOptions& options) const;
};

// Reads and validates a configuration file against the registered rules. Throws InputError naming
// the file and the JSON pointer of the offending value: unknown keys, unknown rule ids, unknown
// parameters or a parameter of the wrong type, an invalid severity or date, a waiver without
// reason or expiry.
Config load_config(const std::string& path, const Registry& registry);
Config decode_config(const nlohmann::json& document, const std::string& file, const Registry& registry);

// The file a scan uses when none is given: tenantscan.json in the snapshot's directory, if it exists.
std::optional<std::string> default_config_path(const std::string& snapshotPath);

inline constexpr const char* kDefaultConfigFileName = "tenantscan.json";

}  // namespace tenantscan
