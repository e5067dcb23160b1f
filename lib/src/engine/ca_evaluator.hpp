// The Conditional Access evaluator: the sign-in and the user as the conditions need them, and each
// condition's verdict (Yes, No, Unknown, NotConfigured) with its explanation when asked for one.
// Everything here is inline: ConditionalAccessEngine::decide() runs it for every user of the tenant.
// Private to lib/src/engine.
#pragma once

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/json_input.hpp>

#include "engine/ca_index.hpp"

namespace tenantscan::ca {

// ---------------------------------------------------------------------------------------------
// The sign-in and the user, as the conditions need them.

struct SignInFacts {
    const SignInContext* context = nullptr;
    bool legacyClient = false;
    bool platformUnknown = false;
    std::optional<IpAddress> ip;  // nullopt: unknown (or not a valid address)
    bool ipMalformed = false;
    bool countryKnown = false;
};

inline SignInFacts facts_of(const SignInContext& context) {
    SignInFacts facts;
    facts.context = &context;
    facts.legacyClient = is_legacy_client(context.clientAppType);
    facts.platformUnknown = context.platform.empty() || iequals(context.platform, "unknown");
    if (context.ipAddress && !context.ipAddress->empty()) {
        facts.ip = parse_ip_address(*context.ipAddress);
        facts.ipMalformed = !facts.ip;
    }
    facts.countryKnown = context.country && !context.country->empty();
    return facts;
}

// The GuestBits a user may be; more than one bit: not known which.
inline unsigned possible_types(const Directory& directory, std::optional<UserIndex> index) {
    if (!index) return kNotExternal | kInternalGuest | kB2bCollaborationGuest | kB2bCollaborationMember;
    const User& user = directory.user(*index);
    // B2B accounts carry #EXT# in their UPN; a guest without it is (normally) an internal guest,
    // but a renamed B2B guest looks the same, so both stay possible.
    bool external = icontains(user.userPrincipalName, "#EXT#");
    if (iequals(user.userType, "Guest")) return external ? kB2bCollaborationGuest : (kInternalGuest | kB2bCollaborationGuest);
    if (iequals(user.userType, "Member")) return external ? kB2bCollaborationMember : kNotExternal;
    return external ? (kB2bCollaborationGuest | kB2bCollaborationMember) : (kNotExternal | kInternalGuest | kB2bCollaborationGuest);
}

struct UserFacts {
    const Directory* directory = nullptr;
    std::optional<UserIndex> index;  // nullopt: not in /graph/users
    std::string_view id;             // as the sign-in names the user

    // Worked out on first use: most policies have no guest condition.
    unsigned types() const {
        if (!typesKnown_) {
            types_ = possible_types(*directory, index);
            typesKnown_ = true;
        }
        return types_;
    }

private:
    mutable unsigned types_ = 0;
    mutable bool typesKnown_ = false;
};

inline UserFacts facts_of_user(const Directory& directory, std::optional<UserIndex> index, std::string_view id) {
    UserFacts facts;
    facts.directory = &directory;
    facts.index = index;
    facts.id = id;
    return facts;
}

inline std::string describe_types(unsigned types) {
    std::vector<std::string> names;
    for (const auto& known : kGuestTypeNames)
        if (types & known.bit) names.push_back(known.name);
    if (types & kNotExternal) names.push_back("internal member");
    return fmt::to_string(fmt::join(names, ", "));
}

// ---------------------------------------------------------------------------------------------
// Conditions.

enum class Match : std::uint8_t { NotConfigured, Yes, No, Unknown };

struct Verdict {
    Match match;
    const char* reason;  // analysisReasons name of the condition
};

// What a condition says about itself, when an explanation is wanted.
struct Note {
    std::string detail;
    std::vector<std::string> unknowns;
    std::optional<UserListMatch> excludedBy;  // the users condition: the exclusion that matched
};

// Why a list matched or could not be decided. The matchers take a Why* that is null when no
// explanation is wanted, and then format nothing.
class Why {
public:
    void unknown(const char* token, std::string text) {
        tokens_.push_back(token);
        texts_.push_back(std::move(text));
    }
    std::string matched;  // what matched, when the answer is Yes
    std::optional<UserListMatch> member;  // which entry of a user list matched, when the answer is Yes
    const std::vector<std::string>& tokens() const { return tokens_; }
    std::string unknown_text() const { return fmt::to_string(fmt::join(texts_, ", ")); }

private:
    std::vector<std::string> tokens_, texts_;
};

inline Tri tri_of(bool yes) { return yes ? Tri::Yes : Tri::No; }

enum class UsersMatch : std::uint8_t { NotIncluded, Excluded, Included, Unknown };

// Exclusion beats inclusion; an unknown on either side leaves the answer open unless the other decides.
inline UsersMatch users_match(Tri included, Tri excluded) {
    if (included == Tri::No) return UsersMatch::NotIncluded;
    if (excluded == Tri::Yes) return UsersMatch::Excluded;
    return included == Tri::Yes && excluded == Tri::No ? UsersMatch::Included : UsersMatch::Unknown;
}

class Evaluator {
public:
    Evaluator(const EngineIndex& index, const Directory& directory) : index_(index), directory_(directory) {}

