#include <tenantscan/smtp_clients.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>
#include <tenantscan/detail/ip.hpp>

namespace tenantscan {

namespace {

// The inventory's fields, in the order docs/inventory.md lists them.
enum class Field {
    Name, Host, Port, Security, Auth, Username, From, Recipients, MaxRecipients, Owner, Notes,
    Vendor, Model, Firmware, Path, PublicIp, CertificateName
};

struct FieldInfo {
    Field field;
    const char* name;  // as documented (CSV header, JSON property)
    bool required;
};

constexpr std::array<FieldInfo, 17> kFields = {{
    {Field::Name, "name", true},
    {Field::Host, "host", true},
    {Field::Port, "port", true},
    {Field::Security, "security", true},
    {Field::Auth, "auth", true},
    {Field::Username, "username", true},
    {Field::From, "from", false},
    {Field::Recipients, "recipients", false},
    {Field::MaxRecipients, "maxRecipientsPerMessage", false},
    {Field::Owner, "owner", false},
    {Field::Notes, "notes", false},
    {Field::Vendor, "vendor", false},
    {Field::Model, "model", false},
    {Field::Firmware, "firmware", false},
    {Field::Path, "path", false},
    {Field::PublicIp, "publicIp", false},
    {Field::CertificateName, "certificateName", false},
}};

// Header cells are matched ignoring case, spaces, '_' and '-': "Max recipients per message" works.
std::string header_key(std::string_view text) {
    std::string key;
    for (char c : text)
        if (c != ' ' && c != '_' && c != '-' && c != '\t') key += to_lower(c);
    return key;
}

const FieldInfo* find_field(std::string_view header) {
    const std::string key = header_key(header);
    for (const auto& info : kFields)
        if (header_key(info.name) == key) return &info;
    return nullptr;
}

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

// One row's values before validation: text per field, or a list for recipients given as a JSON array.
struct RawRow {
    std::map<Field, std::string> text;
    std::optional<std::vector<std::string>> recipientList;
    std::vector<std::string> problems;  // found while reading (wrong JSON types, field counts)
};

std::optional<int> parse_whole_number(const std::string& text) {
    if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::stoi(text);
}

bool looks_like_domain(std::string_view text) {
    if (text.empty() || text.find('.') == std::string_view::npos || text.front() == '.' || text.back() == '.') return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || static_cast<unsigned char>(c) >= 0x80;
    });
}

bool looks_like_address(std::string_view text) {
    const auto at = text.find('@');
    return at != std::string_view::npos && at > 0 && text.find('@', at + 1) == std::string_view::npos &&
           text.find_first_of(" \t<>,;") == std::string_view::npos && looks_like_domain(text.substr(at + 1));
}

std::vector<std::string> split_recipients(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto semicolon = text.find(';', start);
        auto item = trim(text.substr(start, semicolon == std::string::npos ? std::string::npos : semicolon - start));
        if (!item.empty()) out.push_back(std::move(item));
        if (semicolon == std::string::npos) break;
        start = semicolon + 1;
    }
    return out;
}

template <typename Enum, std::size_t N>
std::optional<Enum> parse_choice(const std::string& text, const std::array<std::pair<const char*, Enum>, N>& choices) {
    for (const auto& [name, value] : choices)
        if (iequals(text, name)) return value;
    return std::nullopt;
}

constexpr std::array<std::pair<const char*, SmtpSecurity>, 3> kSecurityChoices = {
    {{"starttls", SmtpSecurity::StartTls}, {"tls", SmtpSecurity::Tls}, {"none", SmtpSecurity::None}}};
constexpr std::array<std::pair<const char*, SmtpAuth>, 3> kAuthChoices = {
    {{"basic", SmtpAuth::Basic}, {"oauth", SmtpAuth::OAuth}, {"none", SmtpAuth::None}}};
constexpr std::array<std::pair<const char*, SmtpPath>, 5> kPathChoices = {{{"smtp-auth", SmtpPath::SmtpAuth},
                                                                           {"hve", SmtpPath::Hve},
                                                                           {"acs", SmtpPath::Acs},
                                                                           {"direct-send", SmtpPath::DirectSend},
                                                                           {"relay", SmtpPath::Relay}}};

