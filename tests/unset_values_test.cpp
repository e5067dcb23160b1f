// One notion of "unset" (docs/snapshot-format.md, "Unset values"): absent, null, "", [], and an object
// whose members are all unset (what the Graph PowerShell SDK, ScubaGear and ConvertTo-Json write for a
// complex property nobody set). Every property of a Conditional Access policy and of a named location
// is decoded in each shape, in camelCase and in PascalCase.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/snapshot_loader.hpp>

#include "rules/rule_test_support.hpp"
#include "tenant/tenant_rules.hpp"

using nlohmann::json;
using tenantscan::ConditionalAccessPolicy;
using tenantscan::JsonView;
using tenantscan::NamedLocation;

namespace {

ConditionalAccessPolicy decode(const json& policy) { return tenantscan::decode_policy(JsonView(policy, "p.json", "")); }

std::string pascal(std::string key) {
    if (!key.empty() && key[0] >= 'a' && key[0] <= 'z') key[0] = static_cast<char>(key[0] - 'a' + 'A');
    return key;
}

// A policy with `value` at `path` (camelCase names, or PascalCase ones); an absent value leaves the path out.
json policy_with(const std::vector<std::string>& path, const std::optional<json>& value, bool pascalCase) {
    json policy = {{"id", "p-1"}, {"displayName", "Policy"}, {"state", "enabled"}};
    if (!value) return policy;
    json* at = &policy;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) at = &(*at)[pascalCase ? pascal(path[i]) : path[i]];
    (*at)[pascalCase ? pascal(path.back()) : path.back()] = *value;
    return policy;
}

struct Property {
    std::vector<std::string> path;
    json set;                         // a value Graph would write when the property is set
    std::vector<json> unsetObjects;   // the objects of nulls/empties exports write for it (object-valued only)
    std::function<bool(const ConditionalAccessPolicy&)> decodedAsSet;
};

std::string name_of(const Property& p) {
    std::string name;
    for (const auto& part : p.path) name += (name.empty() ? "" : ".") + part;
    return name;
}

// The shapes every property is tried in.
std::vector<std::pair<std::string, std::optional<json>>> unset_shapes(const Property& p) {
    std::vector<std::pair<std::string, std::optional<json>>> shapes = {
        {"absent", std::nullopt}, {"null", json(nullptr)}, {"[]", json::array()}};
    if (p.unsetObjects.empty()) {  // a list or a scalar
        shapes.push_back({"\"\"", json("")});
        shapes.push_back({"[null, \"\"]", json::array({nullptr, ""})});
    } else {
        shapes.push_back({"{}", json::object()});
        shapes.push_back({"{@odata.type}", json{{"@odata.type", "#microsoft.graph.x"}}});
        for (const auto& object : p.unsetObjects) shapes.push_back({object.dump(), object});
    }
    return shapes;
}

void check_property(const Property& p) {
    for (bool pascalCase : {false, true}) {
        for (const auto& [shape, value] : unset_shapes(p)) {
            CAPTURE(name_of(p));
            CAPTURE(shape);
            CAPTURE(pascalCase);
            CHECK_FALSE(p.decodedAsSet(decode(policy_with(p.path, value, pascalCase))));
        }
        CAPTURE(name_of(p));
        CAPTURE(pascalCase);
        CHECK(p.decodedAsSet(decode(policy_with(p.path, p.set, pascalCase))));
    }
}

// ScubaGear v1.0.0's unset members, PascalCase (cisagov/ScubaGear sample-report/ProviderSettingsExport.json, CC0).
const json kScubaFilter = {{"Mode", nullptr}, {"Rule", nullptr}};
const json kScubaAuthenticationStrength = {
    {"AllowedCombinations", nullptr}, {"CombinationConfigurations", nullptr}, {"CreatedDateTime", nullptr},
    {"Description", nullptr},         {"DisplayName", nullptr},               {"Id", nullptr},
    {"ModifiedDateTime", nullptr},    {"PolicyType", nullptr},                {"RequirementsSatisfied", nullptr}};
const json kScubaGuests = {{"ExternalTenants", {{"MembershipKind", nullptr}}}, {"GuestOrExternalUserTypes", nullptr}};

}  // namespace

