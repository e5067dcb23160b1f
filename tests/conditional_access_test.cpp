// The what-if engine, condition by condition, on small inline tenants decoded by the real loader.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/json_input.hpp>

#include "support.hpp"

using nlohmann::json;
using tenantscan::Applicability;
using tenantscan::AccessOutcome;
using tenantscan::PolicyEvaluation;
using tenantscan::SignInContext;
using tenantscan::WhatIfResult;
namespace unknown_input = tenantscan::unknown_input;

namespace {

constexpr const char* kExchange = "00000002-0000-0ff1-ce00-000000000000";
constexpr const char* kGlobalAdmin = "62e90394-69f5-4237-9190-012177145e10";
constexpr const char* kExchangeAdmin = "29232cdf-9323-42fd-ade2-1d097af3e4de";

json user(const std::string& id, const std::string& upn, const std::string& type) {
    return {{"id", id}, {"userPrincipalName", upn}, {"displayName", id}, {"userType", type}, {"accountEnabled", true}};
}

json group(const std::string& id, const std::string& name, const std::vector<std::string>& users,
           const std::vector<std::string>& groups, bool roleAssignable = false) {
    json members = json::array();
    for (const auto& u : users) members.push_back({{"@odata.type", "#microsoft.graph.user"}, {"id", u}});
    for (const auto& g : groups) members.push_back({{"@odata.type", "#microsoft.graph.group"}, {"id", g}});
    return {{"id", id}, {"displayName", name}, {"isAssignableToRole", roleAssignable}, {"members", members}};
}

json ip_location(const std::string& id, const std::string& name, bool trusted, const std::vector<std::string>& ranges) {
    json list = json::array();
    for (const auto& r : ranges) list.push_back({{"cidrAddress", r}});
    return {{"@odata.type", "#microsoft.graph.ipNamedLocation"}, {"id", id}, {"displayName", name}, {"isTrusted", trusted}, {"ipRanges", list}};
}

json country_location(const std::string& id, const std::string& name, const std::vector<std::string>& countries,
                      const std::string& method) {
    return {{"@odata.type", "#microsoft.graph.countryNamedLocation"}, {"id", id}, {"displayName", name},
            {"countriesAndRegions", countries}, {"includeUnknownCountriesAndRegions", false}, {"countryLookupMethod", method}};
}

// A tenant with the people and places every test uses.
json base_graph() {
    return {
        {"users", json::array({user("u-alice", "alice@contoso.com", "Member"), user("u-hve", "scanner@contoso.com", "Member"),
                               user("u-admin", "admin@contoso.com", "Member"), user("u-helpdesk", "helpdesk@contoso.com", "Member"),
                               user("u-guest", "bob_partner.com#EXT#@contoso.onmicrosoft.com", "Guest"),
                               user("u-internal-guest", "contractor@contoso.com", "Guest"),
                               user("u-ext-member", "carol_partner.com#EXT#@contoso.onmicrosoft.com", "Member"),
                               user("u-untyped", "legacy@contoso.com", "")})},
        {"groups", json::array({group("g-hve", "HVE senders", {}, {"g-hve-inner"}), group("g-hve-inner", "Scanners", {"u-hve"}, {}),
                                group("g-helpdesk", "Helpdesk admins", {"u-helpdesk"}, {}, true),
                                group("g-partial", "Partly exported", {"u-admin"}, {"g-not-exported"})})},
        {"roleAssignments", json::array({
                                {{"id", "ra1"}, {"principalId", "u-admin"}, {"roleDefinitionId", kGlobalAdmin}, {"directoryScopeId", "/"}},
                                {{"id", "ra2"}, {"principalId", "g-helpdesk"}, {"roleDefinitionId", kExchangeAdmin}, {"directoryScopeId", "/"}},
                                {{"id", "ra3"}, {"principalId", "u-alice"}, {"roleDefinitionId", kExchangeAdmin}, {"directoryScopeId", "/administrativeUnits/au1"}},
                            })},
        {"namedLocations", json::array({ip_location("loc-office", "Head office", true, {"203.0.113.0/24", "2001:db8:1::/48"}),
                                        ip_location("loc-vpn", "VPN", false, {"198.51.100.0/24"}),
                                        country_location("loc-countries", "Allowed countries", {"DE", "FR"}, "clientIpAddress"),
                                        country_location("loc-gps", "Germany by GPS", {"DE"}, "authenticatorAppGps")})},
        {"securityDefaults", {{"isEnabled", false}}},
    };
}

// A policy: by default enabled, all users, all apps, all client apps, block. `conditions` and
// `grant` are merged over the defaults (JSON merge patch: null removes).
json policy(const std::string& id, const json& conditions = json::object(), const json& grant = json::object(),
            const std::string& state = "enabled") {
    json c = {{"users", {{"includeUsers", {"All"}}}}, {"applications", {{"includeApplications", {"All"}}}}, {"clientAppTypes", {"all"}}};
    if (conditions.is_object()) c.merge_patch(conditions);
    json g = {{"operator", "OR"}, {"builtInControls", {"block"}}};
    if (grant.is_object()) g.merge_patch(grant);
    return {{"id", id}, {"displayName", "Policy " + id}, {"state", state}, {"conditions", c}, {"grantControls", g}};
}

struct Tenant {
    explicit Tenant(const json& document)
        : snapshot(testsupport::snapshot_from(document)), directory(snapshot), engine(snapshot, directory) {}
    tenantscan::Snapshot snapshot;
    tenantscan::Directory directory;
    tenantscan::ConditionalAccessEngine engine;
};

std::unique_ptr<Tenant> tenant_with(const json& policies, const json& graphPatch = json::object()) {
    json graph = base_graph();
    graph["conditionalAccessPolicies"] = policies;
    graph.merge_patch(graphPatch);
    return std::make_unique<Tenant>(json{{"snapshotVersion", 1}, {"tenantId", "t-contoso"}, {"graph", graph}});
}

SignInContext smtp(const std::string& userId) {
    SignInContext context;
    context.userId = userId;  // defaults: Exchange Online, client app "other", platform unknown, no IP
    return context;
}

SignInContext smtp_from(const std::string& userId, const std::string& ip, const std::string& country = "") {
    SignInContext context = smtp(userId);
    context.ipAddress = ip;
    if (!country.empty()) context.country = country;
    return context;
}

// Evaluates the tenant's only policy.
PolicyEvaluation only(const json& onePolicy, const SignInContext& context, const json& graphPatch = json::object()) {
    auto t = tenant_with(json::array({onePolicy}), graphPatch);
    auto result = t->engine.evaluate(context);
    REQUIRE(result.policies.size() == 1);
    PolicyEvaluation e = result.policies.front();
    e.policy = nullptr;  // the tenant goes away
    return e;
}

bool mentions(const std::vector<std::string>& details, const std::string& text) {
    return std::any_of(details.begin(), details.end(), [&](const std::string& d) { return d.find(text) != std::string::npos; });
}

std::string all(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& v : values) out += v + " | ";
    return out;
}

