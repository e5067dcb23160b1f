#include <tenantscan/config.hpp>
#include <tenantscan/policy_overlay.hpp>
#include <tenantscan/report.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/source_location.hpp>
#include <tenantscan/detail/dates.hpp>
#include <tenantscan/builtin_rules.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "collect_command.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "schedule_option.hpp"

namespace tenantscan::cli {

namespace {

const std::vector<std::string> kFormats = {"text", "json", "sarif", "junit", "markdown", "html"};

struct ScanArguments {
    std::string snapshot;
    std::string format = "text";
    std::vector<std::string> outputs;
    std::string asOf;
    std::string failOn = "low";
    bool failOnGiven = false;
    bool failOnReview = false;
    std::string config;
    bool noConfig = false;
    std::vector<std::string> policies;
    std::vector<std::string> removePolicies;
    std::string schedule;
    std::string clients;
    bool timings = false;               // --timings: phase timings on standard error
    bool live = false;                  // collect the tenant now instead of reading SNAPSHOT
    std::string saveSnapshot;           // with --live: also write what was collected
    LiveCollectionArguments liveArgs;   // --tenant, --client-id, credentials, endpoints (collect_command.hpp)
};

struct OutputTarget {
    std::string format;
    std::string path;  // "" = standard output
};

bool is_format(const std::string& name) { return std::find(kFormats.begin(), kFormats.end(), name) != kFormats.end(); }

// --output FILE writes the --format report to FILE; --output FORMAT=FILE writes that format.
// Standard output gets the --format report unless a plain --output FILE takes it.
std::vector<OutputTarget> output_targets(const ScanArguments& args) {
    std::vector<OutputTarget> targets;
    bool plainFile = false;
    std::set<std::string> paths;
    for (const auto& value : args.outputs) {
        OutputTarget target{args.format, value};
        auto equals = value.find('=');
        if (equals != std::string::npos && is_format(value.substr(0, equals))) {
            target = {value.substr(0, equals), value.substr(equals + 1)};
            if (target.path.empty()) throw std::invalid_argument("--output " + value + ": missing the file after '='");
        } else {
            plainFile = true;
        }
        if (!paths.insert(target.path).second)
            throw std::invalid_argument("--output: " + target.path + " is named more than once");
        targets.push_back(target);
    }
    if (!plainFile) targets.push_back({args.format, ""});
    return targets;
}

// One finished report into its stream. Every writer writes as it goes (report.hpp): the output is never
// held whole, so several outputs of one scan cost no more memory than the findings they share.
void write_report(const std::string& format, const Report& report, bool colour, std::ostream& out) {
    if (format == "json") return write_report_json(report, out);
    if (format == "sarif") return write_report_sarif(report, out);
    if (format == "junit") return write_report_junit(report, out);
    if (format == "markdown") return write_report_markdown(report, out);
    if (format == "html") return write_report_html(report, out);
    write_report_text(report, colour, out);
}

// Completes the streamed report's header with what the CLI knows, then hands it to the writer.
class DescribedSink : public FindingSink {
public:
    DescribedSink(FindingSink& writer, std::function<void(Report&)> describe)
        : writer_(writer), describe_(std::move(describe)) {}
    void begin(const Report& header) override {
        Report described = header;
        describe_(described);
        writer_.begin(described);
    }
    void add(std::vector<Finding>& ruleFindings) override { writer_.add(ruleFindings); }

private:
    FindingSink& writer_;
    std::function<void(Report&)> describe_;
};

// A scan with several outputs: each rule's findings go to the JSON writer, if there is one, as the
// rule ends, and are then kept, once, for the other outputs. While the scan runs, a kept finding's
// evidence (most of its size) is held as MessagePack, far smaller than as a JSON value; it is decoded
// back after the scan, into the place the freed snapshot leaves (docs/performance.md). SARIF's line numbers
// are looked up at begin(), before any finding is held, so the snapshot's text (read again for them)
// is never in memory together with the findings.
class KeepingSink : public FindingSink {
public:
    KeepingSink(FindingSink* json, bool locate) : json_(json), locate_(locate) {}
    void begin(const Report& header) override {
        if (json_) json_->begin(header);
        if (locate_) {
            policySources_ = header.policySources;
            locate_lines(policySources_);
        }
    }
    void add(std::vector<Finding>& ruleFindings) override {
        if (json_) json_->add(ruleFindings);
        for (auto& finding : ruleFindings) {
            evidence_.push_back(nlohmann::json::to_msgpack(finding.evidence));
            evidence_.back().shrink_to_fit();
            finding.evidence = nlohmann::json();
            findings_.push_back(std::move(finding));
        }
    }
    // Completes the report that the streamed run_scan returned (it has no findings). Call it once the
    // snapshot is freed: the evidence decoded here takes the snapshot's place.
    void complete(Report& report) {
        for (std::size_t i = 0; i < findings_.size(); ++i) {
            findings_[i].evidence = nlohmann::json::from_msgpack(evidence_[i]);
            std::vector<std::uint8_t>().swap(evidence_[i]);
        }
        evidence_.clear();
        report.findings = std::move(findings_);
        if (locate_) report.policySources = std::move(policySources_);
    }

private:
    FindingSink* json_;
    bool locate_;
    std::vector<Finding> findings_;                 // without their evidence until complete()
    std::vector<std::vector<std::uint8_t>> evidence_;  // findings_[i]'s evidence, as MessagePack
    std::map<std::string, SourceLocation> policySources_;
};

// The configuration: --config FILE, else tenantscan.json beside the snapshot (unless --no-config).
std::optional<Config> read_config(const ScanArguments& args, const Registry& registry) {
    std::optional<std::string> path;
    if (!args.config.empty()) path = args.config;
    else if (!args.noConfig && !args.snapshot.empty()) path = default_config_path(args.snapshot);
    if (!path) return std::nullopt;
    return load_config(*path, registry);
}

// --live: the tenant as collected now from Graph and Exchange Online (kept with --save-snapshot).
// Without --save-snapshot the name "(live collection)" is not a file: the report says so
// (Report::snapshotIsFile), and SARIF then points at no file.
constexpr const char* kUnsavedLiveSnapshot = "(live collection)";
Snapshot live_snapshot(const ScanArguments& args) {
    collect::CollectResult result = collect_live(args.liveArgs);
    if (!args.saveSnapshot.empty()) collect::write_snapshot_file(result.snapshot, args.saveSnapshot);
    return decode_snapshot(result.snapshot, args.saveSnapshot.empty() ? kUnsavedLiveSnapshot : args.saveSnapshot);
}

// The process's peak resident set so far (VmHWM, MiB); 0 where /proc is not there.
double peak_rss_mib() {
    std::FILE* status = std::fopen("/proc/self/status", "r");
    if (!status) return 0;
    char line[256];
    double kib = 0;
    while (std::fgets(line, sizeof line, status))
        if (std::sscanf(line, "VmHWM: %lf kB", &kib) == 1) break;
    std::fclose(status);
    return kib / 1024.0;
}

// --timings (docs/performance.md): one "timing PHASE SECONDS" line a phase on standard error, then one
// "timing rule:ID SECONDS" line a rule, then "memory AFTER-PHASE PEAK-MIB" lines (the peak resident
// set so far). Read and parse are zero for --live (the collection is not timed).
void print_timings(const LoadTimings& load, const Report::Timings& scan, std::chrono::steady_clock::duration report,
                   std::chrono::steady_clock::duration total, const std::vector<std::pair<const char*, double>>& memory) {
    for (const auto& [phase, mib] : memory) std::fprintf(stderr, "memory %s %.1f\n", phase, mib);
    auto line = [](const std::string& phase, double seconds) { std::fprintf(stderr, "timing %s %.6f\n", phase.c_str(), seconds); };
    line("read", load.readSeconds);
    line("parse", load.parseSeconds);
    line("model", load.decodeSeconds);
    line("index", scan.indexSeconds);
    line("rules", scan.rulesSeconds);
    line("report", std::chrono::duration<double>(report).count());
    line("total", std::chrono::duration<double>(total).count());
    for (const auto& [rule, seconds] : scan.ruleSeconds) line("rule:" + rule, seconds);
}

int run_scan_command(const ScanArguments& args) {
    if (args.live == !args.snapshot.empty()) throw std::invalid_argument("give either a SNAPSHOT file or --live");
    const auto targets = output_targets(args);
    Registry registry;
    register_builtin_rules(registry);
    const auto config = read_config(args, registry);

    ScanOptions options;
    options.asOf = args.asOf.empty() ? today_utc() : args.asOf;
    if (config) {
        config->apply_rule_settings(options);
        options.failOn = config->failOn.value_or(options.failOn);
        options.failOnReview = config->failOnReview.value_or(false);
    }
    // Flags win over the configuration file.
    if (args.failOnGiven) options.failOn = *parse_severity(args.failOn);
    if (args.failOnReview) options.failOnReview = true;
    if (!args.schedule.empty()) options.schedule = args.schedule;
    if (!args.clients.empty()) options.smtpClients = std::make_shared<SmtpClientInventory>(load_smtp_clients(args.clients));

    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    LoadTimings load;
    Snapshot snapshot = args.live ? live_snapshot(args) : load_snapshot(args.snapshot, &load);
    std::vector<std::pair<const char*, double>> memory;
    if (args.timings) memory.emplace_back("load", peak_rss_mib());
    auto changes = apply_policy_overlay(snapshot, PolicyOverlay{args.policies, args.removePolicies});
    // What the scan itself does not know, set on the report (and on a streamed report's header).
    const auto describe = [&](Report& report) {
        report.configPath = config ? config->path : "";
        report.snapshotIsFile = !(args.live && args.saveSnapshot.empty());
        report.policyChanges = changes;
    };

    Report report;
    Clock::duration reportTime{};
    // The first JSON target is written as the scan runs, one rule's findings at a time (docs/performance.md);
    // its bytes are the same as report_to_json's. Alone, it is the only output and no finding is held.
    const auto json = std::find_if(targets.begin(), targets.end(), [](const OutputTarget& t) { return t.format == "json"; });
    const bool onlyJson = targets.size() == 1 && json != targets.end();
    const bool sarif = std::any_of(targets.begin(), targets.end(), [](const OutputTarget& t) { return t.format == "sarif"; });
    // The scan, with the streamed JSON report's writer when there is one (nullptr otherwise).
    const auto scan = [&](JsonReportWriter* writer) {
        std::optional<DescribedSink> described;
        if (writer) described.emplace(*writer, describe);
        KeepingSink keeping(writer ? &*described : nullptr, sarif);
        FindingSink& sink = onlyJson ? static_cast<FindingSink&>(*described) : keeping;
        report = run_scan(snapshot, registry, options, sink);
        reportTime = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(report.timings.sinkSeconds));
        if (!onlyJson) {
            const auto completeStart = Clock::now();
            snapshot = Snapshot{};  // the report needs nothing of it
            keeping.complete(report);
            reportTime += Clock::now() - completeStart;
        }
        describe(report);
        if (args.timings) memory.emplace_back("rules", peak_rss_mib());
    };
    // Then the other outputs, each written from the findings held once, one after the other.
    const auto writeOthers = [&] {
        const auto writeStart = Clock::now();
        for (auto target = targets.begin(); target != targets.end(); ++target)
            if (target != json)
                write_output_stream(target->path, [&](std::ostream& out) {
                    write_report(target->format, report, use_colour(!target->path.empty()), out);
                });
        reportTime += Clock::now() - writeStart;
    };
    if (json != targets.end()) {
        write_output_stream(json->path, [&](std::ostream& out) {
            JsonReportWriter writer(out);
            scan(&writer);
            const auto endStart = Clock::now();
            writer.end(report);
            reportTime += Clock::now() - endStart;
        });
    } else {
        scan(nullptr);
    }
    writeOthers();
    if (args.timings) {
        memory.emplace_back("report", peak_rss_mib());
        print_timings(load, report.timings, reportTime, Clock::now() - start, memory);
    }
    return report.summary.gatePassed ? kExitOk : kExitGateFailed;
}

}  // namespace