    Verdict workload(const CompiledPolicy& c, Note* note) const {
        if (!c.policy->targetsWorkloadIdentities) return {Match::NotConfigured, "workloadIdentities"};
        if (note) note->detail = "the policy targets workload identities (service principals), not user sign-ins";
        return {Match::No, "workloadIdentities"};
    }

    // The hot path of decide(): with no note, nothing is formatted or allocated.
    UsersMatch users(const CompiledPolicy& c, const UserFacts& user, Note* note) const {
        if (!note) {
            Tri in = match_set(c.include, user, nullptr);
            return in == Tri::No ? UsersMatch::NotIncluded : users_match(in, match_set(c.exclude, user, nullptr));
        }
        Why included, excluded;
        Tri in = match_set(c.include, user, &included);
        if (in == Tri::No) {
            note->detail = c.include.empty()
                               ? "the policy includes no users"
                               : fmt::format("the user is not among the included users ({})", describe_set(c.include));
            return UsersMatch::NotIncluded;
        }
        Tri out = match_set(c.exclude, user, &excluded);
        UsersMatch m = users_match(in, out);
        switch (m) {
            case UsersMatch::Excluded:
                note->detail = fmt::format("the user is excluded: {}", excluded.matched);
                note->excludedBy = std::move(excluded.member);
                break;
            case UsersMatch::Included:
                note->detail = c.exclude.empty()
                                   ? fmt::format("the user is included: {}", included.matched)
                                   : fmt::format("the user is included ({}) and not excluded ({})", included.matched,
                                                 describe_set(c.exclude));
                break;
            case UsersMatch::Unknown: {
                std::vector<std::string> parts;
                if (in == Tri::Unknown) parts.push_back("whether the user is included is not known: " + included.unknown_text());
                else parts.push_back("the user is included (" + included.matched + ")");
                if (out == Tri::Unknown) parts.push_back("whether the user is excluded is not known: " + excluded.unknown_text());
                note->detail = fmt::to_string(fmt::join(parts, ", "));
                for (const auto& t : included.tokens()) add_unique(note->unknowns, t);
                for (const auto& t : excluded.tokens()) add_unique(note->unknowns, t);
                break;
            }
            case UsersMatch::NotIncluded: break;
        }
        return m;
    }

    Verdict application(const CompiledPolicy& c, const SignInFacts& s, Note* note) const {
        const auto& policy = *c.policy;
        if (!policy.includeUserActions.empty()) {
            if (note)
                note->detail = fmt::format("the policy targets user actions ({}), not an application sign-in",
                                           fmt::join(policy.includeUserActions, ", "));
            return {Match::No, "userActions"};
        }
        if (!policy.includeAuthenticationContextClassReferences.empty()) {
            if (note)
                note->detail = fmt::format("the policy targets authentication contexts ({}), not an application sign-in",
                                           fmt::join(policy.includeAuthenticationContextClassReferences, ", "));
            return {Match::No, "authenticationContext"};
        }
        const std::string& resource = s.context->resourceApp;
        // An application filter selects apps by custom security attributes, which no snapshot holds:
        // an include filter may add the resource, an exclude filter may remove it (any other mode, both).
        const auto& filter = policy.applicationFilter;
        const bool filterMayInclude = filter && !iequals(filter->mode, "exclude");
        const bool filterMayExclude = filter && !iequals(filter->mode, "include");
        auto filter_unknown = [&](std::string why) -> Verdict {
            if (note) {
                note->detail = fmt::format("{}, and the policy's application filter ({} \"{}\") selects applications by "
                                           "custom security attributes, which the snapshot does not hold",
                                           why, filter->mode.empty() ? "no mode" : filter->mode, filter->rule);
                note->unknowns.push_back(unknown_input::kApplication);
            }
            return {Match::Unknown, "application"};
        };
        if (c.includeApps.names_nothing()) {
            if (filterMayInclude) return filter_unknown("the policy lists no application");
            if (note) note->detail = "the policy includes no application";
            return {Match::No, "application"};
        }
        Why included, excluded;
        Why* inWhy = note ? &included : nullptr;
        Why* outWhy = note ? &excluded : nullptr;
        Tri in = app_in(c.includeApps, resource, inWhy);
        if (in == Tri::No) {
            if (filterMayInclude)
                return filter_unknown(note ? fmt::format("{} is not among the included applications ({})",
                                                         describe_app(resource), fmt::join(policy.includeApplications, ", "))
                                           : std::string());
            if (note)
                note->detail = fmt::format("{} is not among the included applications ({})", describe_app(resource),
                                           fmt::join(policy.includeApplications, ", "));
            return {Match::No, "application"};
        }
        Tri out = app_in(c.excludeApps, resource, outWhy);
        if (out == Tri::Yes) {
            if (note) note->detail = fmt::format("{} is excluded ({})", describe_app(resource), excluded.matched);
            return {Match::No, "application"};
        }
        if (in == Tri::Yes && out == Tri::No) {
            if (filterMayExclude)
                return filter_unknown(note ? fmt::format("{} is included ({})", describe_app(resource), included.matched)
                                           : std::string());
            if (note) note->detail = fmt::format("{} is included ({})", describe_app(resource), included.matched);
            return {Match::Yes, "application"};
        }
        if (note) {
            note->detail = fmt::format("whether {} is covered is not known: {}", describe_app(resource),
                                       in == Tri::Unknown ? included.unknown_text() : excluded.unknown_text());
            note->unknowns.push_back(unknown_input::kApplication);
        }
        return {Match::Unknown, "application"};
    }

