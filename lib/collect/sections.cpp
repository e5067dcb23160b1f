#include "sections.hpp"

#include <algorithm>
#include <stdexcept>

#include <tenantscan/detail/sections.hpp>

namespace tenantscan::collect::detail {

namespace {

constexpr const char* kPolicyRead = "the Microsoft Graph application permission Policy.Read.All";
constexpr const char* kExchangeRead =
    "the Office 365 Exchange Online application permission Exchange.ManageAsApp and an Entra role that can read "
    "Exchange settings (Global Reader) assigned to the app";

}  // namespace

// What each collectable section of the snapshot's section table (tenantscan/detail/sections.hpp) needs
// from the app registration, and which sections it is derived from. The table decides which sections
// there are and their order; a section it marks collectable and this list misses stops every collection.
const std::vector<SectionSpec>& section_specs() {
    static const std::vector<SectionSpec> specs = [] {
        const std::vector<SectionSpec> needs = {
            {"/graph/conditionalAccessPolicies", kPolicyRead, {}},
            {"/graph/namedLocations", kPolicyRead, {}},
            {"/graph/securityDefaults", kPolicyRead, {}},
            {"/graph/users", "the Microsoft Graph application permission User.Read.All", {}},
            {"/graph/groups", "the Microsoft Graph application permission GroupMember.Read.All (or Directory.Read.All)",
             {"/graph/conditionalAccessPolicies", "/graph/roleAssignments"}},
            {"/graph/roleAssignments", "the Microsoft Graph application permission RoleManagement.Read.Directory", {}},
            {"/graph/subscribedSkus", "the Microsoft Graph application permission Organization.Read.All", {}},
            {"/graph/signIns",
             "the Microsoft Graph application permission AuditLog.Read.All and an Entra ID P1 or P2 licence in the tenant",
             {}},
            {"/exchange/organizationConfig", kExchangeRead, {}},
            {"/exchange/transportConfig", kExchangeRead, {}},
            {"/exchange/authenticationPolicies", kExchangeRead, {}},
            {"/exchange/users", kExchangeRead, {"/exchange/hveAccounts"}},
            {"/exchange/hveAccounts", kExchangeRead, {}},
            {"/exchange/hveBillingPolicies", kExchangeRead, {}},
            {"/exchange/recipients", kExchangeRead, {"/exchange/hveAccounts"}},
            {"/exchange/casMailboxes", kExchangeRead, {"/exchange/hveAccounts", "/graph/signIns"}},
            {"/exchange/acceptedDomains", kExchangeRead, {}},
            {"/crossCheck",
             "the Microsoft Graph application permission Policy.Read.All (or Policy.Read.ConditionalAccess) and an Entra "
             "ID P1 or P2 licence in the tenant",
             {"/exchange/hveAccounts"}},
        };
        std::vector<SectionSpec> ordered;
        for (const sections::Section& section : sections::all()) {
            if (!section.collectable) continue;
            auto it = std::find_if(needs.begin(), needs.end(),
                                   [&](const SectionSpec& spec) { return section.pointer == spec.pointer; });
            if (it == needs.end())
                throw std::logic_error("collect: no permission recorded for section " + std::string(section.pointer));
            ordered.push_back(*it);
        }
        if (ordered.size() != needs.size()) throw std::logic_error("collect: a permission for a section the table does not collect");
        return ordered;
    }();
    return specs;
}

const SectionSpec* find_section(std::string_view pointer) {
    for (const auto& spec : section_specs()) {
        if (pointer == spec.pointer) return &spec;
    }
    return nullptr;
}

std::string canonical_section(std::string_view name) {
    std::string pointer = !name.empty() && name.front() == '/' ? std::string(name) : "/" + std::string(name);
    return find_section(pointer) ? pointer : std::string{};
}

std::string failure_reason(const RequestFailure& failure, const SectionSpec& section) {
    if (failure.status() == 401 || failure.status() == 403)
        return status_text(failure.status()) + ": needs " + section.permission + " (" + failure.what() + ")";
    return failure.what();
}

}  // namespace tenantscan::collect::detail
