// Compiling a policy: every reference resolved once (ca_index.hpp).
#include "engine/ca_index.hpp"

#include <algorithm>
#include <deque>
#include <string_view>

#include <fmt/format.h>
#include <tenantscan/json_input.hpp>

namespace tenantscan::ca {

// ---------------------------------------------------------------------------------------------
// Compiling a policy: every reference resolved once.

// Why the transitive members of a group are not all known, as a sentence naming the group: a group
// nested in it (at any depth) is not in the snapshot, or it or a nested group was exported without
// its members. "" when they are all known.
std::string membership_gap(const Directory& directory, GroupIndex root) {
    std::vector<bool> seen(directory.group_count(), false);
    std::deque<GroupIndex> queue{root};
    seen[root] = true;
    while (!queue.empty()) {
        GroupIndex g = queue.front();
        queue.pop_front();
        if (!directory.group(g).membersCollected)
            return g == root ? fmt::format("group '{}' was exported without its members", directory.group(root).displayName)
                             : fmt::format("group '{}' contains group '{}', which was exported without its members",
                                           directory.group(root).displayName, directory.group(g).displayName);
        for (const auto& memberId : directory.group(g).memberGroupIds) {
            auto member = directory.find_group(memberId);
            if (!member)
                return fmt::format("group '{}' contains group {}, which is not in the snapshot",
                                   directory.group(root).displayName, memberId);
            if (!seen[*member]) {
                seen[*member] = true;
                queue.push_back(*member);
            }
        }
    }
    return {};
}

UserSet compile_user_set(const std::vector<std::string>& users, const std::vector<std::string>& groups,
                         const std::vector<std::string>& roles, const std::optional<GuestsOrExternalUsers>& guests,
                         const Directory& directory, EngineIndex& index) {
    UserSet set;
    for (const auto& id : users) {
        if (iequals(id, "All")) {
            set.all = true;
        } else if (iequals(id, "None")) {
            set.none = true;
        } else if (iequals(id, "GuestsOrExternalUsers")) {
            set.guestsOrExternalUsers = true;
        } else {
            set.userIds.push_back(to_lower(id));
            if (auto found = directory.find_user(id)) set.users.push_back(*found);
        }
    }
    std::sort(set.users.begin(), set.users.end());
    for (const auto& id : groups) {
        GroupRef ref;
        ref.index = directory.find_group(id);
        if (ref.index) {
            ref.incomplete = !membership_gap(directory, *ref.index).empty();
            if (!index.memberSlotOfGroup.empty()) {
                auto& slot = index.memberSlotOfGroup[*ref.index];
                if (slot < 0) {
                    slot = static_cast<std::int32_t>(index.groupMembers.size());
                    index.groupMembers.emplace_back();
                }
                ref.members = slot;
            }
        }
        set.groups.push_back(ref);
        set.groupIds.push_back(id);
    }
    set.roles = lower_all(roles);
    if (guests && !guests->guestOrExternalUserTypes.empty()) {
        GuestSpec spec;
        for (const auto& type : guests->guestOrExternalUserTypes)
            for (const auto& known : kGuestTypeNames)
                if (iequals(type, known.name)) spec.types |= known.bit;
        spec.allTenants = guests->allExternalTenants;
        spec.tenants = guests->externalTenantIds;
        set.guests = std::move(spec);
    }
    return set;
}

AppList compile_apps(const std::vector<std::string>& apps) {
    AppList list;
    for (const auto& app : apps) {
        if (iequals(app, "All")) list.all = true;
        else if (iequals(app, "None")) list.none = true;
        else if (iequals(app, "Office365")) list.office365 = true;
        else if (iequals(app, "MicrosoftAdminPortals")) list.adminPortals = true;
        else list.ids.push_back(to_lower(app));
    }
    return list;
}

std::vector<LocationRef> compile_locations(const std::vector<std::string>& ids, EngineIndex& index) {
    std::vector<LocationRef> refs;
    for (const auto& id : ids) {
        LocationRef ref;
        ref.id = id;
        if (iequals(id, "All")) {
            ref.kind = LocationRef::Kind::All;
        } else if (iequals(id, "AllTrusted")) {
            ref.kind = LocationRef::Kind::AllTrusted;
            index.anyAllTrusted = true;
        } else if (auto it = index.locationsById.find(to_lower(id)); it != index.locationsById.end()) {
            ref.kind = LocationRef::Kind::Named;
            ref.location = it->second;
            if (ref.location->kind == NamedLocation::Kind::Country) index.anyCountryLocation = true;
        }
        refs.push_back(std::move(ref));
    }
    return refs;
}

CompiledPolicy compile_policy(const ConditionalAccessPolicy& policy, const Directory& directory, EngineIndex& index) {
    CompiledPolicy c;
    c.policy = &policy;
    const auto& u = policy.users;
    c.include = compile_user_set(u.includeUsers, u.includeGroups, u.includeRoles, u.includeGuestsOrExternalUsers, directory, index);
    c.exclude = compile_user_set(u.excludeUsers, u.excludeGroups, u.excludeRoles, u.excludeGuestsOrExternalUsers, directory, index);
    c.includeApps = compile_apps(policy.includeApplications);
    c.excludeApps = compile_apps(policy.excludeApplications);
    c.clientAppTypes = lower_all(policy.clientAppTypes);
    c.includePlatforms = lower_all(policy.includePlatforms);
    c.excludePlatforms = lower_all(policy.excludePlatforms);
    // Configured = something listed; the has*Condition flags add nothing the lists do not say.
    c.platformsConfigured = !(c.includePlatforms.empty() && c.excludePlatforms.empty());
    c.includeAllPlatforms = c.includePlatforms.empty() || contains_lower(c.includePlatforms, "all");
    c.excludeAllPlatforms = contains_lower(c.excludePlatforms, "all");
    c.locationsConfigured = !(policy.includeLocations.empty() && policy.excludeLocations.empty());
    c.includeLocations = compile_locations(policy.includeLocations, index);
    c.excludeLocations = compile_locations(policy.excludeLocations, index);

    if (policy.deviceFilter) {
        c.hasDeviceFilter = true;
        c.deviceFilterExcludes = iequals(policy.deviceFilter->mode, "exclude");
        if (!c.deviceFilterExcludes && !iequals(policy.deviceFilter->mode, "include")) {
            c.deviceFilterProblem = fmt::format("the device filter mode '{}' is neither include nor exclude",
                                                policy.deviceFilter->mode);
        } else {
            try {
                auto rule = DeviceFilterRule::parse(policy.deviceFilter->rule);
                c.deviceFilterRule = rule.to_string();
                c.deviceFilterMatchesUnregistered = rule.matches_unregistered_device();
            } catch (const DeviceFilterSyntaxError& e) {
                c.deviceFilterProblem = fmt::format("the device filter rule \"{}\" is malformed: {}",
                                                    policy.deviceFilter->rule, e.what());
            }
        }
    }

    c.legacyControls = ConditionalAccessEngine::legacy_blocking_controls(policy);
    if (!c.legacyControls.empty() && c.legacyControls.front() == "block") c.modernControls = {"block"};
    return c;
}

}  // namespace tenantscan::ca
