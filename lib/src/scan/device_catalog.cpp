#include <tenantscan/device_catalog.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <re2/re2.h>
#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/detail/text.hpp>
#include <tenantscan/detail/dates.hpp>

#include "device_catalog_data.hpp"
#include "loader/text_detail.hpp"

namespace tenantscan {

namespace {

using nlohmann::json;

constexpr std::pair<DeviceOAuthStatus, const char*> kStatuses[] = {
    {DeviceOAuthStatus::Available, "oauth-available"},
    {DeviceOAuthStatus::FromFirmware, "from-firmware"},
    {DeviceOAuthStatus::Partial, "partial"},
    {DeviceOAuthStatus::NonePlanned, "none-planned"},
    {DeviceOAuthStatus::CheckVendorList, "check-vendor-list"},
    {DeviceOAuthStatus::Unsupported, "unsupported"},
};

constexpr std::pair<DeviceOAuthFlow, const char*> kFlows[] = {
    {DeviceOAuthFlow::DeviceCode, "device-code"},
    {DeviceOAuthFlow::AuthorizationCode, "authorization-code"},
    {DeviceOAuthFlow::ClientCredentials, "client-credentials"},
    {DeviceOAuthFlow::ResourceOwnerPassword, "resource-owner-password"},
    {DeviceOAuthFlow::Unknown, "unknown"},
};

std::string trim(std::string_view text) {
    const auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) return {};
    const auto end = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(begin, end - begin + 1));
}

