// Each subcommand registers itself on the app; its callback sets the process exit code:
// 0 gate passed / success, 1 gate failed, 2 usage error or unreadable input.
#pragma once

#include <CLI/CLI.hpp>

namespace tenantscan::cli {

constexpr int kExitOk = 0;
constexpr int kExitGateFailed = 1;
constexpr int kExitUsage = 2;

void add_scan_command(CLI::App& app, int& exitCode);
void add_rules_command(CLI::App& app, int& exitCode);
void add_whatif_command(CLI::App& app, int& exitCode);
void add_diff_command(CLI::App& app, int& exitCode);
void add_devices_command(CLI::App& app, int& exitCode);
void add_explain_command(CLI::App& app, int& exitCode);

}  // namespace tenantscan::cli
