#include "rules/rule_test_support.hpp"
#include "smtp/smtp_rules.hpp"

using namespace rulestest;

namespace {

json hve_client(const std::string& name, json recipients, json max = nullptr, const std::string& username = "hve@contoso.com") {
    json c = {{"name", name}, {"host", "smtp.hve.mx.microsoft"}, {"port", 587}, {"security", "starttls"},
              {"auth", "basic"}, {"username", username}, {"recipients", std::move(recipients)}};
    if (!max.is_null()) c["maxRecipientsPerMessage"] = max;
    return c;
}

json document(json clients, bool withDomains = true) {
    json exchange = {{"hveAccounts", {hve_account("b4000000-0000-4000-8000-000000000001", "hve@contoso.com")}}};
    if (withDomains) exchange["acceptedDomains"] = {{{"DomainName", "contoso.com"}}, {{"DomainName", "Contoso.onmicrosoft.com"}}};
    json doc = tenant({{"users", json::array()}}, exchange);
    if (!clients.is_null()) doc["smtpClients"] = std::move(clients);
    return doc;
}

std::vector<Finding> scan(const json& doc) { return run_rule(tenantscan::rules::make_smtp_client_recipients_rule(), doc); }

}  // namespace

TEST_CASE("smtp-client-recipients: registered, and its doc page matches its metadata") {
    check_registered_and_documented("smtp-client-recipients", "rules/smtp/smtp_client_recipients.md");
}

TEST_CASE("smtp-client-recipients: external recipients and more than 50 per message fail") {
    const auto findings = scan(document({
        hve_client("external", "contoso.com;partner@fabrikam.com", 5),
        hve_client("too-many", json::array({"contoso.com"}), 51),
        hve_client("both", "@fabrikam.com", 80),
    }));
    REQUIRE(findings.size() == 3);
    Finding external = finding_for(findings, "external");
    CHECK(external.status == Status::Fail);
    CHECK(external.severity == Severity::High);
    CHECK(contains(external.message, "outside the tenant's accepted domains (partner@fabrikam.com)"));
    CHECK(contains(external.message, "550 5.5.105"));
    CHECK(contains(external.remediation, "Azure Communication Services"));
    CHECK(external.evidence["externalRecipients"] == json::array({"partner@fabrikam.com"}));
    Finding tooMany = finding_for(findings, "too-many");
    CHECK(tooMany.status == Status::Fail);
    CHECK(tooMany.severity == Severity::Medium);
    CHECK(contains(tooMany.message, "up to 51 recipients per message"));
    Finding both = finding_for(findings, "both");
    CHECK(both.severity == Severity::High);
    CHECK(contains(both.message, "550 5.5.105"));
    CHECK(contains(both.message, "at most 50"));
}

TEST_CASE("smtp-client-recipients: internal only, bounded → pass, unknowns → review") {
    const auto findings = scan(document({
        hve_client("listed", "a@contoso.com;B@CONTOSO.ONMICROSOFT.COM"),
        hve_client("domain-with-max", "contoso.com", 10),
        hve_client("domain-no-max", "contoso.com"),
        hve_client("none-listed", json::array()),
        {{"name", "not-hve"}, {"host", "smtp.office365.com"}, {"port", 587}, {"security", "starttls"}, {"auth", "basic"},
         {"username", "app@contoso.com"}, {"recipients", "customer@example.org"}},
    }));
    REQUIRE(findings.size() == 4);  // the non-HVE device is smtp-client-endpoint's business
    CHECK(finding_for(findings, "listed").status == Status::Pass);
    CHECK(contains(finding_for(findings, "listed").message, "at most 2 per message"));
    CHECK(finding_for(findings, "domain-with-max").status == Status::Pass);
    Finding noMax = finding_for(findings, "domain-no-max");
    CHECK(noMax.status == Status::Review);
    CHECK(contains(noMax.message, "maxRecipientsPerMessage"));
    Finding none = finding_for(findings, "none-listed");
    CHECK(none.status == Status::Review);
    CHECK(contains(none.message, "lists no recipients"));
}

TEST_CASE("smtp-client-recipients: not-applicable without inventory or HVE devices, error on bad rows and missing sections") {
    CHECK(single(scan(document(nullptr))).status == Status::NotApplicable);
    CHECK(single(scan(document({{{"name", "relay"}, {"host", "relay"}, {"port", 25}, {"security", "none"},
                                  {"auth", "none"}}}))).status == Status::NotApplicable);
    Finding bad = single(scan(document({hve_client("bad", "not an address")})));
    CHECK(bad.status == Status::Error);
    CHECK(contains(bad.message, "recipient 'not an address' is neither an email address nor a domain"));
    CHECK(single(scan(document(json::array(), false))).status == Status::Error);
}
