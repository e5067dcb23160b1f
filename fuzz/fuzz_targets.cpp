#include "fuzz_targets.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <tenantscan/conditional_access.hpp>
#include <tenantscan/detail/device_filter.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/detail/ip.hpp>
#include <tenantscan/report.hpp>
#include <tenantscan/builtin_rules.hpp>

namespace tenantscan::fuzz {

namespace {

void require(bool holds, const std::string& what) {
    if (!holds) throw ContractViolation(what);
}

// The library's promise for bad input: an InputError whose message starts with the file name.
Verdict rejected(const InputError& error, const std::string& name) {
    require(std::string(error.what()).rfind(name + ": ", 0) == 0,
            std::string("InputError does not start with the file name: ") + error.what());
    require(error.file() == name, "InputError::file() is not the input's name: " + error.file());
    return Verdict::Rejected;
}

const Registry& builtin_registry() {
    static const Registry registry = [] {
        Registry r;
        register_builtin_rules(r);
        return r;
    }();
    return registry;
}

// A few sign-ins that reach every condition the engine reads: both address families, a country,
// platforms, modern and legacy clients, Office 365 as the resource.
std::vector<SignInContext> sign_ins(const std::string& userId) {
    std::vector<SignInContext> contexts(5);
    for (auto& context : contexts) context.userId = userId;
    contexts[1].ipAddress = "192.0.2.10";
    contexts[1].country = "US";
    contexts[2].ipAddress = "2001:db8::1";
    contexts[2].platform = "windows";
    contexts[2].clientAppType = "browser";
    contexts[3].ipAddress = "::ffff:10.1.2.3";
    contexts[3].country = "NL";
    contexts[3].resourceApp = "Office365";
    contexts[3].platform = "iOS";
    contexts[3].clientAppType = "mobileAppsAndDesktopClients";
    contexts[3].signInRisk = "high";
    contexts[4].clientAppType = "exchangeActiveSync";
    contexts[4].platform = "android";
    contexts[4].authenticationFlow = "deviceCodeFlow";
    return contexts;
}

}  // namespace

Verdict snapshot_target(std::string_view bytes, const std::string& name) {
    Snapshot snapshot;
    try {
        snapshot = load_snapshot_from_memory(std::string(bytes), name);
    } catch (const InputError& error) {
        return rejected(error, name);
    }
    ScanOptions options;
    options.asOf = "2026-11-27";
    Report report = run_scan(snapshot, builtin_registry(), options);
    require(!report.findings.empty(), "a scan of a loaded snapshot gave no findings");
    // Report strings come from the input: both writers must take whatever the loader accepted.
    std::string json = report_to_json(report).dump(2);
    std::string text = report_to_text(report, false);
    require(!json.empty() && !text.empty(), "an empty report");
    return Verdict::Accepted;
}

Verdict device_filter_target(std::string_view bytes) {
    const std::string text(bytes);
    std::optional<DeviceFilterRule> rule;
    try {
        rule = DeviceFilterRule::parse(text);
    } catch (const DeviceFilterSyntaxError& error) {
        require(error.position() <= text.size(), "syntax error position " + std::to_string(error.position()) +
                                                     " beyond the rule's " + std::to_string(text.size()) + " characters");
        return Verdict::Rejected;
    }
    // The normalised form is shown as evidence: it must be a rule that means the same.
    const std::string printed = rule->to_string();
    std::optional<DeviceFilterRule> again;
    try {
        again = DeviceFilterRule::parse(printed);
    } catch (const DeviceFilterSyntaxError& error) {
        throw ContractViolation("to_string() gave a rule that does not parse: " + printed + " (" + error.what() + ")");
    }
    require(again->to_string() == printed, "to_string() is not stable: " + printed + " → " + again->to_string());
    require(rule->matches_unregistered_device() == again->matches_unregistered_device(),
            "the re-parsed rule judges an unregistered device differently: " + printed);
    // Short values, as devices have: regular expressions run against these.
    const std::map<std::string, std::optional<std::string>> device = {
        {"trusttype", "ServerAD"},        {"iscompliant", "True"},       {"operatingsystem", "Windows"},
        {"deviceid", "6d1c1f3a-0c3e-4c3b-9f6e-0a1b2c3d4e5f"},          {"displayname", "MFP-Floor2"},
        {"extensionattribute1", "printer"}, {"model", std::nullopt}};
    require(rule->matches(device) == again->matches(device),
            "the re-parsed rule judges a registered device differently: " + printed);
    return Verdict::Accepted;
}

Verdict ca_decoders_target(std::string_view bytes, const std::string& name) {
    nlohmann::json document;
    try {
        document = parse_json_text(std::string(bytes), name);
    } catch (const InputError& error) {
        return rejected(error, name);
    }
    const JsonView root(document, name, "");
    Snapshot snapshot;
    snapshot.sourcePath = name;
    // The same document is read both ways: a list of policies and a list of named locations.
    try {
        snapshot.conditionalAccessPolicies = decode_policies(root);
    } catch (const InputError& error) {
        rejected(error, name);
        snapshot.conditionalAccessPolicies.emplace();
    }
    try {
        snapshot.namedLocations = decode_named_locations(root);
    } catch (const InputError& error) {
        rejected(error, name);
        snapshot.namedLocations.emplace();
    }
    if (snapshot.conditionalAccessPolicies->empty()) return Verdict::Rejected;
    // Templates and fragments decode as disabled, which the engine skips: enforce them all so
    // that every condition is evaluated.
    for (auto& policy : *snapshot.conditionalAccessPolicies) policy.state = PolicyState::Enabled;
    User user;
    user.id = "11111111-2222-3333-4444-555555555555";
    user.userPrincipalName = "mfp@contoso.com";
    user.userType = "Member";
    snapshot.users = std::vector<User>{user};
    snapshot.groups.emplace();
    snapshot.securityDefaults = SecurityDefaults{false};
    const Directory directory(snapshot);
    const ConditionalAccessEngine engine(snapshot, directory);
    for (const SignInContext& context : sign_ins(user.id)) {
        WhatIfResult result = engine.evaluate(context);
        require(result.policies.size() == snapshot.conditionalAccessPolicies->size(),
                "the engine did not evaluate every policy");
        UserDecision decision = engine.decide(engine.prepare(context), 0);
        require(decision.outcome == result.outcome, std::string("decide() says ") + to_string(decision.outcome) +
                                                        ", evaluate() says " + to_string(result.outcome));
    }
    return Verdict::Accepted;
}

Verdict cidr_target(std::string_view bytes) {
    const std::string text(bytes);
    std::optional<IpRange> range = parse_cidr(text);
    std::optional<IpAddress> address = parse_ip_address(text);
    if (address) {
        // A bare address is a single-host range holding exactly that address.
        require(range.has_value(), "an address that parses is not a range: " + text);
        require(range->prefixLength == 128, "a bare address is not a single-host range: " + text);
        require(range_contains(*range, *address), "a single-host range does not contain its address: " + text);
    }
    if (range) {
        const std::string::size_type slash = text.find('/');
        std::optional<IpAddress> base = parse_ip_address(text.substr(0, slash));
        require(base.has_value(), "a range whose address does not parse on its own: " + text);
        require(base->address == range->address, "a range's address differs from its address part: " + text);
        require(range->prefixLength >= 0 && range->prefixLength <= 128, "prefix out of range: " + text);
    }
    return range ? Verdict::Accepted : Verdict::Rejected;
}

}  // namespace tenantscan::fuzz