    Verdict client_apps(const CompiledPolicy& c, const SignInFacts& s, Note* note) const {
        if (c.clientAppTypes.empty()) return {Match::NotConfigured, "clientApps"};
        const std::string& type = s.context->clientAppType;
        bool exchangeActiveSync = iequals(type, "exchangeActiveSync") || iequals(type, "easSupported");
        for (const auto& listed : c.clientAppTypes) {
            if (listed == "all" || iequals(listed, type) ||
                (exchangeActiveSync && (listed == "exchangeactivesync" || listed == "eassupported"))) {
                if (note)
                    note->detail = fmt::format("client app type '{}' matches '{}' in the policy", type,
                                               listed == "all" ? "all" : listed);
                return {Match::Yes, "clientApps"};
            }
        }
        if (note)
            note->detail = fmt::format("client app type '{}' is not among the policy's ({})", type,
                                       fmt::join(c.policy->clientAppTypes, ", "));
        return {Match::No, "clientApps"};
    }

    Verdict platforms(const CompiledPolicy& c, const SignInFacts& s, Note* note) const {
        if (!c.platformsConfigured) return {Match::NotConfigured, "devicePlatform"};
        const auto& policy = *c.policy;
        if (s.platformUnknown) {
            // Assumption (docs/engine.md): an unknown platform is covered by "all" only, and no
            // exclude list names it.
            if (!c.includeAllPlatforms) {
                if (note)
                    note->detail = fmt::format("the device platform is unknown and the policy includes only named platforms ({})",
                                               fmt::join(policy.includePlatforms, ", "));
                return {Match::No, "devicePlatform"};
            }
            if (c.excludeAllPlatforms) {
                if (note) note->detail = "the policy excludes all platforms";
                return {Match::No, "devicePlatform"};
            }
            if (note)
                note->detail = policy.excludePlatforms.empty()
                                   ? "the unknown device platform is covered by include 'all'"
                                   : fmt::format("the unknown device platform is covered by include 'all' and is not in the excluded platforms ({})",
                                                 fmt::join(policy.excludePlatforms, ", "));
            return {Match::Yes, "devicePlatform"};
        }
        const std::string& platform = s.context->platform;
        if (!c.includeAllPlatforms && !contains_lower(c.includePlatforms, platform)) {
            if (note)
                note->detail = fmt::format("platform '{}' is not among the included platforms ({})", platform,
                                           fmt::join(policy.includePlatforms, ", "));
            return {Match::No, "devicePlatform"};
        }
        if (c.excludeAllPlatforms || contains_lower(c.excludePlatforms, platform)) {
            if (note) note->detail = fmt::format("platform '{}' is excluded", platform);
            return {Match::No, "devicePlatform"};
        }
        if (note) note->detail = fmt::format("platform '{}' is included", platform);
        return {Match::Yes, "devicePlatform"};
    }

