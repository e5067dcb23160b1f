// The collector's only view of HTTP: one request in, one response out. The cpprestsdk
// implementation lives in cpprest_transport.cpp; nothing else includes cpprestsdk, so another
// HTTP stack can replace it by implementing this interface.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tenantscan::collect::detail {

struct HttpRequest {
    std::string method;  // "GET" | "POST"
    std::string url;     // absolute, already percent-encoded; sent verbatim
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct CaseInsensitiveLess {
    bool operator()(const std::string& a, const std::string& b) const;
};

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string, CaseInsensitiveLess> headers;
    std::string body;
    std::string header(const std::string& name) const;  // "" when absent
};

// No HTTP response at all: connection refused or cut, timeout, TLS handshake failure.
class TransportFailure : public std::runtime_error {
public:
    enum class Kind {
        Connection,  // refused, reset, name not resolved: may be transient
        Timeout,     // no answer within the timeout: may be transient
        Tls,         // the handshake failed (untrusted or wrong certificate): retrying cannot help
        TooLarge,    // the response is larger than TransportSettings::maxResponseBytes: not read further
    };
    TransportFailure(const std::string& message, Kind kind) : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

class HttpTransport {
public:
    virtual ~HttpTransport() = default;
    // Thread-safe. Never follows a redirect: a 3xx is returned as it is. Throws TransportFailure
    // when no response arrived within the timeout, or when its body is larger than the limit.
    virtual HttpResponse send(const HttpRequest& request) = 0;
};

// Proxy settings as HTTPS_PROXY / HTTP_PROXY / NO_PROXY give them (cpprestsdk reads none of
// them itself on Linux). Loopback and link-local (metadata service) hosts never go through a proxy.
struct ProxySettings {
    std::string httpsProxy;
    std::string httpProxy;
    std::string noProxy;
    static ProxySettings from_environment();
    // The proxy URL for a request to this URL, or "" for a direct connection.
    std::string proxy_for(const std::string& url) const;
};

struct TransportSettings {
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};  // per request (connect to last byte)
    std::string caFile;  // extra trusted CA certificates (PEM); system store is always trusted
    ProxySettings proxy;
    std::size_t maxResponseBytes = 32u << 20;  // a larger body is not read (TransportFailure::Kind::TooLarge)
};

std::unique_ptr<HttpTransport> make_cpprest_transport(const TransportSettings& settings);

}  // namespace tenantscan::collect::detail
