// IP addresses and CIDR ranges as named locations and sign-in logs write them.
#include <doctest/doctest.h>

#include <string>

#include <tenantscan/model.hpp>
#include <tenantscan/detail/ip.hpp>

using tenantscan::parse_cidr;
using tenantscan::parse_ip_address;
using tenantscan::range_contains;

namespace {

bool contains(const std::string& range, const std::string& ip) {
    auto parsedRange = parse_cidr(range);
    auto parsedIp = parse_ip_address(ip);
    REQUIRE(parsedRange);
    REQUIRE(parsedIp);
    return range_contains(*parsedRange, *parsedIp);
}

std::array<std::uint8_t, 16> bytes(std::initializer_list<int> values) {
    std::array<std::uint8_t, 16> out{};
    std::size_t i = 0;
    for (int v : values) out[i++] = static_cast<std::uint8_t>(v);
    return out;
}

}  // namespace

TEST_CASE("ip: IPv4 addresses are stored as IPv4-mapped IPv6") {
    auto ip = parse_ip_address("192.0.2.33");
    REQUIRE(ip);
    CHECK(ip->isV4);
    CHECK(ip->text == "192.0.2.33");
    CHECK(ip->address == bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 0, 2, 33}));

    auto mapped = parse_ip_address("::ffff:192.0.2.33");
    REQUIRE(mapped);
    CHECK(mapped->isV4);
    CHECK(mapped->address == ip->address);
    auto mappedHex = parse_ip_address("::FFFF:c000:0221");
    REQUIRE(mappedHex);
    CHECK(mappedHex->address == ip->address);
}

TEST_CASE("ip: IPv6 literals with and without compression") {
    auto full = parse_ip_address("2001:0db8:0000:0000:0000:ff00:0042:8329");
    auto compressed = parse_ip_address("2001:db8::ff00:42:8329");
    REQUIRE(full);
    REQUIRE(compressed);
    CHECK_FALSE(full->isV4);
    CHECK(full->address == compressed->address);
    CHECK(full->address == bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29}));

    CHECK(parse_ip_address("::")->address == bytes({}));
    CHECK(parse_ip_address("::1")->address == bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    CHECK(parse_ip_address("fe80::")->address == bytes({0xfe, 0x80}));
    CHECK(parse_ip_address("1:2:3:4:5:6:7::")->address == bytes({0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0}));
    // NAT64 with an embedded dotted quad is IPv6, not an IPv4 host.
    auto nat64 = parse_ip_address("64:ff9b::192.0.2.33");
    REQUIRE(nat64);
    CHECK_FALSE(nat64->isV4);
    CHECK(nat64->address == bytes({0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33}));
    CHECK(parse_ip_address("1:2:3:4:5:6:1.2.3.4"));
}

TEST_CASE("ip: malformed addresses are rejected") {
    for (const char* text :
         {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1..2.3", "1.2.3.4.",
          "1234.1.1.1", "a.b.c.d", "1.2.3.4/24", ":", ":::", "1:::2", "1::2::3", "12345::", "g::", "1.2.3.4::",
          "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "fe80::1%eth0",
          "::ffff:1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5"}) {
        CAPTURE(text);
        CHECK_FALSE(parse_ip_address(text));
    }
    // A NUL inside the text ends a C string: the address before it must not be taken for the whole.
    CHECK_FALSE(parse_ip_address(std::string("192.0.2.1\0junk", 14)));
    CHECK_FALSE(parse_cidr(std::string("192.0.2.0\0/24", 13)));
}

TEST_CASE("ip: CIDR ranges") {
    auto v4 = parse_cidr("203.0.113.0/24");
    REQUIRE(v4);
    CHECK(v4->isV4);
    CHECK(v4->prefixLength == 24 + 96);
    CHECK(v4->text == "203.0.113.0/24");

    auto v6 = parse_cidr("2001:db8::/32");
    REQUIRE(v6);
    CHECK_FALSE(v6->isV4);
    CHECK(v6->prefixLength == 32);

    // A bare address is a single host.
    CHECK(parse_cidr("198.51.100.7")->prefixLength == 128);
    CHECK(parse_cidr("2001:db8::1")->prefixLength == 128);

    for (const char* text : {"1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/2a", "1.2.3.4/0024", "::/129", "::/",
                             "1.2.3/8", "1.2.3.4//8", "/8", "2001:db8::/32/1"}) {
        CAPTURE(text);
        CHECK_FALSE(parse_cidr(text));
    }
}

TEST_CASE("ip: range membership") {
    CHECK(contains("203.0.113.0/24", "203.0.113.255"));
    CHECK_FALSE(contains("203.0.113.0/24", "203.0.114.0"));
    CHECK(contains("10.16.0.0/12", "10.31.255.255"));  // prefix not on a byte boundary
    CHECK_FALSE(contains("10.16.0.0/12", "10.32.0.0"));
    CHECK(contains("10.1.2.3/8", "10.200.0.1"));       // host bits set in the range are ignored
    CHECK(contains("198.51.100.7/32", "198.51.100.7"));
    CHECK_FALSE(contains("198.51.100.7/32", "198.51.100.8"));
    CHECK(contains("0.0.0.0/0", "8.8.8.8"));
    CHECK(contains("0.0.0.0/0", "::ffff:8.8.8.8"));
    CHECK_FALSE(contains("0.0.0.0/0", "2001:db8::1"));

    CHECK(contains("2001:db8::/32", "2001:db8:ffff::1"));
    CHECK_FALSE(contains("2001:db8::/32", "2001:db9::1"));
    CHECK(contains("::/0", "2001:db8::1"));
    // Entra matches each family separately: an all-IPv6 range does not cover IPv4 sign-ins.
    CHECK_FALSE(contains("::/0", "8.8.8.8"));
    CHECK(contains("::ffff:0:0/96", "8.8.8.8"));
    CHECK(contains("::ffff:192.0.2.0/120", "192.0.2.200"));
}
