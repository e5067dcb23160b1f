// Live collection: reads a tenant through Microsoft Graph and Exchange Online (as an application,
// or as a signed-in user with the device code flow; AuthOptions) and builds a snapshot v1 document
// that load_snapshot/decode_snapshot read.
//
// Link tenantscan::collect. The HTTP stack (cpprestsdk, Boost, OpenSSL) stays behind this
// header: nothing here names it, so it can be replaced without touching callers.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tenantscan::collect {

// Base URLs of the three services. Sovereign clouds differ only in these host names
// (docs/collect.md lists them). Only https is accepted, except on loopback (tests).
struct CloudEndpoints {
    std::string login = "https://login.microsoftonline.com";
    std::string graph = "https://graph.microsoft.com";
    std::string exchange = "https://outlook.office365.com";
};

// How the app proves its identity: exactly one of a client secret or a certificate.
struct ClientCredentials {
    std::string clientSecret;        // the secret itself (read from an environment variable or file by the caller)
    std::string certificateFile;     // PEM with the certificate (and its private key unless keyFile is set), or PKCS#12 (.pfx/.p12)
    std::string privateKeyFile;      // PEM with the unencrypted private key
    std::string certificatePassword; // password of a PKCS#12 file (read from an environment variable by the caller)
};

// Where the access tokens come from (docs/collect.md, "Credential sources").
enum class AuthMethod {
    Auto,              // the app credentials given, else environment → workload identity → managed identity → Azure CLI
    AppCredentials,    // ClientCredentials: client secret or certificate (client credentials grant)
    DeviceCode,        // delegated: the signed-in user, device code flow (RFC 8628), refresh token for the 2nd resource
    WorkloadIdentity,  // client assertion from a token file, a variable, GitHub Actions or Azure DevOps
    ManagedIdentity,   // App Service / Container Apps / Functions (IDENTITY_ENDPOINT) or the instance metadata service
    AzureCli,          // `az account get-access-token --resource ...`
    Environment,       // AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH
};

struct AuthOptions {
    AuthMethod method = AuthMethod::Auto;
    std::string managedIdentityClientId;   // user-assigned managed identity; empty = system-assigned
    std::string federatedTokenFile;        // workload identity: the assertion file (default $AZURE_FEDERATED_TOKEN_FILE)
    std::string federatedTokenVariable;    // workload identity: the variable holding the assertion (default AZURE_FEDERATED_TOKEN)
    std::string serviceConnectionId;       // Azure DevOps (default $AZURESUBSCRIPTION_SERVICE_CONNECTION_ID)
    std::string azCommand = "az";          // the Azure CLI executable (looked up on PATH)
    // Device code: receives Entra's message (the URL and the code to enter). Required for DeviceCode.
    std::function<void(const std::string&)> prompt;
    // Where the source the auto chain chose is told (e.g. "signed in with the Azure CLI").
    std::function<void(const std::string&)> notice;
};

struct CollectOptions {
    std::string tenant;              // tenant id or one of its domain names (AZURE_TENANT_ID when empty, where a source reads it)
    std::string clientId;            // the app registration's application (client) id (AZURE_CLIENT_ID when empty)
    ClientCredentials credentials;
    AuthOptions auth;
    CloudEndpoints endpoints;

    // Snapshot sections to collect, as JSON pointers ("/graph/users"); empty = all of them.
    // The sections a requested one is derived from are collected too (see docs/collect.md).
    std::vector<std::string> sections;
    int sinceDays = 30;                                          // sign-ins of the last N days
    std::vector<std::string> hveGroupNames{"Exchange-HVEUserAccounts"};  // groups named by rule parameters
    bool crossCheck = false;         // also ask Graph's what-if API about each HVE account

