#include "support/smtp_senders.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

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
    // A sign-in names its user by userId; its UPN counts only when it has no userId (a UPN beside
    // another user's id says nothing about that user). Sign-ins of one user are one sender, whether
    // they carry its id, its id and UPN, or its UPN only: the ones with an id are grouped first, and
    // those without one join the sender their UPN resolves to.
    std::map<std::string, SmtpSender> byAccount;            // lower-case Entra id (or "upn:" + UPN) → sender
    std::unordered_map<std::string, std::string> keyOfUpn;  // lower-case UPN → key of a sender seen with it
    auto add = [&](const SignIn& signIn, const std::string& key, std::optional<UserIndex> user) {
        auto [it, inserted] = byAccount.try_emplace(key);
        SmtpSender& sender = it->second;
        if (inserted) {
            sender.user = user;
            sender.subject = user ? Subject{"user", directory.user(*user).id, directory.user(*user).userPrincipalName}
                                  : Subject{"user", signIn.userId, signIn.userPrincipalName};
        }
        if (sender.subject.name.empty()) sender.subject.name = signIn.userPrincipalName;
        sender.signIns.push_back(&signIn);
    };
    const auto& signIns = *context.snapshot().signIns;
    for (const SignIn& signIn : signIns) {
        if (!iequals(signIn.clientAppUsed, kAuthenticatedSmtp) || signIn.userId.empty() || hve.find(signIn.userId))
            continue;
        const auto user = directory.find_user(signIn.userId);
        const std::string key = to_lower(user ? directory.user(*user).id : signIn.userId);
        if (!signIn.userPrincipalName.empty()) keyOfUpn.emplace(to_lower(signIn.userPrincipalName), key);
        if (user && !directory.user(*user).userPrincipalName.empty())
            keyOfUpn.emplace(to_lower(directory.user(*user).userPrincipalName), key);
        add(signIn, key, user);
    }
    for (const SignIn& signIn : signIns) {
        if (!iequals(signIn.clientAppUsed, kAuthenticatedSmtp) || !signIn.userId.empty() ||
            signIn.userPrincipalName.empty() || hve.find(signIn.userPrincipalName))
            continue;
        const auto user = directory.find_user(signIn.userPrincipalName);
        std::string key;
        if (user) {
            key = to_lower(directory.user(*user).id);
        } else if (auto known = keyOfUpn.find(to_lower(signIn.userPrincipalName)); known != keyOfUpn.end()) {
            key = known->second;
        } else {
            key = "upn:" + to_lower(signIn.userPrincipalName);
        }
        add(signIn, key, user);
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

Related sign_in_sender(const Subject& account, const nlohmann::json& summary) {
    const auto count = summary.value("signIns", std::size_t{0});
    const auto& ips = summary.at("sourceIps");
    Related r;
    r.kind = Related::Kind::Account;
    r.id = account.id;
    r.name = account.name;
    r.role = Related::Role::Sender;
    r.detail = fmt::format("account {} seen submitting with Basic SMTP AUTH: {} sign-in{} from {} to {}{}", account.name,
                           count, count == 1 ? "" : "s", summary.value("firstSeen", std::string()),
                           summary.value("lastSeen", std::string()),
                           ips.empty() ? "" : fmt::format(", source IPs {}", fmt::join(ips.get<std::vector<std::string>>(), ", ")));
    return r;
}

}  // namespace tenantscan::rules
