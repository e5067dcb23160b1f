#include <doctest/doctest.h>

#include <tenantscan/directory.hpp>

#include "support.hpp"

using nlohmann::json;
using tenantscan::Directory;

namespace {

json user(const std::string& id, const std::string& upn) {
    return {{"id", id}, {"userPrincipalName", upn}, {"accountEnabled", true}};
}
json member(const std::string& type, const std::string& id) {
    return {{"@odata.type", "#microsoft.graph." + type}, {"id", id}};
}

json nested_tenant() {
    return {{"snapshotVersion", 1},
            {"tenantId", "t1"},
            {"graph",
             {{"users", {user("u1", "alice@contoso.com"), user("u2", "bob@contoso.com"), user("u3", "hve@contoso.com")}},
              {"groups",
               {{{"id", "g-outer"}, {"displayName", "Outer"}, {"members", {member("group", "g-mid")}}},
                {{"id", "g-mid"}, {"displayName", "Middle"}, {"members", {member("group", "g-inner"), member("group", "g-outer")}}},
                {{"id", "g-inner"}, {"displayName", "Inner"}, {"members", {member("user", "u1")}}},
                {{"id", "g-admins"}, {"displayName", "Admins"}, {"isAssignableToRole", true}, {"members", {member("user", "u2")}}},
                {{"id", "g-dup1"}, {"displayName", "Same Name"}, {"members", json::array()}},
                {{"id", "g-dup2"}, {"displayName", "same name"}, {"members", json::array()}}}},
              {"roleAssignments",
               {{{"principalId", "g-admins"}, {"roleDefinitionId", "62E90394-69F5-4237-9190-012177145E10"}, {"directoryScopeId", "/"}},
                {{"principalId", "u1"}, {"roleDefinitionId", "29232cdf-9323-42fd-ade2-1d097af3e4de"}, {"directoryScopeId", "/administrativeUnits/au1"}},
                {{"principalId", "u1"}, {"roleDefinitionId", "194ae4cb-b126-40b2-bd5b-6091b380977d"}, {"directoryScopeId", "/"}}}}}},
            {"exchange",
             {{"hveAccounts", {{{"PrimarySmtpAddress", "HVE@contoso.com"}, {"ExternalDirectoryObjectId", "u3"}}}},
              {"recipients",
               {{{"PrimarySmtpAddress", "alice@contoso.com"}, {"EmailAddresses", {"SMTP:alice@contoso.com", "smtp:Scanner@Contoso.com", "X500:/o=x"}}},
                {{"PrimarySmtpAddress", "scanner@contoso.com"}, {"EmailAddresses", {"SMTP:scanner@contoso.com"}}}}}}}};
}

}  // namespace

TEST_CASE("directory: nested groups resolve transitively and cycles terminate") {
    auto snapshot = testsupport::snapshot_from(nested_tenant());
    Directory d(snapshot);
    auto alice = d.find_user("ALICE@contoso.com");
    REQUIRE(alice);
    CHECK(d.is_transitive_member(*alice, "g-inner"));
    CHECK(d.is_transitive_member(*alice, "g-mid"));
    CHECK(d.is_transitive_member(*alice, "G-OUTER"));
    CHECK_FALSE(d.is_transitive_member(*alice, "g-admins"));
    CHECK_FALSE(d.is_transitive_member(*alice, "no-such-group"));
    CHECK(d.transitive_groups(*alice).size() == 3);

    auto path = d.membership_path(*alice, *d.find_group("g-outer"));
    REQUIRE(path.size() == 3);
    CHECK(d.group(path[0]).displayName == "Outer");
    CHECK(d.group(path[1]).displayName == "Middle");
    CHECK(d.group(path[2]).displayName == "Inner");
}

TEST_CASE("directory: only tenant-wide role assignments count, role-assignable groups pass roles to members") {
    auto snapshot = testsupport::snapshot_from(nested_tenant());
    Directory d(snapshot);
    auto alice = *d.find_user("u1");
    auto bob = *d.find_user("u2");
    CHECK(d.has_active_role(bob, "62e90394-69f5-4237-9190-012177145e10"));
    CHECK(d.has_active_role(alice, "194AE4CB-B126-40B2-BD5B-6091B380977D"));
    CHECK_FALSE(d.has_active_role(alice, "29232cdf-9323-42fd-ade2-1d097af3e4de"));  // scoped to an admin unit
    CHECK(d.active_roles(alice).size() == 1);
}

TEST_CASE("directory: HVE accounts link to their Entra user, names and addresses are case-insensitive") {
    auto snapshot = testsupport::snapshot_from(nested_tenant());
    Directory d(snapshot);
    const auto& account = snapshot.hveAccounts->front();
    auto u = d.user_of_hve(account);
    REQUIRE(u);
    CHECK(d.user(*u).id == "u3");
    CHECK(d.is_hve_user(*u));
    CHECK_FALSE(d.is_hve_user(*d.find_user("u1")));

    CHECK(d.find_groups_by_name("SAME NAME").size() == 2);
    CHECK(d.find_groups_by_name("outer").size() == 1);

    CHECK(Directory::normalise_address("SMTP:Scanner@Contoso.COM") == "scanner@contoso.com");
    CHECK(d.recipients_with_address("scanner@contoso.com").size() == 2);
    CHECK(d.recipients_with_address("smtp:ALICE@contoso.com").size() == 1);
    CHECK(d.recipients_with_address("/o=x").empty());
}

TEST_CASE("directory: an HVE account without an Entra id falls back to its address, an unknown id is unlinked") {
    auto doc = nested_tenant();
    doc["exchange"]["hveAccounts"] = {{{"PrimarySmtpAddress", "hve@contoso.com"}},
                                      {{"PrimarySmtpAddress", "nobody@contoso.com"}},
                                      {{"PrimarySmtpAddress", "hve@contoso.com"}, {"ExternalDirectoryObjectId", "gone"}}};
    auto snapshot = testsupport::snapshot_from(doc);
    Directory d(snapshot);
    CHECK(d.user_of_hve((*snapshot.hveAccounts)[0]).has_value());
    CHECK_FALSE(d.user_of_hve((*snapshot.hveAccounts)[1]).has_value());
    // The id names an object the snapshot does not have: the user with that address is someone else.
    CHECK_FALSE(d.user_of_hve((*snapshot.hveAccounts)[2]).has_value());
}

TEST_CASE("directory: deep nesting (depth 2000) and long cycles resolve without recursion") {
    json groups = json::array();
    const int depth = 2000;
    for (int i = 0; i < depth; ++i) {
        json members = json::array();
        if (i + 1 < depth) members.push_back(member("group", "g" + std::to_string(i + 1)));
        else members.push_back(member("user", "u1"));
        if (i == depth - 1) members.push_back(member("group", "g0"));  // close a cycle through every group
        groups.push_back({{"id", "g" + std::to_string(i)}, {"displayName", "G" + std::to_string(i)}, {"members", members}});
    }
    json doc = {{"snapshotVersion", 1}, {"graph", {{"users", {user("u1", "a@x.com")}}, {"groups", groups}}}};
    auto snapshot = testsupport::snapshot_from(doc);
    Directory d(snapshot);
    CHECK(d.transitive_groups(0).size() == static_cast<std::size_t>(depth));
    CHECK(d.membership_path(0, *d.find_group("g0")).size() == static_cast<std::size_t>(depth));
}
