// The device catalogue (data/devices.json, docs/devices.md): the data itself, its validation, the
// lookup, and `tenantscan devices`.
#include <doctest/doctest.h>

#include <tenantscan/device_catalog.hpp>
#include <tenantscan/errors.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/detail/dates.hpp>

#include <algorithm>
#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace tenantscan;
using namespace testsupport;
using nlohmann::json;

namespace {

json data_file() { return json::parse(read_file(source_dir() + "/data/devices.json")); }

// A small catalogue for the lookup mechanics, independent of the curated rows.
json sample() {
    return json::parse(R"({
      "dataVersion": 3, "updated": "2026-12-02", "note": "test data",
      "families": [
        {"vendor": "Acme", "aliases": ["ACME Corp"], "family": "Z-series", "category": "mfp",
         "modelPatterns": ["Z-?[0-9]{3}"], "status": "oauth-available", "flows": ["device-code"],
         "notes": "n", "sources": [{"url": "https://acme.example/z", "checked": "2026-11-30"}]},
        {"vendor": "Acme", "family": "Y-series", "category": "printer",
         "modelPatterns": ["Y[0-9]+"], "status": "from-firmware", "firmwareFrom": "4.2", "flows": ["unknown"],
         "notes": "n", "sources": [{"url": "https://acme.example/y", "checked": "2026-12-01"}]},
        {"vendor": "Bolt", "family": "Old NAS", "category": "nas",
         "modelPatterns": ["B1"], "status": "none-planned", "flows": ["unknown"],
         "notes": "n", "sources": [{"url": "https://bolt.example/eol", "checked": "2026-12-01"}]}
      ]})");
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

DeviceCatalog parse(const json& document) { return DeviceCatalog::parse(document.dump(), "test.json"); }

// The pointer the parser names for a defect, or "(accepted)".
std::string rejected_at(const json& document) {
    try {
        parse(document);
    } catch (const InputError& e) {
        return e.pointer();
    }
    return "(accepted)";
}

}  // namespace

TEST_CASE("device catalogue data: every row is evidenced, dated and well-formed (read from the file itself)") {
    const auto d = data_file();
    REQUIRE(d.at("dataVersion").is_number_integer());
    const auto updated = d.at("updated").get<std::string>();
    CHECK(is_valid_date(updated));
    CHECK(d.at("note").get<std::string>().find("as those pages were published") != std::string::npos);

    const std::set<std::string> statuses{"oauth-available", "from-firmware", "partial", "none-planned",
                                         "check-vendor-list", "unsupported"};
    const std::set<std::string> flows{"device-code", "authorization-code", "client-credentials", "resource-owner-password",
                                      "unknown"};
    std::set<std::string> vendors;
    std::set<std::pair<std::string, std::string>> rows;
    for (const auto& row : d.at("families")) {
        const auto vendor = row.at("vendor").get<std::string>();
        const auto family = row.at("family").get<std::string>();
        CAPTURE(vendor);
        CAPTURE(family);
        CHECK(!vendor.empty());
        CHECK(!family.empty());
        CHECK(!row.at("notes").get<std::string>().empty());
        CHECK(!row.at("modelPatterns").empty());
        const auto status = row.at("status").get<std::string>();
        CHECK(statuses.count(status) == 1);
        CHECK((status == "from-firmware") == row.contains("firmwareFrom"));
        CHECK((status == "partial") == row.contains("limitation"));
        CHECK(!row.at("flows").empty());
        for (const auto& f : row.at("flows")) CHECK(flows.count(f.get<std::string>()) == 1);
        REQUIRE(!row.at("sources").empty());
        for (const auto& s : row.at("sources")) {
            const auto url = s.at("url").get<std::string>();
            const auto checked = s.at("checked").get<std::string>();
            CAPTURE(url);
            CHECK(url.rfind("https://", 0) == 0);
            CHECK(is_valid_date(checked));
            CHECK(checked <= updated);
        }
        vendors.insert(vendor);
        CHECK(rows.insert({vendor, family}).second);  // no duplicate rows
    }
    CHECK(vendors.size() >= 15);
}

