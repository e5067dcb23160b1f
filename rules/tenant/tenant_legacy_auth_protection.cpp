// tenant-legacy-auth-protection: security defaults or Conditional Access block legacy
// authentication for every enabled user (HVE accounts aside, which must be exempt).
//
// Every user is evaluated, so the rule uses the engine's fast path: ConditionalAccessEngine::prepare() decides
// once what does not depend on the user, ConditionalAccessEngine::decide() finishes per user without string work.
// Only the users that need explaining (excluded, undetermined) get a detailed evaluation.
#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/model.hpp>

#include <tenantscan/detail/hve_exemption_group.hpp>
#include <tenantscan/detail/text.hpp>
#include "support/hve_basic_smtp.hpp"
#include "support/policy_evidence.hpp"
#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "tenant/tenant_rules.hpp"

namespace tenantscan::rules {

namespace {

// Users listed per category in the evidence; counts are always complete.
constexpr std::size_t kSampleSize = 20;

constexpr const char* kBreakGlassParameter = "breakGlass";

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "tenant-legacy-auth-protection";
    m.title = "Legacy authentication is blocked for every user (security defaults or Conditional Access)";
    m.defaultSeverity = Severity::Critical;
    m.rationale =
        "Legacy protocols (Basic SMTP AUTH, IMAP, POP, Exchange ActiveSync with Basic) cannot do MFA and are what "
        "password-spray attacks use. Microsoft's guidance is security defaults or Conditional Access; a tenant with "
        "neither, or with Conditional Access that leaves users out, has a serious security gap. Exempting HVE "
        "accounts must not open that gap for anyone else.";
    m.remediation =
        "Block legacy authentication for all users with a Conditional Access policy (Microsoft's 'Block legacy "
        "authentication' template) that excludes only break-glass accounts and the HVE exemption group, or turn "
        "on security defaults in a tenant without Entra ID P1.";
    m.references = {
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/block-legacy-authentication",
        "https://learn.microsoft.com/en-us/entra/fundamentals/security-defaults",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/what-if-tool",
    };
    m.requiredSections = {"/graph/securityDefaults", "/graph/conditionalAccessPolicies", "/graph/users",
                          "/graph/groups"};
    m.parameters = {{kBreakGlassParameter,
                     "Break-glass (emergency access) accounts and groups whose exclusion from the legacy-authentication "
                     "block is accepted: user principal names or object ids of users, object ids or display names of "
                     "groups (members count transitively).",
                     nlohmann::json::array()}};
    return m;
}

class TenantLegacyAuthProtectionRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

// Client app types that a legacy client signs in with ("easSupported" is the older spelling of
// exchangeActiveSync); an empty list means all client apps.
bool covers_legacy_clients(const ConditionalAccessPolicy& policy) {
    if (policy.clientAppTypes.empty()) return true;
    return std::any_of(policy.clientAppTypes.begin(), policy.clientAppTypes.end(), [](const std::string& t) {
        return iequals(t, "all") || iequals(t, "other") || iequals(t, "exchangeActiveSync") || iequals(t, "easSupported");
    });
}

// An enabled policy that can block a legacy sign-in for someone: it covers legacy client apps and
// has a grant control a legacy client cannot satisfy.
bool is_legacy_block_candidate(const ConditionalAccessPolicy& policy) {
    return policy.state == PolicyState::Enabled && covers_legacy_clients(policy) &&
           !ConditionalAccessEngine::legacy_blocking_controls(policy).empty();
}

bool contains_id(const std::vector<std::string>& ids, const std::string& id) {
    return std::any_of(ids.begin(), ids.end(), [&](const std::string& x) { return iequals(x, id); });
}

std::string resource_name(const std::string& app) {
    if (iequals(app, kExchangeOnlineAppId)) return "Exchange Online";
    if (iequals(app, "Office365")) return "Office 365";
    if (iequals(app, "MicrosoftAdminPortals")) return "Microsoft Admin Portals";
    return "app " + app;
}

std::string resource_names(const std::vector<std::string>& apps) {
    std::vector<std::string> names;
    for (const auto& app : apps) names.push_back(resource_name(app));
    return join_words(names);
}

// What a legacy block leaves open through its target resources: "" when it targets All resources
// with no exclusion (Microsoft's 'Block legacy authentication' template), else which resources stay
// open to legacy sign-ins, in words.
std::string resources_left_open(const ConditionalAccessPolicy& policy) {
    const bool all = contains_id(policy.includeApplications, "All");
    if (all && policy.excludeApplications.empty()) return {};
    if (all) return fmt::format("the excluded {}", resource_names(policy.excludeApplications));
    std::string open = fmt::format("every resource but {}", resource_names(policy.includeApplications));
    if (!policy.excludeApplications.empty())
        open += fmt::format(" (and, of those, {})", resource_names(policy.excludeApplications));
    return open;
}

// Which exclusion of the policy removes the user, in words, for the evidence ("group 'Break
// glass' (id …)"): the one the engine matched (PolicyEvaluation::excludedBy); this only names it.
std::string excluded_by(const ConditionalAccessEngine& engine, const ConditionalAccessPolicy& policy, UserIndex index) {
    const Directory& directory = engine.directory();
    const auto evaluation = engine.evaluate_policy(policy, basic_smtp_sign_in(directory.user(index).id), index);
    if (!evaluation.excludedBy) return "an exclusion of the policy";
    const UserListMatch& by = *evaluation.excludedBy;
    switch (by.kind) {
        case UserListMatch::Kind::AllUsers: return "all users";
        case UserListMatch::Kind::User: return "the user, by id";
        case UserListMatch::Kind::Group: {
            const Group& g = directory.group(*directory.find_group(by.id));
            return fmt::format("group '{}' ({})", g.displayName, g.id);
        }
        case UserListMatch::Kind::Role: return fmt::format("directory role {}", to_lower(by.id));
        case UserListMatch::Kind::GuestsOrExternalUsers: return "guest or external users";
    }
    return "an exclusion of the policy";
}

// A user that needs explaining: the policy that decided (may block, or excludes the user) and why.
struct Explained {
    UserIndex user;
    const ConditionalAccessPolicy* policy;
    std::string excludedBy;             // Excluded
    std::vector<std::string> unknowns;  // Undetermined
};

struct PolicyTally {
    std::size_t blocked = 0, undetermined = 0, excluded = 0;  // users whose verdict this policy decided
};

// The configured break-glass accounts, resolved against the directory.
struct BreakGlass {
    std::vector<std::string> configured;
    std::vector<std::string> unresolved;  // entries that name no user and no group
    std::vector<bool> isAccount;          // by user index
    std::size_t accounts = 0;             // users the entries designate (transitively)

