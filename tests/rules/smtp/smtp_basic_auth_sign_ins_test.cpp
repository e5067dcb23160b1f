#include "rules/rule_test_support.hpp"
#include "smtp/smtp_rules.hpp"

using namespace rulestest;

namespace {

const std::string kErp = "b1000000-0000-4000-8000-000000000001";
const std::string kHve = "b1000000-0000-4000-8000-000000000002";

json smtp_sign_in(const std::string& id, const std::string& userId, const std::string& upn, const std::string& ip,
                  const std::string& when, int errorCode = 0, const std::string& app = "Authenticated SMTP") {
    json s = sign_in(userId, upn, ip, "NL");
    s["id"] = id;
    s["createdDateTime"] = when;
    s["clientAppUsed"] = app;
    s["status"] = {{"errorCode", errorCode}, {"failureReason", errorCode ? "Blocked by Conditional Access." : "Other."}};
    return s;
}

json document(json signIns, json extraExchange = json::object()) {
    json exchange = {{"hveAccounts", {hve_account(kHve, "scanner-hve@contoso.com")}}};
    exchange.update(extraExchange);
    return tenant({{"users", {user(kErp, "erp@contoso.com"), user(kHve, "scanner-hve@contoso.com")}},
                   {"signIns", std::move(signIns)}},
                  exchange);
}

std::vector<Finding> scan(const json& doc, const std::string& asOf = "2026-11-27", const std::string& schedule = "") {
    tenantscan::ScanOptions options = as_of(asOf);
    options.schedule = schedule;
    return run_rule(tenantscan::rules::make_smtp_basic_auth_sign_ins_rule(), doc, options);
}

}  // namespace

TEST_CASE("smtp-basic-auth-sign-ins: registered, and its doc page matches its metadata") {
    check_registered_and_documented("smtp-basic-auth-sign-ins", "rules/smtp/smtp_basic_auth_sign_ins.md");
}

TEST_CASE("smtp-basic-auth-sign-ins: a non-HVE account with Authenticated SMTP sign-ins fails, with its evidence") {
    const auto findings = scan(document({smtp_sign_in("1", kErp, "erp@contoso.com", "192.0.2.41", "2026-11-20T07:00:00Z"),
                                         smtp_sign_in("2", kErp, "erp@contoso.com", "192.0.2.42", "2026-11-24T07:00:00Z", 53003),
                                         smtp_sign_in("3", kErp, "erp@contoso.com", "192.0.2.41", "2026-11-22T07:00:00Z"),
                                         smtp_sign_in("4", kHve, "scanner-hve@contoso.com", "192.0.2.50", "2026-11-22T07:00:00Z"),
                                         smtp_sign_in("5", kErp, "erp@contoso.com", "192.0.2.99", "2026-11-22T07:00:00Z", 0,
                                                      "IMAP4")}));
    REQUIRE(findings.size() == 1);  // the HVE account and the IMAP sign-in are not this rule's business
    const Finding& f = findings.front();
    CHECK(f.status == Status::Fail);
    CHECK(f.severity == Severity::High);
    CHECK(f.subject.kind == "user");
    CHECK(f.subject.id == kErp);
    CHECK(f.subject.name == "erp@contoso.com");
    CHECK(contains(f.message, "3 times between 2026-11-20T07:00:00Z and 2026-11-24T07:00:00Z (2 succeeded, 1 failed)"));
    CHECK(contains(f.message, "34 days left until 2026-12-31"));
    const json& s = f.evidence["signIns"];
    CHECK(s["signIns"] == 3);
    CHECK(s["successes"] == 2);
    CHECK(s["failures"][0]["count"] == 1);
    CHECK(contains(s["failures"][0]["error"].get<std::string>(), "53003"));
    CHECK(s["sourceIps"] == json::array({"192.0.2.41 (NL)", "192.0.2.42 (NL)"}));
    CHECK(f.evidence["schedule"]["id"] == "2026-01");
    CHECK(contains(f.remediation, "Azure Communication Services"));
    CHECK(contains(f.remediation, "192.0.2.41"));
}

TEST_CASE("smtp-basic-auth-sign-ins: severity follows the schedule phases") {
    const json doc = document({smtp_sign_in("1", kErp, "erp@contoso.com", "192.0.2.41", "2026-11-20T07:00:00Z")});
    SUBCASE("2026-01 before the cut-off: high") {
        CHECK(single(scan(doc, "2026-12-30")).severity == Severity::High);
        CHECK(contains(single(scan(doc, "2026-12-30")).message, "1 day left until 2026-12-31"));
    }
    SUBCASE("2026-01 on the cut-off day: critical") {
        Finding f = single(scan(doc, "2026-12-31"));
        CHECK(f.severity == Severity::Critical);
        CHECK(contains(f.message, "disabled by default since 2026-12-31"));
    }
    SUBCASE("2025-06 between its two dates: critical, with the next one named") {
        Finding f = single(scan(doc, "2026-03-15", "2025-06"));
        CHECK(f.severity == Severity::Critical);
        CHECK(contains(f.message, "rejected since 2026-03-01"));
        CHECK(contains(f.message, "46 days left until 2026-04-30"));
    }
    SUBCASE("custom dates") {
        CHECK(single(scan(doc, "2026-11-27", "2027-03-31")).severity == Severity::High);
        CHECK(single(scan(doc, "2027-04-01", "2027-03-31")).severity == Severity::Critical);
    }
    SUBCASE("an unknown schedule makes the rule an error, never a pass") {
        Finding f = single(scan(doc, "2026-11-27", "2099-13"));
        CHECK(f.status == Status::Error);
        CHECK(contains(f.message, "2026-01"));
    }
}

