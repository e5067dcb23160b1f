// Text helpers the library, the collector, the rules and the CLI share. Not part of the API: no
// stability promise, and not installed (no public header includes it).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace tenantscan {

// ASCII case-insensitive comparison and case mapping: the one set of case helpers of the library,
// the collector and the CLI (identifiers, addresses, cmdlet and mechanism names are ASCII; any other
// byte is kept). Inline: every target uses them without linking anything.
inline char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    return true;
}
// Whether `needle` occurs in `haystack`, ASCII case-insensitively (an empty needle always does).
inline bool icontains(std::string_view haystack, std::string_view needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                       [](char a, char b) { return to_lower(a) == to_lower(b); }) != haystack.end() ||
           needle.empty();
}
inline std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = to_lower(c);
    return out;
}
inline std::string to_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = to_upper(c);
    return out;
}

}  // namespace tenantscan
