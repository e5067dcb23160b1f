// smtp-direct-send-available, from Microsoft's documentation (docs/microsoft-facts.md §10): Direct Send
// is anonymous port-25 mail to the tenant's MX endpoint, from an accepted domain, to the
// organization's own mailboxes; RejectDirectSend true rejects it.
#include "rules/rule_test_support.hpp"
#include "smtp/smtp_rules.hpp"

using namespace rulestest;

namespace {

json direct_send(const std::string& name, const std::string& from = "printer@contoso.com",
                 json recipients = "facilities@contoso.com") {
    return {{"name", name},      {"host", "contoso-com.mail.protection.outlook.com"},
            {"port", 25},        {"security", "starttls"},
            {"auth", "none"},    {"from", from},
            {"recipients", std::move(recipients)}, {"path", "direct-send"}};
}

json document(json clients, json rejectDirectSend) {
    json organizationConfig = {{"DefaultAuthenticationPolicy", nullptr}};
    if (!rejectDirectSend.is_discarded()) organizationConfig["RejectDirectSend"] = std::move(rejectDirectSend);
    json doc = tenant(json::object(), {{"organizationConfig", organizationConfig},
                                       {"acceptedDomains", {{{"DomainName", "contoso.com"}, {"Default", true}},
                                                            {{"DomainName", "contoso.onmicrosoft.com"}}}}});
    doc["smtpClients"] = std::move(clients);
    return doc;
}

std::vector<Finding> scan(const json& doc) { return run_rule(tenantscan::rules::make_smtp_direct_send_available_rule(), doc); }

}  // namespace

TEST_CASE("smtp-direct-send-available: registered, and its doc page matches its metadata") {
    check_registered_and_documented("smtp-direct-send-available", "rules/smtp/smtp_direct_send_available.md");
}

TEST_CASE("smtp-direct-send-available: RejectDirectSend true fails every device on Direct Send, naming the setting") {
    // Exports write the boolean as true or as PowerShell's "True".
    for (const json& reject : {json(true), json("True")}) {
        const Finding f = finding_for(scan(document({direct_send("Badge printer")}, reject)), "Badge printer");
        CHECK(f.status == Status::Fail);
        CHECK(f.severity == Severity::High);
        CHECK(contains(f.message, "RejectDirectSend"));
        CHECK(f.evidence["rejectDirectSend"] == true);
        CHECK(contains(f.remediation, "inbound connector"));
    }
}

TEST_CASE("smtp-direct-send-available: allowed, accepted sender, internal recipients passes") {
    const Finding f = finding_for(scan(document({direct_send("Badge printer", "Badges@Contoso.com")}, false)),
                                  "Badge printer");
    CHECK(f.status == Status::Pass);
    CHECK(f.evidence["rejectDirectSend"] == false);
}

TEST_CASE("smtp-direct-send-available: a sender outside the accepted domains, or external recipients, fail") {
    const auto findings = scan(document({direct_send("Foreign sender", "alerts@fabrikam.com"),
                                         direct_send("External mail", "printer@contoso.com", "partner@fabrikam.com")},
                                        false));
    const Finding sender = finding_for(findings, "Foreign sender");
    CHECK(sender.status == Status::Fail);
    CHECK(contains(sender.message, "alerts@fabrikam.com"));
    CHECK(contains(sender.message, "accepted domain"));
    const Finding external = finding_for(findings, "External mail");
    CHECK(external.status == Status::Fail);
    CHECK(contains(external.message, "partner@fabrikam.com"));
    CHECK(external.evidence["externalRecipients"] == json::array({"partner@fabrikam.com"}));
}

TEST_CASE("smtp-direct-send-available: RejectDirectSend unknown (absent or null) or no sender is review, not pass") {
    for (const json& reject : {json(json::value_t::discarded), json(nullptr)}) {
        const Finding f = finding_for(scan(document({direct_send("Badge printer")}, reject)), "Badge printer");
        CHECK(f.status == Status::Review);
        CHECK(contains(f.message, "RejectDirectSend"));
    }
    json noSender = direct_send("No sender");
    noSender.erase("from");
    CHECK(finding_for(scan(document({noSender}, false)), "No sender").status == Status::Review);
}

TEST_CASE("smtp-direct-send-available: the MX endpoint on port 25 without authentication, else fail") {
    json wrongPort = direct_send("Port 587");
    wrongPort["port"] = 587;
    json withAuth = direct_send("With auth");
    withAuth["auth"] = "basic";
    withAuth["username"] = "printer@contoso.com";
    json wrongHost = direct_send("Wrong host");
    wrongHost["host"] = "smtp.office365.com";
    const auto findings = scan(document({wrongPort, withAuth, wrongHost}, false));
    for (const char* name : {"Port 587", "With auth", "Wrong host"}) {
        CAPTURE(name);
        CHECK(finding_for(findings, name).status == Status::Fail);
    }
}

TEST_CASE("smtp-direct-send-available: an MX-endpoint entry without path is review, no such entry is not applicable") {
    json unsaid = direct_send("Unsaid");
    unsaid.erase("path");
    const Finding f = finding_for(scan(document({unsaid}, false)), "Unsaid");
    CHECK(f.status == Status::Review);
    CHECK(contains(f.remediation, "path"));

    const json hve = {{"name", "HVE scanner"}, {"host", "smtp.hve.mx.microsoft"}, {"port", 587},
                      {"security", "starttls"}, {"auth", "oauth"}, {"username", "scan@contoso.com"}};
    CHECK(single(scan(document({hve}, true))).status == Status::NotApplicable);
}

TEST_CASE("smtp-direct-send-available: organizationConfig or acceptedDomains not collected is an error") {
    json doc = document({direct_send("Badge printer")}, false);
    doc["exchange"].erase("organizationConfig");
    doc["notCollected"] = {{"/exchange/organizationConfig", "403 Forbidden"}};
    check_section_missing(scan(doc), "/exchange/organizationConfig");
}
