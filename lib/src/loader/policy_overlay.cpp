#include <tenantscan/policy_overlay.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/detail/text.hpp>

namespace tenantscan {

namespace {

namespace fs = std::filesystem;

bool is_json_file(const fs::path& path) { return iequals(path.extension().string(), ".json"); }

bool is_hidden(const fs::path& relative) {
    for (const auto& part : relative) {
        const std::string name = part.string();
        if (name.size() > 1 && name[0] == '.' && name != "..") return true;
    }
    return false;
}

// The policy files named by the overlay paths: files as given, directories searched recursively
// for *.json in sorted order. A file named twice is read once.
std::vector<std::string> policy_files(const std::vector<std::string>& paths) {
    std::vector<std::string> files;
    std::set<fs::path> seen;
    auto add = [&](const fs::path& file) {
        std::error_code ignored;
        fs::path key = fs::weakly_canonical(file, ignored);
        if (seen.insert(key.empty() ? file : key).second) files.push_back(file.string());
    };
    for (const auto& path : paths) {
        std::error_code error;
        auto status = fs::status(path, error);
        if (error || !fs::exists(status)) throw InputError(path, "", "no such file or directory");
        if (!fs::is_directory(status)) {
            add(path);
            continue;
        }
        std::vector<fs::path> found;
        for (auto it = fs::recursive_directory_iterator(path, error); !error && it != fs::recursive_directory_iterator();
             it.increment(error)) {
            const fs::path relative = it->path().lexically_relative(path);
            if (is_hidden(relative)) {
                if (it->is_directory()) it.disable_recursion_pending();
                continue;
            }
            if (it->is_regular_file() && is_json_file(it->path())) found.push_back(it->path());
        }
        if (error) throw InputError(path, "", "cannot read the directory: " + error.message());
        if (found.empty()) throw InputError(path, "", "no policy files (*.json) in the directory");
        std::sort(found.begin(), found.end());
        for (const auto& file : found) add(file);
    }
    return files;
}

// Rejects what is not a Conditional Access policy before it can be mistaken for one: an object
// without conditions would apply to every sign-in.
void require_policy_shape(const JsonView& element) {
    if (!element.is_object()) element.fail("expected a Conditional Access policy object, got " + describe_json_type(element.value()));
    const auto type = element.value().find("@odata.type");
    if (type != element.value().end() && type->is_string() &&
        !iequals(type->get<std::string>(), "#microsoft.graph.conditionalAccessPolicy"))
        element.fail("expected a Conditional Access policy, got a " + type->get<std::string>());
    if ((element.has("details") || element.get("details").is_object()) && !element.has("conditions"))
        element.fail("this is a Conditional Access template, not a policy: propose the policy itself "
                     "(displayName, state, conditions, grantControls)");
    if (!element.has("state"))
        element.get("state").fail("missing policy state (enabled, disabled or enabledForReportingButNotEnforced)");
    // An object of nulls is no more a condition set than an absent one (docs/snapshot-format.md, "Unset values").
    if (!element.has("conditions") || !element.get("conditions").is_object())
        element.get("conditions").fail("missing conditions: a proposed policy must say whom and what it targets");
}

std::string describe_source(const SourceLocation& source) {
    return source.pointer.empty() ? source.file : source.file + ": " + source.pointer;
}

class Overlay {
public:
    explicit Overlay(std::vector<ConditionalAccessPolicy>& policies) : policies_(policies) {}

    void propose(ConditionalAccessPolicy proposed, const JsonView& element) {
        PolicyChange change;
        change.source = {element.file(), element.pointer(), 0};
        change.displayName = proposed.displayName;
        change.state = proposed.state;
        proposed.sourceFile = element.file();
        proposed.sourcePointer = element.pointer();

        std::optional<std::size_t> target;
        if (!proposed.id.empty()) {
            target = find_by_id(proposed.id);
            if (target) change.matchedBy = "id";
        } else {
            if (proposed.displayName.empty())
                element.fail("a proposed policy needs an id or a displayName to be matched with the tenant's policies");
            target = find_by_name(proposed.displayName, element);
            if (target) {
                change.matchedBy = "displayName";
                proposed.id = policies_[*target].id;
            }
        }

        if (target) {
            change.kind = PolicyChange::Kind::Replaced;
            change.replacedDisplayName = policies_[*target].displayName;
        } else {
            change.kind = PolicyChange::Kind::Added;
            if (proposed.id.empty())
                proposed.id = "proposed:" + element.file() + (element.pointer().empty() ? "" : "#" + element.pointer());
            else if (auto sameName = find_name(proposed.displayName))
                change.note = fmt::format(
                    "the snapshot already has a policy named '{}' (id {}); the proposed policy has another id, so "
                    "both are evaluated",
                    proposed.displayName, policies_[*sameName].id);
        }
        change.id = proposed.id;
        claim(change.id, describe_source(change.source), element);

        if (target)
            policies_[*target] = std::move(proposed);
        else
            policies_.push_back(std::move(proposed));
        changes_.push_back(std::move(change));
    }

