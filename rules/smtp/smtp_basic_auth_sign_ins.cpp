// smtp-basic-auth-sign-ins: accounts other than HVE accounts that the sign-in logs show
// submitting mail with Basic SMTP AUTH, i.e. the senders the retirement breaks.
#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/schedule.hpp>
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/detail/text.hpp>

#include "support/rule_base.hpp"
#include "support/smtp_inventory.hpp"
#include "support/smtp_senders.hpp"
#include "support/subjects.hpp"
#include "smtp/smtp_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "smtp-basic-auth-sign-ins";
    m.title = "No account other than an HVE account submits mail with Basic SMTP AUTH";
    m.defaultSeverity = Severity::High;
    m.rationale =
        "Exchange Online is retiring Basic authentication for SMTP AUTH client submission (smtp.office365.com). "
        "Every account the Entra sign-in logs show with client app 'Authenticated SMTP' is a device or "
        "application that stops sending at the cut-off of the chosen schedule. HVE accounts are not affected. "
        "The severity follows the schedule: high before the cut-off, critical on or after it.";
    m.remediation =
        "Find the device or application behind the sign-ins (their source IPs identify it) and move it to OAuth "
        "if the software supports it, to a High Volume Email account if it only mails internal recipients, or to "
        "Azure Communication Services for external mail.";
    m.references = {
        "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-to-retire-basic-auth-for-client-submission-smtp/ba-p/4114750",
        "https://learn.microsoft.com/en-us/entra/identity/monitoring-health/concept-sign-ins",
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/high-volume-mails-m365",
        "https://learn.microsoft.com/en-us/azure/communication-services/quickstarts/email/send-email-smtp/send-email-smtp",
    };
    m.requiredSections = {"/graph/signIns", "/exchange/hveAccounts"};
    return m;
}

class SmtpBasicAuthSignInsRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

nlohmann::json schedule_evidence(const ScheduleStatus& status) {
    return {{"id", status.schedule.id}, {"asOf", status.asOf}, {"phase", status.phase()}, {"summary", status.sentence()}};
}

// The devices of the inventory that submit as this account: each gets its own target.
std::string remediation_for(const SmtpSender& sender, const SmtpClientInventory* inventory,
                            const std::vector<std::string>& accepted, const nlohmann::json& summary) {
    std::vector<std::string> perDevice;
    if (inventory)
        for (const auto& client : inventory->clients)
            if (client.valid() && iequals(client.username, sender.subject.name))
                perDevice.push_back(fmt::format("'{}' ({}:{}): {}", client.name, client.host, *client.port,
                                                migration_target(client, accepted)));
    if (!perDevice.empty())
        return fmt::format("Devices in the inventory that submit as {}: {}.", sender.subject.name,
                           fmt::join(perDevice, "; "));
    const auto& ips = summary["sourceIps"];
    return fmt::format("Find the device or application that submits as {}{} and {}. Add it to the device inventory "
                       "(docs/inventory.md) so the next scan checks its new settings.",
                       sender.subject.name,
                       ips.empty() ? std::string() : fmt::format(" (source IPs {})", fmt::join(ips.get<std::vector<std::string>>(), ", ")),
                       generic_migration_target());
}

std::vector<Finding> SmtpBasicAuthSignInsRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const ScheduleStatus schedule = schedule_status(context.options());
    const HveAccountIndex hve(context.directory());
    const auto senders = non_hve_smtp_senders(context, hve);
    const std::size_t smtpSignIns = authenticated_smtp_sign_in_count(snapshot);

    if (senders.empty()) {
        Finding f = finding(Status::Pass, tenant_subject(snapshot),
                            smtpSignIns == 0
                                ? fmt::format("The {} sign-ins in /graph/signIns include no 'Authenticated SMTP' "
                                              "sign-in: no account was seen submitting mail with Basic SMTP AUTH.",
                                              snapshot.signIns->size())
                                : fmt::format("All {} 'Authenticated SMTP' sign-ins in /graph/signIns come from HVE "
                                              "accounts, which the retirement does not affect.",
                                              smtpSignIns));
        f.evidence = {{"signInsCollected", snapshot.signIns->size()},
                      {"authenticatedSmtpSignIns", smtpSignIns},
                      {"schedule", schedule_evidence(schedule)}};
        return {f};
    }

    const auto inventory = scan_inventory(snapshot, context.options());
    const auto accepted = accepted_domain_names(snapshot);
    std::vector<Finding> findings;
    for (const SmtpSender& sender : senders) {
        nlohmann::json summary = sign_in_summary(sender.signIns);
        const std::size_t failures = sender.signIns.size() - summary["successes"].get<std::size_t>();
        Finding f = finding(
            Status::Fail, sender.subject,
            fmt::format("{} submitted mail with Basic SMTP AUTH {} time{} between {} and {} ({} succeeded, {} failed); "
                        "this stops working under schedule {}: {}.",
                        sender.subject.name, sender.signIns.size(), sender.signIns.size() == 1 ? "" : "s",
                        summary["firstSeen"].get<std::string>(), summary["lastSeen"].get<std::string>(),
                        summary["successes"].get<std::size_t>(), failures, schedule.schedule.id, schedule.sentence()));
        f.severity = schedule.severity;
        f.remediation = remediation_for(sender, inventory, accepted, summary);
        if (sender.user && context.directory().user(*sender.user).accountEnabled == false) {
            f.message += " Its Entra user is disabled (accountEnabled false): it cannot sign in at all, so the device is "
                         "already refused.";
            f.remediation = fmt::format("The account is disabled: if the device must keep sending, enable it "
                                        "(Update-MgUser -UserId {} -AccountEnabled:$true) only while you move the "
                                        "device off Basic SMTP AUTH. ",
                                        sender.subject.id) +
                            f.remediation;
        }
        f.related = {sign_in_sender(sender.subject, summary), migrate_to(generic_migration_target())};
        f.evidence = {{"account", {{"id", sender.subject.id}, {"userPrincipalName", sender.subject.name}}},
                      {"accountEnabled", sender.user && context.directory().user(*sender.user).accountEnabled
                                             ? nlohmann::json(*context.directory().user(*sender.user).accountEnabled)
                                             : nlohmann::json(nullptr)},
                      {"entraUser", entra_user_evidence(context.directory(), sender.user)},
                      {"signIns", std::move(summary)},
                      {"schedule", schedule_evidence(schedule)},
                      {"target", generic_migration_target()}};
        findings.push_back(std::move(f));
    }
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_smtp_basic_auth_sign_ins_rule() {
    return std::make_unique<SmtpBasicAuthSignInsRule>(make_metadata());
}

}  // namespace tenantscan::rules