TEST_CASE("unset: is_unset is absent, null, \"\", [], and objects/arrays of those, annotations ignored") {
    for (const char* text : {"null", "\"\"", "[]", "{}", "[null, \"\"]", "{\"a\": null, \"b\": [], \"c\": {\"d\": \"\"}}",
                             "{\"@odata.type\": \"#microsoft.graph.x\", \"x@odata.context\": \"y\"}",
                             "{\"AuthenticationStrength\": {\"Id\": null}, \"BuiltInControls\": null}"}) {
        CAPTURE(text);
        CHECK(tenantscan::is_unset(json::parse(text)));
    }
    for (const char* text : {"false", "0", "\"x\"", "[\"x\"]", "{\"isEnabled\": false}", "{\"a\": {\"b\": [0]}}", "true"}) {
        CAPTURE(text);
        CHECK_FALSE(tenantscan::is_unset(json::parse(text)));
    }
}

TEST_CASE("unset: grant controls in every shape") {
    const std::vector<Property> properties = {
        {{"grantControls"}, {{"operator", "OR"}, {"builtInControls", {"mfa"}}},
         {{{"AuthenticationStrength", kScubaAuthenticationStrength}, {"BuiltInControls", nullptr},
           {"CustomAuthenticationFactors", nullptr}, {"Operator", nullptr}, {"TermsOfUse", nullptr}}},
         [](const ConditionalAccessPolicy& p) { return p.hasGrantControls(); }},
        {{"grantControls", "builtInControls"}, {"block"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.builtInControls.empty() && p.hasGrantControls(); }},
        {{"grantControls", "authenticationStrength"},
         {{"id", "00000000-0000-0000-0000-000000000002"}, {"displayName", "Multifactor authentication"}},
         {kScubaAuthenticationStrength, {{"allowedCombinations", json::array()}, {"id", ""}, {"displayName", nullptr}}},
         [](const ConditionalAccessPolicy& p) { return p.requiresAuthenticationStrength && p.hasGrantControls(); }},
        {{"grantControls", "termsOfUse"}, {"5d1d8a5e-0000-4000-8000-000000000001"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.termsOfUse.empty() && p.hasGrantControls(); }},
        {{"grantControls", "customAuthenticationFactors"}, {"duo"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.customAuthenticationFactors.empty() && p.hasGrantControls(); }},
    };
    for (const auto& p : properties) check_property(p);

    // An operator alone grants nothing.
    CHECK_FALSE(decode(policy_with({"grantControls"}, json{{"operator", "AND"}}, false)).hasGrantControls());
    // A strength known only by its id is named by it.
    CHECK(decode(policy_with({"grantControls", "authenticationStrength"}, json{{"Id", "strength-1"}}, true))
              .authenticationStrengthName == "strength-1");
}

TEST_CASE("unset: session controls in every shape, and a control switched off is no control") {
    auto session = [](const ConditionalAccessPolicy& p) { return p.hasSessionControls; };
    const std::vector<Property> properties = {
        {{"sessionControls", "signInFrequency"}, {{"isEnabled", true}, {"type", "days"}, {"value", 2}},
         {{{"AuthenticationType", nullptr}, {"FrequencyInterval", nullptr}, {"IsEnabled", nullptr}, {"Type", nullptr},
           {"Value", nullptr}}},
         session},
        {{"sessionControls", "persistentBrowser"}, {{"isEnabled", true}, {"mode", "never"}},
         {{{"IsEnabled", nullptr}, {"Mode", nullptr}}}, session},
        {{"sessionControls", "cloudAppSecurity"}, {{"isEnabled", true}, {"cloudAppSecurityType", "monitorOnly"}},
         {{{"CloudAppSecurityType", nullptr}, {"IsEnabled", nullptr}}}, session},
        {{"sessionControls", "applicationEnforcedRestrictions"}, {{"isEnabled", true}}, {{{"IsEnabled", nullptr}}}, session},
        {{"sessionControls", "secureSignInSession"}, {{"isEnabled", true}}, {{{"IsEnabled", nullptr}}}, session},
        {{"sessionControls", "continuousAccessEvaluation"}, {{"mode", "strictLocation"}}, {{{"Mode", nullptr}}}, session},
        {{"sessionControls", "disableResilienceDefaults"}, true, {}, session},
    };
    for (const auto& p : properties) check_property(p);

    for (const char* text : {R"({"signInFrequency": {"isEnabled": false, "type": "days", "value": 2}})",
                             R"({"PersistentBrowser": {"IsEnabled": false, "Mode": "never"}})",
                             R"({"cloudAppSecurity": {"isEnabled": "False", "cloudAppSecurityType": "blockDownloads"}})",
                             R"({"disableResilienceDefaults": false})"}) {
        CAPTURE(text);
        CHECK_FALSE(decode(policy_with({"sessionControls"}, json::parse(text), false)).hasSessionControls);
    }
    // isEnabled unset with the control's settings given: in force (older exports leave isEnabled out).
    CHECK(decode(policy_with({"sessionControls", "signInFrequency"}, json{{"type", "hours"}, {"value", 4}}, false))
              .hasSessionControls);
}

