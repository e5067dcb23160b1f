// Live collection: reads a tenant through Microsoft Graph and Exchange Online (app-only
// authentication) and builds a snapshot v1 document that load_snapshot/decode_snapshot read.
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
    std::string certificateFile;     // PEM with the app's certificate (and its private key unless keyFile is set)
    std::string privateKeyFile;      // PEM with the unencrypted private key
};

struct CollectOptions {
    std::string tenant;              // tenant id or one of its domain names
    std::string clientId;            // the app registration's application (client) id
    ClientCredentials credentials;
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

// Writes a snapshot document atomically (temporary file in the same directory, then rename),
// so a reader never sees a half-written file. Throws std::runtime_error naming the file.
void write_snapshot_file(const nlohmann::json& snapshot, const std::string& path);

}  // namespace tenantscan::collect
