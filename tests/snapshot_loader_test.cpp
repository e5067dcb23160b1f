// The snapshot v1 contract: sections, not-collected markers, every object decoder, and the errors
// for malformed input (always naming the file and the JSON pointer).
#include <doctest/doctest.h>

#include <string>

#include <tenantscan/errors.hpp>
#include <tenantscan/snapshot_loader.hpp>

#include "support.hpp"

using nlohmann::json;
using tenantscan::ConditionalAccessPolicy;
using tenantscan::InputError;
using tenantscan::JsonView;
using tenantscan::NamedLocation;
using tenantscan::PolicyState;
using tenantscan::Snapshot;
using testsupport::snapshot_from;

namespace {

using Strings = std::vector<std::string>;

json snapshot_with(const json& graph, const json& exchange = nullptr) {
    json document = {{"snapshotVersion", 1}, {"tenantId", "t-1"}, {"collectedAt", "2026-11-27T06:00:00Z"}};
    if (!graph.is_null()) document["graph"] = graph;
    if (!exchange.is_null()) document["exchange"] = exchange;
    return document;
}

std::string error_of(const json& document) {
    try {
        snapshot_from(document);
    } catch (const InputError& error) {
        return error.what();
    }
    FAIL("expected an InputError");
    return {};
}

ConditionalAccessPolicy policy_from(const json& object) {
    return tenantscan::decode_policy(JsonView(object, "p.json", ""));
}

NamedLocation location_from(const json& object) {
    return tenantscan::decode_named_location(JsonView(object, "l.json", "/loc"));
}

const char* const kAllSections[] = {
    "/graph/conditionalAccessPolicies", "/graph/namedLocations",       "/graph/securityDefaults",
    "/graph/users",                     "/graph/groups",               "/graph/roleAssignments",
    "/graph/subscribedSkus",            "/graph/signIns",              "/exchange/organizationConfig",
    "/exchange/transportConfig",        "/exchange/authenticationPolicies", "/exchange/users",
    "/exchange/hveAccounts",            "/exchange/hveBillingPolicies", "/exchange/recipients",
    "/exchange/casMailboxes",           "/exchange/acceptedDomains",   "/exchange/inboundConnectors",
    "/smtpClients"};

}  // namespace

TEST_CASE("loader: absent or null sections are not collected, empty ones are collected") {
    Snapshot bare = snapshot_from({{"snapshotVersion", 1}});
    for (const char* section : kAllSections) {
        CAPTURE(section);
        CHECK_FALSE(bare.has_section(section));
    }
    CHECK(bare.sourcePath == "inline.json");

    json graph = {{"conditionalAccessPolicies", json::array()}, {"namedLocations", json::array()},
                  {"securityDefaults", {{"isEnabled", false}}}, {"users", json::array()},
                  {"groups", json::array()}, {"roleAssignments", json::array()},
                  {"subscribedSkus", json::array()}, {"signIns", {{"value", json::array()}}}};
    json exchange = {{"organizationConfig", json::object()}, {"transportConfig", json::object()},
                     {"authenticationPolicies", json::array()}, {"users", json::array()},
                     {"hveAccounts", json::array()}, {"hveBillingPolicies", json::array()},
                     {"recipients", json::array()}, {"casMailboxes", json::array()},
                     {"acceptedDomains", json::array()}, {"inboundConnectors", json::array()}};
    json document = snapshot_with(graph, exchange);
    document["smtpClients"] = json::array();
    Snapshot full = snapshot_from(document);
    for (const char* section : kAllSections) {
        CAPTURE(section);
        CHECK(full.has_section(section));
    }
    CHECK(full.signIns->empty());
    CHECK(full.tenantId == "t-1");
    CHECK(full.collectedAt == "2026-11-27T06:00:00Z");
    CHECK_FALSE(full.has_section("/graph/unknown"));
    CHECK_FALSE(full.has_section("graph/users"));

    json nulls = snapshot_with({{"users", nullptr}, {"groups", json::array()}});
    Snapshot partial = snapshot_from(nulls);
    CHECK_FALSE(partial.has_section("/graph/users"));
    CHECK(partial.has_section("/graph/groups"));
}

TEST_CASE("loader: notCollected records why a section is missing") {
    json document = snapshot_with({{"users", json::array()}});
    document["notCollected"] = {{"/graph/signIns", "403 Forbidden: AuditLog.Read.All not granted"},
                                {"/exchange/hveAccounts", "Exchange.ManageAsApp missing"}};
    Snapshot snapshot = snapshot_from(document);
    CHECK(snapshot.notCollected.size() == 2);
    CHECK(snapshot.notCollected.at("/graph/signIns") == "403 Forbidden: AuditLog.Read.All not granted");
    CHECK_FALSE(snapshot.has_section("/graph/signIns"));
    CHECK_FALSE(snapshot.has_section("/exchange/hveAccounts"));

    document["notCollected"] = {{"/graph/users", "timeout"}};
    CHECK(error_of(document) == "inline.json: /notCollected/~1graph~1users: the section is present in the snapshot "
                                "but listed as not collected");
    document["notCollected"] = {{"/graph/signins2", "x"}};
    CHECK(error_of(document).find("/notCollected/~1graph~1signins2: unknown section") != std::string::npos);
    document["notCollected"] = {{"/graph/signIns", 403}};
    CHECK(error_of(document) == "inline.json: /notCollected/~1graph~1signIns: expected the reason as a string, got a number");
    document["notCollected"] = json::array({"/graph/signIns"});
    CHECK(error_of(document).find("inline.json: /notCollected: expected an object") == 0);
}

