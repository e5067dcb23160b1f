// The snapshot sections the collector can fill, what each needs from the app registration,
// and which other sections it is derived from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "session.hpp"

namespace tenantscan::collect::detail {

struct SectionSpec {
    const char* pointer;     // "/graph/users"
    const char* permission;  // what a 401/403 means is missing, e.g. "User.Read.All"
    std::vector<const char*> derivedFrom;  // sections that must be collected first
};

// Every section, in snapshot order.
const std::vector<SectionSpec>& section_specs();
const SectionSpec* find_section(std::string_view pointer);

// "graph/users", "/graph/users" → "/graph/users"; "" when unknown.
std::string canonical_section(std::string_view name);

// What `collect --check-access` checks a token's claims against for one section.
struct AccessRule {
    bool exchange = false;                    // the Exchange Online token, else the Graph one
    std::vector<const char*> permissions;     // any one of them, in "roles" (application) or "scp" (delegated)
    std::vector<const char*> userRoles;       // delegated: the user needs one of these directory roles (names)
    std::vector<const char*> appRoles;        // application: the app needs one of these directory roles
};
AccessRule access_rule(std::string_view pointer);
// A directory role's template id ("wids" claim), or "" for an unknown name.
std::string role_template_id(std::string_view name);

// The reason recorded in "notCollected": for 401/403 it names the missing permission or role
// (the delegated one and the signed-in user's role when `delegated`: a user's token).
std::string failure_reason(const RequestFailure& failure, const SectionSpec& section, bool delegated = false);

}  // namespace tenantscan::collect::detail