TEST_CASE("unset: every condition in every shape") {
    const std::vector<Property> properties = {
        {{"conditions", "users"}, {{"includeUsers", {"All"}}},
         {{{"ExcludeGroups", json::array()}, {"ExcludeGuestsOrExternalUsers", kScubaGuests}, {"ExcludeRoles", json::array()},
           {"ExcludeUsers", json::array()}, {"IncludeGroups", json::array()}, {"IncludeGuestsOrExternalUsers", kScubaGuests},
           {"IncludeRoles", json::array()}, {"IncludeUsers", nullptr}}},
         [](const ConditionalAccessPolicy& p) { return p.hasUsersCondition; }},
        {{"conditions", "users", "includeUsers"}, {"All"}, {},
         [](const ConditionalAccessPolicy& p) { return p.hasUsersCondition && !p.users.includeUsers.empty(); }},
        {{"conditions", "users", "excludeGroups"}, {"g-1"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.users.excludeGroups.empty(); }},
        {{"conditions", "users", "includeRoles"}, {"62e90394-69f5-4237-9190-012177145e10"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.users.includeRoles.empty(); }},
        {{"conditions", "users", "includeGuestsOrExternalUsers"},
         {{"guestOrExternalUserTypes", "b2bCollaborationGuest"}, {"externalTenants", {{"membershipKind", "all"}}}},
         {kScubaGuests, {{"guestOrExternalUserTypes", ""}, {"externalTenants", nullptr}}},
         [](const ConditionalAccessPolicy& p) { return p.users.includeGuestsOrExternalUsers.has_value(); }},
        {{"conditions", "users", "excludeGuestsOrExternalUsers"},
         {{"guestOrExternalUserTypes", "internalGuest,b2bCollaborationGuest"}}, {kScubaGuests},
         [](const ConditionalAccessPolicy& p) { return p.users.excludeGuestsOrExternalUsers.has_value(); }},
        {{"conditions", "applications"}, {{"includeApplications", {"All"}}},
         {{{"ApplicationFilter", kScubaFilter}, {"ExcludeApplications", json::array()}, {"IncludeApplications", nullptr},
           {"IncludeAuthenticationContextClassReferences", json::array()}, {"IncludeUserActions", json::array()}}},
         [](const ConditionalAccessPolicy& p) { return !p.includeApplications.empty(); }},
        {{"conditions", "applications", "excludeApplications"}, {"Office365"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.excludeApplications.empty(); }},
        {{"conditions", "applications", "includeUserActions"}, {"urn:user:registersecurityinfo"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.includeUserActions.empty(); }},
        {{"conditions", "applications", "includeAuthenticationContextClassReferences"}, {"c1"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.includeAuthenticationContextClassReferences.empty(); }},
        {{"conditions", "applications", "applicationFilter"},
         {{"mode", "exclude"}, {"rule", "CustomSecurityAttribute.Engineering_Project -eq \"Baker\""}}, {kScubaFilter},
         [](const ConditionalAccessPolicy& p) { return p.applicationFilter.has_value(); }},
        {{"conditions", "clientAppTypes"}, {"exchangeActiveSync", "other"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.clientAppTypes.empty(); }},
        {{"conditions", "platforms"}, {{"includePlatforms", {"all"}}, {"excludePlatforms", {"iOS"}}},
         {{{"ExcludePlatforms", nullptr}, {"IncludePlatforms", nullptr}}},
         [](const ConditionalAccessPolicy& p) { return p.hasPlatformsCondition; }},
        {{"conditions", "platforms", "excludePlatforms"}, {"android"}, {},
         [](const ConditionalAccessPolicy& p) { return p.hasPlatformsCondition && !p.excludePlatforms.empty(); }},
        {{"conditions", "locations"}, {{"includeLocations", {"All"}}, {"excludeLocations", {"AllTrusted"}}},
         {{{"ExcludeLocations", nullptr}, {"IncludeLocations", nullptr}}},
         [](const ConditionalAccessPolicy& p) { return p.hasLocationsCondition; }},
        {{"conditions", "locations", "excludeLocations"}, {"AllTrusted"}, {},
         [](const ConditionalAccessPolicy& p) { return p.hasLocationsCondition && !p.excludeLocations.empty(); }},
        {{"conditions", "devices"}, {{"deviceFilter", {{"mode", "exclude"}, {"rule", "device.isCompliant -eq True"}}}},
         {{{"DeviceFilter", kScubaFilter}, {"ExcludeDeviceStates", nullptr}, {"ExcludeDevices", nullptr},
           {"IncludeDeviceStates", nullptr}, {"IncludeDevices", nullptr}}},
         [](const ConditionalAccessPolicy& p) { return p.deviceFilter.has_value(); }},
        {{"conditions", "devices", "deviceFilter"}, {{"mode", "include"}, {"rule", "device.trustType -eq \"AzureAD\""}},
         {kScubaFilter, {{"mode", ""}, {"rule", ""}}},
         [](const ConditionalAccessPolicy& p) { return p.deviceFilter.has_value(); }},
        {{"conditions", "signInRiskLevels"}, {"high"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.signInRiskLevels.empty(); }},
        {{"conditions", "userRiskLevels"}, {"medium"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.userRiskLevels.empty(); }},
        {{"conditions", "servicePrincipalRiskLevels"}, {"low"}, {},
         [](const ConditionalAccessPolicy& p) { return !p.servicePrincipalRiskLevels.empty(); }},
        {{"conditions", "insiderRiskLevels"}, "elevated", {},
         [](const ConditionalAccessPolicy& p) { return !p.insiderRiskLevels.empty(); }},
        {{"conditions", "authenticationFlows"}, {{"transferMethods", "deviceCodeFlow"}}, {{{"TransferMethods", nullptr}}},
         [](const ConditionalAccessPolicy& p) { return !p.authenticationFlowTransferMethods.empty(); }},
        {{"conditions", "clientApplications"}, {{"includeServicePrincipals", {"sp-1"}}},
         {{{"ExcludeServicePrincipals", nullptr}, {"IncludeServicePrincipals", nullptr}, {"ServicePrincipalFilter", kScubaFilter}}},
         [](const ConditionalAccessPolicy& p) { return p.targetsWorkloadIdentities; }},
        {{"conditions", "clientApplications", "servicePrincipalFilter"},
         {{"mode", "include"}, {"rule", "CustomSecurityAttribute.Workload -eq \"Batch\""}}, {kScubaFilter},
         [](const ConditionalAccessPolicy& p) { return p.targetsWorkloadIdentities; }},
    };
    for (const auto& p : properties) check_property(p);
}

