// Conditional Access "what if" engine (docs/microsoft-facts.md §7): which policies apply to a sign-in and
// whether they block it. Mirrors Microsoft's analysisReasons vocabulary so results compare with
// POST /identity/conditionalAccess/evaluate.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tenantscan/directory.hpp>
#include <tenantscan/model.hpp>

namespace tenantscan {

struct SignInContext {
    std::string userId;                                  // Entra object id or UPN
    std::string resourceApp = kExchangeOnlineAppId;      // app id, or "Office365"
    std::string clientAppType = "other";                 // browser | mobileAppsAndDesktopClients | exchangeActiveSync | other
    std::string platform = "unknown";                    // android | iOS | windows | windowsPhone | macOS | linux | unknown
    std::optional<std::string> ipAddress;                // unknown when absent
    std::optional<std::string> country;                  // ISO code; unknown when absent
    std::string signInRisk = "none";
    std::string userRisk = "none";
    std::string servicePrincipalRisk = "none";
    std::string insiderRisk = "none";
    std::string authenticationFlow;                      // "" = none (SMTP AUTH uses none)
};

enum class Applicability { Applies, DoesNotApply, CannotTell };

// The unknown inputs a CannotTell / Undetermined answer can depend on (PolicyEvaluation::unknowns,
// WhatIfResult::undeterminedBy). The details name the specific group, location, rule, ...
namespace unknown_input {
inline constexpr const char* kLocation = "location";                  // the sign-in's IP address
inline constexpr const char* kCountry = "country";                    // the country of the sign-in
inline constexpr const char* kNamedLocation = "named location";       // a referenced location not in the snapshot (or of an unsupported kind)
inline constexpr const char* kGroupMembership = "group membership";   // a group not in the snapshot, or the user is not in /graph/users
inline constexpr const char* kRoleMembership = "role membership";     // role assignments not collected, or the user is not in /graph/users
inline constexpr const char* kUserType = "user type";                 // guest or member, when the user or its userType is not known
inline constexpr const char* kGuestType = "guest type";               // internal guest or B2B guest (userType Guest without #EXT#)
inline constexpr const char* kGuestHomeTenant = "guest home tenant";  // policies that enumerate external tenants
inline constexpr const char* kApplication = "application";            // membership of an app in Office365 / MicrosoftAdminPortals
inline constexpr const char* kDeviceFilter = "device filter";         // a malformed device filter rule
inline constexpr const char* kSecurityDefaults = "security defaults"; // /graph/securityDefaults not collected
inline constexpr const char* kPolicies = "conditional access policies"; // /graph/conditionalAccessPolicies not collected
}  // namespace unknown_input

// The entry of a policy's user list that matched a user (PolicyEvaluation::excludedBy): the first
// that matches, in the engine's order (all users, user ids, groups, roles, guest types).
struct UserListMatch {
    enum class Kind { AllUsers, User, Group, Role, GuestsOrExternalUsers };
    Kind kind = Kind::User;
    std::string id;  // the user, group or role template id as the policy lists it; "" for AllUsers and guests
};

struct PolicyEvaluation {
    const ConditionalAccessPolicy* policy = nullptr;
    Applicability applicability = Applicability::DoesNotApply;
    // Microsoft's analysisReasons: for Applies, the configured conditions that matched (e.g.
    // "users", "application", "clientApps"); for DoesNotApply, the first condition that excluded
    // it ("policyNotEnabled", "workloadIdentities", "users", "application", "userActions",
    // "authenticationContext", "clientApps", "devicePlatform", "location", "devices",
    // "signInRisk", "userRisk", "insiderRisk", "authenticationFlow"); for CannotTell,
    // "notEnoughInformation". See docs/engine.md.
    std::vector<std::string> analysisReasons;
    // One human sentence per condition that decided (e.g. "user is a member of group
    // 'HVE senders' (via 'All service accounts')").
    std::vector<std::string> details;
    // The unknown inputs the decision depends on (e.g. "location"); empty unless CannotTell.
    std::vector<std::string> unknowns;
    // Controls of this policy the sign-in cannot satisfy. For a legacy client (clientAppType
    // other / exchangeActiveSync): every grant control ("block", "mfa", "compliantDevice",
    // "authenticationStrength", ...); for a modern client only "block". Empty for session-only policies.
    std::vector<std::string> blockingControls;
    // DoesNotApply by "users" because one of the policy's exclusions matched the user: which one.
    std::optional<UserListMatch> excludedBy;
    bool wouldBlock() const { return applicability != Applicability::DoesNotApply && !blockingControls.empty(); }
    bool enforced() const;  // state enabled
};

enum class AccessOutcome { Blocked, Allowed, Undetermined };

struct WhatIfResult {
    SignInContext context;
    std::optional<UserIndex> user;             // nullopt: user not found in /graph/users
    bool blockedBySecurityDefaults = false;
    AccessOutcome outcome = AccessOutcome::Allowed;        // from enforced policies (and security defaults)
    AccessOutcome reportOnlyOutcome = AccessOutcome::Allowed; // what the report-only policies alone would do once enforced
    std::vector<PolicyEvaluation> policies;    // every policy, in snapshot order
    std::vector<std::string> undeterminedBy;   // unknown inputs that decide an Undetermined outcome
    std::vector<std::string> reportOnlyUndeterminedBy; // the same for reportOnlyOutcome
    std::vector<std::string> assumptions;      // stated assumptions (unknown platform, no device, risk none)

