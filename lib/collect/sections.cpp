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
            {"/exchange/inboundConnectors", kExchangeRead, {}},
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

std::string role_template_id(std::string_view name) {
    // Built-in role template ids, the same in every tenant (docs/microsoft-facts.md §9).
    static const std::vector<std::pair<std::string_view, const char*>> ids = {
        {"Global Administrator", "62e90394-69f5-4237-9190-012177145e10"},
        {"Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"},
        {"Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509"},
        {"Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d"},
        {"Conditional Access Administrator", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"},
        {"Reports Reader", "4a5d8f65-41da-4de4-8968-e035b65339cf"},
        {"Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"},
    };
    for (const auto& [role, id] : ids)
        if (role == name) return id;
    return {};
}

AccessRule access_rule(std::string_view pointer) {
    const std::vector<const char*> policyRoles = {"Global Reader", "Security Reader", "Security Administrator",
                                                  "Conditional Access Administrator", "Global Administrator"};
    const std::vector<const char*> reportRoles = {"Global Reader", "Reports Reader", "Security Reader",
                                                  "Security Administrator", "Global Administrator"};
    const std::vector<const char*> exchangeRoles = {"Global Reader", "Exchange Administrator", "Global Administrator"};
    std::string p(pointer);
    if (p.rfind("/exchange/", 0) == 0) return {true, {"Exchange.ManageAsApp", "Exchange.Manage"}, exchangeRoles, exchangeRoles};
    if (p == "/graph/conditionalAccessPolicies" || p == "/graph/namedLocations" || p == "/graph/securityDefaults")
        return {false, {"Policy.Read.All"}, policyRoles, {}};
    if (p == "/crossCheck") return {false, {"Policy.Read.All", "Policy.Read.ConditionalAccess"}, policyRoles, {}};
    if (p == "/graph/users") return {false, {"User.Read.All", "Directory.Read.All"}, {}, {}};
    if (p == "/graph/groups") return {false, {"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"}, {}, {}};
    if (p == "/graph/roleAssignments")
        return {false, {"RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All"}, {}, {}};
    if (p == "/graph/subscribedSkus") return {false, {"Organization.Read.All", "Directory.Read.All"}, {}, {}};
    if (p == "/graph/signIns") return {false, {"AuditLog.Read.All"}, reportRoles, {}};
    return {};
}

std::string failure_reason(const RequestFailure& failure, const SectionSpec& section, bool delegated) {
    if (failure.status() == 401 || failure.status() == 403) {
        std::string needs = section.permission;
        if (delegated) {
            AccessRule rule = access_rule(section.pointer);
            std::string permission = rule.exchange ? "Exchange.Manage" : rule.permissions.front();
            needs = std::string("the ") + (rule.exchange ? "Office 365 Exchange Online" : "Microsoft Graph") +
                    " delegated permission " + permission +
                    " and a role of the signed-in user that can read it (Global Reader)";
            if (section.pointer == std::string("/graph/signIns") || section.pointer == std::string("/crossCheck"))
                needs += " and an Entra ID P1 or P2 licence in the tenant";
        }
        return status_text(failure.status()) + ": needs " + needs + " (" + failure.what() + ")";
    }
    return failure.what();
}

}  // namespace tenantscan::collect::detail
