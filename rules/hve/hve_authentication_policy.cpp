// hve-authentication-policy: the Exchange authentication policy in effect for each HVE account
// allows Basic SMTP AUTH.
#include <algorithm>
#include <set>
#include <cctype>

#include <fmt/format.h>
#include <tenantscan/authentication_policy.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/detail/text.hpp>

#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

// The name Microsoft's own guidance uses for the policy (docs/microsoft-facts.md §3).
constexpr const char* kRecommendedPolicyName = "Allow Basic Auth SMTP";

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-authentication-policy";
    m.concernsHveAccounts = true;
    m.title = "Each HVE account's Exchange authentication policy allows Basic SMTP AUTH";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "Exchange Online authentication policies block every Basic protocol whose switch is not set. The policy in "
        "effect for an account is its own (Set-User -AuthenticationPolicy), else the organization default "
        "(Get-OrganizationConfig DefaultAuthenticationPolicy), else none. If that policy lacks AllowBasicAuthSmtp, "
        "an HVE account cannot authenticate with Basic SMTP AUTH.";
    m.remediation =
        "Assign the HVE account an authentication policy with AllowBasicAuthSmtp (New-AuthenticationPolicy \"Allow "
        "Basic Auth SMTP\" -AllowBasicAuthSmtp; Set-User <address> -AuthenticationPolicy \"Allow Basic Auth SMTP\").";
    m.references = {
        "https://learn.microsoft.com/en-us/powershell/module/exchange/new-authenticationpolicy",
        "https://learn.microsoft.com/en-us/powershell/module/exchange/set-user",
        "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/"
        "disable-basic-authentication-in-exchange-online",
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
    };
    m.requiredSections = {"/exchange/hveAccounts", "/exchange/authenticationPolicies", "/exchange/organizationConfig",
                          "/exchange/users"};
    return m;
}

class HveAuthenticationPolicyRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    Finding evaluate_account(const Snapshot& snapshot, const HveAccount& account) const;
};

// A PowerShell double-quoted string literal.
std::string ps_quote(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '`' || c == '$') out += '`';
        out += c;
    }
    return out + "\"";
}

// A PowerShell argument: bare when it holds only characters PowerShell reads literally (an
// address such as scanner@contoso.com), else quoted.
std::string ps_argument(const std::string& text) {
    const bool bare = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '@' || c == '.' || c == '-' || c == '_';
    });
    return bare ? text : ps_quote(text);
}

std::string display_name(const AuthenticationPolicy& policy) {
    return policy.name.empty() ? policy.identity : policy.name;
}

std::vector<std::string> names_allowing_smtp(const std::vector<AuthenticationPolicy>& policies) {
    std::vector<std::string> names;
    for (const auto& p : policies)
        if (p.allowBasicAuthSmtp) names.push_back(display_name(p));
    std::sort(names.begin(), names.end());
    return names;
}

// The commands that give the account a policy allowing Basic SMTP AUTH: reuse an existing one
// (first by name), else create Microsoft's recommended one under a name not yet taken.
std::vector<std::string> fix_commands(const std::vector<AuthenticationPolicy>& policies, const std::string& address) {
    std::vector<std::string> commands;
    auto allowing = names_allowing_smtp(policies);
    std::string policyName;
    if (!allowing.empty()) {
        policyName = allowing.front();
    } else {
        policyName = kRecommendedPolicyName;
        for (int n = 2; find_authentication_policy(policies, policyName); ++n)
            policyName = fmt::format("{} {}", kRecommendedPolicyName, n);
        commands.push_back(fmt::format("New-AuthenticationPolicy {} -AllowBasicAuthSmtp", ps_quote(policyName)));
    }
    commands.push_back(fmt::format("Set-User {} -AuthenticationPolicy {}", ps_argument(address), ps_quote(policyName)));
    commands.push_back(fmt::format("Set-User {} -STSRefreshTokensValidFrom (Get-Date)", ps_argument(address)));
    return commands;
}

