// Snapshot v1 (docs/snapshot-format.md): from the JSON document to the typed model. Every decoder
// reads through JsonView, so casing, annotations, envelopes and nulls are handled in one place and
// every structural error names the file and the JSON pointer.
#include <tenantscan/snapshot_loader.hpp>

#include <algorithm>
#include <chrono>
#include <climits>
#include <exception>
#include <iterator>
#include <map>
#include <optional>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <variant>

#include <tenantscan/errors.hpp>
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/detail/text.hpp>
#include <tenantscan/detail/ip.hpp>
#include <tenantscan/detail/sections.hpp>

namespace tenantscan {

namespace {

using Spellings = std::vector<std::string_view>;

// Graph's own spelling of the enum values and special ids we compare against. Values are matched
// case-insensitively and stored in this spelling; values we do not know are kept as written.
const Spellings kUserSpecials = {"All", "None", "GuestsOrExternalUsers"};
const Spellings kApplicationSpecials = {"All", "None", "Office365", "MicrosoftAdminPortals"};
const Spellings kLocationSpecials = {"All", "AllTrusted"};
const Spellings kClientAppTypes = {"all", "browser", "mobileAppsAndDesktopClients",
                                   "other", "easSupported", "exchangeActiveSync"};
const Spellings kPlatforms = {"all", "android", "iOS", "windows", "windowsPhone", "macOS", "linux"};
const Spellings kGrantControls = {"block", "mfa", "compliantDevice", "domainJoinedDevice",
                                  "approvedApplication", "compliantApplication", "passwordChange", "riskRemediation"};
const Spellings kGrantOperators = {"AND", "OR"};
const Spellings kRiskLevels = {"low", "medium", "high", "hidden", "none", "unknownFutureValue"};
const Spellings kInsiderRiskLevels = {"minor", "moderate", "elevated", "unknownFutureValue"};
const Spellings kTransferMethods = {"none", "deviceCodeFlow", "authenticationTransfer", "unknownFutureValue"};
const Spellings kGuestTypes = {"none", "internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember",
                               "b2bDirectConnectUser", "otherExternalUser", "serviceProvider", "unknownFutureValue"};
const Spellings kMembershipKinds = {"all", "enumerated", "unknownFutureValue"};
const Spellings kFilterModes = {"include", "exclude"};
const Spellings kCountryLookupMethods = {"clientIpAddress", "authenticatorAppGps"};
const Spellings kUserTypes = {"Member", "Guest"};

std::string canonical(const std::string& value, const Spellings& known) {
    for (std::string_view spelling : known) {
        if (iequals(value, spelling)) return std::string(spelling);
    }
    return value;
}

std::vector<std::string> canonical(std::vector<std::string> values, const Spellings& known) {
    for (auto& value : values) value = canonical(value, known);
    return values;
}

std::string to_upper(std::string text) {
    for (char& c : text) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return text;
}

// Flags enums (guestOrExternalUserTypes, transferMethods) are one comma-separated string in Graph;
// an array of the parts is accepted too.
std::vector<std::string> flags(const JsonView& parent, std::string_view key, const Spellings& known) {
    JsonView member = parent.get(key);
    if (member.value().is_string()) return canonical(split_flags(member.value().get<std::string>()), known);
    return canonical(parent.strings(key), known);
}

void require_object(const JsonView& view, const char* what) {
    if (!view.is_object()) view.fail(std::string("expected ") + what + ", got " + describe_json_type(view.value()));
}

// "@odata.type" is an annotation everywhere else, but it is what tells named-location and
// member types apart. The Graph PowerShell SDK moves it (with every property of a derived type)
// into "AdditionalProperties".
std::string odata_type(const JsonView& view) {
    for (const JsonView& source : {view, view.get("AdditionalProperties")}) {
        if (!source.is_object()) continue;
        for (const auto& member : source.value().items()) {
            if (iequals(member.key(), "@odata.type") && member.value().is_string()) {
                return member.value().get<std::string>();
            }
        }
    }
    return {};
}

bool ends_with_ignoring_case(const std::string& text, std::string_view suffix) {
    return text.size() >= suffix.size() && iequals(std::string_view(text).substr(text.size() - suffix.size()), suffix);
}

// The object holding `key`: the view itself, or its SDK-style "AdditionalProperties".
JsonView holder_of(const JsonView& view, std::string_view key) {
    if (view.has(key)) return view;
    JsonView extra = view.get("AdditionalProperties");
    return extra.is_object() && extra.has(key) ? extra : view;
}

PolicyState decode_state(const JsonView& policy) {
    JsonView member = policy.get("state");
    if (member.is_null()) return PolicyState::Disabled;  // templates and fragments: not in force
    std::string state = policy.string("state");
    if (iequals(state, "enabled")) return PolicyState::Enabled;
    if (iequals(state, "disabled")) return PolicyState::Disabled;
    if (iequals(state, "enabledForReportingButNotEnforced")) return PolicyState::ReportOnly;
    member.fail("unknown policy state \"" + state +
                "\" (expected enabled, disabled or enabledForReportingButNotEnforced)");
}

// An unset value of an object-valued property: nullopt. A set one must be an object.
std::optional<JsonView> set_object(const JsonView& view, const char* what) {
    if (is_unset(view.value())) return std::nullopt;
    require_object(view, what);
    return view;
}

std::optional<GuestsOrExternalUsers> decode_guests(const JsonView& view) {
    auto set = set_object(view, "a guestsOrExternalUsers object");
    if (!set) return std::nullopt;
    GuestsOrExternalUsers guests;
    guests.guestOrExternalUserTypes = flags(view, "guestOrExternalUserTypes", kGuestTypes);
    // Without guest types the condition selects nobody, exactly as if it were absent.
    if (guests.guestOrExternalUserTypes.empty()) return std::nullopt;
    // externalTenants: conditionalAccessAllExternalTenants (membershipKind all, or unset) or
    // conditionalAccessEnumeratedExternalTenants (membershipKind enumerated, its @odata.type, or
    // members listed without a kind).
    JsonView tenants = view.get("externalTenants");
    const std::string kind = canonical(tenants.string("membershipKind"), kMembershipKinds);
    guests.externalTenantIds = tenants.strings("members");
    const bool enumerated = kind == "enumerated" ||
                            ends_with_ignoring_case(odata_type(tenants), "EnumeratedExternalTenants") ||
                            (kind.empty() && !guests.externalTenantIds.empty());
    guests.allExternalTenants = kind == "all" || !enumerated;
    if (guests.allExternalTenants) guests.externalTenantIds.clear();
    return guests;
}

// A conditionalAccessFilter (deviceFilter, applicationFilter, servicePrincipalFilter): set when
// any member is set; a set filter without a rule is kept (the engine cannot evaluate it).
std::optional<DeviceFilter> decode_filter(const JsonView& view) {
    if (!set_object(view, "a filter object with mode and rule")) return std::nullopt;
    return DeviceFilter{canonical(view.string("mode"), kFilterModes), view.string("rule")};
}

void decode_users_condition(const JsonView& users, ConditionalAccessPolicy& policy) {
    UserConditions& u = policy.users;
    u.includeUsers = canonical(users.strings("includeUsers"), kUserSpecials);
    u.excludeUsers = canonical(users.strings("excludeUsers"), kUserSpecials);
    u.includeGroups = users.strings("includeGroups");
    u.excludeGroups = users.strings("excludeGroups");
    u.includeRoles = users.strings("includeRoles");
    u.excludeRoles = users.strings("excludeRoles");
    u.includeGuestsOrExternalUsers = decode_guests(users.get("includeGuestsOrExternalUsers"));
    u.excludeGuestsOrExternalUsers = decode_guests(users.get("excludeGuestsOrExternalUsers"));
    policy.hasUsersCondition = !u.includeUsers.empty() || !u.excludeUsers.empty() || !u.includeGroups.empty() ||
                               !u.excludeGroups.empty() || !u.includeRoles.empty() || !u.excludeRoles.empty() ||
                               u.includeGuestsOrExternalUsers || u.excludeGuestsOrExternalUsers;
}

void decode_conditions(const JsonView& conditions, ConditionalAccessPolicy& policy) {
    if (!set_object(conditions, "the conditions as an object")) return;
    if (auto users = set_object(conditions.get("users"), "the users condition as an object"))
        decode_users_condition(*users, policy);

    JsonView applications = conditions.get("applications");
    if (set_object(applications, "the applications condition as an object")) {
        policy.includeApplications = canonical(applications.strings("includeApplications"), kApplicationSpecials);
        policy.excludeApplications = canonical(applications.strings("excludeApplications"), kApplicationSpecials);
        policy.includeUserActions = applications.strings("includeUserActions");
        policy.includeAuthenticationContextClassReferences =
            applications.strings("includeAuthenticationContextClassReferences");
        policy.applicationFilter = decode_filter(applications.get("applicationFilter"));
    }

    policy.clientAppTypes = canonical(conditions.strings("clientAppTypes"), kClientAppTypes);

    JsonView platforms = conditions.get("platforms");
    if (set_object(platforms, "the platforms condition as an object")) {
        policy.includePlatforms = canonical(platforms.strings("includePlatforms"), kPlatforms);
        policy.excludePlatforms = canonical(platforms.strings("excludePlatforms"), kPlatforms);
    }
    policy.hasPlatformsCondition = !policy.includePlatforms.empty() || !policy.excludePlatforms.empty();

    JsonView locations = conditions.get("locations");
    if (set_object(locations, "the locations condition as an object")) {
        policy.includeLocations = canonical(locations.strings("includeLocations"), kLocationSpecials);
        policy.excludeLocations = canonical(locations.strings("excludeLocations"), kLocationSpecials);
    }
    policy.hasLocationsCondition = !policy.includeLocations.empty() || !policy.excludeLocations.empty();

    JsonView devices = conditions.get("devices");
    if (set_object(devices, "the devices condition as an object")) policy.deviceFilter = decode_filter(devices.get("deviceFilter"));

    policy.signInRiskLevels = canonical(conditions.strings("signInRiskLevels"), kRiskLevels);
    policy.userRiskLevels = canonical(conditions.strings("userRiskLevels"), kRiskLevels);
    policy.servicePrincipalRiskLevels = canonical(conditions.strings("servicePrincipalRiskLevels"), kRiskLevels);
    // A flags enum in Graph ("minor,moderate"), like transferMethods.
    policy.insiderRiskLevels = flags(conditions, "insiderRiskLevels", kInsiderRiskLevels);
    JsonView flows = conditions.get("authenticationFlows");
    if (set_object(flows, "the authenticationFlows condition as an object"))
        policy.authenticationFlowTransferMethods = flags(flows, "transferMethods", kTransferMethods);

    JsonView clients = conditions.get("clientApplications");
    if (set_object(clients, "the clientApplications condition as an object")) {
        // Workload identities are targeted by a list of service principals or by a filter on them.
        policy.targetsWorkloadIdentities = !clients.strings("includeServicePrincipals").empty() ||
                                           decode_filter(clients.get("servicePrincipalFilter")).has_value();
    }
}

void decode_grant_controls(const JsonView& grant, ConditionalAccessPolicy& policy) {
    if (!set_object(grant, "the grant controls as an object")) return;
    policy.grantOperator = canonical(grant.string("operator"), kGrantOperators);
    policy.builtInControls = canonical(grant.strings("builtInControls"), kGrantControls);
    // The SDK writes an unset authenticationStrength as an object of nulls: that is no grant.
    JsonView strength = grant.get("authenticationStrength");
    if (set_object(strength, "an authentication strength object")) {
        policy.requiresAuthenticationStrength = true;
        policy.authenticationStrengthName = strength.string("displayName", strength.string("id"));
        if (policy.authenticationStrengthName.empty()) policy.authenticationStrengthName = "(unnamed)";
    }
    policy.termsOfUse = grant.strings("termsOfUse");
    policy.customAuthenticationFactors = grant.strings("customAuthenticationFactors");
}

// The session controls in force (Graph's names). Every session control derives from
// conditionalAccessSessionControl, whose isEnabled says whether it is enabled: true counts, false
// does not, and unset counts only when another member is set. A boolean control
// (disableResilienceDefaults) counts when true; any other set member (a control this version does
// not know) counts.
std::vector<std::string> decode_session_controls(const JsonView& session) {
    std::vector<std::string> names;
    if (!set_object(session, "the session controls as an object")) return names;
    for (const auto& member : session.value().items()) {
        if (is_annotation_key(member.key()) || is_unset(member.value())) continue;
        JsonView control = session.get(member.key());
        const nlohmann::json& value = control.value();
        bool inForce = true;
        if (value.is_boolean()) {
            inForce = value.get<bool>();
        } else if (value.is_object()) {
            if (auto enabled = control.optional_boolean("isEnabled")) inForce = *enabled;
        }
        if (inForce) names.push_back(member.key());
    }
    return names;
}

// Exchange identity properties are strings in current exports; older remote-PowerShell objects
// serialise them as ADObjectId objects, whose "Name" is what the cmdlets accept.
std::string exchange_identity(const JsonView& object, std::string_view key) {
    JsonView member = object.get(key);
    if (member.is_object()) {
        if (!member.get("Name").value().is_string()) member.fail("expected a string or an object with a \"Name\"");
        return member.string("Name");
    }
    return object.string(key);
}

// The streamed sections (see "Streaming" below), by the section's JSON pointer as the file spells it
// ("/graph/users", or "/Graph/Users").
struct StreamedSection;
using StreamedSections = std::map<std::string, std::unique_ptr<StreamedSection>>;
template <class T>
std::optional<std::vector<T>> take_streamed(StreamedSections* streamed, const JsonView& section);

// A section that is absent or null was not collected (nullopt); [] was collected and is empty.
// A section decoded while the document was parsed is taken from `streamed`.
template <class T, class Decode>
std::optional<std::vector<T>> list_section(const JsonView& parent, std::string_view key, Decode decode,
                                           StreamedSections* streamed = nullptr) {
    JsonView section = parent.get(key);
    if (section.is_null()) return std::nullopt;
    if (auto decoded = take_streamed<T>(streamed, section)) return decoded;
    std::vector<JsonView> elements = section.as_elements();
    std::vector<T> decoded;
    decoded.reserve(elements.size());
    for (const JsonView& element : elements) {
        require_object(element, "an object");
        decoded.push_back(decode(element));
    }
    return decoded;
}

// Single-object sections also accept the one-element array some exports write (ScubaGear's org_config).
template <class T, class Decode>
std::optional<T> object_section(const JsonView& parent, std::string_view key, Decode decode) {
    JsonView section = parent.get(key);
    if (section.is_null()) return std::nullopt;
    if (section.value().is_array() && section.value().size() == 1) section = section.as_elements().front();
    require_object(section, "an object");
    return decode(section);
}

RoleAssignment decode_role_assignment(const JsonView& view) {
    return RoleAssignment{view.string("id"), view.string("principalId"), view.string("roleDefinitionId"),
                          view.string("directoryScopeId")};
}

SubscribedSku decode_subscribed_sku(const JsonView& view) {
    SubscribedSku sku{view.string("skuId"), view.string("skuPartNumber"), view.string("capabilityStatus"), {}};
    for (const JsonView& plan : view.elements("servicePlans")) {
        require_object(plan, "a service plan object");
        sku.servicePlans.push_back(ServicePlan{plan.string("servicePlanId"), plan.string("servicePlanName"),
                                               plan.string("provisioningStatus")});
    }
    return sku;
}

SignIn decode_sign_in(const JsonView& view) {
    SignIn signIn;
    signIn.id = view.string("id");
    signIn.createdDateTime = view.string("createdDateTime");
    signIn.userId = view.string("userId");
    signIn.userPrincipalName = view.string("userPrincipalName");
    signIn.appId = view.string("appId");
    signIn.clientAppUsed = view.string("clientAppUsed");
    signIn.ipAddress = view.string("ipAddress");
    signIn.countryOrRegion = to_upper(view.get("location").string("countryOrRegion"));
    JsonView status = view.get("status");
    long long errorCode = status.integer("errorCode", 0);
    if (errorCode < INT_MIN || errorCode > INT_MAX) status.get("errorCode").fail("error code out of range");
    signIn.errorCode = static_cast<int>(errorCode);
    signIn.failureReason = status.string("failureReason");
    return signIn;
}

AuthenticationPolicy decode_authentication_policy(const JsonView& view) {
    AuthenticationPolicy policy;
    policy.name = view.string("Name");
    policy.identity = exchange_identity(view, "Identity");
    policy.distinguishedName = view.string("DistinguishedName");
    policy.guid = view.string("Guid");
    policy.allowBasicAuthSmtp = view.boolean("AllowBasicAuthSmtp", false);
    return policy;
}

ExchangeUser decode_exchange_user(const JsonView& view) {
    return ExchangeUser{exchange_identity(view, "Identity"), view.string("UserPrincipalName"),
                        view.string("ExternalDirectoryObjectId"), exchange_identity(view, "AuthenticationPolicy")};
}

HveAccount decode_hve_account(const JsonView& view) {
    HveAccount account;
    account.identity = exchange_identity(view, "Identity");
    account.name = view.string("Name");
    account.displayName = view.string("DisplayName");
    account.primarySmtpAddress = view.string("PrimarySmtpAddress");
    account.externalDirectoryObjectId = view.string("ExternalDirectoryObjectId");
    account.emailAddresses = view.strings("EmailAddresses");
    return account;
}

HveBillingPolicy decode_hve_billing_policy(const JsonView& view) {
    return HveBillingPolicy{exchange_identity(view, "Identity"), view.string("BillingPolicyStatus")};
}

Recipient decode_recipient(const JsonView& view) {
    Recipient recipient;
    recipient.identity = exchange_identity(view, "Identity");
    recipient.name = view.string("Name");
    recipient.primarySmtpAddress = view.string("PrimarySmtpAddress");
    recipient.externalDirectoryObjectId = view.string("ExternalDirectoryObjectId");
    recipient.recipientTypeDetails = view.string("RecipientTypeDetails");
    recipient.emailAddresses = view.strings("EmailAddresses");
    return recipient;
}

CasMailbox decode_cas_mailbox(const JsonView& view) {
    return CasMailbox{exchange_identity(view, "Identity"), view.string("PrimarySmtpAddress"),
                      view.string("ExternalDirectoryObjectId"),
                      view.optional_boolean("SmtpClientAuthenticationDisabled")};
}

// An enum member that exports write as its name ("Authoritative") or, from some serialisers, as
// its number (0). Unknown numbers are kept as text, so a rule never mistakes them for a known value.
std::string enum_text(const JsonView& view, std::string_view key,
                      const std::vector<std::pair<int, const char*>>& numbers) {
    const JsonView member = view.get(key);
    if (member.value().is_number_integer()) {
        const auto number = member.value().get<long long>();
        for (const auto& [value, name] : numbers)
            if (value == number) return name;
        return std::to_string(number);
    }
    return view.string(key);
}

AcceptedDomain decode_accepted_domain(const JsonView& view) {
    // AcceptedDomainType: Authoritative 0, ExternalRelay 1, InternalRelay 2.
    return AcceptedDomain{view.string("DomainName"), view.boolean("Default", false),
                          enum_text(view, "DomainType", {{0, "Authoritative"}, {1, "ExternalRelay"}, {2, "InternalRelay"}})};
}

// TlsSenderCertificateName: a string ("*.contoso.com"), or the TlsCertificate object some exports
// write, whose certificate name is its CertificateName (or CertificateSubject).
std::string tls_certificate_name(const JsonView& view, std::string_view key) {
    JsonView member = view.get(key);
    if (!member.is_object()) return view.string(key);
    for (const char* name : {"CertificateName", "CertificateSubject", "Name"})
        if (member.has(name)) return member.string(name);
    member.fail("expected the certificate name as a string, or an object with a CertificateName");
}

InboundConnector decode_inbound_connector(const JsonView& view) {
    InboundConnector connector;
    connector.identity = exchange_identity(view, "Identity");
    connector.name = view.string("Name");
    connector.enabled = view.optional_boolean("Enabled");
    connector.connectorType = view.string("ConnectorType");
    // A list, one bare string, or (Exchange's MultiValuedProperty as text) comma-separated.
    for (const auto& entry : view.strings("SenderIPAddresses"))
        for (const auto& part : split_flags(entry)) connector.senderIpAddresses.push_back(part);
    for (const auto& entry : view.strings("SenderDomains"))
        for (const auto& part : split_flags(entry)) connector.senderDomains.push_back(part);
    connector.tlsSenderCertificateName = tls_certificate_name(view, "TlsSenderCertificateName");
    connector.requireTls = view.optional_boolean("RequireTls");
    connector.restrictDomainsToIpAddresses = view.optional_boolean("RestrictDomainsToIPAddresses");
    connector.restrictDomainsToCertificate = view.optional_boolean("RestrictDomainsToCertificate");
    return connector;
}

// A string member of the cross-check request: nullopt when unset.
std::optional<std::string> optional_string(const JsonView& view, std::string_view key) {
    std::string text = view.string(key);
    if (text.empty()) return std::nullopt;
    return text;
}

CrossCheckEntry decode_cross_check_entry(const JsonView& view) {
    CrossCheckEntry entry;
    entry.pointer = view.pointer();
    entry.userId = view.string("userId");
    if (entry.userId.empty()) view.get("userId").fail("missing userId (the Entra object id the what-if request named)");
    entry.account = view.string("account");
    JsonView request = view.get("request");
    if (!request.is_null()) require_object(request, "the what-if request as an object");
    JsonView conditions = request.get("signInConditions");
    if (!conditions.is_null()) {
        require_object(conditions, "the sign-in conditions as an object");
        entry.signInConditions = conditions.value();
    }
    entry.clientAppType = optional_string(conditions, "clientAppType");
    entry.devicePlatform = optional_string(conditions, "devicePlatform");
    entry.ipAddress = optional_string(conditions, "ipAddress");
    entry.country = optional_string(conditions, "country");
    entry.signInRiskLevel = optional_string(conditions, "signInRiskLevel");
    entry.userRiskLevel = optional_string(conditions, "userRiskLevel");
    entry.includeApplications = request.get("signInContext").strings("includeApplications");
    JsonView answers = view.get("value");
    if (answers.is_null()) answers.fail("missing value: Microsoft's answer, a list of policies");
    for (const JsonView& answer : answers.as_elements()) {
        require_object(answer, "a whatIfAnalysisResult object");
        CrossCheckAnswer decoded;
        decoded.policyId = answer.string("id");
        if (decoded.policyId.empty()) answer.get("id").fail("missing policy id");
        decoded.displayName = answer.string("displayName");
        std::optional<bool> applies = answer.optional_boolean("policyApplies");
        if (!applies) answer.get("policyApplies").fail("missing policyApplies (true or false)");
        decoded.policyApplies = *applies;
        // analysisReasons is a flags enum: "users,application" (or, in some exports, an array).
        decoded.analysisReasons = flags(answer, "analysisReasons", {});
        entry.answers.push_back(std::move(decoded));
    }
    return entry;
}

// Members given without a usable "@odata.type" were recorded as users; those whose id names a
// group of the same section are groups.
void resolve_untyped_group_members(std::vector<Group>& groups) {
    std::unordered_set<std::string> groupIds;
    for (const Group& group : groups) groupIds.insert(to_lower(group.id));
    for (Group& group : groups) {
        auto isGroup = [&](const std::string& id) { return groupIds.count(to_lower(id)) != 0; };
        for (const std::string& id : group.memberUserIds) {
            if (isGroup(id)) group.memberGroupIds.push_back(id);
        }
        group.memberUserIds.erase(std::remove_if(group.memberUserIds.begin(), group.memberUserIds.end(), isGroup),
                                  group.memberUserIds.end());
    }
}

void decode_snapshot_version(const JsonView& root) {
    JsonView version = root.get("snapshotVersion");
    if (version.is_null()) version.fail("missing snapshot version (this tenantscan reads version 1)");
    if (!version.value().is_number_integer()) {
        version.fail("expected the snapshot version as a number, got " + describe_json_type(version.value()));
    }
    if (version.value() != 1) {
        version.fail("unsupported snapshot version " + version.value().dump() + " (this tenantscan reads version 1)");
    }
}

// The decoder of each section, chosen by its type in the section table (tenantscan/detail/sections.hpp):
// decode_item<T> for an element of a list section, decode_object<T> for an object section.
template <class T>
T decode_item(const JsonView& view);
template <>
ConditionalAccessPolicy decode_item<ConditionalAccessPolicy>(const JsonView& view) {
    // In a tenant every policy has a state; guessing one could hide a blocking policy.
    if (!view.has("state")) {
        view.get("state").fail("missing policy state (enabled, disabled or enabledForReportingButNotEnforced)");
    }
    return decode_policy(view);
}
template <>
NamedLocation decode_item<NamedLocation>(const JsonView& view) { return decode_named_location(view); }
template <>
User decode_item<User>(const JsonView& view) { return decode_user(view); }
template <>
Group decode_item<Group>(const JsonView& view) { return decode_group(view); }
template <>
RoleAssignment decode_item<RoleAssignment>(const JsonView& view) { return decode_role_assignment(view); }
template <>
SubscribedSku decode_item<SubscribedSku>(const JsonView& view) { return decode_subscribed_sku(view); }
template <>
SignIn decode_item<SignIn>(const JsonView& view) { return decode_sign_in(view); }
template <>
AuthenticationPolicy decode_item<AuthenticationPolicy>(const JsonView& view) { return decode_authentication_policy(view); }
template <>
ExchangeUser decode_item<ExchangeUser>(const JsonView& view) { return decode_exchange_user(view); }
template <>
HveAccount decode_item<HveAccount>(const JsonView& view) { return decode_hve_account(view); }
template <>
HveBillingPolicy decode_item<HveBillingPolicy>(const JsonView& view) { return decode_hve_billing_policy(view); }
template <>
Recipient decode_item<Recipient>(const JsonView& view) { return decode_recipient(view); }
template <>
CasMailbox decode_item<CasMailbox>(const JsonView& view) { return decode_cas_mailbox(view); }
template <>
AcceptedDomain decode_item<AcceptedDomain>(const JsonView& view) { return decode_accepted_domain(view); }
template <>
InboundConnector decode_item<InboundConnector>(const JsonView& view) { return decode_inbound_connector(view); }
template <>
CrossCheckEntry decode_item<CrossCheckEntry>(const JsonView& view) { return decode_cross_check_entry(view); }

template <class T>
T decode_object(const JsonView& view);
template <>
SecurityDefaults decode_object<SecurityDefaults>(const JsonView& view) {
    // Absent isEnabled is unknown, not "off": guessing would decide rules either way.
    if (!view.has("isEnabled")) view.get("isEnabled").fail("missing isEnabled");
    return SecurityDefaults{view.boolean("isEnabled", false)};
}
template <>
OrganizationConfig decode_object<OrganizationConfig>(const JsonView& view) {
    return OrganizationConfig{exchange_identity(view, "DefaultAuthenticationPolicy"),
                              view.optional_boolean("RejectDirectSend")};
}
template <>
TransportConfig decode_object<TransportConfig>(const JsonView& view) {
    return TransportConfig{view.optional_boolean("SmtpClientAuthenticationDisabled")};
}

// What a decoded list needs before rules see it (only groups: members of unknown type).
template <class T>
void finish_section(std::vector<T>&) {}
void finish_section(std::vector<Group>& groups) { resolve_untyped_group_members(groups); }

template <class T>
void decode_section(const JsonView& parent, std::string_view key, std::optional<std::vector<T>>& out,
                    StreamedSections* streamed) {
    out = list_section<T>(parent, key, decode_item<T>, streamed);
    if (out) finish_section(*out);
}
template <class T>
void decode_section(const JsonView& parent, std::string_view key, std::optional<T>& out, StreamedSections*) {
    out = object_section<T>(parent, key, decode_object<T>);
}
// The device inventory: bad rows are kept with their problems (docs/inventory.md).
void decode_section(const JsonView& parent, std::string_view key, std::optional<SmtpClientInventory>& out,
                    StreamedSections*) {
    JsonView section = parent.get(key);
    if (!section.is_null()) out = parse_smtp_clients_json(section.value(), section.file(), section.pointer());
}

// Every section is decoded here, in the table's order, so that bad input stops the load (exit 2)
// naming its pointer, and rules read only the model.
void decode_sections(const JsonView& root, Snapshot& snapshot, StreamedSections* streamed) {
    for (const sections::Section& section : sections::all()) {
        const JsonView parent = section.parent.empty() ? root : root.get(section.parent);
        std::visit([&](auto member) { decode_section(parent, section.key, snapshot.*member, streamed); }, section.member);
    }
}

// The top-level objects that say how complete sections are, keyed by section pointer:
// "notCollected" ({"/graph/signIns": "reason"}: the collector could not read the section, so it
// must be absent) and "partial" ({"/exchange/users": "only the HVE accounts: ..."}: the section
// holds only part of what it covers, with that scope, so it must be present).
struct SectionMapMember {
    const char* name;           // "notCollected"
    const char* valueNoun;      // "reason"
    bool sectionMustBePresent;  // false: must be absent
    const char* presenceError;  // the message when it is not as it must be
};

void decode_section_map(const JsonView& root, const Snapshot& snapshot, const SectionMapMember& what,
                        std::map<std::string, std::string>& out) {
    JsonView object = root.get(what.name);
    if (object.is_null()) return;
    require_object(object, (std::string("an object of section pointers and ") + what.valueNoun + "s").c_str());
    for (const auto& member : object.value().items()) {
        if (is_annotation_key(member.key())) continue;
        JsonView entry = object.get(member.key());
        const sections::Section* section = sections::find_ignoring_case(member.key());
        if (!section) {
            entry.fail("unknown section \"" + member.key() + "\" (expected a section pointer such as /graph/signIns)");
        }
        if (!entry.value().is_string()) {
            entry.fail(std::string("expected the ") + what.valueNoun + " as a string, got " + describe_json_type(entry.value()));
        }
        if (sections::collected(*section, snapshot) != what.sectionMustBePresent) entry.fail(what.presenceError);
        out[std::string(section->pointer)] = entry.value().get<std::string>();
    }
}

void decode_not_collected(const JsonView& root, Snapshot& snapshot) {
    decode_section_map(root, snapshot,
                       {"notCollected", "reason", false, "the section is present in the snapshot but listed as not collected"},
                       snapshot.notCollected);
}

void decode_partial(const JsonView& root, Snapshot& snapshot) {
    decode_section_map(root, snapshot,
                       {"partial", "scope", true, "the section is listed as partial but is not in the snapshot"},
                       snapshot.partial);
}

// ---------------------------------------------------------------------------------------------
// Streaming: the large list sections are decoded element by element while the document is parsed,
// so the whole DOM is never held (docs/performance.md). Everything else is built into a DOM as
// nlohmann's own parser would build it, with an empty array where a streamed section stood, and
// decoded afterwards exactly as before. A decoding error in a streamed section is kept and thrown
// where the section is decoded, so errors come in the same order as without streaming: syntax
// first, then the snapshot version, then the sections in decoding order.

struct StreamedSection {
    virtual ~StreamedSection() = default;
    virtual void add(const JsonView& element) = 0;
    std::exception_ptr error;  // the first decoding error; later elements are parsed, not decoded
    std::size_t count = 0;     // elements seen
};

template <class T>
struct StreamedList final : StreamedSection {
    explicit StreamedList(T (*decode_element)(const JsonView&)) : decode(decode_element) {}
    void add(const JsonView& element) override {
        require_object(element, "an object");
        values.push_back(decode(element));
    }
    T (*decode)(const JsonView&);
    std::vector<T> values;
};


template <class T>
std::unique_ptr<StreamedSection> make_streamed(sections::List<T>) {
    return std::make_unique<StreamedList<T>>(decode_item<T>);
}
template <class T>
std::unique_ptr<StreamedSection> make_streamed(sections::Object<T>) {
    throw std::logic_error("an object section cannot be streamed");
}

// The sections that grow with the tenant (streamable in the section table). Policies and the small
// sections are few and are decoded from the DOM.
const sections::Section* find_streamable(std::string_view parent, std::string_view key) {
    for (const sections::Section& section : sections::all())
        if (section.streamable && iequals(section.parent, parent) && iequals(section.key, key)) return &section;
    return nullptr;
}

// Builds a DOM from parser events the way nlohmann's parser does (a repeated key: the last wins).
class DomBuilder {
public:
    using json = nlohmann::json;
    explicit DomBuilder(json& root) : root_(&root) {}
    // Places a value; returns where it went.
    json* add(json&& value) {
        if (frames_.empty()) {
            *root_ = std::move(value);
            return root_;
        }
        Frame& top = frames_.back();
        if (top.container->is_array()) {
            auto& array = top.container->get_ref<json::array_t&>();
            array.push_back(std::move(value));
            return &array.back();
        }
        *top.slot = std::move(value);
        return top.slot;
    }
    void open(json* container) { frames_.push_back({container, nullptr}); }
    void close() { frames_.pop_back(); }
    void key(const std::string& name) { frames_.back().slot = &(*frames_.back().container)[name]; }
    std::size_t depth() const { return frames_.size(); }
    bool is_object_at(std::size_t i) const { return frames_[i].container->is_object(); }

private:
    struct Frame {
        json* container;
        json* slot;  // objects: where the value of the last key goes
    };
    json* root_;
    std::vector<Frame> frames_;
};

class SnapshotEvents final : public nlohmann::json_sax<nlohmann::json> {
public:
    using json = nlohmann::json;
    SnapshotEvents(const std::string& file, json& document, StreamedSections& streams)
        : file_(file), document_(document), streams_(streams) {}