TEST_CASE("unset: flags conditions split like Graph writes them") {
    // conditionalAccessInsiderRiskLevels is a flags enum: one comma-separated string.
    auto p = decode(policy_with({"conditions", "insiderRiskLevels"}, json("minor,Moderate"), false));
    CHECK(p.insiderRiskLevels == std::vector<std::string>{"minor", "moderate"});
    // Enumerated external tenants: by membershipKind, by @odata.type, or by members listed without a kind.
    for (const char* tenants : {R"({"membershipKind": "enumerated", "members": ["t-9"]})",
                                R"({"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants", "members": ["t-9"]})",
                                R"({"MembershipKind": null, "Members": ["t-9"]})"}) {
        CAPTURE(tenants);
        auto q = decode(policy_with({"conditions", "users", "includeGuestsOrExternalUsers"},
                                    json{{"guestOrExternalUserTypes", "b2bCollaborationGuest"}, {"externalTenants", json::parse(tenants)}},
                                    false));
        REQUIRE(q.users.includeGuestsOrExternalUsers);
        CHECK_FALSE(q.users.includeGuestsOrExternalUsers->allExternalTenants);
        CHECK(q.users.includeGuestsOrExternalUsers->externalTenantIds == std::vector<std::string>{"t-9"});
    }
}

