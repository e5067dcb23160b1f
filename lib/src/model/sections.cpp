// The one table of snapshot sections (tenantscan/detail/sections.hpp), and the Snapshot queries
// that answer from it.
#include <tenantscan/detail/sections.hpp>

#include <tenantscan/detail/text.hpp>

namespace tenantscan {

namespace sections {

const std::vector<Section>& all() {
    // pointer, parent, key, member, collectable, streamable
    static const std::vector<Section> table = {
        {"/graph/conditionalAccessPolicies", "graph", "conditionalAccessPolicies", &Snapshot::conditionalAccessPolicies, true, false},
        {"/graph/namedLocations", "graph", "namedLocations", &Snapshot::namedLocations, true, true},
        {"/graph/securityDefaults", "graph", "securityDefaults", &Snapshot::securityDefaults, true, false},
        {"/graph/users", "graph", "users", &Snapshot::users, true, true},
        {"/graph/groups", "graph", "groups", &Snapshot::groups, true, true},
        {"/graph/roleAssignments", "graph", "roleAssignments", &Snapshot::roleAssignments, true, true},
        {"/graph/subscribedSkus", "graph", "subscribedSkus", &Snapshot::subscribedSkus, true, false},
        {"/graph/signIns", "graph", "signIns", &Snapshot::signIns, true, true},
        {"/exchange/organizationConfig", "exchange", "organizationConfig", &Snapshot::organizationConfig, true, false},
        {"/exchange/transportConfig", "exchange", "transportConfig", &Snapshot::transportConfig, true, false},
        {"/exchange/authenticationPolicies", "exchange", "authenticationPolicies", &Snapshot::authenticationPolicies, true, false},
        {"/exchange/users", "exchange", "users", &Snapshot::exchangeUsers, true, true},
        {"/exchange/hveAccounts", "exchange", "hveAccounts", &Snapshot::hveAccounts, true, true},
        {"/exchange/hveBillingPolicies", "exchange", "hveBillingPolicies", &Snapshot::hveBillingPolicies, true, true},
        {"/exchange/recipients", "exchange", "recipients", &Snapshot::recipients, true, true},
        {"/exchange/casMailboxes", "exchange", "casMailboxes", &Snapshot::casMailboxes, true, true},
        {"/exchange/acceptedDomains", "exchange", "acceptedDomains", &Snapshot::acceptedDomains, true, false},
        {"/exchange/inboundConnectors", "exchange", "inboundConnectors", &Snapshot::inboundConnectors, true, false},
        // The device inventory is the admin's own list (docs/inventory.md): nothing to collect.
        {"/smtpClients", "", "smtpClients", &Snapshot::smtpClients, false, false},
        {"/crossCheck", "", "crossCheck", &Snapshot::crossCheck, true, false},
    };
    return table;
}

const Section* find(std::string_view pointer) {
    for (const Section& section : all())
        if (section.pointer == pointer) return &section;
    return nullptr;
}

const Section* find_ignoring_case(std::string_view pointer) {
    for (const Section& section : all())
        if (iequals(section.pointer, pointer)) return &section;
    return nullptr;
}

bool collected(const Section& section, const Snapshot& snapshot) {
    return std::visit([&](auto member) { return (snapshot.*member).has_value(); }, section.member);
}

}  // namespace sections

bool Snapshot::is_section(std::string_view pointer) {
    // Exactly as rules must spell it: find_ignoring_case is for hand-written snapshots.
    return sections::find(pointer) != nullptr;
}

const std::string* Snapshot::partial_scope(const std::string& pointer) const {
    auto it = partial.find(pointer);
    return it == partial.end() ? nullptr : &it->second;
}

bool Snapshot::has_section(const std::string& pointer) const {
    const sections::Section* section = sections::find(pointer);
    return section && sections::collected(*section, *this);
}

}  // namespace tenantscan
