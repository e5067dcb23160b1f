// The --schedule option shared by scan and remediate: a schedule name or custom dates, checked
// while parsing so that a typo is a usage error (exit 2) rather than an error finding.
#pragma once

#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <tenantscan/schedule.hpp>

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

}  // namespace tenantscan::cli
