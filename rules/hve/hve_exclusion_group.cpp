// hve-exclusion-group: the HVE exemption group exists and every HVE account is a (transitive)
// member of it.
#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <unordered_set>

#include <fmt/format.h>
#include <tenantscan/directory.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/model.hpp>

#include <tenantscan/detail/hve_exemption_group.hpp>
#include <tenantscan/detail/text.hpp>
#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = kHveExclusionGroupRuleId;
    m.concernsHveAccounts = true;
    m.title = "Every HVE account is a member of the HVE exemption group";
    m.defaultSeverity = Severity::Medium;
    m.rationale =
        "Conditional Access policies that block legacy authentication or require MFA or a compliant device must "
        "exclude HVE accounts, or their Basic SMTP AUTH sign-ins fail. Excluding one group, and keeping every HVE "
        "account in it, is the maintainable way to do that; an HVE account left out of the group is blocked by "
        "every policy that relies on the exclusion.";
    m.remediation =
        "Create the exemption group if needed, add every HVE account to it (New-MgGroupMember), and exclude the "
        "group from every blocking Conditional Access policy.";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/concept-conditional-access-users-groups",
        "https://learn.microsoft.com/en-us/powershell/module/microsoft.graph.groups/new-mggroupmember",
    };
    m.requiredSections = {"/exchange/hveAccounts", "/graph/users", "/graph/groups"};
    m.parameters = {{kHveExemptionGroupParameter,
                     "The HVE exemption group: its display name (case-insensitive) or its object id.",
                     kDefaultHveExemptionGroup}};
    return m;
}

class HveExclusionGroupRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    Finding group_missing(const RuleContext& context, const std::string& group) const;
    Finding group_ambiguous(const RuleContext& context, const std::string& group,
                            const std::vector<GroupIndex>& matches) const;
    Finding evaluate_account(const RuleContext& context, const HveAccount& account, GroupIndex group,
                             const std::unordered_set<std::string>& directMembers,
                             const std::vector<std::string>& unresolvedNestedGroups) const;
};

bool looks_like_object_id(const std::string& text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
}

// What keeps the members of `group` from being all known: ids of groups nested in it (at any depth)
// that /graph/groups does not hold, and "'name' (exported without its members)" for it or a nested
// group whose members were not exported. A missing membership cannot then be ruled out.
std::vector<std::string> unresolved_nested_groups(const Directory& directory, GroupIndex group) {
    std::vector<std::string> unresolved;
    std::vector<bool> seen(directory.group_count(), false);
    std::vector<GroupIndex> pending = {group};
    seen[group] = true;
    while (!pending.empty()) {
        const Group& g = directory.group(pending.back());
        pending.pop_back();
        if (!g.membersCollected) unresolved.push_back(fmt::format("'{}' (exported without its members)", g.displayName));
        for (const auto& memberId : g.memberGroupIds) {
            auto member = directory.find_group(memberId);
            if (!member) {
                unresolved.push_back(memberId);
            } else if (!seen[*member]) {
                seen[*member] = true;
                pending.push_back(*member);
            }
        }
    }
    std::sort(unresolved.begin(), unresolved.end());
    unresolved.erase(std::unique(unresolved.begin(), unresolved.end()), unresolved.end());
    return unresolved;
}

std::string mail_nickname(const std::string& displayName) {
    std::string nickname;
    for (char c : displayName)
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') nickname += c;
    return nickname.empty() ? "HVEUserAccounts" : nickname;
}

