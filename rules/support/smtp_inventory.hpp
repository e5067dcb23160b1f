// The device inventory as the rules see it: subjects, endpoints, recipient domains, and the
// migration target a device should move to. Shared by the smtp and hve rules that read smtpClients.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tenantscan/model.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/smtp_clients.hpp>

namespace tenantscan::rules {

// Host names (docs/microsoft-facts.md §1, §2).
inline constexpr const char* kExchangeSubmissionHost = "smtp.office365.com";
inline constexpr const char* kExchangeLegacySubmissionHost = "smtp-legacy.office365.com";
inline constexpr const char* kHveHost = "smtp.hve.mx.microsoft";
inline constexpr const char* kHveDeprecatedHost = "smtp-hve.office365.com";
inline constexpr const char* kAcsHost = "smtp.azurecomm.net";
// Exchange Online client submission in the sovereign clouds (rules/smtp/smtp_client_endpoint.md cites
// the sources): US Government GCC High and DoD, and Office 365 operated by 21Vianet in China. The
// commercial retirement schedules do not say what happens there.
inline constexpr const char* kUsGovernmentSubmissionHost = "smtp.office365.us";
inline constexpr const char* kChinaSubmissionHost = "smtp.partner.outlook.cn";

enum class SmtpEndpoint { ExchangeSubmission, ExchangeLegacySubmission, SovereignSubmission, Hve, HveDeprecated, Acs, Other };

// Case-insensitive, a trailing dot ignored.
SmtpEndpoint classify_endpoint(std::string_view host);
// The tenant's MX endpoint, where Direct Send and connector relay submit on port 25
// (docs/microsoft-facts.md §10): "<domain-with-dashes>.mail.protection.outlook.com", or the newer
// "<…>.mx.microsoft" form (not the HVE host smtp.hve.mx.microsoft).
bool is_mx_endpoint(std::string_view host);
// The inventory entries on a path: those whose `path` says so. Entries without a path that submit
// to an MX endpoint (Direct Send or relay, unsaid) are listed by smtp-direct-send-available as a review.
bool on_path(const SmtpClient& client, SmtpPath path);
bool mx_endpoint_without_path(const SmtpClient& client);
bool is_exchange_submission(SmtpEndpoint endpoint);  // smtp.office365.com or smtp-legacy.office365.com
// "Office 365 GCC High / DoD (US Government)" or "Office 365 operated by 21Vianet (China)" for a
// sovereign-cloud submission host, else "".
std::string sovereign_cloud(std::string_view host);

// {kind "smtpClient", id = name, name = name}; a row without a name is named by its location.
Subject smtp_client_subject(const SmtpClient& client);

// "No device inventory: the snapshot has no smtpClients section and no --clients file was given."
std::string no_inventory_message();
// "The inventory entry at clients.csv:7 cannot be checked: port 'abc' is not …; auth is missing."
std::string invalid_client_message(const SmtpClient& client);
std::string invalid_client_remediation(const SmtpClient& client);

// The domain of a recipient entry: "a@Contoso.com", "contoso.com" and "@contoso.com" → "contoso.com".
std::string recipient_domain(std::string_view recipient);
// Lower-case accepted domain names from /exchange/acceptedDomains (empty when not collected).
std::vector<std::string> accepted_domain_names(const Snapshot& snapshot);
bool is_accepted_domain(const std::vector<std::string>& accepted, std::string_view domain);
// Recipient entries whose domain is not accepted (sorted, unique).
std::vector<std::string> external_recipients(const SmtpClient& client, const std::vector<std::string>& accepted);

// Where a sender that loses Basic SMTP AUTH should go (docs/microsoft-facts.md §1): OAuth when it already uses
// it, HVE when its recipients are all internal, Azure Communication Services when some are
// external, else the three choices. `accepted` may be empty (domains unknown).
std::string migration_target(const SmtpClient& client, const std::vector<std::string>& accepted);
// The three choices, for a sender known only from the sign-in logs.
std::string generic_migration_target();

// The device as the migration plan shows it (role Sender, detail "device (owner Facilities): submits
// to smtp.office365.com:587 (STARTTLS, auth basic as scanner@contoso.com)"), and the account it
// signs in as (role SignsInAs) when it names one.
std::vector<Related> device_related(const SmtpClient& client);
// The finding with the device's related objects (device_related) added.
Finding with_device(Finding f, const SmtpClient& client);
// Where a sender should go (role MigrateTo, the target in words as its name).
Related migrate_to(std::string target);

}  // namespace tenantscan::rules
