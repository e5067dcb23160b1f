// Every file of the real-world corpus goes through the loader: invalid ones (marked "NO" in their
// folder's PROVENANCE.md) are rejected with an error naming the file; every policy, named location
// and group in the valid ones decodes through the same decoders the snapshot uses. Counts are
// checked per folder so that the walk cannot pass by reading nothing.
//
// "corpus: ..." walks the curated subset vendored in tests/data/corpus (tests/data/README.md lists
// which file stands for which shape). "corpus-full: ..." walks the whole corpus CI provides beside
// the checkout; those cases are skipped by default (doctest::skip) and run by the ctest test
// `corpus-full` (tests/CMakeLists.txt), which reports itself skipped when the folder is absent.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <tenantscan/errors.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/detail/text.hpp>

#include "support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using tenantscan::ConditionalAccessPolicy;
using tenantscan::InputError;
using tenantscan::JsonView;
using tenantscan::NamedLocation;
using tenantscan::PolicyState;

namespace {

struct Tally {
    int files = 0;
    int rejected = 0;        // invalid JSON, as PROVENANCE.md says
    int undecodable = 0;     // valid JSON whose content the decoders refuse, see kUndecodable
    int policies = 0;
    int ipLocations = 0;
    int countryLocations = 0;
    int otherLocations = 0;
    int ipRanges = 0;
    int groups = 0;
    int exchangeConfigs = 0;  // ScubaGear exports whose Exchange settings decoded as snapshot sections
    int parsedOnly = 0;
};

struct Corpus {
    std::map<std::string, Tally> folders;                        // by top-level folder
    std::map<std::string, ConditionalAccessPolicy> policyByFile; // first policy of each file, by relative path
    std::map<std::string, NamedLocation> locationByFile;
    std::map<std::string, tenantscan::TransportConfig> transportByFile;
};

// Valid JSON that is not valid tenant data, with the error the decoder must give. The loader refuses
// a malformed CIDR range rather than guess what it means.
const std::map<std::string, std::string> kUndecodable = {
    {"denis-beuermann-conditionalaccess/templates/locations/MyDatacenterPublicEndpoints.json",
     "/ipRanges/0/cidrAddress: malformed CIDR range \"xx.xx.xxx.xx/32\""},  // a redacted request-body template
};

// Relative paths marked "NO" in the "valid JSON" column of a folder's PROVENANCE.md tables.
std::set<std::string> invalid_files(const fs::path& folder) {
    std::set<std::string> invalid;
    std::ifstream in(folder / "PROVENANCE.md");
    std::string line;
    int validColumn = -1;
    while (std::getline(in, line)) {
        if (line.rfind("|", 0) != 0) {
            validColumn = -1;  // a table ends at the first line that is not a row
            continue;
        }
        std::vector<std::string> cells;
        std::size_t start = 1;
        for (std::size_t bar; (bar = line.find('|', start)) != std::string::npos; start = bar + 1) {
            std::string cell = line.substr(start, bar - start);
            cell.erase(0, cell.find_first_not_of(' '));
            cell.erase(cell.find_last_not_of(' ') + 1);
            cells.push_back(cell);
        }
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (cells[i] == "valid JSON") validColumn = static_cast<int>(i);
        }
        if (validColumn >= 0 && static_cast<std::size_t>(validColumn) < cells.size() && cells[validColumn] == "NO" &&
            cells[0].size() > 2 && cells[0].front() == '`' && cells[0].back() == '`') {
            invalid.insert(cells[0].substr(1, cells[0].size() - 2));
        }
    }
    return invalid;
}

bool has_member(const json& object, std::initializer_list<const char*> names) {
    if (!object.is_object()) return false;
    for (const auto& member : object.items()) {
        for (const char* name : names) {
            if (tenantscan::iequals(member.key(), name)) return true;
        }
    }
    return false;
}

bool looks_like_named_location(const json& object) {
    if (has_member(object, {"ipRanges", "countriesAndRegions"})) return true;
    auto type = object.is_object() ? object.find("@odata.type") : object.end();
    return type != object.end() && type->is_string() &&
           type->get<std::string>().find("NamedLocation") != std::string::npos;
}

