#include "support/policy_evidence.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

namespace tenantscan::rules {

namespace {

void add_unique(std::vector<std::string>& into, const std::vector<std::string>& values) {
    for (const auto& v : values)
        if (std::find(into.begin(), into.end(), v) == into.end()) into.push_back(v);
}

}  // namespace

std::string quoted_name(const ConditionalAccessPolicy& policy) {
    return fmt::format("'{}'", policy.displayName.empty() ? policy.id : policy.displayName);
}

bool is_microsoft_managed(const ConditionalAccessPolicy& policy) {
    static constexpr std::string_view kPrefix = "Microsoft-managed:";
    return policy.displayName.size() >= kPrefix.size() &&
           iequals(std::string_view(policy.displayName).substr(0, kPrefix.size()), kPrefix);
}

std::string inconsistent_security_defaults(const Snapshot& snapshot) {
    if (!snapshot.securityDefaults || !snapshot.securityDefaults->isEnabled || !snapshot.conditionalAccessPolicies)
        return {};
    std::vector<std::string> enabled;
    for (const auto& policy : *snapshot.conditionalAccessPolicies)
        if (policy.state == PolicyState::Enabled) enabled.push_back(fmt::format("{} (id {})", quoted_name(policy), policy.id));
    if (enabled.empty()) return {};
    return fmt::format(
        "The snapshot is inconsistent: /graph/securityDefaults says security defaults are enabled, while {} "
        "Conditional Access polic{} enabled ({}). Entra does not allow both, so one of the two sections is out of "
        "date or was edited, and tenantscan does not guess which.",
        enabled.size(), enabled.size() == 1 ? "y is" : "ies are", join_words(enabled));
}

std::string inconsistent_security_defaults_remediation() {
    return "Check in the Entra admin center which one is true (Identity > Overview > Properties > Manage security "
           "defaults; Protection > Conditional Access > Policies), export /graph/securityDefaults and "
           "/graph/conditionalAccessPolicies again at the same time (tenantscan collect reads both in one run), and "
           "scan again.";
}

std::string location_label(const SignInContext& context) {
    const bool hasIp = context.ipAddress && !context.ipAddress->empty();
    const bool hasCountry = context.country && !context.country->empty();
    if (hasIp && hasCountry) return fmt::format("{} ({})", *context.ipAddress, *context.country);
    if (hasIp) return *context.ipAddress;
    if (hasCountry) return "country " + *context.country;
    return "unknown location";
}

void PolicyList::add(const PolicyEvaluation& evaluation, const std::string& location) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.evaluation->policy == evaluation.policy; });
    if (it == entries_.end()) it = entries_.insert(entries_.end(), Entry{&evaluation, {}, {}, {}});
    add_unique(it->details, evaluation.details);
    add_unique(it->unknowns, evaluation.unknowns);
    add_unique(it->locations, {location});
}

std::vector<const ConditionalAccessPolicy*> PolicyList::policies() const {
    std::vector<const ConditionalAccessPolicy*> out;
    for (const auto& e : entries_) out.push_back(e.evaluation->policy);
    return out;
}

std::vector<std::string> PolicyList::unknowns() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) add_unique(out, e.unknowns);
    std::sort(out.begin(), out.end());
    return out;
}

nlohmann::json PolicyList::to_json() const {
    auto out = nlohmann::json::array();
    for (const auto& e : entries_) {
        const auto& policy = *e.evaluation->policy;
        nlohmann::json item = {{"id", policy.id},
                               {"displayName", policy.displayName},
                               {"state", graph_state_name(policy.state)},
                               {"controls", e.evaluation->blockingControls},
                               {"reasons", e.evaluation->analysisReasons},
                               {"details", e.details},
                               {"locations", e.locations}};
        if (!e.unknowns.empty()) item["unknowns"] = e.unknowns;
        if (is_microsoft_managed(policy)) item["microsoftManaged"] = true;
        out.push_back(std::move(item));
    }
    return out;
}

std::vector<Related> PolicyList::related(Related::Role role) const {
    std::vector<Related> out;
    for (const auto& e : entries_) {
        Related r = related_policy(*e.evaluation->policy, role);
        r.controls = e.evaluation->blockingControls;
        r.dependsOn = e.unknowns;
        out.push_back(std::move(r));
    }
    return out;
}

Related related_policy(const ConditionalAccessPolicy& policy, Related::Role role) {
    Related r;
    r.kind = Related::Kind::ConditionalAccessPolicy;
    r.id = policy.id;
    r.name = policy.displayName;
    r.role = role;
    r.state = graph_state_name(policy.state);
    return r;
}

void append(std::vector<Related>& related, std::vector<Related> more) {
    related.insert(related.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

std::string PolicyList::describe() const {
    std::vector<std::string> parts;
    for (const auto& e : entries_)
        parts.push_back(fmt::format("{} ({})", quoted_name(*e.evaluation->policy),
                                    fmt::join(e.evaluation->blockingControls, ", ")));
    return fmt::format("{}", fmt::join(parts, ", "));
}

std::string PolicyList::describe_with_ids() const {
    std::vector<std::string> parts;
    for (const auto& e : entries_)
        parts.push_back(fmt::format("{} (id {})", quoted_name(*e.evaluation->policy), e.evaluation->policy->id));
    return join_words(parts);
}

std::string join_words(const std::vector<std::string>& words) {
    if (words.empty()) return {};
    if (words.size() == 1) return words.front();
    std::string out;
    for (std::size_t i = 0; i + 1 < words.size(); ++i) out += (i ? ", " : "") + words[i];
    return out + " and " + words.back();
}

}  // namespace tenantscan::rules
