#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

using namespace rulestest;

namespace {

const std::string kScannerId = "a4000000-0000-4000-8000-000000000001";
const std::string kScanner = "scanner@contoso.com";

// Get-AuthenticationPolicy | ConvertTo-Json: AllowBasicAuthSmtp absent means blocked.
json auth_policy(const std::string& name, bool allowSmtp) {
    json p = {{"Identity", name},
              {"Name", name},
              {"DistinguishedName", "CN=" + name + ",CN=Auth Policies,CN=Configuration,CN=contoso.onmicrosoft.com,"
                                                   "CN=ConfigurationUnits,DC=EURPR01A001,DC=prod,DC=outlook,DC=com"}};
    if (allowSmtp) p["AllowBasicAuthSmtp"] = true;
    return p;
}

json exchange_user(const std::string& policyReference) {
    return {{"Identity", "scanner"},
            {"UserPrincipalName", kScanner},
            {"ExternalDirectoryObjectId", kScannerId},
            {"AuthenticationPolicy", policyReference.empty() ? json(nullptr) : json(policyReference)}};
}

json exchange(json policies, json users, const std::string& orgDefault = "") {
    return {{"hveAccounts", {hve_account(kScannerId, kScanner)}},
            {"authenticationPolicies", std::move(policies)},
            {"users", std::move(users)},
            {"organizationConfig",
             {{"Name", "contoso.onmicrosoft.com"},
              {"DefaultAuthenticationPolicy", orgDefault.empty() ? json(nullptr) : json(orgDefault)}}}};
}

std::vector<Finding> scan(const json& exchangeSection) {
    return run_rule(tenantscan::rules::make_hve_authentication_policy_rule(), tenant(json::object(), exchangeSection));
}

}  // namespace

TEST_CASE("hve-authentication-policy: registered, and its doc page matches its metadata") {
    check_registered_and_documented("hve-authentication-policy", "rules/hve/hve_authentication_policy.md");
}

TEST_CASE("hve-authentication-policy: the account's own policy blocks Basic SMTP → fail with the exact commands") {
    auto findings = scan(exchange({auth_policy("Block Basic Auth", false)}, {exchange_user("Block Basic Auth")}));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Fail);
    CHECK(f.severity == Severity::High);
    CHECK(f.message == "The authentication policy 'Block Basic Auth' (assigned to this HVE account) blocks Basic SMTP "
                       "AUTH: AllowBasicAuthSmtp is not set.");
    CHECK(f.evidence["effectivePolicy"]["name"] == "Block Basic Auth");
    CHECK(f.evidence["effectivePolicy"]["source"] == "account");
    CHECK(f.evidence["effectivePolicy"]["allowBasicAuthSmtp"] == false);
    const json expected = {"New-AuthenticationPolicy \"Allow Basic Auth SMTP\" -AllowBasicAuthSmtp",
                           "Set-User scanner@contoso.com -AuthenticationPolicy \"Allow Basic Auth SMTP\"",
                           "Set-User scanner@contoso.com -STSRefreshTokensValidFrom (Get-Date)"};
    CHECK(f.evidence["commands"] == expected);
    for (const auto& command : expected) CHECK(contains(f.remediation, command.get<std::string>()));
    CHECK(contains(f.remediation, "24 hours"));
    CHECK(contains(f.remediation, "30 minutes"));
}

TEST_CASE("hve-authentication-policy: the organization default blocks → fail, reusing a policy that already allows SMTP") {
    auto findings = scan(exchange({auth_policy("Block Basic Auth", false), auth_policy("Legacy SMTP senders", true)},
                                  {exchange_user("")}, "Block Basic Auth"));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Fail);
    CHECK(contains(f.message, "'Block Basic Auth' (the organization default)"));
    CHECK(f.evidence["effectivePolicy"]["source"] == "organizationDefault");
    CHECK(f.evidence["commands"] ==
          json({"Set-User scanner@contoso.com -AuthenticationPolicy \"Legacy SMTP senders\"",
                "Set-User scanner@contoso.com -STSRefreshTokensValidFrom (Get-Date)"}));
    CHECK_FALSE(contains(f.remediation, "New-AuthenticationPolicy"));
}

