// smtp-connector-relay-coverage: each inventory entry on SMTP relay (port 25 to the tenant's MX endpoint,
// no authentication) is accepted by an enabled on-premises inbound connector, by the public IP
// address its mail leaves from or by the certificate it presents.
#include <algorithm>

#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/detail/text.hpp>
#include <tenantscan/detail/ip.hpp>

#include "support/rule_base.hpp"
#include "support/smtp_inventory.hpp"
#include "support/subjects.hpp"
#include "smtp/smtp_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "smtp-connector-relay-coverage";
    m.title = "Every device on SMTP relay is covered by an enabled on-premises inbound connector";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "SMTP relay sends anonymously on port 25 to the tenant's MX endpoint; Exchange Online relays the mail (also to "
        "external recipients) only when it matches an enabled inbound connector of type OnPremises, by the sending "
        "public IP address (SenderIPAddresses: single IPv4 addresses or CIDR ranges /24 to /32; IPv6 is not "
        "supported) or by the TLS certificate the sender presents (TlsSenderCertificateName). A device whose address "
        "or certificate no connector covers is treated as anonymous internet mail: its mail to external recipients "
        "is refused.";
    m.remediation =
        "Add the device's static public IP address to an enabled OnPremises inbound connector (Set-InboundConnector "
        "-SenderIPAddresses), or use a certificate-based connector, and publish that IP address in the sender "
        "domain's SPF record.";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365",
        "https://learn.microsoft.com/en-us/powershell/module/exchangepowershell/new-inboundconnector",
        "https://learn.microsoft.com/en-us/powershell/module/exchangepowershell/get-inboundconnector",
    };
    m.requiredSections = {"/exchange/inboundConnectors"};
    return m;
}

class ConnectorRelayCoverageRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    Finding evaluate_client(const SmtpClient& client, const Snapshot& snapshot) const;
};

enum class Match { Covers, DoesNotCover, Unreadable };

// One SenderIPAddresses entry against the device's address: a single address, a CIDR range or
// (the form Exchange's IP range type also prints) "first-last".
Match entry_covers(const std::string& entry, const IpAddress& ip) {
    if (const auto dash = entry.find('-'); dash != std::string::npos) {
        const auto first = parse_ip_address(entry.substr(0, dash));
        const auto last = parse_ip_address(entry.substr(dash + 1));
        if (!first || !last || first->isV4 != last->isV4) return Match::Unreadable;
        if (first->isV4 != ip.isV4) return Match::DoesNotCover;
        return first->address <= ip.address && ip.address <= last->address ? Match::Covers : Match::DoesNotCover;
    }
    const auto range = parse_cidr(entry);
    if (!range) return Match::Unreadable;
    return range_contains(*range, ip) ? Match::Covers : Match::DoesNotCover;
}

// TlsSenderCertificateName against the name the device presents: exact, or "*.contoso.com" for
// contoso.com's subdomains (and, as Microsoft documents it, the domain itself).
bool certificate_matches(std::string pattern, std::string name) {
    pattern = to_lower(pattern);
    name = to_lower(name);
    if (pattern.empty() || name.empty()) return false;
    if (pattern.rfind("*.", 0) == 0) {
        const std::string domain = pattern.substr(2);
        return name == domain || (name.size() > domain.size() + 1 &&
                                  name.compare(name.size() - domain.size() - 1, std::string::npos, "." + domain) == 0);
    }
    return pattern == name;
}

bool is_private_or_local(const IpAddress& ip) {
    if (!ip.isV4) {
        const auto& a = ip.address;
        return (a[0] & 0xFE) == 0xFC || (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) ||
               std::all_of(a.begin(), a.end() - 1, [](std::uint8_t b) { return b == 0; });
    }
    const std::uint8_t a = ip.address[12], b = ip.address[13];
    return a == 10 || a == 127 || (a == 172 && (b & 0xF0) == 16) || (a == 192 && b == 168) || (a == 169 && b == 254) ||
           (a == 100 && (b & 0xC0) == 64);
}

