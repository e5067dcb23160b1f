// `tenantscan remediate`: scans the snapshot and writes the PowerShell script that fixes what the
// findings say can be fixed, with a checklist for the rest. See docs/remediate.md.
#pragma once

#include <CLI/CLI.hpp>

namespace tenantscan::cli {

// Exit code 0 when the script was written, 2 for usage errors and unreadable input. The script is
// written whatever the findings: the gate is the scan command's business.
void add_remediate_command(CLI::App& app, int& exitCode);

}  // namespace tenantscan::cli