bool looks_like_policy(const json& object) {
    return has_member(object, {"conditions", "grantControls", "sessionControls", "details"});
}

// The first element of a list in any accepted shape (array, envelope, bare object).
const json* first_element(const json& document) {
    if (document.is_array()) return document.empty() ? nullptr : &document.front();
    if (document.is_object() && document.contains("value") && document["value"].is_array()) {
        return document["value"].empty() ? nullptr : &document["value"].front();
    }
    return &document;
}

void count_policies(const std::vector<ConditionalAccessPolicy>& policies, const std::string& key, Corpus& corpus,
                    Tally& tally) {
    tally.policies += static_cast<int>(policies.size());
    if (!policies.empty()) corpus.policyByFile.emplace(key, policies.front());
}

void count_locations(const std::vector<NamedLocation>& locations, const std::string& key, Corpus& corpus,
                     Tally& tally) {
    for (const NamedLocation& location : locations) {
        switch (location.kind) {
            case NamedLocation::Kind::Ip: ++tally.ipLocations; break;
            case NamedLocation::Kind::Country: ++tally.countryLocations; break;
            case NamedLocation::Kind::Other: ++tally.otherLocations; break;
        }
        tally.ipRanges += static_cast<int>(location.ipRanges.size());
    }
    if (!locations.empty()) corpus.locationByFile.emplace(key, locations.front());
}

// ScubaGear's ProviderSettingsExport (or ScubaResults' "Raw"): CA policies in PascalCase, and
// Get-OrganizationConfig / Get-TransportConfig output that we read as the Exchange sections.
void decode_scuba_export(const JsonView& export_, const std::string& key, Corpus& corpus, Tally& tally) {
    count_policies(tenantscan::decode_policies(export_.get("conditional_access_policies")), key, corpus, tally);
    json snapshot = {{"snapshotVersion", 1},
                     {"exchange",
                      {{"organizationConfig", export_.get("org_config").value()},
                       {"transportConfig", export_.get("transport_config").value()}}}};
    auto decoded = tenantscan::decode_snapshot(snapshot, export_.file());
    if (decoded.organizationConfig && decoded.transportConfig) {
        ++tally.exchangeConfigs;
        corpus.transportByFile.emplace(key, *decoded.transportConfig);
    }
}

void decode_valid_file(const std::string& folder, const std::string& relative, const json& document,
                       const std::string& path, Corpus& corpus) {
    Tally& tally = corpus.folders[folder];
    const std::string key = folder + "/" + relative;
    JsonView view(document, path, "");
    if (folder == "j0eyv-ca-baseline" && relative.rfind("Config/Groups/", 0) == 0) {
        tenantscan::decode_group(view);
        ++tally.groups;
        return;
    }
    if (has_member(document, {"conditional_access_policies"})) {
        decode_scuba_export(view, key, corpus, tally);
        return;
    }
    if (has_member(document, {"Raw"}) && has_member(document["Raw"], {"conditional_access_policies"})) {
        decode_scuba_export(view.get("Raw"), key, corpus, tally);
        return;
    }
    const json* first = first_element(document);
    if (first && looks_like_named_location(*first)) {
        count_locations(tenantscan::decode_named_locations(view), key, corpus, tally);
        return;
    }
    if (first && looks_like_policy(*first)) {
        count_policies(tenantscan::decode_policies(view), key, corpus, tally);
        return;
    }
    // Not tenant data (fortigi's Convert.Json maps terms-of-use names to ids): parsing is all we need.
    CHECK_MESSAGE(key == "fortigi-conditionalaccess/Examples/Policy/Convert.Json", "unclassified corpus file " << key);
    ++tally.parsedOnly;
}

