// hve-billing-policy: once HVE is billed, every HVE account has a valid billing policy.
#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/schedule.hpp>
#include <tenantscan/detail/text.hpp>

#include "support/rule_base.hpp"
#include "support/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

constexpr const char* kValidStatus = "BillingPolicyValid";

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-billing-policy";
    m.concernsHveAccounts = true;
    m.title = "Every HVE account has a valid billing policy once HVE is billed";
    m.defaultSeverity = Severity::Critical;
    m.rationale =
        "High Volume Email is billed pay-as-you-go since 2026-06-01 (the date is in rules/schedules.json). From then "
        "on an HVE account without a valid billing policy cannot send at all. Get-HVEAccountBillingPolicy reports "
        "each account's BillingPolicyStatus; anything but BillingPolicyValid (NoProperBillingPolicyStored, "
        "BillingPolicyNotFound, SubscriptionIsNotActive, ...) stops its mail. Before the billing date the rule is "
        "not applicable.";
    m.remediation =
        "Set up pay-as-you-go billing for HVE (a billing policy linked to an active Azure subscription) and link the "
        "account to it; Get-HVEAccountBillingPolicy must then show BillingPolicyValid.";
    m.references = hve_dates().references;
    m.requiredSections = {"/exchange/hveAccounts", "/exchange/hveBillingPolicies"};
    return m;
}

class HveBillingPolicyRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

// Get-HVEAccountBillingPolicy names the account by whatever identity it prints, so an entry is
// matched by any identifier of an account, strongest first: Entra object id, primary address,
// other addresses, Exchange identity, name, display name. An entry belongs to the account that
// names it with the strongest identifier; several accounts naming it equally strongly (two
// accounts with the same display name) leave it to none. Each account takes, of the entries that
// belong to it, one named by its strongest identifier (the first in snapshot order), so a display
// name never wins over an exact address, and another account's entry never passes for its own.
class BillingIndex {
public:
    BillingIndex(const std::vector<HveBillingPolicy>& billings, const std::vector<HveAccount>& accounts)
        : billings_(billings), chosen_(accounts.size(), kNone) {
        std::unordered_map<std::string, std::vector<std::pair<std::size_t, int>>> claims;  // key → (account, tier)
        for (std::size_t a = 0; a < accounts.size(); ++a) {
            const HveAccount& account = accounts[a];
            auto claim = [&](const std::string& identifier, int tier) {
                if (identifier.empty()) return;
                auto& list = claims[Directory::normalise_address(identifier)];
                for (auto& [who, best] : list)
                    if (who == a) {
                        best = std::min(best, tier);
                        return;
                    }
                list.emplace_back(a, tier);
            };
            claim(account.externalDirectoryObjectId, 0);
            claim(account.primarySmtpAddress, 1);
            for (const auto& address : account.emailAddresses) claim(address, 2);
            claim(account.identity, 3);
            claim(account.name, 4);
            claim(account.displayName, 5);
        }
        std::vector<int> chosenTier(accounts.size(), kNoTier);
        for (std::size_t i = 0; i < billings.size(); ++i) {
            auto it = claims.find(Directory::normalise_address(billings[i].identity));
            if (it == claims.end()) continue;
            int best = kNoTier;
            for (const auto& claim : it->second) best = std::min(best, claim.second);
            std::size_t owner = kNone;
            for (const auto& [who, tier] : it->second)
                if (tier == best) owner = owner == kNone ? who : kAmbiguous;
            if (owner == kAmbiguous) continue;
            if (best < chosenTier[owner]) {  // strictly stronger: the first entry of a tier stays
                chosenTier[owner] = best;
                chosen_[owner] = i;
            }
        }
    }
    // The billing entry of the account at that index in /exchange/hveAccounts, or nullptr.
    const HveBillingPolicy* find(std::size_t account) const {
        return chosen_[account] == kNone ? nullptr : &billings_[chosen_[account]];
    }

private:
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    static constexpr std::size_t kAmbiguous = static_cast<std::size_t>(-2);
    static constexpr int kNoTier = 99;
    const std::vector<HveBillingPolicy>& billings_;
    std::vector<std::size_t> chosen_;  // per account: index of its entry, or kNone
};

std::vector<Finding> HveBillingPolicyRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    if (auto none = no_hve_accounts(snapshot)) return {*none};

    const std::string& billingFrom = hve_dates().billingFrom;
    const bool billed = days_between(billingFrom, context.options().asOf) >= 0;
    std::vector<Finding> findings;
    const BillingIndex billings(*snapshot.hveBillingPolicies, *snapshot.hveAccounts);
    for (std::size_t index = 0; index < snapshot.hveAccounts->size(); ++index) {
        const HveAccount& account = (*snapshot.hveAccounts)[index];
        const Subject subject = hve_account_subject(account);
        if (!billed) {
            Finding f = finding(Status::NotApplicable, subject,
                                fmt::format("HVE is billed from {}; as of {} no billing policy is needed yet.",
                                            billingFrom, context.options().asOf));
            f.evidence = {{"billingFrom", billingFrom}, {"asOf", context.options().asOf}};
            findings.push_back(std::move(f));
            continue;
        }
        const HveBillingPolicy* billing = billings.find(index);
        const std::string address = hve_account_address(account);
        Finding f = [&] {
            if (!billing) {
                Finding r = finding(Status::Review, subject,
                                    fmt::format("/exchange/hveBillingPolicies has no entry for {}, so whether it can "
                                                "send (billing required since {}) is unknown.",
                                                address, billingFrom));
                r.remediation = fmt::format("Run Get-HVEAccountBillingPolicy for {} and add its output to the snapshot.", address);
                return r;
            }
            if (iequals(billing->billingPolicyStatus, kValidStatus))
                return finding(Status::Pass, subject,
                               fmt::format("{} has a valid billing policy ({}).", address, billing->billingPolicyStatus));
            Finding r = finding(Status::Fail, subject,
                                fmt::format("{} cannot send: its billing status is {} (HVE is billed since {}; only {} "
                                            "lets it send).",
                                            address, billing->billingPolicyStatus.empty() ? "empty" : billing->billingPolicyStatus,
                                            billingFrom, kValidStatus));
            r.remediation = fmt::format(
                "Set up pay-as-you-go billing for HVE (a billing policy linked to an active Azure subscription) and "
                "link {} to it; then Get-HVEAccountBillingPolicy must show {}.",
                address, kValidStatus);
            return r;
        }();
        f.evidence = {{"billingFrom", billingFrom},
                      {"billingIdentity", billing ? nlohmann::json(billing->identity) : nlohmann::json(nullptr)},
                      {"billingPolicyStatus", billing ? nlohmann::json(billing->billingPolicyStatus) : nlohmann::json(nullptr)}};
        if (billing)
            f.related = {{Related::Kind::Setting, billing->identity, "HVE billing policy", Related::Role::Assigned,
                          billing->billingPolicyStatus, {}, {}, {}}};
        findings.push_back(std::move(f));
    }
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_billing_policy_rule() { return std::make_unique<HveBillingPolicyRule>(make_metadata()); }

}  // namespace tenantscan::rules
