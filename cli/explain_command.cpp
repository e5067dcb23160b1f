// `tenantscan explain TEXT|-`: explains an error text pasted from a device panel, a library's
// exception or a mail log (lib/smtp/explain.cpp, docs/explain.md). Offline: no network.
#include <tenantscan/directory.hpp>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/schedule.hpp>
#include <tenantscan/smtp_explain.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/detail/dates.hpp>

#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>

#include "commands.hpp"
#include "output.hpp"
#include "schedule_option.hpp"

namespace tenantscan::cli {

namespace {

// A pasted text is a few lines; a megabyte is far more than any reply or stack trace.
constexpr std::size_t kMaxTextBytes = 1 << 20;

struct ExplainArguments {
    std::vector<std::string> text;  // the words of TEXT (unquoted words are joined with spaces), or "-"
    std::string snapshot;
    std::string user;
    std::string asOf;
    std::string schedule;
    std::string format = "text";
};

std::string read_text(const ExplainArguments& args) {
    if (args.text.size() == 1 && args.text.front() == "-") {
        std::string text;
        char buffer[4096];
        while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
            text.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
            if (text.size() > kMaxTextBytes) throw std::invalid_argument("standard input: more than 1 MiB of text");
        }
        if (std::cin.bad()) throw std::invalid_argument("standard input could not be read");
        return text;
    }
    std::string text;
    for (const auto& word : args.text) text += (text.empty() ? "" : " ") + word;
    if (text.size() > kMaxTextBytes) throw std::invalid_argument("TEXT: more than 1 MiB");
    return text;
}

int run_explain(const ExplainArguments& args) {
    if (!args.snapshot.empty() && args.user.empty())
        throw std::invalid_argument("--snapshot decides the cause for one account: give --user ADDRESS too");
    const std::string text = read_text(args);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw std::invalid_argument("the text is empty: give the error text, or - to read it from standard input");

    std::unique_ptr<Snapshot> snapshot;
    std::unique_ptr<Directory> directory;
    std::unique_ptr<ConditionalAccessEngine> engine;
    std::optional<smtp::Tenant> tenant;
    if (!args.snapshot.empty()) {
        snapshot = std::make_unique<Snapshot>(load_snapshot(args.snapshot));
        directory = std::make_unique<Directory>(*snapshot);
        engine = std::make_unique<ConditionalAccessEngine>(*snapshot, *directory);
        tenant.emplace(smtp::Tenant{*snapshot, *directory, *engine});
    }
    smtp::ExplainOptions options;
    options.user = args.user;
    options.tenant = tenant ? &*tenant : nullptr;
    options.schedule = schedule_status(resolve_schedule(args.schedule), args.asOf.empty() ? today_utc() : args.asOf);

    smtp::TextExplanation explanation = smtp::explain_text(text, options);
    if (args.format == "json")
        write_output(smtp::to_json(explanation).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "");
    else
        write_output(smtp::to_text(explanation), "");
    return smtp::exit_code(explanation);
}

}  // namespace

void add_explain_command(CLI::App& app, int& exitCode) {
    auto args = std::make_shared<ExplainArguments>();
    auto* cmd = app.add_subcommand(
        "explain",
        "Explain an SMTP error text pasted from a device, a library's exception or a mail log: the cause, whether a "
        "setting can still bring Basic SMTP AUTH back before the cut-off or only a migration helps, and the fix. Offline");
    cmd->footer("Exit codes: 0 the text was recognised and explained, 1 not recognised (no cause is guessed), 2 usage "
                "error, empty or unreadable text, or an unreadable snapshot.\n"
                "Example: tenantscan explain '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is "
                "disabled for the Tenant.'\n"
                "Example: journalctl -u postfix | grep 'SASL authentication failed' | tail -1 | tenantscan explain - "
                "--snapshot snapshot.json --user scanner@contoso.com");
    cmd->add_option("text", args->text, "The error text (quote it), or - to read it from standard input")
        ->required()
        ->type_name("TEXT|-");
    cmd->add_option("--snapshot", args->snapshot,
                    "Tenant snapshot: decide between the causes for the --user account (which policy, which switch)")
        ->type_name("SNAPSHOT");
    cmd->add_option("--user", args->user, "The account that signs in (its UPN), for --snapshot and the fix")
        ->type_name("ADDRESS");
    cmd->add_option("--as-of", args->asOf, "Judge the schedule as of DATE (YYYY-MM-DD; default: today, UTC)")
        ->check(date_validator());
    cmd->add_option("--schedule", args->schedule,
                    "Retirement schedule: a name (e.g. 2026-01, 2025-06) or custom dates YYYY-MM-DD[,YYYY-MM-DD]")
        ->check(schedule_validator());
    cmd->add_option("--format", args->format, "Output format")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    cmd->callback([args, &exitCode] { exitCode = run_guarded([&] { return run_explain(*args); }); });
}

}  // namespace tenantscan::cli