Corpus walk_corpus(const fs::path& root) {
    Corpus corpus;
    REQUIRE_MESSAGE(fs::is_directory(root), "corpus not found at " << root);
    for (const auto& folderEntry : fs::directory_iterator(root)) {
        if (!folderEntry.is_directory()) continue;
        const std::string folder = folderEntry.path().filename().string();
        const std::set<std::string> invalid = invalid_files(folderEntry.path());
        Tally& tally = corpus.folders[folder];
        for (const auto& entry : fs::recursive_directory_iterator(folderEntry.path())) {
            if (!entry.is_regular_file()) continue;
            const std::string name = entry.path().filename().string();
            if (name == "LICENSE" || name == "README.md" || name == "PROVENANCE.md") continue;
            const std::string relative = fs::relative(entry.path(), folderEntry.path()).generic_string();
            const std::string path = entry.path().string();
            ++tally.files;
            if (invalid.count(relative)) {
                try {
                    tenantscan::read_json_file(path);
                    FAIL_CHECK("accepted a file marked invalid: " << folder << "/" << relative);
                } catch (const InputError& error) {
                    CHECK(error.file() == path);
                    CHECK(std::string(error.what()).rfind(path + ": line ", 0) == 0);
                    ++tally.rejected;
                }
                continue;
            }
            json document;
            try {
                document = tenantscan::read_json_file(path);
            } catch (const InputError& error) {
                FAIL_CHECK("valid corpus file rejected: " << std::string(error.what()));
                continue;
            }
            auto undecodable = kUndecodable.find(folder + "/" + relative);
            try {
                decode_valid_file(folder, relative, document, path, corpus);
                CHECK_MESSAGE(undecodable == kUndecodable.end(), "decoded " << folder << "/" << relative);
            } catch (const InputError& error) {
                if (undecodable != kUndecodable.end() && std::string(error.what()) == path + ": " + undecodable->second) {
                    ++tally.undecodable;
                } else {
                    FAIL_CHECK("corpus file not decoded: " << std::string(error.what()));
                }
            }
        }
    }
    return corpus;
}

// The curated subset in the repository.
const Corpus& corpus() {
    static const Corpus walked = walk_corpus(testsupport::corpus_dir());
    return walked;
}

// The whole corpus (CI); REQUIREs the folder, so a direct run without it fails instead of passing.
const Corpus& full_corpus() {
    static const Corpus walked = walk_corpus(testsupport::full_corpus_dir());
    return walked;
}

const ConditionalAccessPolicy& policy_of(const Corpus& walked, const std::string& key) {
    auto found = walked.policyByFile.find(key);
    REQUIRE_MESSAGE(found != walked.policyByFile.end(), "no policy decoded from " << key);
    return found->second;
}

const ConditionalAccessPolicy& policy_of(const std::string& key) { return policy_of(corpus(), key); }

using Counts = std::map<std::string, std::pair<int, int>>;  // folder -> files, rejected as invalid

void check_files(const Corpus& walked, const Counts& expected) {
    REQUIRE(walked.folders.size() == expected.size());
    for (const auto& [folder, counts] : expected) {
        CAPTURE(folder);
        REQUIRE(walked.folders.count(folder) == 1);
        CHECK(walked.folders.at(folder).files == counts.first);
        CHECK(walked.folders.at(folder).rejected == counts.second);
    }
    CHECK(walked.folders.at("denis-beuermann-conditionalaccess").undecodable == 1);
}

}  // namespace

// ---- The curated subset (tests/data/corpus) ----

TEST_CASE("corpus: every vendored file is read, invalid ones are rejected naming the file") {
    // Files per folder (LICENSE and PROVENANCE.md aside), and how many PROVENANCE.md marks invalid.
    check_files(corpus(), {{"alexfilipin-conditionalaccess", {4, 0}},
                           {"cisagov-scubagear", {7, 0}},
                           {"dataguys-ca-templates", {2, 0}},
                           {"denis-beuermann-conditionalaccess", {12, 2}},  // trailing comma, bare fragment
                           {"fortigi-conditionalaccess", {5, 0}},
                           {"j0eyv-ca-baseline", {11, 0}},
                           {"maester-test-fragments", {11, 4}},  // PowerShell templates, not JSON
                           {"philippkohn-ca-zerotrust-export", {3, 0}}});
    int files = 0;
    for (const auto& [folder, tally] : corpus().folders) files += tally.files;
    CHECK(files == 55);
}

