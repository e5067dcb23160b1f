#include "collect_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "output.hpp"

namespace tenantscan::cli {

namespace {

std::string read_secret_file(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        std::cerr << "tenantscan: warning: " << path << " is readable by other users; restrict it (chmod 600)\n";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw collect::CollectError("cannot read the client secret file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    std::string secret = text.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' || secret.back() == ' '))
        secret.pop_back();
    if (secret.empty()) throw collect::CollectError("the client secret file " + path + " is empty");
    return secret;
}

collect::CollectOptions to_options(const LiveCollectionArguments& args) {
    collect::CollectOptions options;
    options.tenant = args.tenant;
    options.clientId = args.clientId;
    if (!args.clientSecretEnv.empty()) {
        const char* value = std::getenv(args.clientSecretEnv.c_str());
        if (value == nullptr || *value == '\0')
            throw collect::CollectError("the environment variable " + args.clientSecretEnv +
                                        " (--client-secret-env) is not set or empty");
        options.credentials.clientSecret = value;
    }
    if (!args.clientSecretFile.empty()) options.credentials.clientSecret = read_secret_file(args.clientSecretFile);
    options.credentials.certificateFile = args.certificate;
    options.credentials.privateKeyFile = args.certificateKey;
    if (!args.certificatePasswordEnv.empty()) {
        const char* value = std::getenv(args.certificatePasswordEnv.c_str());
        if (value == nullptr)
            throw collect::CollectError("the environment variable " + args.certificatePasswordEnv +
                                        " (--certificate-password-env) is not set");
        options.credentials.certificatePassword = value;
    }
    static const std::map<std::string, collect::AuthMethod> methods = {
        {"auto", collect::AuthMethod::Auto},
        {"app", collect::AuthMethod::AppCredentials},
        {"device-code", collect::AuthMethod::DeviceCode},
        {"workload-identity", collect::AuthMethod::WorkloadIdentity},
        {"managed-identity", collect::AuthMethod::ManagedIdentity},
        {"azure-cli", collect::AuthMethod::AzureCli},
        {"environment", collect::AuthMethod::Environment},
    };
    options.auth.method = methods.at(args.auth);
    options.auth.managedIdentityClientId = args.managedIdentityClientId;
    options.auth.federatedTokenFile = args.federatedTokenFile;
    options.auth.federatedTokenVariable = args.federatedTokenEnv;
    options.auth.serviceConnectionId = args.serviceConnectionId;
    // Entra's device code message is for the person at the keyboard: always shown, even with --quiet.
    options.auth.prompt = [](const std::string& message) { std::cerr << "tenantscan: " << message << std::endl; };
    bool quiet = args.quiet;
    options.auth.notice = [quiet](const std::string& message) {
        if (!quiet) std::cerr << "tenantscan: " << message << std::endl;
    };
    options.endpoints = {args.loginUrl, args.graphUrl, args.exchangeUrl};
    options.caFile = args.caFile;
    options.sinceDays = args.sinceDays;
    options.sections = args.sections;
    options.hveGroupNames = args.hveGroups;
    options.crossCheck = args.crossCheck;
    options.concurrency = args.concurrency;
    options.requestTimeout = std::chrono::milliseconds(static_cast<long long>(args.requestTimeoutSeconds * 1000));
    options.deadline = std::chrono::milliseconds(static_cast<long long>(args.deadlineSeconds * 1000));
    options.maxRetries = args.maxRetries;
    options.maxGroupDepth = args.maxGroupDepth;
    options.maxResponseBytes = static_cast<std::size_t>(args.maxResponseMegabytes) << 20;
    return options;
}

// Progress on stderr: on a terminal, page counts rewrite one line; otherwise (with --verbose)
// every event is a line of its own.
class ProgressPrinter {
public:
    ProgressPrinter(bool show, bool verbose) : show_(show), verbose_(verbose), terminal_(isatty(STDERR_FILENO) != 0) {}

    void operator()(const collect::ProgressEvent& event) {
        using Kind = collect::ProgressEvent::Kind;
        if (!show_) return;
        switch (event.kind) {
            case Kind::Request:
                if (verbose_) line(event.message);
                break;
            case Kind::SectionStarted:
                if (verbose_) line(event.section + ": started");
                break;
            case Kind::Page:
                if (terminal_ && !verbose_) {
                    std::cerr << "\r\033[Kcollect: " << event.section << ": " << event.objects << " objects so far"
                              << std::flush;
                    pending_ = true;
                } else if (verbose_) {
                    line(event.section + ": " + std::to_string(event.objects) + " objects so far");
                }
                break;
            case Kind::SectionDone:
                line(event.section + ": " + std::to_string(event.objects) + (event.objects == 1 ? " object" : " objects"));
                break;
            case Kind::SectionFailed:
                line(event.section + ": not collected: " + event.message);
                break;
            case Kind::Waiting:
                line((event.section.empty() ? "" : event.section + ": ") + event.message);
                break;
        }
    }

private:
    void line(const std::string& text) {
        if (pending_) std::cerr << "\r\033[K";
        pending_ = false;
        std::cerr << "collect: " << text << "\n";
    }

    bool show_, verbose_, terminal_;
    bool pending_ = false;
};

std::string section_list() {
    std::string text;
    for (const auto& section : collect::collectable_sections()) text += "\n  " + section;
    return text;
}

struct CollectArguments {
    LiveCollectionArguments live;
    std::string output;
    bool checkAccess = false;
};

// `collect --check-access`: per section, collected or the permission/role to add (stdout).
int print_access(const LiveCollectionArguments& args) {
    collect::CollectOptions options = to_options(args);
    collect::AccessReport report = collect::check_access(options);
    std::cout << "Signed in with " << report.source << " as " << report.principal << " ("
              << (report.delegated ? "delegated: the user's permissions and roles" : "application permissions") << ")\n";
    bool all = true;
    std::size_t width = 0;
    for (const auto& section : report.sections) width = std::max(width, section.section.size());
    for (const auto& section : report.sections) {
        using Status = collect::SectionAccess::Status;
        const char* status = section.status == Status::Collected ? "collected " : section.status == Status::Missing ? "MISSING   " : "UNVERIFIED";
        all = all && section.status == Status::Collected;
        std::cout << section.section << std::string(width + 2 - section.section.size(), ' ') << status << "  " << section.detail
                  << "\n";
    }
    return all ? kExitOk : kExitGateFailed;
}

}  // namespace

void add_live_collection_options(CLI::App& command, LiveCollectionArguments& args) {
    command.add_option("--tenant", args.tenant, "Tenant id or one of its domain names")->type_name("TENANT");
    command.add_option("--client-id", args.clientId, "Application (client) id of the app registration")->type_name("APP_ID");
    auto* secretEnv = command
                          .add_option("--client-secret-env", args.clientSecretEnv,
                                      "Name of the environment variable that holds the client secret")
                          ->type_name("VAR");
    auto* secretFile =
        command.add_option("--client-secret-file", args.clientSecretFile, "File that holds the client secret")
            ->type_name("FILE");
    auto* certificate = command
                            .add_option("--certificate", args.certificate,
                                        "PEM file with the app's certificate (and its private key, unless "
                                        "--certificate-key gives it)")
                            ->type_name("PEM");
    command.add_option("--certificate-key", args.certificateKey, "PEM file with the certificate's unencrypted private key")
        ->type_name("PEM")
        ->needs(certificate);
    command.add_option("--certificate-password-env", args.certificatePasswordEnv,
                       "Name of the environment variable that holds the password of a PKCS#12 (.pfx) --certificate")
        ->type_name("VAR")
        ->needs(certificate);
    command
        .add_option("--auth", args.auth,
                    "Credential source: auto (the app credentials given, else environment, workload identity, managed "
                    "identity, Azure CLI), app, device-code, workload-identity, managed-identity, azure-cli, environment")
        ->type_name("SOURCE")
        ->check(CLI::IsMember({"auto", "app", "device-code", "workload-identity", "managed-identity", "azure-cli",
                               "environment"}))
        ->capture_default_str();
    command.add_option("--managed-identity-client-id", args.managedIdentityClientId,
                       "Client id of a user-assigned managed identity (default: the system-assigned one)")
        ->type_name("ID");
    command.add_option("--federated-token-file", args.federatedTokenFile,
                       "Workload identity: file holding the federated token (default: $AZURE_FEDERATED_TOKEN_FILE)")
        ->type_name("FILE");
    command.add_option("--federated-token-env", args.federatedTokenEnv,
                       "Workload identity: name of the variable holding the federated token (default: AZURE_FEDERATED_TOKEN)")
        ->type_name("VAR");
    command.add_option("--service-connection-id", args.serviceConnectionId,
                       "Workload identity in Azure DevOps: the service connection's id (default: "
                       "$AZURESUBSCRIPTION_SERVICE_CONNECTION_ID)")
        ->type_name("ID");
    secretEnv->excludes(secretFile)->excludes(certificate);
    secretFile->excludes(certificate);
    command.add_option("--since", args.sinceDays, "Read the SMTP AUTH sign-ins of the last DAYS days")
        ->type_name("DAYS")
        ->check(CLI::Range(1, 365))
        ->capture_default_str();
    command.add_option("--sections", args.sections,
                       "Collect only these sections (comma-separated JSON pointers, e.g. /graph/users); "
                       "the sections they are derived from are collected too")
        ->type_name("LIST")
        ->delimiter(',');
    command.add_option("--hve-group", args.hveGroups,
                       "Display name of the HVE exemption group to collect (repeatable)")
        ->capture_default_str();
    command.add_flag("--cross-check", args.crossCheck,
                     "Also ask Microsoft's what-if API (conditionalAccess/evaluate) about each HVE account");
    // Base URLs: the last one given wins, so a wrapper script's defaults can be overridden.
    for (auto* option : {command.add_option("--login-url", args.loginUrl, "Microsoft Entra ID login base URL (sovereign clouds)"),
                         command.add_option("--graph-url", args.graphUrl, "Microsoft Graph base URL (sovereign clouds)"),
                         command.add_option("--exchange-url", args.exchangeUrl, "Exchange Online base URL (sovereign clouds)")})
        option->capture_default_str()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    command.add_option("--ca-file", args.caFile, "Also trust the CA certificates in this PEM file (TLS-inspecting proxy)")
        ->check(CLI::ExistingFile);
    command.add_option("--concurrency", args.concurrency, "HTTP requests in flight at most")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    command.add_option("--request-timeout", args.requestTimeoutSeconds, "Seconds one request may take")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    command.add_option("--deadline", args.deadlineSeconds, "Seconds the whole collection may take")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    command.add_option("--max-retries", args.maxRetries, "Retries per request when throttled or on transient failures")
        ->check(CLI::Range(0, 20))
        ->capture_default_str();
    command.add_option("--max-group-depth", args.maxGroupDepth, "Levels of nested groups followed")
        ->check(CLI::Range(0, 100))
        ->capture_default_str();
    command.add_option("--max-response-mb", args.maxResponseMegabytes,
                       "Largest response (one page) read, in MiB; a larger one fails its section")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    auto* quiet = command.add_flag("--quiet", args.quiet, "Print nothing on stderr but errors");
    command.add_flag("--verbose", args.verbose, "Print every request and section on stderr")->excludes(quiet);
}

collect::CollectResult collect_live(const LiveCollectionArguments& args) {
    collect::CollectOptions options = to_options(args);
    auto printer = std::make_shared<ProgressPrinter>(!args.quiet && (args.verbose || isatty(STDERR_FILENO)), args.verbose);
    collect::CollectResult result =
        collect::collect_snapshot(options, [printer](const collect::ProgressEvent& event) { (*printer)(event); });
    if (!args.quiet) {
        for (const auto& [section, reason] : result.notCollected)
            std::cerr << "tenantscan: warning: " << section << " not collected: " << reason << "\n";
        for (const auto& [section, scope] : result.partial)
            std::cerr << "tenantscan: warning: " << section << " collected in part: " << scope << "\n";
        for (const auto& warning : result.warnings) std::cerr << "tenantscan: warning: " << warning << "\n";
    }
    return result;
}

void add_collect_command(CLI::App& app, int& exitCode) {
    auto args = std::make_shared<CollectArguments>();
    auto* cmd = app.add_subcommand("collect", "Read a tenant from Microsoft Graph and Exchange Online into a snapshot");
    add_live_collection_options(*cmd, args->live);
    auto* output = cmd->add_option("--output", args->output, "Snapshot file to write (atomically)");
    cmd->add_flag("--check-access", args->checkAccess,
                  "Only get the tokens and print, per section, whether it will be collected or which permission or "
                  "role to add (exit 0 all, 1 some missing)")
        ->excludes(output);
    cmd->footer("Sections:" + section_list() +
                "\nExit codes: 0 every requested section collected, 1 snapshot written without some sections "
                "or with some only in part (listed on stderr and in its \"notCollected\" and \"partial\"), 2 usage "
                "error, no token (no credential source, sign-in declined or expired, refused) or nothing written. "
                "With --check-access: 0 every section will be collected, 1 some will not, 2 no token.\n"
                "Credential sources, permissions and the app registration: docs/collect.md.");
    cmd->callback([args, &exitCode] {
        exitCode = run_guarded([&] {
            if (args->checkAccess) return print_access(args->live);
            if (args->output.empty()) throw collect::CollectError("collect needs --output SNAPSHOT (or --check-access)");
            collect::CollectResult result = collect_live(args->live);
            collect::write_snapshot_file(result.snapshot, args->output);
            if (!args->live.quiet) {
                const auto& stats = result.stats;
                std::cerr << "tenantscan: wrote " << args->output << " (" << stats.requests << " requests, "
                          << stats.batchedRequests << " batched, " << stats.retries << " retries, "
                          << static_cast<double>(stats.elapsed.count()) / 1000.0 << " s)\n";
            }
            return result.complete() ? kExitOk : kExitGateFailed;
        });
    });
}

}  // namespace tenantscan::cli
