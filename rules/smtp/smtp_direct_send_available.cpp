// smtp-direct-send-available: each inventory entry on Direct Send (port 25 to the tenant's MX endpoint,
// no authentication) can still deliver: the tenant does not reject Direct Send (RejectDirectSend),
// its sender is in an accepted domain and it mails only the organization's own recipients.
#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/detail/text.hpp>

#include "support/rule_base.hpp"
#include "support/smtp_inventory.hpp"
#include "support/subjects.hpp"
#include "smtp/smtp_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "smtp-direct-send-available";
    m.title = "Every device on Direct Send can still deliver";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "Direct Send is anonymous SMTP on port 25 to the tenant's MX endpoint (<domain>.mail.protection.outlook.com). "
        "It needs no SMTP AUTH, so the retirement does not touch it, but it delivers only to the organization's own "
        "mailboxes, the sender must be an address in one of the tenant's accepted domains, and when the organization "
        "sets RejectDirectSend (Set-OrganizationConfig) Exchange Online rejects anonymous mail from its own accepted "
        "domains that matches no inbound connector, which is exactly what Direct Send is.";
    m.remediation =
        "Keep Direct Send only for devices that mail internal recipients from an accepted domain in a tenant that "
        "allows it; otherwise use SMTP relay through an inbound connector (smtp-connector-relay-coverage), a High Volume "
        "Email account or OAuth.";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365",
        "https://learn.microsoft.com/en-us/powershell/module/exchangepowershell/set-organizationconfig",
        "https://techcommunity.microsoft.com/blog/exchange/introducing-more-control-over-direct-send-in-exchange-online/4408790",
    };
    m.requiredSections = {"/exchange/organizationConfig", "/exchange/acceptedDomains"};
    return m;
}

class DirectSendAvailableRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    Finding evaluate_client(const SmtpClient& client, const Snapshot& snapshot,
                            const std::vector<std::string>& accepted) const;
};

std::string domain_of(const std::string& address) {
    const auto at = address.rfind('@');
    return at == std::string::npos ? std::string() : to_lower(address.substr(at + 1));
}