// Vendor names compare case-insensitively with runs of spaces, '-' and '_' folded to one space.
std::string vendor_key(std::string_view name) {
    std::string out;
    bool gap = false;
    for (char c : trim(name)) {
        if (c == ' ' || c == '-' || c == '_' || c == '\t') {
            gap = true;
            continue;
        }
        if (gap && !out.empty()) out += ' ';
        gap = false;
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return out;
}

// Strict reading of the curated file: every key known, every type as documented.
class Reader {
public:
    Reader(const json& value, const std::string& file, std::string pointer)
        : value_(value), file_(file), pointer_(std::move(pointer)) {}

    [[noreturn]] void fail(const std::string& message) const { throw InputError(file_, pointer_, message); }

    Reader at(const std::string& key) const {
        if (!value_.is_object()) fail("expected an object");
        const auto it = value_.find(key);
        if (it == value_.end()) fail(fmt::format("'{}' is missing", key));
        return Reader(*it, file_, pointer_ + "/" + text_detail::escape_pointer_token(key));
    }
    bool has(const std::string& key) const { return value_.is_object() && value_.contains(key); }
    bool is_empty_array() const { return value_.is_array() && value_.empty(); }

    void only_keys(std::initializer_list<const char*> allowed) const {
        if (!value_.is_object()) fail("expected an object");
        for (const auto& item : value_.items()) {
            const bool known = std::any_of(allowed.begin(), allowed.end(),
                                           [&](const char* k) { return item.key() == k; });
            if (!known) Reader(item.value(), file_, pointer_ + "/" + text_detail::escape_pointer_token(item.key())).fail("unknown key (a misspelling?)");
        }
    }

    std::string text() const {
        if (!value_.is_string()) fail("expected a string");
        const auto s = trim(value_.get<std::string>());
        if (s.empty()) fail("is empty");
        return s;
    }
    int integer() const {
        if (!value_.is_number_integer() || value_.get<long long>() < 1 || value_.get<long long>() > 1000000)
            fail("expected a positive integer");
        return value_.get<int>();
    }
    std::vector<Reader> items() const {
        if (!value_.is_array()) fail("expected an array");
        if (value_.empty()) fail("is empty");
        std::vector<Reader> out;
        for (std::size_t i = 0; i < value_.size(); ++i) out.emplace_back(value_[i], file_, pointer_ + "/" + std::to_string(i));
        return out;
    }
    std::vector<std::string> texts() const {
        std::vector<std::string> out;
        for (const auto& item : items()) out.push_back(item.text());
        return out;
    }
    std::string date() const {
        const auto s = text();
        if (!is_valid_date(s)) fail(fmt::format("'{}' is not a date (YYYY-MM-DD)", s));
        return s;
    }

private:
    const json& value_;
    const std::string& file_;
    std::string pointer_;
};

// An https URL with a host: the vendor's page a reader can open and re-check.
bool is_https_url(const std::string& url) {
    const std::string prefix = "https://";
    if (to_lower(url).rfind(prefix, 0) != 0) return false;
    const auto host_end = url.find_first_of("/?#", prefix.size());
    const auto host = url.substr(prefix.size(), host_end == std::string::npos ? std::string::npos : host_end - prefix.size());
    if (host.empty() || host.find('.') == std::string::npos) return false;
    return std::none_of(url.begin(), url.end(), [](char c) { return c == ' ' || c == '"' || c == '<' || c == '>'; });
}

struct Compiled {
    DeviceFamily family;
    std::vector<std::string> vendorKeys;               // name and aliases, normalised
    std::vector<std::shared_ptr<const RE2>> patterns;  // compiled modelPatterns
};

std::shared_ptr<const RE2> compile_pattern(const std::string& pattern, const Reader& where) {
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(pattern, options);
    if (!re->ok()) where.fail(fmt::format("pattern '{}' does not compile: {}", pattern, re->error()));
    return re;
}

Compiled read_family(const Reader& row, const std::string& updated) {
    row.only_keys({"vendor", "aliases", "family", "category", "modelPatterns", "status", "firmwareFrom",
                   "limitation", "flows", "notes", "sources"});
    Compiled c;
    DeviceFamily& f = c.family;
    f.vendor = row.at("vendor").text();
    if (row.has("aliases")) {
        const auto aliases = row.at("aliases");
        if (!aliases.is_empty_array()) f.aliases = aliases.texts();
    }
    f.family = row.at("family").text();
    f.category = row.at("category").text();
    const auto patterns = row.at("modelPatterns");
    for (const auto& p : patterns.items()) {
        f.modelPatterns.push_back(p.text());
        c.patterns.push_back(compile_pattern(f.modelPatterns.back(), p));
    }

    const auto statusReader = row.at("status");
    const auto status = statusReader.text();
    const auto known = std::find_if(std::begin(kStatuses), std::end(kStatuses),
                                    [&](const auto& s) { return status == s.second; });
    if (known == std::end(kStatuses)) {
        std::string allowed;
        for (const auto& s : kStatuses) allowed += (allowed.empty() ? "" : ", ") + std::string(s.second);
        statusReader.fail(fmt::format("'{}' is not a status ({})", status, allowed));
    }
    f.status = known->first;
    if (f.status == DeviceOAuthStatus::FromFirmware) f.firmwareFrom = row.at("firmwareFrom").text();
    else if (row.has("firmwareFrom")) row.at("firmwareFrom").fail("only a 'from-firmware' row names a firmware");
    if (f.status == DeviceOAuthStatus::Partial) f.limitation = row.at("limitation").text();
    else if (row.has("limitation")) row.at("limitation").fail("only a 'partial' row names a limitation");

    const auto flows = row.at("flows");
    std::set<std::string> seenFlows;
    for (const auto& item : flows.items()) {
        const auto flow = item.text();
        const auto k = std::find_if(std::begin(kFlows), std::end(kFlows), [&](const auto& x) { return flow == x.second; });
        if (k == std::end(kFlows))
            item.fail(fmt::format("'{}' is not a flow (device-code, authorization-code, client-credentials, resource-owner-password, unknown)", flow));
        if (!seenFlows.insert(flow).second) item.fail(fmt::format("flow '{}' is listed twice", flow));
        f.flows.push_back(k->first);
    }
    if (seenFlows.count("unknown") && seenFlows.size() > 1) flows.fail("'unknown' cannot be combined with known flows");

    f.notes = row.at("notes").text();
    for (const auto& source : row.at("sources").items()) {
        source.only_keys({"url", "checked"});
        DeviceSource s{source.at("url").text(), source.at("checked").date()};
        if (!is_https_url(s.url)) source.at("url").fail(fmt::format("'{}' is not an https URL of the vendor's page", s.url));
        if (s.checked > updated) source.at("checked").fail(fmt::format("checked {} is after the file's 'updated' {}", s.checked, updated));
        f.sources.push_back(std::move(s));
    }

    c.vendorKeys.push_back(vendor_key(f.vendor));
    for (const auto& alias : f.aliases) c.vendorKeys.push_back(vendor_key(alias));
    return c;
}

// The model without a leading vendor name (`key` as vendor_key spells it), or "" when it does not
// start with that name followed by a separator: ("Konica-Minolta bizhub 451i", "konica minolta")
// gives "bizhub 451i".
std::string without_vendor(const std::string& model, const std::string& key) {
    const auto isSeparator = [](char c) { return c == ' ' || c == '-' || c == '_' || c == '\t'; };
    std::size_t i = 0;
    for (std::size_t k = 0; k < key.size(); ++k) {
        if (key[k] == ' ') {
            if (i >= model.size() || !isSeparator(model[i])) return {};
            while (i < model.size() && isSeparator(model[i])) ++i;
        } else {
            if (i >= model.size() || to_lower(model[i]) != key[k]) return {};
            ++i;
        }
    }
    if (i >= model.size() || !isSeparator(model[i])) return {};
    while (i < model.size() && isSeparator(model[i])) ++i;
    return model.substr(i);
}

// A version as runs of digits and of letters or dots: "FW24" -> fw|24, "16r1" -> 16|r|1,
// "7.1.1" -> 7|.|1|.|1. Empty when the text has any other character, no number, a number of more
// than nine digits, or does not end in a number.
struct VersionToken {
    bool number = false;
    unsigned long value = 0;
    std::string text;  // letters or dots, lower case
};

std::vector<VersionToken> split_version(std::string_view text) {
    const auto s = to_lower(trim(text));
    std::vector<VersionToken> tokens;
    bool anyNumber = false;
    for (std::size_t i = 0; i < s.size();) {
        const auto isDigit = [&](std::size_t k) { return s[k] >= '0' && s[k] <= '9'; };
        const auto isWordChar = [&](std::size_t k) { return (s[k] >= 'a' && s[k] <= 'z') || s[k] == '.'; };
        const std::size_t start = i;
        VersionToken t;
        if (isDigit(i)) {
            while (i < s.size() && isDigit(i)) ++i;
            if (i - start > 9) return {};
            t.number = true;
            t.value = std::stoul(s.substr(start, i - start));
            anyNumber = true;
        } else if (isWordChar(i)) {
            while (i < s.size() && isWordChar(i)) ++i;
            t.text = s.substr(start, i - start);
        } else {
            return {};
        }
        tokens.push_back(std::move(t));
    }
    if (!anyNumber || !tokens.back().number) return {};
    return tokens;
}

}  // namespace

