#include "common/smtp_senders.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <tenantscan/json_input.hpp>

namespace tenantscan::rules {

HveAccountIndex::HveAccountIndex(const Directory& directory) {
    const Snapshot& snapshot = directory.snapshot();
    if (!snapshot.hveAccounts) return;
    for (const HveAccount& account : *snapshot.hveAccounts) {
        auto add = [&](std::string_view key) {
            if (!key.empty()) byKey_.emplace(Directory::normalise_address(key), &account);
        };
        add(account.primarySmtpAddress);
        add(account.externalDirectoryObjectId);
        for (const auto& address : account.emailAddresses) add(address);
        if (auto user = directory.user_of_hve(account)) add(directory.user(*user).userPrincipalName);
    }
}

const HveAccount* HveAccountIndex::find(std::string_view identifier) const {
    if (identifier.empty()) return nullptr;
    auto it = byKey_.find(Directory::normalise_address(identifier));
    return it == byKey_.end() ? nullptr : it->second;
}

std::size_t authenticated_smtp_sign_in_count(const Snapshot& snapshot) {
    if (!snapshot.signIns) return 0;
    return static_cast<std::size_t>(std::count_if(snapshot.signIns->begin(), snapshot.signIns->end(),
                                                  [](const SignIn& s) { return iequals(s.clientAppUsed, kAuthenticatedSmtp); }));
}

std::vector<SmtpSender> non_hve_smtp_senders(const RuleContext& context, const HveAccountIndex& hve) {
    const Directory& directory = context.directory();
    std::map<std::string, SmtpSender> byAccount;  // lower-case userId (or UPN) → sender
    for (const SignIn& signIn : *context.snapshot().signIns) {
        if (!iequals(signIn.clientAppUsed, kAuthenticatedSmtp)) continue;
        if (hve.find(signIn.userId) || hve.find(signIn.userPrincipalName)) continue;
        const std::string key = to_lower(signIn.userId.empty() ? signIn.userPrincipalName : signIn.userId);
        auto [it, inserted] = byAccount.try_emplace(key);
        SmtpSender& sender = it->second;
        if (inserted) {
            sender.user = directory.find_user(signIn.userId.empty() ? signIn.userPrincipalName : signIn.userId);
            if (!sender.user && !signIn.userPrincipalName.empty()) sender.user = directory.find_user(signIn.userPrincipalName);
            sender.subject = sender.user ? Subject{"user", directory.user(*sender.user).id,
                                                   directory.user(*sender.user).userPrincipalName}
                                         : Subject{"user", signIn.userId, signIn.userPrincipalName};
        }
        sender.signIns.push_back(&signIn);
    }
    std::vector<SmtpSender> senders;
    for (auto& [key, sender] : byAccount) {
        std::stable_sort(sender.signIns.begin(), sender.signIns.end(), [](const SignIn* a, const SignIn* b) {
            return a->createdDateTime < b->createdDateTime;
        });
        senders.push_back(std::move(sender));
    }
    std::sort(senders.begin(), senders.end(), [](const SmtpSender& a, const SmtpSender& b) {
        return std::tie(a.subject.name, a.subject.id) < std::tie(b.subject.name, b.subject.id);
    });
    return senders;
}

nlohmann::json sign_in_summary(const std::vector<const SignIn*>& signIns) {
    std::size_t successes = 0;
    std::map<std::string, std::size_t> failures;  // "53003 Access has been blocked…" → count
    std::set<std::string> ips;
    std::string first, last;
    for (const SignIn* s : signIns) {
        if (s->errorCode == 0) {
            ++successes;
        } else {
            ++failures[s->failureReason.empty() ? std::to_string(s->errorCode)
                                                : std::to_string(s->errorCode) + " " + s->failureReason];
        }
        if (!s->ipAddress.empty()) ips.insert(s->ipAddress + (s->countryOrRegion.empty() ? "" : " (" + s->countryOrRegion + ")"));
        if (!s->createdDateTime.empty()) {
            if (first.empty() || s->createdDateTime < first) first = s->createdDateTime;
            if (last.empty() || s->createdDateTime > last) last = s->createdDateTime;
        }
    }
    nlohmann::json failureList = nlohmann::json::array();
    for (const auto& [reason, count] : failures) failureList.push_back({{"error", reason}, {"count", count}});
    return {{"signIns", signIns.size()},
            {"successes", successes},
            {"failures", failureList},
            {"firstSeen", first},
            {"lastSeen", last},
            {"sourceIps", std::vector<std::string>(ips.begin(), ips.end())}};
}

}  // namespace tenantscan::rules
