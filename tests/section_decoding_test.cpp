// Bad input is the user's error, not ours: every section is decoded when the snapshot is loaded, so a
// malformed one stops the load (exit 2) naming the file and the JSON pointer instead of surfacing as
// "report this as a tenantscan bug" from a rule; rules declare only real sections; and no waiver
// turns an `error` into a pass.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>

#include <tenantscan/errors.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/builtin_rules.hpp>

#include "support.hpp"

using nlohmann::json;
using testsupport::snapshot_from;

namespace {

json minimal() { return {{"snapshotVersion", 1}, {"tenantId", "t-1"}, {"collectedAt", "2026-11-27T06:00:00Z"}}; }

std::string load_error(const json& document) {
    try {
        snapshot_from(document);
    } catch (const tenantscan::InputError& error) {
        return error.what();
    }
    FAIL("expected an InputError");
    return {};
}

// One entry as `collect --cross-check` stores it.
json cross_check_entry() {
    return {{"userId", "u-1"},
            {"account", "printer@contoso.com"},
            {"request",
             {{"signInIdentity", {{"@odata.type", "#microsoft.graph.userSignIn"}, {"userId", "u-1"}}},
              {"signInContext", {{"includeApplications", {"00000002-0000-0ff1-ce00-000000000000"}}}},
              {"signInConditions", {{"clientAppType", "other"}, {"signInRiskLevel", "none"}, {"userRiskLevel", "none"}}}}},
            {"value", {{{"id", "p-1"}, {"displayName", "Block legacy"}, {"policyApplies", true}, {"analysisReasons", "users,application"}}}}};
}

}  // namespace

TEST_CASE("sections: smtpClients is decoded at load time, and a device that is not an object is an input error") {
    json document = minimal();
    document["smtpClients"] = json::array({42});
    CHECK(load_error(document) == "inline.json: /smtpClients/0: expected an object (one device), got a number");
    document["smtpClients"] = "printer";
    CHECK(load_error(document).rfind("inline.json: /smtpClients: expected", 0) == 0);

    // A well-formed inventory is typed; a row with a bad value is kept with its problem (docs/inventory.md).
    document["smtpClients"] = json::array({{{"name", "printer"}, {"host", "smtp.office365.com"}, {"port", "587"},
                                            {"security", "starttls"}, {"auth", "basic"}, {"username", "p@contoso.com"}},
                                           {{"name", "scanner"}, {"port", "abc"}}});
    tenantscan::Snapshot snapshot = snapshot_from(document);
    REQUIRE(snapshot.smtpClients);
    REQUIRE(snapshot.smtpClients->clients.size() == 2);
    CHECK(snapshot.smtpClients->clients[0].port == 587);
    CHECK(snapshot.smtpClients->clients[0].valid());
    CHECK(snapshot.smtpClients->clients[1].location == "inline.json: /smtpClients/1");
    CHECK_FALSE(snapshot.smtpClients->clients[1].valid());
    CHECK(snapshot.has_section("/smtpClients"));
}

