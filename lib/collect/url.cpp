#include "url.hpp"

#include <algorithm>

#include <cpprest/base_uri.h>

#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>
#include <cctype>

namespace tenantscan::collect::detail {

namespace {

int default_port(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

}  // namespace

std::string Url::origin() const {
    std::string text = scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host);
    if (port != default_port(scheme)) text += ":" + std::to_string(port);
    return text;
}

// The URL's syntax (RFC 3986 character classes: no space, no raw control or non-ASCII byte) is checked
// by cpprestsdk's web::uri::validate. Its parsed fields are not used: web::uri 2.10.18 (Debian 12) takes
// "https://example.com:99999/" as port 99999 and "https://example.com:/x" as port 32767, and keeps
// IPv6 brackets in the host, so the authority (where credentials may go) is read here, fail closed.
std::optional<Url> parse_url(std::string_view text) {
    if (!web::uri::validate(utility::conversions::to_string_t(std::string(text)))) return std::nullopt;
    auto schemeEnd = text.find("://");
    if (schemeEnd == std::string_view::npos) return std::nullopt;
    Url url;
    url.scheme = tenantscan::to_lower(text.substr(0, schemeEnd));
    if (url.scheme != "https" && url.scheme != "http") return std::nullopt;
    std::string_view rest = text.substr(schemeEnd + 3);
    auto authorityEnd = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authorityEnd);
    url.pathAndQuery = authorityEnd == std::string_view::npos ? "/" : std::string(rest.substr(authorityEnd));
    if (!url.pathAndQuery.empty() && url.pathAndQuery.front() != '/') url.pathAndQuery.insert(0, "/");
    if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no user info in API URLs

    std::string_view portText;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        url.host = tenantscan::to_lower(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            portText = after.substr(1);
        }
    } else {
        auto colon = authority.rfind(':');
        url.host = tenantscan::to_lower(authority.substr(0, colon));
        if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
    }
    if (url.host.empty()) return std::nullopt;
    url.port = default_port(url.scheme);
    if (!portText.empty()) {
        if (portText.size() > 5 || !std::all_of(portText.begin(), portText.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        url.port = std::stoi(std::string(portText));
        if (url.port < 1 || url.port > 65535) return std::nullopt;
    }
    return url;
}

bool is_loopback_host(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string transport_security_problem(const std::string& text) {
    auto url = parse_url(text);
    if (!url) return text + ": not an absolute https URL";
    if (url->scheme == "http" && !is_loopback_host(url->host))
        return text + ": plain http is only allowed on loopback; use https";
    return {};
}

bool same_origin(const Url& a, const Url& b) { return a.scheme == b.scheme && a.host == b.host && a.port == b.port; }

bool no_proxy_matches(std::string_view noProxy, const std::string& host) {
    while (!noProxy.empty()) {
        auto comma = noProxy.find(',');
        std::string entry = tenantscan::to_lower(trim(noProxy.substr(0, comma)));
        noProxy = comma == std::string_view::npos ? std::string_view{} : noProxy.substr(comma + 1);
        if (entry.empty()) continue;
        if (entry == "*") return true;
        if (entry.front() == '.') entry.erase(0, 1);
        if (host == entry) return true;
        if (host.size() > entry.size() && host.compare(host.size() - entry.size(), entry.size(), entry) == 0 &&
            host[host.size() - entry.size() - 1] == '.')
            return true;
    }
    return false;
}

std::string trim_trailing_slashes(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

}  // namespace tenantscan::collect::detail
