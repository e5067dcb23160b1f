#include <tenantscan/authentication_policy.hpp>

#include <tenantscan/directory.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

namespace tenantscan {

namespace {

// The value of the first RDN of a distinguished name when it is a CN ("CN=Block Basic,CN=Auth
// Policies,..." → "Block Basic"), honouring backslash escapes; empty otherwise.
std::string first_common_name(std::string_view dn) {
    if (dn.size() < 3 || !iequals(dn.substr(0, 3), "CN=")) return {};
    std::string value;
    for (std::size_t i = 3; i < dn.size(); ++i) {
        if (dn[i] == '\\' && i + 1 < dn.size()) {
            value += dn[++i];
        } else if (dn[i] == ',') {
            break;
        } else {
            value += dn[i];
        }
    }
    return value;
}

}  // namespace

const AuthenticationPolicy* find_authentication_policy(const std::vector<AuthenticationPolicy>& policies,
                                                       std::string_view reference) {
    if (reference.empty()) return nullptr;
    for (const auto& p : policies)
        if (iequals(reference, p.name) || iequals(reference, p.identity) ||
            (!p.distinguishedName.empty() && iequals(reference, p.distinguishedName)) ||
            (!p.guid.empty() && iequals(reference, p.guid)))
            return &p;
    const std::string commonName = first_common_name(reference);
    if (commonName.empty()) return nullptr;
    for (const auto& p : policies)
        if (iequals(commonName, p.name) || iequals(commonName, first_common_name(p.distinguishedName))) return &p;
    return nullptr;
}

const ExchangeUser* find_exchange_user(const std::vector<ExchangeUser>& users, std::string_view entraObjectId,
                                       std::string_view address, std::string_view identity) {
    if (!entraObjectId.empty())
        for (const auto& u : users)
            if (iequals(u.externalDirectoryObjectId, entraObjectId)) return &u;
    // An entry that names a different Entra object is another account, whatever its name says.
    auto other_object = [&](const ExchangeUser& u) {
        return !entraObjectId.empty() && !u.externalDirectoryObjectId.empty();
    };
    const std::string normalised = Directory::normalise_address(address);
    if (!normalised.empty())
        for (const auto& u : users)
            if (!other_object(u) && iequals(u.userPrincipalName, normalised)) return &u;
    if (!identity.empty())
        for (const auto& u : users)
            if (!other_object(u) && iequals(u.identity, identity)) return &u;
    return nullptr;
}

EffectiveAuthenticationPolicy effective_authentication_policy(const Snapshot& snapshot, const ExchangeUser* user) {
    EffectiveAuthenticationPolicy effective;
    if (user && !user->authenticationPolicy.empty()) {
        effective.source = EffectiveAuthenticationPolicy::Source::Account;
        effective.reference = user->authenticationPolicy;
    } else if (snapshot.organizationConfig && !snapshot.organizationConfig->defaultAuthenticationPolicy.empty()) {
        effective.source = EffectiveAuthenticationPolicy::Source::OrganizationDefault;
        effective.reference = snapshot.organizationConfig->defaultAuthenticationPolicy;
    }
    if (effective.source != EffectiveAuthenticationPolicy::Source::None && snapshot.authenticationPolicies)
        effective.policy = find_authentication_policy(*snapshot.authenticationPolicies, effective.reference);
    return effective;
}

}  // namespace tenantscan
