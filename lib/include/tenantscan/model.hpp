// Tenant snapshot model: the typed, normalised view of what an admin exported.
//
// Every section is std::optional: nullopt means "not collected" (absent or null in the file),
// an empty vector means "collected, nothing there". Rules that need a section that is nullopt
// report `error`, never `pass`.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/smtp_clients.hpp>

namespace tenantscan {

// Well-known identifiers (docs/microsoft-facts.md §6).
inline constexpr const char* kExchangeOnlineAppId = "00000002-0000-0ff1-ce00-000000000000";
inline constexpr const char* kLegacyAuthTemplateId = "0b2282f9-2862-4178-88b5-d79340b36cb8";

// An IPv4 or IPv6 CIDR range, stored as a 16-byte address (IPv4 mapped to ::ffff:a.b.c.d).
struct IpRange {
    std::array<std::uint8_t, 16> address{};
    int prefixLength = 0;  // in bits of the 128-bit form
    bool isV4 = false;
    std::string text;      // as written in the export
};

// A parsed IP address (same 16-byte form as IpRange).
struct IpAddress {
    std::array<std::uint8_t, 16> address{};
    bool isV4 = false;
    std::string text;
};

struct User {
    std::string id;
    std::string userPrincipalName;
    std::string displayName;
    std::string mail;
    std::string userType;                    // "Member" | "Guest" | "" (unknown)
    // nullopt: not in the export (Graph returns it only when $select asks for it; collect does, a
    // bare Get-MgUser does not). Only hve-account-enabled reports the unknown (docs/snapshot-format.md).
    std::optional<bool> accountEnabled;
    std::optional<bool> onPremisesSyncEnabled;
    std::vector<std::string> proxyAddresses;
};

struct Group {
    std::string id;
    std::string displayName;
    bool isAssignableToRole = false;
    std::vector<std::string> memberUserIds;   // direct members that are users
    std::vector<std::string> memberGroupIds;  // direct members that are groups
    // false: the export has no "members" (absent or null; Get-MgGroup without -ExpandProperty members),
    // so who is in the group is unknown, not "nobody". An empty array is a group with no members.
    bool membersCollected = true;
};

struct RoleAssignment {
    std::string id;
    std::string principalId;
    std::string roleDefinitionId;             // template id for built-in roles
    std::string directoryScopeId;             // "/" = tenant-wide
};

struct NamedLocation {
    enum class Kind { Ip, Country, Other };
    std::string id;
    std::string displayName;
    Kind kind = Kind::Other;
    bool isTrusted = false;
    std::vector<IpRange> ipRanges;
    std::vector<std::string> countriesAndRegions;   // upper-case ISO codes
    bool includeUnknownCountriesAndRegions = false;
    std::string countryLookupMethod;                // "clientIpAddress" | "authenticatorAppGps" | ""
};

struct SecurityDefaults {
    bool isEnabled = false;
};

enum class PolicyState { Enabled, Disabled, ReportOnly };

struct GuestsOrExternalUsers {
    std::vector<std::string> guestOrExternalUserTypes;  // split flags, e.g. "internalGuest", "b2bCollaborationGuest"
    bool allExternalTenants = true;                     // membershipKind all (or unspecified)
    std::vector<std::string> externalTenantIds;
};

struct UserConditions {
    std::vector<std::string> includeUsers, excludeUsers;
    std::vector<std::string> includeGroups, excludeGroups;
    std::vector<std::string> includeRoles, excludeRoles;
    std::optional<GuestsOrExternalUsers> includeGuestsOrExternalUsers, excludeGuestsOrExternalUsers;
};

// A conditionalAccessFilter: conditions.devices.deviceFilter, conditions.applications.applicationFilter.
struct DeviceFilter {
    std::string mode;  // "include" | "exclude" (unknown values as exported)
    std::string rule;  // may be "" when an export set only the mode
};

struct ConditionalAccessPolicy {
    std::string id;
    std::string displayName;
    PolicyState state = PolicyState::Disabled;
    std::string templateId;
    std::string sourceFile;   // file the policy was read from (snapshot or overlay)
    std::string sourcePointer;// JSON pointer of the policy inside that file

    UserConditions users;
    bool hasUsersCondition = false;  // false: no users condition at all (absent, null, or every list empty)