    std::vector<const PolicyEvaluation*> blocking_enforced() const;    // applies & enabled & would block
    std::vector<const PolicyEvaluation*> undetermined_enforced() const; // cannot tell & enabled & would block
    std::vector<const PolicyEvaluation*> blocking_report_only() const;  // report-only that apply/cannot tell & would block
};

namespace detail {
struct EngineIndex;  // defined in lib/src/engine/ca_index.hpp
}  // namespace detail

// The user-independent part of a sign-in, evaluated once by ConditionalAccessEngine::prepare() so that
// ConditionalAccessEngine::decide() can then answer for many users (tenant-wide rules) with no string work.
class PreparedSignIn {
public:
    const SignInContext& context() const { return context_; }

private:
    friend class ConditionalAccessEngine;
    struct Candidate {
        std::uint32_t policy;          // index in the snapshot's policies
        bool otherConditionsKnown;     // false: a condition other than users cannot be decided
    };
    SignInContext context_;
    // Policies that could block once the users condition holds, in snapshot order.
    std::vector<Candidate> enforced_, reportOnly_;
    bool securityDefaultsBlock_ = false;
    bool securityDefaultsUnknown_ = false;
    bool policiesUnknown_ = false;
};

// What decide() answers for one user: the same outcomes evaluate() gives, without the details.
struct UserDecision {
    AccessOutcome outcome = AccessOutcome::Allowed;
    AccessOutcome reportOnlyOutcome = AccessOutcome::Allowed;
    bool blockedBySecurityDefaults = false;
    // First enforced policy that blocks (Blocked) or may block (Undetermined); nullptr otherwise.
    const ConditionalAccessPolicy* decidedBy = nullptr;
    // When the outcome is not Blocked: the first enforced policy that would block this sign-in
    // but excludes the user (evaluate() tells by which exclusion); nullptr otherwise.
    const ConditionalAccessPolicy* excludedBy = nullptr;
};

class ConditionalAccessEngine {
public:
    // A malformed device filter does not throw: the policy becomes CannotTell with the parse
    // error in its details, so one bad policy never stops a scan.
    ConditionalAccessEngine(const Snapshot& snapshot, const Directory& directory);

    WhatIfResult evaluate(const SignInContext& context) const;
    PolicyEvaluation evaluate_policy(const ConditionalAccessPolicy& policy, const SignInContext& context,
                                     std::optional<UserIndex> user) const;

    // Many users, one sign-in: prepare() evaluates everything but the users condition (the
    // context's userId is ignored), decide() finishes for one user. decide(prepare(c), u) gives
    // the outcomes evaluate(c with userId = u) gives.
    PreparedSignIn prepare(const SignInContext& context) const;
    UserDecision decide(const PreparedSignIn& prepared, UserIndex user) const;
    // evaluate()'s detailed answer for this user and the prepared sign-in, limited to the policies
    // that block or may block it (enforced and report-only): WhatIfResult::policies holds only those,
    // in snapshot order; the outcomes, undeterminedBy, reportOnlyUndeterminedBy and assumptions are
    // evaluate()'s, and so are blocking_enforced(), undetermined_enforced() and blocking_report_only().
    // For explaining thousands of blocked accounts without evaluating every policy for each.
    WhatIfResult evaluate_blocking(const PreparedSignIn& prepared, UserIndex user) const;

    // The controls of a policy a legacy client cannot satisfy (see PolicyEvaluation::blockingControls).
    static std::vector<std::string> legacy_blocking_controls(const ConditionalAccessPolicy& policy);

    const Directory& directory() const { return *directory_; }

private:
    const Snapshot* snapshot_;
    const Directory* directory_;
    std::shared_ptr<const detail::EngineIndex> index_;  // per policy: parsed filters, resolved refs
};

const char* to_string(Applicability a);
const char* to_string(AccessOutcome o);

}  // namespace tenantscan