TEST_CASE("loader: snapshotVersion is required and must be 1, the root must be an object") {
    CHECK(error_of(json::object()) ==
          "inline.json: /snapshotVersion: missing snapshot version (this tenantscan reads version 1)");
    CHECK(error_of({{"snapshotVersion", 2}}) ==
          "inline.json: /snapshotVersion: unsupported snapshot version 2 (this tenantscan reads version 1)");
    CHECK(error_of({{"snapshotVersion", "1"}}) ==
          "inline.json: /snapshotVersion: expected the snapshot version as a number, got a string");
    CHECK(error_of(json::array()) == "inline.json: expected the document root to be an object, got an array");
    CHECK(error_of("text") == "inline.json: expected the document root to be an object, got a string");
}

TEST_CASE("loader: wrong types name the file and the JSON pointer") {
    CHECK(error_of(snapshot_with({{"conditionalAccessPolicies", "all of them"}})) ==
          "inline.json: /graph/conditionalAccessPolicies: expected an array, got a string");
    CHECK(error_of(snapshot_with({{"users", json::array({{{"id", "u1"}, {"accountEnabled", 1}}})}})) ==
          "inline.json: /graph/users/0/accountEnabled: expected true or false, got a number");
    CHECK(error_of(snapshot_with({{"users", json::array({"u1"})}})) ==
          "inline.json: /graph/users/0: expected an object, got a string");
    json policy = {{"state", "enabled"}, {"conditions", {{"users", {{"includeUsers", json::array({"All", 7})}}}}}};
    CHECK(error_of(snapshot_with({{"conditionalAccessPolicies", json::array({policy})}})) ==
          "inline.json: /graph/conditionalAccessPolicies/0/conditions/users/includeUsers/1: expected a string, got a number");
    json pascal = {{"State", "enabled"}, {"Conditions", {{"Users", "everyone"}}}};
    CHECK(error_of(snapshot_with({{"conditionalAccessPolicies", json::array({pascal})}})) ==
          "inline.json: /graph/conditionalAccessPolicies/0/Conditions/Users: expected the users condition as an object, got a string");
    CHECK(error_of(snapshot_with(nullptr, {{"organizationConfig", "default"}})) ==
          "inline.json: /exchange/organizationConfig: expected an object, got a string");
    CHECK(error_of(snapshot_with(nullptr, {{"organizationConfig", json::array({json::object(), json::object()})}})) ==
          "inline.json: /exchange/organizationConfig: expected an object, got an array");
    CHECK(error_of(snapshot_with({{"signIns", json::array({{{"status", {{"errorCode", "50126"}}}}})}})) ==
          "inline.json: /graph/signIns/0/status/errorCode: expected an integer, got a string");
    CHECK(error_of(snapshot_with("graph")) == "inline.json: /graph: expected an object of sections, got a string");
    json smtp = snapshot_with(nullptr);
    smtp["smtpClients"] = "printer";
    CHECK(error_of(smtp) == "inline.json: /smtpClients: expected an array, got a string");
    json named = {{"@odata.type", "#microsoft.graph.ipNamedLocation"},
                  {"ipRanges", json::array({{{"cidrAddress", "10.0.0.0/8"}}, {{"cidrAddress", "10.0.0.300/32"}}})}};
    CHECK(error_of(snapshot_with({{"namedLocations", json::array({named})}})) ==
          "inline.json: /graph/namedLocations/0/ipRanges/1/cidrAddress: malformed CIDR range \"10.0.0.300/32\"");
    json missingCidr = {{"ipRanges", json::array({{{"@odata.type", "#microsoft.graph.iPv4CidrRange"}}})}};
    CHECK(error_of(snapshot_with({{"namedLocations", json::array({missingCidr})}})) ==
          "inline.json: /graph/namedLocations/0/ipRanges/0/cidrAddress: missing cidrAddress");
}

TEST_CASE("loader: policies in a snapshot need a known state, security defaults need isEnabled") {
    CHECK(error_of(snapshot_with({{"conditionalAccessPolicies", json::array({{{"displayName", "x"}}})}})) ==
          "inline.json: /graph/conditionalAccessPolicies/0/state: missing policy state (enabled, disabled or "
          "enabledForReportingButNotEnforced)");
    CHECK(error_of(snapshot_with({{"conditionalAccessPolicies", json::array({{{"state", "on"}}})}})) ==
          "inline.json: /graph/conditionalAccessPolicies/0/state: unknown policy state \"on\" (expected enabled, "
          "disabled or enabledForReportingButNotEnforced)");
    CHECK(error_of(snapshot_with({{"securityDefaults", {{"id", "00000000-0000-0000-0000-000000000005"}}}})) ==
          "inline.json: /graph/securityDefaults/isEnabled: missing isEnabled");

    json document = snapshot_with({{"securityDefaults", {{"@odata.context", "x"}, {"isEnabled", true}}}});
    CHECK(snapshot_from(document).securityDefaults->isEnabled);
}