// Validates a row. Every problem is a sentence naming the field and the value seen.
SmtpClient build_client(RawRow row, std::string location) {
    SmtpClient client;
    client.location = std::move(location);
    client.problems = std::move(row.problems);
    auto value = [&](Field f) {
        auto it = row.text.find(f);
        return it == row.text.end() ? std::string() : trim(it->second);
    };
    auto problem = [&](std::string sentence) { client.problems.push_back(std::move(sentence)); };

    client.name = value(Field::Name);
    if (client.name.empty()) problem("name is missing");
    client.host = value(Field::Host);
    if (client.host.empty()) problem("host is missing");
    else if (client.host.find_first_of(" \t/:") != std::string::npos)
        problem(fmt::format("host '{}' is not a host name (give the port in the port column)", client.host));

    const std::string port = value(Field::Port);
    if (port.empty()) problem("port is missing");
    else if (auto p = parse_whole_number(port); p && *p >= 1 && *p <= 65535) client.port = *p;
    else problem(fmt::format("port '{}' is not a whole number from 1 to 65535", port));

    const std::string security = value(Field::Security);
    if (security.empty()) problem("security is missing (starttls, tls or none)");
    else if (auto s = parse_choice(security, kSecurityChoices)) client.security = *s;
    else problem(fmt::format("security '{}' is not one of starttls, tls, none", security));

    const std::string auth = value(Field::Auth);
    if (auth.empty()) problem("auth is missing (basic, oauth or none)");
    else if (auto a = parse_choice(auth, kAuthChoices)) client.auth = *a;
    else problem(fmt::format("auth '{}' is not one of basic, oauth, none", auth));

    client.username = value(Field::Username);
    if (client.username.empty() && client.auth && *client.auth != SmtpAuth::None)
        problem(fmt::format("username is missing (needed with auth {})", to_string(*client.auth)));

    client.from = value(Field::From);
    if (!client.from.empty() && !looks_like_address(client.from))
        problem(fmt::format("from '{}' is not an email address", client.from));

    client.recipients = row.recipientList ? std::move(*row.recipientList) : split_recipients(value(Field::Recipients));
    for (const auto& r : client.recipients) {
        const std::string_view domain = !r.empty() && r.front() == '@' ? std::string_view(r).substr(1) : std::string_view(r);
        if (!looks_like_address(r) && !looks_like_domain(domain))
            problem(fmt::format("recipient '{}' is neither an email address nor a domain", r));
    }

    const std::string max = value(Field::MaxRecipients);
    if (!max.empty()) {
        if (auto m = parse_whole_number(max); m && *m >= 1) client.maxRecipientsPerMessage = *m;
        else problem(fmt::format("maxRecipientsPerMessage '{}' is not a whole number of at least 1", max));
    }
    client.owner = value(Field::Owner);
    client.notes = value(Field::Notes);
    client.vendor = value(Field::Vendor);
    client.model = value(Field::Model);
    client.firmware = value(Field::Firmware);

    const std::string path = value(Field::Path);
    if (!path.empty()) {
        if (auto p = parse_choice(path, kPathChoices)) client.path = *p;
        else problem(fmt::format("path '{}' is not one of smtp-auth, hve, acs, direct-send, relay", path));
    }
    client.publicIp = value(Field::PublicIp);
    if (!client.publicIp.empty() && !parse_ip_address(client.publicIp))
        problem(fmt::format("publicIp '{}' is not an IPv4 or IPv6 address", client.publicIp));
    client.certificateName = value(Field::CertificateName);
    if (!client.certificateName.empty() && !looks_like_domain(client.certificateName) &&
        !(client.certificateName.rfind("*.", 0) == 0 && looks_like_domain(client.certificateName.substr(2))))
        problem(fmt::format("certificateName '{}' is not a domain name (as in the certificate, e.g. "
                            "relay.contoso.com or *.contoso.com)",
                            client.certificateName));
    return client;
}

// A name used twice would make two devices indistinguishable in the report.
void flag_duplicate_names(SmtpClientInventory& inventory) {
    std::map<std::string, std::string> seen;  // lower-case name → location of its first use
    for (auto& client : inventory.clients) {
        if (client.name.empty()) continue;
        auto [it, inserted] = seen.emplace(to_lower(client.name), client.location);
        if (!inserted)
            client.problems.push_back(fmt::format("name '{}' is already used by the device at {}", client.name, it->second));
    }
}

// ----- JSON -----

