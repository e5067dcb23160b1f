// The synthetic tenant generator (bench/generate_tenant.cpp, issue 6 §1): deterministic, and what it
// writes is a snapshot the real loader and scan accept, with the shape the issue asks for.
#include <doctest/doctest.h>

#include <algorithm>

#include <tenantscan/directory.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/builtin_rules.hpp>

#include "support.hpp"

#ifdef TENANTSCAN_GENERATOR

using namespace testsupport;

namespace {

std::string generate(const TempDir& dir, const std::string& name, const std::vector<std::string>& args) {
    auto path = dir.file(name);
    std::vector<std::string> all = args;
    all.insert(all.end(), {"--output", path});
    auto result = run_program(TENANTSCAN_GENERATOR, all);
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    return path;
}

}  // namespace

TEST_CASE("generate_tenant: the same seed gives the same bytes, another seed other bytes") {
    TempDir dir;
    auto first = read_file(generate(dir, "a.json", {"--size", "S", "--seed", "7"}));
    auto second = read_file(generate(dir, "b.json", {"--size", "S", "--seed", "7"}));
    auto other = read_file(generate(dir, "c.json", {"--size", "S", "--seed", "8"}));
    CHECK(first.size() > 1000000);  // about 2.6 MB
    CHECK(first == second);
    CHECK(first != other);
}

TEST_CASE("generate_tenant: the S tenant loads with the issue's proportions and scans without an error") {
    TempDir dir;
    auto path = generate(dir, "s.json", {"--size", "S", "--seed", "1"});
    tenantscan::Snapshot snapshot = tenantscan::load_snapshot(path);

    REQUIRE(snapshot.users);
    const auto& users = *snapshot.users;
    CHECK(users.size() == 2000);
    auto count = [&](auto predicate) { return std::count_if(users.begin(), users.end(), predicate); };
    CHECK(count([](const auto& u) { return u.userType == "Guest"; }) == 40);          // 2%
    CHECK(count([](const auto& u) { return u.accountEnabled == false; }) == 20);               // 1%
    auto synced = count([](const auto& u) { return u.onPremisesSyncEnabled.value_or(false); });
    CHECK(synced >= 540);  // 30% ± 3 points
    CHECK(synced <= 660);
    CHECK(snapshot.groups->size() == 200);
    CHECK(snapshot.conditionalAccessPolicies->size() == 13);
    CHECK(snapshot.namedLocations->size() == 5);
    CHECK(snapshot.hveAccounts->size() == 50);
    CHECK(snapshot.signIns->size() == 1000);
    CHECK(snapshot.recipients->size() == 2500);
    // Every policy state and both families of IP ranges, up to 2 000 ranges in a location.
    for (auto state : {tenantscan::PolicyState::Enabled, tenantscan::PolicyState::Disabled,
                       tenantscan::PolicyState::ReportOnly})
        CHECK(std::any_of(snapshot.conditionalAccessPolicies->begin(), snapshot.conditionalAccessPolicies->end(),
                          [&](const auto& p) { return p.state == state; }));
    std::size_t v4 = 0, v6 = 0, most = 0;
    for (const auto& location : *snapshot.namedLocations) {
        most = std::max(most, location.ipRanges.size());
        for (const auto& range : location.ipRanges) (range.isV4 ? v4 : v6)++;
    }
    CHECK(most == 2000);
    CHECK(v4 > 0);
    CHECK(v6 > 0);

    // Nesting: the HVE printers group sits inside the exemption group, and some chains are cyclic.
    tenantscan::Directory directory(snapshot);
    auto hveGroup = directory.find_groups_by_name("Exchange-HVEUserAccounts");
    REQUIRE(hveGroup.size() == 1);
    std::size_t hveMembers = 0, nested = 0;
    for (const auto& account : *snapshot.hveAccounts)
        if (auto user = directory.user_of_hve(account); user && directory.is_transitive_member(*user, hveGroup[0])) {
            ++hveMembers;
            if (directory.membership_path(*user, hveGroup[0]).size() == 2) ++nested;  // through "HVE printers"
        }
    CHECK(hveMembers >= 40);  // 95% of the accounts (chosen at random), some through the nested group
    CHECK(nested >= 1);
    CHECK(nested < hveMembers);

    tenantscan::Registry registry;
    tenantscan::register_builtin_rules(registry);
    tenantscan::ScanOptions options;
    options.asOf = "2026-11-27";
    auto report = tenantscan::run_scan(snapshot, registry, options);
    CHECK(report.summary.error == 0);
    CHECK(report.summary.fail > 0);   // the tenant has the problems a large tenant has
    CHECK(report.summary.pass > 0);
    for (const auto& finding : report.findings)
        CHECK_MESSAGE(finding.status != tenantscan::Status::Error, finding.rule, ": ", finding.message);
}

#endif