TEST_CASE("loader: a Graph policy decodes every field, annotations ignored") {
    json object = json::parse(R"({
      "@odata.type": "#microsoft.graph.conditionalAccessPolicy",
      "id": "p-1", "displayName": "Block legacy", "state@odata.type": "#x", "state": "EnabledForReportingButNotEnforced",
      "templateId": "0b2282f9-2862-4178-88b5-d79340b36cb8",
      "conditions": {
        "users": {
          "includeUsers": ["all", "u-1"], "excludeUsers": ["guestsorexternalusers"],
          "includeGroups": ["g-1"], "excludeGroups": ["g-2"], "includeRoles": ["r-1"], "excludeRoles": ["r-2"],
          "includeGuestsOrExternalUsers": {
            "guestOrExternalUserTypes": "internalGuest,B2BCollaborationGuest,someFutureType",
            "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                                "membershipKind": "Enumerated", "members": ["tenant-a", "tenant-b"]}},
          "excludeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "serviceProvider",
            "externalTenants": {"membershipKind": "all"}}
        },
        "applications": {"includeApplications": ["OFFICE365"], "excludeApplications": ["microsoftadminportals", "a-1"],
                         "includeUserActions": ["urn:user:registersecurityinfo"],
                         "includeAuthenticationContextClassReferences": ["c1"]},
        "clientAppTypes": ["EXCHANGEACTIVESYNC", "Other", "futureClient"],
        "platforms": {"includePlatforms": ["ALL"], "excludePlatforms": ["ios", "MACOS", "WindowsPhone"]},
        "locations": {"includeLocations": ["all"], "excludeLocations": ["alltrusted", "loc-1"]},
        "devices": {"deviceFilter": {"mode": "Exclude", "rule": "device.trustType -eq \"ServerAD\""}},
        "signInRiskLevels": ["High", "medium"], "userRiskLevels": ["LOW"], "servicePrincipalRiskLevels": ["high"],
        "insiderRiskLevels": ["Elevated"],
        "authenticationFlows": {"transferMethods": "deviceCodeFlow,AuthenticationTransfer"},
        "clientApplications": {"includeServicePrincipals": ["All"], "excludeServicePrincipals": []}
      },
      "grantControls": {"operator": "or", "builtInControls": ["Block", "MFA", "MfaAndChangePassword"],
                        "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x",
                        "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004",
                                                   "displayName": "Phishing-resistant MFA"},
                        "termsOfUse": ["tou-1"], "customAuthenticationFactors": ["f-1"]},
      "sessionControls": {"signInFrequency": {"isEnabled": true, "value": 1, "type": "hours"}, "persistentBrowser": null}
    })");
    ConditionalAccessPolicy p = tenantscan::decode_policy(JsonView(object, "tenant.json", "/graph/conditionalAccessPolicies/3"));
    CHECK(p.id == "p-1");
    CHECK(p.displayName == "Block legacy");
    CHECK(p.state == PolicyState::ReportOnly);
    CHECK(p.templateId == "0b2282f9-2862-4178-88b5-d79340b36cb8");
    CHECK(p.sourceFile == "tenant.json");
    CHECK(p.sourcePointer == "/graph/conditionalAccessPolicies/3");

    CHECK(p.hasUsersCondition);
    CHECK(p.users.includeUsers == Strings{"All", "u-1"});
    CHECK(p.users.excludeUsers == Strings{"GuestsOrExternalUsers"});
    CHECK(p.users.includeGroups == Strings{"g-1"});
    CHECK(p.users.excludeGroups == Strings{"g-2"});
    CHECK(p.users.includeRoles == Strings{"r-1"});
    CHECK(p.users.excludeRoles == Strings{"r-2"});
    REQUIRE(p.users.includeGuestsOrExternalUsers);
    CHECK(p.users.includeGuestsOrExternalUsers->guestOrExternalUserTypes ==
          Strings{"internalGuest", "b2bCollaborationGuest", "someFutureType"});
    CHECK_FALSE(p.users.includeGuestsOrExternalUsers->allExternalTenants);
    CHECK(p.users.includeGuestsOrExternalUsers->externalTenantIds == Strings{"tenant-a", "tenant-b"});
    REQUIRE(p.users.excludeGuestsOrExternalUsers);
    CHECK(p.users.excludeGuestsOrExternalUsers->allExternalTenants);
    CHECK(p.users.excludeGuestsOrExternalUsers->guestOrExternalUserTypes == Strings{"serviceProvider"});

    CHECK(p.includeApplications == Strings{"Office365"});
    CHECK(p.excludeApplications == Strings{"MicrosoftAdminPortals", "a-1"});
    CHECK(p.includeUserActions == Strings{"urn:user:registersecurityinfo"});
    CHECK(p.includeAuthenticationContextClassReferences == Strings{"c1"});
    CHECK(p.clientAppTypes == Strings{"exchangeActiveSync", "other", "futureClient"});
    CHECK(p.hasPlatformsCondition);
    CHECK(p.includePlatforms == Strings{"all"});
    CHECK(p.excludePlatforms == Strings{"iOS", "macOS", "windowsPhone"});
    CHECK(p.hasLocationsCondition);
    CHECK(p.includeLocations == Strings{"All"});
    CHECK(p.excludeLocations == Strings{"AllTrusted", "loc-1"});
    REQUIRE(p.deviceFilter);
    CHECK(p.deviceFilter->mode == "exclude");
    CHECK(p.deviceFilter->rule == "device.trustType -eq \"ServerAD\"");
    CHECK(p.signInRiskLevels == Strings{"high", "medium"});
    CHECK(p.userRiskLevels == Strings{"low"});
    CHECK(p.servicePrincipalRiskLevels == Strings{"high"});
    CHECK(p.insiderRiskLevels == Strings{"elevated"});
    CHECK(p.authenticationFlowTransferMethods == Strings{"deviceCodeFlow", "authenticationTransfer"});
    CHECK(p.targetsWorkloadIdentities);

    CHECK(p.grantOperator == "OR");
    CHECK(p.builtInControls == Strings{"block", "mfa", "MfaAndChangePassword"});
    CHECK(p.requiresAuthenticationStrength);
    CHECK(p.authenticationStrengthName == "Phishing-resistant MFA");
    CHECK(p.termsOfUse == Strings{"tou-1"});
    CHECK(p.customAuthenticationFactors == Strings{"f-1"});
    CHECK(p.hasGrantControls());
    CHECK(p.hasSessionControls);
}