    int concurrency = 4;             // HTTP requests in flight at most
    std::chrono::milliseconds requestTimeout{std::chrono::seconds(60)};
    std::chrono::milliseconds deadline{std::chrono::minutes(60)};  // for the whole collection
    int maxRetries = 5;              // per request, for throttling and transient failures
    std::chrono::milliseconds retryBaseDelay{500};  // exponential back-off start (without Retry-After)
    std::chrono::milliseconds retryMaxDelay{std::chrono::seconds(30)};
    int maxPages = 5000;             // per paged list: a guard against endless @odata.nextLink chains
    int maxGroupDepth = 10;          // levels of nested groups followed below a referenced group
    std::size_t maxResponseBytes = 32u << 20;  // one response (a page) larger than this fails its section
    std::string caFile;              // extra PEM bundle of trusted CAs (e.g. a TLS-inspecting proxy)
};

// What the collector reports while it works. Calls are serialised (never concurrent).
struct ProgressEvent {
    enum class Kind {
        SectionStarted,   // section
        SectionDone,      // section, objects
        SectionFailed,    // section, message (the reason recorded in notCollected)
        Page,             // section, objects so far
        Waiting,          // section, message, wait (throttled or backing off before a retry)
        Request,          // message: "GET https://… → 200 (120 ms)"; for --verbose
    };
    Kind kind = Kind::Request;
    std::string section;
    std::string message;
    std::size_t objects = 0;
    std::chrono::milliseconds wait{0};
};
using ProgressCallback = std::function<void(const ProgressEvent&)>;

struct CollectStats {
    std::size_t requests = 0;        // HTTP requests sent (token requests included)
    std::size_t batchedRequests = 0; // Graph requests carried inside $batch requests
    std::size_t retries = 0;
    std::size_t throttled = 0;       // 429/503/504 answers, batch sub-responses included
    std::chrono::milliseconds elapsed{0};
};

struct CollectResult {
    nlohmann::json snapshot;                         // snapshot v1, ready to write or decode
    std::map<std::string, std::string> notCollected; // section pointer → reason (also in the snapshot)
    std::map<std::string, std::string> partial;      // section pointer → what it holds and why not more (also in the snapshot)
    std::vector<std::string> warnings;               // incomplete but usable data (also in the snapshot)
    CollectStats stats;
    bool complete() const { return notCollected.empty() && partial.empty(); }
};

// Nothing could be collected: bad options, authentication refused, no section readable.
// The message never contains a secret or a token.
class CollectError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Every section the collector knows, as JSON pointers, in snapshot order.
std::vector<std::string> collectable_sections();

// Collects the tenant. A section that fails is left out of the snapshot and recorded in
// "notCollected" with the reason (HTTP status and the permission or role that is missing).
// Throws CollectError when the options are invalid, no token can be obtained, or no section
// at all could be collected.
CollectResult collect_snapshot(const CollectOptions& options, const ProgressCallback& progress = {});

// What `collect --check-access` found: the tokens' source and, per section, whether the
// permissions and roles in the tokens' claims ("roles" or "scp", and "wids") let it be collected.
struct SectionAccess {
    enum class Status { Collected, Missing, Unverified };
    std::string section;
    Status status = Status::Unverified;
    std::string detail;  // what grants it, or the exact permission or role to add
};
struct AccessReport {
    std::string source;         // the credential source used, e.g. "Azure CLI"
    std::string principal;      // "application 1111..." or "user admin@contoso.com" (from the claims)
    bool delegated = false;     // a signed-in user's tokens (scp) rather than an application's (roles)
    std::vector<SectionAccess> sections;  // in snapshot order
};

// Gets the tokens and reads their claims; no data request is sent. Throws CollectError when
// no token can be obtained for any service.
AccessReport check_access(const CollectOptions& options, const ProgressCallback& progress = {});

// Writes a snapshot document atomically (temporary file in the same directory, then rename),
// so a reader never sees a half-written file. Throws std::runtime_error naming the file.
void write_snapshot_file(const nlohmann::json& snapshot, const std::string& path);

}  // namespace tenantscan::collect
