// smtp-client-endpoint: each device or application in the inventory submits to an endpoint that
// will keep accepting it, with the port and encryption that endpoint requires.
#include <algorithm>

#include <fmt/format.h>
#include <tenantscan/schedule.hpp>
#include <tenantscan/smtp_clients.hpp>

#include "common/smtp_inventory.hpp"
#include "common/smtp_senders.hpp"
#include "common/subjects.hpp"
#include "smtp/smtp_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "smtp-client-endpoint";
    m.title = "Every device submits to an endpoint that keeps accepting it";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "Basic SMTP AUTH to smtp.office365.com or smtp-legacy.office365.com ends with the retirement; HVE accounts "
        "authenticate only at the HVE endpoint smtp.hve.mx.microsoft (the older smtp-hve.office365.com is being "
        "deprecated), and HVE and Azure Communication Services accept submissions only on port 587 with STARTTLS. "
        "A device set up against the wrong endpoint stops sending, so each inventory entry is checked. The "
        "severity of Basic auth against Exchange Online follows the schedule: high before the cut-off, critical "
        "on or after it.";
    m.remediation =
        "Reconfigure the device: HVE accounts on smtp.hve.mx.microsoft:587 with STARTTLS; Basic senders on Exchange "
        "Online moved to OAuth, HVE (internal recipients) or Azure Communication Services (smtp.azurecomm.net:587, "
        "external recipients).";
    m.references = {
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
        "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-to-retire-basic-auth-for-client-submission-smtp/ba-p/4114750",
        "https://learn.microsoft.com/en-us/azure/communication-services/quickstarts/email/send-email-smtp/send-email-smtp",
    };
    m.requiredSections = {"/exchange/hveAccounts"};
    return m;
}

class SmtpClientEndpointRule final : public Rule {
public:
    const RuleMetadata& metadata() const override { return metadata_; }
    std::vector<Finding> evaluate(const RuleContext& context) const override;

private:
    RuleMetadata metadata_ = make_metadata();
};

struct Problem {
    Severity severity;
    std::string what;
    std::string fix;
};

bool uses_587_starttls(const SmtpClient& client) {
    return *client.port == 587 && *client.security == SmtpSecurity::StartTls;
}

std::string connection_phrase(const SmtpClient& client) {
    return fmt::format("{}:{} ({}, auth {}{})", client.host, *client.port, to_string(*client.security),
                       to_string(*client.auth), client.username.empty() ? "" : " as " + client.username);
}

std::vector<Problem> endpoint_problems(const SmtpClient& client, bool hveAccount, const ScheduleStatus& schedule,
                                       const std::vector<std::string>& accepted) {
    std::vector<Problem> problems;
    const SmtpEndpoint endpoint = classify_endpoint(client.host);
    const bool hveEndpoint = endpoint == SmtpEndpoint::Hve || endpoint == SmtpEndpoint::HveDeprecated;
    const std::string hveSettings = fmt::format("{}:587 with STARTTLS", kHveHost);

    if (hveAccount) {
        if (is_exchange_submission(endpoint))
            problems.push_back({Severity::High,
                                fmt::format("{} is an HVE account, and HVE accounts do not authenticate at {}",
                                            client.username, client.host),
                                fmt::format("point the device at {}", hveSettings)});
        if (endpoint == SmtpEndpoint::HveDeprecated)
            problems.push_back({Severity::Low, fmt::format("{} is being deprecated", kHveDeprecatedHost),
                                fmt::format("change the host to {}", kHveHost)});
    } else if (hveEndpoint) {
        problems.push_back({Severity::High,
                            client.username.empty()
                                ? "the HVE endpoint accepts only authenticated HVE accounts, and the device does not authenticate"
                                : fmt::format("{} is not an HVE account of this tenant (/exchange/hveAccounts), and the "
                                              "HVE endpoint accepts only HVE accounts",
                                              client.username),
                            "create an HVE account for it (New-MailUser -HVEAccount) or use the account's own endpoint"});
    } else if (is_exchange_submission(endpoint)) {
        if (*client.auth == SmtpAuth::Basic)
            problems.push_back({schedule.severity,
                                fmt::format("Basic SMTP AUTH to {} stops under schedule {}: {}", client.host,
                                            schedule.schedule.id, schedule.sentence()),
                                migration_target(client, accepted)});
        if (*client.auth == SmtpAuth::None)
            problems.push_back({Severity::Medium,
                                fmt::format("{} accepts only authenticated client submission", client.host),
                                "authenticate (OAuth), or send unauthenticated mail through Direct Send or a connector "
                                "to the tenant's MX host instead"});
    }
    if ((hveEndpoint || endpoint == SmtpEndpoint::Acs || is_exchange_submission(endpoint)) && !uses_587_starttls(client))
        problems.push_back({Severity::Medium,
                            fmt::format("{} accepts submissions only on port 587 with STARTTLS, not port {} with {}",
                                        client.host, *client.port, to_string(*client.security)),
                            "set port 587 and STARTTLS"});
    return problems;
}

