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

std::string describe_hve_exemption_group(const RuleContext& context) {
    auto configured = configured_hve_exemption_group(context.options());
    auto groups = resolve_hve_exemption_group(context.directory(), configured);
    if (groups.size() != 1) return fmt::format("'{}'", configured);
    const Group& g = context.directory().group(groups.front());
    return fmt::format("'{}' (id {})", g.displayName, g.id);
}

}  // namespace tenantscan::rules