    bool null() override { return value(json()); }
    bool boolean(bool v) override { return value(json(v)); }
    bool number_integer(json::number_integer_t v) override { return value(json(v)); }
    bool number_unsigned(json::number_unsigned_t v) override { return value(json(v)); }
    bool number_float(json::number_float_t v, const json::string_t&) override { return value(json(v)); }
    bool string(json::string_t& v) override { return value(json(std::move(v))); }
    bool binary(json::binary_t& v) override { return value(json(std::move(v))); }

    bool start_object(std::size_t) override { return open(json::value_t::object); }
    bool start_array(std::size_t) override {
        if (!stream_ && document_.depth() == 2 && document_.is_object_at(0) && document_.is_object_at(1))
            if (const sections::Section* section = find_streamable(parentKey_, sectionKey_)) {
                document_.add(json::array());  // the placeholder: "collected", decoded from the stream
                const std::string pointer = "/" + parentKey_ + "/" + sectionKey_;
                sectionView_.emplace(elementValue_, file_, pointer);  // the value is not read, only the pointer
                auto& slot = streams_[pointer];
                // A repeated key: the last occurrence wins, as in the DOM.
                slot = std::visit([](auto member) { return make_streamed(member); }, section->member);
                stream_ = slot.get();
                return true;
            }
        return open(json::value_t::array);
    }
    bool key(json::string_t& name) override {
        if (stream_) {
            if (!stream_->error) element_.key(name);
            return true;
        }
        document_.key(name);
        if (document_.depth() == 1) {
            parentKey_ = name;
            // A repeated "graph" or "exchange" replaces the whole object, and the sections streamed from it.
            const std::string prefix = "/" + name + "/";
            for (auto it = streams_.begin(); it != streams_.end();)
                it = it->first.compare(0, prefix.size(), prefix) == 0 ? streams_.erase(it) : std::next(it);
        } else if (document_.depth() == 2) {
            sectionKey_ = name;
            streams_.erase("/" + parentKey_ + "/" + name);
        }
        return true;
    }
    bool end_object() override { return close(); }
    bool end_array() override {
        if (stream_ && streamDepth_ == 0) {
            stream_ = nullptr;
            return true;
        }
        return close();
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;  // parse_json_events reports it
    }

private:
    bool value(json&& v) {
        if (!stream_) {
            document_.add(std::move(v));
        } else if (streamDepth_ == 0) {
            elementValue_ = std::move(v);
            finish_element();
        } else if (!stream_->error) {
            element_.add(std::move(v));
        }
        return true;
    }
    bool open(json::value_t type) {
        if (!stream_) {
            document_.open(document_.add(json(type)));
        } else {
            if (streamDepth_ == 0) element_ = DomBuilder(elementValue_);
            if (!stream_->error) element_.open(element_.add(json(type)));
            ++streamDepth_;
        }
        return true;
    }
    bool close() {
        if (!stream_) {
            document_.close();
            return true;
        }
        if (!stream_->error) element_.close();
        if (--streamDepth_ == 0) finish_element();
        return true;
    }
    void finish_element() {
        if (!stream_->error) {
            try {
                stream_->add(sectionView_->element(elementValue_, stream_->count));
            } catch (const InputError&) {
                stream_->error = std::current_exception();
            }
        }
        ++stream_->count;
        elementValue_ = json();
    }