std::vector<Finding> HveExclusionGroupRule::evaluate(const RuleContext& context) const {
    const nlohmann::json value = parameter(context, kHveExemptionGroupParameter);
    if (!value.is_string() || value.get<std::string>().empty())
        throw std::invalid_argument(fmt::format("parameter {}.{} must be a group display name or object id, got {}",
                                                metadata().id, kHveExemptionGroupParameter, value.dump()));
    const std::string group = value.get<std::string>();
    const Snapshot& snapshot = context.snapshot();
    if (auto none = no_hve_accounts(snapshot)) return {*none};

    const auto matches = resolve_hve_exemption_group(context.directory(), group);
    if (matches.empty()) return {group_missing(context, group)};
    if (matches.size() > 1) return {group_ambiguous(context, group, matches)};

    const auto unresolved = unresolved_nested_groups(context.directory(), matches.front());
    std::unordered_set<std::string> directMembers;  // lower-case user ids
    for (const auto& id : context.directory().group(matches.front()).memberUserIds) directMembers.insert(to_lower(id));
    std::vector<Finding> findings;
    for (const HveAccount& account : *snapshot.hveAccounts)
        findings.push_back(evaluate_account(context, account, matches.front(), directMembers, unresolved));
    return findings;
}

Finding HveExclusionGroupRule::group_missing(const RuleContext& context, const std::string& group) const {
    const bool byId = looks_like_object_id(group);
    const std::size_t accounts = context.snapshot().hveAccounts->size();
    Finding f = finding(Status::Fail, tenant_subject(context.snapshot()),
                        fmt::format("The HVE exemption group {} does not exist in /graph/groups, so no Conditional "
                                    "Access policy can exclude the tenant's {} HVE account{} through it.",
                                    byId ? "with object id " + group : "'" + group + "'", accounts,
                                    accounts == 1 ? "" : "s"));
    f.evidence = {{"group", group}, {"hveAccounts", accounts}};
    // The fix script creates the group under the configured value and adds every HVE account to it.
    Related target = hve_exemption_group_related(context.options(), context.directory());
    target.role = Related::Role::Assigned;
    f.related = {target};
    RemediationStep create;
    create.action = RemediationStep::Action::CreateGroup;
    create.group = target;
    f.steps.push_back(create);
    for (const HveAccount& account : *context.snapshot().hveAccounts) {
        if (account.externalDirectoryObjectId.empty()) continue;
        RemediationStep add;
        add.action = RemediationStep::Action::AddGroupMember;
        add.account = {Related::Kind::Account, account.externalDirectoryObjectId, account.primarySmtpAddress,
                       Related::Role::Names, {}, {}, {}, {}};
        add.group = target;
        add.note = "the group is new, so every HVE account joins it";
        f.steps.push_back(std::move(add));
    }
    const std::string name = byId ? kDefaultHveExemptionGroup : group;
    f.remediation = fmt::format(
        "{}Create the security group, in Microsoft Graph PowerShell:\n"
        "  New-MgGroup -DisplayName \"{}\" -MailEnabled:$false -MailNickname \"{}\" -SecurityEnabled\n"
        "add every HVE account to it (New-MgGroupMember -GroupId <group id> -DirectoryObjectId <account object id>), "
        "and exclude it from every Conditional Access policy that blocks an HVE account (see hve-conditional-access). "
        "If the tenant's exemption group has another name, set the parameter {}.{} to its display name or object id.",
        byId ? "No group has the configured object id. " : "", name, mail_nickname(name), metadata().id,
        kHveExemptionGroupParameter);
    return f;
}

Finding HveExclusionGroupRule::group_ambiguous(const RuleContext& context, const std::string& group,
                                               const std::vector<GroupIndex>& matches) const {
    std::vector<std::string> ids;
    for (GroupIndex g : matches) ids.push_back(context.directory().group(g).id);
    Finding f = finding(Status::Review, tenant_subject(context.snapshot()),
                        fmt::format("{} groups are named '{}' (ids {}), so which one is the HVE exemption group is "
                                    "ambiguous.",
                                    matches.size(), group, fmt::join(ids, ", ")));
    f.evidence = {{"group", group}, {"matchingGroupIds", ids}};
    for (GroupIndex g : matches)
        f.related.push_back({Related::Kind::Group, context.directory().group(g).id, context.directory().group(g).displayName,
                             Related::Role::Names, {}, {}, {}, {}});
    f.remediation = fmt::format(
        "Set the parameter {}.{} to the object id of the intended group, or rename or delete the other groups.",
        metadata().id, kHveExemptionGroupParameter);
    return f;
}

