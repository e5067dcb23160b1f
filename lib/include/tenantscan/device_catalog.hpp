// Which device and application families can send through Exchange Online with OAuth, as their
// vendors state it: the curated catalogue data/devices.json, compiled into the library.
// The data format, the statuses and how rows are added: docs/devices.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tenantscan {

// What the vendor says about OAuth for the family (data/devices.json "status").
enum class DeviceOAuthStatus {
    Available,         // "oauth-available": the family can use OAuth today
    FromFirmware,      // "from-firmware": from firmware `firmwareFrom` on
    Partial,           // "partial": only in the way `limitation` describes
    NonePlanned,       // "none-planned": the vendor says no OAuth firmware is planned
    CheckVendorList,   // "check-vendor-list": the vendor lists supported models; check yours there
    Unsupported,       // "unsupported": the vendor says the family cannot use OAuth
};

// The OAuth grant the family uses ("flows").
enum class DeviceOAuthFlow {
    DeviceCode,         // "device-code": the device shows a code that is entered at Microsoft
    AuthorizationCode,  // "authorization-code": an administrator signs in in a browser opened from
                        // the device's panel or web pages (or the product's console); it keeps the token
    ClientCredentials,  // "client-credentials": an app registration's own secret or certificate
    ResourceOwnerPassword,  // "resource-owner-password": the mailbox's user name and password are sent
                            // to the token endpoint (fails with MFA; Conditional Access applies)
    Unknown,            // "unknown": the vendor's page does not say
};

std::string to_string(DeviceOAuthStatus status);  // the data file's spelling, e.g. "from-firmware"
std::string to_string(DeviceOAuthFlow flow);

struct DeviceSource {
    std::string url;      // the vendor's own page (https)
    std::string checked;  // YYYY-MM-DD: when the row was checked against that page
};

struct DeviceFamily {
    std::string vendor;
    std::vector<std::string> aliases;        // other spellings of the vendor name
    std::string family;
    std::string category;                    // mfp, printer, scanner, nas, firewall, backup, application
    std::vector<std::string> modelPatterns;  // RE2, case-insensitive, matched against the whole model
    DeviceOAuthStatus status = DeviceOAuthStatus::Unsupported;
    std::string firmwareFrom;                // set exactly when status is FromFirmware
    std::string limitation;                  // set exactly when status is Partial
    std::vector<DeviceOAuthFlow> flows;
    std::string notes;
    std::vector<DeviceSource> sources;
};

// How a given firmware version compares with a row's firmwareFrom.
enum class FirmwareCheck {
    NotApplicable,  // the row has no firmware threshold, or no firmware was given
    AtLeast,        // the firmware is firmwareFrom or later
    Below,          // the firmware is older than firmwareFrom: update it first
    Undetermined,   // the two versions cannot be compared (different schemes): check by hand
};
std::string to_string(FirmwareCheck check);

// Compares two versions written the same way: runs of digits and runs of letters or dots, the
// letters and dots equal in both (case-insensitive), ending in a number; the longer one may go on
// with ".N" groups only. "FW23" < "FW24", "16r1" < "16r2", "7.1.1" < "7.2", "4.2" = "4.2.0".
// Anything else ("CXTPC.240.037" against "FW24", "v4.3" against "4.2", "4.3-beta") is
// Undetermined, never a guess.
FirmwareCheck compare_firmware(std::string_view firmware, std::string_view threshold);

struct DeviceQuery {
    std::string vendor;    // required: the vendor name or one of its aliases (case-insensitive)
    std::string model;     // optional: when given, only families whose patterns match it
    std::string firmware;  // optional: compared with firmwareFrom
};

struct DeviceMatch {
    DeviceFamily family;
    FirmwareCheck firmware = FirmwareCheck::NotApplicable;
};

class DeviceCatalog {
public:
    // Parses and validates a catalogue document; any defect (unknown key, missing field, status or
    // flow outside the allowed set, non-https source, bad date, duplicate row, pattern that does
    // not compile) throws InputError naming `file` and the JSON pointer. Never a partial catalogue.
    static DeviceCatalog parse(std::string_view json, const std::string& file = "data/devices.json");

    int data_version() const;
    const std::string& updated() const;
    const std::string& note() const;
    // Sorted by vendor, then family (case-insensitive).
    const std::vector<DeviceFamily>& families() const;

    // The families of the query's vendor (matched on name and aliases, case-insensitive; a model
    // string that starts with the vendor name is matched without it). With a model, only the
    // families with a pattern matching the whole model. An unknown vendor or model gives no rows.
    std::vector<DeviceMatch> lookup(const DeviceQuery& query) const;

    struct Impl;

private:
    DeviceCatalog() = default;  // only parse() makes one: there is no empty, unvalidated catalogue
    std::shared_ptr<const Impl> impl_;
};

// What the catalogue says a device should do about OAuth, for the migration plan (docs/devices.md).
// Never claims OAuth support without a catalogue row: no vendor, an unknown vendor or a model no row
// matches gives Kind::Unknown with a sentence saying so.
struct DeviceAdvice {
    enum class Kind {
        OAuth,           // a row says OAuth is available (and the firmware, if any, is recent enough)
        UpdateFirmware,  // OAuth from firmware X, and the device runs an older one
        CheckFirmware,   // OAuth from firmware X; the device's firmware is not given or not comparable
        Partial,         // only in the way the row's limitation says
        NoOAuth,         // the vendor says none planned, or unsupported
        CheckVendorList, // the vendor lists the models: check yours
        Mixed,           // several rows match and they differ
        Unknown,         // no row: vendor or model not in the inventory or not in the catalogue
    };
    Kind kind = Kind::Unknown;
    std::string text;                  // one or two sentences, naming the vendor's page and its date
    std::vector<DeviceMatch> matches;  // the rows it is based on (empty for Unknown)
};
std::string to_string(DeviceAdvice::Kind kind);  // "oauth", "update-firmware", … "unknown"
DeviceAdvice device_oauth_advice(const DeviceCatalog& catalog, const DeviceQuery& query);

// The catalogue compiled into the library from data/devices.json (parsed once; throws InputError
// if the embedded data is malformed, which the test suite rules out).
const DeviceCatalog& builtin_device_catalog();

}  // namespace tenantscan