    const std::string& file_;
    DomBuilder document_;
    StreamedSections& streams_;
    std::string parentKey_, sectionKey_;  // the keys open at depths 1 and 2
    StreamedSection* stream_ = nullptr;   // the section being streamed, if any
    std::optional<JsonView> sectionView_;  // gives the elements' pointers
    std::size_t streamDepth_ = 0;         // nesting inside the streamed array's current element
    json elementValue_;
    DomBuilder element_{elementValue_};
};

template <class T>
std::optional<std::vector<T>> take_streamed(StreamedSections* streamed, const JsonView& section) {
    if (!streamed) return std::nullopt;
    auto found = streamed->find(section.pointer());
    if (found == streamed->end()) return std::nullopt;
    auto* list = dynamic_cast<StreamedList<T>*>(found->second.get());
    if (!list) throw std::logic_error("streamed section " + found->first + " has another type");
    if (list->error) std::rethrow_exception(list->error);
    return std::move(list->values);
}

Snapshot decode_document(const nlohmann::json& document, const std::string& file, StreamedSections* streamed);

// Parses UTF-8 text, streaming the large sections, and decodes the rest; *parseSeconds gets the
// time of the parse (which includes decoding the streamed sections).
Snapshot load_text(const std::string& text, const std::string& file, double* parseSeconds, double* decodeSeconds) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    nlohmann::json document;
    StreamedSections streamed;
    {
        SnapshotEvents events(file, document, streamed);
        parse_json_events(text, file, events);
    }
    const auto parsed = Clock::now();
    Snapshot snapshot = decode_document(document, file, &streamed);
    if (parseSeconds) *parseSeconds = std::chrono::duration<double>(parsed - start).count();
    if (decodeSeconds) *decodeSeconds = std::chrono::duration<double>(Clock::now() - parsed).count();
    return snapshot;
}

}  // namespace