    Verdict locations(const CompiledPolicy& c, const SignInFacts& s, Note* note) const {
        if (!c.locationsConfigured) return {Match::NotConfigured, "location"};
        Why included, excluded;
        Why* inWhy = note ? &included : nullptr;
        Why* outWhy = note ? &excluded : nullptr;
        Tri in = c.includeLocations.empty() ? Tri::Yes : locations_in(c.includeLocations, s, inWhy);
        if (note && c.includeLocations.empty()) included.matched = "any location";
        const std::string where = note ? describe_where(s) : std::string();
        if (in == Tri::No) {
            if (note)
                note->detail = fmt::format("{} is not in an included location ({})", where,
                                           describe_locations(c.includeLocations));
            return {Match::No, "location"};
        }
        Tri out = c.excludeLocations.empty() ? Tri::No : locations_in(c.excludeLocations, s, outWhy);
        if (out == Tri::Yes) {
            if (note) note->detail = fmt::format("{} is in an excluded location: {}", where, excluded.matched);
            return {Match::No, "location"};
        }
        if (in == Tri::Yes && out == Tri::No) {
            if (note)
                note->detail = c.excludeLocations.empty()
                                   ? fmt::format("{} is in an included location: {}", where, included.matched)
                                   : fmt::format("{} is in an included location ({}) and in no excluded location ({})",
                                                 where, included.matched, describe_locations(c.excludeLocations));
            return {Match::Yes, "location"};
        }
        if (note) {
            std::vector<std::string> parts;
            if (in == Tri::Unknown) parts.push_back("whether it is in an included location is not known: " + included.unknown_text());
            else parts.push_back("it is in an included location (" + included.matched + ")");
            if (out == Tri::Unknown) parts.push_back("whether it is in an excluded location is not known: " + excluded.unknown_text());
            note->detail = fmt::format("the policy depends on the sign-in location ({}): {}", where, fmt::join(parts, ", "));
            for (const auto& t : included.tokens()) add_unique(note->unknowns, t);
            for (const auto& t : excluded.tokens()) add_unique(note->unknowns, t);
        }
        return {Match::Unknown, "location"};
    }

    Verdict devices(const CompiledPolicy& c, const SignInFacts&, Note* note) const {
        if (!c.hasDeviceFilter) return {Match::NotConfigured, "devices"};
        if (!c.deviceFilterProblem.empty()) {
            if (note) {
                note->detail = c.deviceFilterProblem + ": how Entra treats it is not known";
                note->unknowns.push_back(unknown_input::kDeviceFilter);
            }
            return {Match::Unknown, "devices"};
        }
        bool inScope = c.deviceFilterExcludes ? !c.deviceFilterMatchesUnregistered : c.deviceFilterMatchesUnregistered;
        if (note) {
            const char* mode = c.deviceFilterExcludes ? "exclude" : "include";
            const char* matches = c.deviceFilterMatchesUnregistered ? "matches" : "does not match";
            const char* consequence = c.deviceFilterExcludes
                                          ? (c.deviceFilterMatchesUnregistered ? "the device is excluded" : "the device is not excluded")
                                          : (c.deviceFilterMatchesUnregistered ? "the device is included" : "the device is not included");
            note->detail = fmt::format("the {}-mode device filter ({}) {} a device that is not registered (every property null), so {}",
                                       mode, c.deviceFilterRule, matches, consequence);
        }
        return {inScope ? Match::Yes : Match::No, "devices"};
    }

    Verdict sign_in_risk(const CompiledPolicy& c, const SignInFacts& s, Note* note) const {
        return risk(c.policy->signInRiskLevels, s.context->signInRisk, "sign-in risk", "signInRisk", note);
    }
    Verdict user_risk(const CompiledPolicy& c, const SignInFacts& s, Note* note) const {
        return risk(c.policy->userRiskLevels, s.context->userRisk, "user risk", "userRisk", note);
    }
    Verdict insider_risk(const CompiledPolicy& c, const SignInFacts& s, Note* note) const {
        return risk(c.policy->insiderRiskLevels, s.context->insiderRisk, "insider risk", "insiderRisk", note);
    }
    // Service principal risk belongs to workload identity policies: Microsoft's vocabulary has no
    // reason of its own for it.
    Verdict service_principal_risk(const CompiledPolicy& c, const SignInFacts& s, Note* note) const {
        return risk(c.policy->servicePrincipalRiskLevels, s.context->servicePrincipalRisk, "service principal risk",
                    "workloadIdentities", note);
    }

    Verdict authentication_flows(const CompiledPolicy& c, const SignInFacts& s, Note* note) const {
        const auto& flows = c.policy->authenticationFlowTransferMethods;
        if (flows.empty()) return {Match::NotConfigured, "authenticationFlow"};
        const std::string& flow = s.context->authenticationFlow;
        bool listed = !flow.empty() && std::any_of(flows.begin(), flows.end(), [&](const std::string& f) { return iequals(f, flow); });
        if (note)
            note->detail = flow.empty()
                               ? fmt::format("the policy targets authentication flows ({}) and the sign-in uses none", fmt::join(flows, ", "))
                               : fmt::format("authentication flow '{}' {} the policy's ({})", flow,
                                             listed ? "is among" : "is not among", fmt::join(flows, ", "));
        return {listed ? Match::Yes : Match::No, "authenticationFlow"};
    }

private:
    static Verdict risk(const std::vector<std::string>& levels, const std::string& level, const char* label,
                        const char* reason, Note* note) {
        if (levels.empty()) return {Match::NotConfigured, reason};
        bool listed = std::any_of(levels.begin(), levels.end(), [&](const std::string& l) { return iequals(l, level); });
        if (note)
            note->detail = fmt::format("{} '{}' {} the policy's levels ({})", label, level,
                                       listed ? "is among" : "is not among", fmt::join(levels, ", "));
        return {listed ? Match::Yes : Match::No, reason};
    }