TEST_CASE("loader: PascalCase (PowerShell SDK, ScubaGear) decodes like camelCase") {
    json camel = json::parse(R"({"id": "x", "displayName": "MFA", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"], "excludeGroups": ["g"]},
                       "applications": {"includeApplications": ["All"]}, "clientAppTypes": ["all"],
                       "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}})");
    json pascal = json::parse(R"({"Id": "x", "DisplayName": "MFA", "State": "Enabled",
        "Conditions": {"Users": {"IncludeUsers": ["All"], "ExcludeGroups": ["g"],
                                 "IncludeGuestsOrExternalUsers": {"ExternalTenants": {"MembershipKind": null},
                                                                  "GuestOrExternalUserTypes": null}},
                       "Applications": {"IncludeApplications": ["All"]}, "ClientAppTypes": ["All"],
                       "Locations": {"IncludeLocations": ["All"], "ExcludeLocations": ["AllTrusted"]}},
        "GrantControls": {"Operator": "OR", "BuiltInControls": ["Mfa"]}, "SessionControls": {
            "SignInFrequency": {"IsEnabled": null, "Value": null}, "PersistentBrowser": null}})");
    ConditionalAccessPolicy a = policy_from(camel);
    ConditionalAccessPolicy b = policy_from(pascal);
    CHECK(b.id == a.id);
    CHECK(b.displayName == a.displayName);
    CHECK(b.state == PolicyState::Enabled);
    CHECK(b.users.includeUsers == a.users.includeUsers);
    CHECK(b.users.excludeGroups == Strings{"g"});
    CHECK_FALSE(b.users.includeGuestsOrExternalUsers);  // ScubaGear's object of nulls = not configured
    CHECK(b.includeApplications == a.includeApplications);
    CHECK(b.clientAppTypes == Strings{"all"});
    CHECK(b.includeLocations == a.includeLocations);
    CHECK(b.excludeLocations == a.excludeLocations);
    CHECK(b.grantOperator == "OR");
    CHECK(b.builtInControls == Strings{"mfa"});
    CHECK_FALSE(b.hasSessionControls);  // every session control null
}

TEST_CASE("loader: null, [] and absent conditions all mean not configured") {
    for (const json& unset : {json(nullptr), json::array(), json::object()}) {
        CAPTURE(unset.dump());
        json object = {{"state", "disabled"},
                       {"conditions",
                        {{"platforms", unset}, {"locations", unset}, {"devices", unset}, {"users", unset},
                         {"authenticationFlows", unset}, {"clientApplications", unset}}},
                       {"grantControls", unset},
                       {"sessionControls", unset}};
        ConditionalAccessPolicy p = policy_from(object);
        CHECK_FALSE(p.hasPlatformsCondition);
        CHECK_FALSE(p.hasLocationsCondition);
        CHECK_FALSE(p.hasUsersCondition);
        CHECK_FALSE(p.deviceFilter);
        CHECK(p.authenticationFlowTransferMethods.empty());
        CHECK_FALSE(p.targetsWorkloadIdentities);
        CHECK_FALSE(p.hasGrantControls());
        CHECK_FALSE(p.hasSessionControls);
        CHECK(p.state == PolicyState::Disabled);
    }
    json emptyLists = {{"conditions",
                        {{"platforms", {{"includePlatforms", json::array()}, {"excludePlatforms", nullptr}}},
                         {"locations", {{"includeLocations", json::array()}}},
                         {"users", {{"includeUsers", json::array()}, {"includeGuestsOrExternalUsers", nullptr}}}}},
                       {"grantControls", {{"builtInControls", json::array()}, {"authenticationStrength", nullptr}}}};
    ConditionalAccessPolicy p = policy_from(emptyLists);
    CHECK_FALSE(p.hasPlatformsCondition);
    CHECK_FALSE(p.hasLocationsCondition);
    CHECK_FALSE(p.hasUsersCondition);
    CHECK_FALSE(p.requiresAuthenticationStrength);
    CHECK_FALSE(p.hasGrantControls());
}

TEST_CASE("loader: a conditionalAccessTemplate decodes through its details") {
    json object = json::parse(R"({"description": "d", "name": "Require password change for high-risk users",
        "id": "634b6de7-c38d-4357-a2c7-3842706eedd7", "scenarios": "zeroTrust,remoteWork",
        "details": {"conditions": {"users": {"includeUsers": ["All"]}, "userRiskLevels": ["high"],
                                   "applications": {"includeApplications": ["All"]}},
                    "grantControls": {"operator": "AND", "builtInControls": ["MfaAndChangePassword"]},
                    "sessionControls": {"signInFrequency": {"frequencyInterval": "everyTime", "isEnabled": true}}}})");
    ConditionalAccessPolicy p = tenantscan::decode_policy(JsonView(object, "008_.json", ""));
    CHECK(p.id == "634b6de7-c38d-4357-a2c7-3842706eedd7");
    CHECK(p.displayName == "Require password change for high-risk users");
    CHECK(p.state == PolicyState::Disabled);
    CHECK(p.users.includeUsers == Strings{"All"});
    CHECK(p.userRiskLevels == Strings{"high"});
    CHECK(p.grantOperator == "AND");
    CHECK(p.builtInControls == Strings{"MfaAndChangePassword"});
    CHECK(p.hasSessionControls);

    json broken = {{"name", "n"}, {"details", "text"}};
    CHECK_THROWS_WITH_AS(tenantscan::decode_policy(JsonView(broken, "t.json", "")),
                         "t.json: /details: expected the template's policy details as an object, got a string",
                         InputError);
}