    std::vector<std::string> includeApplications, excludeApplications;
    std::vector<std::string> includeUserActions;
    std::vector<std::string> includeAuthenticationContextClassReferences;
    std::optional<DeviceFilter> applicationFilter;  // by custom security attributes, which no snapshot holds

    std::vector<std::string> clientAppTypes;            // empty = all
    std::vector<std::string> includePlatforms, excludePlatforms;
    bool hasPlatformsCondition = false;  // include or exclude list non-empty
    std::vector<std::string> includeLocations, excludeLocations;
    bool hasLocationsCondition = false;  // include or exclude list non-empty
    std::optional<DeviceFilter> deviceFilter;
    std::vector<std::string> signInRiskLevels, userRiskLevels, servicePrincipalRiskLevels, insiderRiskLevels;
    std::vector<std::string> authenticationFlowTransferMethods;
    bool targetsWorkloadIdentities = false;  // clientApplications: includeServicePrincipals or servicePrincipalFilter set

    // grantControls
    std::string grantOperator;                       // "AND" | "OR" | ""
    std::vector<std::string> builtInControls;        // Graph's spelling ("mfa"); unknown values as exported
    bool requiresAuthenticationStrength = false;
    std::string authenticationStrengthName;
    std::vector<std::string> termsOfUse;
    std::vector<std::string> customAuthenticationFactors;
    bool hasSessionControls = false;  // a session control in force (isEnabled not false; docs/snapshot-format.md)

    bool hasGrantControls() const {
        return !builtInControls.empty() || requiresAuthenticationStrength || !termsOfUse.empty() ||
               !customAuthenticationFactors.empty();
    }
};

struct SignIn {
    std::string id;
    std::string createdDateTime;
    std::string userId;
    std::string userPrincipalName;
    std::string appId;
    std::string clientAppUsed;
    std::string ipAddress;
    std::string countryOrRegion;  // location.countryOrRegion
    int errorCode = 0;            // status.errorCode (0 = success)
    std::string failureReason;
};

struct ServicePlan {
    std::string servicePlanId;
    std::string servicePlanName;
    std::string provisioningStatus;
};

struct SubscribedSku {
    std::string skuId;
    std::string skuPartNumber;
    std::string capabilityStatus;
    std::vector<ServicePlan> servicePlans;
};

struct OrganizationConfig {
    std::string defaultAuthenticationPolicy;  // "" = none
    // Get-OrganizationConfig RejectDirectSend: true blocks Direct Send (docs/microsoft-facts.md §10).
    // nullopt: not in the export (older exports, or a property the cmdlet did not return).
    std::optional<bool> rejectDirectSend;
};

struct TransportConfig {
    std::optional<bool> smtpClientAuthenticationDisabled;
};

struct AuthenticationPolicy {
    std::string name;
    std::string identity;
    std::string distinguishedName;
    std::string guid;
    bool allowBasicAuthSmtp = false;  // absent = blocked (docs/microsoft-facts.md §3)
};

struct ExchangeUser {
    std::string identity;
    std::string userPrincipalName;
    std::string externalDirectoryObjectId;
    std::string authenticationPolicy;  // name or DN; "" = none
};

struct HveAccount {
    std::string identity;
    std::string name;
    std::string displayName;
    std::string primarySmtpAddress;
    std::string externalDirectoryObjectId;
    std::vector<std::string> emailAddresses;
};

struct HveBillingPolicy {
    std::string identity;           // account identity / address as the cmdlet prints it
    std::string billingPolicyStatus;
};

struct Recipient {
    std::string identity;
    std::string name;
    std::string primarySmtpAddress;
    std::string externalDirectoryObjectId;
    std::string recipientTypeDetails;
    std::vector<std::string> emailAddresses;  // as exported, with SMTP:/smtp: prefixes
};

struct CasMailbox {
    std::string identity;
    std::string primarySmtpAddress;
    std::string externalDirectoryObjectId;
    std::optional<bool> smtpClientAuthenticationDisabled;  // null inherits the org value
};

struct AcceptedDomain {
    std::string domainName;
    bool isDefault = false;
    std::string domainType;  // "Authoritative" | "InternalRelay" | "ExternalRelay" | "" (not exported)
};

// One Get-InboundConnector object (docs/snapshot-format.md, docs/microsoft-facts.md §10).
struct InboundConnector {
    std::string identity;
    std::string name;
    std::optional<bool> enabled;                       // nullopt: not exported (the cmdlet's default is true)
    std::string connectorType;                         // "OnPremises" | "Partner" | "" (not exported)
    std::vector<std::string> senderIpAddresses;        // as exported: "a.b.c.d", "a.b.c.d/24", "a-b"
    std::vector<std::string> senderDomains;
    std::string tlsSenderCertificateName;              // "" = none
    std::optional<bool> requireTls;
    std::optional<bool> restrictDomainsToIpAddresses;
    std::optional<bool> restrictDomainsToCertificate;
};

// One answer of Microsoft's what-if API (a whatIfAnalysisResult) about one policy.
struct CrossCheckAnswer {
    std::string policyId;
    std::string displayName;
    bool policyApplies = false;                 // required in the snapshot
    std::vector<std::string> analysisReasons;   // the flags, split ("users,application" → two)
};

// What `collect --cross-check` stored for one HVE account: the sign-in sent to
// POST /identity/conditionalAccess/evaluate and Microsoft's answer (docs/snapshot-format.md).
struct CrossCheckEntry {
    std::string pointer;   // where it is in the snapshot, e.g. "/crossCheck/0"
    std::string userId;    // required
    std::string account;   // the HVE account's address, as the collector wrote it
    // request.signInConditions (unset: the engine's default for a Basic SMTP AUTH sign-in)
    std::optional<std::string> clientAppType, devicePlatform, ipAddress, country, signInRiskLevel, userRiskLevel;
    std::vector<std::string> includeApplications;            // request.signInContext.includeApplications
    nlohmann::json signInConditions = nlohmann::json::object(); // as sent, shown as evidence
    std::vector<CrossCheckAnswer> answers;                   // value[]
};

// The whole snapshot. Section names used in rule metadata are the JSON pointers of the
// sections, e.g. "/graph/conditionalAccessPolicies", "/exchange/hveAccounts".
struct Snapshot {
    int snapshotVersion = 1;
    std::string tenantId;
    std::string collectedAt;
    std::string sourcePath;

