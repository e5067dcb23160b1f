// Conditional Access "what if" engine (domain.md §7): which policies apply to a sign-in and
// whether they block it. Mirrors Microsoft's analysisReasons vocabulary so results compare with
// POST /identity/conditionalAccess/evaluate.
#pragma once

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

struct PolicyEvaluation {
    const ConditionalAccessPolicy* policy = nullptr;
    Applicability applicability = Applicability::DoesNotApply;
    // Microsoft's analysisReasons: for Applies, the conditions that matched (e.g. "users",
    // "application", "clientApps"); for DoesNotApply, the first condition that excluded it
    // ("policyNotEnabled", "users", "application", "clientApps", "devicePlatform", "location",
    // "devices", "signInRisk", "userRisk", "servicePrincipalRisk", "insiderRisk",
    // "authenticationFlow", "workloadIdentity"); for CannotTell, "notEnoughInformation".
    std::vector<std::string> analysisReasons;
    // One human sentence per condition that decided (e.g. "user is a member of group
    // 'HVE senders' (via 'All service accounts')").
    std::vector<std::string> details;
    // The unknown inputs the decision depends on (e.g. "location"); empty unless CannotTell.
    std::vector<std::string> unknowns;
    // Controls of this policy a legacy (SMTP AUTH) client cannot satisfy: "block", "mfa",
    // "compliantDevice", "authenticationStrength", ...; empty for session-only policies.
    std::vector<std::string> blockingControls;
    bool wouldBlock() const { return applicability != Applicability::DoesNotApply && !blockingControls.empty(); }
    bool enforced() const;  // state enabled
};

enum class Outcome { Blocked, Allowed, Undetermined };

struct WhatIfResult {
    SignInContext context;
    std::optional<UserIndex> user;             // nullopt: user not found in /graph/users
    bool blockedBySecurityDefaults = false;
    Outcome outcome = Outcome::Allowed;        // from enforced policies (and security defaults)
    Outcome reportOnlyOutcome = Outcome::Allowed; // what report-only policies would add once enforced
    std::vector<PolicyEvaluation> policies;    // every policy, in snapshot order
    std::vector<std::string> undeterminedBy;   // unknown inputs that decide an Undetermined outcome
    std::vector<std::string> assumptions;      // stated assumptions (unknown platform, no device, risk none)

    std::vector<const PolicyEvaluation*> blocking_enforced() const;    // applies & enabled & would block
    std::vector<const PolicyEvaluation*> undetermined_enforced() const; // cannot tell & enabled & would block
    std::vector<const PolicyEvaluation*> blocking_report_only() const;  // report-only that apply/cannot tell & would block
};

class Engine {
public:
    // A malformed device filter does not throw: the policy becomes CannotTell with the parse
    // error in its details, so one bad policy never stops a scan.
    Engine(const Snapshot& snapshot, const Directory& directory);

    WhatIfResult evaluate(const SignInContext& context) const;
    PolicyEvaluation evaluate_policy(const ConditionalAccessPolicy& policy, const SignInContext& context,
                                     std::optional<UserIndex> user) const;

    // The controls of a policy a legacy client cannot satisfy (see PolicyEvaluation::blockingControls).
    static std::vector<std::string> legacy_blocking_controls(const ConditionalAccessPolicy& policy);

    const Directory& directory() const { return *directory_; }

private:
    struct Compiled;
    const Snapshot* snapshot_;
    const Directory* directory_;
    std::shared_ptr<const std::vector<Compiled>> compiled_;  // per policy: parsed filters, resolved refs
};

const char* to_string(Applicability a);
const char* to_string(Outcome o);

}  // namespace tenantscan
