#include "support/subjects.hpp"

#include <fmt/format.h>

namespace tenantscan::rules {

Subject hve_account_subject(const HveAccount& account) {
    const std::string& id = account.externalDirectoryObjectId.empty() ? account.identity : account.externalDirectoryObjectId;
    return {"hveAccount", id, hve_account_address(account)};
}

std::string hve_account_address(const HveAccount& account) {
    if (!account.primarySmtpAddress.empty()) return account.primarySmtpAddress;
    return account.identity.empty() ? account.name : account.identity;
}

std::string missing_entra_user_message(const HveAccount& account, const std::string& what) {
    return fmt::format("The Entra user of {} (object id {}) is not in /graph/users, so whether {} is unknown.",
                       hve_account_address(account),
                       account.externalDirectoryObjectId.empty() ? "not in the export" : account.externalDirectoryObjectId,
                       what);
}

nlohmann::json entra_user_evidence(const Directory& directory, std::optional<UserIndex> user) {
    if (!user) return nullptr;
    const User& u = directory.user(*user);
    return {{"id", u.id}, {"userPrincipalName", u.userPrincipalName}};
}

std::vector<Related> entra_user_related(const Directory& directory, std::optional<UserIndex> user) {
    if (!user) return {};
    const User& u = directory.user(*user);
    return {{Related::Kind::Account, u.id, u.userPrincipalName, Related::Role::Names, {}, {}, {}, {}}};
}

}  // namespace tenantscan::rules