namespace {

// Whether a location without @odata.type lists IP ranges: any element that is not null, so that a
// range without its cidrAddress is reported rather than turning the location into an unknown kind.
bool lists_ranges(const JsonView& view) {
    for (const JsonView& range : holder_of(view, "ipRanges").elements("ipRanges"))
        if (!range.is_null()) return true;
    return false;
}

// A conditionalAccessTemplate: its policy is in "details" (an object, even an empty one), and it has no
// conditions of its own.
bool is_template(const JsonView& view) {
    return (view.has("details") || view.get("details").is_object()) && !view.has("conditions");
}

}  // namespace

ConditionalAccessPolicy decode_policy(const JsonView& view) {
    require_object(view, "a policy object");
    ConditionalAccessPolicy policy;
    policy.sourceFile = view.file();
    policy.sourcePointer = view.pointer();
    policy.id = view.string("id");
    JsonView body = view;
    if (is_template(view)) {
        // A conditionalAccessTemplate: the policy is in "details", its name in "name".
        policy.displayName = view.string("name");
        body = view.get("details");
        require_object(body, "the template's policy details as an object");
    } else {
        policy.displayName = view.string("displayName");
        policy.state = decode_state(view);
        policy.templateId = view.string("templateId");
    }
    decode_conditions(body.get("conditions"), policy);
    decode_grant_controls(body.get("grantControls"), policy);
    policy.hasSessionControls = !decode_session_controls(body.get("sessionControls")).empty();
    return policy;
}