TEST_CASE("sections: crossCheck is decoded at load time, and a malformed entry names its pointer") {
    json document = minimal();
    document["crossCheck"] = json::array({cross_check_entry()});
    tenantscan::Snapshot snapshot = snapshot_from(document);
    REQUIRE(snapshot.crossCheck);
    REQUIRE(snapshot.crossCheck->size() == 1);
    const auto& entry = snapshot.crossCheck->front();
    CHECK(entry.userId == "u-1");
    CHECK(entry.account == "printer@contoso.com");
    CHECK(entry.clientAppType == std::optional<std::string>("other"));
    CHECK_FALSE(entry.ipAddress);
    CHECK(entry.includeApplications == std::vector<std::string>{"00000002-0000-0ff1-ce00-000000000000"});
    REQUIRE(entry.answers.size() == 1);
    CHECK(entry.answers[0].policyApplies);
    CHECK(entry.answers[0].analysisReasons == std::vector<std::string>{"users", "application"});

    struct Case {
        const char* what;
        std::function<void(json&)> edit;
        std::string error;
    };
    const std::vector<Case> cases = {
        {"not a list", [](json& d) { d["crossCheck"] = 42; }, "inline.json: /crossCheck: expected an array, got a number"},
        {"an entry that is not an object", [](json& d) { d["crossCheck"] = json::array({"u-1"}); },
         "inline.json: /crossCheck/0: expected an object, got a string"},
        {"no userId", [](json& d) { d["crossCheck"][0].erase("userId"); },
         "inline.json: /crossCheck/0/userId: missing userId (the Entra object id the what-if request named)"},
        {"a userId that is not a string", [](json& d) { d["crossCheck"][0]["userId"] = 42; },
         "inline.json: /crossCheck/0/userId: expected a string, got a number"},
        {"an ipAddress that is not a string", [](json& d) { d["crossCheck"][0]["request"]["signInConditions"]["ipAddress"] = 1; },
         "inline.json: /crossCheck/0/request/signInConditions/ipAddress: expected a string, got a number"},
        {"no answer", [](json& d) { d["crossCheck"][0].erase("value"); },
         "inline.json: /crossCheck/0/value: missing value: Microsoft's answer, a list of policies"},
        {"an answer without policyApplies", [](json& d) { d["crossCheck"][0]["value"][0].erase("policyApplies"); },
         "inline.json: /crossCheck/0/value/0/policyApplies: missing policyApplies (true or false)"},
        {"policyApplies that is not a boolean", [](json& d) { d["crossCheck"][0]["value"][0]["policyApplies"] = "maybe"; },
         "inline.json: /crossCheck/0/value/0/policyApplies: expected true or false, got the string \"maybe\""},
        {"an answer without a policy id", [](json& d) { d["crossCheck"][0]["value"][0].erase("id"); },
         "inline.json: /crossCheck/0/value/0/id: missing policy id"},
        {"analysisReasons that are not strings", [](json& d) { d["crossCheck"][0]["value"][0]["analysisReasons"] = {1}; },
         "inline.json: /crossCheck/0/value/0/analysisReasons/0: expected a string, got a number"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        json bad = document;
        c.edit(bad);
        CHECK(load_error(bad) == c.error);
    }
}

TEST_CASE("sections: \"graph\" and \"exchange\" must be objects, and [] is malformed, not \"nothing collected\"") {
    for (const char* parent : {"graph", "exchange"}) {
        CAPTURE(parent);
        for (const json& value : {json::array(), json::array({json::object()}), json("x"), json(1)}) {
            json document = minimal();
            document[parent] = value;
            const std::string error = load_error(document);
            CHECK(error.rfind(std::string("inline.json: /") + parent + ": expected an object of sections, got", 0) == 0);
        }
        json document = minimal();
        document[parent] = nullptr;  // null: nothing collected
        CHECK_FALSE(snapshot_from(document).has_section(std::string("/") + parent + (parent == std::string("graph") ? "/users" : "/hveAccounts")));
    }
}

TEST_CASE("sections: the CLI exits 2 on malformed sections, naming the file and the pointer") {
    for (const auto& [member, value, pointer] :
         std::vector<std::tuple<std::string, json, std::string>>{{"smtpClients", json::array({42}), "/smtpClients/0"},
                                                                 {"graph", json::array(), "/graph"},
                                                                 {"exchange", json::array(), "/exchange"},
                                                                 {"crossCheck", json::array({{{"userId", 7}}}), "/crossCheck/0/userId"}}) {
        CAPTURE(member);
        json document = minimal();
        document[member] = value;
        testsupport::TempFile file(document.dump());
        auto result = testsupport::run_cli({"scan", file.path(), "--as-of", "2026-11-27", "--no-config"});
        CHECK(result.exitCode == 2);
        CHECK(result.err.find(file.path() + ": " + pointer + ":") != std::string::npos);
        CHECK(result.err.find("tenantscan bug") == std::string::npos);
    }
}

namespace {

class FixedRule final : public tenantscan::Rule {
public:
    FixedRule(std::string id, std::vector<std::string> sections) {
        metadata_.id = std::move(id);
        metadata_.title = "test rule";
        metadata_.requiredSections = std::move(sections);
    }
    const tenantscan::RuleMetadata& metadata() const override { return metadata_; }
    std::vector<tenantscan::Finding> evaluate(const tenantscan::RuleContext&) const override {
        return {finding(tenantscan::Status::Fail, {"tenant", "t-1", "t-1"}, "a failure")};
    }

private:
    tenantscan::RuleMetadata metadata_;
};

}  // namespace

TEST_CASE("sections: Registry::add rejects a rule whose required sections are not snapshot sections") {
    tenantscan::Registry registry;
    for (const char* section : {"/graph/user", "graph/users", "/Graph/Users", "/graph", "/smtpclients", ""}) {
        CAPTURE(section);
        CHECK_THROWS_AS(registry.add(std::make_unique<FixedRule>("test-misspelt", std::vector<std::string>{section})),
                        std::invalid_argument);
    }
    CHECK(registry.find("test-misspelt") == nullptr);
    CHECK_NOTHROW(registry.add(std::make_unique<FixedRule>(
        "test-fine", std::vector<std::string>{"/graph/users", "/exchange/hveAccounts", "/smtpClients", "/crossCheck"})));
    try {
        registry.add(std::make_unique<FixedRule>("test-typo", std::vector<std::string>{"/graph/user"}));
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("'/graph/user'") != std::string::npos);
    }
    // Every built-in rule passes the check (register_builtin_rules would throw otherwise).
    tenantscan::Registry builtin;
    CHECK_NOTHROW(tenantscan::register_builtin_rules(builtin));
}

TEST_CASE("sections: a waiver never hides an error finding, even a wildcard one") {
    tenantscan::Registry registry;
    registry.add(std::make_unique<FixedRule>("test-needs-users", std::vector<std::string>{"/graph/users"}));
    registry.add(std::make_unique<FixedRule>("test-fails", std::vector<std::string>{}));
    const tenantscan::Snapshot snapshot = snapshot_from(minimal());  // no /graph/users: the first rule errors

    tenantscan::ScanOptions options;
    options.asOf = "2026-11-27";
    for (const char* rule : {"test-needs-users", "test-fails"})
        options.waivers.push_back({rule, "*", "accepted", "2027-01-31", "", "tenantscan.json: /waivers/0"});
    const tenantscan::Report report = tenantscan::run_scan(snapshot, registry, options);

    REQUIRE(report.findings.size() == 2);
    for (const auto& f : report.findings) {
        CAPTURE(f.rule);
        if (f.rule == "test-needs-users") {
            CHECK(f.status == tenantscan::Status::Error);
            CHECK_FALSE(f.waiver);
        } else {
            CHECK(f.status == tenantscan::Status::Waived);  // a failure can be waived
        }
    }
    CHECK(report.summary.error == 1);
    CHECK(report.summary.waived == 1);
    CHECK_FALSE(report.summary.gatePassed);
    REQUIRE(report.waivers.size() == 2);
    CHECK(report.waivers[0].state == tenantscan::WaiverState::Stale);  // matched only an error
    CHECK(report.waivers[0].matchedFindings == 0);
    CHECK(report.waivers[1].state == tenantscan::WaiverState::Applied);
}
