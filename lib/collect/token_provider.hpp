// Access tokens, one per resource, from the configured credential source (credentials.hpp),
// reused until shortly before they expire and renewed when a service says one has expired.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <tenantscan/collect.hpp>

#include "credentials.hpp"
#include "session.hpp"

namespace tenantscan::collect::detail {

class TokenProvider {
public:
    // Loads the certificate (if any) at once, so a bad certificate file fails before any request.
    TokenProvider(Session& session, const CollectOptions& options);

    // A bearer token for the resource (its base URL, e.g. "https://graph.microsoft.com").
    // Throws RequestFailure when the token endpoint refuses.
    std::string token(const std::string& resource);
    // Forgets `rejected` if it is still the cached token of the resource (a service said it
    // expired), so the next token() asks for a new one. Concurrent callers renew it once.
    void invalidate(const std::string& resource, const std::string& rejected);

    // A string claim of a token obtained so far (none is requested for it), or "".
    std::string cached_claim(const std::string& name) const;

    // The tenant's id from the first token's "tid" claim, else the tenant as configured.
    std::string tenant_id() const;
    // The source's name for the snapshot ("clientSecret", "deviceCode", ...) and for people.
    std::string method() const { return credential_->method(); }
    std::string description() const { return credential_->description(); }

private:
    struct Cached {
        std::string token;
        std::chrono::steady_clock::time_point renewAt;
    };
    Cached request_token(const std::string& resource);

    Session& session_;
    const CollectOptions& options_;
    std::unique_ptr<Credential> credential_;
    mutable std::mutex mutex_;
    std::map<std::string, Cached> cache_;
    std::string tenantId_;
};

}  // namespace tenantscan::collect::detail