TEST_CASE("loader: decode_policies accepts an array, an envelope or a single object") {
    json one = {{"displayName", "a"}, {"state", "enabled"}};
    json envelope = {{"@odata.context", "x"}, {"@microsoft.graph.tips", "hint"}, {"value", json::array({one, one})}};
    auto fromEnvelope = tenantscan::decode_policies(JsonView(envelope, "e.json", ""));
    REQUIRE(fromEnvelope.size() == 2);
    CHECK(fromEnvelope[1].sourcePointer == "/value/1");
    CHECK(tenantscan::decode_policies(JsonView(json::array({one}), "a.json", "")).size() == 1);
    auto single = tenantscan::decode_policies(JsonView(one, "s.json", ""));
    REQUIRE(single.size() == 1);
    CHECK(single[0].sourcePointer.empty());
    CHECK(single[0].displayName == "a");
}

TEST_CASE("loader: named locations") {
    json ip = json::parse(R"({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": "l-1", "displayName": "HQ",
        "isTrusted": true, "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"},
                                        {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/32"}]})");
    NamedLocation l = location_from(ip);
    CHECK(l.kind == NamedLocation::Kind::Ip);
    CHECK(l.id == "l-1");
    CHECK(l.displayName == "HQ");
    CHECK(l.isTrusted);
    REQUIRE(l.ipRanges.size() == 2);
    CHECK(l.ipRanges[0].isV4);
    CHECK(l.ipRanges[0].prefixLength == 120);
    CHECK(l.ipRanges[1].text == "2001:db8::/32");

    json country = json::parse(R"({"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "Allowed",
        "countriesAndRegions": ["nl", "BE"], "includeUnknownCountriesAndRegions": true,
        "countryLookupMethod": "ClientIpAddress"})");
    l = location_from(country);
    CHECK(l.kind == NamedLocation::Kind::Country);
    CHECK(l.countriesAndRegions == Strings{"NL", "BE"});
    CHECK(l.includeUnknownCountriesAndRegions);
    CHECK(l.countryLookupMethod == "clientIpAddress");

    // No @odata.type: the properties tell the kind.
    CHECK(location_from({{"ipRanges", json::array({{{"cidrAddress", "10.0.0.0/8"}}})}}).kind == NamedLocation::Kind::Ip);
    CHECK(location_from({{"countriesAndRegions", json::array({"US"})}}).kind == NamedLocation::Kind::Country);
    CHECK(location_from({{"displayName", "nothing"}}).kind == NamedLocation::Kind::Other);
    json compliant = {{"@odata.type", "#microsoft.graph.compliantNetworkNamedLocation"}, {"isTrusted", true},
                      {"compliantNetworkType", "allTenantCompliantNetworks"}};
    l = location_from(compliant);
    CHECK(l.kind == NamedLocation::Kind::Other);
    CHECK(l.isTrusted);

    // Get-MgIdentityConditionalAccessNamedLocation | ConvertTo-Json: derived-type properties in AdditionalProperties.
    json sdk = json::parse(R"({"Id": "l-2", "DisplayName": "Branch", "AdditionalProperties": {
        "@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": false,
        "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"}]}})");
    l = location_from(sdk);
    CHECK(l.kind == NamedLocation::Kind::Ip);
    CHECK(l.id == "l-2");
    REQUIRE(l.ipRanges.size() == 1);
    CHECK(l.ipRanges[0].text == "198.51.100.0/24");
    CHECK(error_of(snapshot_with({{"namedLocations", json::array({json::parse(R"({"AdditionalProperties": {
        "@odata.type": "#microsoft.graph.ipNamedLocation", "ipRanges": [{"cidrAddress": "nope"}]}})")})}}))
              == "inline.json: /graph/namedLocations/0/AdditionalProperties/ipRanges/0/cidrAddress: malformed CIDR range \"nope\"");
}

TEST_CASE("loader: users, groups and nested membership") {
    json graph = json::parse(R"({
      "users": {"@odata.context": "x", "value": [
        {"id": "u-1", "userPrincipalName": "hve@contoso.com", "displayName": "HVE", "mail": "hve@contoso.com",
         "userType": "member", "accountEnabled": false, "onPremisesSyncEnabled": true,
         "proxyAddresses": ["SMTP:hve@contoso.com", "smtp:alias@contoso.com"]},
        {"Id": "u-2", "UserPrincipalName": "guest#EXT#@contoso.com", "UserType": "Guest"}]},
      "groups": [
        {"id": "g-outer", "displayName": "Outer", "isAssignableToRole": true, "members": [
          {"@odata.type": "#microsoft.graph.user", "id": "u-1"},
          {"@odata.type": "#microsoft.graph.group", "id": "g-typed"},
          {"id": "G-INNER"},
          {"id": "u-2"},
          {"Id": "g-sdk", "AdditionalProperties": {"@odata.type": "#microsoft.graph.group"}}]},
        {"id": "g-inner", "displayName": "Inner", "isAssignableToRole": null, "members": {"value": []}},
        {"id": "g-typed", "displayName": "Typed"}
      ]})");
    Snapshot snapshot = snapshot_from(snapshot_with(graph));
    REQUIRE(snapshot.users->size() == 2);
    const auto& hve = snapshot.users->at(0);
    CHECK(hve.userPrincipalName == "hve@contoso.com");
    CHECK(hve.displayName == "HVE");
    CHECK(hve.mail == "hve@contoso.com");
    CHECK(hve.userType == "Member");
    CHECK(hve.accountEnabled == false);
    CHECK(hve.onPremisesSyncEnabled == true);
    CHECK(hve.proxyAddresses == Strings{"SMTP:hve@contoso.com", "smtp:alias@contoso.com"});
    const auto& guest = snapshot.users->at(1);
    CHECK(guest.id == "u-2");
    CHECK(guest.userType == "Guest");
    CHECK_FALSE(guest.accountEnabled.has_value());  // not exported: unknown, not "enabled"
    CHECK_FALSE(guest.onPremisesSyncEnabled.has_value());

    REQUIRE(snapshot.groups->size() == 3);
    const auto& outer = snapshot.groups->at(0);
    CHECK(outer.isAssignableToRole);
    CHECK(outer.memberUserIds == Strings{"u-1", "u-2"});
    CHECK(outer.memberGroupIds == Strings{"g-typed", "g-sdk", "G-INNER"});
    CHECK_FALSE(snapshot.groups->at(1).isAssignableToRole);
    CHECK(snapshot.groups->at(1).memberUserIds.empty());

    CHECK(error_of(snapshot_with({{"groups", json::array({{{"id", "g"}, {"members", json::array({json::object()})}}})}})) ==
          "inline.json: /graph/groups/0/members/0/id: missing member id");
}

TEST_CASE("loader: role assignments, licences and sign-ins") {
    json graph = json::parse(R"({
      "roleAssignments": [{"id": "ra-1", "principalId": "u-1", "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
                           "directoryScopeId": "/"}],
      "subscribedSkus": [{"skuId": "s-1", "skuPartNumber": "AAD_PREMIUM", "capabilityStatus": "Enabled",
                          "servicePlans": [{"servicePlanId": "sp-1", "servicePlanName": "AAD_PREMIUM",
                                            "provisioningStatus": "Success", "appliesTo": "User"}]}],
      "signIns": [{"id": "si-1", "createdDateTime": "2026-11-20T10:00:00Z", "userId": "u-1",
                   "userPrincipalName": "hve@contoso.com", "appId": "00000002-0000-0ff1-ce00-000000000000",
                   "clientAppUsed": "Authenticated SMTP", "ipAddress": "203.0.113.9",
                   "location": {"city": "Amsterdam", "countryOrRegion": "nl"},
                   "status": {"errorCode": 53003, "failureReason": "Access has been blocked by Conditional Access policies."}},
                  {"id": "si-2", "status": {"errorCode": 0}}]
    })");
    Snapshot snapshot = snapshot_from(snapshot_with(graph));
    REQUIRE(snapshot.roleAssignments->size() == 1);
    CHECK(snapshot.roleAssignments->at(0).principalId == "u-1");
    CHECK(snapshot.roleAssignments->at(0).roleDefinitionId == "62e90394-69f5-4237-9190-012177145e10");
    CHECK(snapshot.roleAssignments->at(0).directoryScopeId == "/");
    REQUIRE(snapshot.subscribedSkus->size() == 1);
    CHECK(snapshot.subscribedSkus->at(0).skuPartNumber == "AAD_PREMIUM");
    CHECK(snapshot.subscribedSkus->at(0).capabilityStatus == "Enabled");
    REQUIRE(snapshot.subscribedSkus->at(0).servicePlans.size() == 1);
    CHECK(snapshot.subscribedSkus->at(0).servicePlans[0].servicePlanName == "AAD_PREMIUM");
    CHECK(snapshot.subscribedSkus->at(0).servicePlans[0].provisioningStatus == "Success");
    REQUIRE(snapshot.signIns->size() == 2);
    const auto& blocked = snapshot.signIns->at(0);
    CHECK(blocked.createdDateTime == "2026-11-20T10:00:00Z");
    CHECK(blocked.userId == "u-1");
    CHECK(blocked.appId == "00000002-0000-0ff1-ce00-000000000000");
    CHECK(blocked.clientAppUsed == "Authenticated SMTP");
    CHECK(blocked.ipAddress == "203.0.113.9");
    CHECK(blocked.countryOrRegion == "NL");
    CHECK(blocked.errorCode == 53003);
    CHECK(blocked.failureReason == "Access has been blocked by Conditional Access policies.");
    CHECK(snapshot.signIns->at(1).errorCode == 0);
    CHECK(snapshot.signIns->at(1).countryOrRegion.empty());
}

TEST_CASE("loader: Exchange sections as ConvertTo-Json writes cmdlet output") {
    json exchange = json::parse(R"({
      "organizationConfig": [{"Name": "contoso.onmicrosoft.com", "DefaultAuthenticationPolicy": "Block Basic Auth"}],
      "transportConfig": {"SmtpClientAuthenticationDisabled": "True"},
      "authenticationPolicies": {"Name": "Allow Basic Auth SMTP", "Identity": "Allow Basic Auth SMTP",
          "DistinguishedName": "CN=Allow Basic Auth SMTP,CN=Auth Policies,CN=contoso", "Guid": "9a0b...",
          "AllowBasicAuthSmtp": true, "AllowBasicAuthImap": false},
      "users": [{"Identity": {"Name": "hve1", "DistinguishedName": "CN=hve1,OU=contoso"},
                 "UserPrincipalName": "hve1@contoso.com", "ExternalDirectoryObjectId": "u-1",
                 "AuthenticationPolicy": "CN=Allow Basic Auth SMTP,CN=Auth Policies,CN=contoso"},
                {"Identity": "user2", "AuthenticationPolicy": null}],
      "hveAccounts": [{"Identity": "hve1", "Name": "hve1", "DisplayName": "Printer relay",
                       "PrimarySmtpAddress": "hve1@contoso.com", "ExternalDirectoryObjectId": "u-1",
                       "EmailAddresses": ["SMTP:hve1@contoso.com"]}],
      "hveBillingPolicies": [{"Identity": "hve1@contoso.com", "BillingPolicyStatus": "BillingPolicyValid"}],
      "recipients": [{"Identity": "old", "Name": "old", "PrimarySmtpAddress": "old@contoso.com",
                      "ExternalDirectoryObjectId": "u-9", "RecipientTypeDetails": "UserMailbox",
                      "EmailAddresses": "smtp:hve1@contoso.com"}],
      "casMailboxes": [{"Identity": "a", "PrimarySmtpAddress": "a@contoso.com", "ExternalDirectoryObjectId": "u-3",
                        "SmtpClientAuthenticationDisabled": null},
                       {"Identity": "b", "SmtpClientAuthenticationDisabled": "false"}],
      "acceptedDomains": [{"DomainName": "contoso.com", "Default": "True"}, {"DomainName": "contoso.onmicrosoft.com"}]
    })");
    Snapshot snapshot = snapshot_from(snapshot_with(nullptr, exchange));
    CHECK(snapshot.organizationConfig->defaultAuthenticationPolicy == "Block Basic Auth");
    CHECK(snapshot.transportConfig->smtpClientAuthenticationDisabled == true);
    REQUIRE(snapshot.authenticationPolicies->size() == 1);
    const auto& policy = snapshot.authenticationPolicies->at(0);
    CHECK(policy.name == "Allow Basic Auth SMTP");
    CHECK(policy.distinguishedName == "CN=Allow Basic Auth SMTP,CN=Auth Policies,CN=contoso");
    CHECK(policy.guid == "9a0b...");
    CHECK(policy.allowBasicAuthSmtp);
    REQUIRE(snapshot.exchangeUsers->size() == 2);
    CHECK(snapshot.exchangeUsers->at(0).identity == "hve1");
    CHECK(snapshot.exchangeUsers->at(0).externalDirectoryObjectId == "u-1");
    CHECK(snapshot.exchangeUsers->at(0).authenticationPolicy == "CN=Allow Basic Auth SMTP,CN=Auth Policies,CN=contoso");
    CHECK(snapshot.exchangeUsers->at(1).authenticationPolicy.empty());
    REQUIRE(snapshot.hveAccounts->size() == 1);
    CHECK(snapshot.hveAccounts->at(0).displayName == "Printer relay");
    CHECK(snapshot.hveAccounts->at(0).primarySmtpAddress == "hve1@contoso.com");
    CHECK(snapshot.hveAccounts->at(0).emailAddresses == Strings{"SMTP:hve1@contoso.com"});
    CHECK(snapshot.hveBillingPolicies->at(0).billingPolicyStatus == "BillingPolicyValid");
    CHECK(snapshot.recipients->at(0).recipientTypeDetails == "UserMailbox");
    CHECK(snapshot.recipients->at(0).emailAddresses == Strings{"smtp:hve1@contoso.com"});
    CHECK_FALSE(snapshot.casMailboxes->at(0).smtpClientAuthenticationDisabled.has_value());
    CHECK(snapshot.casMailboxes->at(1).smtpClientAuthenticationDisabled == false);
    CHECK(snapshot.acceptedDomains->at(0).isDefault);
    CHECK_FALSE(snapshot.acceptedDomains->at(1).isDefault);

    // An authentication policy without AllowBasicAuthSmtp blocks Basic SMTP (docs/microsoft-facts.md §3).
    Snapshot bare = snapshot_from(snapshot_with(nullptr, {{"authenticationPolicies", json::array({{{"Name", "Block"}}})}}));
    CHECK_FALSE(bare.authenticationPolicies->at(0).allowBasicAuthSmtp);
    CHECK(error_of(snapshot_with(nullptr, {{"users", json::array({{{"Identity", {{"DistinguishedName", "CN=x"}}}}})}})) ==
          "inline.json: /exchange/users/0/Identity: expected a string or an object with a \"Name\"");
}