    std::optional<std::vector<ConditionalAccessPolicy>> conditionalAccessPolicies;
    std::optional<std::vector<NamedLocation>> namedLocations;
    std::optional<SecurityDefaults> securityDefaults;
    std::optional<std::vector<User>> users;
    std::optional<std::vector<Group>> groups;
    std::optional<std::vector<RoleAssignment>> roleAssignments;
    std::optional<std::vector<SubscribedSku>> subscribedSkus;
    std::optional<std::vector<SignIn>> signIns;

    std::optional<OrganizationConfig> organizationConfig;
    std::optional<TransportConfig> transportConfig;
    std::optional<std::vector<AuthenticationPolicy>> authenticationPolicies;
    std::optional<std::vector<ExchangeUser>> exchangeUsers;
    std::optional<std::vector<HveAccount>> hveAccounts;
    std::optional<std::vector<HveBillingPolicy>> hveBillingPolicies;
    std::optional<std::vector<Recipient>> recipients;
    std::optional<std::vector<CasMailbox>> casMailboxes;
    std::optional<std::vector<AcceptedDomain>> acceptedDomains;
    std::optional<std::vector<InboundConnector>> inboundConnectors;

    std::optional<SmtpClientInventory> smtpClients;       // the device inventory (docs/inventory.md)
    std::optional<std::vector<CrossCheckEntry>> crossCheck; // Microsoft's what-if answers (collect --cross-check)

    // Why a section is missing, when the collector recorded it: pointer → reason
    // (from the optional top-level "notCollected" object).
    std::map<std::string, std::string> notCollected;

    // Sections that are present but hold only part of what their definition covers: pointer →
    // scope, what they do hold and why (from the optional top-level "partial" object), e.g.
    // "/exchange/users" → "only the HVE accounts: /graph/signIns was not collected". A rule that
    // reads a partial section must treat an entry it does not find there as unknown, not absent.
    std::map<std::string, std::string> partial;

    // True when the section named by its JSON pointer was collected.
    bool has_section(const std::string& pointer) const;
    // True when `pointer` names a section of snapshot v1 exactly as rules must spell it ("/graph/users").
    static bool is_section(std::string_view pointer);
    // The scope of a partial section, or nullptr when the section is complete (or absent).
    const std::string* partial_scope(const std::string& pointer) const;
};

}  // namespace tenantscan
