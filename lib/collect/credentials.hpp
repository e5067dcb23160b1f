// Credential sources: where an access token for a resource comes from (client credentials with
// a secret, a certificate or a federated assertion; the device code flow; a managed identity;
// the Azure CLI), and the auto chain that picks the first one the environment provides.
// The request and answer shapes are Microsoft's (docs/microsoft-facts.md §9).
// Every token, assertion, refresh token and secret they meet is registered with the session's
// redactor before anything else is done with it; none is written anywhere.
#pragma once

#include <memory>
#include <string>

#include <tenantscan/collect.hpp>

#include "session.hpp"

namespace tenantscan::collect::detail {

struct IssuedToken {
    std::string token;
    long long lifetimeSeconds = 0;  // from now
};

class Credential {
public:
    virtual ~Credential() = default;
    // A token for the resource (base URL, e.g. "https://graph.microsoft.com"). Throws
    // RequestFailure (the service refused) or CollectError (the source cannot work here).
    virtual IssuedToken get(const std::string& resource) = 0;
    // Snapshot "collection.authentication": "clientSecret", "certificate", "deviceCode",
    // "workloadIdentity", "managedIdentity", "azureCli".
    virtual std::string method() const = 0;
    // For people: "a client secret", "the Azure CLI", ...
    virtual std::string description() const = 0;
};

// The credential the options ask for. With AuthMethod::Auto and no app credentials given, the
// chain tries its sources on the first get() and remembers the first that works; when all fail,
// its CollectError lists each source and why. Throws CollectError for unusable options (a
// certificate file that cannot be read, a missing variable for an explicit source).
std::unique_ptr<Credential> make_credential(Session& session, const CollectOptions& options);

// Claims of a JWT access token (the middle part), or a discarded json when it is not one.
nlohmann::json token_claims(const std::string& token);

// The tenant as configured, else AZURE_TENANT_ID.
std::string configured_tenant(const CollectOptions& options);

}  // namespace tenantscan::collect::detail