NamedLocation decode_named_location(const JsonView& view) {
    require_object(view, "a named location object");
    NamedLocation location;
    location.id = view.string("id");
    location.displayName = view.string("displayName");
    std::string type = odata_type(view);
    if (ends_with_ignoring_case(type, "ipNamedLocation")) {
        location.kind = NamedLocation::Kind::Ip;
    } else if (ends_with_ignoring_case(type, "countryNamedLocation")) {
        location.kind = NamedLocation::Kind::Country;
    } else if (type.empty() && lists_ranges(view)) {
        location.kind = NamedLocation::Kind::Ip;
    } else if (type.empty() && !holder_of(view, "countriesAndRegions").strings("countriesAndRegions").empty()) {
        location.kind = NamedLocation::Kind::Country;
    }
    location.isTrusted = holder_of(view, "isTrusted").boolean("isTrusted", false);
    if (location.kind == NamedLocation::Kind::Ip) {
        for (const JsonView& range : holder_of(view, "ipRanges").elements("ipRanges")) {
            require_object(range, "an IP range object with a cidrAddress");
            JsonView cidr = range.get("cidrAddress");
            std::string text = range.string("cidrAddress");
            if (text.empty()) cidr.fail("missing cidrAddress");
            auto parsed = parse_cidr(text);
            if (!parsed) cidr.fail("malformed CIDR range \"" + text + "\"");
            location.ipRanges.push_back(std::move(*parsed));
        }
    } else if (location.kind == NamedLocation::Kind::Country) {
        for (std::string& country : holder_of(view, "countriesAndRegions").strings("countriesAndRegions")) {
            location.countriesAndRegions.push_back(to_upper(std::move(country)));
        }
        location.includeUnknownCountriesAndRegions = holder_of(view, "includeUnknownCountriesAndRegions")
                                                         .boolean("includeUnknownCountriesAndRegions", false);
        location.countryLookupMethod =
            canonical(holder_of(view, "countryLookupMethod").string("countryLookupMethod"), kCountryLookupMethods);
    }
    return location;
}