void check_does_not_apply(const PolicyEvaluation& e, const std::string& reason) {
    INFO("reasons: " << all(e.analysisReasons) << " details: " << all(e.details));
    CHECK(e.applicability == Applicability::DoesNotApply);
    CHECK(e.analysisReasons == std::vector<std::string>{reason});
    CHECK(e.unknowns.empty());
}

void check_applies(const PolicyEvaluation& e) {
    INFO("reasons: " << all(e.analysisReasons) << " details: " << all(e.details) << " unknowns: " << all(e.unknowns));
    CHECK(e.applicability == Applicability::Applies);
    CHECK(e.unknowns.empty());
}

void check_cannot_tell(const PolicyEvaluation& e, const std::vector<std::string>& unknowns) {
    INFO("reasons: " << all(e.analysisReasons) << " details: " << all(e.details));
    CHECK(e.applicability == Applicability::CannotTell);
    CHECK(e.analysisReasons == std::vector<std::string>{"notEnoughInformation"});
    CHECK(e.unknowns == unknowns);
}

}  // namespace

TEST_CASE("engine: users — All, None, ids, and exclusions winning") {
    auto everyone = policy("p");
    check_applies(only(everyone, smtp("u-alice")));
    CHECK(only(everyone, smtp("u-alice")).analysisReasons == std::vector<std::string>{"users", "application", "clientApps"});

    auto nobody = policy("p", {{"users", {{"includeUsers", {"None"}}}}});
    check_does_not_apply(only(nobody, smtp("u-alice")), "users");
    CHECK(mentions(only(nobody, smtp("u-alice")).details, "includes no users"));

    auto alice = policy("p", {{"users", {{"includeUsers", {"U-ALICE"}}}}});  // ids compare case-insensitively
    check_applies(only(alice, smtp("u-alice")));
    check_applies(only(alice, smtp("alice@contoso.com")));  // the sign-in may name the user by UPN
    check_does_not_apply(only(alice, smtp("u-admin")), "users");

    auto allButHve = policy("p", {{"users", {{"includeUsers", {"All"}}, {"excludeUsers", {"u-hve"}}}}});
    auto excluded = only(allButHve, smtp("u-hve"));
    check_does_not_apply(excluded, "users");
    CHECK(mentions(excluded.details, "the user is excluded: the user is listed by id"));
    // Included by id and excluded by id: exclusion wins.
    check_does_not_apply(only(policy("p", {{"users", {{"includeUsers", {"u-hve"}}, {"excludeUsers", {"u-hve"}}}}}), smtp("u-hve")),
                         "users");
}

TEST_CASE("engine: users — nested groups, with the membership path as evidence") {
    auto hveOnly = policy("p", {{"users", {{"includeUsers", nullptr}, {"includeGroups", {"g-hve"}}}}});
    auto e = only(hveOnly, smtp("u-hve"));
    check_applies(e);
    CHECK(mentions(e.details, "the user is a member of group 'HVE senders' through 'Scanners'"));
    check_does_not_apply(only(hveOnly, smtp("u-alice")), "users");
    CHECK(mentions(only(hveOnly, smtp("u-alice")).details, "not among the included users (groups 'HVE senders')"));

    auto allButHve = policy("p", {{"users", {{"excludeGroups", {"G-HVE"}}}}});
    auto excluded = only(allButHve, smtp("u-hve"));
    check_does_not_apply(excluded, "users");
    CHECK(mentions(excluded.details, "excluded: the user is a member of group 'HVE senders' through 'Scanners'"));
    check_applies(only(allButHve, smtp("u-alice")));
}

// The exclusion that removes a user, as data (PolicyEvaluation::excludedBy), so that a rule naming it
// (tenant-legacy-auth-protection) reads the engine's decision instead of re-deriving it.
TEST_CASE("engine: users — which exclusion removed the user") {
    using Kind = tenantscan::UserListMatch::Kind;
    auto byGroup = only(policy("p", {{"users", {{"excludeGroups", {"G-HVE"}}}}}), smtp("u-hve"));
    REQUIRE(byGroup.excludedBy);
    CHECK(byGroup.excludedBy->kind == Kind::Group);
    CHECK(byGroup.excludedBy->id == "g-hve");
    auto byId = only(policy("p", {{"users", {{"excludeUsers", {"u-alice"}}, {"excludeGroups", {"g-hve"}}}}}), smtp("u-alice"));
    REQUIRE(byId.excludedBy);
    CHECK(byId.excludedBy->kind == Kind::User);
    CHECK(byId.excludedBy->id == "u-alice");
    auto byRole = only(policy("p", {{"users", {{"excludeRoles", {kGlobalAdmin}}}}}), smtp("u-admin"));
    REQUIRE(byRole.excludedBy);
    CHECK(byRole.excludedBy->kind == Kind::Role);
    auto byGuest = only(policy("p", {{"users", {{"excludeUsers", {"GuestsOrExternalUsers"}}}}}), smtp("u-guest"));
    REQUIRE(byGuest.excludedBy);
    CHECK(byGuest.excludedBy->kind == Kind::GuestsOrExternalUsers);
    // Not excluded (applies), or out for another reason (not included): no exclusion to name.
    CHECK_FALSE(only(policy("p", {{"users", {{"excludeGroups", {"g-hve"}}}}}), smtp("u-alice")).excludedBy);
    CHECK_FALSE(only(policy("p", {{"users", {{"includeUsers", {"u-hve"}}, {"excludeUsers", {"u-alice"}}}}}), smtp("u-alice")).excludedBy);
}