struct DeviceCatalog::Impl {
    int dataVersion = 0;
    std::string updated;
    std::string note;
    std::vector<DeviceFamily> families;
    std::vector<Compiled> compiled;  // same order as families
};

std::string to_string(DeviceOAuthStatus status) {
    for (const auto& s : kStatuses)
        if (s.first == status) return s.second;
    return "unknown-status";
}

std::string to_string(DeviceOAuthFlow flow) {
    for (const auto& f : kFlows)
        if (f.first == flow) return f.second;
    return "unknown";
}

std::string to_string(FirmwareCheck check) {
    switch (check) {
        case FirmwareCheck::NotApplicable: return "not-applicable";
        case FirmwareCheck::AtLeast: return "at-least";
        case FirmwareCheck::Below: return "below";
        case FirmwareCheck::Undetermined: return "undetermined";
    }
    return "undetermined";
}

FirmwareCheck compare_firmware(std::string_view firmware, std::string_view threshold) {
    auto fw = split_version(firmware);
    auto th = split_version(threshold);
    if (fw.empty() || th.empty()) return FirmwareCheck::Undetermined;
    // The same shape: letters and dots equal, numbers where the other has numbers; the longer one
    // may go on only with ".N" groups ("7.1.1" against "7.2"), which count as zeros in the shorter.
    const auto& longer = fw.size() >= th.size() ? fw : th;
    const auto common = std::min(fw.size(), th.size());
    for (std::size_t i = 0; i < common; ++i)
        if (fw[i].number != th[i].number || (!fw[i].number && fw[i].text != th[i].text)) return FirmwareCheck::Undetermined;
    for (std::size_t i = common; i < longer.size(); i += 2)
        if (longer[i].number || longer[i].text != "." || i + 1 >= longer.size() || !longer[i + 1].number)
            return FirmwareCheck::Undetermined;
    for (std::size_t i = 0; i < longer.size(); ++i) {
        const unsigned long a = i < fw.size() ? fw[i].value : 0;
        const unsigned long b = i < th.size() ? th[i].value : 0;
        if (a != b) return a < b ? FirmwareCheck::Below : FirmwareCheck::AtLeast;
    }
    return FirmwareCheck::AtLeast;
}

