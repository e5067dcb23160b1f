// The Conditional Access catalogue: what tenantscan knows about Graph's vocabulary (guest and external
// user types, the apps in the Office365 and MicrosoftAdminPortals groups, built-in roles, grant
// controls), and the small list helpers the index and the evaluator share. Private to lib/src/engine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <tenantscan/model.hpp>
#include <tenantscan/detail/text.hpp>

namespace tenantscan::ca {

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
inline constexpr unsigned kAllExternalTypes = kInternalGuest | kB2bCollaborationGuest | kB2bCollaborationMember |
                                       kB2bDirectConnectUser | kOtherExternalUser | kServiceProvider;

struct NamedBit {
    const char* name;
    unsigned bit;
};
inline constexpr NamedBit kGuestTypeNames[] = {
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
inline constexpr KnownApp kKnownApps[] = {
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
inline constexpr KnownRole kKnownRoles[] = {
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

inline constexpr const char* kBuiltInControls[] = {"block", "mfa", "compliantDevice", "domainJoinedDevice",
                                            "approvedApplication", "compliantApplication", "passwordChange",
                                            "riskRemediation"};

inline bool contains_lower(const std::vector<std::string>& lowerList, std::string_view value) {
    return std::any_of(lowerList.begin(), lowerList.end(), [&](const std::string& e) { return iequals(e, value); });
}

inline std::vector<std::string> lower_all(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    out.reserve(values.size());
    for (const auto& v : values) out.push_back(to_lower(v));
    return out;
}

inline const KnownApp* find_app(std::string_view id) {
    for (const auto& app : kKnownApps)
        if (iequals(app.id, id)) return &app;
    return nullptr;
}

inline std::string describe_app(std::string_view id) {
    if (const KnownApp* app = find_app(id)) return fmt::format("{} ({})", app->name, app->id);
    return std::string(id);
}

inline std::string describe_role(std::string_view id) {
    for (const auto& role : kKnownRoles)
        if (iequals(role.id, id)) return fmt::format("{} ({})", role.name, role.id);
    return fmt::format("role template {}", id);
}

inline bool is_legacy_client(std::string_view clientAppType) {
    return iequals(clientAppType, "other") || iequals(clientAppType, "exchangeActiveSync") ||
           iequals(clientAppType, "easSupported");
}

inline void add_unique(std::vector<std::string>& values, const std::string& value) {
    if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
}

inline void sort_unique(std::vector<std::string>& values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace tenantscan::ca
