// smtp-connector-relay-coverage, from Microsoft's documentation (docs/microsoft-facts.md §10): relay is
// accepted by an enabled OnPremises inbound connector whose SenderIPAddresses (single IPv4
// addresses, CIDR /24–/32) cover the sending public IP, or whose TlsSenderCertificateName matches
// the certificate the sender presents.
#include "rules/rule_test_support.hpp"
#include "smtp/smtp_rules.hpp"

using namespace rulestest;

namespace {

json relay(const std::string& name, const std::string& publicIp, const std::string& certificateName = "") {
    json c = {{"name", name}, {"host", "contoso-com.mail.protection.outlook.com"}, {"port", 25},
              {"security", "starttls"}, {"auth", "none"}, {"from", "copier@contoso.com"},
              {"recipients", "contoso.com;fabrikam.com"}, {"path", "relay"}};
    if (!publicIp.empty()) c["publicIp"] = publicIp;
    if (!certificateName.empty()) c["certificateName"] = certificateName;
    return c;
}

json connector(const std::string& name, json senderIps, json enabled = true, const std::string& type = "OnPremises",
               json certificate = nullptr) {
    return {{"Identity", name},
            {"Name", name},
            {"Enabled", std::move(enabled)},
            {"ConnectorType", type},
            {"SenderIPAddresses", std::move(senderIps)},
            {"TlsSenderCertificateName", std::move(certificate)},
            {"RequireTls", true},
            {"RestrictDomainsToIPAddresses", false}};
}

json document(json clients, json connectors) {
    json doc = tenant(json::object(), {{"inboundConnectors", std::move(connectors)}});
    doc["smtpClients"] = std::move(clients);
    return doc;
}

std::vector<Finding> scan(const json& doc) {
    return run_rule(tenantscan::rules::make_smtp_connector_relay_coverage_rule(), doc);
}

}  // namespace

TEST_CASE("smtp-connector-relay-coverage: registered, and its doc page matches its metadata") {
    check_registered_and_documented("smtp-connector-relay-coverage", "rules/smtp/smtp_connector_relay_coverage.md");
}

TEST_CASE("smtp-connector-relay-coverage: an enabled OnPremises connector covering the IP passes, naming it") {
    const auto findings = scan(document({relay("In range", "203.0.113.5"), relay("Single", "198.51.100.7")},
                                        {connector("Branch relay", {"203.0.113.0/28"}),
                                         // A one-element list exported unwrapped, as a bare string.
                                         connector("HQ relay", "198.51.100.7")}));
    const Finding inRange = finding_for(findings, "In range");
    CHECK(inRange.status == Status::Pass);
    CHECK(contains(inRange.message, "Branch relay"));
    CHECK(contains(inRange.message, "203.0.113.0/28"));
    CHECK(finding_for(findings, "Single").status == Status::Pass);
}

TEST_CASE("smtp-connector-relay-coverage: an IP outside every range, or no connector at all, fails") {
    const Finding outside =
        finding_for(scan(document({relay("Outside", "203.0.113.16")}, {connector("Branch relay", {"203.0.113.0/28"})})),
                    "Outside");
    CHECK(outside.status == Status::Fail);
    CHECK(outside.severity == Severity::High);
    CHECK(contains(outside.message, "no enabled OnPremises inbound connector covers it"));
    CHECK(contains(outside.remediation, "203.0.113.16"));
    CHECK(contains(outside.remediation, "SPF"));
    CHECK(finding_for(scan(document({relay("Nothing", "203.0.113.5")}, json::array())), "Nothing").status ==
          Status::Fail);
    // Connectors take IPv4 only: an IPv6 sender is never covered by address.
    CHECK(finding_for(scan(document({relay("IPv6", "2001:db8::5")}, {connector("Any", {"203.0.113.0/24"})})), "IPv6")
              .status == Status::Fail);
}

TEST_CASE("smtp-connector-relay-coverage: a disabled or Partner connector does not count") {
    const auto findings = scan(document(
        {relay("Disabled", "203.0.113.5"), relay("Partner", "192.0.2.9")},
        {connector("Old relay", {"203.0.113.5"}, false), connector("Partner in", {"192.0.2.0/24"}, true, "Partner")}));
    const Finding disabled = finding_for(findings, "Disabled");
    CHECK(disabled.status == Status::Fail);
    CHECK(contains(disabled.message, "Old relay"));
    CHECK(contains(disabled.message, "disabled"));
    CHECK(contains(disabled.remediation, "-Enabled $true"));
    const Finding partner = finding_for(findings, "Partner");
    CHECK(partner.status == Status::Fail);
    CHECK(contains(partner.message, "Partner"));
}

TEST_CASE("smtp-connector-relay-coverage: a certificate-based connector covers a device presenting that name over TLS") {
    const json cert = connector("Cert relay", json::array(), true, "OnPremises", "*.contoso.com");
    const auto findings = scan(document({relay("Cert device", "", "relay.contoso.com")}, {cert}));
    CHECK(finding_for(findings, "Cert device").status == Status::Pass);
    json plain = relay("Plain device", "", "relay.contoso.com");
    plain["security"] = "none";
    CHECK(finding_for(scan(document({plain}, {cert})), "Plain device").status == Status::Fail);
    CHECK(finding_for(scan(document({relay("Other cert", "", "relay.fabrikam.com")}, {cert})), "Other cert").status ==
          Status::Fail);
}

TEST_CASE("smtp-connector-relay-coverage: unknown IP, a private IP or an unknown Enabled is review, not pass") {
    CHECK(finding_for(scan(document({relay("No IP", "")}, {connector("Any", {"203.0.113.0/24"})})), "No IP").status ==
          Status::Review);
    CHECK(finding_for(scan(document({relay("Private", "10.1.2.3")}, {connector("Any", {"10.1.2.0/24"})})), "Private")
              .status == Status::Review);
    CHECK(finding_for(scan(document({relay("Unknown state", "203.0.113.5")},
                                    {connector("Any", {"203.0.113.0/24"}, nullptr)})),
                      "Unknown state")
              .status == Status::Review);
}

TEST_CASE("smtp-connector-relay-coverage: no relay entry is not applicable, connectors not collected is an error") {
    const json hve = {{"name", "HVE scanner"}, {"host", "smtp.hve.mx.microsoft"}, {"port", 587},
                      {"security", "starttls"}, {"auth", "oauth"}, {"username", "scan@contoso.com"}};
    CHECK(single(scan(document({hve}, json::array()))).status == Status::NotApplicable);
    json doc = tenant(json::object(), json::object());
    doc["smtpClients"] = {relay("Any", "203.0.113.5")};
    check_section_missing(scan(doc), "/exchange/inboundConnectors");
}