DeviceCatalog DeviceCatalog::parse(std::string_view text, const std::string& file) {
    const json document = parse_json_text(std::string(text), file);
    const Reader root(document, file, "");
    root.only_keys({"dataVersion", "updated", "note", "families"});
    auto impl = std::make_shared<Impl>();
    impl->dataVersion = root.at("dataVersion").integer();
    impl->updated = root.at("updated").date();
    impl->note = root.at("note").text();

    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& row : root.at("families").items()) {
        auto c = read_family(row, impl->updated);
        if (!seen.insert({vendor_key(c.family.vendor), to_lower(c.family.family)}).second)
            row.fail(fmt::format("duplicate row: {} / {}", c.family.vendor, c.family.family));
        impl->compiled.push_back(std::move(c));
    }
    // One vendor name (or alias) must not stand for two vendors.
    std::map<std::string, std::string> owner;
    for (std::size_t i = 0; i < impl->compiled.size(); ++i) {
        const auto& c = impl->compiled[i];
        for (const auto& key : c.vendorKeys) {
            const auto [it, inserted] = owner.emplace(key, vendor_key(c.family.vendor));
            if (!inserted && it->second != vendor_key(c.family.vendor))
                Reader(document["families"][i], file, "/families/" + std::to_string(i))
                    .fail(fmt::format("vendor name '{}' is already used by another vendor", key));
        }
    }
    std::sort(impl->compiled.begin(), impl->compiled.end(), [](const Compiled& a, const Compiled& b) {
        return std::make_pair(vendor_key(a.family.vendor), to_lower(a.family.family)) <
               std::make_pair(vendor_key(b.family.vendor), to_lower(b.family.family));
    });
    for (const auto& c : impl->compiled) impl->families.push_back(c.family);

    DeviceCatalog catalog;
    catalog.impl_ = std::move(impl);
    return catalog;
}

int DeviceCatalog::data_version() const { return impl_->dataVersion; }
const std::string& DeviceCatalog::updated() const { return impl_->updated; }
const std::string& DeviceCatalog::note() const { return impl_->note; }
const std::vector<DeviceFamily>& DeviceCatalog::families() const { return impl_->families; }

std::vector<DeviceMatch> DeviceCatalog::lookup(const DeviceQuery& query) const {
    std::vector<DeviceMatch> out;
    const auto vendor = vendor_key(query.vendor);
    if (vendor.empty()) return out;
    const auto model = trim(query.model);
    for (const auto& c : impl_->compiled) {
        if (std::find(c.vendorKeys.begin(), c.vendorKeys.end(), vendor) == c.vendorKeys.end()) continue;
        if (!model.empty()) {
            // "SHARP BP-70M65" is matched as "BP-70M65" too.
            std::vector<std::string> candidates{model};
            for (const auto& key : c.vendorKeys)
                if (auto rest = without_vendor(model, key); !rest.empty()) candidates.push_back(rest);
            const bool matches = std::any_of(c.patterns.begin(), c.patterns.end(), [&](const auto& re) {
                return std::any_of(candidates.begin(), candidates.end(),
                                   [&](const std::string& m) { return RE2::FullMatch(m, *re); });
            });
            if (!matches) continue;
        }
        DeviceMatch match{c.family, FirmwareCheck::NotApplicable};
        if (c.family.status == DeviceOAuthStatus::FromFirmware && !trim(query.firmware).empty())
            match.firmware = compare_firmware(query.firmware, c.family.firmwareFrom);
        out.push_back(std::move(match));
    }
    return out;
}