TEST_CASE("smtp-basic-auth-sign-ins: the inventory gives each device its own target") {
    json doc = document({smtp_sign_in("1", kErp, "erp@contoso.com", "192.0.2.41", "2026-11-20T07:00:00Z")},
                        {{"acceptedDomains", {{{"DomainName", "contoso.com"}}}}});
    doc["smtpClients"] = {{{"name", "ERP"}, {"host", "smtp.office365.com"}, {"port", 587}, {"security", "starttls"},
                           {"auth", "basic"}, {"username", "erp@contoso.com"}, {"recipients", "contoso.com;fabrikam.com"}},
                          {{"name", "Label printer"}, {"host", "smtp.office365.com"}, {"port", 587}, {"security", "starttls"},
                           {"auth", "basic"}, {"username", "ERP@contoso.com"}, {"recipients", "contoso.com"}}};
    Finding f = single(scan(doc));
    CHECK(contains(f.remediation, "'ERP' (smtp.office365.com:587): move it to Azure Communication Services"));
    CHECK(contains(f.remediation, "'Label printer' (smtp.office365.com:587): move it to a High Volume Email account"));
}

TEST_CASE("smtp-basic-auth-sign-ins: sign-ins present with no such account → one tenant pass") {
    SUBCASE("only HVE accounts") {
        Finding f = single(scan(document({smtp_sign_in("4", kHve, "scanner-hve@contoso.com", "192.0.2.50", "2026-11-22T07:00:00Z")})));
        CHECK(f.status == Status::Pass);
        CHECK(f.subject.kind == "tenant");
        CHECK(contains(f.message, "come from HVE accounts"));
    }
    SUBCASE("an HVE account recognised by its address when the sign-in has no user id") {
        Finding f = single(scan(document({smtp_sign_in("4", "", "SCANNER-HVE@contoso.com", "192.0.2.50", "2026-11-22T07:00:00Z")})));
        CHECK(f.status == Status::Pass);
    }
    SUBCASE("no Authenticated SMTP sign-in at all") {
        Finding f = single(scan(document(json::array())));
        CHECK(f.status == Status::Pass);
        CHECK(contains(f.message, "include no 'Authenticated SMTP' sign-in"));
    }
}

TEST_CASE("smtp-basic-auth-sign-ins: sign-ins not collected → error, never pass") {
    json doc = document(json::array());
    doc["graph"].erase("signIns");
    check_section_missing(scan(doc), "/graph/signIns");
}

// A sign-in names its user by userId (Microsoft's signIn resource: userId is the user's object id,
// userPrincipalName only what was typed): an HVE account's UPN beside another user's id does not
// make the sign-in the HVE account's.
TEST_CASE("smtp-basic-auth-sign-ins: a sign-in is its userId's, even when its UPN is an HVE account's") {
    const auto findings = scan(document({smtp_sign_in("s1", kErp, "scanner-hve@contoso.com", "192.0.2.41",
                                                      "2026-11-20T07:00:00Z")}));
    const Finding f = finding_for(findings, "erp@contoso.com");
    CHECK(f.status == Status::Fail);
    CHECK(f.subject.id == kErp);
    // And the HVE account's own sign-in (its id, whatever UPN) stays out.
    const auto hveOnly = scan(document({smtp_sign_in("s2", kHve, "typo@contoso.com", "192.0.2.41",
                                                     "2026-11-20T07:00:00Z")}));
    CHECK(single(hveOnly).status == Status::Pass);
}

TEST_CASE("smtp-basic-auth-sign-ins: one finding per user, whether its sign-ins carry id and UPN or the UPN only") {
    SUBCASE("the user is in /graph/users") {
        const auto findings = scan(document({
            smtp_sign_in("s1", kErp, "erp@contoso.com", "192.0.2.41", "2026-11-20T07:00:00Z"),
            smtp_sign_in("s2", "", "ERP@contoso.com", "192.0.2.41", "2026-11-21T07:00:00Z"),
        }));
        REQUIRE(findings.size() == 1);
        CHECK(findings[0].subject.id == kErp);
        CHECK(findings[0].evidence["signIns"]["signIns"] == 2);
    }
    SUBCASE("the user is not in /graph/users: the UPN seen beside its id joins them") {
        const std::string ghost = "b1000000-0000-4000-8000-0000000000ff";
        const auto findings = scan(document({
            smtp_sign_in("s1", "", "ghost@contoso.com", "192.0.2.41", "2026-11-21T07:00:00Z"),
            smtp_sign_in("s2", ghost, "ghost@contoso.com", "192.0.2.41", "2026-11-20T07:00:00Z"),
        }));
        REQUIRE(findings.size() == 1);
        CHECK(findings[0].subject.id == ghost);
        CHECK(findings[0].subject.name == "ghost@contoso.com");
        CHECK(findings[0].evidence["signIns"]["signIns"] == 2);
    }
}

TEST_CASE("smtp-basic-auth-sign-ins: a disabled sender still fails, and the message says it cannot sign in") {
    json doc = document({smtp_sign_in("s1", kErp, "erp@contoso.com", "192.0.2.41", "2026-11-20T07:00:00Z")});
    doc["graph"]["users"][0]["accountEnabled"] = false;
    const Finding f = single(scan(doc));
    CHECK(f.status == Status::Fail);
    CHECK(contains(f.message, "disabled"));
    CHECK(contains(f.message, "cannot sign in"));
    CHECK(f.evidence["accountEnabled"] == false);
    CHECK(contains(f.remediation, "-AccountEnabled:$true"));
}
