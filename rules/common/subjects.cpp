#include "common/subjects.hpp"

namespace tenantscan::rules {

Subject hve_account_subject(const HveAccount& account) {
    const std::string& id = account.externalDirectoryObjectId.empty() ? account.identity : account.externalDirectoryObjectId;
    return {"hveAccount", id, hve_account_address(account)};
}

Subject tenant_subject(const Snapshot& snapshot) { return {"tenant", snapshot.tenantId, snapshot.tenantId}; }

std::string hve_account_address(const HveAccount& account) {
    if (!account.primarySmtpAddress.empty()) return account.primarySmtpAddress;
    return account.identity.empty() ? account.name : account.identity;
}

nlohmann::json entra_user_evidence(const Directory& directory, std::optional<UserIndex> user) {
    if (!user) return nullptr;
    const User& u = directory.user(*user);
    return {{"id", u.id}, {"userPrincipalName", u.userPrincipalName}};
}

}  // namespace tenantscan::rules
