// Conditional Access "what if" (docs/microsoft-facts.md §7; the decisions are explained in docs/engine.md).
//
// Every condition answers Yes, No, Unknown (an input the snapshot or the sign-in does not give)
// or NotConfigured. A policy applies when no condition says No and none says Unknown; it does
// not apply as soon as one says No; otherwise we cannot tell. Everything that does not depend
// on the sign-in is resolved once in the ConditionalAccessEngine constructor (EngineIndex), and the conditions
// build their explanations only when asked for them (Note*), so ConditionalAccessEngine::decide() evaluates a
// user against every policy without touching a string.
#include <tenantscan/conditional_access.hpp>

#include <algorithm>
#include <deque>
#include <iterator>
#include <memory>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <tenantscan/detail/device_filter.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>
#include <tenantscan/detail/ip.hpp>

namespace tenantscan {

namespace {

enum class Tri : std::uint8_t { No, Yes, Unknown };

// Guest and external user types (conditionalAccessGuestOrExternalUserTypes), as bits. kNotExternal
// stands for "an internal member", which no policy flag covers.
enum GuestBits : unsigned {
    kInternalGuest = 1u << 0,
    kB2bCollaborationGuest = 1u << 1,
    kB2bCollaborationMember = 1u << 2,
    kB2bDirectConnectUser = 1u << 3,
    kOtherExternalUser = 1u << 4,
    kServiceProvider = 1u << 5,
    kNotExternal = 1u << 6,
};
constexpr unsigned kAllExternalTypes = kInternalGuest | kB2bCollaborationGuest | kB2bCollaborationMember |
                                       kB2bDirectConnectUser | kOtherExternalUser | kServiceProvider;

struct NamedBit {
    const char* name;
    unsigned bit;
};
constexpr NamedBit kGuestTypeNames[] = {
    {"internalGuest", kInternalGuest},
    {"b2bCollaborationGuest", kB2bCollaborationGuest},
    {"b2bCollaborationMember", kB2bCollaborationMember},
    {"b2bDirectConnectUser", kB2bDirectConnectUser},
    {"otherExternalUser", kOtherExternalUser},
    {"serviceProvider", kServiceProvider},
};

struct KnownApp {
    const char* id;
    const char* name;
    bool office365;
    bool adminPortal;
};
// Apps whose membership of the Office365 and MicrosoftAdminPortals groups tenantscan knows.
// Any other app id is neither known to be in them nor out of them.
constexpr KnownApp kKnownApps[] = {
    {kExchangeOnlineAppId, "Exchange Online", true, false},
    {"00000003-0000-0ff1-ce00-000000000000", "SharePoint Online", true, false},
    {"00000004-0000-0ff1-ce00-000000000000", "Skype for Business Online", true, false},
    {"00000005-0000-0ff1-ce02-000000000000", "Viva Engage (Yammer)", true, false},
    {"cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services", true, false},
    {"00000003-0000-0000-c000-000000000000", "Microsoft Graph", false, false},
    {"797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API", false, false},
    {"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure portal", false, true},
};

struct KnownRole {
    const char* id;
    const char* name;
};
constexpr KnownRole kKnownRoles[] = {
    {"62e90394-69f5-4237-9190-012177145e10", "Global Administrator"},
    {"e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator"},
    {"7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator"},
    {"194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator"},
    {"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator"},
    {"29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator"},
    {"f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator"},
    {"fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"},
    {"729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator"},
    {"c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator"},
    {"966707d0-3269-4727-9be2-8c3a10f19b9d", "Password Administrator"},
    {"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"},
    {"158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator"},
    {"b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator"},
    {"d29b2b05-8046-44ba-8758-1e26182fcf32", "Directory Synchronization Accounts"},
};

constexpr const char* kBuiltInControls[] = {"block", "mfa", "compliantDevice", "domainJoinedDevice",
                                            "approvedApplication", "compliantApplication", "passwordChange",
                                            "riskRemediation"};

bool contains_ignoring_case(std::string_view text, std::string_view part) {
    for (std::size_t i = 0; i + part.size() <= text.size(); ++i)
        if (iequals(text.substr(i, part.size()), part)) return true;
    return false;
}

bool contains_lower(const std::vector<std::string>& lowerList, std::string_view value) {
    return std::any_of(lowerList.begin(), lowerList.end(), [&](const std::string& e) { return iequals(e, value); });
}

std::vector<std::string> lower_all(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    out.reserve(values.size());
    for (const auto& v : values) out.push_back(to_lower(v));
    return out;
}

std::string join(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& v : values) {
        if (!out.empty()) out += ", ";
        out += v;
    }
    return out;
}

const KnownApp* find_app(std::string_view id) {
    for (const auto& app : kKnownApps)
        if (iequals(app.id, id)) return &app;
    return nullptr;
}

std::string describe_app(std::string_view id) {
    if (const KnownApp* app = find_app(id)) return fmt::format("{} ({})", app->name, app->id);
    return std::string(id);
}

std::string describe_role(std::string_view id) {
    for (const auto& role : kKnownRoles)
        if (iequals(role.id, id)) return fmt::format("{} ({})", role.name, role.id);
    return fmt::format("role template {}", id);
}

bool is_legacy_client(std::string_view clientAppType) {
    return iequals(clientAppType, "other") || iequals(clientAppType, "exchangeActiveSync") ||
           iequals(clientAppType, "easSupported");
}

void add_unique(std::vector<std::string>& values, const std::string& value) {
    if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
}

void sort_unique(std::vector<std::string>& values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace

namespace detail {

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

namespace {

using detail::AppList;
using detail::CompiledPolicy;
using detail::EngineIndex;
using detail::GroupRef;
using detail::GuestSpec;
using detail::LocationRef;
using detail::UserSet;

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

SignInFacts facts_of(const SignInContext& context) {
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
unsigned possible_types(const Directory& directory, std::optional<UserIndex> index) {
    if (!index) return kNotExternal | kInternalGuest | kB2bCollaborationGuest | kB2bCollaborationMember;
    const User& user = directory.user(*index);
    // B2B accounts carry #EXT# in their UPN; a guest without it is (normally) an internal guest,
    // but a renamed B2B guest looks the same, so both stay possible.
    bool external = contains_ignoring_case(user.userPrincipalName, "#EXT#");
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

UserFacts facts_of_user(const Directory& directory, std::optional<UserIndex> index, std::string_view id) {
    UserFacts facts;
    facts.directory = &directory;
    facts.index = index;
    facts.id = id;
    return facts;
}

std::string describe_types(unsigned types) {
    std::vector<std::string> names;
    for (const auto& known : kGuestTypeNames)
        if (types & known.bit) names.push_back(known.name);
    if (types & kNotExternal) names.push_back("internal member");
    return join(names);
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
    const std::vector<std::string>& tokens() const { return tokens_; }
    std::string unknown_text() const { return join(texts_); }

private:
    std::vector<std::string> tokens_, texts_;
};

Tri tri_of(bool yes) { return yes ? Tri::Yes : Tri::No; }

enum class UsersMatch : std::uint8_t { NotIncluded, Excluded, Included, Unknown };

// Exclusion beats inclusion; an unknown on either side leaves the answer open unless the other decides.
UsersMatch users_match(Tri included, Tri excluded) {
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
            case UsersMatch::Excluded: note->detail = fmt::format("the user is excluded: {}", excluded.matched); break;
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
                note->detail = join(parts);
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
                                           join(policy.includeUserActions));
            return {Match::No, "userActions"};
        }
        if (!policy.includeAuthenticationContextClassReferences.empty()) {
            if (note)
                note->detail = fmt::format("the policy targets authentication contexts ({}), not an application sign-in",
                                           join(policy.includeAuthenticationContextClassReferences));
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
                                                         describe_app(resource), join(policy.includeApplications))
                                           : std::string());
            if (note)
                note->detail = fmt::format("{} is not among the included applications ({})", describe_app(resource),
                                           join(policy.includeApplications));
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
                                       join(c.policy->clientAppTypes));
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
                                               join(policy.includePlatforms));
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
                                                 join(policy.excludePlatforms));
            return {Match::Yes, "devicePlatform"};
        }
        const std::string& platform = s.context->platform;
        if (!c.includeAllPlatforms && !contains_lower(c.includePlatforms, platform)) {
            if (note)
                note->detail = fmt::format("platform '{}' is not among the included platforms ({})", platform,
                                           join(policy.includePlatforms));
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
            note->detail = fmt::format("the policy depends on the sign-in location ({}): {}", where, join(parts));
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
                               ? fmt::format("the policy targets authentication flows ({}) and the sign-in uses none", join(flows))
                               : fmt::format("authentication flow '{}' {} the policy's ({})", flow,
                                             listed ? "is among" : "is not among", join(flows));
        return {listed ? Match::Yes : Match::No, "authenticationFlow"};
    }

