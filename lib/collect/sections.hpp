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

// The reason recorded in "notCollected": for 401/403 it names the missing permission or role.
std::string failure_reason(const RequestFailure& failure, const SectionSpec& section);

}  // namespace tenantscan::collect::detail
