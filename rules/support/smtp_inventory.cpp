#include "support/smtp_inventory.hpp"

#include <tenantscan/device_catalog.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

namespace tenantscan::rules {

namespace {

std::string canonical_host(std::string_view host) {
    std::string name = to_lower(host);
    if (!name.empty() && name.back() == '.') name.pop_back();
    return name;
}

}  // namespace

std::string sovereign_cloud(std::string_view host) {
    const std::string name = canonical_host(host);
    if (name == kUsGovernmentSubmissionHost) return "Office 365 GCC High / DoD (US Government)";
    if (name == kChinaSubmissionHost) return "Office 365 operated by 21Vianet (China)";
    return {};
}

SmtpEndpoint classify_endpoint(std::string_view host) {
    const std::string name = canonical_host(host);
    if (!sovereign_cloud(name).empty()) return SmtpEndpoint::SovereignSubmission;
    if (name == kExchangeSubmissionHost) return SmtpEndpoint::ExchangeSubmission;
    if (name == kExchangeLegacySubmissionHost) return SmtpEndpoint::ExchangeLegacySubmission;
    if (name == kHveHost) return SmtpEndpoint::Hve;
    if (name == kHveDeprecatedHost) return SmtpEndpoint::HveDeprecated;
    if (name == kAcsHost) return SmtpEndpoint::Acs;
    return SmtpEndpoint::Other;
}

bool is_mx_endpoint(std::string_view host) {
    const std::string name = canonical_host(host);
    auto ends_with = [&](std::string_view suffix) {
        return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with(".mail.protection.outlook.com")) return true;
    return ends_with(".mx.microsoft") && classify_endpoint(name) == SmtpEndpoint::Other;
}

bool on_path(const SmtpClient& client, SmtpPath path) { return client.path && *client.path == path; }

bool mx_endpoint_without_path(const SmtpClient& client) { return !client.path && is_mx_endpoint(client.host); }

bool is_exchange_submission(SmtpEndpoint endpoint) {
    return endpoint == SmtpEndpoint::ExchangeSubmission || endpoint == SmtpEndpoint::ExchangeLegacySubmission;
}

Subject smtp_client_subject(const SmtpClient& client) {
    const std::string name = client.name.empty() ? fmt::format("(unnamed device at {})", client.location) : client.name;
    return {"smtpClient", name, name};
}

std::string no_inventory_message() {
    return "No device inventory: the snapshot has no smtpClients section and no --clients file was given.";
}

std::string invalid_client_message(const SmtpClient& client) {
    return fmt::format("The inventory entry at {} cannot be checked: {}.", client.location, fmt::join(client.problems, "; "));
}

std::string invalid_client_remediation(const SmtpClient& client) {
    return fmt::format("Correct the entry at {} (columns and values: docs/inventory.md) and scan again.", client.location);
}

std::string recipient_domain(std::string_view recipient) {
    const auto at = recipient.rfind('@');
    return to_lower(at == std::string_view::npos ? recipient : recipient.substr(at + 1));
}

std::vector<std::string> accepted_domain_names(const Snapshot& snapshot) {
    std::vector<std::string> names;
    if (!snapshot.acceptedDomains) return names;
    for (const auto& domain : *snapshot.acceptedDomains) names.push_back(to_lower(domain.domainName));
    std::sort(names.begin(), names.end());
    return names;
}

bool is_accepted_domain(const std::vector<std::string>& accepted, std::string_view domain) {
    return std::binary_search(accepted.begin(), accepted.end(), to_lower(domain));
}

std::vector<std::string> external_recipients(const SmtpClient& client, const std::vector<std::string>& accepted) {
    std::vector<std::string> external;
    for (const auto& r : client.recipients)
        if (!is_accepted_domain(accepted, recipient_domain(r))) external.push_back(r);
    std::sort(external.begin(), external.end());
    external.erase(std::unique(external.begin(), external.end()), external.end());
    return external;
}

namespace {

// The two paths without SMTP AUTH, with what they need (docs/microsoft-facts.md §10).
constexpr const char* kDirectSendOption =
    "Direct Send to the tenant's MX endpoint on port 25 (no authentication; internal recipients only; needs outbound "
    "port 25, a sender in an accepted domain, the sending IP in SPF, and RejectDirectSend off)";
constexpr const char* kRelayOption =
    "SMTP relay through an OnPremises inbound connector (port 25 to the MX endpoint from a static public IP the "
    "connector and the SPF record name, or with a certificate; external recipients too)";

}  // namespace

std::string generic_migration_target() {
    return fmt::format("move it to OAuth if the software supports it (SMTP AUTH with XOAUTH2); otherwise to a High "
                       "Volume Email account (smtp.hve.mx.microsoft:587, STARTTLS) or {} if it only mails internal "
                       "recipients, or to Azure Communication Services (smtp.azurecomm.net:587, STARTTLS) or {} for "
                       "external mail",
                       kDirectSendOption, kRelayOption);
}

std::string migration_target(const SmtpClient& client, const std::vector<std::string>& accepted) {
    if (client.auth && *client.auth == SmtpAuth::OAuth)
        return "keep it on OAuth (SMTP AUTH with XOAUTH2), which the retirement does not affect";
    if (client.recipients.empty() || accepted.empty()) return generic_migration_target();
    const auto external = external_recipients(client, accepted);
    if (external.empty())
        return fmt::format("move it to a High Volume Email account (smtp.hve.mx.microsoft:587, STARTTLS): it only "
                           "mails internal recipients; or to OAuth if the software supports it; or to {}",
                           kDirectSendOption);
    return fmt::format("move it to Azure Communication Services (smtp.azurecomm.net:587, STARTTLS): it mails external "
                       "recipients ({}), which HVE and Direct Send do not deliver; or to OAuth if the software "
                       "supports it; or to {}",
                       fmt::join(external, ", "), kRelayOption);
}

std::vector<Related> device_related(const SmtpClient& client) {
    std::string where = client.host;
    if (client.port) where += fmt::format(":{}", *client.port);
    std::vector<std::string> how;
    if (client.security) how.push_back(to_string(*client.security));
    if (client.auth)
        how.push_back(fmt::format("auth {}{}", to_string(*client.auth), client.username.empty() ? "" : " as " + client.username));
    std::vector<std::string> product;
    for (const std::string* text : {&client.vendor, &client.model})
        if (!text->empty()) product.push_back(*text);
    if (!client.firmware.empty()) product.push_back("firmware " + client.firmware);
    Related device;
    device.kind = Related::Kind::Device;
    device.id = device.name = smtp_client_subject(client).name;
    device.role = Related::Role::Sender;
    device.detail = fmt::format("device{}{}: submits to {}{}", product.empty() ? "" : " " + fmt::to_string(fmt::join(product, " ")),
                                client.owner.empty() ? "" : fmt::format(" (owner {})", client.owner), where,
                                how.empty() ? "" : fmt::format(" ({})", fmt::join(how, ", ")));
    std::vector<Related> out{std::move(device)};
    // A device on Basic auth has to move: what its vendor says about OAuth (data/devices.json), for
    // the migration plan. Devices on other paths are not affected by the retirement.
    if (client.auth && *client.auth == SmtpAuth::Basic) {
        Related vendor;
        vendor.kind = Related::Kind::Setting;
        vendor.name = "device catalogue";
        vendor.role = Related::Role::VendorSays;
        vendor.detail = device_oauth_advice(builtin_device_catalog(), {client.vendor, client.model, client.firmware}).text;
        out.push_back(std::move(vendor));
    }
    if (!client.username.empty()) {
        Related account;
        account.kind = Related::Kind::Account;
        account.name = client.username;
        account.role = Related::Role::SignsInAs;
        out.push_back(std::move(account));
    }
    return out;
}

Finding with_device(Finding f, const SmtpClient& client) {
    for (Related& r : device_related(client)) f.related.push_back(std::move(r));
    return f;
}

Related migrate_to(std::string target) {
    Related r;
    r.kind = Related::Kind::Endpoint;
    r.name = std::move(target);
    r.role = Related::Role::MigrateTo;
    return r;
}

}  // namespace tenantscan::rules
