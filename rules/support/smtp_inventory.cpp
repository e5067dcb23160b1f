#include "support/smtp_inventory.hpp"

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

std::string generic_migration_target() {
    return "move it to OAuth if the software supports it (SMTP AUTH with XOAUTH2); otherwise to a High Volume Email "
           "account (smtp.hve.mx.microsoft:587, STARTTLS) if it only mails internal recipients, or to Azure "
           "Communication Services (smtp.azurecomm.net:587, STARTTLS) for external mail";
}

std::string migration_target(const SmtpClient& client, const std::vector<std::string>& accepted) {
    if (client.auth && *client.auth == SmtpAuth::OAuth)
        return "keep it on OAuth (SMTP AUTH with XOAUTH2), which the retirement does not affect";
    if (client.recipients.empty() || accepted.empty()) return generic_migration_target();
    const auto external = external_recipients(client, accepted);
    if (external.empty())
        return "move it to a High Volume Email account (smtp.hve.mx.microsoft:587, STARTTLS): it only mails "
               "internal recipients; or to OAuth if the software supports it";
    return fmt::format("move it to Azure Communication Services (smtp.azurecomm.net:587, STARTTLS): it mails external "
                       "recipients ({}), which HVE does not deliver; or to OAuth if the software supports it",
                       fmt::join(external, ", "));
}

}  // namespace tenantscan::rules
