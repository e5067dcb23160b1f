// Text helpers the library, the rules and the CLI share. Not part of the API: no stability promise,
// and not installed (no public header includes it).
#pragma once

#include <string>
#include <string_view>

namespace tenantscan {

// ASCII case-insensitive comparison and lower-casing.
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);

}  // namespace tenantscan
