#include "encoding.hpp"

#include <algorithm>

#include <tenantscan/detail/crypto.hpp>

namespace tenantscan::collect::detail {

namespace {

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

}  // namespace

std::string percent_encode(std::string_view text) {
    static constexpr const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (is_unreserved(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0F];
        }
    }
    return out;
}

std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string body;
    for (const auto& [name, value] : fields) {
        if (!body.empty()) body += '&';
        body += percent_encode(name);
        body += '=';
        body += percent_encode(value);
    }
    return body;
}

std::string base64url_encode(std::string_view bytes) {
    std::string out = tenantscan::detail::base64_encode(bytes);
    while (!out.empty() && out.back() == '=') out.pop_back();
    std::replace(out.begin(), out.end(), '+', '-');
    std::replace(out.begin(), out.end(), '/', '_');
    return out;
}

bool base64url_decode(std::string_view text, std::string& bytes) {
    std::string standard(text);  // standard base64 is accepted as it is
    std::replace(standard.begin(), standard.end(), '-', '+');
    std::replace(standard.begin(), standard.end(), '_', '/');
    auto decoded = tenantscan::detail::base64_decode(standard);
    bytes = decoded ? std::move(*decoded) : std::string();
    return decoded.has_value();
}

}  // namespace tenantscan::collect::detail
