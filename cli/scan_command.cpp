#include <tenantscan/scan.hpp>
#include <tenantscan/snapshot_loader.hpp>

#include <stdexcept>

#include "commands.hpp"
#include "output.hpp"

namespace tenantscan::cli {

namespace {

struct ScanArguments {
    std::string snapshot;
    std::string format = "text";
    std::string output;
    std::string asOf;
    std::string failOn = "low";
};

int run_scan_command(const ScanArguments& args) {
    ScanOptions options;
    options.asOf = args.asOf.empty() ? today_utc() : args.asOf;
    options.failOn = *parse_severity(args.failOn);

    Snapshot snapshot = load_snapshot(args.snapshot);
    Registry registry;
    register_builtin_rules(registry);
    Report report = run_scan(snapshot, registry, options);

    std::string text = args.format == "json" ? report_to_json(report).dump(2) + "\n"
                                             : report_to_text(report, use_colour(!args.output.empty()));
    write_output(text, args.output);
    return report.summary.gatePassed ? kExitOk : kExitGateFailed;
}

}  // namespace

void add_scan_command(CLI::App& app, int& exitCode) {
    auto args = std::make_shared<ScanArguments>();
    auto* cmd = app.add_subcommand("scan", "Scan a tenant snapshot and report per account what will break");
    cmd->add_option("SNAPSHOT", args->snapshot, "Snapshot file (JSON, snapshot v1; UTF-8 or UTF-16)")->required();
    cmd->add_option("--format", args->format, "Report format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    cmd->add_option("--output", args->output, "Write the report to FILE instead of standard output");
    cmd->add_option("--as-of", args->asOf, "Evaluate as of DATE (YYYY-MM-DD; default: today, UTC)")
        ->check(CLI::Validator([](std::string& v) { return is_valid_date(v) ? "" : "expected a date YYYY-MM-DD"; },
                               "DATE"));
    cmd->add_option("--fail-on", args->failOn,
                    "Fail the gate on a failing finding of this severity or worse (any error always fails it)")
        ->check(CLI::IsMember({"critical", "high", "medium", "low", "info"}))
        ->capture_default_str();
    cmd->callback([args, &exitCode] { exitCode = run_guarded([&] { return run_scan_command(*args); }); });
}

}  // namespace tenantscan::cli