private:
    static Verdict risk(const std::vector<std::string>& levels, const std::string& level, const char* label,
                        const char* reason, Note* note) {
        if (levels.empty()) return {Match::NotConfigured, reason};
        bool listed = std::any_of(levels.begin(), levels.end(), [&](const std::string& l) { return iequals(l, level); });
        if (note)
            note->detail = fmt::format("{} '{}' {} the policy's levels ({})", label, level,
                                       listed ? "is among" : "is not among", join(levels));
        return {listed ? Match::Yes : Match::No, reason};
    }

    // Whether the user is in the set. Yes as soon as one member matches; Unknown when nothing
    // matched and something could not be decided.
    Tri match_set(const UserSet& set, const UserFacts& user, Why* why) const {
        if (set.all) {
            if (why) why->matched = "all users";
            return Tri::Yes;
        }
        bool unknown = false;
        if (user.index) {
            if (std::binary_search(set.users.begin(), set.users.end(), *user.index)) {
                if (why) why->matched = "the user is listed by id";
                return Tri::Yes;
            }
        } else if (contains_lower(set.userIds, user.id)) {
            if (why) why->matched = "the user is listed by id";
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
                if (why) why->matched = describe_membership(*user.index, *group.index);
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
                        if (why) why->matched = "the user holds the active role " + describe_role(role);
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
                                        describe_types(covered), join(spec->tenants)));
            return Tri::Unknown;
        }
        if (why) why->matched = "the user is a guest or external user (" + describe_types(covered) + ")";
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
            text += " through " + join(inner);
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
            parts.push_back("users " + join(names));
        }
        if (!set.groups.empty()) {
            std::vector<std::string> names;
            for (std::size_t i = 0; i < set.groups.size(); ++i)
                names.push_back(set.groups[i].index ? "'" + directory_.group(*set.groups[i].index).displayName + "'" : set.groupIds[i]);
            parts.push_back("groups " + join(names));
        }
        if (!set.roles.empty()) {
            std::vector<std::string> names;
            for (const auto& r : set.roles) names.push_back(describe_role(r));
            parts.push_back("roles " + join(names));
        }
        if (set.guests) parts.push_back("guest or external user types " + describe_types(set.guests->types));
        return parts.empty() ? "nobody" : join(parts);
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
        return join(names);
    }

    const EngineIndex& index_;
    const Directory& directory_;
    mutable std::unordered_map<GroupIndex, std::string> membershipText_;  // for the one user being explained
};

