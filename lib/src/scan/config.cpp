#include <tenantscan/config.hpp>

#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/schedule.hpp>
#include <tenantscan/detail/dates.hpp>

#include "loader/text_detail.hpp"

namespace tenantscan {

namespace {

using nlohmann::json;

// A value of the configuration document with its JSON pointer. Unlike snapshot input, the
// configuration is ours: keys are exact and unknown keys are errors, so a typo never silently
// turns a setting off.
class Node {
public:
    Node(const json& value, const std::string& file, std::string pointer)
        : value_(&value), file_(&file), pointer_(std::move(pointer)) {}

    const json& value() const { return *value_; }
    const std::string& pointer() const { return pointer_; }
    [[noreturn]] void fail(const std::string& message) const { throw InputError(*file_, pointer_, message); }

    Node child(std::string_view key) const { return Node((*value_)[std::string(key)], *file_, pointer_ + "/" + text_detail::escape_pointer_token(key)); }
    Node element(std::size_t index) const { return Node((*value_)[index], *file_, pointer_ + "/" + std::to_string(index)); }

    void require_object(const char* what) const {
        if (!value_->is_object()) fail(fmt::format("expected {}, got {}", what, describe_json_type(*value_)));
    }
    void require_array(const char* what) const {
        if (!value_->is_array()) fail(fmt::format("expected {}, got {}", what, describe_json_type(*value_)));
    }
    void allow_keys(std::initializer_list<std::string_view> keys) const {
        for (const auto& member : value_->items()) {
            bool known = false;
            for (auto key : keys) known = known || member.key() == key;
            if (!known)
                child(member.key()).fail(fmt::format("unknown setting \"{}\" (expected one of: {})", member.key(),
                                                     fmt::join(keys, ", ")));
        }
    }
    bool has(std::string_view key) const { return value_->contains(std::string(key)); }

