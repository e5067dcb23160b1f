#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/detail/text.hpp>
#include <tenantscan/detail/ip.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "output.hpp"

namespace tenantscan::cli {

namespace {

struct WhatIfArguments {
    std::string snapshot;
    std::string user;
    std::string app = "ExchangeOnline";
    std::string clientApp = "other";
    std::string platform = "unknown";
    std::string ip;
    std::string country;
    std::string signInRisk = "none";
    std::string userRisk = "none";
    std::string format = "text";
};

const char* state_name(PolicyState s) {
    switch (s) {
        case PolicyState::Enabled: return "enabled";
        case PolicyState::Disabled: return "disabled";
        case PolicyState::ReportOnly: return "report-only";
    }
    return "";
}


std::string outcome_sentence(const WhatIfResult& r) {
    if (r.blockedBySecurityDefaults)
        return "BLOCKED by security defaults (they block every legacy-protocol sign-in; Conditional Access does not decide)";
    switch (r.outcome) {
        case AccessOutcome::Blocked: {
            std::vector<std::string> names;
            for (const auto* p : r.blocking_enforced())
                names.push_back(fmt::format("'{}' ({})", p->policy->displayName, fmt::join(p->blockingControls, ", ")));
            return "BLOCKED by " + fmt::to_string(fmt::join(names, "; "));
        }
        case AccessOutcome::Undetermined:
            return "UNDETERMINED: depends on " + fmt::to_string(fmt::join(r.undeterminedBy, ", "));
        case AccessOutcome::Allowed:
            return "ALLOWED: no enforced policy blocks this sign-in";
    }
    return "";
}

nlohmann::json result_json(const WhatIfResult& r) {
    nlohmann::json policies = nlohmann::json::array();
    for (const auto& p : r.policies)
        policies.push_back({{"id", p.policy->id},
                            {"displayName", p.policy->displayName},
                            {"state", state_name(p.policy->state)},
                            {"result", to_string(p.applicability)},
                            {"analysisReasons", p.analysisReasons},
                            {"details", p.details},
                            {"unknowns", p.unknowns},
                            {"blockingControls", p.blockingControls}});
    const auto& c = r.context;
    return {{"signIn",
             {{"user", c.userId},
              {"application", c.resourceApp},
              {"clientAppType", c.clientAppType},
              {"platform", c.platform},
              {"ipAddress", c.ipAddress ? nlohmann::json(*c.ipAddress) : nlohmann::json()},
              {"country", c.country ? nlohmann::json(*c.country) : nlohmann::json()},
              {"signInRisk", c.signInRisk},
              {"userRisk", c.userRisk}}},
            {"securityDefaultsBlock", r.blockedBySecurityDefaults},
            {"outcome", to_string(r.outcome)},
            {"reportOnlyOutcome", to_string(r.reportOnlyOutcome)},
            {"undeterminedBy", r.undeterminedBy},
            {"assumptions", r.assumptions},
            {"explanation", outcome_sentence(r)},
            {"policies", policies}};
}

std::string result_text(const WhatIfResult& r, const Directory& directory, bool colour) {
    auto bold = [&](const std::string& s) { return colour ? "\x1b[1m" + s + "\x1b[0m" : s; };
    const auto& c = r.context;
    std::string userName = c.userId;
    if (r.user) userName = directory.user(*r.user).userPrincipalName + " (" + directory.user(*r.user).id + ")";
    std::string out = bold("What if") + fmt::format(
        ": {} signs in to {} with client app '{}', platform {}, IP {}, country {}\n", userName, c.resourceApp,
        c.clientAppType, c.platform, c.ipAddress.value_or("unknown"), c.country.value_or("unknown"));
    if (!r.assumptions.empty()) {
        out += "Assumptions:\n";
        for (const auto& a : r.assumptions) out += "  - " + a + "\n";
    }
    out += "\n" + bold(fmt::format("{:<44} {:<12} {:<15} {:<28} {}", "POLICY", "STATE", "RESULT", "REASONS",
                                   "BLOCKING CONTROLS")) + "\n";
    for (const auto& p : r.policies) {
        std::string name = p.policy->displayName.empty() ? p.policy->id : p.policy->displayName;
        if (name.size() > 43) name = name.substr(0, 42) + "…";
        out += fmt::format("{:<44} {:<12} {:<15} {:<28} {}\n", name, state_name(p.policy->state),
                           to_string(p.applicability), fmt::join(p.analysisReasons, ", "),
                           p.applicability == Applicability::DoesNotApply ? "" : fmt::to_string(fmt::join(p.blockingControls, ", ")));
        for (const auto& d : p.details) out += "    " + d + "\n";
    }
    out += "\n" + bold("Outcome: ") + outcome_sentence(r) + "\n";
    auto reportOnly = r.blocking_report_only();
    if (!reportOnly.empty()) {
        std::vector<std::string> names;
        for (const auto* p : reportOnly) names.push_back(fmt::format("'{}' ({})", p->policy->displayName, to_string(p->applicability)));
        out += "Report-only policies that would block once enforced: " + fmt::to_string(fmt::join(names, "; ")) + "\n";
    }
    return out;
}

std::string resolve_app(const std::string& app) {
    if (iequals(app, "ExchangeOnline") || iequals(app, "Exchange")) return kExchangeOnlineAppId;
    if (iequals(app, "Office365")) return "Office365";
    return app;
}

int run_whatif(const WhatIfArguments& args) {
    Snapshot snapshot = load_snapshot(args.snapshot);
    if (!snapshot.conditionalAccessPolicies)
        throw InputError(args.snapshot, "/graph/conditionalAccessPolicies",
                         "section not collected: the what-if needs the Conditional Access policies");
    Directory directory(snapshot);
    if (snapshot.users && !directory.find_user(args.user))
        throw InputError(args.snapshot, "/graph/users", "no user with id or userPrincipalName '" + args.user + "'");
    ConditionalAccessEngine engine(snapshot, directory);

    SignInContext context;
    context.userId = args.user;
    context.resourceApp = resolve_app(args.app);
    context.clientAppType = args.clientApp;
    context.platform = args.platform;
    if (!args.ip.empty()) {
        if (!parse_ip_address(args.ip)) throw std::invalid_argument("--ip: not an IPv4 or IPv6 address: " + args.ip);
        context.ipAddress = args.ip;
    }
    if (!args.country.empty()) {
        context.country = to_upper(args.country);
    }
    context.signInRisk = args.signInRisk;
    context.userRisk = args.userRisk;

    WhatIfResult result = engine.evaluate(context);
    if (args.format == "json")
        write_output(result_json(result).dump(2) + "\n", "");
    else
        write_output(result_text(result, directory, use_colour(false)), "");
    return kExitOk;
}

}  // namespace

void add_whatif_command(CLI::App& app, int& exitCode) {
    auto args = std::make_shared<WhatIfArguments>();
    auto* cmd = app.add_subcommand("whatif", "Explain how Conditional Access treats one sign-in, policy by policy");
    cmd->add_option("SNAPSHOT", args->snapshot, "Snapshot file")->required();
    cmd->add_option("--user", args->user, "User principal name or object id")->required();
    cmd->add_option("--app", args->app, "Resource: an app id, Office365, or ExchangeOnline")->capture_default_str();
    cmd->add_option("--client-app", args->clientApp, "Client app type")
        ->check(CLI::IsMember({"browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other"}))
        ->capture_default_str();
    cmd->add_option("--platform", args->platform, "Device platform")
        ->check(CLI::IsMember({"android", "iOS", "windows", "windowsPhone", "macOS", "linux", "unknown"}))
        ->capture_default_str();
    cmd->add_option("--ip", args->ip, "Client public IP address (default: unknown)");
    cmd->add_option("--country", args->country, "Two-letter country code of the IP (default: unknown)");
    cmd->add_option("--sign-in-risk", args->signInRisk, "Sign-in risk level")
        ->check(CLI::IsMember({"none", "low", "medium", "high"}))
        ->capture_default_str();
    cmd->add_option("--user-risk", args->userRisk, "User risk level")
        ->check(CLI::IsMember({"none", "low", "medium", "high"}))
        ->capture_default_str();
    cmd->add_option("--format", args->format, "Output format")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    cmd->callback([args, &exitCode] { exitCode = run_guarded([&] { return run_whatif(*args); }); });
}

}  // namespace tenantscan::cli