RawRow raw_row_from_json(const JsonView& row) {
    RawRow raw;
    for (const auto& info : kFields) {
        const JsonView v = row.get(info.name);
        const nlohmann::json& value = v.value();
        if (value.is_null()) continue;
        if (value.is_string()) {
            raw.text[info.field] = value.get<std::string>();
        } else if (value.is_number() || value.is_boolean()) {
            raw.text[info.field] = value.dump();  // validated as text: "port '25.5' is not a whole number"
        } else if (info.field == Field::Recipients && value.is_array()) {
            std::vector<std::string> list;
            for (const auto& item : value) {
                if (item.is_string()) {
                    if (auto entry = trim(item.get<std::string>()); !entry.empty()) list.push_back(entry);
                } else {
                    raw.problems.push_back(fmt::format("recipients: every entry must be a string, got {}",
                                                       describe_json_type(item)));
                }
            }
            raw.recipientList = std::move(list);
        } else {
            raw.problems.push_back(fmt::format("{}: expected {}, got {}", info.name,
                                               info.field == Field::Recipients ? "a string or an array of strings"
                                                                               : "a string or a number",
                                               describe_json_type(value)));
        }
    }
    return raw;
}

// ----- CSV -----

struct CsvRecord {
    int line = 0;  // line where the record starts (1-based)
    std::vector<std::string> fields;
};

char detect_separator(std::string_view headerLine) {
    std::size_t best = 0;
    char separator = ',';
    for (char candidate : {',', ';', '\t'}) {
        const auto n = static_cast<std::size_t>(std::count(headerLine.begin(), headerLine.end(), candidate));
        if (n > best) {
            best = n;
            separator = candidate;
        }
    }
    return separator;
}

std::vector<CsvRecord> read_csv_records(const std::string& text, char separator, const std::string& file) {
    std::vector<CsvRecord> records;
    CsvRecord record;
    std::string field;
    bool quoted = false, fieldStarted = false;
    int line = 1, quoteLine = 0;
    record.line = 1;
    auto end_field = [&] {
        record.fields.push_back(std::move(field));
        field.clear();
        fieldStarted = false;
    };
    auto end_record = [&] {
        end_field();
        const bool blank = std::all_of(record.fields.begin(), record.fields.end(),
                                       [](const std::string& f) { return trim(f).empty(); });
        if (!blank) records.push_back(std::move(record));
        record = CsvRecord{};
        record.line = line;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                if (c == '\n') ++line;
                field += c;
            }
            continue;
        }
        if (c == '"' && !fieldStarted) {
            quoted = fieldStarted = true;
            quoteLine = line;
        } else if (c == separator) {
            end_field();
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            continue;  // CRLF: the '\n' ends the record
        } else if (c == '\n') {
            ++line;
            end_record();
        } else {
            field += c;
            if (c != ' ' && c != '\t') fieldStarted = true;
        }
    }
    if (quoted)
        throw InputError(file, "", fmt::format("line {}: a quoted field is never closed", quoteLine));
    if (!field.empty() || !record.fields.empty()) end_record();
    return records;
}

}  // namespace

const char* to_string(SmtpSecurity security) {
    switch (security) {
        case SmtpSecurity::StartTls: return "starttls";
        case SmtpSecurity::Tls: return "tls";
        case SmtpSecurity::None: return "none";
    }
    return "none";
}

const char* to_string(SmtpPath path) {
    for (const auto& [name, value] : kPathChoices)
        if (value == path) return name;
    return "smtp-auth";
}

const char* to_string(SmtpAuth auth) {
    switch (auth) {
        case SmtpAuth::Basic: return "basic";
        case SmtpAuth::OAuth: return "oauth";
        case SmtpAuth::None: return "none";
    }
    return "none";
}

SmtpClientInventory parse_smtp_clients_json(const nlohmann::json& value, const std::string& file,
                                            const std::string& pointer) {
    SmtpClientInventory inventory;
    inventory.source = pointer.empty() ? file : fmt::format("{}: {}", file, pointer);
    const JsonView root(value, file, pointer);
    for (const JsonView& row : root.as_elements()) {
        if (!row.is_object()) row.fail(fmt::format("expected an object (one device), got {}", describe_json_type(row.value())));
        inventory.clients.push_back(build_client(raw_row_from_json(row), fmt::format("{}: {}", file, row.pointer())));
    }
    flag_duplicate_names(inventory);
    return inventory;
}