    // Whether the user is in the set. Yes as soon as one member matches; Unknown when nothing
    // matched and something could not be decided.
    Tri match_set(const UserSet& set, const UserFacts& user, Why* why) const {
        if (set.all) {
            if (why) {
                why->matched = "all users";
                why->member = UserListMatch{UserListMatch::Kind::AllUsers, {}};
            }
            return Tri::Yes;
        }
        bool unknown = false;
        if (user.index) {
            if (std::binary_search(set.users.begin(), set.users.end(), *user.index)) {
                if (why) {
                    why->matched = "the user is listed by id";
                    why->member = UserListMatch{UserListMatch::Kind::User, directory_.user(*user.index).id};
                }
                return Tri::Yes;
            }
        } else if (contains_lower(set.userIds, user.id)) {
            if (why) {
                why->matched = "the user is listed by id";
                why->member = UserListMatch{UserListMatch::Kind::User, std::string(user.id)};
            }
            return Tri::Yes;
        }
        for (std::size_t i = 0; i < set.groups.size(); ++i) {
            const GroupRef& group = set.groups[i];
            if (!group.index) {
                unknown = true;
                if (why)
                    why->unknown(unknown_input::kGroupMembership, fmt::format("group {} is not in the snapshot", set.groupIds[i]));
            } else if (!user.index) {
                unknown = true;
                if (why)
                    why->unknown(unknown_input::kGroupMembership,
                                fmt::format("the user is not in /graph/users, so membership of group '{}' is not known",
                                            directory_.group(*group.index).displayName));
            } else if (is_member(*user.index, group)) {
                if (why) {
                    why->matched = describe_membership(*user.index, *group.index);
                    why->member = UserListMatch{UserListMatch::Kind::Group, directory_.group(*group.index).id};
                }
                return Tri::Yes;
            } else if (group.incomplete) {
                unknown = true;
                if (why)
                    why->unknown(unknown_input::kGroupMembership, membership_gap(directory_, *group.index));
            }
        }
        if (!set.roles.empty()) {
            if (!index_.rolesCollected) {
                unknown = true;
                if (why)
                    why->unknown(unknown_input::kRoleMembership, "role assignments (/graph/roleAssignments) were not collected");
            } else if (!user.index) {
                unknown = true;
                if (why)
                    why->unknown(unknown_input::kRoleMembership, "the user is not in /graph/users, so its roles are not known");
            } else {
                const auto& active = directory_.active_roles(*user.index);
                for (const auto& role : set.roles)
                    if (std::binary_search(active.begin(), active.end(), role)) {
                        if (why) {
                            why->matched = "the user holds the active role " + describe_role(role);
                            why->member = UserListMatch{UserListMatch::Kind::Role, std::string(role)};
                        }
                        return Tri::Yes;
                    }
            }
        }
        Tri guest = Tri::No;
        if (set.guestsOrExternalUsers) guest = match_guest_types(kAllExternalTypes, nullptr, user, why);
        if (guest != Tri::Yes && set.guests) {
            Tri typed = match_guest_types(set.guests->types, &*set.guests, user, why);
            if (typed != Tri::No) guest = typed;
        }
        if (guest == Tri::Yes) return Tri::Yes;
        return unknown || guest == Tri::Unknown ? Tri::Unknown : Tri::No;
    }

    // The user is exactly one of user.types(): certain when all of them are listed, or none.
    // `spec` is null for the GuestsOrExternalUsers keyword (any external tenant).
    static Tri match_guest_types(unsigned listed, const GuestSpec* spec, const UserFacts& user, Why* why) {
        const unsigned possible = user.types();
        unsigned covered = possible & listed;
        if (covered == 0) return Tri::No;
        if (covered != possible) {
            bool guestKindOnly = (possible & kNotExternal) == 0 && user.index;
            if (why)
                why->unknown(guestKindOnly ? unknown_input::kGuestType : unknown_input::kUserType,
                            fmt::format("the user may be any of {} and the policy lists only {}",
                                        describe_types(possible), describe_types(covered)));
            return Tri::Unknown;
        }
        if (spec && !spec->allTenants) {
            if (why)
                why->unknown(unknown_input::kGuestHomeTenant,
                            fmt::format("the user is a guest or external user ({}); the policy covers only those from the tenants {}, and the user's home tenant is not known",
                                        describe_types(covered), fmt::join(spec->tenants, ", ")));
            return Tri::Unknown;
        }
        if (why) {
            why->matched = "the user is a guest or external user (" + describe_types(covered) + ")";
            why->member = UserListMatch{UserListMatch::Kind::GuestsOrExternalUsers, {}};
        }
        return Tri::Yes;
    }

