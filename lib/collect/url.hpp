// Absolute URLs as the collector meets them: configured base URLs and @odata.nextLink values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tenantscan::collect::detail {

struct Url {
    std::string scheme;        // lower case: "https" | "http"
    std::string host;          // lower case, IPv6 without brackets
    int port = 0;              // explicit or the scheme's default
    std::string pathAndQuery;  // "/v1.0/users?$top=999" ("/" when empty), verbatim

    std::string origin() const;  // "https://host[:port]" (port omitted when default)
};

// Parses an absolute http(s) URL. nullopt for anything else (relative, other schemes, bad port).
std::optional<Url> parse_url(std::string_view text);

// 127.0.0.0/8, ::1 and "localhost": the only hosts reachable without TLS (for tests).
bool is_loopback_host(const std::string& host);

// Empty when the URL may carry credentials: https, or http to a loopback host.
// Otherwise the reason, e.g. "http://graph.example: plain http is only allowed on loopback".
std::string transport_security_problem(const std::string& url);

bool same_origin(const Url& a, const Url& b);

// NO_PROXY semantics as curl reads them: comma-separated host names or domain suffixes
// (".example.com" or "example.com" both match sub.example.com), "*" matches everything.
bool no_proxy_matches(std::string_view noProxy, const std::string& host);

// "https://graph.microsoft.com/" → "https://graph.microsoft.com".
std::string trim_trailing_slashes(std::string url);

}  // namespace tenantscan::collect::detail
