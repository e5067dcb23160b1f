// tenantscan: SMTP AUTH / HVE readiness scanner. Thin front end over the library.
#include <CLI/CLI.hpp>
#include <tenantscan/scan.hpp>

#include <csignal>

#include "collect_command.hpp"
#include "commands.hpp"
#include "remediate_command.hpp"
#include "smtp_test_command.hpp"

int main(int argc, char** argv) {
    // A server that closes its connection while smtp-test writes to it over TLS (OpenSSL's socket BIO
    // writes with write(2), without MSG_NOSIGNAL) must give EPIPE and a reported step failure, not
    // end the process with SIGPIPE before anything is reported.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App app{"tenantscan: will mail submission keep working when Exchange Online retires Basic SMTP AUTH?\n"
                 "Reads a tenant snapshot and reports, account by account, what breaks, why, and how to fix it.",
                 "tenantscan"};
    app.set_version_flag("--version", std::string("tenantscan ") + tenantscan::version());
    app.require_subcommand(1);
    app.footer("Exit codes: 0 gate passed, 1 gate failed, 2 usage error or unreadable input.\n"
               "Run 'tenantscan COMMAND --help' for a command's options.");

    int exitCode = tenantscan::cli::kExitOk;
    tenantscan::cli::add_scan_command(app, exitCode);
    tenantscan::cli::add_rules_command(app, exitCode);
    tenantscan::cli::add_whatif_command(app, exitCode);
    tenantscan::cli::add_collect_command(app, exitCode);
    tenantscan::cli::add_diff_command(app, exitCode);
    tenantscan::cli::add_remediate_command(app, exitCode);
    tenantscan::cli::add_smtp_test_command(app, exitCode);
    tenantscan::cli::add_devices_command(app, exitCode);
    tenantscan::cli::add_explain_command(app, exitCode);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? tenantscan::cli::kExitOk : tenantscan::cli::kExitUsage;
    }
    return exitCode;
}