TEST_CASE("corpus: every vendored policy decodes, in every shape") {
    const auto& f = corpus().folders;
    CHECK(f.at("alexfilipin-conditionalaccess").policies == 4);    // request bodies, placeholders, duplicate key
    CHECK(f.at("philippkohn-ca-zerotrust-export").policies == 3);  // v1.0 exports with property annotations
    CHECK(f.at("dataguys-ca-templates").policies == 2);            // templates, through "details"
    CHECK(f.at("j0eyv-ca-baseline").policies == 4);                // UTF-16LE and UTF-8+BOM beta exports
    CHECK(f.at("maester-test-fragments").policies == 7);           // arrays
    CHECK(f.at("fortigi-conditionalaccess").policies == 4);        // display-name references, UTF-16LE
    CHECK(f.at("fortigi-conditionalaccess").parsedOnly == 1);
    // One list response (47 policies) + 6 single bodies.
    CHECK(f.at("denis-beuermann-conditionalaccess").policies == 47 + 6);
    // The v1.0.0 export (11 PascalCase policies), the 0.2.0 stub (one policy unwrapped to a bare object), 5 CapSnippets.
    CHECK(f.at("cisagov-scubagear").policies == 11 + 1 + 5);
    CHECK(f.at("cisagov-scubagear").exchangeConfigs == 2);
}

TEST_CASE("corpus: vendored named locations and groups decode") {
    const auto& denis = corpus().folders.at("denis-beuermann-conditionalaccess");
    // One list response (30 IP and 2 country locations, 84 ranges) + loc_DEA.json (2 ranges).
    CHECK(denis.ipLocations == 30 + 1);
    CHECK(denis.countryLocations == 2);
    CHECK(denis.otherLocations == 0);
    CHECK(denis.ipRanges == 84 + 2);
    const auto& j0eyv = corpus().folders.at("j0eyv-ca-baseline");
    CHECK(j0eyv.countryLocations == 1);
    CHECK(j0eyv.otherLocations == 1);  // a compliant-network location
    CHECK(j0eyv.groups == 5);

    const NamedLocation& allowed = corpus().locationByFile.at("j0eyv-ca-baseline/Config/NamedLocations/ALLOWED COUNTRIES.json");
    CHECK(allowed.countriesAndRegions == std::vector<std::string>{"BE", "LU", "NL"});
    CHECK(allowed.countryLookupMethod == "clientIpAddress");
    CHECK_FALSE(allowed.includeUnknownCountriesAndRegions);
}

