// engine-cross-check: tenantscan's Conditional Access engine agrees, policy by policy, with
// Microsoft's own what-if answers (POST /identity/conditionalAccess/evaluate) that
// `collect --cross-check` stored in the snapshot.
#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/detail/text.hpp>

#include "support/hve_basic_smtp.hpp"
#include "support/policy_evidence.hpp"
#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "engine/engine_rules.hpp"

namespace tenantscan::rules {

namespace {

// The sections the engine reads to evaluate a user's sign-in: without them it would disagree
// with Microsoft for want of data, not because it is wrong.
const std::vector<std::string> kEngineInputs = {"/graph/conditionalAccessPolicies", "/graph/users", "/graph/groups"};

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "engine-cross-check";
    m.title = "tenantscan's Conditional Access engine agrees with Microsoft's what-if evaluation";
    m.defaultSeverity = Severity::Low;
    m.rationale =
        "tenantscan simulates Conditional Access itself so that it can explain every decision and evaluate policies "
        "offline. Where Microsoft's own what-if API, asked about the same Basic SMTP AUTH sign-in, says a policy "
        "applies and the engine says it does not (or the reverse), one of the verdicts built on the engine may be "
        "wrong for that account; the disagreement shows where.";
    m.remediation =
        "Check each disagreeing policy with the What If tool in the Entra admin center for the same sign-in "
        "(client app 'Other clients', Office 365 Exchange Online, no device, no location). Until the engine is "
        "corrected, trust Microsoft's answer for these policies, and report the case to tenantscan with this "
        "finding's evidence.";
    m.references = {
        "https://learn.microsoft.com/en-us/graph/api/conditionalaccessroot-evaluate",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/what-if-tool",
    };
    // /crossCheck is optional input: without it the rule is not applicable, unless the snapshot
    // lists it as not collected (asked for and failed): then error (checked in evaluate).
    m.requiredSections = {};
    return m;
}

// The sign-in that was sent to Microsoft, as the engine's input.
SignInContext sign_in_of(const CrossCheckEntry& entry) {
    SignInContext context = basic_smtp_sign_in(entry.userId);
    if (entry.clientAppType) context.clientAppType = *entry.clientAppType;
    if (entry.devicePlatform) context.platform = *entry.devicePlatform;
    if (entry.ipAddress) context.ipAddress = *entry.ipAddress;
    if (entry.country) context.country = *entry.country;
    if (entry.signInRiskLevel) context.signInRisk = *entry.signInRiskLevel;
    if (entry.userRiskLevel) context.userRisk = *entry.userRiskLevel;
    if (!entry.includeApplications.empty()) context.resourceApp = entry.includeApplications.front();
    return context;
}

class EngineCrossCheckRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    Finding compare(const RuleContext& context, const CrossCheckEntry& entry) const;
};

std::vector<Finding> EngineCrossCheckRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    // Asked for (collect --cross-check) but not collected: an error with the collector's reason,
    // never "not applicable", which would read as "nothing to compare".
    if (auto failed = snapshot.notCollected.find("/crossCheck"); !snapshot.crossCheck && failed != snapshot.notCollected.end()) {
        Finding f = finding(Status::Error, tenant_subject(snapshot),
                            "Microsoft's what-if answers were asked for but not collected: " + failed->second);
        f.evidence = {{"missingSections", {"/crossCheck"}}, {"reasons", {{"/crossCheck", failed->second}}}};
        return {f};
    }
    if (!snapshot.crossCheck)
        return {finding(Status::NotApplicable, tenant_subject(snapshot),
                        "The snapshot has no cross-check data (collect with `tenantscan collect --cross-check` to "
                        "compare the engine with Microsoft's what-if answers).")};

    std::vector<std::string> missing;
    nlohmann::json reasons = nlohmann::json::object();
    for (const auto& section : kEngineInputs) {
        if (snapshot.has_section(section)) continue;
        missing.push_back(section);
        auto it = snapshot.notCollected.find(section);
        reasons[section] = it != snapshot.notCollected.end() ? it->second : "absent from the snapshot";
    }
    if (!missing.empty()) {
        Finding f = finding(Status::Error, tenant_subject(snapshot),
                            fmt::format("Cannot compare with Microsoft's what-if answers: the snapshot lacks {}.",
                                        join_words(missing)));
        f.evidence = {{"missingSections", missing}, {"reasons", reasons}};
        return {f};
    }

    std::vector<Finding> findings;
    for (const CrossCheckEntry& entry : *snapshot.crossCheck) findings.push_back(compare(context, entry));
    if (findings.empty())
        findings.push_back(finding(Status::NotApplicable, tenant_subject(snapshot),
                                   "The cross-check data is empty: the tenant had no HVE account to ask about."));
    return findings;
}