    bool is_member(UserIndex user, const GroupRef& group) const {
        if (group.members >= 0) {
            const auto& bits = index_.groupMembers[static_cast<std::size_t>(group.members)];
            return (bits[user / 64] >> (user % 64)) & 1u;
        }
        // A policy compiled outside the index (evaluate_policy on a proposed policy).
        const auto& groups = directory_.transitive_groups(user);
        return std::binary_search(groups.begin(), groups.end(), *group.index);
    }

    // Many policies name the same groups: the path is looked up once per group and evaluation.
    const std::string& describe_membership(UserIndex user, GroupIndex group) const {
        auto [it, added] = membershipText_.try_emplace(group);
        if (!added) return it->second;
        auto path = directory_.membership_path(user, group);  // outermost (the group) first
        std::string text = fmt::format("the user is a member of group '{}'", directory_.group(group).displayName);
        if (path.size() > 1) {
            std::vector<std::string> inner;
            for (std::size_t i = 1; i < path.size(); ++i) inner.push_back("'" + directory_.group(path[i]).displayName + "'");
            text += " through " + fmt::to_string(fmt::join(inner, ", "));
        }
        it->second = std::move(text);
        return it->second;
    }

    std::string describe_set(const UserSet& set) const {
        std::vector<std::string> parts;
        if (set.all) parts.push_back("all users");
        if (set.none) parts.push_back("None");
        if (set.guestsOrExternalUsers) parts.push_back("GuestsOrExternalUsers");
        if (!set.userIds.empty()) {
            std::vector<std::string> names;
            for (const auto& id : set.userIds) {
                auto u = directory_.find_user(id);
                names.push_back(u ? "'" + directory_.user(*u).userPrincipalName + "'" : id);
            }
            parts.push_back("users " + fmt::to_string(fmt::join(names, ", ")));
        }
        if (!set.groups.empty()) {
            std::vector<std::string> names;
            for (std::size_t i = 0; i < set.groups.size(); ++i)
                names.push_back(set.groups[i].index ? "'" + directory_.group(*set.groups[i].index).displayName + "'" : set.groupIds[i]);
            parts.push_back("groups " + fmt::to_string(fmt::join(names, ", ")));
        }
        if (!set.roles.empty()) {
            std::vector<std::string> names;
            for (const auto& r : set.roles) names.push_back(describe_role(r));
            parts.push_back("roles " + fmt::to_string(fmt::join(names, ", ")));
        }
        if (set.guests) parts.push_back("guest or external user types " + describe_types(set.guests->types));
        return parts.empty() ? "nobody" : fmt::to_string(fmt::join(parts, ", "));
    }

    static Tri app_in(const AppList& list, const std::string& resource, Why* why) {
        if (list.all) {
            if (why) why->matched = "All";
            return Tri::Yes;
        }
        bool resourceIsOffice365 = iequals(resource, "Office365");
        bool resourceIsAdminPortals = iequals(resource, "MicrosoftAdminPortals");
        if (resourceIsOffice365 || resourceIsAdminPortals) {
            // The resource is a whole group of apps: a list naming some of its members may or may not cover the one used.
            if ((resourceIsOffice365 && list.office365) || (resourceIsAdminPortals && list.adminPortals)) {
                if (why) why->matched = resource;
                return Tri::Yes;
            }
            for (const auto& id : list.ids) {
                const KnownApp* app = find_app(id);
                if (!app || (resourceIsOffice365 ? app->office365 : app->adminPortal)) {
                    if (why)
                        why->unknown(unknown_input::kApplication,
                                    fmt::format("the policy names {}, which may or may not be the {} app used", describe_app(id), resource));
                    return Tri::Unknown;
                }
            }
            return Tri::No;
        }
        if (contains_lower(list.ids, resource)) {
            if (why) why->matched = "listed by id";
            return Tri::Yes;
        }
        const KnownApp* app = find_app(resource);
        Tri result = Tri::No;
        auto group = [&](bool listed, bool member, const char* name) {
            if (!listed || result == Tri::Yes) return;
            if (!app) {
                result = Tri::Unknown;
                if (why)
                    why->unknown(unknown_input::kApplication, fmt::format("whether app {} belongs to {} is not known to tenantscan", resource, name));
            } else if (member) {
                result = Tri::Yes;
                if (why) why->matched = fmt::format("{} contains it", name);
            }
        };
        group(list.office365, app && app->office365, "Office365");
        group(list.adminPortals, app && app->adminPortal, "MicrosoftAdminPortals");
        return result;
    }

    Tri locations_in(const std::vector<LocationRef>& refs, const SignInFacts& s, Why* why) const {
        Tri result = Tri::No;
        for (const auto& ref : refs) {
            Tri one = location_contains(ref, s, why);
            if (one == Tri::Yes) return Tri::Yes;
            if (one == Tri::Unknown) result = Tri::Unknown;
        }
        return result;
    }