TEST_CASE("corpus: vendored files decode to the values they hold") {
    using Strings = std::vector<std::string>;
    // UTF-16LE + BOM, CRLF, property annotations everywhere.
    const auto& ca000 =
        policy_of("j0eyv-ca-baseline/Config/ConditionalAccess/CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA.json");
    CHECK(ca000.displayName == "CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA");
    CHECK(ca000.id == "809741fe-fb1b-4746-9ff0-83a978a4c891");
    CHECK(ca000.state == PolicyState::Enabled);
    CHECK(ca000.users.includeUsers == Strings{"All"});
    CHECK(ca000.users.excludeGroups.size() == 7);
    CHECK(ca000.users.excludeRoles == Strings{"d29b2b05-8046-44ba-8758-1e26182fcf32"});
    CHECK(ca000.includeApplications == Strings{"All"});
    CHECK(ca000.grantOperator == "OR");
    CHECK(ca000.builtInControls == Strings{"mfa"});
    CHECK_FALSE(ca000.requiresAuthenticationStrength);
    CHECK_FALSE(ca000.hasSessionControls);

    // Duplicate key "sessionControls": null first, then an object; the last one wins.
    const auto& token = policy_of("alexfilipin-conditionalaccess/PolicyRepository/Base protection/"
                                  "209 - RING - Base protection - All apps Require Token protection for EXO and SPO "
                                  "Desktop App(preview).json");
    CHECK(token.hasSessionControls);
    CHECK_FALSE(token.hasGrantControls());
    CHECK(token.state == PolicyState::ReportOnly);
    CHECK(token.includePlatforms == Strings{"windows"});

    // PascalCase "GrantControls": {} beside camelCase keys.
    const auto* dataProtection = [&]() -> const ConditionalAccessPolicy* {
        for (const auto& [key, policy] : corpus().policyByFile) {
            if (key.rfind("alexfilipin-conditionalaccess/PolicyRepository/Data protection/509", 0) == 0) return &policy;
        }
        return nullptr;
    }();
    REQUIRE(dataProtection);
    CHECK_FALSE(dataProtection->hasGrantControls());
    CHECK(dataProtection->grantOperator.empty());
    CHECK(dataProtection->hasSessionControls);

    // A template's unknown grant value is kept as written.
    const auto& template008 = policy_of("dataguys-ca-templates/Templates/008_.json");
    CHECK(template008.displayName == "Require password change for high-risk users");
    CHECK(template008.id == "634b6de7-c38d-4357-a2c7-3842706eedd7");
    CHECK(template008.builtInControls == Strings{"MfaAndChangePassword"});
    CHECK(template008.userRiskLevels == Strings{"high"});

    // Hand-written "All" client app type, normalised to Graph's "all".
    const auto& fortigi = policy_of("fortigi-conditionalaccess/Examples/Policy/CA-01- All Apps - All Admins - Require MFA.json");
    CHECK(fortigi.clientAppTypes == Strings{"all"});
    CHECK(fortigi.users.includeGroups == Strings{"CA-01 - Inclusion5099", "CA-01 - Inclusion6099"});
    // The same policy exported by Windows PowerShell 5.1 (UTF-16LE, CRLF).
    const auto& fortigiExport =
        policy_of("fortigi-conditionalaccess/Examples/Policy/Temp/CA-01- All Apps - All Admins - Require MFA.json");
    CHECK(fortigiExport.id == "625ff1b6-dd7c-4f7c-8fd9-a5ef1964ff99");
    CHECK(fortigiExport.displayName == fortigi.displayName);
    CHECK(fortigiExport.state == PolicyState::Disabled);

    // ScubaGear v1.0.0 (UTF-8 with BOM): PascalCase policies and Exchange settings.
    const std::string scubaV1 = "cisagov-scubagear/history/v1.0.0_192ef5e5bd/sample-report/ProviderSettingsExport.json";
    const auto& scuba = policy_of(scubaV1);
    CHECK(scuba.displayName == "MS.AAD.2.1v1 Users detected as high risk SHALL be blocked");
    CHECK(scuba.id == "5cef0a3b-8e42-420f-b34d-b51249d34ae8");
    CHECK(scuba.state == PolicyState::Enabled);
    CHECK(scuba.users.includeUsers == Strings{"All"});
    CHECK(scuba.builtInControls == Strings{"block"});
    CHECK(corpus().transportByFile.at(scubaV1).smtpClientAuthenticationDisabled == true);
    // ScubaGear 0.2.0: PowerShell unwrapped the one-element arrays into bare objects.
    const std::string scubaStub =
        "cisagov-scubagear/HEAD/PowerShell/ScubaGear/Testing/Unit/PowerShell/RunRego/RunRegoStubs/ProviderSettingsExport.json";
    const auto& unwrapped = policy_of(scubaStub);
    CHECK(unwrapped.id == "07800eb6-83d2-42e2-9455-e53389b7cca8");
    CHECK(unwrapped.state == PolicyState::ReportOnly);
    CHECK(unwrapped.users.includeUsers == Strings{"GuestsOrExternalUsers"});
    CHECK(corpus().transportByFile.at(scubaStub).smtpClientAuthenticationDisabled == true);

    // Maester: guest types as a flags string.
    const auto& guests = policy_of(
        "maester-test-fragments/extracted/Test-MtCaMfaForGuest__04__Get-GuestMfaPolicyExcludeGuest__L124-160.json");
    REQUIRE(guests.users.includeGuestsOrExternalUsers);
    CHECK(guests.users.includeGuestsOrExternalUsers->guestOrExternalUserTypes.size() == 6);
    REQUIRE(guests.users.excludeGuestsOrExternalUsers);
    CHECK(guests.users.excludeGuestsOrExternalUsers->guestOrExternalUserTypes == Strings{"b2bCollaborationGuest"});
    const auto& servicePrincipals = policy_of(
        "maester-test-fragments/extracted/Test-MtCaEmergencyAccessExists__07__Get-PolicyServicePrincipal__L182-203.json");
    CHECK(servicePrincipals.targetsWorkloadIdentities);
    CHECK(servicePrincipals.users.includeUsers == Strings{"None"});

    // The policy's place in its file is recorded for evidence and SARIF.
    const auto& listed = policy_of("denis-beuermann-conditionalaccess/archive/20210511-Policies.json");
    CHECK(listed.sourcePointer == "/value/0");
    CHECK(listed.sourceFile.find("archive/20210511-Policies.json") != std::string::npos);
}