TEST_CASE("device catalogue data: the compiled-in catalogue is the file, validated (patterns compile)") {
    const auto& catalog = builtin_device_catalog();  // throws on any defect, a bad pattern included
    const auto d = data_file();
    CHECK(catalog.data_version() == d.at("dataVersion").get<int>());
    CHECK(catalog.updated() == d.at("updated").get<std::string>());
    CHECK(catalog.families().size() == d.at("families").size());
    // Sorted by vendor, then family, whatever the file's order.
    for (std::size_t i = 1; i < catalog.families().size(); ++i) {
        const auto& a = catalog.families()[i - 1];
        const auto& b = catalog.families()[i];
        CHECK(std::make_pair(lower(a.vendor), lower(a.family)) < std::make_pair(lower(b.vendor), lower(b.family)));
    }
    // The embedded text is the file's, byte for byte where it matters (CMake's configure_file must
    // not have replaced anything in it).
    const auto fromFile = DeviceCatalog::parse(read_file(source_dir() + "/data/devices.json"));
    REQUIRE(fromFile.families().size() == catalog.families().size());
    CHECK(fromFile.note() == catalog.note());
    for (std::size_t i = 0; i < catalog.families().size(); ++i) {
        const auto& a = catalog.families()[i];
        const auto& b = fromFile.families()[i];
        CHECK(a.notes == b.notes);
        CHECK(a.modelPatterns == b.modelPatterns);
        REQUIRE(a.sources.size() == b.sources.size());
        for (std::size_t k = 0; k < a.sources.size(); ++k) CHECK(a.sources[k].url == b.sources[k].url);
    }
}

TEST_CASE("device catalogue: malformed data is an error naming the JSON pointer, never a smaller catalogue") {
    CHECK(rejected_at(sample()) == "(accepted)");

    auto d = sample();
    d["families"][0]["status"] = "works";
    CHECK(rejected_at(d) == "/families/0/status");

    d = sample();
    d["families"][1]["sources"][0]["url"] = "http://acme.example/y";
    CHECK(rejected_at(d) == "/families/1/sources/0/url");

    d = sample();
    d["families"][1]["sources"][0]["url"] = "https:///nohost";
    CHECK(rejected_at(d) == "/families/1/sources/0/url");

    d = sample();
    d["families"][2]["sources"][0]["checked"] = "2026-02-30";
    CHECK(rejected_at(d) == "/families/2/sources/0/checked");

    d = sample();
    d["families"][2]["sources"][0]["checked"] = "2027-01-01";  // after "updated"
    CHECK(rejected_at(d) == "/families/2/sources/0/checked");

    d = sample();
    d["families"][0]["sources"] = json::array();
    CHECK(rejected_at(d) == "/families/0/sources");

    d = sample();
    d["families"][0].erase("sources");
    CHECK(rejected_at(d) == "/families/0");

    d = sample();
    d["families"][0]["modelPatterns"] = json::array({"Z-(9"});
    CHECK(rejected_at(d) == "/families/0/modelPatterns/0");

    d = sample();
    d["families"][1].erase("firmwareFrom");
    CHECK(rejected_at(d) == "/families/1");

    d = sample();
    d["families"][0]["firmwareFrom"] = "1.0";  // only from-firmware rows name a firmware
    CHECK(rejected_at(d) == "/families/0/firmwareFrom");

    d = sample();
    d["families"][0]["flows"] = json::array({"device-code", "unknown"});
    CHECK(rejected_at(d) == "/families/0/flows");

    d = sample();
    d["families"][0]["flows"] = json::array({"magic"});
    CHECK(rejected_at(d) == "/families/0/flows/0");

    d = sample();
    d["families"][0]["stauts"] = "partial";  // a misspelt key is not ignored
    CHECK(rejected_at(d) == "/families/0/stauts");

    d = sample();
    d["families"].push_back(d["families"][0]);
    d["families"][3]["vendor"] = "ACME";  // the same row, spelt differently
    CHECK(rejected_at(d) == "/families/3");

    d = sample();
    d["families"][2]["aliases"] = json::array({"Acme"});  // one name for two vendors
    CHECK(rejected_at(d) == "/families/2");

    d = sample();
    d["families"] = json::array();
    CHECK(rejected_at(d) == "/families");

    d = sample();
    d["families"][1]["aliases"] = json::array();  // no aliases is fine
    CHECK(rejected_at(d) == "(accepted)");

    d = sample();
    d["families"][1]["aliases"] = json::array({""});
    CHECK(rejected_at(d) == "/families/1/aliases/0");

    d = sample();
    d["dataVersion"] = "1";
    CHECK(rejected_at(d) == "/dataVersion");

    CHECK_THROWS_AS(DeviceCatalog::parse("{\"dataVersion\": 1,", "broken.json"), InputError);
}

