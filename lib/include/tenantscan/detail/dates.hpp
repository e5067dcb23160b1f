// Calendar dates as the configuration, the schedules and the reports write them (YYYY-MM-DD).
// Not part of the API: no stability promise, and not installed.
#pragma once

#include <string>

namespace tenantscan {

// Today's date (UTC) as YYYY-MM-DD, and validation of such dates.
std::string today_utc();
bool is_valid_date(const std::string& yyyy_mm_dd);

}  // namespace tenantscan
