// SHA-256 and base64 through OpenSSL's libcrypto (EVP), which the library links privately: the one
// implementation for the reports (SARIF fingerprints, the HTML report's CSP hashes), the SMTP probe's
// AUTH and the collector's JWTs (base64url). Not part of the stable API (detail).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tenantscan::detail {

// The 32-byte SHA-256 digest of the bytes (FIPS 180-4).
std::string sha256(std::string_view bytes);
// The same digest as 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

// Standard base64 with padding (RFC 4648 §4).
std::string base64_encode(std::string_view bytes);
// Decodes standard base64. Spaces and tabs are skipped, padding is optional and ends the text;
// nullopt on any other character outside the alphabet or a length no encoding gives.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace tenantscan::detail
