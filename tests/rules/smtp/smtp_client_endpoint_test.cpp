#include "rules/rule_test_support.hpp"
#include "smtp/smtp_rules.hpp"
#include <tenantscan/smtp_clients.hpp>

using namespace rulestest;

namespace {

json client(const std::string& name, const std::string& host, json port, const std::string& security,
            const std::string& auth, const std::string& username) {
    return {{"name", name}, {"host", host}, {"port", port}, {"security", security}, {"auth", auth}, {"username", username}};
}

json document(json clients) {
    json doc = tenant({{"users", json::array()}},
                      {{"hveAccounts", {hve_account("b3000000-0000-4000-8000-000000000001", "hve@contoso.com")}},
                       {"acceptedDomains", {{{"DomainName", "contoso.com"}}}}});
    if (!clients.is_null()) doc["smtpClients"] = std::move(clients);
    return doc;
}

std::vector<Finding> scan(const json& doc, const std::string& asOf = "2026-11-27") {
    return run_rule(tenantscan::rules::make_smtp_client_endpoint_rule(), doc, as_of(asOf));
}

}  // namespace

TEST_CASE("smtp-client-endpoint: registered, and its doc page matches its metadata") {
    check_registered_and_documented("smtp-client-endpoint", "rules/smtp/smtp_client_endpoint.md");
}

TEST_CASE("smtp-client-endpoint: each misconfiguration fails with its own severity") {
    const auto findings = scan(document({
        client("basic-exo", "smtp.office365.com", 587, "starttls", "basic", "app@contoso.com"),
        client("basic-legacy", "SMTP-LEGACY.office365.com.", 587, "starttls", "basic", "app@contoso.com"),
        client("hve-on-exo", "smtp.office365.com", 587, "starttls", "basic", "hve@contoso.com"),
        client("hve-old-host", "smtp-hve.office365.com", 587, "starttls", "basic", "hve@contoso.com"),
        client("hve-port-25", "smtp.hve.mx.microsoft", 25, "none", "basic", "hve@contoso.com"),
        client("acs-tls-465", "smtp.azurecomm.net", 465, "tls", "basic", "shop.1a2b"),
        client("not-hve-on-hve", "smtp.hve.mx.microsoft", 587, "starttls", "basic", "app@contoso.com"),
    }));
    REQUIRE(findings.size() == 7);
    auto check = [&](const std::string& name, Severity severity, const std::string& text) {
        Finding f = finding_for(findings, name);
        INFO(name << ": " << f.message);
        CHECK(f.status == Status::Fail);
        CHECK(f.severity == severity);
        CHECK(contains(f.message, text));
        CHECK(f.subject.kind == "smtpClient");
        CHECK(!f.remediation.empty());
    };
    check("basic-exo", Severity::High, "Basic SMTP AUTH to smtp.office365.com stops under schedule 2026-01: 34 days left until 2026-12-31");
    check("basic-legacy", Severity::High, "Basic SMTP AUTH to SMTP-LEGACY.office365.com.");
    check("hve-on-exo", Severity::High, "HVE accounts do not authenticate at smtp.office365.com");
    check("hve-old-host", Severity::Low, "smtp-hve.office365.com is being deprecated");
    check("hve-port-25", Severity::Medium, "only on port 587 with STARTTLS, not port 25 with none");
    check("acs-tls-465", Severity::Medium, "not port 465 with tls");
    check("not-hve-on-hve", Severity::High, "app@contoso.com is not an HVE account");
    CHECK(contains(finding_for(findings, "hve-old-host").remediation, "change the host to smtp.hve.mx.microsoft"));
}

TEST_CASE("smtp-client-endpoint: Basic on Exchange Online is critical once the cut-off has passed") {
    Finding f = single(scan(document({client("basic-exo", "smtp.office365.com", 587, "starttls", "basic", "app@contoso.com")}),
                            "2027-01-05"));
    CHECK(f.severity == Severity::Critical);
    CHECK(contains(f.message, "disabled by default since 2026-12-31"));
}

TEST_CASE("smtp-client-endpoint: OAuth, the HVE endpoint, ACS and other hosts pass, with a target") {
    const auto findings = scan(document({
        client("oauth-exo", "smtp.office365.com", 587, "starttls", "oauth", "app@contoso.com"),
        client("hve-ok", "smtp.hve.mx.microsoft", 587, "starttls", "basic", "HVE@contoso.com"),
        client("acs-ok", "smtp.azurecomm.net", 587, "starttls", "basic", "shop.1a2b"),
        client("relay", "relay.contoso.com", 25, "none", "none", ""),
    }));
    for (const auto& f : findings) {
        INFO(f.subject.name << ": " << f.message);
        CHECK(f.status == Status::Pass);
        CHECK(f.evidence["target"].is_string());
    }
    CHECK(contains(finding_for(findings, "hve-ok").evidence["target"].get<std::string>(), "plan OAuth"));
}