TEST_CASE("engine: users — groups whose membership the snapshot cannot answer") {
    // A group id that is not in the snapshot: nobody can be shown in or out.
    auto missing = policy("p", {{"users", {{"excludeGroups", {"g-deleted"}}}}});
    auto e = only(missing, smtp("u-alice"));
    check_cannot_tell(e, {unknown_input::kGroupMembership});
    CHECK(mentions(e.details, "group g-deleted is not in the snapshot"));
    // ...unless another part of the condition decides: an excluded-by-id user is out.
    auto both = policy("p", {{"users", {{"excludeGroups", {"g-deleted"}}, {"excludeUsers", {"u-alice"}}}}});
    check_does_not_apply(only(both, smtp("u-alice")), "users");

    // A group containing a group that was not exported: members found are members, others unknown.
    auto partial = policy("p", {{"users", {{"includeUsers", nullptr}, {"includeGroups", {"g-partial"}}}}});
    check_applies(only(partial, smtp("u-admin")));
    auto alice = only(partial, smtp("u-alice"));
    check_cannot_tell(alice, {unknown_input::kGroupMembership});
    CHECK(mentions(alice.details, "contains group g-not-exported, which is not in the snapshot"));

    // Without a groups section at all.
    auto noGroups = only(policy("p", {{"users", {{"excludeGroups", {"g-hve"}}}}}), smtp("u-hve"), {{"groups", nullptr}});
    check_cannot_tell(noGroups, {unknown_input::kGroupMembership});
}

TEST_CASE("engine: users — directory roles, active tenant-wide only") {
    auto admins = policy("p", {{"users", {{"includeUsers", nullptr}, {"includeRoles", {"62E90394-69F5-4237-9190-012177145E10", kExchangeAdmin}}}}});
    auto admin = only(admins, smtp("u-admin"));
    check_applies(admin);
    CHECK(mentions(admin.details, "holds the active role Global Administrator"));
    // Through a role-assignable group.
    auto helpdesk = only(admins, smtp("u-helpdesk"));
    check_applies(helpdesk);
    CHECK(mentions(helpdesk.details, "Exchange Administrator"));
    // An assignment scoped to an administrative unit does not count.
    check_does_not_apply(only(admins, smtp("u-alice")), "users");
    // Excluding a role.
    check_does_not_apply(only(policy("p", {{"users", {{"excludeRoles", {kGlobalAdmin}}}}}), smtp("u-admin")), "users");
    // Role assignments not collected: unknown.
    auto e = only(admins, smtp("u-alice"), {{"roleAssignments", nullptr}});
    check_cannot_tell(e, {unknown_input::kRoleMembership});
    CHECK(mentions(e.details, "role assignments (/graph/roleAssignments) were not collected"));
}

TEST_CASE("engine: users — guests and external users") {
    auto b2bGuests = policy("p", {{"users", {{"includeUsers", nullptr},
                                             {"includeGuestsOrExternalUsers", {{"guestOrExternalUserTypes", "b2bCollaborationGuest"},
                                                                               {"externalTenants", {{"membershipKind", "all"}}}}}}}});
    auto guest = only(b2bGuests, smtp("u-guest"));
    check_applies(guest);
    CHECK(mentions(guest.details, "guest or external user (b2bCollaborationGuest)"));
    check_does_not_apply(only(b2bGuests, smtp("u-alice")), "users");
    check_does_not_apply(only(b2bGuests, smtp("u-ext-member")), "users");  // a B2B member is not a B2B guest
    // A guest without #EXT# in its UPN may be an internal guest or a renamed B2B guest.
    check_cannot_tell(only(b2bGuests, smtp("u-internal-guest")), {unknown_input::kGuestType});
    // No userType: member or guest is not known.
    check_cannot_tell(only(b2bGuests, smtp("u-untyped")), {unknown_input::kUserType});

    auto bothGuestKinds = policy("p", {{"users", {{"includeUsers", nullptr},
                                                  {"includeGuestsOrExternalUsers", {{"guestOrExternalUserTypes", "internalGuest,b2bCollaborationGuest"}}}}}});
    check_applies(only(bothGuestKinds, smtp("u-internal-guest")));

    // The legacy keyword covers every guest and external user.
    auto keyword = policy("p", {{"users", {{"includeUsers", {"GuestsOrExternalUsers"}}}}});
    check_applies(only(keyword, smtp("u-guest")));
    check_applies(only(keyword, smtp("u-internal-guest")));
    check_applies(only(keyword, smtp("u-ext-member")));
    check_does_not_apply(only(keyword, smtp("u-alice")), "users");

    // Specific external tenants: the guest's home tenant is not in the snapshot.
    auto partnerTenants = policy("p", {{"users", {{"includeUsers", nullptr},
                                                  {"includeGuestsOrExternalUsers", {{"guestOrExternalUserTypes", "b2bCollaborationGuest"},
                                                                                    {"externalTenants", {{"membershipKind", "enumerated"}, {"members", {"tenant-fabrikam"}}}}}}}}});
    auto e = only(partnerTenants, smtp("u-guest"));
    check_cannot_tell(e, {unknown_input::kGuestHomeTenant});
    CHECK(mentions(e.details, "tenant-fabrikam"));
    check_does_not_apply(only(partnerTenants, smtp("u-alice")), "users");

    // Excluding guests.
    auto allButGuests = policy("p", {{"users", {{"excludeGuestsOrExternalUsers", {{"guestOrExternalUserTypes", "b2bCollaborationGuest,b2bCollaborationMember"}}}}}});
    check_does_not_apply(only(allButGuests, smtp("u-guest")), "users");
    check_applies(only(allButGuests, smtp("u-alice")));
}