nlohmann::json connector_evidence(const InboundConnector& c) {
    auto opt = [](const std::optional<bool>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return {{"name", c.name.empty() ? c.identity : c.name},
            {"enabled", opt(c.enabled)},
            {"connectorType", c.connectorType},
            {"senderIpAddresses", c.senderIpAddresses},
            {"tlsSenderCertificateName", c.tlsSenderCertificateName},
            {"requireTls", opt(c.requireTls)},
            {"restrictDomainsToIPAddresses", opt(c.restrictDomainsToIpAddresses)}};
}

std::string connector_name(const InboundConnector& c) { return c.name.empty() ? c.identity : c.name; }

Finding ConnectorRelayCoverageRule::evaluate_client(const SmtpClient& client, const Snapshot& snapshot) const {
    const Subject subject = smtp_client_subject(client);
    nlohmann::json evidence = {{"client", to_json(client)}};
    const std::string connection = fmt::format("'{}' relays through {}:{}", client.name, client.host,
                                               client.port ? std::to_string(*client.port) : "?");
    auto make = [&](Status status, std::string message, std::string remediation) {
        Finding f = finding(status, subject, std::move(message));
        f.evidence = evidence;
        f.remediation = std::move(remediation);
        return f;
    };

    std::vector<std::string> setupProblems;
    if (!is_mx_endpoint(client.host) || !client.port || *client.port != 25)
        setupProblems.push_back("SMTP relay goes to the tenant's MX endpoint (<domain-with-dashes>.mail.protection."
                                "outlook.com) on port 25");
    if (client.auth && *client.auth != SmtpAuth::None)
        setupProblems.push_back(fmt::format("it is set up with auth {}, but the MX endpoint takes no SMTP AUTH",
                                            to_string(*client.auth)));

    const std::optional<IpAddress> ip = client.publicIp.empty() ? std::nullopt : parse_ip_address(client.publicIp);
    if (!ip && client.certificateName.empty()) {
        setupProblems.insert(setupProblems.begin(), "the inventory gives neither its public IP address (publicIp) nor "
                                                    "a certificate name, so whether a connector covers it is unknown");
        return make(Status::Review, fmt::format("{}: {}.", connection, fmt::join(setupProblems, "; ")),
                    fmt::format("Give the public IP address the mail of '{}' leaves your network from (publicIp) or the "
                                "certificate name it presents (certificateName) in the inventory, and scan again.",
                                client.name));
    }
    if (ip && is_private_or_local(*ip) && client.certificateName.empty())
        return make(Status::Review,
                    fmt::format("{}: publicIp {} is a private or local address; Exchange Online sees the public "
                                "address it is translated to, so whether a connector covers it is unknown.",
                                connection, client.publicIp),
                    fmt::format("Give the public address the mail of '{}' leaves your network from (as Exchange "
                                "Online sees it) in publicIp, and scan again.",
                                client.name));

    // Every connector that would match, and why each one that names the device does not count.
    std::vector<std::string> covering, notCounting, unreadable, unknownState, disabled;
    nlohmann::json connectors = nlohmann::json::array();
    for (const InboundConnector& c : *snapshot.inboundConnectors) {
        connectors.push_back(connector_evidence(c));
        std::string how;
        if (ip) {
            for (const auto& entry : c.senderIpAddresses) {
                const Match m = entry_covers(entry, *ip);
                if (m == Match::Covers) {
                    how = fmt::format("SenderIPAddresses {} covers {}", entry, client.publicIp);
                    break;
                }
                if (m == Match::Unreadable) unreadable.push_back(fmt::format("'{}' of {}", entry, connector_name(c)));
            }
        }
        if (how.empty() && !client.certificateName.empty() &&
            certificate_matches(c.tlsSenderCertificateName, client.certificateName)) {
            if (client.security && *client.security == SmtpSecurity::None)
                notCounting.push_back(fmt::format("{} accepts certificate {}, but the device sends without TLS, so it "
                                                  "presents no certificate",
                                                  connector_name(c), c.tlsSenderCertificateName));
            else
                how = fmt::format("TlsSenderCertificateName {} matches {}", c.tlsSenderCertificateName,
                                  client.certificateName);
        }
        if (how.empty()) continue;
        if (!iequals(c.connectorType, "OnPremises")) {
            notCounting.push_back(fmt::format("{} ({}) is of type {}, and only an OnPremises connector relays",
                                              connector_name(c), how,
                                              c.connectorType.empty() ? "unknown" : c.connectorType));
        } else if (!c.enabled) {
            unknownState.push_back(fmt::format("{} ({}), whose Enabled is not in the export", connector_name(c), how));
        } else if (!*c.enabled) {
            notCounting.push_back(fmt::format("{} ({}) is disabled", connector_name(c), how));
            disabled.push_back(connector_name(c));
        } else {
            covering.push_back(fmt::format("{} ({})", connector_name(c), how));
        }
    }
    evidence["inboundConnectors"] = std::move(connectors);
    if (!covering.empty()) evidence["coveredBy"] = covering;
    if (!notCounting.empty()) evidence["notCounting"] = notCounting;
    if (!unreadable.empty()) evidence["unreadable"] = unreadable;

    std::string enable;
    for (const auto& name : disabled)
        enable += fmt::format("enable the connector {0} if it is still meant for this device (Set-InboundConnector "
                              "-Identity \"{0}\" -Enabled $true), or ",
                              name);
    const std::string fix =
        fmt::format("Cover '{}'{}: {}add {} to the SenderIPAddresses of an enabled OnPremises inbound connector "
                    "(Exchange admin center > Mail flow > Connectors, from 'Your organization's email server' to "
                    "Office 365; or Set-InboundConnector -Identity <connector> -SenderIPAddresses @{{Add=\"{}\"}}), "
                    "or use a certificate-based connector; the address must be static, outbound port 25 must be "
                    "open, and the sender domain's SPF record should include it",
                    client.name, client.owner.empty() ? "" : fmt::format(" (owner: {})", client.owner), enable,
                    client.publicIp.empty() ? "its static public IP address" : client.publicIp,
                    client.publicIp.empty() ? "<public IP>" : client.publicIp);
    if (!setupProblems.empty()) {
        std::vector<std::string> whats = setupProblems;
        if (!covering.empty()) whats.push_back(fmt::format("covered by {}", fmt::join(covering, ", ")));
        return make(Status::Fail, fmt::format("{}: {}.", connection, fmt::join(whats, "; ")),
                    fmt::format("Reconfigure '{}': submit to the MX endpoint on port 25 without authentication{}.",
                                client.name, covering.empty() ? "; " + fix : std::string()));
    }
    if (!covering.empty())
        return make(Status::Pass,
                    fmt::format("{}: covered by the enabled OnPremises inbound connector {}.", connection,
                                fmt::join(covering, ", ")),
                    {});
    std::vector<std::string> whats;
    if (!notCounting.empty()) whats.push_back(fmt::format("{}", fmt::join(notCounting, "; ")));
    if (!unknownState.empty() || !unreadable.empty()) {
        if (!unknownState.empty())
            whats.push_back(fmt::format("it would be covered by {}", fmt::join(unknownState, ", ")));
        if (!unreadable.empty())
            whats.push_back(fmt::format("SenderIPAddresses entries that cannot be read: {}", fmt::join(unreadable, ", ")));
        return make(Status::Review,
                    fmt::format("{}: whether an enabled OnPremises connector covers it is unknown: {}.", connection,
                                fmt::join(whats, "; ")),
                    "Export Get-InboundConnector with Enabled and readable SenderIPAddresses (tenantscan collect does) "
                    "and scan again. " + fix + ".");
    }
    const std::string what = ip ? fmt::format("public IP {}", client.publicIp) : std::string("no public IP given");
    return make(Status::Fail,
                fmt::format("{}: no enabled OnPremises inbound connector covers it ({}{}; {} connector{} in the "
                            "tenant){}; Exchange Online treats its mail as anonymous internet mail and refuses to "
                            "relay it to external recipients.",
                            connection, what,
                            client.certificateName.empty() ? "" : ", certificate " + client.certificateName,
                            snapshot.inboundConnectors->size(), snapshot.inboundConnectors->size() == 1 ? "" : "s",
                            notCounting.empty() ? "" : ": " + fmt::format("{}", fmt::join(notCounting, "; "))),
                fix + ".");
}

std::vector<Finding> ConnectorRelayCoverageRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const auto inventory = scan_inventory(snapshot, context.options());
    if (!inventory) return {finding(Status::NotApplicable, tenant_subject(snapshot), no_inventory_message())};
    std::vector<Finding> findings;
    for (const SmtpClient& client : inventory->clients) {
        if (!on_path(client, SmtpPath::Relay)) continue;
        if (!client.valid()) {
            findings.push_back(invalid_inventory_entry(client));
            continue;
        }
        findings.push_back(with_device(evaluate_client(client, snapshot), client));
    }
    if (findings.empty())
        return {finding(Status::NotApplicable, tenant_subject(snapshot),
                        fmt::format("No entry of the device inventory ({}) uses SMTP relay (path relay).",
                                    inventory->source))};
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_smtp_connector_relay_coverage_rule() {
    return std::make_unique<ConnectorRelayCoverageRule>(make_metadata());
}

}  // namespace tenantscan::rules