// ---- The whole corpus (CI) ----

TEST_CASE("corpus-full: every file is read, invalid ones are rejected naming the file" * doctest::skip()) {
    check_files(full_corpus(), {{"alexfilipin-conditionalaccess", {59, 0}},
                                {"cisagov-scubagear", {14, 0}},
                                {"dataguys-ca-templates", {18, 0}},
                                {"denis-beuermann-conditionalaccess", {110, 2}},
                                {"fortigi-conditionalaccess", {5, 0}},
                                {"j0eyv-ca-baseline", {75, 0}},
                                {"maester-test-fragments", {11, 4}},
                                {"philippkohn-ca-zerotrust-export", {52, 0}}});
}

TEST_CASE("corpus-full: every policy decodes, in every shape" * doctest::skip()) {
    const auto& f = full_corpus().folders;
    CHECK(f.at("alexfilipin-conditionalaccess").policies == 59);    // single request bodies
    CHECK(f.at("philippkohn-ca-zerotrust-export").policies == 52);  // single v1.0 exports
    CHECK(f.at("dataguys-ca-templates").policies == 18);            // templates, through "details"
    CHECK(f.at("j0eyv-ca-baseline").policies == 36);                // UTF-16LE and UTF-8+BOM beta exports
    CHECK(f.at("maester-test-fragments").policies == 7);            // arrays
    CHECK(f.at("fortigi-conditionalaccess").policies == 4);
    CHECK(f.at("fortigi-conditionalaccess").parsedOnly == 1);
    // 15 list responses (699 policies) + 56 single bodies.
    CHECK(f.at("denis-beuermann-conditionalaccess").policies == 699 + 56);
    // 9 ScubaGear exports (87 PascalCase policies, one export unwrapped to a bare object) + 5 CapSnippets.
    CHECK(f.at("cisagov-scubagear").policies == 87 + 5);
    CHECK(f.at("cisagov-scubagear").exchangeConfigs == 9);
}

TEST_CASE("corpus-full: named locations and groups decode" * doctest::skip()) {
    const auto& denis = full_corpus().folders.at("denis-beuermann-conditionalaccess");
    // 13 list responses and graph-export.json (934 locations) + 22 single ipNamedLocation bodies.
    CHECK(denis.ipLocations == 906 + 22);
    CHECK(denis.countryLocations == 28);
    CHECK(denis.otherLocations == 0);
    CHECK(denis.ipRanges == 3118);
    const auto& j0eyv = full_corpus().folders.at("j0eyv-ca-baseline");
    CHECK(j0eyv.countryLocations == 2);
    CHECK(j0eyv.otherLocations == 1);  // a compliant-network location
    CHECK(j0eyv.groups == 36);

}

TEST_CASE("corpus-full: the latest ScubaGear export decodes to its values" * doctest::skip()) {
    const std::string scubaHead = "cisagov-scubagear/HEAD/PowerShell/ScubaGear/Sample-Reports/ProviderSettingsExport.json";
    const auto& scuba = policy_of(full_corpus(), scubaHead);
    CHECK(scuba.displayName == "Live - Session Length is Limited & No persistent browser sessions");
    CHECK(scuba.id == "e430772e-f1c9-4618-9b68-4f125e80a288");
    CHECK(scuba.state == PolicyState::Enabled);
    CHECK(scuba.users.includeUsers == std::vector<std::string>{"All"});
    CHECK(scuba.hasSessionControls);
    CHECK_FALSE(scuba.hasGrantControls());
    CHECK(full_corpus().transportByFile.at(scubaHead).smtpClientAuthenticationDisabled == true);
}
