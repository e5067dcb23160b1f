// smtp-client-endpoint: each device or application in the inventory submits to an endpoint that
// will keep accepting it, with the port and encryption that endpoint requires.
#include <algorithm>

#include <fmt/format.h>
#include <tenantscan/schedule.hpp>
#include <tenantscan/smtp_clients.hpp>

#include "support/rule_base.hpp"
#include "support/smtp_inventory.hpp"
#include "support/smtp_senders.hpp"
#include "support/subjects.hpp"
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
        "deprecated); HVE and Azure Communication Services accept submissions on port 587 with STARTTLS, Exchange "
        "Online client submission on port 587 (recommended) or 25 with STARTTLS. Basic auth to a sovereign cloud's "
        "host (smtp.office365.us, smtp.partner.outlook.cn) follows a schedule tenantscan does not know. "
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
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365",
    };
    m.requiredSections = {"/exchange/hveAccounts"};
    return m;
}

class SmtpClientEndpointRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

struct Problem {
    Severity severity;
    std::string what;
    std::string fix;
};

bool uses_587_starttls(const SmtpClient& client) {
    return *client.port == 587 && *client.security == SmtpSecurity::StartTls;
}

// Exchange Online client submission (smtp.office365.com and the sovereign hosts) takes port 587
// (recommended) or 25, with STARTTLS (Microsoft: "How to set up a multifunction device or
// application to send email using Microsoft 365 or Office 365").
bool uses_submission_port_starttls(const SmtpClient& client) {
    return (*client.port == 587 || *client.port == 25) && *client.security == SmtpSecurity::StartTls;
}

bool is_exchange_online(SmtpEndpoint endpoint) {
    return is_exchange_submission(endpoint) || endpoint == SmtpEndpoint::SovereignSubmission;
}

std::string connection_phrase(const SmtpClient& client) {
    return fmt::format("{}:{} ({}, auth {}{})", client.host, *client.port, to_string(*client.security),
                       to_string(*client.auth), client.username.empty() ? "" : " as " + client.username);
}

// What the rule cannot decide for a device that has no problem: Basic SMTP AUTH to a sovereign
// cloud, whose retirement schedule tenantscan does not know.
std::vector<std::string> endpoint_unknowns(const SmtpClient& client, bool hveAccount) {
    const std::string cloud = sovereign_cloud(client.host);
    if (hveAccount || cloud.empty() || *client.auth != SmtpAuth::Basic) return {};
    return {fmt::format("Basic SMTP AUTH to {} is submission to Exchange Online in {}, whose Basic auth retirement "
                        "schedule is not one tenantscan knows (rules/schedules.json holds the commercial cloud's): "
                        "when it stops is unknown",
                        client.host, cloud)};
}

std::vector<Problem> endpoint_problems(const SmtpClient& client, bool hveAccount, const ScheduleStatus& schedule,
                                       const std::vector<std::string>& accepted) {
    std::vector<Problem> problems;
    const SmtpEndpoint endpoint = classify_endpoint(client.host);
    const bool hveEndpoint = endpoint == SmtpEndpoint::Hve || endpoint == SmtpEndpoint::HveDeprecated;
    const std::string hveSettings = fmt::format("{}:587 with STARTTLS", kHveHost);

    if (hveAccount) {
        if (is_exchange_online(endpoint))
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
    }
    if (!hveAccount && is_exchange_online(endpoint) && *client.auth == SmtpAuth::None)
        problems.push_back({Severity::Medium,
                            fmt::format("{} accepts only authenticated client submission", client.host),
                            "authenticate (OAuth), or send unauthenticated mail through Direct Send or a connector "
                            "to the tenant's MX host instead"});
    if ((hveEndpoint || endpoint == SmtpEndpoint::Acs) && !uses_587_starttls(client))
        problems.push_back({Severity::Medium,
                            fmt::format("{} accepts submissions only on port 587 with STARTTLS, not port {} with {}",
                                        client.host, *client.port, to_string(*client.security)),
                            "set port 587 and STARTTLS"});
    if (is_exchange_online(endpoint) && !uses_submission_port_starttls(client))
        problems.push_back({Severity::Medium,
                            fmt::format("{} accepts client submission on port 587 (recommended) or 25 with STARTTLS, "
                                        "not port {} with {}",
                                        client.host, *client.port, to_string(*client.security)),
                            "set port 587 and STARTTLS"});
    return problems;
}

