#include <tenantscan/detail/hve_exemption_group.hpp>

#include <fmt/format.h>

namespace tenantscan::rules {

std::string configured_hve_exemption_group(const ScanOptions& options) {
    auto it = options.parameters.find(std::string(kHveExclusionGroupRuleId) + "." + kHveExemptionGroupParameter);
    if (it != options.parameters.end() && it->second.is_string()) return it->second.get<std::string>();
    return kDefaultHveExemptionGroup;
}

std::vector<GroupIndex> resolve_hve_exemption_group(const Directory& directory, const std::string& group) {
    if (auto byId = directory.find_group(group)) return {*byId};
    return directory.find_groups_by_name(group);
}

Related hve_exemption_group_related(const ScanOptions& options, const Directory& directory) {
    Related group;
    group.kind = Related::Kind::Group;
    group.role = Related::Role::Excludes;
    group.name = configured_hve_exemption_group(options);
    const auto matches = resolve_hve_exemption_group(directory, group.name);
    if (matches.size() == 1) {
        group.id = directory.group(matches.front()).id;
        group.name = directory.group(matches.front()).displayName;
    }
    return group;
}

std::vector<RemediationStep> exclude_group_steps(const RuleContext& context, const Subject& account,
                                                 const std::vector<Related>& policies) {
    std::vector<RemediationStep> steps;
    const Related group = hve_exemption_group_related(context.options(), context.directory());
    for (const Related& policy : policies) {
        RemediationStep step;
        step.action = RemediationStep::Action::ExcludeGroupFromPolicy;
        step.account = {Related::Kind::Account, account.id, account.name, Related::Role::Names, {}, {}, {}, {}};
        step.group = group;
        step.policy = policy;
        steps.push_back(std::move(step));
    }
    return steps;
}

std::string describe_hve_exemption_group(const RuleContext& context) {
    auto configured = configured_hve_exemption_group(context.options());
    auto groups = resolve_hve_exemption_group(context.directory(), configured);
    if (groups.size() != 1) return fmt::format("'{}'", configured);
    const Group& g = context.directory().group(groups.front());
    return fmt::format("'{}' (id {})", g.displayName, g.id);
}

}  // namespace tenantscan::rules
