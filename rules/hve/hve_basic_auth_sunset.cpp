// hve-basic-auth-sunset: devices that use an HVE account with Basic auth need an OAuth plan
// before Basic ends on HVE too.
#include <fmt/format.h>
#include <tenantscan/schedule.hpp>
#include <tenantscan/smtp_clients.hpp>

#include "support/rule_base.hpp"
#include "support/smtp_inventory.hpp"
#include "support/smtp_senders.hpp"
#include "support/subjects.hpp"
#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

namespace {

RuleMetadata make_metadata() {
    RuleMetadata m;
    m.id = "hve-basic-auth-sunset";
    m.concernsHveAccounts = true;
    m.title = "Devices on HVE accounts have a plan for when Basic auth ends on HVE";
    m.defaultSeverity = Severity::Info;
    m.rationale = fmt::format(
        "HVE still accepts Basic authentication, but only until {} (the date is in rules/schedules.json). A device "
        "that moves to HVE with its user name and password has bought time, not a permanent fix: plan OAuth for it "
        "(an Entra app with the Mail.Send application permission, added to the HVE account with Add-HVEAppAccess). "
        "The finding is informational before that date and critical on it and after it.",
        hve_dates().basicAuthEndsText);
    m.remediation =
        "Plan OAuth for the device: register an Entra app with the Exchange Mail.Send application permission and "
        "run Add-HVEAppAccess -Identity <hve account> -AppIds <app id>; then configure the device for XOAUTH2.";
    m.references = hve_dates().references;
    m.requiredSections = {"/exchange/hveAccounts"};
    return m;
}

class HveBasicAuthSunsetRule final : public RuleBase {
public:
    using RuleBase::RuleBase;
    std::vector<Finding> evaluate(const RuleContext& context) const override;
};

std::vector<Finding> HveBasicAuthSunsetRule::evaluate(const RuleContext& context) const {
    const Snapshot& snapshot = context.snapshot();
    const auto inventory = scan_inventory(snapshot, context.options());
    if (!inventory) return {finding(Status::NotApplicable, tenant_subject(snapshot), no_inventory_message())};

    const HveDates& dates = hve_dates();
    const long daysLeft = days_between(context.options().asOf, dates.basicAuthEndsOn);
    const HveAccountIndex hve(context.directory());
    std::vector<Finding> findings;
    for (const SmtpClient& client : inventory->clients) {
        const Subject subject = smtp_client_subject(client);
        if (!client.valid()) {
            findings.push_back(invalid_inventory_entry(client));
            continue;
        }
        if (*client.auth == SmtpAuth::None || !hve.find(client.username)) continue;
        nlohmann::json evidence = {{"client", to_json(client)}, {"hveBasicAuthEndsOn", dates.basicAuthEndsOn}};
        if (*client.auth == SmtpAuth::OAuth) {
            Finding f = finding(Status::Pass, subject,
                                fmt::format("'{}' already uses OAuth with HVE account {}.", client.name, client.username));
            f.evidence = std::move(evidence);
            f.related = device_related(client);
            findings.push_back(std::move(f));
            continue;
        }
        // The end date is the day Basic auth on HVE ends: from that day on (included) it is critical.
        Finding f = finding(Status::Fail, subject,
                            daysLeft > 0
                                ? fmt::format("'{}' uses Basic auth with HVE account {}; Basic auth on HVE ends on {} "
                                              "({}; {} day{} left): plan OAuth.",
                                              client.name, client.username, dates.basicAuthEndsOn,
                                              dates.basicAuthEndsText, daysLeft, daysLeft == 1 ? "" : "s")
                            : daysLeft == 0
                                ? fmt::format("'{}' uses Basic auth with HVE account {}, and Basic auth on HVE ends today "
                                              "({}): from today the device may be refused.",
                                              client.name, client.username, dates.basicAuthEndsOn)
                                : fmt::format("'{}' uses Basic auth with HVE account {}, and Basic auth on HVE ended on "
                                              "{}: the device cannot sign in.",
                                              client.name, client.username, dates.basicAuthEndsOn));
        if (daysLeft <= 0) f.severity = Severity::Critical;
        f.evidence = std::move(evidence);
        f.related = device_related(client);
        f.remediation = fmt::format(
            "Plan OAuth for '{}'{}: register an Entra app with the Exchange Mail.Send application permission, run "
            "Add-HVEAppAccess -Identity {} -AppIds <app id> (at most 10 apps per account), and configure the device "
            "for XOAUTH2 if its software supports it.",
            client.name, client.owner.empty() ? "" : fmt::format(" (owner: {})", client.owner), client.username);
        findings.push_back(std::move(f));
    }
    if (findings.empty())
        return {finding(Status::NotApplicable, tenant_subject(snapshot),
                        fmt::format("No device in the inventory ({}) sends through an HVE account.", inventory->source))};
    return findings;
}

}  // namespace

std::unique_ptr<tenantscan::Rule> make_hve_basic_auth_sunset_rule() { return std::make_unique<HveBasicAuthSunsetRule>(make_metadata()); }

}  // namespace tenantscan::rules
