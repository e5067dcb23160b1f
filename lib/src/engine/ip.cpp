// IPv4 and IPv6 addresses and CIDR ranges, held in one 16-byte form (IPv4 as ::ffff:a.b.c.d) so that
// one comparison serves both families.
#include <tenantscan/detail/ip.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace tenantscan {

namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool in_v4_mapped_block(const std::array<std::uint8_t, 16>& address) {
    return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), address.begin());
}

// Parses an address without prefix; sets isV4 for dotted quads and IPv4-mapped IPv6 literals
// (both name the same IPv4 host).
std::optional<IpAddress> parse_address_only(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) return std::nullopt;  // inet_pton would stop at it
    IpAddress ip;
    ip.text = std::string(text);
    // inet_pton (POSIX): a dotted quad of exactly four decimal parts of 0-255 (glibc refuses a leading
    // zero such as "010", which some parsers read as octal); IPv6 in RFC 4291 §2.2 text form, with at
    // most one "::" and an optional dotted-quad tail; no zone id, prefix or surrounding space.
    if (text.find(':') == std::string_view::npos) {
        std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), ip.address.begin());
        if (inet_pton(AF_INET, ip.text.c_str(), ip.address.data() + 12) != 1) return std::nullopt;
        ip.isV4 = true;
        return ip;
    }
    if (inet_pton(AF_INET6, ip.text.c_str(), ip.address.data()) != 1) return std::nullopt;
    ip.isV4 = in_v4_mapped_block(ip.address);
    return ip;
}

}  // namespace

std::optional<IpAddress> parse_ip_address(const std::string& text) {
    if (text.find('/') != std::string::npos) return std::nullopt;
    return parse_address_only(text);
}

std::optional<IpRange> parse_cidr(const std::string& text) {
    std::string_view view(text);
    std::size_t slash = view.find('/');
    auto ip = parse_address_only(view.substr(0, slash));
    if (!ip) return std::nullopt;
    bool writtenAsV4 = view.substr(0, slash).find(':') == std::string_view::npos;
    int maxPrefix = writtenAsV4 ? 32 : 128;
    int prefix = maxPrefix;  // a bare address is a single-host range
    if (slash != std::string_view::npos) {
        std::string_view digits = view.substr(slash + 1);
        if (digits.empty() || digits.size() > 3) return std::nullopt;
        prefix = 0;
        for (char c : digits) {
            if (!is_digit(c)) return std::nullopt;
            prefix = prefix * 10 + (c - '0');
        }
        if (prefix > maxPrefix) return std::nullopt;
    }
    IpRange range;
    range.address = ip->address;
    range.prefixLength = writtenAsV4 ? prefix + 96 : prefix;
    // An IPv6 range inside ::ffff:0:0/96 covers IPv4 hosts only; a wider one (e.g. ::/0) covers
    // IPv6 hosts only, as Entra matches each family separately.
    range.isV4 = in_v4_mapped_block(range.address) && range.prefixLength >= 96;
    range.text = text;
    return range;
}

bool range_contains(const IpRange& range, const IpAddress& ip) {
    if (range.isV4 != ip.isV4) return false;
    int bits = range.prefixLength;
    for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
        std::uint8_t mask = bits >= 8 ? 0xFF : static_cast<std::uint8_t>(0xFF << (8 - bits));
        if ((range.address[i] & mask) != (ip.address[i] & mask)) return false;
    }
    return true;
}

}  // namespace tenantscan
