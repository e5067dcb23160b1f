#include <tenantscan/directory.hpp>

#include <algorithm>
#include <deque>

#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

namespace tenantscan {

namespace {

const std::vector<User> kNoUsers;
const std::vector<Group> kNoGroups;

template <class T>
const std::vector<T>& or_empty(const std::optional<std::vector<T>>& section, const std::vector<T>& empty) {
    return section ? *section : empty;
}

}  // namespace

std::string Directory::normalise_address(std::string_view address) {
    auto colon = address.find(':');
    // "SMTP:a@b", "smtp:a@b", "X500:..." — only SMTP addresses carry the prefix we strip.
    if (colon != std::string_view::npos && iequals(address.substr(0, colon), "smtp")) address.remove_prefix(colon + 1);
    return to_lower(address);
}

Directory::Directory(const Snapshot& snapshot) : snapshot_(&snapshot) {
    for (const auto& u : or_empty(snapshot.users, kNoUsers)) {
        auto index = static_cast<UserIndex>(users_.size());
        users_.push_back(&u);
        if (!u.id.empty()) userById_.emplace(to_lower(u.id), index);
        if (!u.userPrincipalName.empty()) userById_.emplace(to_lower(u.userPrincipalName), index);
    }
    for (const auto& g : or_empty(snapshot.groups, kNoGroups)) {
        auto index = static_cast<GroupIndex>(groups_.size());
        groups_.push_back(&g);
        groupById_.emplace(to_lower(g.id), index);
        groupByName_.emplace(to_lower(g.displayName), index);
    }

    // Direct edges: user → groups, group → parent groups.
    std::vector<std::vector<GroupIndex>> directGroups(users_.size());
    parentGroups_.assign(groups_.size(), {});
    for (GroupIndex g = 0; g < groups_.size(); ++g) {
        for (const auto& member : groups_[g]->memberUserIds) {
            auto it = userById_.find(to_lower(member));
            if (it != userById_.end()) directGroups[it->second].push_back(g);
        }
        for (const auto& member : groups_[g]->memberGroupIds) {
            auto it = groupById_.find(to_lower(member));
            if (it != groupById_.end() && it->second != g) parentGroups_[it->second].push_back(g);
        }
    }

    // Transitive closure upwards, per group, memoised: ancestors(g) = parents ∪ ancestors(parents).
    // Breadth-first with a visited set, so cycles terminate; nesting depth does not recurse.
    std::vector<std::vector<GroupIndex>> ancestors(groups_.size());
    {
        std::vector<std::uint32_t> seenStamp(groups_.size(), 0);
        std::uint32_t stamp = 0;
        std::deque<GroupIndex> queue;
        for (GroupIndex g = 0; g < groups_.size(); ++g) {
            ++stamp;
            queue.assign(parentGroups_[g].begin(), parentGroups_[g].end());
            seenStamp[g] = stamp;
            auto& out = ancestors[g];
            while (!queue.empty()) {
                GroupIndex p = queue.front();
                queue.pop_front();
                if (seenStamp[p] == stamp) continue;
                seenStamp[p] = stamp;
                out.push_back(p);
                for (GroupIndex pp : parentGroups_[p])
                    if (seenStamp[pp] != stamp) queue.push_back(pp);
            }
            std::sort(out.begin(), out.end());
        }
    }

    userGroups_.assign(users_.size(), {});
    for (UserIndex u = 0; u < users_.size(); ++u) {
        auto& groups = userGroups_[u];
        std::sort(directGroups[u].begin(), directGroups[u].end());
        directGroups[u].erase(std::unique(directGroups[u].begin(), directGroups[u].end()), directGroups[u].end());
        for (GroupIndex g : directGroups[u]) {
            groups.push_back(g);
            groups.insert(groups.end(), ancestors[g].begin(), ancestors[g].end());
        }
        std::sort(groups.begin(), groups.end());
        groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    }
    userDirectGroups_ = std::move(directGroups);

    // Active tenant-wide roles: direct assignments to users, and to role-assignable groups.
    userRoles_.assign(users_.size(), {});
    if (snapshot.roleAssignments) {
        std::unordered_multimap<GroupIndex, std::string> groupRoles;
        for (const auto& a : *snapshot.roleAssignments) {
            if (!a.directoryScopeId.empty() && a.directoryScopeId != "/") continue;
            auto role = to_lower(a.roleDefinitionId);
            auto principal = to_lower(a.principalId);
            if (auto u = userById_.find(principal); u != userById_.end()) {
                userRoles_[u->second].push_back(role);
            } else if (auto g = groupById_.find(principal); g != groupById_.end()) {
                groupRoles.emplace(g->second, role);
            }
        }
        if (!groupRoles.empty()) {
            for (UserIndex u = 0; u < users_.size(); ++u)
                for (GroupIndex g : userGroups_[u]) {
                    auto range = groupRoles.equal_range(g);
                    for (auto it = range.first; it != range.second; ++it) userRoles_[u].push_back(it->second);
                }
        }
        for (auto& roles : userRoles_) {
            std::sort(roles.begin(), roles.end());
            roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
        }
    }

    userIsHve_.assign(users_.size(), false);
    if (snapshot.hveAccounts)
        for (const auto& account : *snapshot.hveAccounts)
            if (auto u = user_of_hve(account)) userIsHve_[*u] = true;

    if (snapshot.recipients) {
        const auto& recipients = *snapshot.recipients;
        for (std::size_t r = 0; r < recipients.size(); ++r) {
            std::vector<std::string> addresses;
            if (!recipients[r].primarySmtpAddress.empty())
                addresses.push_back(normalise_address(recipients[r].primarySmtpAddress));
            for (const auto& a : recipients[r].emailAddresses) {
                auto colon = a.find(':');
                if (colon == std::string::npos || iequals(std::string_view(a).substr(0, colon), "smtp"))
                    addresses.push_back(normalise_address(a));
            }
            std::sort(addresses.begin(), addresses.end());
            addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
            for (auto& a : addresses) recipientByAddress_.emplace(std::move(a), r);
        }
    }
}

std::optional<UserIndex> Directory::find_user(std::string_view idOrUpn) const {
    auto it = userById_.find(to_lower(idOrUpn));
    if (it == userById_.end()) return std::nullopt;
    return it->second;
}

std::optional<GroupIndex> Directory::find_group(std::string_view id) const {
    auto it = groupById_.find(to_lower(id));
    if (it == groupById_.end()) return std::nullopt;
    return it->second;
}

std::vector<GroupIndex> Directory::find_groups_by_name(std::string_view displayName) const {
    std::vector<GroupIndex> found;
    auto range = groupByName_.equal_range(to_lower(displayName));
    for (auto it = range.first; it != range.second; ++it) found.push_back(it->second);
    std::sort(found.begin(), found.end());
    return found;
}

bool Directory::is_transitive_member(UserIndex user, GroupIndex group) const {
    const auto& groups = userGroups_[user];
    return std::binary_search(groups.begin(), groups.end(), group);
}

bool Directory::is_transitive_member(UserIndex user, std::string_view groupId) const {
    auto g = find_group(groupId);
    return g && is_transitive_member(user, *g);
}

std::vector<GroupIndex> Directory::membership_path(UserIndex user, GroupIndex target) const {
    if (!is_transitive_member(user, target)) return {};
    // Breadth-first from the groups that contain the user directly, upwards to the target:
    // the shortest chain, listed outermost (target) first.
    std::vector<long> previous(groups_.size(), -2);  // -2 unseen, -1 start
    std::deque<GroupIndex> queue;
    for (GroupIndex g : userDirectGroups_[user]) {  // ascending, as userGroups_ is
        previous[g] = -1;
        queue.push_back(g);
    }
    while (!queue.empty()) {
        GroupIndex g = queue.front();
        queue.pop_front();
        if (g == target) break;
        for (GroupIndex p : parentGroups_[g])
            if (previous[p] == -2) {
                previous[p] = static_cast<long>(g);
                queue.push_back(p);
            }
    }
    std::vector<GroupIndex> path;
    for (long g = static_cast<long>(target); g >= 0; g = previous[static_cast<std::size_t>(g)])
        path.push_back(static_cast<GroupIndex>(g));
    return path;
}

bool Directory::has_active_role(UserIndex user, std::string_view roleTemplateId) const {
    const auto& roles = userRoles_[user];
    return std::binary_search(roles.begin(), roles.end(), to_lower(roleTemplateId));
}

std::optional<UserIndex> Directory::user_of_hve(const HveAccount& account) const {
    // An Entra object id that matches nobody is not replaced by the address: every Entra user has
    // an id, so a user found by address would be another object (an address conflict), not this one.
    if (!account.externalDirectoryObjectId.empty()) return find_user(account.externalDirectoryObjectId);
    if (!account.primarySmtpAddress.empty()) return find_user(normalise_address(account.primarySmtpAddress));
    return std::nullopt;
}

std::vector<std::size_t> Directory::recipients_with_address(std::string_view address) const {
    std::vector<std::size_t> found;
    auto range = recipientByAddress_.equal_range(normalise_address(address));
    for (auto it = range.first; it != range.second; ++it) found.push_back(it->second);
    std::sort(found.begin(), found.end());
    return found;
}

}  // namespace tenantscan
