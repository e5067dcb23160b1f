// `tenantscan collect`, and the live-collection options `scan --live` shares with it.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <tenantscan/collect.hpp>

namespace tenantscan::cli {

// What the authentication, endpoint and collection flags set.
struct LiveCollectionArguments {
    std::string tenant;
    std::string clientId;
    std::string clientSecretEnv;   // name of the environment variable holding the secret
    std::string clientSecretFile;  // file holding the secret
    std::string certificate;       // PEM with the certificate (and the key unless certificateKey)
    std::string certificateKey;
    std::string certificatePasswordEnv;  // name of the variable holding a PKCS#12 file's password
    std::string auth = "auto";           // credential source (--auth)
    std::string managedIdentityClientId;
    std::string federatedTokenFile;
    std::string federatedTokenEnv;
    std::string serviceConnectionId;
    std::string loginUrl = collect::CloudEndpoints{}.login;
    std::string graphUrl = collect::CloudEndpoints{}.graph;
    std::string exchangeUrl = collect::CloudEndpoints{}.exchange;
    std::string caFile;
    int sinceDays = 30;
    std::vector<std::string> sections;
    std::vector<std::string> hveGroups{"Exchange-HVEUserAccounts"};
    bool crossCheck = false;
    int concurrency = 4;
    double requestTimeoutSeconds = 60;
    double deadlineSeconds = 3600;
    int maxRetries = 5;
    int maxGroupDepth = 10;
    int maxResponseMegabytes = 32;
    bool quiet = false;
    bool verbose = false;
};

// Adds the flags above to `command` (`collect`, or `scan` for --live). Secrets are never
// accepted as command-line values: only the name of a variable or file that holds them.
void add_live_collection_options(CLI::App& command, LiveCollectionArguments& args);

// Collects the tenant in memory. Progress goes to stderr when it is a terminal (or with
// --verbose; never with --quiet); sections that could not be collected and warnings are
// always reported there unless --quiet. Throws collect::CollectError or std::runtime_error
// (run_guarded turns them into exit code 2); messages never contain secrets.
collect::CollectResult collect_live(const LiveCollectionArguments& args);

// `tenantscan collect ... --output SNAPSHOT`: exit 0 when every requested section was
// collected, 1 when the snapshot was written without some of them, 2 when nothing was written.
void add_collect_command(CLI::App& app, int& exitCode);

}  // namespace tenantscan::cli