TEST_CASE("engine: users — a user who is not in /graph/users") {
    auto byId = policy("p", {{"users", {{"includeUsers", {"u-ghost"}}}}});
    check_applies(only(byId, smtp("u-ghost")));
    check_does_not_apply(only(policy("p", {{"users", {{"excludeUsers", {"u-ghost"}}}}}), smtp("u-ghost")), "users");
    check_applies(only(policy("p"), smtp("u-ghost")));  // All users

    auto e = only(policy("p", {{"users", {{"excludeGroups", {"g-hve"}}}}}), smtp("u-ghost"));
    check_cannot_tell(e, {unknown_input::kGroupMembership});
    CHECK(mentions(e.details, "the user is not in /graph/users"));
    check_cannot_tell(only(policy("p", {{"users", {{"includeUsers", nullptr}, {"includeRoles", {kGlobalAdmin}}}}}), smtp("u-ghost")),
                      {unknown_input::kRoleMembership});
    check_cannot_tell(only(policy("p", {{"users", {{"includeUsers", {"GuestsOrExternalUsers"}}}}}), smtp("u-ghost")),
                      {unknown_input::kUserType});
    // A group condition that cannot match anyway (include by id only) does not make it unknown.
    check_does_not_apply(only(policy("p", {{"users", {{"includeUsers", {"u-alice"}}, {"excludeGroups", {"g-hve"}}}}}), smtp("u-ghost")),
                         "users");
}

TEST_CASE("engine: applications — All, Office365, admin portals, app ids, user actions, auth contexts") {
    check_applies(only(policy("p"), smtp("u-alice")));
    auto office = only(policy("p", {{"applications", {{"includeApplications", {"Office365"}}}}}), smtp("u-alice"));
    check_applies(office);
    CHECK(mentions(office.details, "Exchange Online (00000002-0000-0ff1-ce00-000000000000) is included (Office365 contains it)"));
    check_applies(only(policy("p", {{"applications", {{"includeApplications", {kExchange}}}}}), smtp("u-alice")));
    check_does_not_apply(only(policy("p", {{"applications", {{"includeApplications", {"MicrosoftAdminPortals"}}}}}), smtp("u-alice")),
                         "application");
    check_does_not_apply(only(policy("p", {{"applications", {{"includeApplications", {"00000003-0000-0ff1-ce00-000000000000"}}}}}), smtp("u-alice")),
                         "application");
    check_does_not_apply(only(policy("p", {{"applications", {{"includeApplications", {"None"}}}}}), smtp("u-alice")), "application");
    auto excluded = only(policy("p", {{"applications", {{"excludeApplications", {kExchange}}}}}), smtp("u-alice"));
    check_does_not_apply(excluded, "application");
    CHECK(mentions(excluded.details, "is excluded (listed by id)"));
    check_does_not_apply(only(policy("p", {{"applications", {{"excludeApplications", {"Office365"}}}}}), smtp("u-alice")),
                         "application");

    auto actions = only(policy("p", {{"applications", {{"includeApplications", nullptr}, {"includeUserActions", {"urn:user:registersecurityinfo"}}}}}),
                        smtp("u-alice"));
    check_does_not_apply(actions, "userActions");
    CHECK(mentions(actions.details, "targets user actions (urn:user:registersecurityinfo)"));
    check_does_not_apply(only(policy("p", {{"applications", {{"includeApplications", nullptr}, {"includeAuthenticationContextClassReferences", {"c1"}}}}}),
                              smtp("u-alice")),
                         "authenticationContext");

    // An app tenantscan does not know: whether Office365 contains it cannot be told.
    SignInContext unknownApp = smtp("u-alice");
    unknownApp.resourceApp = "11111111-2222-3333-4444-555555555555";
    check_cannot_tell(only(policy("p", {{"applications", {{"includeApplications", {"Office365"}}}}}), unknownApp), {unknown_input::kApplication});
    check_applies(only(policy("p", {{"applications", {{"includeApplications", {"11111111-2222-3333-4444-555555555555"}}}}}), unknownApp));
    // The sign-in names the Office365 group: a policy naming only Exchange may or may not cover it.
    SignInContext office365 = smtp("u-alice");
    office365.resourceApp = "Office365";
    check_applies(only(policy("p", {{"applications", {{"includeApplications", {"Office365"}}}}}), office365));
    check_cannot_tell(only(policy("p", {{"applications", {{"includeApplications", {kExchange}}}}}), office365), {unknown_input::kApplication});
}

TEST_CASE("engine: client app types") {
    check_applies(only(policy("p", {{"clientAppTypes", nullptr}}), smtp("u-alice")));  // empty = all
    auto legacy = policy("p", {{"clientAppTypes", {"exchangeActiveSync", "other"}}});
    auto e = only(legacy, smtp("u-alice"));
    check_applies(e);
    CHECK(mentions(e.details, "client app type 'other' matches 'other'"));
    auto modern = only(policy("p", {{"clientAppTypes", {"browser", "mobileAppsAndDesktopClients"}}}), smtp("u-alice"));
    check_does_not_apply(modern, "clientApps");
    CHECK(mentions(modern.details, "client app type 'other' is not among the policy's (browser, mobileAppsAndDesktopClients)"));

    SignInContext eas = smtp("u-alice");
    eas.clientAppType = "exchangeActiveSync";
    check_applies(only(legacy, eas));
    check_applies(only(policy("p", {{"clientAppTypes", {"easSupported"}}}), eas));
    check_does_not_apply(only(policy("p", {{"clientAppTypes", {"other"}}}), eas), "clientApps");
}

