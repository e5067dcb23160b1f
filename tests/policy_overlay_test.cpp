// Gating a proposed Conditional Access change: policy files laid over the snapshot (--policies,
// --remove-policy), in the library and end to end through the CLI, with SARIF pointing at the file.
#include <doctest/doctest.h>

#include <filesystem>

#include <tenantscan/errors.hpp>
#include <tenantscan/policy_overlay.hpp>

#include "support.hpp"

using nlohmann::json;
using testsupport::run_cli;

namespace {

const std::string kAsOf = "2026-11-27";
const std::string kLegacyBlockId = "c0a80001-0001-4000-8000-000000000001";  // contoso CA001

std::string contoso() { return testsupport::example_snapshot("contoso-ready"); }
std::string ca_as_code(const std::string& part) { return testsupport::source_dir() + "/examples/ci/ca-as-code/" + part; }

json policy(const std::string& name, const std::string& state = "enabled") {
    return {{"displayName", name},
            {"state", state},
            {"conditions",
             {{"users", {{"includeUsers", {"All"}}}},
              {"applications", {{"includeApplications", {"All"}}}},
              {"clientAppTypes", {"all"}}}},
            {"grantControls", {{"operator", "OR"}, {"builtInControls", {"block"}}}}};
}

tenantscan::Snapshot snapshot_with_policies(const json& policies) {
    auto snapshot = testsupport::snapshot_from({{"snapshotVersion", 1}, {"graph", {{"conditionalAccessPolicies", policies}}}});
    snapshot.sourcePath = "snapshot.json";
    return snapshot;
}

json existing(const std::string& id, const std::string& name) {
    json p = policy(name);
    p["id"] = id;
    return p;
}

std::vector<tenantscan::PolicyChange> overlay(tenantscan::Snapshot& snapshot, const std::vector<json>& files,
                                              const std::vector<std::string>& remove = {}) {
    testsupport::TempDir dir;
    std::vector<std::string> paths;
    for (std::size_t i = 0; i < files.size(); ++i) {
        paths.push_back(dir.file("policy" + std::to_string(i) + ".json"));
        testsupport::write_file(paths.back(), files[i].dump(2));
    }
    return tenantscan::apply_policy_overlay(snapshot, {paths, remove});
}

struct Scan {
    int exitCode;
    json report;
    std::string err;
};

Scan scan(std::vector<std::string> extra) {
    std::vector<std::string> args = {"scan", contoso(), "--as-of", kAsOf, "--no-config", "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE((r.exitCode == 0 || r.exitCode == 1));
    return {r.exitCode, json::parse(r.out), r.err};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("overlay: same id replaces, same display name replaces, anything else is added") {
    auto snapshot = snapshot_with_policies({existing("id-1", "Block legacy"), existing("id-2", "Require MFA")});
    json byId = policy("Block legacy (renamed)", "disabled");
    byId["id"] = "ID-1";
    json byName = policy("require mfa");
    json added = policy("New policy");
    json addedWithId = policy("Require MFA");
    addedWithId["id"] = "id-from-another-tenant";
    auto changes = overlay(snapshot, {byId, byName, added, addedWithId});

    REQUIRE(changes.size() == 4);
    CHECK(changes[0].kind == tenantscan::PolicyChange::Kind::Replaced);
    CHECK(changes[0].matchedBy == "id");
    CHECK(changes[0].replacedDisplayName == "Block legacy");
    CHECK(changes[1].kind == tenantscan::PolicyChange::Kind::Replaced);
    CHECK(changes[1].matchedBy == "displayName");
    CHECK(changes[1].id == "id-2");
    CHECK(changes[2].kind == tenantscan::PolicyChange::Kind::Added);
    CHECK(changes[2].id.rfind("proposed:", 0) == 0);
    CHECK(changes[3].kind == tenantscan::PolicyChange::Kind::Added);
    CHECK(contains(changes[3].note, "already has a policy named 'Require MFA' (id id-2)"));

    const auto& policies = *snapshot.conditionalAccessPolicies;
    REQUIRE(policies.size() == 4);
    CHECK(policies[0].displayName == "Block legacy (renamed)");
    CHECK(policies[0].state == tenantscan::PolicyState::Disabled);
    CHECK(policies[0].sourceFile == changes[0].source.file);
    CHECK(policies[1].id == "id-2");
    CHECK(policies[1].displayName == "require mfa");
    CHECK(policies[2].displayName == "New policy");
    CHECK(policies[2].id == changes[2].id);
}

TEST_CASE("overlay: --remove-policy deletes a policy, an unknown id is an error") {
    auto snapshot = snapshot_with_policies({existing("id-1", "Block legacy"), existing("id-2", "Require MFA")});
    auto changes = overlay(snapshot, {}, {"id-2"});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].kind == tenantscan::PolicyChange::Kind::Removed);
    CHECK(changes[0].displayName == "Require MFA");
    REQUIRE(snapshot.conditionalAccessPolicies->size() == 1);
    CHECK(snapshot.conditionalAccessPolicies->front().id == "id-1");
    CHECK_THROWS_WITH_AS(overlay(snapshot, {}, {"id-9"}),
                         doctest::Contains("--remove-policy id-9: no policy with this id"), std::invalid_argument);
}

TEST_CASE("overlay: ambiguous or conflicting proposals and things that are not policies are rejected") {
    auto twoNamed = snapshot_with_policies({existing("id-1", "Same"), existing("id-2", "same")});
    CHECK_THROWS_WITH_AS(overlay(twoNamed, {policy("SAME")}),
                         doctest::Contains("/displayName: 2 snapshot policies are named 'SAME' (id-1, id-2)"),
                         tenantscan::InputError);

    auto snapshot = snapshot_with_policies({existing("id-1", "Block legacy")});
    json again = policy("Block legacy");
    CHECK_THROWS_WITH_AS(overlay(snapshot, {policy("Block legacy"), again}), doctest::Contains("is already changed by"),
                         tenantscan::InputError);
    json replace = policy("x");
    replace["id"] = "id-1";
    snapshot = snapshot_with_policies({existing("id-1", "Block legacy")});
    CHECK_THROWS_WITH_AS(overlay(snapshot, {replace}, {"id-1"}), doctest::Contains("also changed by"), std::invalid_argument);

    json noState = policy("x");
    noState.erase("state");
    json noConditions = policy("x");
    noConditions.erase("conditions");
    json location = {{"@odata.type", "#microsoft.graph.ipNamedLocation"}, {"displayName", "HQ"}, {"state", "enabled"}};
    json templ = {{"name", "Block legacy"}, {"details", {{"conditions", json::object()}}}};
    const std::pair<json, std::string> invalid[] = {
        {noState, "/state: missing policy state"},
        {noConditions, "/conditions: missing conditions"},
        {location, "expected a Conditional Access policy, got a #microsoft.graph.ipNamedLocation"},
        {templ, "this is a Conditional Access template, not a policy"},
        {json::array({policy("ok"), 42}), "/1: expected a Conditional Access policy object, got a number"},
        {json::array(), "no policy in the file"},
    };
    for (const auto& [file, message] : invalid) {
        auto s = snapshot_with_policies({existing("id-1", "Block legacy")});
        INFO(file.dump());
        CHECK_THROWS_WITH_AS(overlay(s, {file}), doctest::Contains(message.c_str()), tenantscan::InputError);
    }

    auto notCollected = testsupport::snapshot_from({{"snapshotVersion", 1}, {"graph", json::object()}});
    CHECK_THROWS_WITH_AS(overlay(notCollected, {policy("x")}),
                         doctest::Contains("/graph/conditionalAccessPolicies: section not collected"), tenantscan::InputError);
}

TEST_CASE("overlay: a directory is searched recursively in sorted order, hidden directories skipped") {
    testsupport::TempDir dir;
    std::filesystem::create_directories(dir.file("b/nested"));
    std::filesystem::create_directories(dir.file(".git"));
    testsupport::write_file(dir.file("b/nested/2.json"), policy("Second").dump());
    testsupport::write_file(dir.file("a.JSON"), policy("First").dump());
    testsupport::write_file(dir.file("notes.txt"), "not a policy");
    testsupport::write_file(dir.file(".git/ignored.json"), "not even JSON");
    // A list response with an envelope, as Graph returns it.
    testsupport::write_file(dir.file("c.json"), json({{"@odata.context", "x"}, {"value", {policy("Third"), policy("Fourth")}}}).dump());
    auto snapshot = snapshot_with_policies(json::array());
    auto changes = tenantscan::apply_policy_overlay(snapshot, {{dir.path()}, {}});
    REQUIRE(changes.size() == 4);
    CHECK(changes[0].displayName == "First");
    CHECK(changes[1].displayName == "Second");
    CHECK(changes[2].displayName == "Third");
    CHECK(changes[2].source.pointer == "/value/0");
    CHECK(changes[3].source.pointer == "/value/1");

    testsupport::TempDir empty;
    CHECK_THROWS_WITH_AS(tenantscan::apply_policy_overlay(snapshot, {{empty.path()}, {}}),
                         doctest::Contains("no policy files (*.json) in the directory"), tenantscan::InputError);
    CHECK_THROWS_WITH_AS(tenantscan::apply_policy_overlay(snapshot, {{dir.file("missing.json")}, {}}),
                         doctest::Contains("no such file or directory"), tenantscan::InputError);
}

TEST_CASE("overlay: the Conditional Access as code example passes as it is and fails with the pull request") {
    auto unchanged = scan({"--policies", ca_as_code("policies")});
    CHECK(unchanged.exitCode == 0);
    CHECK(unchanged.report["policyOverlay"].size() == 3);
    for (const auto& change : unchanged.report["policyOverlay"]) {
        CHECK(change["change"] == "replaced");
        CHECK(change["matchedBy"] == "id");
    }

    auto proposed = scan({"--policies", ca_as_code("policies"), "--policies", ca_as_code("pull-request")});
    CHECK(proposed.exitCode == 1);
    const auto& added = proposed.report["policyOverlay"][3];
    CHECK(added["change"] == "added");
    CHECK(added["displayName"] == "CA007 Require a compliant device for all users");
    int blocked = 0;
    for (const auto& f : proposed.report["findings"]) {
        if (f["rule"] != "hve-conditional-access" || f["status"] != "fail") continue;
        ++blocked;
        CHECK(contains(f["message"].get<std::string>(), "CA007 Require a compliant device for all users"));
        CHECK(f["evidence"]["blockingPolicies"][0]["id"] == added["id"]);
    }
    CHECK(blocked == 2);  // both HVE accounts of the tenant
}

TEST_CASE("overlay: in SARIF, findings caused by a proposed policy point at its file and line") {
    testsupport::TempDir dir;
    // The proposed policy is the second element of a list file, so its line is not the first.
    json list = json::array({json::parse(testsupport::read_file(ca_as_code("policies/CA001-block-legacy-authentication.json"))),
                             json::parse(testsupport::read_file(ca_as_code("pull-request/CA007-require-compliant-device.json")))});
    testsupport::write_file(dir.file("proposed.json"), list.dump(2));
    auto r = run_cli({"scan", contoso(), "--as-of", kAsOf, "--no-config", "--policies", dir.file("proposed.json"),
                      "--output", "sarif=" + dir.file("report.sarif")});
    INFO(r.err);
    REQUIRE(r.exitCode == 1);
    json sarif = json::parse(testsupport::read_file(dir.file("report.sarif")));
    auto valid = testsupport::run_program("/usr/bin/python3", {testsupport::source_dir() + "/tests/tools/validate_sarif.py",
                                                               testsupport::sarif_schema_path(),
                                                               dir.file("report.sarif")});
    CHECK_MESSAGE(valid.exitCode == 0, valid.err);
    const int expectedLine = tenantscan::json_pointer_line(testsupport::read_file(dir.file("proposed.json")), "/1");
    CHECK(expectedLine > 1);
    int pointing = 0;
    for (const auto& result : sarif["runs"][0]["results"]) {
        if (result["ruleId"] != "hve-conditional-access" || result["kind"] != "fail") continue;
        const auto& location = result["locations"][0];
        CHECK(location["physicalLocation"]["artifactLocation"]["uri"] == "file://" + dir.file("proposed.json"));
        CHECK(location["physicalLocation"]["region"]["startLine"] == expectedLine);
        CHECK(contains(location["message"]["text"].get<std::string>(), "Proposed policy 'CA007"));
        ++pointing;
    }
    CHECK(pointing == 2);
}

TEST_CASE("overlay: switching off the policies that block legacy authentication is caught") {
    // CA001 blocks legacy authentication outright; CA002 (MFA), CA003 (unknown platforms) and CA005
    // (countries) block it too, since a legacy client can satisfy none of their controls.
    json disabled = json::parse(testsupport::read_file(ca_as_code("policies/CA001-block-legacy-authentication.json")));
    disabled["state"] = "disabled";
    testsupport::TempFile file(disabled.dump());
    const std::vector<std::string> change = {"--policies", file.path(),
                                             "--remove-policy", "c0a80001-0001-4000-8000-000000000002",
                                             "--remove-policy", "c0a80001-0001-4000-8000-000000000003",
                                             "--remove-policy", "c0a80001-0001-4000-8000-000000000005"};
    auto before = scan({});
    auto after = scan(change);
    auto legacy = [](const json& report) {
        for (const auto& f : report["findings"])
            if (f["rule"] == "tenant-legacy-auth-protection") return f;
        return json();
    };
    CHECK(legacy(before.report)["status"] == "pass");
    CHECK(legacy(after.report)["status"] == "fail");
    CHECK(after.exitCode == 1);
    const auto& changes = after.report["policyOverlay"];
    REQUIRE(changes.size() == 4);
    CHECK(changes[0]["change"] == "replaced");
    CHECK(changes[0]["state"] == "disabled");
    CHECK(changes[1]["change"] == "removed");

    std::vector<std::string> args = {"scan", contoso(), "--as-of", kAsOf, "--no-config"};
    args.insert(args.end(), change.begin(), change.end());
    auto text = run_cli(args);
    CHECK(contains(text.out, "replaced 'CA001 Block legacy authentication' (" + kLegacyBlockId + ", state disabled)"));
    CHECK(contains(text.out, "removed 'CA002 Require MFA for all users' (c0a80001-0001-4000-8000-000000000002"));
}

TEST_CASE("overlay: invalid policy files and unknown ids exit 2 naming the file and JSON pointer") {
    json noState = policy("x");
    noState.erase("state");
    testsupport::TempFile file(json::array({policy("fine"), noState}).dump());
    auto r = run_cli({"scan", contoso(), "--as-of", kAsOf, "--policies", file.path()});
    CHECK(r.exitCode == 2);
    CHECK(contains(r.err, file.path() + ": /1/state: missing policy state"));

    r = run_cli({"scan", contoso(), "--as-of", kAsOf, "--remove-policy", "not-a-policy-id"});
    CHECK(r.exitCode == 2);
    CHECK(contains(r.err, "--remove-policy not-a-policy-id: no policy with this id"));
}
