#include "remediate_command.hpp"

#include <memory>
#include <optional>

#include <tenantscan/config.hpp>
#include <tenantscan/remediation.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/detail/dates.hpp>
#include <tenantscan/builtin_rules.hpp>

#include "commands.hpp"
#include "output.hpp"
#include "schedule_option.hpp"

namespace tenantscan::cli {

namespace {

struct RemediateArguments {
    std::string snapshot;
    std::string output;
    std::string asOf;
    std::string config;
    bool noConfig = false;
    std::string schedule;
    std::string clients;
};

int run_remediate_command(const RemediateArguments& args) {
    Registry registry;
    register_builtin_rules(registry);
    std::optional<std::string> configPath;
    if (!args.config.empty()) configPath = args.config;
    else if (!args.noConfig) configPath = default_config_path(args.snapshot);

    ScanOptions options;
    options.asOf = args.asOf.empty() ? today_utc() : args.asOf;
    // The configuration names the exemption group, the schedule and the waivers: a waived finding
    // is an accepted exception, so the script leaves it alone.
    if (configPath) load_config(*configPath, registry).apply_rule_settings(options);
    if (!args.schedule.empty()) options.schedule = args.schedule;
    if (!args.clients.empty()) options.smtpClients = std::make_shared<SmtpClientInventory>(load_smtp_clients(args.clients));

    const Snapshot snapshot = load_snapshot(args.snapshot);
    const Report report = run_scan(snapshot, registry, options);
    write_output(remediation_script(snapshot, report, options), args.output);
    return kExitOk;
}

}  // namespace

void add_remediate_command(CLI::App& app, int& exitCode) {
    auto args = std::make_shared<RemediateArguments>();
    auto* cmd = app.add_subcommand(
        "remediate", "Write a PowerShell script that fixes what the findings say can be fixed (dry run by default)");
    cmd->add_option("SNAPSHOT", args->snapshot, "Snapshot file (JSON, snapshot v1; UTF-8 or UTF-16)")->required();
    cmd->add_option("--output", args->output, "Write the script to FILE instead of standard output");
    cmd->add_option("--as-of", args->asOf, "Evaluate as of DATE (YYYY-MM-DD; default: today, UTC)")
        ->check(date_validator());
    cmd->add_option("--config", args->config,
                    "Configuration file (exemption group, schedule, waivers; docs/config.md). Default: tenantscan.json "
                    "beside the snapshot, if present");
    cmd->add_flag("--no-config", args->noConfig, "Ignore tenantscan.json beside the snapshot");
    cmd->add_option("--schedule", args->schedule,
                    "Retirement schedule: a name (e.g. 2026-01, 2025-06) or custom dates YYYY-MM-DD[,YYYY-MM-DD]")
        ->check(schedule_validator());
    cmd->add_option("--clients", args->clients,
                    "Device and application inventory (JSON or CSV, docs/inventory.md) instead of the snapshot's "
                    "smtpClients");
    cmd->callback([args, &exitCode] { exitCode = run_guarded([&] { return run_remediate_command(*args); }); });
}

}  // namespace tenantscan::cli
