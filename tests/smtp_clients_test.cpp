// The device inventory: CSV and JSON, bad rows kept with their line number or pointer.
#include <doctest/doctest.h>

#include <tenantscan/errors.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/smtp_clients.hpp>

#include "support.hpp"

using namespace tenantscan;
using nlohmann::json;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("smtp-clients: the example CSV and JSON inventories read the same devices") {
    const auto csv = load_smtp_clients(testsupport::source_dir() + "/examples/inventory/smtp-clients.csv");
    const auto jsonInventory = load_smtp_clients(testsupport::source_dir() + "/examples/inventory/smtp-clients.json");
    REQUIRE(csv.clients.size() == jsonInventory.clients.size());
    REQUIRE(csv.clients.size() >= 3);
    for (std::size_t i = 0; i < csv.clients.size(); ++i) {
        const auto& a = csv.clients[i];
        const auto& b = jsonInventory.clients[i];
        INFO(a.location << " / " << b.location);
        CHECK(a.valid());
        CHECK(b.valid());
        CHECK(a.name == b.name);
        CHECK(a.host == b.host);
        CHECK(a.port == b.port);
        CHECK(a.security == b.security);
        CHECK(a.auth == b.auth);
        CHECK(a.username == b.username);
        CHECK(a.recipients == b.recipients);
        CHECK(a.maxRecipientsPerMessage == b.maxRecipientsPerMessage);
        CHECK(a.owner == b.owner);
        CHECK(a.vendor == b.vendor);
        CHECK(a.model == b.model);
        CHECK(a.firmware == b.firmware);
    }
    CHECK(csv.clients[0].vendor == "Lexmark");
    CHECK(csv.clients[0].firmware == "FW23");
}

TEST_CASE("smtp-clients: CSV with quotes, embedded newlines, CRLF, BOM, any column order and a semicolon separator") {
    const std::string text =
        "\xEF\xBB\xBF" "Name;Host;Port;Security;Auth;UserName;Recipients;Max recipients per message;Notes;Location\r\n"
        "\"Scanner; 2F\";smtp.hve.mx.microsoft;587;STARTTLS;Basic;scan@contoso.com;\"a@contoso.com; b@contoso.com\";2;\"line one\r\nline \"\"two\"\"\";Room 2\r\n"
        "\r\n"
        "Relay;relay.contoso.com;25;none;none;;;;;\r\n";
    const auto inventory = parse_smtp_clients_csv(text, "clients.csv");
    REQUIRE(inventory.clients.size() == 2);
    const auto& scanner = inventory.clients[0];
    CHECK(scanner.valid());
    CHECK(scanner.name == "Scanner; 2F");
    CHECK(scanner.port == 587);
    CHECK(scanner.security == SmtpSecurity::StartTls);
    CHECK(scanner.auth == SmtpAuth::Basic);
    CHECK(scanner.recipients == std::vector<std::string>{"a@contoso.com", "b@contoso.com"});
    CHECK(scanner.maxRecipientsPerMessage == 2);
    CHECK(scanner.notes == "line one\r\nline \"two\"");
    CHECK(scanner.location == "clients.csv:2");
    CHECK(inventory.clients[1].location == "clients.csv:5");  // the quoted newline and the blank line count
    CHECK(inventory.clients[1].valid());
}

TEST_CASE("smtp-clients: every bad value is reported on its row, and the row is kept") {
    const std::string text =
        "name,host,port,security,auth,username,from,recipients,maxRecipientsPerMessage\n"
        "ok,smtp.hve.mx.microsoft,587,starttls,basic,hve@contoso.com,hve@contoso.com,contoso.com,5\n"
        ",smtp.office365.com:587,seventy,ssl,password,,not-an-address,bad recipient,0\n"
        "short,host\n"
        "ok,relay,25,none,none,,,,\n";
    const auto inventory = parse_smtp_clients_csv(text, "clients.csv");
    REQUIRE(inventory.clients.size() == 4);
    CHECK(inventory.clients[0].valid());
    const auto& bad = inventory.clients[1];
    CHECK(bad.location == "clients.csv:3");
    const std::vector<std::string> expected = {
        "name is missing",
        "host 'smtp.office365.com:587' is not a host name (give the port in the port column)",
        "port 'seventy' is not a whole number from 1 to 65535",
        "security 'ssl' is not one of starttls, tls, none",
        "auth 'password' is not one of basic, oauth, none",
        "from 'not-an-address' is not an email address",
        "recipient 'bad recipient' is neither an email address nor a domain",
        "maxRecipientsPerMessage '0' is not a whole number of at least 1",
    };
    CHECK(bad.problems == expected);
    const auto& shortRow = inventory.clients[2];
    CHECK(shortRow.location == "clients.csv:4");
    CHECK(contains(shortRow.problems.front(), "the row has 2 fields but the header has 9 columns"));
    const auto& duplicate = inventory.clients[3];
    REQUIRE(duplicate.problems.size() == 1);
    CHECK(duplicate.problems.front() == "name 'ok' is already used by the device at clients.csv:2");
}

