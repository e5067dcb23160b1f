#include "http_transport.hpp"

#include <cstdlib>
#include <strings.h>

#include "url.hpp"

namespace tenantscan::collect::detail {

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
    return ::strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::string HttpResponse::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
}

namespace {

std::string first_set(std::initializer_list<const char*> names) {
    for (const char* name : names) {
        if (const char* value = std::getenv(name); value != nullptr && *value != '\0') return value;
    }
    return {};
}

}  // namespace

ProxySettings ProxySettings::from_environment() {
    ProxySettings settings;
    settings.httpsProxy = first_set({"HTTPS_PROXY", "https_proxy"});
    settings.httpProxy = first_set({"HTTP_PROXY", "http_proxy"});
    settings.noProxy = first_set({"NO_PROXY", "no_proxy"});
    return settings;
}

std::string ProxySettings::proxy_for(const std::string& url) const {
    auto parsed = parse_url(url);
    // Link-local (169.254.0.0/16: the instance metadata service) is never reachable through a proxy.
    if (!parsed || is_loopback_host(parsed->host) || parsed->host.rfind("169.254.", 0) == 0 ||
        no_proxy_matches(noProxy, parsed->host))
        return {};
    return parsed->scheme == "https" ? httpsProxy : httpProxy;
}

}  // namespace tenantscan::collect::detail
