#include <tenantscan/rule.hpp>

#include <tenantscan/model.hpp>

#include <iterator>
#include <stdexcept>

#include <fmt/format.h>
#include <tenantscan/model.hpp>

namespace tenantscan {

namespace {
constexpr const char* kStatusNames[] = {"pass", "fail", "review", "not-applicable", "error", "waived"};
constexpr const char* kSeverityNames[] = {"critical", "high", "medium", "low", "info"};

// Rule ids are kebab-case with a module prefix: "hve-conditional-access".
bool is_valid_rule_id(std::string_view id) {
    if (id.empty() || id.front() == '-' || id.back() == '-' || id.find('-') == std::string_view::npos) return false;
    char previous = 0;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (c == '-' && previous == '-')) return false;
        previous = c;
    }
    return true;
}
}  // namespace

const char* to_string(Status s) { return kStatusNames[static_cast<int>(s)]; }
const char* to_string(Severity s) { return kSeverityNames[static_cast<int>(s)]; }

const char* to_string(Related::Kind kind) {
    constexpr const char* kNames[] = {"conditionalAccessPolicy", "authenticationPolicy", "group", "account",
                                      "device", "endpoint", "setting"};
    return kNames[static_cast<int>(kind)];
}

const char* to_string(Related::Role role) {
    constexpr const char* kNames[] = {"blocks", "wouldBlock", "mayBlock", "excludes", "assigned",
                                      "sender", "signsInAs", "migrateTo", "names"};
    return kNames[static_cast<int>(role)];
}

std::optional<Status> parse_status(std::string_view text) {
    for (int i = 0; i < static_cast<int>(std::size(kStatusNames)); ++i)
        if (text == kStatusNames[i]) return static_cast<Status>(i);
    return std::nullopt;
}

std::optional<Severity> parse_severity(std::string_view text) {
    for (int i = 0; i < static_cast<int>(std::size(kSeverityNames)); ++i)
        if (text == kSeverityNames[i]) return static_cast<Severity>(i);
    return std::nullopt;
}

nlohmann::json RuleContext::parameter(const std::string& ruleId, const RuleMetadata& metadata,
                                      const std::string& name) const {
    auto it = options_->parameters.find(ruleId + "." + name);
    if (it != options_->parameters.end()) return it->second;
    for (const auto& p : metadata.parameters)
        if (p.name == name) return p.defaultValue;
    throw std::invalid_argument(fmt::format("rule {} has no parameter '{}'", ruleId, name));
}

Subject tenant_subject(const Snapshot& snapshot) {
    return {"tenant", snapshot.tenantId, snapshot.tenantId.empty() ? "(tenant id not in snapshot)" : snapshot.tenantId};
}

Finding Rule::finding(Status status, Subject subject, std::string message) const {
    Finding f;
    f.rule = metadata().id;
    f.status = status;
    f.severity = metadata().defaultSeverity;
    f.subject = std::move(subject);
    f.message = std::move(message);
    return f;
}

void Registry::add(std::unique_ptr<Rule> rule) {
    if (!rule) throw std::invalid_argument("cannot register a null rule");
    const auto& id = rule->metadata().id;
    if (!is_valid_rule_id(id))
        throw std::invalid_argument(fmt::format("invalid rule id '{}': use kebab-case with a module prefix", id));
    if (rules_.count(id)) throw std::invalid_argument(fmt::format("rule '{}' is already registered", id));
    // A misspelt section would make the rule report "section missing" on every snapshot.
    for (const auto& section : rule->metadata().requiredSections)
        if (!Snapshot::is_section(section))
            throw std::invalid_argument(fmt::format(
                "rule '{}' requires '{}', which is not a snapshot section (expected a pointer such as /graph/users; "
                "docs/snapshot-format.md)",
                id, section));
    std::string key = id;
    rules_.emplace(std::move(key), std::move(rule));
}

const Rule* Registry::find(std::string_view id) const {
    auto it = rules_.find(id);
    return it == rules_.end() ? nullptr : it->second.get();
}

std::vector<const Rule*> Registry::rules() const {
    std::vector<const Rule*> out;
    out.reserve(rules_.size());
    for (const auto& [id, rule] : rules_) out.push_back(rule.get());
    return out;
}

}  // namespace tenantscan