    bool contains(UserIndex u) const { return !isAccount.empty() && isAccount[u]; }
};

BreakGlass resolve_break_glass(const RuleContext& context, const RuleMetadata& metadata) {
    const nlohmann::json value = context.parameter(metadata.id, metadata, kBreakGlassParameter);
    BreakGlass result;
    if (!value.is_array() || !std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_string(); }))
        throw std::invalid_argument(fmt::format("parameter {}.{} must be an array of strings (user principal names, "
                                                "user or group object ids, group display names), got {}",
                                                metadata.id, kBreakGlassParameter, value.dump()));
    const Directory& directory = context.directory();
    std::vector<GroupIndex> groups;
    std::vector<UserIndex> users;
    for (const auto& entry : value) {
        const auto name = entry.get<std::string>();
        result.configured.push_back(name);
        if (auto user = directory.find_user(name)) {
            users.push_back(*user);
        } else if (auto group = directory.find_group(name)) {
            groups.push_back(*group);
        } else if (auto named = directory.find_groups_by_name(name); !named.empty()) {
            groups.insert(groups.end(), named.begin(), named.end());
        } else {
            result.unresolved.push_back(name);
        }
    }
    if (users.empty() && groups.empty()) return result;
    result.isAccount.assign(directory.user_count(), false);
    for (UserIndex u : users) result.isAccount[u] = true;
    if (!groups.empty())
        for (UserIndex u = 0; u < directory.user_count(); ++u)
            if (!result.isAccount[u] && std::any_of(groups.begin(), groups.end(), [&](GroupIndex g) {
                    return directory.is_transitive_member(u, g);
                }))
                result.isAccount[u] = true;
    result.accounts = static_cast<std::size_t>(std::count(result.isAccount.begin(), result.isAccount.end(), true));
    return result;
}