TEST_CASE("device lookup: exact family, vendor aliases and a vendor name inside the model") {
    const auto catalog = parse(sample());
    auto m = catalog.lookup({"Acme", "Z-100", ""});
    REQUIRE(m.size() == 1);
    CHECK(m[0].family.family == "Z-series");
    CHECK(m[0].family.status == DeviceOAuthStatus::Available);
    CHECK(m[0].firmware == FirmwareCheck::NotApplicable);

    CHECK(catalog.lookup({"acme corp", "z100", ""}).size() == 1);      // alias, case-insensitive pattern
    CHECK(catalog.lookup({"ACME", "Acme Z-100", ""}).size() == 1);     // vendor name in the model
    CHECK(catalog.lookup({"Acme", "ACME-Corp  Z-100", ""}).size() == 1);
    CHECK(catalog.lookup({"Acme", "AcmeZ-100", ""}).empty());           // not a name followed by a separator
    CHECK(catalog.lookup({"Acme", "", ""}).size() == 2);               // no model: all the vendor's families
    CHECK(catalog.lookup({"Bolt", "B1", ""})[0].family.status == DeviceOAuthStatus::NonePlanned);
}

TEST_CASE("device lookup: patterns match the whole model, no match or an unknown vendor is no answer, never a guess") {
    const auto catalog = parse(sample());
    CHECK(catalog.lookup({"Acme", "Z-1000", ""}).empty());   // the pattern must cover the whole model
    CHECK(catalog.lookup({"Acme", "XZ-100", ""}).empty());
    CHECK(catalog.lookup({"Acme", "W-100", ""}).empty());
    CHECK(catalog.lookup({"Nobody", "Z-100", ""}).empty());
    CHECK(catalog.lookup({"Nobody", "", ""}).empty());
    CHECK(catalog.lookup({"", "Z-100", ""}).empty());
    CHECK(catalog.lookup({"Acm", "Z-100", ""}).empty());     // a vendor prefix is not the vendor
}

TEST_CASE("device lookup: a firmware threshold says at-least, below, or undetermined") {
    const auto catalog = parse(sample());
    auto at = [&](const std::string& fw) {
        auto m = catalog.lookup({"Acme", "Y7", fw});
        REQUIRE(m.size() == 1);
        return m[0].firmware;
    };
    CHECK(at("4.2") == FirmwareCheck::AtLeast);
    CHECK(at("4.2.0") == FirmwareCheck::AtLeast);
    CHECK(at("4.10") == FirmwareCheck::AtLeast);  // numeric, not textual
    CHECK(at("5") == FirmwareCheck::AtLeast);
    CHECK(at("4.1.9") == FirmwareCheck::Below);
    CHECK(at("3.99") == FirmwareCheck::Below);
    CHECK(at("v4.3") == FirmwareCheck::Undetermined);    // another scheme: never a guess
    CHECK(at("4.3-beta") == FirmwareCheck::Undetermined);
    CHECK(at("") == FirmwareCheck::NotApplicable);
    // A family without a threshold ignores the firmware.
    CHECK(catalog.lookup({"Acme", "Z-100", "1.0"})[0].firmware == FirmwareCheck::NotApplicable);

    CHECK(compare_firmware("FW25", "FW24") == FirmwareCheck::AtLeast);
    CHECK(compare_firmware("fw24", "FW24") == FirmwareCheck::AtLeast);
    CHECK(compare_firmware("FW23", "FW24") == FirmwareCheck::Below);
    CHECK(compare_firmware("24", "FW24") == FirmwareCheck::Undetermined);
    CHECK(compare_firmware("CXTPC.240.037", "FW24") == FirmwareCheck::Undetermined);
    CHECK(compare_firmware("7.", "7") == FirmwareCheck::Undetermined);
    CHECK(compare_firmware("16r2", "16r1") == FirmwareCheck::AtLeast);
    CHECK(compare_firmware("15r3", "16r1") == FirmwareCheck::Below);
    CHECK(compare_firmware("16", "16r1") == FirmwareCheck::Undetermined);
    CHECK(compare_firmware("16sr1", "16r1") == FirmwareCheck::Undetermined);
    CHECK(compare_firmware("7.1.1", "7.2") == FirmwareCheck::Below);
    CHECK(compare_firmware("7", "7.0.1") == FirmwareCheck::Below);
    CHECK(compare_firmware("4.2", "4.2.0") == FirmwareCheck::AtLeast);
    CHECK(compare_firmware("4.2r1", "4.2") == FirmwareCheck::Undetermined);  // only ".N" may follow
    CHECK(compare_firmware("9999999999", "1") == FirmwareCheck::Undetermined);
}