Group decode_group(const JsonView& view) {
    require_object(view, "a group object");
    Group group;
    group.id = view.string("id");
    group.displayName = view.string("displayName");
    group.isAssignableToRole = view.boolean("isAssignableToRole", false);
    group.membersCollected = !view.get("members").value().is_null();
    for (const JsonView& member : view.elements("members")) {
        require_object(member, "a member object with an id");
        std::string id = member.string("id");
        if (id.empty()) member.get("id").fail("missing member id");
        if (ends_with_ignoring_case(odata_type(member), ".group")) {
            group.memberGroupIds.push_back(std::move(id));
        } else {
            group.memberUserIds.push_back(std::move(id));
        }
    }
    return group;
}

User decode_user(const JsonView& view) {
    require_object(view, "a user object");
    User user;
    user.id = view.string("id");
    user.userPrincipalName = view.string("userPrincipalName");
    user.displayName = view.string("displayName");
    user.mail = view.string("mail");
    user.userType = canonical(view.string("userType"), kUserTypes);
    user.accountEnabled = view.optional_boolean("accountEnabled");
    user.onPremisesSyncEnabled = view.optional_boolean("onPremisesSyncEnabled");
    user.proxyAddresses = view.strings("proxyAddresses");
    return user;
}

std::vector<ConditionalAccessPolicy> decode_policies(const JsonView& view) {
    std::vector<ConditionalAccessPolicy> policies;
    for (const JsonView& element : view.as_elements()) policies.push_back(decode_policy(element));
    return policies;
}

