// The Conditional Access index: every policy compiled once per scan (its references to users, groups,
// roles, apps and locations resolved), the transitive members of every group a policy names as
// bitmaps, and the IP ranges of the named locations. Private to lib/src/engine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <tenantscan/conditional_access.hpp>
#include <tenantscan/detail/device_filter.hpp>
#include <tenantscan/detail/ip.hpp>

#include "engine/ca_catalogue.hpp"

namespace tenantscan {

namespace detail {
using namespace ca;

// Kept small: decide() reads these for every user (the ids are in UserSet::groupIds).
struct GroupRef {
    std::optional<GroupIndex> index;  // nullopt: not in the snapshot
    std::int32_t members = -1;        // its slot in EngineIndex::groupMembers; -1: none
    bool incomplete = false;          // a group nested in it (at any depth) is not in the snapshot
};

struct GuestSpec {
    unsigned types = 0;
    bool allTenants = true;
    std::vector<std::string> tenants;
};

struct UserSet {
    bool all = false;
    bool none = false;
    bool guestsOrExternalUsers = false;  // the legacy "GuestsOrExternalUsers" keyword in includeUsers
    std::vector<UserIndex> users;        // listed ids found in the directory, sorted
    std::vector<std::string> userIds;    // every listed id, lower-case (for users not in the directory)
    std::vector<GroupRef> groups;
    std::vector<std::string> groupIds;   // as written, parallel to groups
    std::vector<std::string> roles;      // lower-case template ids
    std::optional<GuestSpec> guests;

    bool empty() const {
        return !all && !guestsOrExternalUsers && userIds.empty() && groups.empty() && roles.empty() && !guests;
    }
};

struct AppList {
    bool all = false;
    bool none = false;
    bool office365 = false;
    bool adminPortals = false;
    std::vector<std::string> ids;  // lower-case
    bool names_nothing() const { return !all && !office365 && !adminPortals && ids.empty(); }  // empty or None
};

struct LocationRef {
    enum class Kind { All, AllTrusted, Named, Missing };
    Kind kind = Kind::Missing;
    const NamedLocation* location = nullptr;
    std::string id;  // as written
};

struct CompiledPolicy {
    const ConditionalAccessPolicy* policy = nullptr;
    UserSet include, exclude;
    AppList includeApps, excludeApps;
    std::vector<std::string> clientAppTypes;  // lower-case; empty = all
    bool platformsConfigured = false;
    bool includeAllPlatforms = false, excludeAllPlatforms = false;
    std::vector<std::string> includePlatforms, excludePlatforms;  // lower-case
    bool locationsConfigured = false;
    std::vector<LocationRef> includeLocations, excludeLocations;
    bool hasDeviceFilter = false;
    bool deviceFilterExcludes = false;        // mode exclude
    bool deviceFilterMatchesUnregistered = false;
    std::string deviceFilterRule;             // normalised, for evidence
    std::string deviceFilterProblem;          // syntax error or bad mode: the condition cannot be decided
    std::vector<std::string> legacyControls;  // what a legacy client cannot satisfy
    std::vector<std::string> modernControls;  // what a modern client cannot satisfy (block)
};

// The ranges of one or more IP named locations, answering "which is the first range (in list order)
// that contains this address": one hash table per family and prefix length, from the masked address
// to the first range with it. A lookup is a few probes, not a walk over thousands of ranges.
class IpRangeIndex {
public:
    struct Hit {
        const NamedLocation* location;
        const IpRange* range;
    };
    void add(const NamedLocation& location) {
        for (const auto& range : location.ipRanges) {
            const std::size_t order = entries_.size();
            entries_.push_back({&location, &range});
            table_for(range.isV4, range.prefixLength).first.emplace(masked(range.address, range.prefixLength), order);
        }
    }
    // range_contains() over the ranges in order, first hit.
    std::optional<Hit> first_containing(const IpAddress& ip) const {
        std::size_t best = entries_.size();
        for (const auto& table : tables_) {
            if (table.isV4 != ip.isV4) continue;
            auto it = table.first.find(masked(ip.address, table.prefix));
            if (it != table.first.end()) best = std::min(best, it->second);
        }
        if (best == entries_.size()) return std::nullopt;
        return entries_[best];
    }

private:
    using Key = std::pair<std::uint64_t, std::uint64_t>;
    struct KeyHash {
        std::size_t operator()(const Key& key) const {
            return std::hash<std::uint64_t>{}(key.first * 0x9E3779B97F4A7C15ULL ^ key.second);
        }
    };
    struct Table {
        bool isV4;
        int prefix;
        std::unordered_map<Key, std::size_t, KeyHash> first;  // masked address → first entry
    };
    static Key masked(const std::array<std::uint8_t, 16>& address, int prefix) {
        std::uint64_t high = 0, low = 0;
        for (int i = 0; i < 8; ++i) high = (high << 8) | address[static_cast<std::size_t>(i)];
        for (int i = 8; i < 16; ++i) low = (low << 8) | address[static_cast<std::size_t>(i)];
        auto mask = [](int bits) { return bits <= 0 ? 0 : bits >= 64 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (64 - bits); };
        return {high & mask(prefix), low & mask(prefix - 64)};
    }
    Table& table_for(bool isV4, int prefix) {
        for (auto& table : tables_)
            if (table.isV4 == isV4 && table.prefix == prefix) return table;
        tables_.push_back({isV4, prefix, {}});
        return tables_.back();
    }
    std::vector<Table> tables_;
    std::vector<Hit> entries_;
};

struct EngineIndex {
    std::vector<CompiledPolicy> policies;  // snapshot order
    // Transitive members of every group a policy references, one bit per user: a membership test
    // is one bit, and users visited in index order read the bitmaps sequentially.
    std::vector<std::vector<std::uint64_t>> groupMembers;
    std::vector<std::int32_t> memberSlotOfGroup;  // GroupIndex → slot in groupMembers, -1: not referenced
    std::vector<const NamedLocation*> trustedIpLocations;
    std::unordered_map<std::string, const NamedLocation*> locationsById;  // lower-case id
    // The ranges of every IP location, and of the trusted ones together (AllTrusted), indexed.
    std::shared_ptr<const std::unordered_map<const NamedLocation*, IpRangeIndex>> ipRanges;
    std::shared_ptr<const IpRangeIndex> trustedIpRanges;
    bool policiesCollected = false;
    bool rolesCollected = false;
    bool anyEnabledPolicy = false;
    bool anyCountryLocation = false;
    bool anyAllTrusted = false;
};

}  // namespace detail

namespace ca {

using detail::AppList;
using detail::CompiledPolicy;
using detail::EngineIndex;
using detail::GroupRef;
using detail::GuestSpec;
using detail::LocationRef;
using detail::UserSet;

// Why the transitive members of a group are not all known, as a sentence naming the group ("" when
// they are all known).
std::string membership_gap(const Directory& directory, GroupIndex root);
// The policy with every reference resolved against the directory and the index's locations.
CompiledPolicy compile_policy(const ConditionalAccessPolicy& policy, const Directory& directory, EngineIndex& index);

}  // namespace ca

}  // namespace tenantscan
