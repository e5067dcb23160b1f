// Small text helpers shared by the library's readers (not part of the public API).
#pragma once

#include <string>
#include <string_view>

namespace tenantscan::text_detail {

// A reference token of a JSON pointer (RFC 6901): "~" → "~0", "/" → "~1".
std::string escape_pointer_token(std::string_view token);

// Appends the UTF-8 encoding of a Unicode code point.
void append_utf8(std::string& out, char32_t cp);

}  // namespace tenantscan::text_detail