TEST_CASE("smtp-clients: a file that is not an inventory is an input error naming the line") {
    CHECK_THROWS_WITH_AS(parse_smtp_clients_csv("", "c.csv"), doctest::Contains("expected a header row"), InputError);
    CHECK_THROWS_WITH_AS(parse_smtp_clients_csv("name,host,port\nx,y,1\n", "c.csv"),
                         doctest::Contains("line 1: the header lacks the required columns security, auth, username"),
                         InputError);
    CHECK_THROWS_WITH_AS(parse_smtp_clients_csv("name,host,host,port,security,auth,username\n", "c.csv"),
                         doctest::Contains("column 'host' appears twice"), InputError);
    CHECK_THROWS_WITH_AS(parse_smtp_clients_csv("name,host,port,security,auth,username\n\"open,x,1,none,none,\n", "c.csv"),
                         doctest::Contains("line 2: a quoted field is never closed"), InputError);
    CHECK_THROWS_WITH_AS(parse_smtp_clients_json(json::array({1}), "s.json", "/smtpClients"),
                         doctest::Contains("s.json: /smtpClients/0: expected an object"), InputError);
    CHECK_THROWS_AS(parse_smtp_clients_json("devices", "s.json", "/smtpClients"), InputError);
}

TEST_CASE("smtp-clients: JSON accepts PascalCase, numbers as strings, recipient strings or arrays, envelopes") {
    const json value = {{"value",
                         {{{"Name", "A"}, {"HOST", "smtp.hve.mx.microsoft"}, {"Port", "587"}, {"Security", "StartTLS"},
                           {"Auth", "OAuth"}, {"UserName", "a@contoso.com"}, {"Recipients", "x@contoso.com; y@contoso.com"},
                           {"@odata.type", "#ignored"}, {"serial", "ignored too"}},
                          {{"name", "B"}, {"host", "h"}, {"port", 25.5}, {"security", "none"}, {"auth", "none"},
                           {"recipients", {"ok@contoso.com", 7}}}}}};
    const auto inventory = parse_smtp_clients_json(value, "snap.json", "/smtpClients");
    REQUIRE(inventory.clients.size() == 2);
    const auto& a = inventory.clients[0];
    CHECK(a.valid());
    CHECK(a.port == 587);
    CHECK(a.auth == SmtpAuth::OAuth);
    CHECK(a.recipients == std::vector<std::string>{"x@contoso.com", "y@contoso.com"});
    CHECK(a.location == "snap.json: /smtpClients/value/0");
    const auto& b = inventory.clients[1];
    CHECK(b.problems == std::vector<std::string>{"recipients: every entry must be a string, got a number",
                                                 "port '25.5' is not a whole number from 1 to 65535"});
    CHECK(to_json(b)["problems"].size() == 2);
}

TEST_CASE("smtp-clients: UTF-16 files and the JSON/CSV choice by content") {
    const std::string csv = "name,host,port,security,auth,username\nA,relay,25,none,none,\n";
    std::string utf16 = "\xFF\xFE";
    for (char c : csv) {
        utf16 += c;
        utf16 += '\0';
    }
    testsupport::TempFile file(utf16, ".txt");
    const auto inventory = load_smtp_clients(file.path());
    REQUIRE(inventory.clients.size() == 1);
    CHECK(inventory.clients[0].name == "A");
    testsupport::TempFile jsonFile(R"([{"name":"J","host":"relay","port":25,"security":"none","auth":"none"}])", ".csv");
    CHECK(load_smtp_clients(jsonFile.path()).clients.at(0).name == "J");
    CHECK_THROWS_AS(load_smtp_clients("/nonexistent/clients.csv"), InputError);
}

