// IP address and CIDR parsing for the loader (named locations) and the engine (location
// conditions). Not part of the API: no stability promise, and not installed.
#pragma once

#include <optional>
#include <string>

#include <tenantscan/model.hpp>

namespace tenantscan {

// Parses "a.b.c.d" or an IPv6 literal ("::" compression and a trailing dotted quad allowed);
// parse_cidr also takes "/prefix" (a bare address is a single host). Returns nullopt on malformed
// input, including IPv4 parts with leading zeros (ambiguous: some software reads them as octal).
// An IPv4 range contains IPv4 addresses only, an IPv6 range (outside ::ffff:0:0/96) IPv6 only.
std::optional<IpAddress> parse_ip_address(const std::string& text);
std::optional<IpRange> parse_cidr(const std::string& text);
bool range_contains(const IpRange& range, const IpAddress& ip);

}  // namespace tenantscan