TEST_CASE("engine: device platforms with an unknown platform") {
    auto unknownPlatforms = policy("p", {{"platforms", {{"includePlatforms", {"all"}}, {"excludePlatforms", {"android", "iOS", "windows", "macOS"}}}}});
    auto e = only(unknownPlatforms, smtp("u-alice"));
    check_applies(e);
    CHECK(mentions(e.details, "the unknown device platform is covered by include 'all' and is not in the excluded platforms (android, iOS, windows, macOS)"));
    auto mobile = only(policy("p", {{"platforms", {{"includePlatforms", {"android", "iOS"}}}}}), smtp("u-alice"));
    check_does_not_apply(mobile, "devicePlatform");
    CHECK(mentions(mobile.details, "the device platform is unknown and the policy includes only named platforms (android, iOS)"));

    SignInContext windows = smtp("u-alice");
    windows.platform = "Windows";
    check_does_not_apply(only(unknownPlatforms, windows), "devicePlatform");
    check_applies(only(policy("p", {{"platforms", {{"includePlatforms", {"windows"}}}}}), windows));
    windows.platform = "linux";
    check_applies(only(unknownPlatforms, windows));

    auto t = tenant_with(json::array({unknownPlatforms}));
    auto result = t->engine.evaluate(smtp("u-alice"));
    CHECK(mentions(result.assumptions, "device platform unknown"));
}