TEST_CASE("unset: a set condition of the wrong type is an error naming its pointer") {
    for (const char* path : {"users", "applications", "platforms", "locations", "devices", "clientApplications"}) {
        CAPTURE(path);
        json policy = policy_with({"conditions", path}, json("All"), false);
        try {
            decode(policy);
            FAIL("expected an InputError");
        } catch (const tenantscan::InputError& e) {
            CHECK(std::string(e.what()).find(std::string("p.json: /conditions/") + path + ": expected") == 0);
        }
    }
}

namespace {

NamedLocation location(const json& object) { return tenantscan::decode_named_location(JsonView(object, "l.json", "/loc")); }

}  // namespace

TEST_CASE("unset: named locations in every shape") {
    // Without @odata.type the kind comes from the members that are set.
    for (const char* text : {R"({"id": "l", "ipRanges": null})", R"({"id": "l", "ipRanges": []})",
                             R"({"id": "l", "countriesAndRegions": [null, ""]})", R"({"id": "l", "CountriesAndRegions": ""})",
                             R"({"id": "l", "IpRanges": [], "CountriesAndRegions": [], "AdditionalProperties": {}})"}) {
        CAPTURE(text);
        NamedLocation l = location(json::parse(text));
        CHECK(l.kind == NamedLocation::Kind::Other);
        CHECK(l.ipRanges.empty());
        CHECK(l.countriesAndRegions.empty());
    }
    CHECK(location(json::parse(R"({"id": "l", "ipRanges": [{"cidrAddress": "203.0.113.0/24"}]})")).kind ==
          NamedLocation::Kind::Ip);
    CHECK(location(json::parse(R"({"id": "l", "countriesAndRegions": ["fr"]})")).kind == NamedLocation::Kind::Country);

    // The SDK shape: the base properties unset at the top, the derived ones in AdditionalProperties.
    NamedLocation sdk = location(json::parse(R"({"Id": "l", "DisplayName": "Office", "IpRanges": [], "IsTrusted": null,
        "AdditionalProperties": {"@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": true,
                                 "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"}]}})"));
    CHECK(sdk.kind == NamedLocation::Kind::Ip);
    CHECK(sdk.isTrusted);
    REQUIRE(sdk.ipRanges.size() == 1);
    CHECK(sdk.ipRanges[0].text == "198.51.100.0/24");
    NamedLocation countries = location(json::parse(R"({"Id": "c", "CountriesAndRegions": {}, "IncludeUnknownCountriesAndRegions": null,
        "AdditionalProperties": {"@odata.type": "#microsoft.graph.countryNamedLocation", "countriesAndRegions": ["de"],
                                 "includeUnknownCountriesAndRegions": true, "countryLookupMethod": "clientIpAddress"}})"));
    CHECK(countries.kind == NamedLocation::Kind::Country);
    CHECK(countries.countriesAndRegions == std::vector<std::string>{"DE"});
    CHECK(countries.includeUnknownCountriesAndRegions);
    CHECK(countries.countryLookupMethod == "clientIpAddress");

    // isTrusted, includeUnknownCountriesAndRegions and countryLookupMethod unset: not trusted, no unknown
    // countries, lookup method not given.
    for (const char* value : {"null", "[]", "\"\""}) {
        CAPTURE(value);
        NamedLocation l = location(json::parse(
            std::string(R"({"@odata.type": "#microsoft.graph.countryNamedLocation", "countriesAndRegions": ["US"], "isTrusted": )") +
            value + R"(, "includeUnknownCountriesAndRegions": )" + value + R"(, "countryLookupMethod": )" + value + "}"));
        CHECK_FALSE(l.isTrusted);
        CHECK_FALSE(l.includeUnknownCountriesAndRegions);
        CHECK(l.countryLookupMethod.empty());
    }
}