// docs/inventory.md: vendor, model, firmware, path, publicIp and certificateName are optional
// columns/properties, matched like the others (any case, spaces, '_' and '-'), read from CSV
// (BOM, quoting, ';' separator) and JSON (PascalCase, numbers).
TEST_CASE("smtp-clients: vendor, model, firmware and the submission path in CSV and JSON") {
    const std::string csv =
        "\xEF\xBB\xBF" "Name;Host;Port;Security;Auth;Username;From;Vendor;Model;Firmware Version;Firmware;Path;Public IP;"
        "Certificate_Name\r\n"
        "Copier;smtp.office365.com;587;starttls;basic;copier@contoso.com;;\"Konica Minolta\";\"bizhub 451i\";;\"G00-R1\";"
        "smtp-auth;;\r\n"
        "Badges;contoso-com.mail.protection.outlook.com;25;starttls;none;;badges@contoso.com;;;;;DIRECT-SEND;;\r\n"
        "Relay;contoso-com.mail.protection.outlook.com;25;starttls;none;;copier@contoso.com;;;;;relay;203.0.113.5;"
        "relay.contoso.com\r\n"
        "Bad;contoso-com.mail.protection.outlook.com;25;none;none;;;;;;;smtp-relay;203.0.113.300;not a name\r\n";
    const auto inventory = parse_smtp_clients_csv(csv, "clients.csv");
    REQUIRE(inventory.clients.size() == 4);
    const auto& copier = inventory.clients[0];
    CHECK(copier.valid());
    CHECK(copier.vendor == "Konica Minolta");
    CHECK(copier.model == "bizhub 451i");
    CHECK(copier.firmware == "G00-R1");  // "Firmware Version" is not a column of the format: ignored
    CHECK(copier.path == std::optional<SmtpPath>(SmtpPath::SmtpAuth));
    CHECK(inventory.clients[1].path == std::optional<SmtpPath>(SmtpPath::DirectSend));
    const auto& relay = inventory.clients[2];
    CHECK(relay.valid());
    CHECK(relay.path == std::optional<SmtpPath>(SmtpPath::Relay));
    CHECK(relay.publicIp == "203.0.113.5");
    CHECK(relay.certificateName == "relay.contoso.com");
    const auto& bad = inventory.clients[3];
    CHECK_FALSE(bad.valid());
    CHECK_FALSE(bad.path.has_value());
    REQUIRE(bad.problems.size() == 3);
    CHECK(contains(bad.problems[0], "path 'smtp-relay'"));
    CHECK(contains(bad.problems[1], "publicIp '203.0.113.300'"));
    CHECK(contains(bad.problems[2], "certificateName 'not a name'"));
    CHECK(bad.location == "clients.csv:5");

    const json document = json::parse(R"([{"Name": "Door", "Host": "contoso-com.mail.protection.outlook.com",
        "Port": 25, "Security": "none", "Auth": "none", "Vendor": "Lexmark", "Model": "CX735", "Firmware": 24,
        "Path": "relay", "PublicIp": "2001:db8::5"}])");
    const auto fromJson = parse_smtp_clients_json(document, "snapshot.json", "/smtpClients");
    REQUIRE(fromJson.clients.size() == 1);
    const auto& door = fromJson.clients[0];
    CHECK(door.valid());
    CHECK(door.firmware == "24");
    CHECK(door.publicIp == "2001:db8::5");
    const json out = to_json(door);
    CHECK(out["vendor"] == "Lexmark");
    CHECK(out["model"] == "CX735");
    CHECK(out["firmware"] == "24");
    CHECK(out["path"] == "relay");
    CHECK(out["publicIp"] == "2001:db8::5");
}

TEST_CASE("smtp-clients: a scan uses the --clients inventory, else the snapshot's section, else none") {
    Snapshot snapshot;
    ScanOptions options;
    CHECK(scan_inventory(snapshot, options) == nullptr);

    SmtpClientInventory fromSnapshot;
    fromSnapshot.clients.emplace_back();
    fromSnapshot.clients.back().name = "in the snapshot";
    snapshot.smtpClients = fromSnapshot;
    const SmtpClientInventory* used = scan_inventory(snapshot, options);
    REQUIRE(used != nullptr);
    CHECK(used == &*snapshot.smtpClients);  // the section itself, not a copy
    CHECK(used->clients.at(0).name == "in the snapshot");

    auto given = std::make_shared<SmtpClientInventory>();
    given->clients.emplace_back();
    given->clients.back().name = "given with --clients";
    options.smtpClients = given;
    used = scan_inventory(snapshot, options);
    REQUIRE(used != nullptr);
    CHECK(used == given.get());
    CHECK(used->clients.at(0).name == "given with --clients");
}