using ContextCondition = Verdict (Evaluator::*)(const CompiledPolicy&, const SignInFacts&, Note*) const;

// The conditions that depend on the sign-in only, in the order their reasons are reported.
constexpr ContextCondition kContextConditions[] = {
    &Evaluator::application,  &Evaluator::client_apps,   &Evaluator::platforms,
    &Evaluator::locations,    &Evaluator::devices,       &Evaluator::sign_in_risk,
    &Evaluator::user_risk,    &Evaluator::insider_risk,  &Evaluator::service_principal_risk,
    &Evaluator::authentication_flows,
};

Verdict users_verdict(UsersMatch m) {
    switch (m) {
        case UsersMatch::Included: return {Match::Yes, "users"};
        case UsersMatch::Unknown: return {Match::Unknown, "users"};
        default: return {Match::No, "users"};
    }
}

std::string describe_controls(const CompiledPolicy& c, const SignInFacts& s) {
    const auto& policy = *c.policy;
    const auto& blocking = s.legacyClient ? c.legacyControls : c.modernControls;
    if (c.legacyControls.empty())
        return policy.hasSessionControls ? "the policy has only session controls, which never block a sign-in"
                                         : "the policy has no grant controls";
    if (!blocking.empty() && blocking.front() == "block") return "grant control: block access";
    if (!s.legacyClient)
        return fmt::format("grant controls ({}): the user must satisfy them interactively (not simulated)", join(c.legacyControls));
    if (iequals(policy.grantOperator, "OR") && blocking.size() > 1)
        return fmt::format("grant controls (any one of: {}): any one would allow the sign-in, but a legacy client can satisfy none of them, so the policy blocks it",
                           join(blocking));
    return fmt::format("grant controls ({}): a legacy client cannot satisfy them, so the policy blocks it", join(blocking));
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

TenantVerdict tenant_verdict(const Snapshot& snapshot, const EngineIndex& index, const SignInFacts& s) {
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

void finish(const TenantVerdict& tenant, OutcomeTally& enforced, OutcomeTally& reportOnly) {
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

}  // namespace

// ---------------------------------------------------------------------------------------------

bool PolicyEvaluation::enforced() const { return policy && policy->state == PolicyState::Enabled; }

std::vector<const PolicyEvaluation*> WhatIfResult::blocking_enforced() const {
    std::vector<const PolicyEvaluation*> out;
    for (const auto& p : policies)
        if (p.enforced() && p.applicability == Applicability::Applies && p.wouldBlock()) out.push_back(&p);
    return out;
}

std::vector<const PolicyEvaluation*> WhatIfResult::undetermined_enforced() const {
    std::vector<const PolicyEvaluation*> out;
    for (const auto& p : policies)
        if (p.enforced() && p.applicability == Applicability::CannotTell && p.wouldBlock()) out.push_back(&p);
    return out;
}

std::vector<const PolicyEvaluation*> WhatIfResult::blocking_report_only() const {
    std::vector<const PolicyEvaluation*> out;
    for (const auto& p : policies)
        if (p.policy && p.policy->state == PolicyState::ReportOnly && p.wouldBlock()) out.push_back(&p);
    return out;
}

std::vector<std::string> ConditionalAccessEngine::legacy_blocking_controls(const ConditionalAccessPolicy& policy) {
    std::vector<std::string> controls;
    for (const auto& control : policy.builtInControls) {
        std::string name = control;
        for (const char* known : kBuiltInControls)
            if (iequals(control, known)) name = known;
        add_unique(controls, name);
    }
    if (policy.requiresAuthenticationStrength) add_unique(controls, "authenticationStrength");
    if (!policy.termsOfUse.empty()) add_unique(controls, "termsOfUse");
    if (!policy.customAuthenticationFactors.empty()) add_unique(controls, "customAuthenticationFactors");
    // "block" first: it is what decides, whatever else is listed.
    std::stable_partition(controls.begin(), controls.end(), [](const std::string& c) { return c == "block"; });
    return controls;
}

ConditionalAccessEngine::ConditionalAccessEngine(const Snapshot& snapshot, const Directory& directory) : snapshot_(&snapshot), directory_(&directory) {
    auto index = std::make_shared<detail::EngineIndex>();
    index->policiesCollected = snapshot.conditionalAccessPolicies.has_value();
    index->rolesCollected = snapshot.roleAssignments.has_value();
    if (snapshot.namedLocations) {
        auto ipRanges = std::make_shared<std::unordered_map<const NamedLocation*, detail::IpRangeIndex>>();
        auto trustedIpRanges = std::make_shared<detail::IpRangeIndex>();
        for (const auto& location : *snapshot.namedLocations) {
            index->locationsById.emplace(to_lower(location.id), &location);
            if (location.kind != NamedLocation::Kind::Ip) continue;
            (*ipRanges)[&location].add(location);
            if (location.isTrusted) {
                index->trustedIpLocations.push_back(&location);
                trustedIpRanges->add(location);
            }
        }
        index->ipRanges = std::move(ipRanges);
        index->trustedIpRanges = std::move(trustedIpRanges);
    }
    if (snapshot.conditionalAccessPolicies) {
        index->memberSlotOfGroup.assign(directory.group_count(), -1);
        index->policies.reserve(snapshot.conditionalAccessPolicies->size());
        for (const auto& policy : *snapshot.conditionalAccessPolicies) {
            index->policies.push_back(compile_policy(policy, directory, *index));
            if (policy.state == PolicyState::Enabled) index->anyEnabledPolicy = true;
        }
        for (auto& bits : index->groupMembers) bits.assign((directory.user_count() + 63) / 64, 0);
        if (!index->groupMembers.empty())
            for (UserIndex u = 0; u < directory.user_count(); ++u)
                for (GroupIndex g : directory.transitive_groups(u))
                    if (std::int32_t slot = index->memberSlotOfGroup[g]; slot >= 0)
                        index->groupMembers[static_cast<std::size_t>(slot)][u / 64] |= std::uint64_t{1} << (u % 64);
    }
    index_ = std::move(index);
}

namespace {

// Condition i of a policy, in reporting order: workload identities, users, then kContextConditions.
constexpr std::size_t kConditionCount = 2 + std::size(kContextConditions);

Verdict run_condition(std::size_t i, const Evaluator& evaluator, const CompiledPolicy& c, const SignInFacts& s,
                      const UserFacts& user, Note* note) {
    if (i == 0) return evaluator.workload(c, note);
    if (i == 1) return users_verdict(evaluator.users(c, user, note));
    const ContextCondition condition = kContextConditions[i - 2];
    return (evaluator.*condition)(c, s, note);
}

PolicyEvaluation evaluate_compiled(const Evaluator& evaluator, const CompiledPolicy& c, const SignInFacts& s,
                                   const UserFacts& user) {
    PolicyEvaluation e;
    e.policy = c.policy;
    e.blockingControls = s.legacyClient ? c.legacyControls : c.modernControls;
    e.applicability = Applicability::DoesNotApply;
    if (c.policy->state == PolicyState::Disabled) {
        e.analysisReasons = {"policyNotEnabled"};
        e.details = {"the policy is disabled"};
        return e;
    }
    // A first pass without words finds the condition that rules the policy out, if any: only
    // that one is then explained.
    for (std::size_t i = 0; i < kConditionCount; ++i) {
        if (run_condition(i, evaluator, c, s, user, nullptr).match != Match::No) continue;
        Note note;
        e.analysisReasons = {run_condition(i, evaluator, c, s, user, &note).reason};
        e.details = {std::move(note.detail)};
        return e;
    }
    std::vector<std::string> unknownDetails;
    for (std::size_t i = 0; i < kConditionCount; ++i) {
        Note note;
        Verdict verdict = run_condition(i, evaluator, c, s, user, &note);
        if (verdict.match == Match::Yes) {
            e.analysisReasons.push_back(verdict.reason);
            e.details.push_back(std::move(note.detail));
        } else if (verdict.match == Match::Unknown) {
            unknownDetails.push_back(std::move(note.detail));
            for (auto& u : note.unknowns) e.unknowns.push_back(std::move(u));
        }
    }
    if (unknownDetails.empty()) {
        e.applicability = Applicability::Applies;
    } else {
        e.applicability = Applicability::CannotTell;
        e.analysisReasons = {"notEnoughInformation"};
        for (auto& d : unknownDetails) e.details.push_back(std::move(d));
        sort_unique(e.unknowns);
    }
    e.details.push_back(describe_controls(c, s));
    if (c.policy->state == PolicyState::ReportOnly)
        e.details.push_back("the policy is report-only: evaluated and logged, never enforced");
    return e;
}

void tally(OutcomeTally& t, const PolicyEvaluation& e) {
    if (!e.wouldBlock()) return;
    if (e.applicability == Applicability::Applies) {
        t.blocked = true;
    } else {
        t.undetermined = true;
        t.unknowns.insert(t.unknowns.end(), e.unknowns.begin(), e.unknowns.end());
    }
}

std::vector<std::string> assumptions_for(const SignInFacts& s, const EngineIndex& index, const Snapshot& snapshot) {
    const SignInContext& context = *s.context;
    std::vector<std::string> out;
    if (s.platformUnknown)
        out.push_back("device platform unknown (legacy clients report none): it matches a platform condition that "
                      "includes 'all' and is never in an exclude list; an include list of named platforms does not "
                      "match (Microsoft states no explicit rule)");
    out.push_back("no registered device: every device property is null, so positive device-filter operators do not "
                  "match and negative ones do");
    std::vector<std::string> noRisk;
    if (iequals(context.signInRisk, "none")) noRisk.push_back("sign-in");
    if (iequals(context.userRisk, "none")) noRisk.push_back("user");
    if (iequals(context.insiderRisk, "none")) noRisk.push_back("insider");
    if (iequals(context.servicePrincipalRisk, "none")) noRisk.push_back("service principal");
    if (!noRisk.empty()) out.push_back(fmt::format("risk levels ({}) assumed 'none'", join(noRisk)));
    if (s.ipMalformed)
        out.push_back(fmt::format("'{}' is not a valid IP address: the location is treated as unknown", *context.ipAddress));
    else if (!s.ip)
        out.push_back("IP address unknown: location conditions that depend on it cannot be decided");
    if (index.anyCountryLocation && !s.countryKnown && s.ip)
        out.push_back("country unknown: tenantscan does not map IP addresses to countries, so country locations cannot be decided");
    if (index.anyAllTrusted)
        out.push_back("AllTrusted covers the trusted IP named locations only: the MFA service's trusted IPs are not in the snapshot");
    if (s.legacyClient && !snapshot.securityDefaults && index.anyEnabledPolicy)
        out.push_back("security defaults were not collected; they are off, since Entra allows no enabled Conditional Access policy while they are on");
    if (s.legacyClient && snapshot.securityDefaults && snapshot.securityDefaults->isEnabled && index.anyEnabledPolicy)
        out.push_back("the snapshot is inconsistent: security defaults are enabled while Conditional Access policies are "
                      "enabled, which Entra does not allow; whether security defaults are on is treated as unknown");
    return out;
}

}  // namespace

namespace {

// Fills every field of `result` but context and user (set by the caller): the detailed evaluation of
// every policy, or with `candidates` (policy indices, ascending) of just those whose users condition
// can hold for the user.
void evaluate_detailed(WhatIfResult& result, const EngineIndex& index, const Directory& directory,
                       const Snapshot& snapshot, const std::vector<std::uint32_t>* candidates) {
    const SignInFacts s = facts_of(result.context);
    const UserFacts user = facts_of_user(directory, result.user, result.context.userId);
    const Evaluator evaluator(index, directory);
    OutcomeTally enforced, reportOnly;
    auto evaluate_one = [&](const CompiledPolicy& c) {
        result.policies.push_back(evaluate_compiled(evaluator, c, s, user));
        const auto& e = result.policies.back();
        if (c.policy->state == PolicyState::Enabled) tally(enforced, e);
        else if (c.policy->state == PolicyState::ReportOnly) tally(reportOnly, e);
    };
    if (!candidates) {
        result.policies.reserve(index.policies.size());
        for (const auto& c : index.policies) evaluate_one(c);
    } else {
        for (std::uint32_t i : *candidates) {
            const auto& c = index.policies[i];
            UsersMatch m = evaluator.users(c, user, nullptr);
            if (m != UsersMatch::NotIncluded && m != UsersMatch::Excluded) evaluate_one(c);
        }
    }
    const TenantVerdict tenant = tenant_verdict(snapshot, index, s);
    finish(tenant, enforced, reportOnly);
    result.blockedBySecurityDefaults = tenant.securityDefaultsBlock;
    result.outcome = enforced.outcome();
    result.reportOnlyOutcome = reportOnly.outcome();
    if (result.outcome == AccessOutcome::Undetermined) result.undeterminedBy = std::move(enforced.unknowns);
    if (result.reportOnlyOutcome == AccessOutcome::Undetermined) result.reportOnlyUndeterminedBy = std::move(reportOnly.unknowns);
    result.assumptions = assumptions_for(s, index, snapshot);
}

}  // namespace

WhatIfResult ConditionalAccessEngine::evaluate(const SignInContext& context) const {
    WhatIfResult result;
    result.context = context;
    result.user = directory_->find_user(context.userId);
    evaluate_detailed(result, *index_, *directory_, *snapshot_, nullptr);
    return result;
}

WhatIfResult ConditionalAccessEngine::evaluate_blocking(const PreparedSignIn& prepared, UserIndex user) const {
    WhatIfResult result;
    result.context = prepared.context_;
    result.context.userId = directory_->user(user).id;
    result.user = user;
    // Every other policy is disabled, cannot block this client, or is ruled out by a condition that
    // does not depend on the user: evaluate() would find that it does not apply.
    std::vector<std::uint32_t> candidates;
    for (const auto& candidate : prepared.enforced_) candidates.push_back(candidate.policy);
    for (const auto& candidate : prepared.reportOnly_) candidates.push_back(candidate.policy);
    std::sort(candidates.begin(), candidates.end());
    evaluate_detailed(result, *index_, *directory_, *snapshot_, &candidates);
    return result;
}

PolicyEvaluation ConditionalAccessEngine::evaluate_policy(const ConditionalAccessPolicy& policy, const SignInContext& context,
                                         std::optional<UserIndex> user) const {
    const SignInFacts s = facts_of(context);
    const UserFacts facts = facts_of_user(*directory_, user, context.userId);
    const Evaluator evaluator(*index_, *directory_);
    for (const auto& c : index_->policies)
        if (c.policy == &policy) return evaluate_compiled(evaluator, c, s, facts);
    // A policy from elsewhere (e.g. a proposed change): resolve its references now.
    detail::EngineIndex scratch;
    scratch.trustedIpLocations = index_->trustedIpLocations;
    scratch.locationsById = index_->locationsById;
    scratch.ipRanges = index_->ipRanges;
    scratch.trustedIpRanges = index_->trustedIpRanges;
    scratch.rolesCollected = index_->rolesCollected;
    CompiledPolicy c = compile_policy(policy, *directory_, scratch);
    const Evaluator scratchEvaluator(scratch, *directory_);
    return evaluate_compiled(scratchEvaluator, c, s, facts);
}

PreparedSignIn ConditionalAccessEngine::prepare(const SignInContext& context) const {
    PreparedSignIn prepared;
    prepared.context_ = context;
    const SignInFacts s = facts_of(prepared.context_);
    const Evaluator evaluator(*index_, *directory_);
    for (std::uint32_t i = 0; i < index_->policies.size(); ++i) {
        const auto& c = index_->policies[i];
        if (c.policy->state == PolicyState::Disabled) continue;
        if ((s.legacyClient ? c.legacyControls : c.modernControls).empty()) continue;  // cannot change the outcome
        if (evaluator.workload(c, nullptr).match == Match::No) continue;
        bool known = true, excluded = false;
        for (ContextCondition condition : kContextConditions) {
            Match m = (evaluator.*condition)(c, s, nullptr).match;
            if (m == Match::No) {
                excluded = true;
                break;
            }
            if (m == Match::Unknown) known = false;
        }
        if (!excluded) (c.policy->state == PolicyState::Enabled ? prepared.enforced_ : prepared.reportOnly_).push_back({i, known});
    }
    const TenantVerdict tenant = tenant_verdict(*snapshot_, *index_, s);
    prepared.securityDefaultsBlock_ = tenant.securityDefaultsBlock;
    prepared.securityDefaultsUnknown_ = tenant.securityDefaultsUnknown;
    prepared.policiesUnknown_ = tenant.policiesUnknown;
    return prepared;
}

UserDecision ConditionalAccessEngine::decide(const PreparedSignIn& prepared, UserIndex user) const {
    const Evaluator evaluator(*index_, *directory_);
    const UserFacts facts = facts_of_user(*directory_, user, {});
    UserDecision decision;
    OutcomeTally enforced, reportOnly;
    const ConditionalAccessPolicy* firstUndetermined = nullptr;
    // The first policy that blocks decides: the scans stop there.
    for (const auto& candidate : prepared.enforced_) {
        const auto& c = index_->policies[candidate.policy];
        UsersMatch m = evaluator.users(c, facts, nullptr);
        if (m == UsersMatch::Excluded && !decision.excludedBy) decision.excludedBy = c.policy;
        if (m == UsersMatch::NotIncluded || m == UsersMatch::Excluded) continue;
        if (m == UsersMatch::Included && candidate.otherConditionsKnown) {
            enforced.blocked = true;
            decision.decidedBy = c.policy;
            break;
        }
        enforced.undetermined = true;
        if (!firstUndetermined) firstUndetermined = c.policy;
    }
    for (const auto& candidate : prepared.reportOnly_) {
        UsersMatch m = evaluator.users(index_->policies[candidate.policy], facts, nullptr);
        if (m == UsersMatch::NotIncluded || m == UsersMatch::Excluded) continue;
        if (m == UsersMatch::Included && candidate.otherConditionsKnown) {
            reportOnly.blocked = true;
            break;
        }
        reportOnly.undetermined = true;
    }
    TenantVerdict tenant;
    tenant.securityDefaultsBlock = prepared.securityDefaultsBlock_;
    tenant.securityDefaultsUnknown = prepared.securityDefaultsUnknown_;
    tenant.policiesUnknown = prepared.policiesUnknown_;
    finish(tenant, enforced, reportOnly);
    decision.blockedBySecurityDefaults = tenant.securityDefaultsBlock;
    decision.outcome = enforced.outcome();
    decision.reportOnlyOutcome = reportOnly.outcome();
    if (decision.outcome == AccessOutcome::Undetermined) decision.decidedBy = firstUndetermined;
    if (decision.outcome == AccessOutcome::Blocked) decision.excludedBy = nullptr;
    return decision;
}

const char* to_string(Applicability a) {
    switch (a) {
        case Applicability::Applies: return "applies";
        case Applicability::DoesNotApply: return "doesNotApply";
        case Applicability::CannotTell: return "cannotTell";
    }
    return "cannotTell";
}

const char* to_string(AccessOutcome o) {
    switch (o) {
        case AccessOutcome::Blocked: return "blocked";
        case AccessOutcome::Allowed: return "allowed";
        case AccessOutcome::Undetermined: return "undetermined";
    }
    return "undetermined";
}

}  // namespace tenantscan
