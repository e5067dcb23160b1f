// The device and application inventory (`smtpClients`): what submits mail, where, and how.
// Admins keep it in spreadsheets, so it is read from CSV as well as JSON (inside the snapshot, or
// a separate file given with --clients). Format: docs/inventory.md.
//
// A row with a bad value is kept, with its problems and where it came from (file and line, or
// JSON pointer), so that the rules report it as an `error` instead of silently dropping a device.
// Only a file that cannot be read as an inventory at all throws InputError.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tenantscan {

struct Snapshot;
struct ScanOptions;

enum class SmtpSecurity { StartTls, Tls, None };  // "starttls" | "tls" | "none"
enum class SmtpAuth { Basic, OAuth, None };        // "basic" | "oauth" | "none"
// How the device's mail enters Microsoft 365 (docs/inventory.md, docs/microsoft-facts.md §10):
// "smtp-auth" (client submission to smtp.office365.com), "hve", "acs", "direct-send" (port 25 to
// the tenant's MX endpoint, no authentication, internal recipients only) or "relay" (port 25 to the
// MX endpoint, accepted by an inbound connector for the device's public IP or certificate).
enum class SmtpPath { SmtpAuth, Hve, Acs, DirectSend, Relay };

const char* to_string(SmtpSecurity security);
const char* to_string(SmtpAuth auth);
const char* to_string(SmtpPath path);

struct SmtpClient {
    std::string name;                        // required, unique in the inventory
    std::string host;                        // required
    std::optional<int> port;                 // required, 1..65535
    std::optional<SmtpSecurity> security;    // required
    std::optional<SmtpAuth> auth;            // required
    std::string username;                    // required unless auth is none
    std::string from;
    std::vector<std::string> recipients;     // addresses or domains ("contoso.com", "@contoso.com")
    std::optional<int> maxRecipientsPerMessage;
    std::string owner;
    std::string notes;
    // What the device is, for the device catalogue (docs/devices.md); all optional, free text.
    std::string vendor;
    std::string model;
    std::string firmware;
    std::optional<SmtpPath> path;            // optional: nullopt when the inventory does not say
    std::string publicIp;                    // optional: the public IPv4/IPv6 address its mail leaves from
    std::string certificateName;             // optional: the TLS certificate name it (or its relay) presents

    std::string location;                    // "clients.csv:7" or "snapshot.json: /smtpClients/2"
    std::vector<std::string> problems;       // one sentence per bad or missing value
    bool valid() const { return problems.empty(); }
};

struct SmtpClientInventory {
    std::string source;                      // the file, or "snapshot.json: /smtpClients"
    std::vector<SmtpClient> clients;         // in file order, bad rows included
};

// JSON: an array of objects (or {"value": [...]}, or one bare object), property names matched
// case-insensitively; recipients as an array or a ';'-separated string; port and
// maxRecipientsPerMessage as numbers or numeric strings. Throws InputError when the value is not
// a list of objects.
SmtpClientInventory parse_smtp_clients_json(const nlohmann::json& value, const std::string& file,
                                            const std::string& pointer);

// CSV (RFC 4180 quoting, CRLF or LF, UTF-8 with or without BOM): a header row naming the columns
// (any order, case-insensitive; separator ',' or ';' or tab, taken from the header line), then one
// device per record. Blank lines are skipped; columns the format does not define are ignored.
// Throws InputError for a missing header, a missing required column or an unterminated quote.
SmtpClientInventory parse_smtp_clients_csv(const std::string& text, const std::string& file);

// Reads a file (UTF-8, UTF-8+BOM, UTF-16 with BOM): JSON when its first character is '[' or '{',
// CSV otherwise.
SmtpClientInventory load_smtp_clients(const std::string& path);

// The inventory a scan uses: the one given in the options (--clients), else the snapshot's
// smtpClients section, else none (nullptr). The pointer refers to that object, not a copy: it is
// valid while the options and the snapshot are.
const SmtpClientInventory* scan_inventory(const Snapshot& snapshot, const ScanOptions& options);

// The client as evidence: its fields as given, and its location.
nlohmann::json to_json(const SmtpClient& client);

}  // namespace tenantscan