Finding DirectSendAvailableRule::evaluate_client(const SmtpClient& client, const Snapshot& snapshot,
                                                const std::vector<std::string>& accepted) const {
    const Subject subject = smtp_client_subject(client);
    const std::optional<bool> reject = snapshot.organizationConfig->rejectDirectSend;
    nlohmann::json evidence = {{"client", to_json(client)},
                               {"rejectDirectSend", reject ? nlohmann::json(*reject) : nlohmann::json(nullptr)},
                               {"acceptedDomains", accepted}};

    if (mx_endpoint_without_path(client)) {
        Finding f = finding(Status::Review, subject,
                            fmt::format("'{}' submits to the MX endpoint {} but the inventory does not say whether it "
                                        "uses Direct Send or SMTP relay through an inbound connector, so neither can be "
                                        "checked.",
                                        client.name, client.host));
        f.evidence = std::move(evidence);
        f.remediation = fmt::format("Set path to direct-send or relay for '{}' in the inventory (for relay also "
                                    "publicIp or certificateName; docs/inventory.md) and scan again.",
                                    client.name);
        return f;
    }

    std::vector<std::string> problems, fixes, unknowns;
    if (!is_mx_endpoint(client.host) || !client.port || *client.port != 25) {
        problems.push_back(fmt::format("Direct Send goes to the tenant's MX endpoint on port 25, but it is set up for "
                                       "{}:{}",
                                       client.host, client.port ? std::to_string(*client.port) : "?"));
        fixes.push_back("point it at the MX endpoint (<domain-with-dashes>.mail.protection.outlook.com, as in the "
                        "domain's MX record) on port 25");
    }
    if (client.auth && *client.auth != SmtpAuth::None) {
        problems.push_back(fmt::format("it is set up with auth {}, but the MX endpoint takes no SMTP AUTH",
                                       to_string(*client.auth)));
        fixes.push_back("turn authentication off on the device");
    }
    if (!reject) {
        unknowns.push_back("/exchange/organizationConfig has no RejectDirectSend, so whether the tenant rejects Direct "
                           "Send is unknown");
    } else if (*reject) {
        problems.push_back("the organization rejects Direct Send (Get-OrganizationConfig RejectDirectSend is true): "
                           "anonymous mail from an accepted domain that matches no inbound connector is refused");
        fixes.push_back("move it to SMTP relay through an inbound connector that covers its public IP or certificate "
                        "(a connector match is not rejected), to a High Volume Email account, or to OAuth; turning "
                        "RejectDirectSend off again (Set-OrganizationConfig -RejectDirectSend $false) reopens the "
                        "door to spoofed internal mail");
    }
    if (client.from.empty()) {
        unknowns.push_back("the inventory gives no from address, so whether it sends from an accepted domain is "
                           "unknown");
    } else if (!is_accepted_domain(accepted, domain_of(client.from))) {
        problems.push_back(fmt::format("its sender {} is not in an accepted domain of the tenant ({}), which Direct "
                                       "Send requires",
                                       client.from, accepted.empty() ? "none listed" : fmt::format("{}", fmt::join(accepted, ", "))));
        fixes.push_back("send from an address in an accepted domain (it needs no mailbox)");
    }
    const auto external = external_recipients(client, accepted);
    if (!external.empty()) {
        problems.push_back(fmt::format("Direct Send delivers only to the organization's own mailboxes, but it mails "
                                       "external recipients ({})",
                                       fmt::join(external, ", ")));
        fixes.push_back("use SMTP relay through an inbound connector or Azure Communication Services for the external "
                        "recipients");
    }
    evidence["externalRecipients"] = external;
    if (!unknowns.empty()) evidence["unknowns"] = unknowns;

    const std::string connection = fmt::format("'{}' uses Direct Send to {}:{}", client.name, client.host,
                                               client.port ? std::to_string(*client.port) : "?");
    if (!problems.empty()) {
        std::vector<std::string> whats = problems;
        whats.insert(whats.end(), unknowns.begin(), unknowns.end());
        Finding f = finding(Status::Fail, subject, fmt::format("{}: {}.", connection, fmt::join(whats, "; ")));
        evidence["problems"] = problems;
        f.evidence = std::move(evidence);
        f.remediation = fmt::format("Reconfigure '{}'{}: {}.", client.name,
                                    client.owner.empty() ? "" : fmt::format(" (owner: {})", client.owner),
                                    fmt::join(fixes, "; "));
        return f;
    }
    if (!unknowns.empty()) {
        Finding f = finding(Status::Review, subject, fmt::format("{}: {}.", connection, fmt::join(unknowns, "; ")));
        f.evidence = std::move(evidence);
        f.remediation = "Export Get-OrganizationConfig with RejectDirectSend (tenantscan collect does) and give the "
                        "device's from address in the inventory, then scan again.";
        return f;
    }
    Finding pass = finding(Status::Pass, subject,
                   fmt::format("{}: the organization allows Direct Send (RejectDirectSend is false), its sender {} is "
                               "in an accepted domain{}.",
                               connection, client.from,
                               client.recipients.empty()
                                   ? "; the inventory lists no recipients, and Direct Send delivers only to the "
                                     "organization's own mailboxes"
                                   : " and it mails only internal recipients"));
    pass.evidence = std::move(evidence);
    return pass;
}

std::vector<Finding> DirectSendAvailableRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const auto inventory = scan_inventory(snapshot, context.options());
    if (!inventory) return {finding(Status::NotApplicable, tenant_subject(snapshot), no_inventory_message())};
    const auto accepted = accepted_domain_names(snapshot);
    std::vector<Finding> findings;
    for (const SmtpClient& client : inventory->clients) {
        if (!client.valid()) {
            // Only rows that say (or may say) Direct Send: the other rules report the rest.
            if (!on_path(client, SmtpPath::DirectSend) && !mx_endpoint_without_path(client)) continue;
            findings.push_back(invalid_inventory_entry(client));
            continue;
        }
        if (on_path(client, SmtpPath::DirectSend) || mx_endpoint_without_path(client))
            findings.push_back(with_device(evaluate_client(client, snapshot, accepted), client));
    }
    if (findings.empty())
        return {finding(Status::NotApplicable, tenant_subject(snapshot),
                        fmt::format("No entry of the device inventory ({}) uses Direct Send (path direct-send).",
                                    inventory->source))};
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_smtp_direct_send_available_rule() { return std::make_unique<DirectSendAvailableRule>(make_metadata()); }

}  // namespace tenantscan::rules
