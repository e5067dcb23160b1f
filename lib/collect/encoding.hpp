// Text encodings the collector needs on the wire: URL percent-encoding, form bodies, base64url.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenantscan::collect::detail {

// Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view text);

// application/x-www-form-urlencoded body from name/value pairs (values percent-encoded).
std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields);

// Base64url without padding (RFC 7515 §2), as JWTs use it.
std::string base64url_encode(std::string_view bytes);
// Decodes base64url (or standard base64), padding optional. False on a character outside the alphabet.
bool base64url_decode(std::string_view text, std::string& bytes);

}  // namespace tenantscan::collect::detail