TEST_CASE("device lookup on the curated data: Lexmark from FW24, Sharp BP models, an unlisted vendor") {
    const auto& catalog = builtin_device_catalog();
    auto lexmark = catalog.lookup({"Lexmark", "CX735", "FW23"});
    REQUIRE(lexmark.size() == 1);
    CHECK(lexmark[0].family.status == DeviceOAuthStatus::FromFirmware);
    CHECK(lexmark[0].family.firmwareFrom == "FW24");
    CHECK(lexmark[0].firmware == FirmwareCheck::Below);
    CHECK(catalog.lookup({"lexmark", "CX735", "FW24"})[0].firmware == FirmwareCheck::AtLeast);

    auto sharp = catalog.lookup({"SHARP", "Sharp BP-70M65", ""});
    REQUIRE(sharp.size() == 1);
    CHECK(sharp[0].family.status == DeviceOAuthStatus::Available);
    CHECK(catalog.lookup({"Sharp", "MX-2651", ""}).empty());  // not in the rows we evidenced

    CHECK(catalog.lookup({"No Such Vendor", "", ""}).empty());

    auto pbx = catalog.lookup({"innovaphone", "PBX", "15r1"});
    REQUIRE(pbx.size() == 1);
    CHECK(pbx[0].family.firmwareFrom == "16r1");
    CHECK(pbx[0].firmware == FirmwareCheck::Below);
}

TEST_CASE("cli: devices lists the catalogue, sorted and deterministic, as text and JSON") {
    auto r = run_cli({"devices", "--format", "json"});
    REQUIRE(r.exitCode == 0);
    const auto j = json::parse(r.out);
    CHECK(j["dataVersion"] == data_file()["dataVersion"]);
    CHECK(j["updated"] == data_file()["updated"]);
    std::set<std::string> vendors;
    std::vector<std::pair<std::string, std::string>> order;
    for (const auto& f : j["families"]) {
        vendors.insert(f["vendor"].get<std::string>());
        order.emplace_back(lower(f["vendor"].get<std::string>()), lower(f["family"].get<std::string>()));
        CHECK(!f["sources"].empty());
    }
    CHECK(vendors.size() >= 15);
    CHECK(std::is_sorted(order.begin(), order.end()));
    CHECK(run_cli({"devices", "--format", "json"}).out == r.out);

    auto text = run_cli({"devices"});
    CHECK(text.exitCode == 0);
    CHECK(text.out.find("Lexmark: ") != std::string::npos);
    CHECK(text.out.find("OAuth available from firmware FW24") != std::string::npos);
    CHECK(text.out.find("(checked 2026-12-02)") != std::string::npos);
}

