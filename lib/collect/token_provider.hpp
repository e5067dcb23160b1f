// App-only access tokens (OAuth 2.0 client credentials), one per resource, reused until
// shortly before they expire and renewed when a service says one has expired.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <tenantscan/collect.hpp>

#include "client_assertion.hpp"
#include "session.hpp"

namespace tenantscan::collect::detail {

class TokenProvider {
public:
    // Loads the certificate (if any) at once, so a bad PEM file fails before any request.
    TokenProvider(Session& session, const CollectOptions& options);

    // A bearer token for the resource (its base URL, e.g. "https://graph.microsoft.com").
    // Throws RequestFailure when the token endpoint refuses.
    std::string token(const std::string& resource);
    // Forgets `rejected` if it is still the cached token of the resource (a service said it
    // expired), so the next token() asks for a new one. Concurrent callers renew it once.
    void invalidate(const std::string& resource, const std::string& rejected);

    // The tenant's id from the first token's "tid" claim, else the tenant as configured.
    std::string tenant_id() const;
    const char* method() const { return certificate_ ? "certificate" : "clientSecret"; }

private:
    struct Cached {
        std::string token;
        std::chrono::steady_clock::time_point renewAt;
    };
    Cached request_token(const std::string& resource);

    Session& session_;
    const CollectOptions& options_;
    std::string tokenUrl_;
    std::unique_ptr<CertificateCredential> certificate_;
    mutable std::mutex mutex_;
    std::map<std::string, Cached> cache_;
    std::string tenantId_;
};

}  // namespace tenantscan::collect::detail