TEST_CASE("hve-authentication-policy: the recommended name is taken by a blocking policy → a free name is proposed") {
    auto findings = scan(exchange({auth_policy("Allow Basic Auth SMTP", false)}, {exchange_user("Allow Basic Auth SMTP")}));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Fail);
    CHECK(f.evidence["commands"][0] == "New-AuthenticationPolicy \"Allow Basic Auth SMTP 2\" -AllowBasicAuthSmtp");
}

TEST_CASE("hve-authentication-policy: the account's policy, given by distinguished name, allows Basic SMTP → pass") {
    json allow = auth_policy("Allow Basic Auth SMTP", true);
    auto findings = scan(exchange({auth_policy("Block Basic Auth", false), allow},
                                  {exchange_user(allow["DistinguishedName"].get<std::string>())}, "Block Basic Auth"));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Pass);
    CHECK(f.evidence["effectivePolicy"]["name"] == "Allow Basic Auth SMTP");
    CHECK(f.remediation.empty());
}

TEST_CASE("hve-authentication-policy: a policy DN is matched by its CN even when the DN differs in form") {
    auto findings = scan(exchange({auth_policy("Allow Basic Auth SMTP", true)},
                                  {exchange_user("cn=allow basic auth smtp,CN=Auth Policies,CN=Configuration")}));
    CHECK(finding_for(findings, kScanner).status == Status::Pass);
}

TEST_CASE("hve-authentication-policy: no own policy and no organization default → pass (this layer does not restrict)") {
    auto findings = scan(exchange({auth_policy("Block Basic Auth", false)}, {exchange_user("")}));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Pass);
    CHECK(contains(f.message, "No authentication policy applies"));
    CHECK(f.evidence["effectivePolicy"].is_null());
}

TEST_CASE("hve-authentication-policy: the assigned policy is not among the collected policies → review naming it") {
    auto findings = scan(exchange({auth_policy("Block Basic Auth", false)}, {exchange_user("Vendor SMTP")}));
    Finding f = finding_for(findings, kScanner);
    CHECK(f.status == Status::Review);
    CHECK(contains(f.message, "'Vendor SMTP'"));
    CHECK(f.evidence["effectivePolicy"]["found"] == false);
}

TEST_CASE("hve-authentication-policy: the account is missing from /exchange/users") {
    SUBCASE("every policy blocks and the default blocks → fail, with the unknown stated") {
        auto findings = scan(exchange({auth_policy("Block Basic Auth", false)}, json::array(), "Block Basic Auth"));
        Finding f = finding_for(findings, kScanner);
        CHECK(f.status == Status::Fail);
        CHECK(contains(f.message, "not in /exchange/users"));
        CHECK(f.evidence["exchangeUser"].is_null());
        CHECK(contains(f.evidence["note"].get<std::string>(), "own authentication policy is unknown"));
    }
    SUBCASE("the default allows but another policy blocks → review") {
        auto findings = scan(exchange({auth_policy("Block Basic Auth", false), auth_policy("Allow Basic Auth SMTP", true)},
                                      json::array(), "Allow Basic Auth SMTP"));
        Finding f = finding_for(findings, kScanner);
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "the organization default 'Allow Basic Auth SMTP' allows Basic SMTP AUTH"));
    }
    SUBCASE("no policy exists at all → pass") {
        auto findings = scan(exchange(json::array(), json::array()));
        CHECK(finding_for(findings, kScanner).status == Status::Pass);
    }
}

TEST_CASE("hve-authentication-policy: no HVE accounts → not-applicable, users not collected → error") {
    SUBCASE("no HVE accounts") {
        json ex = exchange(json::array(), json::array());
        ex["hveAccounts"] = json::array();
        Finding f = single(scan(ex));
        CHECK(f.status == Status::NotApplicable);
    }
    SUBCASE("/exchange/users not collected") {
        json ex = exchange(json::array(), json::array());
        ex.erase("users");
        check_section_missing(scan(ex), "/exchange/users");
    }
}
