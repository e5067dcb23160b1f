// Finding subjects as the report contract defines them (issue 2, "Output contract").
#pragma once

#include <optional>
#include <string>

#include <tenantscan/directory.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/rule.hpp>

namespace tenantscan::rules {

// {kind "hveAccount", id = Entra object id (the Exchange identity when the export has none),
//  name = primary SMTP address (the Exchange identity when absent)}.
Subject hve_account_subject(const HveAccount& account);

// The tenant: tenantscan::tenant_subject (rule.hpp), shared with the scan.

// The address to give Exchange cmdlets for an HVE account.
std::string hve_account_address(const HveAccount& account);

// "The Entra user of scanner@contoso.com (object id …) is not in /graph/users, so whether <what> is
// unknown." — for the rules that read an HVE account's Entra user.
std::string missing_entra_user_message(const HveAccount& account, const std::string& what);

// The Entra user of an HVE account (Directory::user_of_hve), as evidence: {id, userPrincipalName}
// or null when the account's user is not in /graph/users.
nlohmann::json entra_user_evidence(const Directory& directory, std::optional<UserIndex> user);
// The same user as a related object of a finding (kind Account, role Names); none when it is not in /graph/users.
std::vector<Related> entra_user_related(const Directory& directory, std::optional<UserIndex> user);

}  // namespace tenantscan::rules
