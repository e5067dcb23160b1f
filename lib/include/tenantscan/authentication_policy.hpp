// Exchange authentication policies: which one is in effect for an account, and whether it lets
// Basic SMTP AUTH through (docs/microsoft-facts.md §3). Shared by the hve-authentication-policy rule and by
// smtp-test's explanations, so both read a policy reference the same way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tenantscan/model.hpp>

namespace tenantscan {

// The policy a reference designates, as Get-User / Get-OrganizationConfig print it: its name,
// identity, GUID or distinguished name, or a DN whose first CN is the policy's name
// ("CN=Block Basic,CN=Auth Policies,..."). Case-insensitive; nullptr when none matches.
const AuthenticationPolicy* find_authentication_policy(const std::vector<AuthenticationPolicy>& policies,
                                                       std::string_view reference);

// The Get-User entry of an account: by Entra object id (ExternalDirectoryObjectId) when given,
// else by user principal name = address, else by Exchange identity. nullptr when none matches.
const ExchangeUser* find_exchange_user(const std::vector<ExchangeUser>& users, std::string_view entraObjectId,
                                       std::string_view address, std::string_view identity = {});

struct EffectiveAuthenticationPolicy {
    enum class Source { None, Account, OrganizationDefault };
    Source source = Source::None;  // None: no policy assigned and no organization default
    std::string reference;         // as the account or the organization names it
    // The policy in /exchange/authenticationPolicies; nullptr when Source::None, when the
    // reference matches no collected policy, or when the policies were not collected.
    const AuthenticationPolicy* policy = nullptr;
};

// The account's own policy if it has one, else the organization default (Exchange's rule).
// `user` may be null (the account is not in /exchange/users): then only the organization
// default is considered, and callers must say that an own policy could not be seen.
EffectiveAuthenticationPolicy effective_authentication_policy(const Snapshot& snapshot, const ExchangeUser* user);

}  // namespace tenantscan