std::string pass_reason(const SmtpClient& client, bool hveAccount) {
    const SmtpEndpoint endpoint = classify_endpoint(client.host);
    if (hveAccount && endpoint == SmtpEndpoint::Hve) return "the HVE endpoint, as an HVE account";
    if (endpoint == SmtpEndpoint::Acs) return "Azure Communication Services, which the retirement does not affect";
    if (*client.auth == SmtpAuth::OAuth)
        return endpoint == SmtpEndpoint::SovereignSubmission
                   ? fmt::format("OAuth to Exchange Online in {}, which the retirement of Basic auth does not affect",
                                 sovereign_cloud(client.host))
                   : std::string("OAuth, which the retirement does not affect");
    return "an endpoint other than Exchange Online client submission, which the retirement does not affect";
}

// Where the device should submit once its problems are fixed (evidence "target", and the related
// object of role MigrateTo that the migration plan of the text report reads).
std::string device_target(const SmtpClient& client, bool hveAccount, const std::vector<std::string>& accepted) {
    if (hveAccount)
        return fmt::format("HVE: {}:587 with STARTTLS as {}{}", kHveHost, client.username,
                           *client.auth == SmtpAuth::OAuth
                               ? " (OAuth)"
                               : fmt::format("; plan OAuth before Basic ends on HVE in {}", hve_dates().basicAuthEndsText));
    const SmtpEndpoint endpoint = classify_endpoint(client.host);
    if (is_exchange_online(endpoint) || endpoint == SmtpEndpoint::Hve || endpoint == SmtpEndpoint::HveDeprecated)
        return migration_target(client, accepted);
    if (endpoint == SmtpEndpoint::Acs) return "stay on Azure Communication Services (smtp.azurecomm.net:587, STARTTLS)";
    if (on_path(client, SmtpPath::DirectSend))
        return fmt::format("stay on Direct Send to {}:25 once smtp-direct-send-available passes", client.host);
    if (on_path(client, SmtpPath::Relay))
        return fmt::format("stay on SMTP relay to {}:25 once smtp-connector-relay-coverage passes", client.host);
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
            findings.push_back(invalid_inventory_entry(client));
            continue;
        }
        const bool hveAccount = *client.auth != SmtpAuth::None && hve.find(client.username) != nullptr;
        const auto problems = endpoint_problems(client, hveAccount, schedule, accepted);
        const auto unknowns = endpoint_unknowns(client, hveAccount);
        const std::string target = device_target(client, hveAccount, accepted);
        nlohmann::json evidence = {{"client", to_json(client)},
                                   {"hveAccount", hveAccount},
                                   {"target", target}};
        if (const std::string cloud = sovereign_cloud(client.host); !cloud.empty()) evidence["cloud"] = cloud;
        if (problems.empty() && !unknowns.empty()) {
            Finding f = finding(Status::Review, subject,
                                fmt::format("'{}' submits to {}: {}.", client.name, connection_phrase(client),
                                            fmt::join(unknowns, "; ")));
            evidence["unknowns"] = unknowns;
            f.evidence = std::move(evidence);
            f.related = device_related(client);
            f.related.push_back(migrate_to(target));
            f.remediation = fmt::format(
                "Check the Message center of that cloud for when Basic SMTP AUTH ends there, and plan the move of '{}' "
                "anyway: {}.",
                client.name, migration_target(client, accepted));
            findings.push_back(std::move(f));
            continue;
        }
        if (problems.empty()) {
            Finding f = finding(Status::Pass, subject,
                                fmt::format("'{}' submits to {}: {}.", client.name, connection_phrase(client),
                                            pass_reason(client, hveAccount)));
            f.evidence = std::move(evidence);
            f.related = device_related(client);
            f.related.push_back(migrate_to(target));
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
        for (const auto& unknown : unknowns) whats.push_back(unknown);
        Finding f = finding(Status::Fail, subject,
                            fmt::format("'{}' submits to {}: {}.", client.name, connection_phrase(client),
                                        fmt::join(whats, "; ")));
        f.severity = worst;
        evidence["problems"] = std::move(problemEvidence);
        evidence["schedule"] = {{"id", schedule.schedule.id}, {"phase", schedule.phase()}, {"summary", schedule.sentence()}};
        f.evidence = std::move(evidence);
        f.related = device_related(client);
        f.related.push_back(migrate_to(target));
        f.remediation = fmt::format("Reconfigure '{}'{}: {}.", client.name,
                                    client.owner.empty() ? "" : fmt::format(" (owner: {})", client.owner),
                                    fmt::join(fixes, "; "));
        findings.push_back(std::move(f));
    }
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_smtp_client_endpoint_rule() { return std::make_unique<SmtpClientEndpointRule>(make_metadata()); }

}  // namespace tenantscan::rules