    void remove(const std::string& id) {
        auto index = find_by_id(id);
        if (!index)
            throw std::invalid_argument(
                fmt::format("--remove-policy {}: no policy with this id in the snapshot's /graph/conditionalAccessPolicies", id));
        const auto& policy = policies_[*index];
        auto claimed = claimed_.find(to_lower(policy.id));
        if (claimed != claimed_.end())
            throw std::invalid_argument(
                fmt::format("--remove-policy {}: the policy is also changed by {}", id, claimed->second));
        claimed_.emplace(to_lower(policy.id), "--remove-policy");
        PolicyChange change;
        change.kind = PolicyChange::Kind::Removed;
        change.id = policy.id;
        change.displayName = policy.displayName;
        change.state = policy.state;
        change.matchedBy = "--remove-policy";
        changes_.push_back(std::move(change));
        policies_.erase(policies_.begin() + static_cast<std::ptrdiff_t>(*index));
    }

    std::vector<PolicyChange> take_changes() { return std::move(changes_); }

private:
    std::optional<std::size_t> find_by_id(const std::string& id) const {
        for (std::size_t i = 0; i < policies_.size(); ++i)
            if (iequals(policies_[i].id, id)) return i;
        return std::nullopt;
    }

    std::optional<std::size_t> find_name(const std::string& name) const {
        if (name.empty()) return std::nullopt;
        for (std::size_t i = 0; i < policies_.size(); ++i)
            if (iequals(policies_[i].displayName, name)) return i;
        return std::nullopt;
    }

    std::optional<std::size_t> find_by_name(const std::string& name, const JsonView& element) const {
        std::vector<std::size_t> matches;
        for (std::size_t i = 0; i < policies_.size(); ++i)
            if (iequals(policies_[i].displayName, name)) matches.push_back(i);
        if (matches.size() > 1) {
            std::vector<std::string> ids;
            for (auto i : matches) ids.push_back(policies_[i].id);
            element.get("displayName").fail(fmt::format(
                "{} snapshot policies are named '{}' ({}): give the proposed policy the id of the one it replaces",
                matches.size(), name, fmt::join(ids, ", ")));
        }
        if (matches.empty()) return std::nullopt;
        return matches.front();
    }

    void claim(const std::string& id, const std::string& by, const JsonView& element) {
        auto [it, inserted] = claimed_.emplace(to_lower(id), by);
        if (!inserted)
            element.fail(fmt::format("policy {} is already changed by {}: propose each policy once", id, it->second));
    }

    std::vector<ConditionalAccessPolicy>& policies_;
    std::map<std::string, std::string> claimed_;  // lower-case policy id → who changes it
    std::vector<PolicyChange> changes_;
};

}  // namespace

std::vector<PolicyChange> apply_policy_overlay(Snapshot& snapshot, const PolicyOverlay& overlay) {
    if (overlay.paths.empty() && overlay.removePolicyIds.empty()) return {};
    if (!snapshot.conditionalAccessPolicies)
        throw InputError(snapshot.sourcePath, "/graph/conditionalAccessPolicies",
                         "section not collected: a proposed policy change can only be judged against the "
                         "tenant's current policies");
    Overlay apply(*snapshot.conditionalAccessPolicies);
    for (const auto& file : policy_files(overlay.paths)) {
        const nlohmann::json document = read_json_file(file);
        const JsonView root(document, file, "");
        const auto elements = root.as_elements();
        if (elements.empty()) root.fail("no policy in the file");
        for (const JsonView& element : elements) {
            require_policy_shape(element);
            apply.propose(decode_policy(element), element);
        }
    }
    for (const auto& id : overlay.removePolicyIds) apply.remove(id);
    return apply.take_changes();
}

const char* to_string(PolicyChange::Kind kind) {
    switch (kind) {
        case PolicyChange::Kind::Added: return "added";
        case PolicyChange::Kind::Replaced: return "replaced";
        case PolicyChange::Kind::Removed: return "removed";
    }
    return "";
}

const char* graph_state_name(PolicyState state) {
    switch (state) {
        case PolicyState::Enabled: return "enabled";
        case PolicyState::ReportOnly: return "enabledForReportingButNotEnforced";
        case PolicyState::Disabled: break;
    }
    return "disabled";
}

}  // namespace tenantscan
