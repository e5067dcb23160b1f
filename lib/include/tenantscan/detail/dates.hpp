// Calendar dates as the configuration, the schedules and the reports write them (YYYY-MM-DD).
// Not part of the API: no stability promise, and not installed.
#pragma once

#include <ctime>
#include <string>

namespace tenantscan {

// Today's date (UTC) as YYYY-MM-DD, and validation of such dates.
std::string today_utc();
bool is_valid_date(const std::string& yyyy_mm_dd);

// A moment in UTC written with a strftime format (no locale-dependent conversions:
// "%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%SZ").
std::string format_utc(std::time_t when, const char* format);

}  // namespace tenantscan