namespace {

// Two policies of the ScubaGear v1.0.0 sample export, byte for byte apart from whitespace
// (cisagov/ScubaGear 192ef5e5, sample-report/ProviderSettingsExport.json, CC0 1.0): a session-only
// policy, and the legacy-authentication block. Both carry GrantControls.AuthenticationStrength as
// an object of nulls, and every unset condition as an object of nulls.
const char* const kScubaSessionOnly = R"json(
{"Conditions": {"Applications": {"ApplicationFilter": {"Mode": null, "Rule": null},
"ExcludeApplications": [], "IncludeApplications": ["All"],
"IncludeAuthenticationContextClassReferences": [], "IncludeUserActions": []}, "ClientAppTypes": ["all"],
"ClientApplications": {"ExcludeServicePrincipals": null, "IncludeServicePrincipals": null,
"ServicePrincipalFilter": {"Mode": null, "Rule": null}}, "DeviceStates": {"ExcludeStates": null,
"IncludeStates": null}, "Devices": {"DeviceFilter": {"Mode": null, "Rule": null},
"ExcludeDeviceStates": null, "ExcludeDevices": null, "IncludeDeviceStates": null,
"IncludeDevices": null}, "Locations": {"ExcludeLocations": null, "IncludeLocations": null},
"Platforms": {"ExcludePlatforms": null, "IncludePlatforms": null}, "ServicePrincipalRiskLevels": null,
"SignInRiskLevels": [], "UserRiskLevels": [], "Users": {"ExcludeGroups": [],
"ExcludeGuestsOrExternalUsers": {"ExternalTenants": {"MembershipKind": null},
"GuestOrExternalUserTypes": null}, "ExcludeRoles": [], "ExcludeUsers": [], "IncludeGroups": [],
"IncludeGuestsOrExternalUsers": {"ExternalTenants": {"MembershipKind": null},
"GuestOrExternalUserTypes": null}, "IncludeRoles": [], "IncludeUsers": ["All"]}},
"CreatedDateTime": "/Date(1646088592641)/", "Description": null,
"DisplayName": "Internal Operations - Prevent Persistent Sessions u0026 Enforce Sign-in Frequency",
"GrantControls": {"AuthenticationStrength": {"AllowedCombinations": null,
"CombinationConfigurations": null, "CreatedDateTime": null, "Description": null, "DisplayName": null,
"Id": null, "ModifiedDateTime": null, "PolicyType": null, "RequirementsSatisfied": null},
"BuiltInControls": null, "CustomAuthenticationFactors": null, "Operator": null, "TermsOfUse": null},
"Id": "d14afc8c-7dc5-4d0a-bba8-9fb8c8c0d0f7", "ModifiedDateTime": "/Date(1692986412550)/",
"SessionControls": {"ApplicationEnforcedRestrictions": {"IsEnabled": null},
"CloudAppSecurity": {"CloudAppSecurityType": null, "IsEnabled": null},
"ContinuousAccessEvaluation": {"Mode": null}, "DisableResilienceDefaults": null,
"PersistentBrowser": {"IsEnabled": true, "Mode": "never"}, "SecureSignInSession": {"IsEnabled": null},
"SignInFrequency": {"AuthenticationType": "primaryAndSecondaryAuthentication",
"FrequencyInterval": "timeBased", "IsEnabled": true, "Type": "days", "Value": 2}}, "State": "enabled",
"AdditionalProperties": {}}
)json";

