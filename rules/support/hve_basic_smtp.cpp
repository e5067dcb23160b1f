#include "support/hve_basic_smtp.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>
#include <tenantscan/detail/ip.hpp>

#include "support/policy_evidence.hpp"
#include "support/smtp_senders.hpp"
#include "support/subjects.hpp"

namespace tenantscan::rules {

namespace {

// The "Authenticated SMTP" sign-ins by the lower-case key that names their user: the userId, or
// the userPrincipalName of a sign-in without one (a UPN beside a userId that names another user
// does not make the sign-in this user's). Only SMTP AUTH sign-ins say where the device signs in
// from: a browser or Outlook sign-in of the same account does not.
using SignInIndex = std::unordered_map<std::string, std::vector<std::size_t>>;

SignInIndex index_sign_ins(const std::vector<SignIn>& signIns) {
    SignInIndex index;
    for (std::size_t i = 0; i < signIns.size(); ++i) {
        if (!iequals(signIns[i].clientAppUsed, kAuthenticatedSmtp)) continue;
        const std::string& key = signIns[i].userId.empty() ? signIns[i].userPrincipalName : signIns[i].userId;
        if (!key.empty()) index[to_lower(key)].push_back(i);
    }
    return index;
}

std::vector<std::size_t> sign_ins_of(const SignInIndex& index, const std::vector<std::string>& keys) {
    std::vector<std::size_t> found;
    for (const auto& key : keys) {
        if (key.empty()) continue;
        auto it = index.find(to_lower(key));
        if (it != index.end()) found.insert(found.end(), it->second.begin(), it->second.end());
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

// The account's identifiers that sign-in logs may carry.
std::vector<std::string> sign_in_keys(const HveAccount& account, const Directory& directory,
                                      std::optional<UserIndex> user) {
    std::vector<std::string> keys = {account.externalDirectoryObjectId,
                                     Directory::normalise_address(account.primarySmtpAddress)};
    if (user) {
        keys.push_back(directory.user(*user).id);
        keys.push_back(directory.user(*user).userPrincipalName);
    }
    return keys;
}

using Location = std::pair<std::string, std::string>;  // (IP, country); empty = unknown

// The engine states its assumptions from what the sign-in leaves unknown, the same for every
// user: whether the IP is known (and valid) and whether the country is. One detailed evaluation
// per kind of location is enough to state them for every account.
std::pair<int, bool> assumption_kind(const Location& location) {
    const int ip = location.first.empty() ? 0 : parse_ip_address(location.first) ? 1 : 2;
    return {ip, !location.second.empty()};
}

}  // namespace

SignInContext basic_smtp_sign_in(const std::string& userId) {
    SignInContext context;
    context.userId = userId;
    context.resourceApp = kExchangeOnlineAppId;
    context.clientAppType = "other";
    context.platform = "unknown";
    return context;
}

void for_each_hve_basic_smtp(const RuleContext& context,
                             const std::function<void(const HveBasicSmtpSimulation&)>& each) {
    const Snapshot& snapshot = context.snapshot();
    const Directory& directory = context.directory();
    const ConditionalAccessEngine& engine = context.engine();
    const SignInIndex signInIndex = snapshot.signIns ? index_sign_ins(*snapshot.signIns) : SignInIndex{};
    std::map<Location, PreparedSignIn> prepared;  // the user-independent part, per distinct location
    std::map<std::pair<int, bool>, std::vector<std::string>> assumptionsByKind;

    for (const HveAccount& account : *snapshot.hveAccounts) {
        HveBasicSmtpSimulation simulation;
        simulation.account = &account;
        simulation.subject = hve_account_subject(account);
        simulation.user = directory.user_of_hve(account);
        const std::string engineUserId = simulation.user ? directory.user(*simulation.user).id
                                         : account.externalDirectoryObjectId.empty()
                                             ? Directory::normalise_address(account.primarySmtpAddress)
                                             : account.externalDirectoryObjectId;

        std::set<Location> locations;  // sorted
        std::vector<std::size_t> matched;
        if (snapshot.signIns) {
            matched = sign_ins_of(signInIndex, sign_in_keys(account, directory, simulation.user));
            for (std::size_t i : matched) {
                const SignIn& s = (*snapshot.signIns)[i];
                locations.emplace(s.ipAddress, s.countryOrRegion);
            }
        }
        if (locations.empty()) locations.emplace();  // one sign-in from an unknown location

        std::vector<std::string> evaluated, assumptions;
        for (const Location& location : locations) {
            SignInContext signIn = basic_smtp_sign_in(engineUserId);
            if (!location.first.empty()) signIn.ipAddress = location.first;
            if (!location.second.empty()) signIn.country = location.second;
            evaluated.push_back(location_label(signIn));

            const auto kind = assumption_kind(location);
            auto note_security_defaults = [&](const std::vector<std::string>& undeterminedBy) {
                if (std::find(undeterminedBy.begin(), undeterminedBy.end(), unknown_input::kSecurityDefaults) !=
                    undeterminedBy.end())
                    simulation.securityDefaultsUnknown = true;
            };
            if (!simulation.user || !assumptionsByKind.count(kind)) {
                simulation.results.push_back(engine.evaluate(signIn));
                assumptionsByKind.emplace(kind, simulation.results.back().assumptions);
                note_security_defaults(simulation.results.back().undeterminedBy);
            } else {
                auto it = prepared.find(location);
                if (it == prepared.end()) it = prepared.emplace(location, engine.prepare(signIn)).first;
                const UserDecision decision = engine.decide(it->second, *simulation.user);
                // Explain when a policy blocks or may block (security defaults alone need no policy
                // details), evaluating in detail only the policies that do.
                if (decision.decidedBy != nullptr || decision.reportOnlyOutcome != AccessOutcome::Allowed) {
                    simulation.results.push_back(engine.evaluate_blocking(it->second, *simulation.user));
                    note_security_defaults(simulation.results.back().undeterminedBy);
                } else if (decision.outcome == AccessOutcome::Undetermined) {
                    // No policy may block, so only a tenant-wide unknown (security defaults) remains.
                    simulation.securityDefaultsUnknown = true;
                }
            }
            for (const auto& a : assumptionsByKind.at(kind))
                if (std::find(assumptions.begin(), assumptions.end(), a) == assumptions.end()) assumptions.push_back(a);
            simulation.signIns.push_back(std::move(signIn));
        }

        nlohmann::json locationEvidence = {{"signInsCollected", snapshot.signIns.has_value()},
                                           {"signInsMatched", matched.size()},
                                           {"evaluated", evaluated}};
        if (!snapshot.signIns)
            locationEvidence["note"] = "/graph/signIns was not collected, so the sign-in location is unknown";
        else if (matched.empty())
            locationEvidence["note"] = "no 'Authenticated SMTP' sign-in of this account in /graph/signIns (other client "
                                       "apps do not tell where the device signs in from), so the sign-in location is "
                                       "unknown";

        simulation.evidence = {{"account",
                                {{"primarySmtpAddress", account.primarySmtpAddress},
                                 {"exchangeIdentity", account.identity},
                                 {"externalDirectoryObjectId", account.externalDirectoryObjectId}}},
                               {"entraUser", entra_user_evidence(directory, simulation.user)},
                               {"signInLocations", std::move(locationEvidence)},
                               {"assumptions", assumptions}};
        each(simulation);
    }
}

std::string evaluated_locations_phrase(const HveBasicSmtpSimulation& simulation) {
    std::vector<std::string> labels;
    for (const auto& signIn : simulation.signIns) labels.push_back(location_label(signIn));
    if (labels.size() == 1 && labels.front() == location_label(SignInContext{})) return "(sign-in location unknown)";
    if (labels.size() <= 3) return fmt::format("(from {})", join_words(labels));
    return fmt::format("(from {} sign-in locations)", labels.size());
}

std::vector<Finding> judge_each_hve_basic_smtp(const RuleContext& context,
                                               const std::function<Finding(const HveBasicSmtpSimulation&)>& judge) {
    std::vector<Finding> findings;
    for_each_hve_basic_smtp(context, [&](const HveBasicSmtpSimulation& simulation) { findings.push_back(judge(simulation)); });
    return findings;
}

BlockingPolicies blocking_policies(const HveBasicSmtpSimulation& simulation, PolicyScope scope) {
    BlockingPolicies out;
    for (const WhatIfResult& result : simulation.results) {
        const std::string location = location_label(result.context);
        std::vector<const PolicyEvaluation*> policies = result.blocking_report_only();
        if (scope == PolicyScope::Enforced) {
            policies = result.blocking_enforced();
            for (const PolicyEvaluation* p : result.undetermined_enforced()) policies.push_back(p);
        }
        for (const PolicyEvaluation* p : policies)
            (p->applicability == Applicability::Applies ? out.blocking : out.undetermined).add(*p, location);
    }
    return out;
}

std::string missing_entra_user_note(const HveBasicSmtpSimulation& simulation) {
    if (simulation.user) return {};
    return fmt::format(" Its Entra user (object id {}) is not in /graph/users: its group, role and guest conditions "
                       "were treated as unknown.",
                       simulation.subject.id.empty() ? "unknown" : simulation.subject.id);
}

}  // namespace tenantscan::rules
