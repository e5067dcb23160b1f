// The one check every collect fault scenario ends with (issue 12): whatever went wrong, the
// snapshot written is never silently short and no token went astray.
//
//  1. No bearer token reached anything but its own audience: the fake cloud saw no token for
//     one service presented to the other ("tokenMisuse"), and the second origin (the redirect
//     target) received no request at all ("foreign").
//  2. Each section of the snapshot either equals the fake tenant's ground truth, or is listed in
//     notCollected, or is marked partial with its scope (and then holds a subset of the truth that
//     still covers the scope it names). A listed section is absent; a partial one present.
//  3. The exit code is non-zero whenever anything is listed (beyond "not requested").
//  4. Scanned, the snapshot lets no finding pass that fails, reviews or errs on the clean tenant
//     (the tenant's own document, without the device inventory the cloud cannot tell).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_cloud.hpp"
#include "support.hpp"

namespace fakecloud {

namespace invariant_detail {

using nlohmann::json;

inline std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

inline std::multiset<std::string> as_multiset(const json& list) {
    std::multiset<std::string> out;
    if (list.is_array())
        for (const auto& item : list) out.insert(item.dump());
    return out;
}

inline std::string text(const json& object, const char* name) {
    if (!object.is_object()) return {};
    for (const auto& [key, value] : object.items())
        if (lower(key) == lower(name) && value.is_string()) return value.get<std::string>();
    return {};
}

// Findings of `tenantscan scan --format json`: (rule, subject id) → status.
inline std::map<std::pair<std::string, std::string>, std::string> scan_statuses(const std::string& snapshot) {
    testsupport::CommandResult scan = testsupport::run_cli({"scan", snapshot, "--format", "json"});
    REQUIRE_MESSAGE((scan.exitCode == 0 || scan.exitCode == 1), scan.err);
    std::map<std::pair<std::string, std::string>, std::string> out;
    const json report = json::parse(scan.out);
    for (const auto& f : report.at("findings"))
        out[{f["rule"].get<std::string>(), f["subject"]["id"].get<std::string>()}] = f["status"].get<std::string>();
    return out;
}

// The accounts the per-account Exchange sections cover: the HVE accounts, and the accounts seen
// sending with SMTP AUTH (sign-ins of the snapshot) that are not HVE accounts.
struct Accounts {
    std::set<std::string> hve, senders;  // lower-case identities as the cmdlets get them
};
inline Accounts accounts_of(const json& snapshot) {
    Accounts a;
    std::set<std::string> hveKeys;
    for (const auto& hve : snapshot.value("/exchange/hveAccounts"_json_pointer, json::array())) {
        std::string identity = text(hve, "PrimarySmtpAddress");
        for (const char* fallback : {"UserPrincipalName", "ExternalDirectoryObjectId", "Identity"})
            if (identity.empty()) identity = text(hve, fallback);
        if (!identity.empty()) a.hve.insert(lower(identity));
        for (const char* key : {"PrimarySmtpAddress", "UserPrincipalName", "ExternalDirectoryObjectId"})
            if (!text(hve, key).empty()) hveKeys.insert(lower(text(hve, key)));
    }
    for (const auto& signIn : snapshot.value("/graph/signIns"_json_pointer, json::array())) {
        std::string upn = lower(text(signIn, "userPrincipalName"));
        if (upn.empty() || hveKeys.count(upn) || hveKeys.count(lower(text(signIn, "userId")))) continue;
        a.senders.insert(upn);
    }
    return a;
}

inline std::set<std::string> objects_for(const json& index, const std::set<std::string>& identities) {
    std::set<std::string> out;
    for (const auto& id : identities)
        if (index.contains(id)) out.insert(index[id].dump());
    return out;
}

inline void check_groups(const json& collected, const json& truth, const json& snapshot) {
    std::set<std::string> ids;
    for (const auto& group : collected) {
        std::string id = lower(text(group, "id"));
        ids.insert(id);
        CAPTURE(id);
        REQUIRE_MESSAGE(truth.contains(id), "a collected group the tenant does not have");
        CHECK(group == truth[id]);
    }
    // Closure: what the policies name and every member group must be there, or the section is short.
    std::set<std::string> needed;
    for (const auto& policy : snapshot.value("/graph/conditionalAccessPolicies"_json_pointer, json::array()))
        for (const char* list : {"includeGroups", "excludeGroups"})
            for (const auto& id : policy["conditions"]["users"].value(list, json::array()))
                if (id.is_string() && truth.contains(lower(id.get<std::string>()))) needed.insert(lower(id.get<std::string>()));
    for (const auto& name : snapshot["collection"]["requested"].value("hveGroups", json::array()))
        for (const auto& [id, group] : truth.items())
            if (group["displayName"] == name) needed.insert(id);
    for (const auto& group : collected)
        for (const auto& member : group["members"])
            if (member["@odata.type"] == "#microsoft.graph.group") needed.insert(lower(member["id"].get<std::string>()));
    for (const auto& id : needed) CHECK_MESSAGE(ids.count(id), "group " << id << " is missing from /graph/groups");
}

}  // namespace invariant_detail

// Tokens only to their own audience; nothing at all to the other origin (also when nothing was
// written).
inline void check_no_token_astray(const FakeCloud& cloud) {
    for (const auto& entry : cloud.log()) {
        CHECK_MESSAGE(entry["kind"] != "tokenMisuse", "a token reached another audience: " << entry.dump());
        CHECK_MESSAGE(entry["kind"] != "foreign", "the other origin received a request: " << entry.dump());
    }
}

// `exitCode` is the exit code of the command that wrote `snapshotPath` (collect, or scan --live
// --save-snapshot).
inline void check_collection_invariant(const FakeCloud& cloud, const std::string& snapshotPath, int exitCode) {
    using namespace invariant_detail;
    INFO("collection invariant for " << snapshotPath);

    // 1. Tokens only to their own audience; nothing at all to the other origin.
    check_no_token_astray(cloud);

    // 2. Each section: equal to the truth, listed, or partial with a scope it covers.
    const json snapshot = json::parse(testsupport::read_file(snapshotPath));
    const json truth = cloud.ground_truth();
    const json notCollected = snapshot.value("notCollected", json::object());
    const json partial = snapshot.value("partial", json::object());
    REQUIRE(notCollected.is_object());
    REQUIRE(partial.is_object());
    for (const auto& [pointer, scope] : partial.items()) {
        CAPTURE(pointer);
        CHECK(scope.is_string());
        CHECK_FALSE(scope.get<std::string>().empty());
        CHECK(snapshot.contains(json::json_pointer(pointer)));
        CHECK_FALSE(notCollected.contains(pointer));
    }
    const std::vector<std::string> sections = {
        "/graph/conditionalAccessPolicies", "/graph/namedLocations", "/graph/securityDefaults", "/graph/users",
        "/graph/groups", "/graph/roleAssignments", "/graph/subscribedSkus", "/graph/signIns",
        "/exchange/organizationConfig", "/exchange/transportConfig", "/exchange/authenticationPolicies",
        "/exchange/users", "/exchange/hveAccounts", "/exchange/hveBillingPolicies", "/exchange/recipients",
        "/exchange/casMailboxes", "/exchange/acceptedDomains", "/exchange/inboundConnectors", "/crossCheck"};
    const Accounts accounts = accounts_of(snapshot);
    for (const auto& pointer : sections) {
        CAPTURE(pointer);
        const json::json_pointer at(pointer);
        const bool present = snapshot.contains(at) && !snapshot[at].is_null();
        if (!present) {
            bool crossCheckNotAsked = pointer == "/crossCheck" && !snapshot["collection"]["requested"].value("crossCheck", false);
            CHECK_MESSAGE((notCollected.contains(pointer) || crossCheckNotAsked), "absent but not listed in notCollected");
            continue;
        }
        CHECK_MESSAGE(!notCollected.contains(pointer), "present and listed in notCollected");
        const json& value = snapshot[at];
        if (pointer == "/graph/groups") {
            check_groups(value, truth["groups"], snapshot);
        } else if (pointer == "/graph/signIns") {
            const std::string since = snapshot["collection"]["requested"]["signInsSince"];
            json expected = json::array();
            for (const auto& s : truth["sections"][pointer])
                if (s.value("createdDateTime", "") >= since) expected.push_back(s);
            CHECK(as_multiset(value) == as_multiset(expected));
        } else if (truth["perAccount"].contains(pointer)) {
            const json& index = truth["perAccount"][pointer];
            const bool sendersOnly = pointer == "/exchange/casMailboxes";
            std::set<std::string> scope = accounts.senders;
            if (!sendersOnly) scope.insert(accounts.hve.begin(), accounts.hve.end());
            std::set<std::string> got;
            for (const auto& object : value) got.insert(object.dump());
            if (partial.contains(pointer)) {
                // Holds less than the scope above, but all it does hold is true, and it covers
                // what its scope says it covers (the collector names "only the HVE accounts").
                for (const auto& object : got) CHECK_MESSAGE(objects_for(index, scope).count(object), object);
                if (partial[pointer].get<std::string>().rfind("only the HVE accounts", 0) == 0)
                    for (const auto& object : objects_for(index, accounts.hve)) CHECK_MESSAGE(got.count(object), object);
            } else {
                CHECK(got == objects_for(index, scope));
            }
        } else if (pointer == "/crossCheck") {
            std::size_t subjects = 0;
            for (const auto& hve : truth["sections"]["/exchange/hveAccounts"])
                subjects += !text(hve, "ExternalDirectoryObjectId").empty();
            CHECK(value.size() == subjects);
            for (const auto& entry : value)
                CHECK(entry["value"].size() == truth["sections"]["/graph/conditionalAccessPolicies"].size());
        } else if (value.is_array()) {
            CHECK(as_multiset(value) == as_multiset(truth["sections"][pointer]));
        } else {
            CHECK(value == truth["sections"][pointer]);
        }
    }

    // 3. Anything listed means a non-zero exit.
    bool listed = !partial.empty();
    for (const auto& [pointer, reason] : notCollected.items()) listed |= reason != "not requested (--sections)";
    if (listed) CHECK_MESSAGE(exitCode != 0, "sections are listed as not collected or partial, yet the exit code is 0");

    // 4. No false pass against the clean tenant.
    nlohmann::json clean = nlohmann::json::parse(testsupport::read_file(cloud.tenant_file()));
    clean.erase("smtpClients");
    testsupport::TempFile cleanFile(clean.dump(), ".json");
    const auto cleanStatuses = scan_statuses(cleanFile.path());
    for (const auto& [key, status] : scan_statuses(snapshotPath)) {
        if (status != "pass") continue;
        auto it = cleanStatuses.find(key);
        if (it == cleanStatuses.end()) continue;
        CHECK_MESSAGE((it->second != "fail" && it->second != "review" && it->second != "error"),
                      key.first << " passes " << key.second << " but is " << it->second << " on the clean tenant");
    }
}

}  // namespace fakecloud
