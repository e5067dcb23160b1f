#include "rules/rule_test_support.hpp"
#include "smtp/smtp_rules.hpp"

using namespace rulestest;

namespace {

const std::string kErp = "b2000000-0000-4000-8000-000000000001";
const std::string kHve = "b2000000-0000-4000-8000-000000000002";

json cas(const std::string& id, const std::string& address, json disabled) {
    return {{"Identity", address.substr(0, address.find('@'))},
            {"PrimarySmtpAddress", address},
            {"ExternalDirectoryObjectId", id},
            {"SmtpClientAuthenticationDisabled", disabled}};
}

json document(json orgDisabled, json casMailboxes, json signIns = nullptr) {
    if (signIns.is_null())
        signIns = {sign_in(kErp, "erp@contoso.com", "192.0.2.41", "NL"), sign_in(kHve, "hve@contoso.com", "192.0.2.42", "NL")};
    return tenant({{"users", {user(kErp, "erp@contoso.com"), user(kHve, "hve@contoso.com")}}, {"signIns", signIns}},
                  {{"hveAccounts", {hve_account(kHve, "hve@contoso.com")}},
                   {"transportConfig", {{"SmtpClientAuthenticationDisabled", orgDisabled}}},
                   {"casMailboxes", std::move(casMailboxes)}});
}

std::vector<Finding> scan(const json& doc) {
    return run_rule(tenantscan::rules::make_smtp_auth_switches_rule(), doc);
}

}  // namespace

TEST_CASE("smtp-auth-switches: registered, and its doc page matches its metadata") {
    check_registered_and_documented("smtp-auth-switches", "rules/smtp/smtp_auth_switches.md");
}

TEST_CASE("smtp-auth-switches: the mailbox value wins over the organization's, HVE accounts are left out") {
    SUBCASE("mailbox true overrides org false → fail, low") {
        Finding f = single(scan(document(false, {cas(kErp, "erp@contoso.com", true), cas(kHve, "hve@contoso.com", true)})));
        CHECK(f.subject.name == "erp@contoso.com");
        CHECK(f.status == Status::Fail);
        CHECK(f.severity == Severity::Low);
        CHECK(contains(f.message, "set on the mailbox"));
        CHECK(f.evidence["effectiveFrom"] == "mailbox");
        CHECK(contains(f.remediation, "Set-CASMailbox -Identity erp@contoso.com -SmtpClientAuthenticationDisabled $false"));
    }
    SUBCASE("mailbox null inherits org true → fail") {
        Finding f = single(scan(document(true, {cas(kErp, "erp@contoso.com", nullptr)})));
        CHECK(f.status == Status::Fail);
        CHECK(f.evidence["effectiveFrom"] == "organization");
    }
    SUBCASE("mailbox false overrides org true → pass") {
        Finding f = single(scan(document(true, {cas(kErp, "erp@contoso.com", false)})));
        CHECK(f.status == Status::Pass);
        CHECK(f.evidence["effective"] == false);
    }
}

TEST_CASE("smtp-auth-switches: unknowns are reviews, named") {
    SUBCASE("no CAS mailbox entry") {
        Finding f = single(scan(document(false, json::array())));
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "no entry for erp@contoso.com"));
    }
    SUBCASE("inherits, and the organization value is not given") {
        Finding f = single(scan(document(nullptr, {cas(kErp, "erp@contoso.com", nullptr)})));
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "does not give the organization's value"));
    }
}

TEST_CASE("smtp-auth-switches: inventory entries on Exchange Online count as seen senders") {
    json doc = document(false, {cas("b2000000-0000-4000-8000-000000000003", "app@contoso.com", true)}, json::array());
    doc["smtpClients"] = {{{"name", "App"}, {"host", "smtp.office365.com"}, {"port", 587}, {"security", "starttls"},
                           {"auth", "oauth"}, {"username", "app@contoso.com"}},
                          {{"name", "Relay"}, {"host", "relay.contoso.com"}, {"port", 25}, {"security", "none"},
                           {"auth", "none"}}};
    Finding f = single(scan(doc));
    CHECK(f.subject.name == "app@contoso.com");
    CHECK(f.status == Status::Fail);
    CHECK(f.evidence["seenIn"] == json::array({"inventory: 'App' (oauth)"}));
}

TEST_CASE("smtp-auth-switches: nobody seen sending → not-applicable, missing sections → error") {
    Finding na = single(scan(document(true, json::array(), {sign_in(kHve, "hve@contoso.com", "192.0.2.42", "NL")})));
    CHECK(na.status == Status::NotApplicable);
    json doc = document(true, json::array());
    doc["exchange"].erase("casMailboxes");
    Finding error = single(scan(doc));
    CHECK(error.status == Status::Error);
    CHECK(contains(error.message, "/exchange/casMailboxes"));
}

// Strongest identifier first: the mailbox whose ExternalDirectoryObjectId is the account's decides,
// not an earlier mailbox that only shares its primary address (another Entra object).
TEST_CASE("smtp-auth-switches: the mailbox found by object id wins over one that only shares the address") {
    json other = cas("b2000000-0000-4000-8000-0000000000ee", "erp@contoso.com", false);  // another object, listed first
    json own = cas(kErp, "erp-old@contoso.com", true);
    Finding f = single(scan(document(false, {other, own})));
    CHECK(f.status == Status::Fail);
    CHECK(f.evidence["effectiveFrom"] == "mailbox");
    // Only a mailbox of another object holds the address: not this account's mailbox → review.
    Finding g = single(scan(document(false, {other})));
    CHECK(g.status == Status::Review);
}

TEST_CASE("smtp-auth-switches: a disabled account fails: it cannot sign in whatever the switch says") {
    json doc = document(false, {cas(kErp, "erp@contoso.com", false)});
    doc["graph"]["users"][0]["accountEnabled"] = false;
    Finding f = single(scan(doc));
    CHECK(f.status == Status::Fail);
    CHECK(contains(f.message, "disabled"));
    CHECK(f.evidence["accountEnabled"] == false);
    CHECK(contains(f.remediation, "-AccountEnabled:$true"));
}