struct Tally {
    std::size_t inDirectory = 0, disabled = 0, hveAccounts = 0, evaluated = 0, blocked = 0;
    std::vector<UserIndex> notTargeted;
    // Blocked users whose block holds only for some resources: no enforced policy that targets All
    // resources blocks them (Explained::policy = the scoped policy that decided).
    std::vector<Explained> scopedOnly;
    std::vector<Explained> breakGlassAccepted;  // break-glass accounts not blocked (excluded or not targeted)
    std::vector<Explained> excluded, undetermined;
    std::map<std::size_t, PolicyTally> perPolicy;                           // by snapshot index
    std::map<std::pair<std::size_t, std::string>, std::size_t> perExclusion; // (policy index, excluded by)
    std::map<std::string, std::size_t> perUnknown;
};

bool by_upn(const Directory& directory, UserIndex a, UserIndex b) {
    return directory.user(a).userPrincipalName < directory.user(b).userPrincipalName;
}

// The first kSampleSize items by UPN.
template <class T, class UserOf>
std::vector<T> sample(const Directory& directory, std::vector<T> items, UserOf userOf) {
    const auto n = std::min(kSampleSize, items.size());
    std::partial_sort(items.begin(), items.begin() + static_cast<long>(n), items.end(),
                      [&](const T& a, const T& b) { return by_upn(directory, userOf(a), userOf(b)); });
    items.resize(n);
    return items;
}

nlohmann::json user_json(const Directory& directory, UserIndex index) {
    const User& user = directory.user(index);
    return {{"id", user.id}, {"userPrincipalName", user.userPrincipalName}};
}

std::string legacy_block_remediation(const RuleContext& context) {
    return fmt::format(
        "Create a Conditional Access policy that blocks legacy authentication (Microsoft's template 'Block legacy "
        "authentication', templateId {}): Users: All users, excluding your break-glass accounts and the HVE "
        "exemption group {}; Target resources: All resources; Conditions > Client apps: Exchange ActiveSync clients "
        "and Other clients; Grant: Block access. Start it in report-only, check the sign-in logs, then turn it on. "
        "A tenant without Entra ID P1 can turn on security defaults instead (they also block HVE accounts' Basic "
        "SMTP AUTH).",
        kLegacyAuthTemplateId, describe_hve_exemption_group(context));
}

// Whether an enforced legacy block that targets All resources (no exclusion) blocks this user's
// legacy sign-in: asked only for users a narrower policy blocked first.
bool blocked_for_all_resources(const RuleContext& context, UserIndex u) {
    const SignInContext signIn = basic_smtp_sign_in(context.directory().user(u).id);
    for (const auto& policy : *context.snapshot().conditionalAccessPolicies) {
        if (!is_legacy_block_candidate(policy) || !resources_left_open(policy).empty()) continue;
        if (context.engine().evaluate_policy(policy, signIn, u).applicability == Applicability::Applies) return true;
    }
    return false;
}