TEST_CASE("smtp-client-endpoint: a bad inventory entry is an error naming where it is, nothing is dropped") {
    const auto findings = scan(document({client("ok", "relay.contoso.com", 25, "none", "none", ""),
                                         client("bad", "smtp.office365.com", "twenty-five", "ssl", "basic", "")}));
    REQUIRE(findings.size() == 2);
    Finding f = finding_for(findings, "bad");
    CHECK(f.status == Status::Error);
    CHECK(contains(f.message, "inline.json: /smtpClients/1"));
    CHECK(contains(f.message, "port 'twenty-five'"));
    CHECK(contains(f.message, "security 'ssl'"));
    CHECK(contains(f.message, "username is missing"));
}

TEST_CASE("smtp-client-endpoint: no inventory or an empty one → not-applicable, no HVE accounts section → error") {
    CHECK(single(scan(document(nullptr))).status == Status::NotApplicable);
    CHECK(single(scan(document(json::array()))).status == Status::NotApplicable);
    json doc = document(json::array());
    doc["exchange"].erase("hveAccounts");
    CHECK(single(scan(doc)).status == Status::Error);
}

TEST_CASE("smtp-client-endpoint: --clients (ScanOptions::smtpClients) replaces the snapshot's inventory") {
    tenantscan::ScanOptions options;
    options.asOf = "2026-11-27";
    options.smtpClients = std::make_shared<tenantscan::SmtpClientInventory>(tenantscan::parse_smtp_clients_csv(
        "name,host,port,security,auth,username\nPrinter,smtp.office365.com,587,starttls,basic,p@contoso.com\n",
        "clients.csv"));
    const auto findings = run_rule(tenantscan::rules::make_smtp_client_endpoint_rule(),
                                   document({client("from-snapshot", "relay.contoso.com", 25, "none", "none", "")}), options);
    Finding f = single(findings);
    CHECK(f.subject.name == "Printer");
    CHECK(f.evidence["client"]["location"] == "clients.csv:2");
}

// Microsoft: SMTP AUTH client submission to smtp.office365.com on "Port 587 (recommended) or port
// 25", TLS/StartTLS enabled ("How to set up a multifunction device or application to send email
// using Microsoft 365 or Office 365").
TEST_CASE("smtp-client-endpoint: Exchange Online client submission on port 25 with STARTTLS is a documented setting") {
    const auto findings = scan(document({
        client("oauth-25", "smtp.office365.com", 25, "starttls", "oauth", "app@contoso.com"),
        client("oauth-25-plain", "smtp.office365.com", 25, "none", "oauth", "app@contoso.com"),
        client("oauth-465", "smtp.office365.com", 465, "tls", "oauth", "app@contoso.com"),
        client("basic-25", "smtp.office365.com", 25, "starttls", "basic", "app@contoso.com"),
    }));
    CHECK(finding_for(findings, "oauth-25").status == Status::Pass);
    const Finding plain = finding_for(findings, "oauth-25-plain");
    CHECK(plain.status == Status::Fail);
    CHECK(contains(plain.message, "port 587 (recommended) or 25 with STARTTLS"));
    CHECK(finding_for(findings, "oauth-465").status == Status::Fail);
    const Finding basic = finding_for(findings, "basic-25");  // fails for Basic, not for the port
    CHECK(basic.status == Status::Fail);
    CHECK_FALSE(contains(basic.message, "port"));
}

// GCC High / DoD (smtp.office365.us) and 21Vianet (smtp.partner.outlook.cn) are Exchange Online
// too, with their own schedule: never "not Exchange Online, pass".
TEST_CASE("smtp-client-endpoint: sovereign-cloud hosts are known: Basic is review naming the cloud, never pass") {
    const auto findings = scan(document({
        client("gcch-basic", "smtp.office365.us", 587, "starttls", "basic", "app@contoso.com"),
        client("china-basic", "SMTP.partner.outlook.cn.", 587, "starttls", "basic", "app@contoso.com"),
        client("gcch-oauth", "smtp.office365.us", 587, "starttls", "oauth", "app@contoso.com"),
        client("gcch-none", "smtp.office365.us", 587, "starttls", "none", ""),
        client("gcch-hve", "smtp.office365.us", 587, "starttls", "basic", "hve@contoso.com"),
        client("gcch-plain", "smtp.office365.us", 2525, "none", "basic", "app@contoso.com"),
    }));
    const Finding gcch = finding_for(findings, "gcch-basic");
    CHECK(gcch.status == Status::Review);
    CHECK(contains(gcch.message, "GCC High"));
    CHECK(contains(gcch.message, "unknown"));
    CHECK(gcch.evidence["cloud"] == "Office 365 GCC High / DoD (US Government)");
    CHECK_FALSE(gcch.remediation.empty());
    const Finding china = finding_for(findings, "china-basic");
    CHECK(china.status == Status::Review);
    CHECK(contains(china.message, "21Vianet"));
    CHECK(finding_for(findings, "gcch-oauth").status == Status::Pass);
    CHECK(finding_for(findings, "gcch-none").status == Status::Fail);
    CHECK(finding_for(findings, "gcch-hve").status == Status::Fail);
    const Finding plain = finding_for(findings, "gcch-plain");
    CHECK(plain.status == Status::Fail);
    CHECK(contains(plain.message, "GCC High"));  // the unknown schedule is said beside the port problem
}