std::string pass_reason(const SmtpClient& client, bool hveAccount) {
    const SmtpEndpoint endpoint = classify_endpoint(client.host);
    if (hveAccount && endpoint == SmtpEndpoint::Hve) return "the HVE endpoint, as an HVE account";
    if (endpoint == SmtpEndpoint::Acs) return "Azure Communication Services, which the retirement does not affect";
    if (*client.auth == SmtpAuth::OAuth) return "OAuth, which the retirement does not affect";
    return "an endpoint other than Exchange Online client submission, which the retirement does not affect";
}

// Where the device should submit once its problems are fixed (evidence "target", read by the
// migration plan of the text report).
std::string device_target(const SmtpClient& client, bool hveAccount, const std::vector<std::string>& accepted) {
    if (hveAccount)
        return fmt::format("HVE: {}:587 with STARTTLS as {}{}", kHveHost, client.username,
                           *client.auth == SmtpAuth::OAuth
                               ? " (OAuth)"
                               : fmt::format("; plan OAuth before Basic ends on HVE in {}", hve_dates().basicAuthEndsText));
    const SmtpEndpoint endpoint = classify_endpoint(client.host);
    if (is_exchange_submission(endpoint) || endpoint == SmtpEndpoint::Hve || endpoint == SmtpEndpoint::HveDeprecated)
        return migration_target(client, accepted);
    if (endpoint == SmtpEndpoint::Acs) return "stay on Azure Communication Services (smtp.azurecomm.net:587, STARTTLS)";
    return fmt::format("no change needed: {} is not Exchange Online client submission", client.host);
}

std::vector<Finding> SmtpClientEndpointRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const auto inventory = scan_inventory(snapshot, context.options());
    if (!inventory) return {finding(Status::NotApplicable, tenant_subject(snapshot), no_inventory_message())};
    if (inventory->clients.empty())
        return {finding(Status::NotApplicable, tenant_subject(snapshot),
                        fmt::format("The device inventory ({}) lists no device.", inventory->source))};

    const ScheduleStatus schedule = schedule_status(context.options());
    const HveAccountIndex hve(context.directory());
    const auto accepted = accepted_domain_names(snapshot);
    std::vector<Finding> findings;
    for (const SmtpClient& client : inventory->clients) {
        const Subject subject = smtp_client_subject(client);
        if (!client.valid()) {
            Finding f = finding(Status::Error, subject, invalid_client_message(client));
            f.evidence = {{"client", to_json(client)}};
            f.remediation = invalid_client_remediation(client);
            findings.push_back(std::move(f));
            continue;
        }
        const bool hveAccount = *client.auth != SmtpAuth::None && hve.find(client.username) != nullptr;
        const auto problems = endpoint_problems(client, hveAccount, schedule, accepted);
        nlohmann::json evidence = {{"client", to_json(client)},
                                   {"hveAccount", hveAccount},
                                   {"target", device_target(client, hveAccount, accepted)}};
        if (problems.empty()) {
            Finding f = finding(Status::Pass, subject,
                                fmt::format("'{}' submits to {}: {}.", client.name, connection_phrase(client),
                                            pass_reason(client, hveAccount)));
            f.evidence = std::move(evidence);
            findings.push_back(std::move(f));
            continue;
        }
        std::vector<std::string> whats, fixes;
        nlohmann::json problemEvidence = nlohmann::json::array();
        Severity worst = Severity::Info;
        for (const auto& p : problems) {
            whats.push_back(p.what);
            fixes.push_back(p.fix);
            problemEvidence.push_back({{"problem", p.what}, {"severity", to_string(p.severity)}, {"fix", p.fix}});
            if (at_least(p.severity, worst)) worst = p.severity;
        }
        Finding f = finding(Status::Fail, subject,
                            fmt::format("'{}' submits to {}: {}.", client.name, connection_phrase(client),
                                        fmt::join(whats, "; ")));
        f.severity = worst;
        evidence["problems"] = std::move(problemEvidence);
        evidence["schedule"] = {{"id", schedule.schedule.id}, {"phase", schedule.phase()}, {"summary", schedule.sentence()}};
        f.evidence = std::move(evidence);
        f.remediation = fmt::format("Reconfigure '{}'{}: {}.", client.name,
                                    client.owner.empty() ? "" : fmt::format(" (owner: {})", client.owner),
                                    fmt::join(fixes, "; "));
        findings.push_back(std::move(f));
    }
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_smtp_client_endpoint_rule() { return std::make_unique<SmtpClientEndpointRule>(); }

}  // namespace tenantscan::rules