std::string to_string(DeviceAdvice::Kind kind) {
    switch (kind) {
        case DeviceAdvice::Kind::OAuth: return "oauth";
        case DeviceAdvice::Kind::UpdateFirmware: return "update-firmware";
        case DeviceAdvice::Kind::CheckFirmware: return "check-firmware";
        case DeviceAdvice::Kind::Partial: return "partial";
        case DeviceAdvice::Kind::NoOAuth: return "no-oauth";
        case DeviceAdvice::Kind::CheckVendorList: return "check-vendor-list";
        case DeviceAdvice::Kind::Mixed: return "mixed";
        case DeviceAdvice::Kind::Unknown: return "unknown";
    }
    return "unknown";
}

namespace {

constexpr const char* kNoOAuthPaths =
    "a High Volume Email account (internal recipients only), SMTP relay through an inbound connector, or Direct Send "
    "(internal recipients only)";

std::string source_note(const DeviceFamily& family) {
    std::vector<std::string> pages;
    for (const auto& source : family.sources) pages.push_back(fmt::format("{}, checked {}", source.url, source.checked));
    return fmt::format("({})", fmt::join(pages, "; "));
}

std::string flows_note(const DeviceFamily& family) {
    std::vector<std::string> flows;
    for (auto flow : family.flows)
        if (flow != DeviceOAuthFlow::Unknown) flows.push_back(to_string(flow));
    return flows.empty() ? std::string() : fmt::format(", {} flow", fmt::join(flows, " or "));
}

std::pair<DeviceAdvice::Kind, std::string> advise_row(const DeviceMatch& match, const std::string& firmware) {
    const DeviceFamily& f = match.family;
    const std::string who = fmt::format("{} ({})", f.vendor, f.family);
    switch (f.status) {
        case DeviceOAuthStatus::Available:
            return {DeviceAdvice::Kind::OAuth,
                    fmt::format("{}: the vendor documents OAuth{}; switch the device to SMTP AUTH with XOAUTH2 {}.", who,
                                flows_note(f), source_note(f))};
        case DeviceOAuthStatus::FromFirmware:
            switch (match.firmware) {
                case FirmwareCheck::AtLeast:
                    return {DeviceAdvice::Kind::OAuth,
                            fmt::format("{}: OAuth available from firmware {}, and this device runs {}; switch it to "
                                        "SMTP AUTH with XOAUTH2{} {}.",
                                        who, f.firmwareFrom, firmware, flows_note(f), source_note(f))};
                case FirmwareCheck::Below:
                    return {DeviceAdvice::Kind::UpdateFirmware,
                            fmt::format("{}: OAuth available from firmware {}, but this device runs {}; update the "
                                        "firmware to {} or later, then switch to SMTP AUTH with XOAUTH2{} {}.",
                                        who, f.firmwareFrom, firmware, f.firmwareFrom, flows_note(f), source_note(f))};
                case FirmwareCheck::Undetermined:
                    return {DeviceAdvice::Kind::CheckFirmware,
                            fmt::format("{}: OAuth available from firmware {}; firmware '{}' cannot be compared with "
                                        "that, so check it by hand: if older, update to {} or later, then switch to "
                                        "SMTP AUTH with XOAUTH2 {}.",
                                        who, f.firmwareFrom, firmware, f.firmwareFrom, source_note(f))};
                case FirmwareCheck::NotApplicable:
                    break;
            }
            return {DeviceAdvice::Kind::CheckFirmware,
                    fmt::format("{}: OAuth available from firmware {}; the inventory gives no firmware for this device, "
                                "so check it: if older, update to {} or later, then switch to SMTP AUTH with XOAUTH2{} "
                                "{}.",
                                who, f.firmwareFrom, f.firmwareFrom, flows_note(f), source_note(f))};
        case DeviceOAuthStatus::Partial:
            return {DeviceAdvice::Kind::Partial,
                    fmt::format("{}: OAuth only partly: {}. If that does not fit, use {} {}.", who, f.limitation,
                                kNoOAuthPaths, source_note(f))};
        case DeviceOAuthStatus::NonePlanned:
        case DeviceOAuthStatus::Unsupported:
            return {DeviceAdvice::Kind::NoOAuth,
                    fmt::format("{}: the vendor says {}; move the device to {}, or replace it {}.", who,
                                f.status == DeviceOAuthStatus::NonePlanned ? "no OAuth firmware is planned"
                                                                           : "it cannot use OAuth",
                                kNoOAuthPaths, source_note(f))};
        case DeviceOAuthStatus::CheckVendorList:
            return {DeviceAdvice::Kind::CheckVendorList,
                    fmt::format("{}: the vendor documents OAuth{} without saying which models have it; check the "
                                "vendor's page for this model before relying on it; if it has none, use {} {}.",
                                who, flows_note(f), kNoOAuthPaths, source_note(f))};
    }
    return {DeviceAdvice::Kind::Unknown, ""};
}

}  // namespace

