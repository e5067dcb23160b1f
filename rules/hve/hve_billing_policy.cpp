// hve-billing-policy: once HVE is billed, every HVE account has a valid billing policy.
#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/schedule.hpp>

#include "common/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

constexpr const char* kValidStatus = "BillingPolicyValid";

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-billing-policy";
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

class HveBillingPolicyRule final : public Rule {
public:
    const RuleMetadata& metadata() const override { return metadata_; }
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    RuleMetadata metadata_ = make_metadata();
};

// Get-HVEAccountBillingPolicy names the account by whatever identity it prints: match every
// identifier the account has. The first entry (in snapshot order) that any identifier names wins;
// the entries are indexed once by normalised identity.
class BillingIndex {
public:
    explicit BillingIndex(const std::vector<HveBillingPolicy>& billings) : billings_(billings) {
        for (std::size_t i = 0; i < billings.size(); ++i)
            byIdentity_.emplace(Directory::normalise_address(billings[i].identity), i);  // keeps the first
    }
    const HveBillingPolicy* find(const HveAccount& account) const {
        std::size_t best = billings_.size();
        auto consider = [&](const std::string& key) {
            if (key.empty()) return;
            if (auto it = byIdentity_.find(Directory::normalise_address(key)); it != byIdentity_.end())
                best = std::min(best, it->second);
        };
        for (const std::string* key : {&account.primarySmtpAddress, &account.identity, &account.name,
                                       &account.displayName, &account.externalDirectoryObjectId})
            consider(*key);
        for (const auto& address : account.emailAddresses) consider(address);
        return best < billings_.size() ? &billings_[best] : nullptr;
    }

private:
    const std::vector<HveBillingPolicy>& billings_;
    std::unordered_map<std::string, std::size_t> byIdentity_;
};

std::vector<Finding> HveBillingPolicyRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    if (snapshot.hveAccounts->empty())
        return {finding(Status::NotApplicable, tenant_subject(snapshot),
                        "The tenant has no HVE accounts (/exchange/hveAccounts is empty).")};

    const std::string& billingFrom = hve_dates().billingFrom;
    const bool billed = days_between(billingFrom, context.options().asOf) >= 0;
    std::vector<Finding> findings;
    const BillingIndex billings(*snapshot.hveBillingPolicies);
    for (const HveAccount& account : *snapshot.hveAccounts) {
        const Subject subject = hve_account_subject(account);
        if (!billed) {
            Finding f = finding(Status::NotApplicable, subject,
                                fmt::format("HVE is billed from {}; as of {} no billing policy is needed yet.",
                                            billingFrom, context.options().asOf));
            f.evidence = {{"billingFrom", billingFrom}, {"asOf", context.options().asOf}};
            findings.push_back(std::move(f));
            continue;
        }
        const HveBillingPolicy* billing = billings.find(account);
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
        findings.push_back(std::move(f));
    }
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_billing_policy_rule() { return std::make_unique<HveBillingPolicyRule>(); }

}  // namespace tenantscan::rules