Tally evaluate_users(const RuleContext& context, const BreakGlass& breakGlass) {
    const Directory& directory = context.directory();
    const ConditionalAccessEngine& engine = context.engine();
    const auto& policies = *context.snapshot().conditionalAccessPolicies;
    auto index_of = [&](const ConditionalAccessPolicy* p) { return static_cast<std::size_t>(p - policies.data()); };

    Tally tally;
    tally.inDirectory = directory.user_count();
    const PreparedSignIn prepared = engine.prepare(basic_smtp_sign_in({}));
    for (UserIndex u = 0; u < directory.user_count(); ++u) {
        // Unknown counts as enabled: such a user may sign in, so it must be protected.
        if (directory.user(u).accountEnabled == false) {
            ++tally.disabled;
            continue;
        }
        if (directory.is_hve_user(u)) {
            ++tally.hveAccounts;
            continue;
        }
        ++tally.evaluated;
        const UserDecision decision = engine.decide(prepared, u);
        switch (decision.outcome) {
            case AccessOutcome::Blocked:
                ++tally.blocked;
                if (decision.decidedBy) {
                    ++tally.perPolicy[index_of(decision.decidedBy)].blocked;
                    if (!resources_left_open(*decision.decidedBy).empty() && !blocked_for_all_resources(context, u))
                        tally.scopedOnly.push_back({u, decision.decidedBy, {}, {}});
                }
                break;
            case AccessOutcome::Undetermined: {
                if (!decision.decidedBy)
                    throw std::logic_error("the engine left a legacy sign-in undetermined without naming a policy");
                // Which unknown input decides: one detailed evaluation of the deciding policy.
                auto unknowns = engine.evaluate_policy(*decision.decidedBy, basic_smtp_sign_in(directory.user(u).id), u)
                                    .unknowns;
                std::sort(unknowns.begin(), unknowns.end());
                for (const auto& unknown : unknowns) ++tally.perUnknown[unknown];
                ++tally.perPolicy[index_of(decision.decidedBy)].undetermined;
                tally.undetermined.push_back({u, decision.decidedBy, {}, std::move(unknowns)});
                break;
            }
            case AccessOutcome::Allowed:
                if (breakGlass.contains(u)) {
                    tally.breakGlassAccepted.push_back(
                        {u, decision.excludedBy,
                         decision.excludedBy ? excluded_by(engine, *decision.excludedBy, u) : std::string(), {}});
                    break;
                }
                if (!decision.excludedBy) {
                    tally.notTargeted.push_back(u);
                    break;
                }
                std::string by = excluded_by(engine, *decision.excludedBy, u);
                ++tally.perPolicy[index_of(decision.excludedBy)].excluded;
                ++tally.perExclusion[{index_of(decision.excludedBy), by}];
                tally.excluded.push_back({u, decision.excludedBy, std::move(by), {}});
                break;
        }
    }
    return tally;
}

// The policies the tally names (those that decided a user, the legacy-blocking candidates, those
// that excluded or scoped a user), in snapshot order.
std::vector<Related> tally_related(const RuleContext& context, const Tally& tally,
                                   const std::vector<const ConditionalAccessPolicy*>& candidates) {
    const auto& policies = *context.snapshot().conditionalAccessPolicies;
    std::set<const ConditionalAccessPolicy*> named(candidates.begin(), candidates.end());
    for (const auto& [index, counts] : tally.perPolicy) named.insert(&policies[index]);
    for (const auto* list : {&tally.scopedOnly, &tally.breakGlassAccepted, &tally.excluded, &tally.undetermined})
        for (const Explained& e : *list)
            if (e.policy) named.insert(e.policy);
    std::vector<Related> out;
    for (const auto& policy : policies)
        if (named.count(&policy)) out.push_back(related_policy(policy, Related::Role::Names));
    return out;
}

