#include <tenantscan/json_input.hpp>
#include <tenantscan/report_diff.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/report.hpp>

#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace tenantscan::cli {

namespace {

struct DiffArguments {
    std::string before;
    std::string after;
    std::string format = "text";
    std::string output;
    std::string failOn;
};

int run_diff(const DiffArguments& args) {
    const Report before = report_from_json(read_json_file(args.before), args.before);
    const Report after = report_from_json(read_json_file(args.after), args.after);
    // Without --fail-on, the threshold the newer scan gated on.
    const Severity failOn = args.failOn.empty() ? after.failOn : *parse_severity(args.failOn);
    ReportDiff diff = diff_reports(before, after, failOn);
    diff.beforePath = args.before;
    diff.afterPath = args.after;

    std::string text = args.format == "json"       ? diff_to_json(diff).dump(2) + "\n"
                       : args.format == "markdown" ? diff_to_markdown(diff)
                                                   : diff_to_text(diff, use_colour(!args.output.empty()));
    write_output(text, args.output);
    return diff.gatePassed() ? kExitOk : kExitGateFailed;
}

}  // namespace

void add_diff_command(CLI::App& app, int& exitCode) {
    auto args = std::make_shared<DiffArguments>();
    auto* cmd = app.add_subcommand(
        "diff", "Compare two JSON reports of a tenant: new failures, resolved failures, other changes (baseline gating)");
    cmd->add_option("OLD", args->before, "The baseline JSON report (scan --format json)")->required();
    cmd->add_option("NEW", args->after, "The newer JSON report")->required();
    cmd->add_option("--format", args->format, "Output format")
        ->check(CLI::IsMember({"text", "json", "markdown"}))
        ->capture_default_str();
    cmd->add_option("--output", args->output, "Write to FILE instead of standard output");
    cmd->add_option("--fail-on", args->failOn,
                    "Fail (exit 1) on a new failing finding of this severity or worse; new errors always fail "
                    "(default: the NEW report's threshold)")
        ->check(CLI::IsMember({"critical", "high", "medium", "low", "info"}));
    cmd->callback([args, &exitCode] { exitCode = run_guarded([&] { return run_diff(*args); }); });
}

}  // namespace tenantscan::cli