Finding EngineCrossCheckRule::compare(const RuleContext& context, const CrossCheckEntry& entry) const {
    const Snapshot& snapshot = context.snapshot();
    const std::string& userId = entry.userId;

    Subject subject{"hveAccount", userId, entry.account.empty() ? userId : entry.account};
    if (snapshot.hveAccounts) {
        for (const HveAccount& account : *snapshot.hveAccounts)
            if (iequals(account.externalDirectoryObjectId, userId)) subject = hve_account_subject(account);
    }

    const SignInContext signIn = sign_in_of(entry);
    const WhatIfResult result = context.engine().evaluate(signIn);
    std::map<std::string, const PolicyEvaluation*> engineById;
    for (const PolicyEvaluation& evaluation : result.policies) engineById[to_lower(evaluation.policy->id)] = &evaluation;

    nlohmann::json disagreements = nlohmann::json::array();
    nlohmann::json undecided = nlohmann::json::array();
    std::vector<Related> disagreed, undecidedRelated;  // the policies, in the evidence's order
    auto policy_named = [](const std::string& id, const std::string& name) {
        Related r;
        r.kind = Related::Kind::ConditionalAccessPolicy;
        r.id = id;
        r.name = name;
        return r;
    };
    std::vector<std::string> described;
    std::size_t agreed = 0;
    auto engine_json = [](const PolicyEvaluation& e) {
        return nlohmann::json{{"applicability", to_string(e.applicability)},
                              {"analysisReasons", e.analysisReasons},
                              {"details", e.details}};
    };

    for (const CrossCheckAnswer& answer : entry.answers) {
        const std::string& id = answer.policyId;
        const std::string name = answer.displayName.empty() ? id : answer.displayName;
        const bool microsoftApplies = answer.policyApplies;
        const nlohmann::json microsoft = {{"policyApplies", microsoftApplies}, {"analysisReasons", answer.analysisReasons}};
        auto found = engineById.find(to_lower(id));
        if (found == engineById.end()) {
            disagreements.push_back({{"id", id}, {"displayName", name}, {"microsoft", microsoft}, {"engine", nullptr},
                                     {"note", "not in /graph/conditionalAccessPolicies"}});
            disagreed.push_back(policy_named(id, name));
            described.push_back(fmt::format("'{}' (unknown to the snapshot)", name));
            continue;
        }
        const PolicyEvaluation& mine = *found->second;
        engineById.erase(found);
        if (mine.applicability == Applicability::CannotTell) {
            undecided.push_back({{"id", id}, {"displayName", name}, {"microsoft", microsoft}, {"engine", engine_json(mine)}});
            undecidedRelated.push_back(policy_named(id, name));
            continue;
        }
        const bool engineApplies = mine.applicability == Applicability::Applies;
        if (engineApplies == microsoftApplies) {
            ++agreed;
            continue;
        }
        disagreements.push_back({{"id", id}, {"displayName", name}, {"microsoft", microsoft}, {"engine", engine_json(mine)}});
        disagreed.push_back(policy_named(id, name));
        described.push_back(fmt::format("'{}' (Microsoft: {}; engine: {}{})", name,
                                        microsoftApplies ? "applies" : "does not apply",
                                        engineApplies ? "applies" : "does not apply",
                                        mine.analysisReasons.empty() ? "" : ", " + join_words(mine.analysisReasons)));
    }
    for (const auto& [id, evaluation] : engineById) {
        disagreements.push_back({{"id", evaluation->policy->id},
                                 {"displayName", evaluation->policy->displayName},
                                 {"microsoft", nullptr},
                                 {"engine", engine_json(*evaluation)},
                                 {"note", "not in Microsoft's answer"}});
        disagreed.push_back(related_policy(*evaluation->policy, Related::Role::Names));
        described.push_back(fmt::format("{} (missing from Microsoft's answer)", quoted_name(*evaluation->policy)));
    }

    Finding f = disagreements.empty()
                    ? finding(Status::Pass, subject,
                              fmt::format("The engine agrees with Microsoft's what-if evaluation on {} {} for this "
                                          "account's Basic SMTP AUTH sign-in{}.",
                                          agreed, agreed == 1 ? "policy" : "policies",
                                          undecided.empty() ? ""
                                                            : fmt::format(" ({} more depend on input the engine did "
                                                                          "not have)",
                                                                          undecided.size())))
                    : finding(Status::Review, subject,
                              fmt::format("The engine and Microsoft's what-if evaluation disagree on {} {} for this "
                                          "account's Basic SMTP AUTH sign-in: {}.",
                                          disagreements.size(), disagreements.size() == 1 ? "policy" : "policies",
                                          join_words(described)));
    f.evidence = {{"signIn", entry.signInConditions},
                  {"agreed", agreed},
                  {"disagreements", disagreements},
                  {"engineUndecided", undecided}};
    f.related = std::move(disagreed);
    append(f.related, std::move(undecidedRelated));
    return f;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_engine_cross_check_rule() { return std::make_unique<EngineCrossCheckRule>(make_metadata()); }

}  // namespace tenantscan::rules