nlohmann::json tally_evidence(const RuleContext& context, const Tally& tally, const BreakGlass& breakGlass,
                              const std::vector<const ConditionalAccessPolicy*>& candidates) {
    const Directory& directory = context.directory();
    const auto& policies = *context.snapshot().conditionalAccessPolicies;

    // Every legacy-blocking policy, plus any other the engine found deciding, in snapshot order.
    nlohmann::json policiesJson = nlohmann::json::array();
    for (std::size_t i = 0; i < policies.size(); ++i) {
        auto tallied = tally.perPolicy.find(i);
        if (tallied == tally.perPolicy.end() &&
            std::find(candidates.begin(), candidates.end(), &policies[i]) == candidates.end())
            continue;
        const PolicyTally counts = tallied == tally.perPolicy.end() ? PolicyTally{} : tallied->second;
        policiesJson.push_back({{"id", policies[i].id},
                                {"displayName", policies[i].displayName},
                                {"clientAppTypes", policies[i].clientAppTypes},
                                {"controls", ConditionalAccessEngine::legacy_blocking_controls(policies[i])},
                                {"usersBlocked", counts.blocked},
                                {"usersUndetermined", counts.undetermined},
                                {"usersExcluded", counts.excluded}});
    }

    nlohmann::json notTargeted = nlohmann::json::array();
    for (UserIndex u : sample(directory, tally.notTargeted, [](UserIndex x) { return x; }))
        notTargeted.push_back(user_json(directory, u));

    auto userOf = [](const Explained& e) { return e.user; };
    // A sample of users the policies leave out, each with the policy and `why` (excludedBy, unknowns).
    auto withPolicy = [&](const std::vector<Explained>& explained, const char* why, auto reason) {
        nlohmann::json items = nlohmann::json::array();
        for (const auto& e : sample(directory, explained, userOf)) {
            nlohmann::json item = user_json(directory, e.user);
            item["policyId"] = e.policy->id;
            item["policyName"] = e.policy->displayName;
            item[why] = reason(e);
            items.push_back(std::move(item));
        }
        return items;
    };
    const nlohmann::json excluded = withPolicy(tally.excluded, "excludedBy", [](const Explained& e) { return e.excludedBy; });
    nlohmann::json byExclusion = nlohmann::json::array();
    for (const auto& [key, count] : tally.perExclusion)
        byExclusion.push_back({{"policyId", policies[key.first].id},
                               {"policyName", policies[key.first].displayName},
                               {"excludedBy", key.second},
                               {"users", count}});

    const nlohmann::json undetermined = withPolicy(tally.undetermined, "unknowns", [](const Explained& e) { return e.unknowns; });

    nlohmann::json accepted = nlohmann::json::array();
    for (const auto& e : sample(directory, tally.breakGlassAccepted, userOf)) {
        nlohmann::json item = user_json(directory, e.user);
        item["policyId"] = e.policy ? nlohmann::json(e.policy->id) : nlohmann::json(nullptr);
        item["excludedBy"] = e.policy ? nlohmann::json(e.excludedBy) : nlohmann::json("not targeted by any block");
        accepted.push_back(std::move(item));
    }

    nlohmann::json scoped = nlohmann::json::array();
    std::map<std::size_t, std::size_t> scopedPerPolicy;
    for (const auto& e : tally.scopedOnly) ++scopedPerPolicy[static_cast<std::size_t>(e.policy - policies.data())];
    for (const auto& [index, count] : scopedPerPolicy)
        scoped.push_back({{"policyId", policies[index].id},
                          {"policyName", policies[index].displayName},
                          {"includeApplications", policies[index].includeApplications},
                          {"excludeApplications", policies[index].excludeApplications},
                          {"resourcesLeftOpen", resources_left_open(policies[index])},
                          {"users", count}});
    nlohmann::json scopedSample = nlohmann::json::array();
    for (const auto& e : sample(directory, tally.scopedOnly, userOf)) {
        nlohmann::json item = user_json(directory, e.user);
        item["policyId"] = e.policy->id;
        scopedSample.push_back(std::move(item));
    }

    nlohmann::json evidence = {
        {"securityDefaultsEnabled", false},
        {"simulatedSignIn",
         {{"clientAppType", "other"}, {"resource", kExchangeOnlineAppId}, {"platform", "unknown"}, {"location", "unknown"}}},
        {"legacyBlockingPolicies", policiesJson},
        {"users",
         {{"inDirectory", tally.inDirectory},
          {"disabled", tally.disabled},
          {"hveAccounts", tally.hveAccounts},
          {"evaluated", tally.evaluated},
          {"blocked", tally.blocked},
          {"breakGlass", tally.breakGlassAccepted.size()},
          {"excluded", tally.excluded.size()},
          {"undetermined", tally.undetermined.size()},
          {"notTargeted", tally.notTargeted.size()}}},
        {"notTargeted", {{"count", tally.notTargeted.size()}, {"sample", notTargeted}}},
        {"blockedForSomeResourcesOnly", {{"count", tally.scopedOnly.size()}, {"byPolicy", scoped}, {"sample", scopedSample}}},
        {"excluded", {{"count", tally.excluded.size()}, {"byExclusion", byExclusion}, {"sample", excluded}}},
        {"undetermined",
         {{"count", tally.undetermined.size()}, {"byUnknown", tally.perUnknown}, {"sample", undetermined}}},
        {"breakGlass",
         {{"configured", breakGlass.configured},
          {"unresolved", breakGlass.unresolved},
          {"accounts", breakGlass.accounts},
          {"accepted", {{"count", tally.breakGlassAccepted.size()}, {"sample", accepted}}}}},
        {"sampleSize", kSampleSize},
        {"assumptions", nlohmann::json::array()},
    };
    if (!context.snapshot().hveAccounts)
        evidence["assumptions"].push_back(
            "/exchange/hveAccounts was not collected, so HVE accounts are evaluated like every other user");
    return evidence;
}