    std::string string() const {
        if (!value_->is_string()) fail("expected a string, got " + describe_json_type(*value_));
        return value_->get<std::string>();
    }
    std::string non_empty_string() const {
        std::string text = string();
        if (text.find_first_not_of(" \t\r\n") == std::string::npos) fail("must not be empty");
        return text;
    }
    bool boolean() const {
        if (!value_->is_boolean()) fail("expected true or false, got " + describe_json_type(*value_));
        return value_->get<bool>();
    }
    Severity severity() const {
        std::string text = string();
        auto parsed = parse_severity(text);
        if (!parsed) fail(fmt::format("unknown severity \"{}\" (expected critical, high, medium, low or info)", text));
        return *parsed;
    }
    std::string date() const {
        std::string text = string();
        if (!is_valid_date(text)) fail(fmt::format("expected a date YYYY-MM-DD, got \"{}\"", text));
        return text;
    }

private:
    const json* value_;
    const std::string* file_;
    std::string pointer_;
};

bool same_json_kind(const json& a, const json& b) {
    if (a.is_number() && b.is_number()) return true;
    return a.type() == b.type();
}

void decode_rule(const Node& node, const Rule& rule, Config& config) {
    node.require_object("an object with enabled, severity and parameters");
    node.allow_keys({"enabled", "severity", "parameters"});
    const RuleMetadata& metadata = rule.metadata();
    if (node.has("enabled") && !node.child("enabled").boolean()) config.disabledRules.insert(metadata.id);
    if (node.has("severity")) config.severityOverrides[metadata.id] = node.child("severity").severity();
    if (!node.has("parameters")) return;
    const Node parameters = node.child("parameters");
    parameters.require_object("an object of parameter names and values");
    for (const auto& member : parameters.value().items()) {
        const Node value = parameters.child(member.key());
        const RuleParameter* declared = nullptr;
        for (const auto& p : metadata.parameters)
            if (p.name == member.key()) declared = &p;
        if (!declared) {
            std::vector<std::string> names;
            for (const auto& p : metadata.parameters) names.push_back(p.name);
            value.fail(names.empty() ? fmt::format("rule {} has no parameters", metadata.id)
                                     : fmt::format("unknown parameter \"{}\" of rule {} (it has: {})", member.key(),
                                                   metadata.id, fmt::join(names, ", ")));
        }
        if (!declared->defaultValue.is_null() && !same_json_kind(declared->defaultValue, value.value()))
            value.fail(fmt::format("expected {} like the default {}, got {}", describe_json_type(declared->defaultValue),
                                   declared->defaultValue.dump(), describe_json_type(value.value())));
        config.parameters[metadata.id + "." + member.key()] = value.value();
    }
}

const Rule& known_rule(const Node& node, const std::string& id, const Registry& registry) {
    const Rule* rule = registry.find(id);
    if (!rule) node.fail(fmt::format("unknown rule id \"{}\" (see `tenantscan rules`)", id));
    return *rule;
}

Waiver decode_waiver(const Node& node, const std::string& file, const Registry& registry) {
    node.require_object("a waiver object with rule, subject, reason and expires");
    node.allow_keys({"rule", "subject", "reason", "expires", "approvedBy"});
    for (const char* required : {"rule", "subject", "reason", "expires"})
        if (!node.has(required)) node.child(required).fail(fmt::format("a waiver needs \"{}\"", required));
    Waiver w;
    const Node rule = node.child("rule");
    w.rule = rule.non_empty_string();
    known_rule(rule, w.rule, registry);
    w.subject = node.child("subject").non_empty_string();
    w.reason = node.child("reason").non_empty_string();
    w.expires = node.child("expires").date();
    if (node.has("approvedBy")) w.approvedBy = node.child("approvedBy").string();
    w.origin = file + ": " + node.pointer();
    return w;
}

}  // namespace

Config decode_config(const json& document, const std::string& file, const Registry& registry) {
    const Node root(document, file, "");
    root.require_object("a tenantscan configuration object");
    root.allow_keys({"$schema", "configVersion", "rules", "gate", "schedule", "waivers"});
    Config config;
    config.path = file;
    if (root.has("configVersion") && root.child("configVersion").value() != 1)
        root.child("configVersion").fail("unsupported configuration version (this tenantscan reads version 1)");

    if (root.has("rules")) {
        const Node rules = root.child("rules");
        rules.require_object("an object keyed by rule id");
        for (const auto& member : rules.value().items()) {
            const Node node = rules.child(member.key());
            decode_rule(node, known_rule(node, member.key(), registry), config);
        }
    }
    if (root.has("gate")) {
        const Node gate = root.child("gate");
        gate.require_object("an object with failOn and failOnReview");
        gate.allow_keys({"failOn", "failOnReview"});
        if (gate.has("failOn")) config.failOn = gate.child("failOn").severity();
        if (gate.has("failOnReview")) config.failOnReview = gate.child("failOnReview").boolean();
    }
    if (root.has("schedule")) {
        const Node schedule = root.child("schedule");
        config.schedule = schedule.non_empty_string();
        try {
            resolve_schedule(*config.schedule);
        } catch (const std::invalid_argument& e) {
            schedule.fail(e.what());
        }
    }
    if (root.has("waivers")) {
        const Node waivers = root.child("waivers");
        waivers.require_array("an array of waivers");
        for (std::size_t i = 0; i < waivers.value().size(); ++i)
            config.waivers.push_back(decode_waiver(waivers.element(i), file, registry));
    }
    return config;
}

Config load_config(const std::string& path, const Registry& registry) {
    return decode_config(read_json_file(path), path, registry);
}

void Config::apply_rule_settings(ScanOptions& options) const {
    options.disabledRules.insert(disabledRules.begin(), disabledRules.end());
    for (const auto& [rule, severity] : severityOverrides) options.severityOverrides[rule] = severity;
    for (const auto& [name, value] : parameters) options.parameters[name] = value;
    options.waivers.insert(options.waivers.end(), waivers.begin(), waivers.end());
    if (schedule) options.schedule = *schedule;
}

std::optional<std::string> default_config_path(const std::string& snapshotPath) {
    namespace fs = std::filesystem;
    const fs::path candidate = fs::path(snapshotPath).parent_path() / kDefaultConfigFileName;
    std::error_code error;
    if (fs::is_regular_file(candidate, error)) return candidate.string();
    return std::nullopt;
}

}  // namespace tenantscan