    Tri location_contains(const LocationRef& ref, const SignInFacts& s, Why* why) const {
        switch (ref.kind) {
            case LocationRef::Kind::All:
                if (why) why->matched = "All";
                return Tri::Yes;
            case LocationRef::Kind::AllTrusted: {
                if (index_.trustedIpLocations.empty()) return Tri::No;
                if (!s.ip) {
                    if (why) why->unknown(unknown_input::kLocation, "the IP address is not known (AllTrusted)");
                    return Tri::Unknown;
                }
                if (index_.trustedIpRanges) {
                    auto hit = index_.trustedIpRanges->first_containing(*s.ip);
                    if (hit && why) why->matched = "AllTrusted: " + describe_range_hit(*hit->location, *hit->range);
                    return tri_of(hit.has_value());
                }
                for (const NamedLocation* location : index_.trustedIpLocations)
                    if (ip_in(*location, *s.ip, why)) {
                        if (why) why->matched = "AllTrusted: " + why->matched;
                        return Tri::Yes;
                    }
                return Tri::No;
            }
            case LocationRef::Kind::Missing:
                if (why)
                    why->unknown(unknown_input::kNamedLocation, fmt::format("named location {} is not in the snapshot", ref.id));
                return Tri::Unknown;
            case LocationRef::Kind::Named: break;
        }
        const NamedLocation& location = *ref.location;
        switch (location.kind) {
            case NamedLocation::Kind::Ip:
                if (location.ipRanges.empty()) return Tri::No;
                if (!s.ip) {
                    if (why)
                        why->unknown(unknown_input::kLocation,
                                    fmt::format("the IP address is not known (IP location '{}')", location.displayName));
                    return Tri::Unknown;
                }
                return tri_of(ip_in(location, *s.ip, why));
            case NamedLocation::Kind::Country: return country_in(location, s, why);
            case NamedLocation::Kind::Other: break;
        }
        if (why)
            why->unknown(unknown_input::kNamedLocation,
                        fmt::format("named location '{}' ({}) is of a kind tenantscan cannot evaluate", location.displayName, location.id));
        return Tri::Unknown;
    }

    static std::string describe_range_hit(const NamedLocation& location, const IpRange& range) {
        return fmt::format("'{}' ({})", location.displayName, range.text);
    }

    bool ip_in(const NamedLocation& location, const IpAddress& ip, Why* why) const {
        const IpRange* hit = first_range_containing(location, ip);
        if (hit && why) why->matched = describe_range_hit(location, *hit);
        return hit != nullptr;
    }

    const IpRange* first_range_containing(const NamedLocation& location, const IpAddress& ip) const {
        if (index_.ipRanges) {
            auto indexed = index_.ipRanges->find(&location);
            if (indexed != index_.ipRanges->end()) {
                auto found = indexed->second.first_containing(ip);
                return found ? found->range : nullptr;
            }
        }
        for (const auto& range : location.ipRanges)  // a location not in the snapshot's list
            if (range_contains(range, ip)) return &range;
        return nullptr;
    }

    static Tri country_in(const NamedLocation& location, const SignInFacts& s, Why* why) {
        if (iequals(location.countryLookupMethod, "authenticatorAppGps")) {
            // The country comes from the Authenticator app's GPS, which a legacy client cannot supply.
            if (s.legacyClient) return Tri::No;
            if (why)
                why->unknown(unknown_input::kCountry,
                            fmt::format("country location '{}' uses the Authenticator app's GPS, which the sign-in does not give", location.displayName));
            return Tri::Unknown;
        }
        if (!s.countryKnown) {
            if (why)
                why->unknown(s.ip ? unknown_input::kCountry : unknown_input::kLocation,
                            fmt::format("the country of the sign-in is not known (country location '{}')", location.displayName));
            return Tri::Unknown;
        }
        const std::string& country = *s.context->country;
        for (const auto& listed : location.countriesAndRegions)
            if (iequals(listed, country)) {
                if (why) why->matched = fmt::format("'{}' (country {})", location.displayName, listed);
                return Tri::Yes;
            }
        return Tri::No;
    }

    static std::string describe_where(const SignInFacts& s) {
        std::string ip = s.ip ? "IP " + s.ip->text : (s.ipMalformed ? "an invalid IP address" : "an unknown IP address");
        if (s.countryKnown) return fmt::format("the sign-in from {} ({})", ip, *s.context->country);
        return "the sign-in from " + ip;
    }

    static std::string describe_locations(const std::vector<LocationRef>& refs) {
        std::vector<std::string> names;
        for (const auto& ref : refs)
            names.push_back(ref.kind == LocationRef::Kind::Named ? "'" + ref.location->displayName + "'" : ref.id);
        return fmt::to_string(fmt::join(names, ", "));
    }