Finding HveExclusionGroupRule::evaluate_account(const RuleContext& context, const HveAccount& account,
                                                GroupIndex groupIndex, const std::unordered_set<std::string>& directMembers,
                                                const std::vector<std::string>& unresolvedNestedGroups) const {
    const Directory& directory = context.directory();
    const Group& group = directory.group(groupIndex);
    const Subject subject = hve_account_subject(account);
    const auto user = directory.user_of_hve(account);
    nlohmann::json evidence = {{"group", {{"id", group.id}, {"displayName", group.displayName}}},
                               {"entraUser", entra_user_evidence(directory, user)}};
    if (!unresolvedNestedGroups.empty()) evidence["unresolvedNestedGroups"] = unresolvedNestedGroups;

    const Related groupRelated{Related::Kind::Group, group.id, group.displayName, Related::Role::Assigned, {}, {}, {}, {}};
    auto make = [&](Status status, std::string message, std::string remediation = {}) {
        Finding f = finding(status, subject, std::move(message));
        f.evidence = evidence;
        f.remediation = std::move(remediation);
        f.related = {groupRelated};
        return f;
    };
    if (!user)
        return make(Status::Review,
                    fmt::format("The Entra user of this HVE account (object id {}) is not in /graph/users, so its "
                                "membership of the HVE exemption group '{}' cannot be checked.",
                                subject.id.empty() ? "unknown" : subject.id, group.displayName),
                    "Add the account's Entra user to /graph/users (GET /users/{id}) and scan again.");

    if (directory.is_transitive_member(*user, groupIndex)) {
        // Direct membership, the usual case, needs no search through the nesting (membership_path
        // costs a pass over every group, too much for thousands of accounts).
        std::vector<std::string> path;
        if (directMembers.count(to_lower(directory.user(*user).id)))
            path.push_back(group.displayName);
        else
            for (GroupIndex g : directory.membership_path(*user, groupIndex)) path.push_back(directory.group(g).displayName);
        evidence["member"] = true;
        evidence["membershipPath"] = path;
        return make(Status::Pass,
                    path.size() > 1 ? fmt::format("This HVE account is a member of the HVE exemption group '{}' "
                                                  "through nested groups ({}).",
                                                  group.displayName, fmt::join(path, " > "))
                                    : fmt::format("This HVE account is a member of the HVE exemption group '{}'.",
                                                  group.displayName));
    }
    evidence["member"] = false;
    if (!unresolvedNestedGroups.empty())
        return make(Status::Review,
                    fmt::format("This HVE account is not a member of the HVE exemption group '{}' as far as the "
                                "snapshot shows, but /graph/groups does not hold all its members (groups missing or "
                                "exported without members: {}), so membership cannot be ruled out.",
                                group.displayName, fmt::join(unresolvedNestedGroups, ", ")),
                    "Add the nested groups, each with its members, to /graph/groups and scan again.");
    Finding f = make(Status::Fail,
                fmt::format("This HVE account is not a member of the HVE exemption group '{}', so Conditional Access "
                            "policies that exclude the group still apply to it.",
                            group.displayName),
                fmt::format("Add the account to the group, in Microsoft Graph PowerShell:\n"
                            "  New-MgGroupMember -GroupId {} -DirectoryObjectId {}\n"
                            "(or Entra admin center > Groups > '{}' > Members > Add members, and search for '{}'), "
                            "then check that the group is excluded from every Conditional Access policy that would "
                            "block the account (see hve-conditional-access).",
                            group.id, directory.user(*user).id, group.displayName,
                            directory.user(*user).displayName.empty() ? directory.user(*user).userPrincipalName
                                                                       : directory.user(*user).displayName));
    RemediationStep add;
    add.action = RemediationStep::Action::AddGroupMember;
    add.account = {Related::Kind::Account, subject.id, subject.name, Related::Role::Names, {}, {}, {}, {}};
    add.group = hve_exemption_group_related(context.options(), directory);
    add.note = "the account is not a member of the group";
    f.steps.push_back(std::move(add));
    return f;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_exclusion_group_rule() { return std::make_unique<HveExclusionGroupRule>(make_metadata()); }

}  // namespace tenantscan::rules
