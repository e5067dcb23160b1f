// The retirement schedules: the data file compiled in, lookups, custom dates, phases.
#include <doctest/doctest.h>

#include <stdexcept>

#include <nlohmann/json.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/schedule.hpp>
#include <tenantscan/detail/dates.hpp>

#include "support.hpp"

using namespace tenantscan;

TEST_CASE("schedule: the compiled-in schedules are the data file's, default 2026-01") {
    const auto file = nlohmann::json::parse(testsupport::read_file(testsupport::source_dir() + "/rules/schedules.json"));
    CHECK(default_schedule_id() == file["default"]);
    REQUIRE(builtin_schedules().size() == file["schedules"].size());
    for (std::size_t i = 0; i < builtin_schedules().size(); ++i) {
        const auto& s = builtin_schedules()[i];
        CHECK(s.id == file["schedules"][i]["id"]);
        REQUIRE_FALSE(s.milestones.empty());
        for (std::size_t m = 0; m < s.milestones.size(); ++m) {
            CHECK(is_valid_date(s.milestones[m].date));
            if (m > 0) CHECK(days_between(s.milestones[m - 1].date, s.milestones[m].date) > 0);
        }
    }
    CHECK(resolve_schedule("").id == "2026-01");
    CHECK(resolve_schedule("2026-01").milestones.front().date == "2026-12-31");
    CHECK(resolve_schedule("2025-06").milestones.size() == 2);
    CHECK(hve_dates().billingFrom == "2026-06-01");
    CHECK(hve_dates().basicAuthEndsText == "September 2028");
}

TEST_CASE("schedule: days_between counts calendar days across months, leap years and backwards") {
    CHECK(days_between("2026-11-27", "2026-12-31") == 34);
    CHECK(days_between("2028-02-28", "2028-03-01") == 2);
    CHECK(days_between("2027-02-28", "2027-03-01") == 1);
    CHECK(days_between("2026-12-31", "2026-11-27") == -34);
    CHECK_THROWS_AS(days_between("2026-02-30", "2026-03-01"), std::invalid_argument);
}

TEST_CASE("schedule: 2026-01 phases: high before the cut-off, critical on and after it") {
    const auto schedule = resolve_schedule("2026-01");
    auto before = schedule_status(schedule, "2026-11-27");
    CHECK(before.severity == Severity::High);
    CHECK_FALSE(before.cutOffReached());
    CHECK(before.phase() == "before the cut-off");
    CHECK(before.sentence() ==
          "34 days left until 2026-12-31, when Basic SMTP AUTH is disabled by default for existing tenants");
    CHECK(before.header_line() ==
          "2026-01 (announced 2026-01-27): before the cut-off; 34 days left until 2026-12-31, when Basic "
          "SMTP AUTH is disabled by default for existing tenants");
    auto on = schedule_status(schedule, "2026-12-31");
    CHECK(on.severity == Severity::Critical);
    CHECK(on.phase() == "final milestone passed");
    CHECK(on.sentence() == "Basic SMTP AUTH disabled by default since 2026-12-31");
}

TEST_CASE("schedule: 2025-06 has two stages") {
    const auto schedule = resolve_schedule("2025-06");
    CHECK(schedule_status(schedule, "2026-02-28").severity == Severity::High);
    auto between = schedule_status(schedule, "2026-04-29");
    CHECK(between.severity == Severity::Critical);
    CHECK(between.phase() == "cut-off passed");
    CHECK(between.sentence() ==
          "a share of Basic SMTP AUTH submissions rejected since 2026-03-01; 1 day left until 2026-04-30, when every "
          "Basic SMTP AUTH submission is rejected (550 5.7.30)");
    CHECK(schedule_status(schedule, "2026-05-01").sentence() ==
          "every Basic SMTP AUTH submission rejected since 2026-04-30");
}

TEST_CASE("schedule: custom dates, one or two, validated") {
    auto one = resolve_schedule("2026-09-30");
    CHECK(one.id == "custom");
    REQUIRE(one.milestones.size() == 1);
    CHECK(schedule_status(one, "2026-09-29").daysToNext == 1);
    auto two = resolve_schedule("2026-09-30,2027-06-30");
    REQUIRE(two.milestones.size() == 2);
    CHECK(schedule_status(two, "2026-10-01").severity == Severity::Critical);
    CHECK(schedule_status(two, "2026-10-01").next->date == "2027-06-30");
    CHECK_THROWS_WITH_AS(resolve_schedule("2024-04"), doctest::Contains("2026-01, 2025-06"), std::invalid_argument);
    CHECK_THROWS_AS(resolve_schedule("2026-02-30"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(resolve_schedule("2027-01-01,2026-12-31"), doctest::Contains("after the cut-off"), std::invalid_argument);
    CHECK_THROWS_AS(resolve_schedule("2026-01-01,2026-02-01,2026-03-01"), std::invalid_argument);
    CHECK_THROWS_AS(resolve_schedule("2026-09-30,"), std::invalid_argument);
}

TEST_CASE("schedules: each published milestone says whether an admin can turn Basic SMTP AUTH back on") {
    // Microsoft (2026-01-27): disabled by default at the end of December 2026, an admin can turn it back on.
    auto current = tenantscan::resolve_schedule("2026-01");
    REQUIRE(current.milestones.size() == 1);
    REQUIRE(current.milestones[0].adminCanTurnBackOn.has_value());
    CHECK(*current.milestones[0].adminCanTurnBackOn);
    // The superseded 2025-06 plan rejected submissions: no setting brought them back.
    for (const auto& milestone : tenantscan::resolve_schedule("2025-06").milestones) {
        REQUIRE(milestone.adminCanTurnBackOn.has_value());
        CHECK_FALSE(*milestone.adminCanTurnBackOn);
    }
    // Custom dates: the cut-off does not say (unknown), the final removal is final.
    auto custom = tenantscan::resolve_schedule("2026-09-30,2027-06-30");
    CHECK_FALSE(custom.milestones[0].adminCanTurnBackOn.has_value());
    REQUIRE(custom.milestones[1].adminCanTurnBackOn.has_value());
    CHECK_FALSE(*custom.milestones[1].adminCanTurnBackOn);
}
