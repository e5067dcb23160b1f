// Who submits mail with SMTP AUTH: HVE accounts recognised by any of their identifiers, and the
// other accounts seen in the "Authenticated SMTP" sign-ins. Shared by the smtp module's rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/rule.hpp>

namespace tenantscan::rules {

// Entra's clientAppUsed value for SMTP AUTH client submission (docs/microsoft-facts.md §1).
inline constexpr const char* kAuthenticatedSmtp = "Authenticated SMTP";

// Finds the HVE account behind a user name, address, UPN or object id (case-insensitive): its
// primary address, every address in EmailAddresses, its ExternalDirectoryObjectId, and the UPN of
// its Entra user.
class HveAccountIndex {
public:
    explicit HveAccountIndex(const Directory& directory);
    const HveAccount* find(std::string_view identifier) const;

private:
    std::unordered_map<std::string, const HveAccount*> byKey_;
};

// A non-HVE account that signed in with "Authenticated SMTP", with its sign-ins.
struct SmtpSender {
    Subject subject;                    // kind "user": Entra object id, UPN
    std::optional<UserIndex> user;      // its Entra user, when in /graph/users
    std::vector<const SignIn*> signIns; // oldest first
};

// The non-HVE accounts in /graph/signIns that used "Authenticated SMTP", sorted by UPN, one per
// user. A sign-in names its user by userId (whether that user is an HVE account included); only a
// sign-in without userId is named by its UPN, and joins the sender of the same user (found in
// /graph/users, or seen with that UPN beside an id). Needs /graph/signIns and /exchange/hveAccounts.
std::vector<SmtpSender> non_hve_smtp_senders(const RuleContext& context, const HveAccountIndex& hve);

// Number of sign-ins in /graph/signIns with clientAppUsed "Authenticated SMTP".
std::size_t authenticated_smtp_sign_in_count(const Snapshot& snapshot);

// {count, successes, failures: {code: n}, firstSeen, lastSeen, sourceIps: [...]}: what the logs say
// about a sender; the source IPs identify the devices to migrate.
nlohmann::json sign_in_summary(const std::vector<const SignIn*>& signIns);

// The account as the migration plan shows it (role Sender, detail "account x seen submitting with Basic
// SMTP AUTH: 3 sign-ins from … to …, source IPs …"), from its sign_in_summary.
Related sign_in_sender(const Subject& account, const nlohmann::json& summary);

}  // namespace tenantscan::rules
