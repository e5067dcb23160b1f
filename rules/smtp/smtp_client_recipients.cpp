// smtp-client-recipients: devices that send through an HVE account only mail internal
// recipients, at most 50 per message.
#include <algorithm>

#include <fmt/format.h>
#include <tenantscan/smtp_clients.hpp>

#include "support/rule_base.hpp"
#include "support/smtp_inventory.hpp"
#include "support/smtp_senders.hpp"
#include "support/subjects.hpp"
#include "smtp/smtp_rules.hpp"

namespace tenantscan::rules {

namespace {

// HVE's per-message recipient limit (docs/microsoft-facts.md §2).
constexpr int kHveMaxRecipientsPerMessage = 50;

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "smtp-client-recipients";
    m.title = "Devices on HVE accounts mail only internal recipients, at most 50 per message";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "High Volume Email delivers to internal recipients only (external ones bounce with 550 5.5.105) and accepts "
        "at most 50 recipients per message. A device that mails customers or suppliers, or large distribution "
        "lists in one message, cannot move to HVE as it is: external mail belongs on Azure Communication Services.";
    m.remediation =
        "Send external mail through Azure Communication Services (smtp.azurecomm.net:587) instead of HVE, and split "
        "messages to more than 50 recipients (or send to a distribution group).";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
        "https://learn.microsoft.com/en-us/azure/communication-services/quickstarts/email/send-email-smtp/send-email-smtp",
    };
    m.requiredSections = {"/exchange/hveAccounts", "/exchange/acceptedDomains"};
    return m;
}

class SmtpClientRecipientsRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    Finding evaluate_client(const SmtpClient& client, const std::vector<std::string>& accepted) const;
};

// The most recipients one message can have, when the inventory proves a bound: the declared
// maximum, else the number of listed addresses when no whole domain is listed.
std::optional<int> recipient_bound(const SmtpClient& client) {
    if (client.maxRecipientsPerMessage) return client.maxRecipientsPerMessage;
    const bool onlyAddresses = std::all_of(client.recipients.begin(), client.recipients.end(),
                                           [](const std::string& r) { return r.find('@') != std::string::npos && r.front() != '@'; });
    if (onlyAddresses) return static_cast<int>(client.recipients.size());
    return std::nullopt;
}

Finding SmtpClientRecipientsRule::evaluate_client(const SmtpClient& client, const std::vector<std::string>& accepted) const {
    const Subject subject = smtp_client_subject(client);
    nlohmann::json evidence = {{"client", to_json(client)}, {"acceptedDomains", accepted}};
    if (client.recipients.empty()) {
        Finding f = finding(Status::Review, subject,
                            fmt::format("'{}' sends as HVE account {} but the inventory lists no recipients, so whether "
                                        "it mails only internal recipients is unknown.",
                                        client.name, client.username));
        f.evidence = std::move(evidence);
        f.related = device_related(client);
        f.remediation = fmt::format("List the recipients (addresses or domains) of '{}' in the inventory ({}) and scan again.",
                                    client.name, client.location);
        return f;
    }

    std::vector<std::string> problems, fixes, unknowns;
    Severity worst = Severity::Info;
    const auto external = external_recipients(client, accepted);
    evidence["externalRecipients"] = external;
    if (!external.empty()) {
        problems.push_back(fmt::format("it mails recipients outside the tenant's accepted domains ({}), and HVE "
                                       "delivers only internally (550 5.5.105)",
                                       fmt::join(external, ", ")));
        fixes.push_back("send its external mail through Azure Communication Services (smtp.azurecomm.net:587, "
                        "STARTTLS) instead of HVE");
        worst = Severity::High;
    }
    const auto bound = recipient_bound(client);
    evidence["maxRecipientsPerMessage"] = bound ? nlohmann::json(*bound) : nlohmann::json(nullptr);
    if (bound && *bound > kHveMaxRecipientsPerMessage) {
        problems.push_back(fmt::format("it sends up to {} recipients per message, and HVE accepts at most {}", *bound,
                                       kHveMaxRecipientsPerMessage));
        fixes.push_back(fmt::format("split its messages to at most {} recipients, or address a distribution group",
                                    kHveMaxRecipientsPerMessage));
        if (at_least(Severity::Medium, worst)) worst = Severity::Medium;
    } else if (!bound) {
        unknowns.push_back("how many recipients one message has (maxRecipientsPerMessage is not given and the "
                           "recipients include whole domains)");
    }

    if (!problems.empty()) {
        Finding f = finding(Status::Fail, subject,
                            fmt::format("'{}' sends as HVE account {}: {}.", client.name, client.username,
                                        fmt::join(problems, "; ")));
        f.severity = worst;
        f.evidence = std::move(evidence);
        f.related = device_related(client);
        f.remediation = fmt::format("For '{}'{}: {}.", client.name,
                                    client.owner.empty() ? "" : fmt::format(" (owner: {})", client.owner),
                                    fmt::join(fixes, "; "));
        return f;
    }
    if (!unknowns.empty()) {
        Finding f = finding(Status::Review, subject,
                            fmt::format("'{}' mails only internal recipients through HVE account {}, but the inventory "
                                        "does not tell {}.",
                                        client.name, client.username, fmt::join(unknowns, "; ")));
        f.evidence = std::move(evidence);
        f.related = device_related(client);
        f.remediation = fmt::format("Give maxRecipientsPerMessage for '{}' in the inventory ({}) and scan again.",
                                    client.name, client.location);
        return f;
    }
    Finding f = finding(Status::Pass, subject,
                        fmt::format("'{}' mails only internal recipients through HVE account {}, at most {} per message.",
                                    client.name, client.username, *bound));
    f.evidence = std::move(evidence);
    f.related = device_related(client);
    return f;
}

std::vector<Finding> SmtpClientRecipientsRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const auto inventory = scan_inventory(snapshot, context.options());
    if (!inventory) return {finding(Status::NotApplicable, tenant_subject(snapshot), no_inventory_message())};

    const HveAccountIndex hve(context.directory());
    const auto accepted = accepted_domain_names(snapshot);
    std::vector<Finding> findings;
    for (const SmtpClient& client : inventory->clients) {
        if (!client.valid()) {
            findings.push_back(invalid_inventory_entry(client));
        } else if (*client.auth != SmtpAuth::None && hve.find(client.username)) {
            findings.push_back(evaluate_client(client, accepted));
        }
    }
    if (findings.empty())
        return {finding(Status::NotApplicable, tenant_subject(snapshot),
                        fmt::format("No device in the inventory ({}) sends through an HVE account.", inventory->source))};
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_smtp_client_recipients_rule() {
    return std::make_unique<SmtpClientRecipientsRule>(make_metadata());
}

}  // namespace tenantscan::rules
