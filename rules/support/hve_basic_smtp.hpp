// Simulating the sign-in an HVE account makes when a device submits mail with Basic SMTP AUTH,
// shared by hve-conditional-access and hve-report-only-policies.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/rule.hpp>

#include "support/policy_evidence.hpp"

namespace tenantscan::rules {

// Basic SMTP AUTH as Entra sees it: client app "other", resource Exchange Online, platform
// unknown, no registered device, risk none, location unknown.
SignInContext basic_smtp_sign_in(const std::string& userId);

struct HveBasicSmtpSimulation {
    const HveAccount* account = nullptr;
    Subject subject;
    std::optional<UserIndex> user;         // the account's Entra user in /graph/users (Directory::user_of_hve)
    std::vector<SignInContext> signIns;    // one per distinct (IP, country) of the account's sign-ins, else one
                                           // with the location unknown
    // The engine's detailed answer for the sign-ins where an enforced or report-only policy blocks or
    // may block (and any the engine could not screen); a sign-in absent here is allowed by both. Once
    // the engine's assumptions for a kind of location are known, only the policies that block or may
    // block are evaluated in detail (ConditionalAccessEngine::evaluate_blocking).
    std::vector<WhatIfResult> results;
    // The engine left a sign-in undetermined by "security defaults": /graph/securityDefaults was not
    // collected and no enabled policy proves them off, or the snapshot has both on (inconsistent).
    bool securityDefaultsUnknown = false;
    // {account, entraUser, signInLocations: {signInsCollected, signInsMatched, evaluated, note?}, assumptions}
    nlohmann::json evidence;
};

// Calls `each` with one simulation per HVE account, in snapshot order; a simulation lives only for its
// call, so the detailed evaluations of thousands of accounts are never all held at once. Only
// "Authenticated SMTP" sign-ins give locations; one belongs to an account when its userId is the
// account's Entra object id, or, when it has no userId, its userPrincipalName is the account's UPN
// or primary address.
// /graph/signIns is optional: without it every location is unknown, and the evidence says so.
// Thousands of accounts are screened cheaply (ConditionalAccessEngine::prepare once per distinct location,
// ConditionalAccessEngine::decide per account); only what needs explaining gets the engine's detailed evaluation.
void for_each_hve_basic_smtp(const RuleContext& context,
                             const std::function<void(const HveBasicSmtpSimulation&)>& each);

// The findings of a rule that judges each HVE account's simulation (for_each_hve_basic_smtp): one
// finding per account, in snapshot order.
std::vector<Finding> judge_each_hve_basic_smtp(const RuleContext& context,
                                               const std::function<Finding(const HveBasicSmtpSimulation&)>& judge);

// The policies that block the simulated sign-ins (Applies) and those that may (CannotTell), each
// with the sign-in locations where it does: the enforced ones, or the report-only ones as they
// would once turned on.
struct BlockingPolicies {
    PolicyList blocking, undetermined;
};
enum class PolicyScope { Enforced, ReportOnly };
BlockingPolicies blocking_policies(const HveBasicSmtpSimulation& simulation, PolicyScope scope);

// "(sign-in location unknown)", "(from 203.0.113.7 (DE) and 198.51.100.2)", "(from 12 sign-in locations)".
std::string evaluated_locations_phrase(const HveBasicSmtpSimulation& simulation);

// " Its Entra user (object id …) is not in /graph/users: its group, role and guest conditions were
// treated as unknown." when the account's Entra user is missing, else "".
std::string missing_entra_user_note(const HveBasicSmtpSimulation& simulation);

}  // namespace tenantscan::rules