TEST_CASE("loader: smtpClients are decoded into the inventory") {
    json document = snapshot_with(nullptr);
    document["smtpClients"] = json::array({{{"name", "printer"}, {"port", 587}}});
    Snapshot snapshot = snapshot_from(document);
    REQUIRE(snapshot.smtpClients);
    REQUIRE(snapshot.smtpClients->clients.size() == 1);
    CHECK(snapshot.smtpClients->clients[0].port == 587);
    CHECK(snapshot.smtpClients->source == "inline.json: /smtpClients");
}

TEST_CASE("loader: load_snapshot reads files in any accepted encoding and names them in errors") {
    const std::string text = snapshot_with({{"users", json::array({{{"id", "u-1"}, {"displayName", "Zo\xC3\xAB"}}})}}).dump();
    std::string utf16le = "\xFF\xFE";
    for (char c : text) {
        // The text is ASCII apart from "ë" (U+00EB), which is a single UTF-16 unit.
        if (c == '\xC3') continue;
        utf16le += (c == '\xAB') ? '\xEB' : c;
        utf16le += '\0';
    }
    testsupport::TempFile file(utf16le);
    Snapshot snapshot = tenantscan::load_snapshot(file.path());
    CHECK(snapshot.sourcePath == file.path());
    CHECK(snapshot.users->at(0).displayName == "Zo\xC3\xAB");
    CHECK(snapshot.users->at(0).id == "u-1");

    testsupport::TempFile bom("\xEF\xBB\xBF" + text);
    CHECK(tenantscan::load_snapshot(bom.path()).users->size() == 1);

    testsupport::TempFile truncated(text.substr(0, text.size() / 2));
    CHECK_THROWS_WITH_AS(tenantscan::load_snapshot(truncated.path()),
                         doctest::Contains((truncated.path() + ": line 1, column ").c_str()), InputError);

    testsupport::TempFile badUtf16(utf16le.substr(0, 9));
    CHECK_THROWS_WITH_AS(tenantscan::load_snapshot(badUtf16.path()),
                         doctest::Contains((badUtf16.path() + ": invalid UTF-16LE text: odd number of bytes").c_str()), InputError);

    testsupport::TempFile deep("{\"snapshotVersion\": 1, \"smtpClients\": " + std::string(100000, '[') +
                               std::string(100000, ']') + "}");
    CHECK_THROWS_WITH_AS(tenantscan::load_snapshot(deep.path()),
                         doctest::Contains("nested more than 256 levels deep"), InputError);

    testsupport::TempFile wrongType("{\"snapshotVersion\": 1, \"graph\": {\"conditionalAccessPolicies\": \"x\"}}");
    CHECK_THROWS_WITH_AS(tenantscan::load_snapshot(wrongType.path()),
                         (wrongType.path() + ": /graph/conditionalAccessPolicies: expected an array, got a string").c_str(),
                         InputError);
}