void add_scan_command(CLI::App& app, int& exitCode) {
    auto args = std::make_shared<ScanArguments>();
    auto* cmd = app.add_subcommand("scan", "Scan a tenant snapshot and report per account what will break");
    cmd->add_option("SNAPSHOT", args->snapshot, "Snapshot file (JSON, snapshot v1; UTF-8 or UTF-16); or --live");
    auto* live = cmd->add_flag("--live", args->live,
                               "Collect the tenant from Microsoft Graph and Exchange Online now and scan that "
                               "(needs --tenant, --client-id and a credential; docs/collect.md)");
    cmd->add_option("--save-snapshot", args->saveSnapshot, "With --live: also write the collected snapshot to FILE")
        ->needs(live);
    add_live_collection_options(*cmd, args->liveArgs);
    cmd->add_option("--format", args->format, "Report format on standard output (or in --output FILE)")
        ->check(CLI::IsMember(kFormats))
        ->capture_default_str();
    cmd->add_option("--output", args->outputs,
                    "Write the report to FILE instead of standard output; FORMAT=FILE (e.g. sarif=tenantscan.sarif) "
                    "writes another format as well. Repeatable")
        ->type_name("[FORMAT=]FILE")
        ->allow_extra_args(false);
    cmd->add_option("--as-of", args->asOf, "Evaluate as of DATE (YYYY-MM-DD; default: today, UTC)")
        ->check(date_validator());
    cmd->add_option("--fail-on", args->failOn,
                    "Fail the gate on a failing finding of this severity or worse (any error always fails it; "
                    "default: the configuration's gate.failOn, else low)")
        ->check(CLI::IsMember({"critical", "high", "medium", "low", "info"}))
        ->each([args](const std::string&) { args->failOnGiven = true; });
    cmd->add_flag("--fail-on-review", args->failOnReview,
                  "Fail the gate on review findings too (at or above the --fail-on severity)");
    cmd->add_option("--config", args->config,
                    "Configuration file (rules, parameters, gate, waivers; docs/config.md). Default: tenantscan.json "
                    "beside the snapshot, if present");
    cmd->add_flag("--no-config", args->noConfig, "Ignore tenantscan.json beside the snapshot");
    cmd->add_option("--policies", args->policies,
                    "Proposed Conditional Access policies (a Graph JSON file, or a directory of them) laid over the "
                    "snapshot's policies: same id replaces, same display name (without id) replaces, else added. "
                    "Repeatable")
        ->type_name("DIR_OR_FILE")
        ->allow_extra_args(false);
    cmd->add_option("--remove-policy", args->removePolicies, "Model deleting the policy with this id. Repeatable")
        ->type_name("ID")
        ->allow_extra_args(false);
    cmd->add_option("--schedule", args->schedule,
                    "Retirement schedule: a name (e.g. 2026-01, 2025-06) or custom dates YYYY-MM-DD[,YYYY-MM-DD]")
        ->check(schedule_validator());
    cmd->add_flag("--timings", args->timings,
                  "Print how long each phase took (read, parse, model, index, rules, report, and each rule) to "
                  "standard error");
    cmd->add_option("--clients", args->clients, "Device and application inventory (JSON or CSV) instead of the snapshot's smtpClients");
    cmd->callback([args, &exitCode] { exitCode = run_guarded([&] { return run_scan_command(*args); }); });
}

}  // namespace tenantscan::cli
