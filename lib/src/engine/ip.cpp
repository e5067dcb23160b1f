// IPv4 and IPv6 addresses and CIDR ranges, held in one 16-byte form (IPv4 as ::ffff:a.b.c.d) so that
// one comparison serves both families.
#include <tenantscan/detail/ip.hpp>

#include <algorithm>
#include <string_view>
#include <vector>

namespace tenantscan {

namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Dotted quad with exactly four decimal parts of 0-255. A leading zero ("010") is refused: some
// parsers read it as octal, so its meaning is ambiguous.
bool parse_v4(std::string_view text, std::uint8_t* out) {
    int part = 0;
    std::size_t i = 0;
    while (part < 4) {
        std::size_t start = i;
        unsigned value = 0;
        while (i < text.size() && is_digit(text[i]) && i - start < 3) value = value * 10 + (text[i++] - '0');
        std::size_t digits = i - start;
        if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
        out[part++] = static_cast<std::uint8_t>(value);
        if (part < 4) {
            if (i >= text.size() || text[i] != '.') return false;
            ++i;
        }
    }
    return i == text.size();
}

std::vector<std::string_view> split_colons(std::string_view text) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = text.find(':', start);
        if (end == std::string_view::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
}

// Parses groups of 1-4 hex digits; when allowV4, the last group may be a dotted quad (worth two
// groups). Returns the number of 16-bit groups written, or -1 on malformed input.
int parse_v6_groups(std::string_view text, std::uint8_t* out, int maxGroups, bool allowV4) {
    if (text.empty()) return 0;
    auto parts = split_colons(text);
    int groups = 0;
    for (std::size_t p = 0; p < parts.size(); ++p) {
        std::string_view part = parts[p];
        if (allowV4 && p + 1 == parts.size() && part.find('.') != std::string_view::npos) {
            if (groups + 2 > maxGroups || !parse_v4(part, out + groups * 2)) return -1;
            return groups + 2;
        }
        if (part.empty() || part.size() > 4 || groups + 1 > maxGroups) return -1;
        unsigned value = 0;
        for (char c : part) {
            int digit = hex_value(c);
            if (digit < 0) return -1;
            value = value * 16 + static_cast<unsigned>(digit);
        }
        out[groups * 2] = static_cast<std::uint8_t>(value >> 8);
        out[groups * 2 + 1] = static_cast<std::uint8_t>(value & 0xFF);
        ++groups;
    }
    return groups;
}

bool parse_v6(std::string_view text, std::array<std::uint8_t, 16>& out) {
    out.fill(0);
    std::size_t gap = text.find("::");
    if (gap == std::string_view::npos) return parse_v6_groups(text, out.data(), 8, true) == 8;
    if (text.find("::", gap + 1) != std::string_view::npos) return false;  // at most one "::"
    std::uint8_t head[16] = {}, tail[16] = {};
    int headGroups = parse_v6_groups(text.substr(0, gap), head, 7, false);
    int tailGroups = parse_v6_groups(text.substr(gap + 2), tail, 7, true);
    if (headGroups < 0 || tailGroups < 0 || headGroups + tailGroups > 7) return false;
    std::copy(head, head + headGroups * 2, out.begin());
    std::copy(tail, tail + tailGroups * 2, out.end() - tailGroups * 2);
    return true;
}

bool in_v4_mapped_block(const std::array<std::uint8_t, 16>& address) {
    return std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), address.begin());
}

// Parses an address without prefix; sets isV4 for dotted quads and IPv4-mapped IPv6 literals
// (both name the same IPv4 host).
std::optional<IpAddress> parse_address_only(std::string_view text) {
    IpAddress ip;
    ip.text = std::string(text);
    if (text.find(':') == std::string_view::npos) {
        std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), ip.address.begin());
        if (!parse_v4(text, ip.address.data() + 12)) return std::nullopt;
        ip.isV4 = true;
        return ip;
    }
    if (!parse_v6(text, ip.address)) return std::nullopt;
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