TEST_CASE("loader: duplicate keys in a document keep the last value") {
    testsupport::TempFile file(R"({"snapshotVersion": 1, "graph": {"conditionalAccessPolicies": [
        {"state": "enabled", "sessionControls": null, "sessionControls": {"persistentBrowser": {"mode": "never", "isEnabled": true}}}
    ]}})");
    CHECK(tenantscan::load_snapshot(file.path()).conditionalAccessPolicies->at(0).hasSessionControls);
}

TEST_CASE("loader: the example in docs/snapshot-format.md loads") {
    const std::string doc = testsupport::read_file(testsupport::source_dir() + "/docs/snapshot-format.md");
    const std::string opening = "## Example\n\n```json\n";
    auto start = doc.find(opening);
    REQUIRE(start != std::string::npos);
    start += opening.size();
    auto end = doc.find("\n```", start);
    REQUIRE(end != std::string::npos);
    Snapshot snapshot = tenantscan::decode_snapshot(tenantscan::parse_json_text(doc.substr(start, end - start), "example"),
                                                    "example");
    for (const char* section : kAllSections) {
        CAPTURE(section);
        CHECK(snapshot.has_section(section) == (std::string(section) != "/smtpClients"));
    }
    REQUIRE(snapshot.conditionalAccessPolicies->size() == 1);
    CHECK(snapshot.conditionalAccessPolicies->at(0).builtInControls == Strings{"block"});
    CHECK(snapshot.namedLocations->at(0).ipRanges.size() == 2);
    CHECK(snapshot.groups->at(0).memberUserIds == Strings{"1f0b6c1e-2d3c-4b5a-8f7e-6d5c4b3a2f10"});
    CHECK(snapshot.transportConfig->smtpClientAuthenticationDisabled == true);
    CHECK(snapshot.notCollected.empty());
}