    const EngineIndex& index_;
    const Directory& directory_;
    mutable std::unordered_map<GroupIndex, std::string> membershipText_;  // for the one user being explained
};

using ContextCondition = Verdict (Evaluator::*)(const CompiledPolicy&, const SignInFacts&, Note*) const;

// The conditions that depend on the sign-in only, in the order their reasons are reported.
inline constexpr ContextCondition kContextConditions[] = {
    &Evaluator::application,  &Evaluator::client_apps,   &Evaluator::platforms,
    &Evaluator::locations,    &Evaluator::devices,       &Evaluator::sign_in_risk,
    &Evaluator::user_risk,    &Evaluator::insider_risk,  &Evaluator::service_principal_risk,
    &Evaluator::authentication_flows,
};

inline Verdict users_verdict(UsersMatch m) {
    switch (m) {
        case UsersMatch::Included: return {Match::Yes, "users"};
        case UsersMatch::Unknown: return {Match::Unknown, "users"};
        default: return {Match::No, "users"};
    }
}

inline std::string describe_controls(const CompiledPolicy& c, const SignInFacts& s) {
    const auto& policy = *c.policy;
    const auto& blocking = s.legacyClient ? c.legacyControls : c.modernControls;
    if (c.legacyControls.empty())
        return policy.hasSessionControls ? "the policy has only session controls, which never block a sign-in"
                                         : "the policy has no grant controls";
    if (!blocking.empty() && blocking.front() == "block") return "grant control: block access";
    if (!s.legacyClient)
        return fmt::format("grant controls ({}): the user must satisfy them interactively (not simulated)", fmt::join(c.legacyControls, ", "));
    if (iequals(policy.grantOperator, "OR") && blocking.size() > 1)
        return fmt::format("grant controls (any one of: {}): any one would allow the sign-in, but a legacy client can satisfy none of them, so the policy blocks it",
                           fmt::join(blocking, ", "));
    return fmt::format("grant controls ({}): a legacy client cannot satisfy them, so the policy blocks it", fmt::join(blocking, ", "));
}

struct OutcomeTally {
    bool blocked = false;
    bool undetermined = false;
    std::vector<std::string> unknowns;

    AccessOutcome outcome() const {
        if (blocked) return AccessOutcome::Blocked;
        return undetermined ? AccessOutcome::Undetermined : AccessOutcome::Allowed;
    }
};

// Security defaults and missing sections, applied the same way by evaluate() and decide().
struct TenantVerdict {
    bool securityDefaultsBlock = false;   // legacy client and security defaults on
    bool securityDefaultsUnknown = false; // legacy client, section absent, and nothing proves them off
    bool policiesUnknown = false;         // /graph/conditionalAccessPolicies absent
};

inline TenantVerdict tenant_verdict(const Snapshot& snapshot, const EngineIndex& index, const SignInFacts& s) {
    TenantVerdict verdict;
    verdict.policiesUnknown = !index.policiesCollected;
    if (!s.legacyClient) return verdict;
    if (snapshot.securityDefaults && snapshot.securityDefaults->isEnabled && index.anyEnabledPolicy) {
        // An impossible snapshot (Entra allows no enabled policy while security defaults are on):
        // one of the two sections is wrong, and the engine does not pick which.
        verdict.securityDefaultsUnknown = true;
    } else if (snapshot.securityDefaults) {
        verdict.securityDefaultsBlock = snapshot.securityDefaults->isEnabled;
    } else {
        // Entra refuses enabled Conditional Access policies while security defaults are on.
        verdict.securityDefaultsUnknown = !index.anyEnabledPolicy;
    }
    return verdict;
}

inline void finish(const TenantVerdict& tenant, OutcomeTally& enforced, OutcomeTally& reportOnly) {
    if (tenant.policiesUnknown) {
        for (OutcomeTally* tally : {&enforced, &reportOnly}) {
            tally->undetermined = true;
            tally->unknowns.push_back(unknown_input::kPolicies);
        }
    }
    if (tenant.securityDefaultsUnknown) {
        enforced.undetermined = true;
        enforced.unknowns.push_back(unknown_input::kSecurityDefaults);
    }
    if (tenant.securityDefaultsBlock) {
        enforced.blocked = true;
        enforced.unknowns.clear();
    }
    if (enforced.blocked) enforced.unknowns.clear();
    if (reportOnly.blocked) reportOnly.unknowns.clear();
    sort_unique(enforced.unknowns);
    sort_unique(reportOnly.unknowns);
}


// The detailed evaluation of one compiled policy for a sign-in and a user (ca_evaluator.cpp).
PolicyEvaluation evaluate_compiled(const Evaluator& evaluator, const CompiledPolicy& c, const SignInFacts& s,
                                   const UserFacts& user);
// Fills every field of `result` but context and user (set by the caller): the detailed evaluation of
// every policy, or with `candidates` (policy indices, ascending) of just those whose users condition
// can hold for the user.
void evaluate_detailed(WhatIfResult& result, const EngineIndex& index, const Directory& directory,
                       const Snapshot& snapshot, const std::vector<std::uint32_t>* candidates);

}  // namespace tenantscan::ca