DeviceAdvice device_oauth_advice(const DeviceCatalog& catalog, const DeviceQuery& query) {
    DeviceAdvice advice;
    const std::string vendor = trim(query.vendor), model = trim(query.model), firmware = trim(query.firmware);
    const std::string unknown = fmt::format("whether it can use OAuth is unknown (not assumed); check with the vendor, "
                                            "or plan {}",
                                            kNoOAuthPaths);
    if (vendor.empty()) {
        advice.text = fmt::format("The inventory gives no vendor for this device, so {}. Add vendor, model and "
                                  "firmware to the inventory ('tenantscan devices' lists what the catalogue knows).",
                                  unknown);
        return advice;
    }
    auto matches = catalog.lookup({vendor, model, firmware});
    if (catalog.lookup({vendor, "", ""}).empty()) {
        advice.text = fmt::format("'{}' is not in the device catalogue, so {}.", vendor, unknown);
        return advice;
    }
    if (model.empty()) {
        // Without a model only a row that speaks for every model of the vendor applies.
        matches.erase(std::remove_if(matches.begin(), matches.end(),
                                     [](const DeviceMatch& m) {
                                         const auto& p = m.family.modelPatterns;
                                         return std::find(p.begin(), p.end(), ".*") == p.end();
                                     }),
                      matches.end());
        if (matches.empty()) {
            advice.text = fmt::format("The inventory gives no model for this {} device, and the catalogue's {} rows "
                                      "cover named models only, so {}. Add the model to the inventory.",
                                      vendor, vendor, unknown);
            return advice;
        }
    }
    if (matches.empty()) {
        advice.text = fmt::format("No device catalogue row for {} model '{}', so {}.", vendor, model, unknown);
        return advice;
    }
    std::vector<std::string> sentences;
    bool first = true;
    for (const auto& match : matches) {
        auto [kind, text] = advise_row(match, firmware);
        if (first) advice.kind = kind;
        else if (advice.kind != kind) advice.kind = DeviceAdvice::Kind::Mixed;
        first = false;
        sentences.push_back(std::move(text));
    }
    advice.text = fmt::format("{}", fmt::join(sentences, " "));
    advice.matches = std::move(matches);
    return advice;
}

const DeviceCatalog& builtin_device_catalog() {
    static const DeviceCatalog catalog = DeviceCatalog::parse(generated::kDevicesJson, "data/devices.json");
    return catalog;
}

}  // namespace tenantscan