// Get-OrganizationConfig RejectDirectSend, Get-AcceptedDomain DomainType and Get-InboundConnector
// as real exports write them: PascalCase or not, "True" strings, nulls, OData annotations, a
// one-element list unwrapped, comma-separated multi-valued text, enum numbers.
TEST_CASE("loader: Direct Send and connector sections as real exports write them") {
    json exchange = {
        {"organizationConfig", json::array({{{"@odata.type", "#Exchange.GenericHashTable"}, {"rejectDirectSend", "True"}}})},
        {"acceptedDomains", {{{"DomainName", "contoso.com"}, {"Default", true}, {"DomainType", 0}},
                             {{"DomainName", "relay.contoso.com"}, {"DomainType", "InternalRelay"}}}},
        {"inboundConnectors",
         {{{"@odata.type", "#Exchange.GenericHashTable"},
           {"Identity", "Branch relay"},
           {"Name", "Branch relay"},
           {"Enabled", "False"},
           {"ConnectorType", "OnPremises"},
           {"SenderIPAddresses", "203.0.113.0/28"},
           {"SenderDomains", "smtp:*;1"},
           {"TlsSenderCertificateName", nullptr},
           {"RequireTls", true},
           {"RestrictDomainsToIPAddresses", nullptr}},
          {{"name", "Cert relay"},
           {"senderIPAddresses", "192.0.2.1, 192.0.2.128/25"},
           {"tlsSenderCertificateName", {{"CertificateName", "*.contoso.com"}}}}}}};
    Snapshot s = snapshot_from(snapshot_with(nullptr, exchange));
    REQUIRE(s.organizationConfig);
    CHECK(s.organizationConfig->rejectDirectSend == std::optional<bool>(true));
    REQUIRE(s.acceptedDomains->size() == 2);
    CHECK(s.acceptedDomains->at(0).domainType == "Authoritative");
    CHECK(s.acceptedDomains->at(1).domainType == "InternalRelay");
    REQUIRE(s.inboundConnectors->size() == 2);
    const auto& branch = s.inboundConnectors->at(0);
    CHECK(branch.enabled == std::optional<bool>(false));
    CHECK(branch.connectorType == "OnPremises");
    CHECK(branch.senderIpAddresses == Strings{"203.0.113.0/28"});
    CHECK(branch.tlsSenderCertificateName.empty());
    CHECK_FALSE(branch.restrictDomainsToIpAddresses.has_value());
    const auto& cert = s.inboundConnectors->at(1);
    CHECK_FALSE(cert.enabled.has_value());  // not exported: unknown, never assumed
    CHECK(cert.senderIpAddresses == Strings{"192.0.2.1", "192.0.2.128/25"});
    CHECK(cert.tlsSenderCertificateName == "*.contoso.com");

    // Unset RejectDirectSend is unknown; a wrong type names the pointer.
    CHECK_FALSE(snapshot_from(snapshot_with(nullptr, {{"organizationConfig", {{"RejectDirectSend", nullptr}}}}))
                    .organizationConfig->rejectDirectSend.has_value());
    CHECK(error_of(snapshot_with(nullptr, {{"inboundConnectors", {{{"Name", "x"}, {"Enabled", json::object({{"a", 1}})}}}}})) ==
          "inline.json: /exchange/inboundConnectors/0/Enabled: expected true or false, got an object");
}
