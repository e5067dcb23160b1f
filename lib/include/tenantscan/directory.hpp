// Directory index: fast answers about users, transitive group membership, active roles and HVE
// accounts, precomputed once per snapshot so that rules evaluating every user do no string work.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tenantscan/model.hpp>

namespace tenantscan {

using UserIndex = std::uint32_t;
using GroupIndex = std::uint32_t;

class Directory {
public:
    explicit Directory(const Snapshot& snapshot);

    const Snapshot& snapshot() const { return *snapshot_; }

    // Users (from /graph/users). Lookup by object id or UPN (case-insensitive).
    std::size_t user_count() const { return users_.size(); }
    const User& user(UserIndex index) const { return *users_[index]; }
    std::optional<UserIndex> find_user(std::string_view idOrUpn) const;

    // Groups (from /graph/groups). Lookup by id, or by display name (case-insensitive; may be ambiguous).
    std::size_t group_count() const { return groups_.size(); }
    const Group& group(GroupIndex index) const { return *groups_[index]; }
    std::optional<GroupIndex> find_group(std::string_view id) const;
    std::vector<GroupIndex> find_groups_by_name(std::string_view displayName) const;

    // Every group the user belongs to, directly or through nested groups (cycles tolerated),
    // sorted ascending. Membership of a group id that is not in the snapshot is unknown and
    // is reported by is_member_of_unknown_group().
    const std::vector<GroupIndex>& transitive_groups(UserIndex user) const { return userGroups_[user]; }
    bool is_transitive_member(UserIndex user, GroupIndex group) const;
    // Same, by group id (false when the group is unknown).
    bool is_transitive_member(UserIndex user, std::string_view groupId) const;
    // The chain of groups that makes the user a member ("G-outer" ⊃ "G-inner" ⊃ user), for evidence.
    std::vector<GroupIndex> membership_path(UserIndex user, GroupIndex group) const;

    // Directory role template ids active tenant-wide for the user (direct, or through a
    // role-assignable group the user is a transitive member of), sorted, lower-case.
    const std::vector<std::string>& active_roles(UserIndex user) const { return userRoles_[user]; }
    bool has_active_role(UserIndex user, std::string_view roleTemplateId) const;

    // HVE accounts linked to their Entra user by ExternalDirectoryObjectId; only an account without
    // one is linked by its primary address (as a UPN). An id that matches no user links nobody.
    std::optional<UserIndex> user_of_hve(const HveAccount& account) const;
    bool is_hve_user(UserIndex user) const { return userIsHve_[user]; }

    // Recipients: the recipient indices holding an address (lower-case, no SMTP: prefix).
    std::vector<std::size_t> recipients_with_address(std::string_view address) const;

    // Normalises "SMTP:Foo@Contoso.com" → "foo@contoso.com".
    static std::string normalise_address(std::string_view address);

private:
    const Snapshot* snapshot_;
    std::vector<const User*> users_;
    std::vector<const Group*> groups_;
    std::unordered_map<std::string, UserIndex> userById_;     // lower-case id and UPN
    std::unordered_map<std::string, GroupIndex> groupById_;   // lower-case id
    std::unordered_multimap<std::string, GroupIndex> groupByName_;
    std::vector<std::vector<GroupIndex>> userGroups_;
    std::vector<std::vector<GroupIndex>> userDirectGroups_;  // groups that list the user as a member, sorted
    std::vector<std::vector<GroupIndex>> parentGroups_;       // group → groups that contain it directly
    std::vector<std::vector<std::string>> userRoles_;
    std::vector<bool> userIsHve_;
    std::unordered_multimap<std::string, std::size_t> recipientByAddress_;
};

}  // namespace tenantscan