TEST_CASE("cli: devices --vendor/--model/--firmware filter and compare, an unknown vendor is said so") {
    auto r = run_cli({"devices", "--vendor", "lexmark", "--model", "CX735", "--firmware", "FW23"});
    CHECK(r.exitCode == 0);
    CHECK(r.out.find("FW23 is older than FW24: update the firmware first") != std::string::npos);

    auto j = json::parse(run_cli({"devices", "--vendor", "Lexmark", "--firmware", "FW25", "--format", "json"}).out);
    REQUIRE(j["families"].size() == 1);
    CHECK(j["families"][0]["firmwareCheck"] == "at-least");
    CHECK(j["query"]["firmware"] == "FW25");

    auto none = run_cli({"devices", "--vendor", "No Such Vendor"});
    CHECK(none.exitCode == 0);
    CHECK(none.out.find("No catalogue entry for vendor 'No Such Vendor'") != std::string::npos);
    auto noneJson = json::parse(run_cli({"devices", "--vendor", "No Such Vendor", "--format", "json"}).out);
    CHECK(noneJson["families"].empty());

    auto noModel = run_cli({"devices", "--vendor", "Sharp", "--model", "MX-2651"});
    CHECK(noModel.exitCode == 0);
    CHECK(noModel.out.find("not assumed to support OAuth") != std::string::npos);
}

TEST_CASE("cli: devices usage errors exit 2, --help exits 0") {
    CHECK(run_cli({"devices", "--model", "CX735"}).exitCode == 2);     // --model needs --vendor
    CHECK(run_cli({"devices", "--firmware", "FW24"}).exitCode == 2);   // so does --firmware
    CHECK(run_cli({"devices", "--format", "xml"}).exitCode == 2);
    CHECK(run_cli({"devices", "extra"}).exitCode == 2);
    CHECK(run_cli({"devices", "--help"}).exitCode == 0);
}

// What the migration plan says per device (docs/devices.md "Statuses"): OAuth only with a row
// that says so; an unknown vendor or model is said to be unknown, never assumed to have OAuth.
TEST_CASE("device advice: each status gives its action, and no row means unknown, never OAuth") {
    const DeviceCatalog catalog = parse(sample());
    auto advice = [&](const std::string& vendor, const std::string& model, const std::string& firmware) {
        return device_oauth_advice(catalog, {vendor, model, firmware});
    };
    const auto available = advice("ACME Corp", "Z-100", "");
    CHECK(available.kind == DeviceAdvice::Kind::OAuth);
    CHECK(lower(available.text).find("xoauth2") != std::string::npos);
    CHECK(available.text.find("https://acme.example/z") != std::string::npos);
    CHECK(available.text.find("2026-11-30") != std::string::npos);

    const auto below = advice("Acme", "Y7", "4.1");
    CHECK(below.kind == DeviceAdvice::Kind::UpdateFirmware);
    CHECK(below.text.find("update the firmware to 4.2") != std::string::npos);
    CHECK(advice("Acme", "Y7", "4.10").kind == DeviceAdvice::Kind::OAuth);
    CHECK(advice("Acme", "Y7", "").kind == DeviceAdvice::Kind::CheckFirmware);
    CHECK(advice("Acme", "Y7", "v4.3").kind == DeviceAdvice::Kind::CheckFirmware);

    const auto none = advice("Bolt", "B1", "");
    CHECK(none.kind == DeviceAdvice::Kind::NoOAuth);
    CHECK(none.text.find("no OAuth firmware is planned") != std::string::npos);
    CHECK(none.text.find("High Volume Email") != std::string::npos);
    CHECK(none.text.find("internal recipients only") != std::string::npos);
    CHECK(none.text.find("relay") != std::string::npos);

    for (const auto& unknown : {advice("Xerox", "AltaLink C8170", "100.002"), advice("Acme", "Q-1", ""),
                                advice("", "Z-100", ""), advice("Bolt", "", "")}) {
        CAPTURE(unknown.text);
        CHECK(unknown.kind == DeviceAdvice::Kind::Unknown);
        CHECK(unknown.matches.empty());
        CHECK(unknown.text.find("unknown") != std::string::npos);
        CHECK(lower(unknown.text).find("xoauth2") == std::string::npos);
    }
}