// The fix script's step: the authentication policy every HVE account gets is an existing one that
// allows Basic SMTP AUTH (first by name), else Microsoft's recommended one under a name no policy
// has yet (compared case-insensitively), created by the script.
RemediationStep fix_step(const std::vector<AuthenticationPolicy>& policies, const Subject& account) {
    std::vector<std::string> allowing;
    std::set<std::string> taken;
    for (const auto& p : policies) {
        taken.insert(to_lower(display_name(p)));
        if (p.allowBasicAuthSmtp) allowing.push_back(display_name(p));
    }
    std::sort(allowing.begin(), allowing.end());
    RemediationStep step;
    step.action = RemediationStep::Action::AssignAuthenticationPolicy;
    step.account = {Related::Kind::Account, account.id, account.name, Related::Role::Names, {}, {}, {}, {}};
    step.policy.kind = Related::Kind::AuthenticationPolicy;
    step.policy.role = Related::Role::Assigned;
    step.create = allowing.empty();
    if (!step.create) {
        step.policy.name = allowing.front();
    } else {
        step.policy.name = kRecommendedPolicyName;
        for (int n = 2; taken.count(to_lower(step.policy.name)); ++n)
            step.policy.name = fmt::format("{} {}", kRecommendedPolicyName, n);
    }
    return step;
}

std::string fix_remediation(const std::vector<std::string>& commands) {
    // The last command only speeds the change up; the others make it.
    std::string text = "Give this HVE account an authentication policy that allows Basic SMTP AUTH, in Exchange Online "
                       "PowerShell:\n";
    for (std::size_t i = 0; i + 1 < commands.size(); ++i) text += "  " + commands[i] + "\n";
    text += "The change takes effect within 24 hours; to apply it in about 30 minutes, also run:\n  " + commands.back();
    return text;
}

nlohmann::json policy_evidence(const AuthenticationPolicy& policy, const char* source) {
    return {{"name", display_name(policy)},
            {"distinguishedName", policy.distinguishedName},
            {"source", source},
            {"allowBasicAuthSmtp", policy.allowBasicAuthSmtp}};
}

// The policy in effect as a related object: it blocks the account's Basic SMTP AUTH, or is assigned and allows it.
Related related_policy(const AuthenticationPolicy& policy) {
    return {Related::Kind::AuthenticationPolicy, policy.identity, display_name(policy),
            policy.allowBasicAuthSmtp ? Related::Role::Assigned : Related::Role::Blocks,
            policy.allowBasicAuthSmtp ? "AllowBasicAuthSmtp" : "AllowBasicAuthSmtp not set", {}, {}, {}};
}

std::vector<Finding> HveAuthenticationPolicyRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    if (auto none = no_hve_accounts(snapshot)) return {*none};
    std::vector<Finding> findings;
    for (const HveAccount& account : *snapshot.hveAccounts) findings.push_back(evaluate_account(snapshot, account));
    return findings;
}