std::vector<NamedLocation> decode_named_locations(const JsonView& view) {
    std::vector<NamedLocation> locations;
    for (const JsonView& element : view.as_elements()) locations.push_back(decode_named_location(element));
    return locations;
}

Snapshot decode_snapshot(const nlohmann::json& document, const std::string& file) {
    return decode_document(document, file, nullptr);
}

namespace {

Snapshot decode_document(const nlohmann::json& document, const std::string& file, StreamedSections* streamed) {
    JsonView root(document, file, "");
    require_object(root, "the document root to be an object");
    Snapshot snapshot;
    snapshot.sourcePath = file;
    decode_snapshot_version(root);
    snapshot.snapshotVersion = 1;
    snapshot.tenantId = root.string("tenantId");
    snapshot.collectedAt = root.string("collectedAt");
    // "graph" and "exchange" hold sections by name: null or absent is "nothing collected", anything
    // but an object ("graph": []) is malformed, not "every section absent".
    for (const char* parent : {"graph", "exchange"}) {
        JsonView view = root.get(parent);
        if (!view.is_null()) require_object(view, "an object of sections");
    }
    decode_sections(root, snapshot, streamed);
    decode_not_collected(root, snapshot);
    decode_partial(root, snapshot);
    return snapshot;
}

}  // namespace

Snapshot load_snapshot(const std::string& path) { return load_snapshot(path, nullptr); }

Snapshot load_snapshot(const std::string& path, LoadTimings* timings) {
    const auto start = std::chrono::steady_clock::now();
    const std::string text = read_text_file(path);
    const double readSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    LoadTimings measured{readSeconds, 0, 0};
    Snapshot snapshot = load_text(text, path, &measured.parseSeconds, &measured.decodeSeconds);
    if (timings) *timings = measured;
    return snapshot;
}

Snapshot load_snapshot_from_memory(const std::string& bytes, const std::string& name) {
    return load_text(decode_text(bytes, name), name, nullptr, nullptr);
}

}  // namespace tenantscan