TEST_CASE("engine: locations by IP, AllTrusted, countries, and when the IP is unknown") {
    auto outsideTrusted = policy("p", {{"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {"AllTrusted"}}}}});
    auto office = only(outsideTrusted, smtp_from("u-alice", "203.0.113.25"));
    check_does_not_apply(office, "location");
    CHECK(mentions(office.details, "IP 203.0.113.25 is in an excluded location: AllTrusted: 'Head office' (203.0.113.0/24)"));
    check_does_not_apply(only(outsideTrusted, smtp_from("u-alice", "2001:db8:1::25")), "location");
    check_applies(only(outsideTrusted, smtp_from("u-alice", "198.51.100.7")));  // the VPN is not trusted
    auto unknownIp = only(outsideTrusted, smtp("u-alice"));
    check_cannot_tell(unknownIp, {unknown_input::kLocation});
    CHECK(mentions(unknownIp.details, "the policy depends on the sign-in location (the sign-in from an unknown IP address)"));
    // Include All with no exclusion holds wherever the sign-in comes from.
    check_applies(only(policy("p", {{"locations", {{"includeLocations", {"All"}}}}}), smtp("u-alice")));
    // Without trusted locations, AllTrusted covers nothing, even for an unknown IP.
    check_applies(only(outsideTrusted, smtp("u-alice"), {{"namedLocations", json::array()}}));

    auto vpnOnly = policy("p", {{"locations", {{"includeLocations", {"loc-vpn"}}}}});
    check_applies(only(vpnOnly, smtp_from("u-alice", "198.51.100.200")));
    check_does_not_apply(only(vpnOnly, smtp_from("u-alice", "198.51.101.1")), "location");
    check_cannot_tell(only(vpnOnly, smtp("u-alice")), {unknown_input::kLocation});

    auto countries = policy("p", {{"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {"loc-countries"}}}}});
    check_does_not_apply(only(countries, smtp_from("u-alice", "192.0.2.1", "de")), "location");
    check_applies(only(countries, smtp_from("u-alice", "192.0.2.1", "US")));
    check_cannot_tell(only(countries, smtp_from("u-alice", "192.0.2.1")), {unknown_input::kCountry});
    check_cannot_tell(only(countries, smtp("u-alice")), {unknown_input::kLocation});
    // GPS locations: a legacy client cannot share its GPS position, so it is never inside one.
    auto gps = policy("p", {{"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {"loc-gps"}}}}});
    check_applies(only(gps, smtp_from("u-alice", "192.0.2.1", "DE")));
    SignInContext browser = smtp_from("u-alice", "192.0.2.1", "DE");
    browser.clientAppType = "browser";
    check_cannot_tell(only(gps, browser), {unknown_input::kCountry});

    // A location the snapshot does not have is named.
    auto missing = only(policy("p", {{"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {"loc-gone"}}}}}),
                        smtp_from("u-alice", "192.0.2.1"));
    check_cannot_tell(missing, {unknown_input::kNamedLocation});
    CHECK(mentions(missing.details, "named location loc-gone is not in the snapshot"));
    check_cannot_tell(only(countries, smtp_from("u-alice", "192.0.2.1", "DE"), {{"namedLocations", nullptr}}), {unknown_input::kNamedLocation});
}

TEST_CASE("engine: device filters with no registered device") {
    auto filter = [](const std::string& mode, const std::string& rule) {
        return policy("p", {{"devices", {{"deviceFilter", {{"mode", mode}, {"rule", rule}}}}}});
    };
    auto includePositive = only(filter("include", "device.trustType -eq \"ServerAD\""), smtp("u-alice"));
    check_does_not_apply(includePositive, "devices");
    CHECK(mentions(includePositive.details, "the include-mode device filter (device.trustType -eq \"ServerAD\") does not match a device that is not registered"));
    check_applies(only(filter("include", "device.trustType -ne \"ServerAD\" -or device.isCompliant -ne True"), smtp("u-alice")));
    auto excludePositive = only(filter("exclude", "device.isCompliant -eq True -or device.trustType -eq \"ServerAD\""), smtp("u-alice"));
    check_applies(excludePositive);
    CHECK(mentions(excludePositive.details, "so the device is not excluded"));
    check_does_not_apply(only(filter("exclude", "device.trustType -ne 'Workplace'"), smtp("u-alice")), "devices");

    auto malformed = only(filter("exclude", "device.trustType -equals \"ServerAD\""), smtp("u-alice"));
    check_cannot_tell(malformed, {unknown_input::kDeviceFilter});
    CHECK(mentions(malformed.details, "unknown operator '-equals'"));
    CHECK(mentions(malformed.details, "at position 17"));
}

TEST_CASE("engine: risk levels, authentication flows, workload identities, state") {
    auto highRisk = policy("p", {{"signInRiskLevels", {"high", "medium"}}});
    auto e = only(highRisk, smtp("u-alice"));
    check_does_not_apply(e, "signInRisk");
    CHECK(mentions(e.details, "sign-in risk 'none' is not among the policy's levels (high, medium)"));
    SignInContext risky = smtp("u-alice");
    risky.signInRisk = "high";
    check_applies(only(highRisk, risky));
    check_does_not_apply(only(policy("p", {{"userRiskLevels", {"high"}}}), smtp("u-alice")), "userRisk");
    check_does_not_apply(only(policy("p", {{"insiderRiskLevels", {"elevated"}}}), smtp("u-alice")), "insiderRisk");
    check_applies(only(policy("p", {{"userRiskLevels", {"none", "low"}}}), smtp("u-alice")));

    auto flows = policy("p", {{"authenticationFlows", {{"transferMethods", "deviceCodeFlow,authenticationTransfer"}}}});
    check_does_not_apply(only(flows, smtp("u-alice")), "authenticationFlow");
    SignInContext deviceCode = smtp("u-alice");
    deviceCode.authenticationFlow = "deviceCodeFlow";
    check_applies(only(flows, deviceCode));

    auto workload = policy("p", {{"users", {{"includeUsers", {"None"}}}}, {"clientApplications", {{"includeServicePrincipals", {"ServicePrincipalsInMyTenant"}}}},
                                 {"servicePrincipalRiskLevels", {"high"}}});
    check_does_not_apply(only(workload, smtp("u-alice")), "workloadIdentities");

    check_does_not_apply(only(policy("p", {}, {}, "disabled"), smtp("u-alice")), "policyNotEnabled");
    auto reportOnly = only(policy("p", {}, {}, "enabledForReportingButNotEnforced"), smtp("u-alice"));
    check_applies(reportOnly);
    CHECK(mentions(reportOnly.details, "report-only"));
}

TEST_CASE("engine: grant controls a legacy client cannot satisfy") {
    auto orControls = policy("p", {}, {{"operator", "OR"}, {"builtInControls", {"mfa", "compliantDevice"}}});
    auto e = only(orControls, smtp("u-alice"));
    CHECK(e.blockingControls == std::vector<std::string>{"mfa", "compliantDevice"});
    CHECK(mentions(e.details, "any one would allow the sign-in, but a legacy client can satisfy none of them"));

    auto strength = policy("p", {}, {{"builtInControls", nullptr}, {"authenticationStrength", {{"id", "00000000-0000-0000-0000-000000000004"}, {"displayName", "Phishing-resistant MFA"}}}});
    CHECK(only(strength, smtp("u-alice")).blockingControls == std::vector<std::string>{"authenticationStrength"});
    auto mixed = policy("p", {}, {{"operator", "AND"}, {"builtInControls", {"mfa", "futureControl"}}, {"termsOfUse", {"tou-1"}}, {"customAuthenticationFactors", {"duo"}}});
    CHECK(only(mixed, smtp("u-alice")).blockingControls ==
          std::vector<std::string>{"mfa", "futureControl", "termsOfUse", "customAuthenticationFactors"});
    auto blockFirst = policy("p", {}, {{"builtInControls", {"mfa", "block"}}});
    CHECK(only(blockFirst, smtp("u-alice")).blockingControls == std::vector<std::string>{"block", "mfa"});

    auto sessionOnly = policy("p", {}, {{"builtInControls", nullptr}});
    sessionOnly["sessionControls"] = {{"signInFrequency", {{"isEnabled", true}, {"type", "hours"}, {"value", 1}}}};
    auto t = tenant_with(json::array({sessionOnly}));
    auto result = t->engine.evaluate(smtp("u-alice"));
    check_applies(result.policies.front());
    CHECK(result.policies.front().blockingControls.empty());
    CHECK_FALSE(result.policies.front().wouldBlock());
    CHECK(mentions(result.policies.front().details, "only session controls"));
    CHECK(result.outcome == AccessOutcome::Allowed);

    // A modern client can satisfy MFA interactively; only block blocks it.
    SignInContext browser = smtp("u-alice");
    browser.clientAppType = "browser";
    CHECK(only(orControls, browser).blockingControls.empty());
    CHECK(only(blockFirst, browser).blockingControls == std::vector<std::string>{"block"});
}

TEST_CASE("engine: overall outcome — blocked, allowed, undetermined, and report-only") {
    json policies = json::array({
        policy("block-legacy", {{"users", {{"excludeGroups", {"g-hve"}}}}, {"clientAppTypes", {"exchangeActiveSync", "other"}}}),
        policy("mfa-outside-office", {{"users", {{"includeUsers", {"u-hve"}}}}, {"locations", {{"includeLocations", {"All"}}, {"excludeLocations", {"AllTrusted"}}}}},
               {{"builtInControls", {"mfa"}}}),
        policy("report-only-admins", {{"users", {{"includeUsers", nullptr}, {"includeGroups", {"g-hve"}}}}}, {}, "enabledForReportingButNotEnforced"),
        policy("disabled-all", {}, {}, "disabled"),
        policy("browser-only", {{"clientAppTypes", {"browser"}}}),
    });
    auto t = tenant_with(policies);

    WhatIfResult alice = t->engine.evaluate(smtp("u-alice"));
    CHECK(alice.outcome == AccessOutcome::Blocked);
    REQUIRE(alice.blocking_enforced().size() == 1);
    CHECK(alice.blocking_enforced().front()->policy->id == "block-legacy");
    CHECK(alice.reportOnlyOutcome == AccessOutcome::Allowed);
    CHECK(alice.user.has_value());
    CHECK(alice.policies.size() == 5);
    CHECK(alice.policies[3].analysisReasons == std::vector<std::string>{"policyNotEnabled"});

    // The HVE account is excluded from the legacy block; MFA outside the office decides, and the IP is unknown.
    WhatIfResult hve = t->engine.evaluate(smtp("u-hve"));
    CHECK(hve.outcome == AccessOutcome::Undetermined);
    CHECK(hve.undeterminedBy == std::vector<std::string>{unknown_input::kLocation});
    REQUIRE(hve.undetermined_enforced().size() == 1);
    CHECK(hve.undetermined_enforced().front()->policy->id == "mfa-outside-office");
    CHECK(hve.reportOnlyOutcome == AccessOutcome::Blocked);  // report-only is evaluated, never enforced
    REQUIRE(hve.blocking_report_only().size() == 1);
    CHECK(hve.blocking_report_only().front()->policy->id == "report-only-admins");
    CHECK(mentions(hve.assumptions, "IP address unknown"));
    CHECK(mentions(hve.assumptions, "no registered device"));
    CHECK(mentions(hve.assumptions, "risk levels (sign-in, user, insider, service principal) assumed 'none'"));
    CHECK(mentions(hve.assumptions, "AllTrusted covers the trusted IP named locations only"));

    CHECK(t->engine.evaluate(smtp_from("u-hve", "203.0.113.9")).outcome == AccessOutcome::Allowed);
    auto outside = t->engine.evaluate(smtp_from("u-hve", "192.0.2.9"));
    CHECK(outside.outcome == AccessOutcome::Blocked);
    CHECK(outside.blocking_enforced().front()->blockingControls == std::vector<std::string>{"mfa"});
    CHECK(outside.undeterminedBy.empty());

    // A browser sign-in: the legacy block does not apply, the browser block does.
    SignInContext browser = smtp("u-alice");
    browser.clientAppType = "browser";
    auto b = t->engine.evaluate(browser);
    CHECK(b.outcome == AccessOutcome::Blocked);
    CHECK(b.blocking_enforced().front()->policy->id == "browser-only");
}

TEST_CASE("engine: security defaults decide legacy sign-ins instead of Conditional Access") {
    // Entra allows no enabled policy beside security defaults: a report-only one is allowed.
    json blockNobody = json::array({policy("p", {{"users", {{"includeUsers", {"None"}}}}}, json::object(),
                                           "enabledForReportingButNotEnforced")});
    auto on = tenant_with(blockNobody, {{"securityDefaults", {{"isEnabled", true}}}});
    auto legacy = on->engine.evaluate(smtp("u-hve"));
    CHECK(legacy.blockedBySecurityDefaults);
    CHECK(legacy.outcome == AccessOutcome::Blocked);
    CHECK(legacy.blocking_enforced().empty());
    SignInContext eas = smtp("u-hve");
    eas.clientAppType = "exchangeActiveSync";
    CHECK(on->engine.evaluate(eas).outcome == AccessOutcome::Blocked);
    SignInContext browser = smtp("u-hve");
    browser.clientAppType = "browser";
    CHECK(on->engine.evaluate(browser).outcome == AccessOutcome::Allowed);
    CHECK_FALSE(on->engine.evaluate(browser).blockedBySecurityDefaults);

    // An impossible snapshot (security defaults on and an enabled policy) decides nothing by
    // security defaults: a sign-in no enforced policy blocks is undetermined, and the result says why.
    auto both = tenant_with(json::array({policy("p", {{"users", {{"includeUsers", {"None"}}}}})}),
                            {{"securityDefaults", {{"isEnabled", true}}}});
    auto inconsistent = both->engine.evaluate(smtp("u-hve"));
    CHECK_FALSE(inconsistent.blockedBySecurityDefaults);
    CHECK(inconsistent.outcome == AccessOutcome::Undetermined);
    CHECK(inconsistent.undeterminedBy == std::vector<std::string>{"security defaults"});
    CHECK(std::any_of(inconsistent.assumptions.begin(), inconsistent.assumptions.end(),
                      [](const std::string& a) { return a.find("inconsistent") != std::string::npos; }));
    auto decided = both->engine.decide(both->engine.prepare(smtp("u-hve")), 0);
    CHECK(decided.outcome == AccessOutcome::Undetermined);
    CHECK_FALSE(decided.blockedBySecurityDefaults);

    // Not collected, and no enabled policy proves them off: undetermined.
    auto unknown = tenant_with(json::array({policy("p", {}, {}, "disabled")}), {{"securityDefaults", nullptr}});
    auto u = unknown->engine.evaluate(smtp("u-hve"));
    CHECK(u.outcome == AccessOutcome::Undetermined);
    CHECK(u.undeterminedBy == std::vector<std::string>{unknown_input::kSecurityDefaults});
    // An enabled policy proves them off.
    auto provenOff = tenant_with(json::array({policy("p", {{"users", {{"includeUsers", {"None"}}}}})}),
                                 {{"securityDefaults", nullptr}});
    auto off = provenOff->engine.evaluate(smtp("u-hve"));
    CHECK(off.outcome == AccessOutcome::Allowed);
    CHECK(mentions(off.assumptions, "security defaults were not collected"));

    // Policies not collected: Conditional Access cannot be judged.
    auto noPolicies = std::make_unique<Tenant>(json{{"snapshotVersion", 1}, {"graph", {{"securityDefaults", {{"isEnabled", false}}}}}});
    auto n = noPolicies->engine.evaluate(smtp("u-hve"));
    CHECK(n.outcome == AccessOutcome::Undetermined);
    CHECK(n.undeterminedBy == std::vector<std::string>{unknown_input::kPolicies});
    CHECK_FALSE(n.user.has_value());
}

TEST_CASE("engine: decide() after prepare() agrees with evaluate() for every user") {
    json policies = json::array({
        policy("block-legacy", {{"users", {{"excludeGroups", {"g-hve"}}, {"excludeUsers", {"u-untyped"}}}}, {"clientAppTypes", {"exchangeActiveSync", "other"}}}),
        policy("admins-mfa", {{"users", {{"includeUsers", nullptr}, {"includeRoles", {kGlobalAdmin, kExchangeAdmin}}}}}, {{"builtInControls", {"mfa"}}}),
        policy("guests", {{"users", {{"includeUsers", nullptr}, {"includeGuestsOrExternalUsers", {{"guestOrExternalUserTypes", "b2bCollaborationGuest"}}}}}}),
        policy("partial", {{"users", {{"includeUsers", nullptr}, {"includeGroups", {"g-partial"}}}}, {"locations", {{"includeLocations", {"loc-vpn"}}}}}),
        policy("report-only", {{"users", {{"excludeGroups", {"g-deleted"}}}}}, {}, "enabledForReportingButNotEnforced"),
        policy("session-only", {}, {{"builtInControls", nullptr}}),
        policy("browser", {{"clientAppTypes", {"browser"}}}),
    });
    auto t = tenant_with(policies);
    std::vector<SignInContext> contexts = {smtp(""), smtp_from("", "198.51.100.1"), smtp_from("", "192.0.2.1", "DE")};
    contexts.push_back(smtp(""));
    contexts.back().clientAppType = "browser";
    int blocked = 0, allowed = 0, undetermined = 0, excludedSeen = 0;
    for (auto context : contexts) {
        auto prepared = t->engine.prepare(context);
        for (tenantscan::UserIndex u = 0; u < t->directory.user_count(); ++u) {
            context.userId = t->directory.user(u).id;
            INFO("user " << context.userId << " ip " << context.ipAddress.value_or("-") << " client " << context.clientAppType);
            auto full = t->engine.evaluate(context);
            auto quick = t->engine.decide(prepared, u);
            CHECK(quick.outcome == full.outcome);
            CHECK(quick.reportOnlyOutcome == full.reportOnlyOutcome);
            CHECK(quick.blockedBySecurityDefaults == full.blockedBySecurityDefaults);
            if (full.outcome == AccessOutcome::Blocked) {
                ++blocked;
                CHECK(quick.decidedBy == full.blocking_enforced().front()->policy);
            } else if (full.outcome == AccessOutcome::Undetermined) {
                ++undetermined;
                CHECK(quick.decidedBy == full.undetermined_enforced().front()->policy);
            } else {
                ++allowed;
                CHECK(quick.decidedBy == nullptr);
            }
            // excludedBy (for outcomes other than blocked): only block-legacy excludes anyone (g-hve, u-untyped),
            // and only legacy sign-ins.
            bool excludedFromLegacyBlock = (context.userId == "u-hve" || context.userId == "u-untyped") &&
                                           context.clientAppType == "other" && full.outcome != AccessOutcome::Blocked;
            CHECK(quick.excludedBy == (excludedFromLegacyBlock ? &t->snapshot.conditionalAccessPolicies->front() : nullptr));
            if (excludedFromLegacyBlock) {
                ++excludedSeen;
                CHECK(mentions(full.policies.front().details, "the user is excluded"));
            }
        }
    }
    // The fixture exercises every outcome.
    CHECK(blocked > 0);
    CHECK(allowed > 0);
    CHECK(undetermined > 0);
    CHECK(excludedSeen > 0);
}

TEST_CASE("engine: evaluate_policy on a policy that is not in the snapshot") {
    auto t = tenant_with(json::array());
    auto proposed = testsupport::snapshot_from(
        {{"snapshotVersion", 1}, {"graph", {{"conditionalAccessPolicies", json::array({policy("proposed", {{"users", {{"excludeGroups", {"g-hve"}}}}})})}}}});
    const auto& p = proposed.conditionalAccessPolicies->front();
    auto hve = t->directory.find_user("u-hve");
    check_does_not_apply(t->engine.evaluate_policy(p, smtp("u-hve"), hve), "users");
    check_applies(t->engine.evaluate_policy(p, smtp("u-alice"), t->directory.find_user("u-alice")));
}

// Real policies from the vendored corpus (tests/data/corpus/j0eyv-ca-baseline, UTF-16LE exports with their groups).
TEST_CASE("engine: corpus policies — legacy block with exclusion groups, unknown platforms") {
    const std::string root = testsupport::corpus_dir() + "/j0eyv-ca-baseline/Config/";
    auto read = [&](const std::string& relative) { return tenantscan::read_json_file(root + relative); };
    json legacyBlock = read("ConditionalAccess/CA002-Global-IdentityProtection-AnyApp-AnyPlatform-Block-LegacyAuthentication.json");
    json unknownPlatforms = read("ConditionalAccess/CA204-Internals-AttackSurfaceReduction-AllApps-AnyPlatform-BlockUnknownPlatforms.json");
    auto groupWith = [&](const std::string& file, const std::vector<std::string>& users) {
        json g = read("Groups/" + file);
        g["members"] = json::array();
        for (const auto& u : users) g["members"].push_back({{"@odata.type", "#microsoft.graph.user"}, {"id", u}});
        return g;
    };
    json graph = {
        {"conditionalAccessPolicies", json::array({legacyBlock, unknownPlatforms})},
        {"users", json::array({user("u-alice", "alice@contoso.com", "Member"), user("u-hve", "scanner@contoso.com", "Member")})},
        {"groups", json::array({groupWith("APP_Microsoft365_E5.json", {"u-alice"}),
                                groupWith("CA-BreakGlassAccounts - Exclude.json", {}),
                                groupWith("CA002-Global-IdentityProtection-AnyApp-AnyPlatform-Block-LegacyAuthentication - Exclude.json", {"u-hve"}),
                                groupWith("CA204-Internals-AttackSurfaceReduction-AllApps-AnyPlatform-BlockUnknownPlatforms - Exclude.json", {})})},
        {"roleAssignments", json::array()},
        {"securityDefaults", {{"isEnabled", false}}},
    };
    Tenant t(json{{"snapshotVersion", 1}, {"graph", graph}});

    auto alice = t.engine.evaluate(smtp("u-alice"));
    CHECK(alice.outcome == AccessOutcome::Blocked);
    REQUIRE(alice.blocking_enforced().size() == 2);
    CHECK(alice.policies[0].analysisReasons == std::vector<std::string>{"users", "application", "clientApps"});
    CHECK(alice.policies[1].analysisReasons == std::vector<std::string>{"users", "application", "clientApps", "devicePlatform"});

    auto hve = t.engine.evaluate(smtp("u-hve"));
    CHECK(hve.outcome == AccessOutcome::Allowed);
    check_does_not_apply(hve.policies[0], "users");
    CHECK(mentions(hve.policies[0].details,
                   "the user is excluded: the user is a member of group 'CA002-Global-IdentityProtection-AnyApp-AnyPlatform-Block-LegacyAuthentication - Exclude'"));
    check_does_not_apply(hve.policies[1], "users");  // not in APP_Microsoft365_E5

    auto decision = t.engine.decide(t.engine.prepare(smtp("")), *t.directory.find_user("u-hve"));
    CHECK(decision.outcome == AccessOutcome::Allowed);
    REQUIRE(decision.excludedBy != nullptr);
    CHECK(decision.excludedBy->displayName == "CA002-Global-IdentityProtection-AnyApp-AnyPlatform-Block-LegacyAuthentication");
}
