// The --schedule and --as-of options shared by scan, remediate and explain: a schedule name or custom
// dates, and a date, checked while parsing so that a typo is a usage error (exit 2) rather than an
// error finding.
#pragma once

#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <tenantscan/schedule.hpp>
#include <tenantscan/detail/dates.hpp>

namespace tenantscan::cli {

inline CLI::Validator schedule_validator() {
    return CLI::Validator(
        [](std::string& value) {
            try {
                resolve_schedule(value);
                return std::string();
            } catch (const std::invalid_argument& e) {
                return std::string(e.what());
            }
        },
        "SCHEDULE");
}

// --as-of: a date YYYY-MM-DD that exists.
inline CLI::Validator date_validator() {
    return CLI::Validator([](std::string& v) { return is_valid_date(v) ? "" : "expected a date YYYY-MM-DD"; }, "DATE");
}

}  // namespace tenantscan::cli
