// `tenantscan smtp-test`: submits a labelled test message (or only signs in) through an SMTP
// server and explains any refusal. See docs/smtp-test.md.
#pragma once

#include <CLI/CLI.hpp>

namespace tenantscan::cli {

// Exit code 0 when every requested step succeeded, 1 when the server refused something, 2 for
// usage errors, unreadable input and connection errors. Secrets are never accepted as
// command-line values: only the name of a variable or file that holds them.
void add_smtp_test_command(CLI::App& app, int& exitCode);

}  // namespace tenantscan::cli
