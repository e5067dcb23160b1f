#include <doctest/doctest.h>

#include <tenantscan/authentication_policy.hpp>

#include "support.hpp"

using nlohmann::json;
using tenantscan::EffectiveAuthenticationPolicy;

namespace {

tenantscan::Snapshot exchange_snapshot(json organizationDefault) {
    return testsupport::snapshot_from(
        {{"snapshotVersion", 1},
         {"tenantId", "t1"},
         {"exchange",
          {{"authenticationPolicies",
            {{{"Name", "Block Basic, legacy"},
              {"DistinguishedName", "CN=Block Basic\\, legacy,CN=Auth Policies,CN=contoso,DC=EURPR05A003,DC=prod"},
              {"Guid", "5d5f4a3e-0000-4000-8000-000000000001"},
              {"AllowBasicAuthSmtp", false}},
             {{"Name", "Allow Basic Auth SMTP"}, {"Identity", "Allow Basic Auth SMTP"}, {"AllowBasicAuthSmtp", true}}}},
           {"organizationConfig", {{"DefaultAuthenticationPolicy", std::move(organizationDefault)}}},
           {"users",
            {{{"Identity", "scanner"}, {"UserPrincipalName", "scanner@contoso.com"},
              {"ExternalDirectoryObjectId", "e1"}, {"AuthenticationPolicy", "allow basic auth smtp"}},
             {{"Identity", "printer"}, {"UserPrincipalName", "printer@contoso.com"},
              {"ExternalDirectoryObjectId", nullptr}, {"AuthenticationPolicy", nullptr}}}}}}});
}

}  // namespace

TEST_CASE("authentication policies: a reference by name, GUID, DN or the DN's first CN (escapes honoured)") {
    auto snapshot = exchange_snapshot(nullptr);
    const auto& policies = *snapshot.authenticationPolicies;
    const auto* block = &policies[0];
    CHECK(tenantscan::find_authentication_policy(policies, "block basic, LEGACY") == block);
    CHECK(tenantscan::find_authentication_policy(policies, "5D5F4A3E-0000-4000-8000-000000000001") == block);
    CHECK(tenantscan::find_authentication_policy(policies, policies[0].distinguishedName) == block);
    CHECK(tenantscan::find_authentication_policy(policies, "CN=Block Basic\\, legacy,CN=Auth Policies,CN=other") == block);
    CHECK(tenantscan::find_authentication_policy(policies, "CN=Block Basic,CN=Auth Policies") == nullptr);
    CHECK(tenantscan::find_authentication_policy(policies, "") == nullptr);
    CHECK(tenantscan::find_authentication_policy(policies, "No such policy") == nullptr);
}

TEST_CASE("authentication policies: the Get-User entry of an account, and never another object's") {
    auto snapshot = exchange_snapshot(nullptr);
    const auto& users = *snapshot.exchangeUsers;
    CHECK(tenantscan::find_exchange_user(users, "E1", "") == &users[0]);
    CHECK(tenantscan::find_exchange_user(users, "", "SMTP:Scanner@contoso.com") == &users[0]);
    CHECK(tenantscan::find_exchange_user(users, "", "", "printer") == &users[1]);
    // The id names an object that is not collected: the entry with that address belongs to object e1.
    CHECK(tenantscan::find_exchange_user(users, "e-other", "scanner@contoso.com") == nullptr);
    // An entry without an id can still be the account.
    CHECK(tenantscan::find_exchange_user(users, "e-other", "printer@contoso.com") == &users[1]);
}

TEST_CASE("authentication policies: own policy first, else the organization default, else none") {
    SUBCASE("own policy") {
        auto snapshot = exchange_snapshot("Block Basic, legacy");
        auto effective = tenantscan::effective_authentication_policy(snapshot, &(*snapshot.exchangeUsers)[0]);
        CHECK(effective.source == EffectiveAuthenticationPolicy::Source::Account);
        REQUIRE(effective.policy != nullptr);
        CHECK(effective.policy->allowBasicAuthSmtp);
    }
    SUBCASE("organization default, for an account without one and for an account not collected") {
        auto snapshot = exchange_snapshot("CN=Block Basic\\, legacy,CN=Auth Policies,CN=contoso");
        const tenantscan::ExchangeUser* withoutPolicy = &(*snapshot.exchangeUsers)[1];
        for (const tenantscan::ExchangeUser* user : {withoutPolicy, static_cast<const tenantscan::ExchangeUser*>(nullptr)}) {
            auto effective = tenantscan::effective_authentication_policy(snapshot, user);
            CHECK(effective.source == EffectiveAuthenticationPolicy::Source::OrganizationDefault);
            REQUIRE(effective.policy != nullptr);
            CHECK_FALSE(effective.policy->allowBasicAuthSmtp);
        }
    }
    SUBCASE("a default that names no collected policy, and no default at all") {
        auto missing = exchange_snapshot("Deleted policy");
        auto effective = tenantscan::effective_authentication_policy(missing, &(*missing.exchangeUsers)[1]);
        CHECK(effective.source == EffectiveAuthenticationPolicy::Source::OrganizationDefault);
        CHECK(effective.reference == "Deleted policy");
        CHECK(effective.policy == nullptr);
        auto none = exchange_snapshot(nullptr);
        CHECK(tenantscan::effective_authentication_policy(none, &(*none.exchangeUsers)[1]).source ==
              EffectiveAuthenticationPolicy::Source::None);
    }
}