// Configured break-glass entries that designate nobody: said in every message, since a typo here
// would otherwise turn an accepted exclusion into a review without saying why.
std::string unresolved_note(const BreakGlass& breakGlass) {
    if (breakGlass.unresolved.empty()) return {};
    std::vector<std::string> quoted;
    for (const auto& name : breakGlass.unresolved) quoted.push_back("'" + name + "'");
    return fmt::format(" Break-glass entries that match no user or group: {}.", join_words(quoted));
}

// Nothing in the tally fails or needs review: the verdict would be pass (or not-applicable).
bool all_decided_blocked(const Tally& tally) {
    return tally.notTargeted.empty() && tally.excluded.empty() && tally.undetermined.empty();
}

std::vector<Finding> TenantLegacyAuthProtectionRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const Subject tenant = tenant_subject(snapshot);

    if (const std::string inconsistent = inconsistent_security_defaults(snapshot); !inconsistent.empty()) {
        Finding f = finding(Status::Error, tenant, inconsistent);
        f.remediation = inconsistent_security_defaults_remediation();
        f.evidence = {{"securityDefaultsEnabled", true}};
        return {f};
    }
    if (snapshot.securityDefaults->isEnabled) {
        Finding f = finding(Status::Pass, tenant,
                            "Security defaults are enabled and block legacy authentication for every user.");
        f.evidence = {{"securityDefaultsEnabled", true}};
        return {f};
    }

    std::vector<const ConditionalAccessPolicy*> candidates;
    for (const auto& policy : *snapshot.conditionalAccessPolicies)
        if (is_legacy_block_candidate(policy)) candidates.push_back(&policy);
    if (candidates.empty()) {
        Finding f = finding(Status::Fail, tenant,
                            "Neither security defaults nor Conditional Access block legacy authentication: a serious "
                            "security gap.");
        f.severity = Severity::Critical;
        f.evidence = {{"securityDefaultsEnabled", false},
                      {"conditionalAccessPolicies", snapshot.conditionalAccessPolicies->size()},
                      {"legacyBlockingPolicies", nlohmann::json::array()}};
        f.remediation = legacy_block_remediation(context);
        return {f};
    }

    const BreakGlass breakGlass = resolve_break_glass(context, metadata());
    const Tally tally = evaluate_users(context, breakGlass);
    nlohmann::json evidence = tally_evidence(context, tally, breakGlass, candidates);
    const std::size_t excluded = tally.excluded.size(), undetermined = tally.undetermined.size(),
                      notTargeted = tally.notTargeted.size(), scopedOnly = tally.scopedOnly.size();
    // The scoped policies that decided, with what each leaves open, in snapshot order.
    std::vector<std::string> scopedPolicies;
    for (const auto& item : evidence["blockedForSomeResourcesOnly"]["byPolicy"])
        scopedPolicies.push_back(fmt::format("'{}' (id {}) leaves {} open", item["policyName"].get<std::string>(),
                                             item["policyId"].get<std::string>(),
                                             item["resourcesLeftOpen"].get<std::string>()));
    std::vector<std::string> unknownNames;
    for (const auto& [unknown, count] : tally.perUnknown) unknownNames.push_back(unknown);

    auto make = [&](Status status, std::string message, std::string remediation = {}) {
        Finding f = finding(status, tenant, std::move(message) + unresolved_note(breakGlass));
        f.evidence = evidence;
        f.related = tally_related(context, tally, candidates);
        f.remediation = std::move(remediation);
        return std::vector<Finding>{f};
    };
    // Users absent from a partial /graph/users are unknown, not absent: neither "nobody to
    // protect" nor "every user blocked" can be concluded from it.
    const std::string* partialUsers = snapshot.partial_scope("/graph/users");
    if (partialUsers && all_decided_blocked(tally)) {
        evidence["partial"] = {{"/graph/users", *partialUsers}};
        return make(Status::Review,
                    fmt::format("Conditional Access blocks legacy authentication for the {} enabled users in /graph/users "
                                "that it decides, but the section is partial ({}), so users outside it are unknown.",
                                tally.blocked, *partialUsers),
                    "Collect /graph/users in full (every user) and scan again.");
    }
    if (tally.evaluated == 0)
        return make(Status::NotApplicable,
                    "The snapshot has no enabled users besides HVE accounts, so there is nobody to protect.");

    std::vector<std::string> alsoClauses;
    if (excluded > 0) alsoClauses.push_back(fmt::format("{} more are excluded from a block", excluded));
    if (undetermined > 0)
        alsoClauses.push_back(fmt::format("{} depend on input the snapshot does not give ({})", undetermined,
                                          join_words(unknownNames)));
    if (scopedOnly > 0)
        alsoClauses.push_back(fmt::format("{} are blocked only for some resources ({}), so their legacy sign-ins "
                                          "to the other resources stay open",
                                          scopedOnly, join_words(scopedPolicies)));

    if (notTargeted > 0) {
        std::vector<std::string> names;
        for (const auto* p : candidates) names.push_back(fmt::format("{} (id {})", quoted_name(*p), p->id));
        return make(Status::Fail,
                    fmt::format("{} of {} enabled users are not targeted by any Conditional Access policy that blocks "
                                "legacy authentication{}.",
                                notTargeted, tally.evaluated, alsoClauses.empty() ? "" : "; " + join_words(alsoClauses)),
                    fmt::format("Extend the legacy-authentication block to these users (evidence: notTargeted): "
                                "include All users in {}, excluding only break-glass accounts and the HVE exemption "
                                "group {}.",
                                join_words(names), describe_hve_exemption_group(context)));
    }
    if (excluded > 0 || undetermined > 0 || scopedOnly > 0) {
        std::vector<std::string> steps;
        if (scopedOnly > 0)
            steps.push_back(fmt::format(
                "Target All resources in the legacy-authentication block (Target resources > Include: All resources, "
                "no exclusion), as Microsoft's guidance and its 'Block legacy authentication' template do: {}",
                join_words(scopedPolicies)));
        if (excluded > 0)
            steps.push_back(
                "Check that every exclusion in excluded.byExclusion is intended and remove anyone else from the "
                "excluding groups or lists; list intended break-glass accounts or their group in the parameter "
                "tenant-legacy-auth-protection.breakGlass (config file) so that their exclusion is accepted");
        if (undetermined > 0)
            steps.push_back(
                "For the undetermined users, make the block independent of the unknown input (e.g. of the sign-in "
                "location) or confirm that what it exempts is trusted");
        std::string message =
            excluded > 0
                ? fmt::format("{} of {} enabled users are not blocked from legacy authentication only because a "
                              "policy excludes them",
                              excluded, tally.evaluated)
            : undetermined > 0
                ? fmt::format("Whether legacy authentication is blocked for {} of {} enabled users depends on input "
                              "the snapshot does not give ({})",
                              undetermined, tally.evaluated, join_words(unknownNames))
                : fmt::format("{} of {} enabled users are blocked from legacy authentication only for some resources "
                              "({}): their legacy sign-ins to the other resources stay open, while Microsoft's "
                              "guidance is a block that targets all resources",
                              scopedOnly, tally.evaluated, join_words(scopedPolicies));
        std::vector<std::string> rest;
        if (excluded > 0 && undetermined > 0)
            rest.push_back(fmt::format("{} depend on input the snapshot does not give ({})", undetermined,
                                       join_words(unknownNames)));
        if ((excluded > 0 || undetermined > 0) && scopedOnly > 0) rest.push_back(alsoClauses.back());
        return make(Status::Review, message + (rest.empty() ? "" : "; " + join_words(rest)) + ".",
                    fmt::format("{}.", fmt::join(steps, ". ")));
    }
    const std::size_t accepted = tally.breakGlassAccepted.size();
    return make(Status::Pass,
                fmt::format("Conditional Access blocks legacy authentication for all {} enabled users (HVE accounts{} "
                            "aside).",
                            tally.blocked,
                            accepted == 0 ? std::string() : fmt::format(" and {} break-glass accounts", accepted)));
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_tenant_legacy_auth_protection_rule() {
    return std::make_unique<TenantLegacyAuthProtectionRule>(make_metadata());
}

}  // namespace tenantscan::rules