Finding HveAuthenticationPolicyRule::evaluate_account(const Snapshot& snapshot, const HveAccount& account) const {
    const auto& policies = *snapshot.authenticationPolicies;
    const std::string orgDefault = snapshot.organizationConfig->defaultAuthenticationPolicy;
    const std::string address = hve_account_address(account);
    const Subject subject = hve_account_subject(account);
    const ExchangeUser* exchangeUser = find_exchange_user(*snapshot.exchangeUsers, account.externalDirectoryObjectId,
                                                          account.primarySmtpAddress, account.identity);
    const AuthenticationPolicy* orgPolicy = find_authentication_policy(policies, orgDefault);

    nlohmann::json evidence = {
        {"exchangeUser", exchangeUser ? nlohmann::json{{"identity", exchangeUser->identity},
                                                       {"userPrincipalName", exchangeUser->userPrincipalName},
                                                       {"externalDirectoryObjectId", exchangeUser->externalDirectoryObjectId},
                                                       {"authenticationPolicy", exchangeUser->authenticationPolicy}}
                                      : nlohmann::json(nullptr)},
        {"organizationDefault", orgDefault.empty() ? nlohmann::json(nullptr) : nlohmann::json(orgDefault)},
        {"policiesAllowingBasicSmtp", names_allowing_smtp(policies)},
    };
    std::vector<Related> related;  // the policy in effect, when known
    auto fail = [&](std::string message) {
        Finding f = finding(Status::Fail, subject, std::move(message));
        auto commands = fix_commands(policies, address);
        f.remediation = fix_remediation(commands);
        evidence["commands"] = commands;
        f.evidence = evidence;
        f.related = related;
        f.steps = {fix_step(policies, subject)};
        return f;
    };
    auto other = [&](Status status, std::string message, std::string remediation = {}) {
        Finding f = finding(status, subject, std::move(message));
        f.remediation = std::move(remediation);
        f.evidence = evidence;
        f.related = related;
        return f;
    };
    const std::string collectPolicies =
        "Collect every authentication policy (Get-AuthenticationPolicy | ConvertTo-Json) into "
        "/exchange/authenticationPolicies and scan again.";

    if (!exchangeUser) {
        // Its own policy is unknown: any existing policy could be assigned, or none (then the
        // organization default applies). Only an answer common to all of them is certain.
        evidence["note"] = "the account is not in /exchange/users, so its own authentication policy is unknown";
        if (!orgDefault.empty() && !orgPolicy)
            return other(Status::Review,
                         fmt::format("The organization default authentication policy '{}' is not in "
                                     "/exchange/authenticationPolicies, and this HVE account is not in /exchange/users, "
                                     "so whether Basic SMTP AUTH is allowed for it is unknown.",
                                     orgDefault),
                         collectPolicies + " Add the account to /exchange/users (Get-User " + ps_argument(address) + ").");
        const bool orgAllows = !orgPolicy || orgPolicy->allowBasicAuthSmtp;
        const std::size_t allowing = names_allowing_smtp(policies).size();
        if (orgPolicy) {
            evidence["effectivePolicy"] = policy_evidence(*orgPolicy, "organizationDefault");
            related = {related_policy(*orgPolicy)};
        }
        if (orgAllows && allowing == policies.size())
            return other(Status::Pass,
                         "This HVE account is not in /exchange/users, but every authentication policy of the tenant "
                         "(and the organization default) allows Basic SMTP AUTH, so whichever applies allows it.");
        if (!orgAllows && allowing == 0)
            return fail(fmt::format("This HVE account is not in /exchange/users, but no authentication policy of the "
                                    "tenant allows Basic SMTP AUTH and the organization default '{}' blocks it, so "
                                    "whichever applies blocks it.",
                                    orgDefault));
        return other(Status::Review,
                     fmt::format("This HVE account is not in /exchange/users, so its own authentication policy is "
                                 "unknown: {}, while other policies of the tenant {} it.",
                                 orgPolicy ? fmt::format("the organization default '{}' {} Basic SMTP AUTH", orgDefault,
                                                         orgAllows ? "allows" : "blocks")
                                           : std::string("without one of its own, no policy restricts Basic SMTP AUTH"),
                                 orgAllows ? "would block" : "would allow"),
                     "Add the account to /exchange/users (Get-User " + ps_argument(address) +
                         " | ConvertTo-Json) and scan again.");
    }

    const EffectiveAuthenticationPolicy inEffect = effective_authentication_policy(snapshot, exchangeUser);
    const bool ownPolicy = inEffect.source == EffectiveAuthenticationPolicy::Source::Account;
    const std::string& reference = inEffect.reference;
    const char* source = ownPolicy ? "account" : "organizationDefault";
    const char* whose = ownPolicy ? "assigned to this HVE account" : "the organization default";
    if (inEffect.source == EffectiveAuthenticationPolicy::Source::None) {
        evidence["effectivePolicy"] = nullptr;
        return other(Status::Pass,
                     "No authentication policy applies to this HVE account (none assigned, no organization default), "
                     "so Exchange does not restrict its Basic SMTP AUTH.");
    }
    const AuthenticationPolicy* effective = inEffect.policy;
    if (!effective) {
        evidence["effectivePolicy"] = {{"name", reference}, {"source", source}, {"found", false}};
        return other(Status::Review,
                     fmt::format("The authentication policy '{}' ({}) is not in /exchange/authenticationPolicies, so "
                                 "whether it allows Basic SMTP AUTH is unknown.",
                                 reference, whose),
                     collectPolicies);
    }
    evidence["effectivePolicy"] = policy_evidence(*effective, source);
    related = {related_policy(*effective)};
    if (effective->allowBasicAuthSmtp)
        return other(Status::Pass, fmt::format("The authentication policy '{}' ({}) allows Basic SMTP AUTH.",
                                               display_name(*effective), whose));
    return fail(fmt::format("The authentication policy '{}' ({}) blocks Basic SMTP AUTH: AllowBasicAuthSmtp is not set.",
                            display_name(*effective), whose));
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_authentication_policy_rule() {
    return std::make_unique<HveAuthenticationPolicyRule>(make_metadata());
}

}  // namespace tenantscan::rules