SmtpClientInventory parse_smtp_clients_csv(const std::string& input, const std::string& file) {
    const std::string text = input.rfind("\xEF\xBB\xBF", 0) == 0 ? input.substr(3) : input;
    const auto firstContent = text.find_first_not_of(" \t\r\n");
    if (firstContent == std::string::npos) throw InputError(file, "", "the inventory is empty: expected a header row");
    const auto headerEnd = text.find('\n', firstContent);
    const char separator = detect_separator(std::string_view(text).substr(firstContent, headerEnd - firstContent));

    auto records = read_csv_records(text, separator, file);
    if (records.empty()) throw InputError(file, "", "the inventory is empty: expected a header row");
    const CsvRecord& header = records.front();
    std::vector<const FieldInfo*> columns;
    std::vector<std::string> missing;
    for (const auto& cell : header.fields) {
        const FieldInfo* info = find_field(trim(cell));
        if (info && std::find(columns.begin(), columns.end(), info) != columns.end())
            throw InputError(file, "", fmt::format("line {}: column '{}' appears twice in the header", header.line, trim(cell)));
        columns.push_back(info);  // nullptr: a column the format does not define, ignored
    }
    for (const auto& info : kFields)
        if (info.required && std::find(columns.begin(), columns.end(), &info) == columns.end())
            missing.push_back(info.name);
    if (!missing.empty())
        throw InputError(file, "",
                         fmt::format("line {}: the header lacks the required column{} {} (columns: name, host, port, "
                                     "security, auth, username, from, recipients, maxRecipientsPerMessage, owner, notes, "
                                     "vendor, model, firmware, path, publicIp, certificateName)",
                                     header.line, missing.size() == 1 ? "" : "s", fmt::join(missing, ", ")));

    SmtpClientInventory inventory;
    inventory.source = file;
    for (std::size_t r = 1; r < records.size(); ++r) {
        const CsvRecord& record = records[r];
        RawRow raw;
        if (record.fields.size() != columns.size())
            raw.problems.push_back(fmt::format("the row has {} fields but the header has {} columns",
                                               record.fields.size(), columns.size()));
        for (std::size_t c = 0; c < record.fields.size() && c < columns.size(); ++c)
            if (columns[c]) raw.text[columns[c]->field] = record.fields[c];
        inventory.clients.push_back(build_client(std::move(raw), fmt::format("{}:{}", file, record.line)));
    }
    flag_duplicate_names(inventory);
    return inventory;
}

SmtpClientInventory load_smtp_clients(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, "", "cannot open the inventory file");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const std::string text = decode_text(bytes.str(), path);
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (text[first] == '[' || text[first] == '{'))
        return parse_smtp_clients_json(parse_json_text(text, path), path, "");
    return parse_smtp_clients_csv(text, path);
}

nlohmann::json to_json(const SmtpClient& client) {
    nlohmann::json out = {{"name", client.name}, {"host", client.host}};
    out["port"] = client.port ? nlohmann::json(*client.port) : nlohmann::json(nullptr);
    out["security"] = client.security ? nlohmann::json(to_string(*client.security)) : nlohmann::json(nullptr);
    out["auth"] = client.auth ? nlohmann::json(to_string(*client.auth)) : nlohmann::json(nullptr);
    out["username"] = client.username;
    if (!client.from.empty()) out["from"] = client.from;
    if (!client.recipients.empty()) out["recipients"] = client.recipients;
    if (client.maxRecipientsPerMessage) out["maxRecipientsPerMessage"] = *client.maxRecipientsPerMessage;
    if (!client.owner.empty()) out["owner"] = client.owner;
    if (!client.notes.empty()) out["notes"] = client.notes;
    if (!client.vendor.empty()) out["vendor"] = client.vendor;
    if (!client.model.empty()) out["model"] = client.model;
    if (!client.firmware.empty()) out["firmware"] = client.firmware;
    if (client.path) out["path"] = to_string(*client.path);
    if (!client.publicIp.empty()) out["publicIp"] = client.publicIp;
    if (!client.certificateName.empty()) out["certificateName"] = client.certificateName;
    out["location"] = client.location;
    if (!client.problems.empty()) out["problems"] = client.problems;
    return out;
}

}  // namespace tenantscan