const char* const kScubaLegacyBlock = R"json(
{"Conditions": {"Applications": {"ApplicationFilter": {"Mode": null, "Rule": null},
"ExcludeApplications": [], "IncludeApplications": ["All"],
"IncludeAuthenticationContextClassReferences": [], "IncludeUserActions": []},
"ClientAppTypes": ["exchangeActiveSync", "other"],
"ClientApplications": {"ExcludeServicePrincipals": null, "IncludeServicePrincipals": null,
"ServicePrincipalFilter": {"Mode": null, "Rule": null}}, "DeviceStates": {"ExcludeStates": null,
"IncludeStates": null}, "Devices": {"DeviceFilter": {"Mode": null, "Rule": null},
"ExcludeDeviceStates": null, "ExcludeDevices": null, "IncludeDeviceStates": null,
"IncludeDevices": null}, "Locations": {"ExcludeLocations": null, "IncludeLocations": null},
"Platforms": {"ExcludePlatforms": null, "IncludePlatforms": null}, "ServicePrincipalRiskLevels": null,
"SignInRiskLevels": [], "UserRiskLevels": [], "Users": {"ExcludeGroups": [],
"ExcludeGuestsOrExternalUsers": {"ExternalTenants": {"MembershipKind": null},
"GuestOrExternalUserTypes": null}, "ExcludeRoles": [], "ExcludeUsers": [], "IncludeGroups": [],
"IncludeGuestsOrExternalUsers": {"ExternalTenants": {"MembershipKind": null},
"GuestOrExternalUserTypes": null}, "IncludeRoles": [], "IncludeUsers": ["All"]}},
"CreatedDateTime": "/Date(1645818328610)/", "Description": null,
"DisplayName": "MS.AAD.1.1v1 Legacy authentication SHALL be blocked",
"GrantControls": {"AuthenticationStrength": {"AllowedCombinations": null,
"CombinationConfigurations": null, "CreatedDateTime": null, "Description": null, "DisplayName": null,
"Id": null, "ModifiedDateTime": null, "PolicyType": null, "RequirementsSatisfied": null},
"BuiltInControls": ["block"], "CustomAuthenticationFactors": [], "Operator": "OR", "TermsOfUse": []},
"Id": "667dd2f2-895d-4991-b684-ab5b87324456", "ModifiedDateTime": "/Date(1698703474505)/",
"SessionControls": {"ApplicationEnforcedRestrictions": {"IsEnabled": null},
"CloudAppSecurity": {"CloudAppSecurityType": null, "IsEnabled": null},
"ContinuousAccessEvaluation": {"Mode": null}, "DisableResilienceDefaults": null,
"PersistentBrowser": {"IsEnabled": null, "Mode": null}, "SecureSignInSession": {"IsEnabled": null},
"SignInFrequency": {"AuthenticationType": null, "FrequencyInterval": null, "IsEnabled": null,
"Type": null, "Value": null}}, "State": "enabled", "AdditionalProperties": {}}
)json";

json scuba_tenant(json policies) {
    using namespace rulestest;
    const std::string alice = "a7000000-0000-4000-8000-000000000001";
    return tenant({{"conditionalAccessPolicies", std::move(policies)},
                   {"securityDefaults", {{"isEnabled", false}}},
                   {"users", {user(alice, "alice@contoso.com")}},
                   {"groups", json::array()},
                   {"namedLocations", json::array()}},
                  {{"hveAccounts", json::array()}});
}

}  // namespace

TEST_CASE("unset: ScubaGear's session-only policy blocks nothing, so tenant-legacy-auth-protection does not pass") {
    const json sessionOnly = json::parse(kScubaSessionOnly);
    const ConditionalAccessPolicy decoded = decode(sessionOnly);
    CHECK_FALSE(decoded.requiresAuthenticationStrength);
    CHECK_FALSE(decoded.hasGrantControls());
    CHECK(decoded.hasSessionControls);
    CHECK_FALSE(decoded.hasPlatformsCondition);
    CHECK_FALSE(decoded.deviceFilter);
    CHECK_FALSE(decoded.applicationFilter);
    CHECK_FALSE(decoded.targetsWorkloadIdentities);
    CHECK_FALSE(decoded.users.includeGuestsOrExternalUsers);

    auto findings = rulestest::run_rule(tenantscan::rules::make_tenant_legacy_auth_protection_rule(),
                                        scuba_tenant(json::array({sessionOnly})));
    const auto f = rulestest::single(findings);
    CHECK(f.status != rulestest::Status::Pass);
    CHECK(f.status == rulestest::Status::Fail);
    CHECK(f.evidence["legacyBlockingPolicies"].empty());

    // The same export's legacy block, in the same shape, does block: the class fix keeps real grants.
    const json legacyBlock = json::parse(kScubaLegacyBlock);
    CHECK(decode(legacyBlock).builtInControls == std::vector<std::string>{"block"});
    CHECK_FALSE(decode(legacyBlock).requiresAuthenticationStrength);
    auto withBlock = rulestest::run_rule(tenantscan::rules::make_tenant_legacy_auth_protection_rule(),
                                         scuba_tenant(json::array({sessionOnly, legacyBlock})));
    CHECK(rulestest::single(withBlock).status == rulestest::Status::Pass);
}
