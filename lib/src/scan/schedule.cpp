#include <tenantscan/schedule.hpp>

#include <stdexcept>

#include <fmt/format.h>
#include <tenantscan/scan.hpp>
#include <tenantscan/detail/dates.hpp>

#include "schedules_data.hpp"

namespace tenantscan {

namespace {

struct ScheduleData {
    std::string defaultId;
    std::vector<RetirementSchedule> schedules;
    RetirementSchedule custom;  // title, note and milestone wording for custom dates; no dates
    HveDates hve;
};

std::vector<std::string> string_list(const nlohmann::json& value) {
    std::vector<std::string> out;
    for (const auto& item : value) out.push_back(item.get<std::string>());
    return out;
}

ScheduleMilestone milestone_from(const nlohmann::json& value) {
    ScheduleMilestone milestone{value.value("date", std::string()), value.at("event").get<std::string>(),
                                value.at("state").get<std::string>(), std::nullopt};
    if (value.contains("adminCanTurnBackOn")) milestone.adminCanTurnBackOn = value.at("adminCanTurnBackOn").get<bool>();
    return milestone;
}

// The data file is part of the build; a malformed one is a build defect, caught by the tests
// (schedule_test.cpp) that load it.
ScheduleData load_data() {
    const auto document = nlohmann::json::parse(generated::kSchedulesJson);
    ScheduleData data;
    data.defaultId = document.at("default").get<std::string>();
    for (const auto& item : document.at("schedules")) {
        RetirementSchedule s;
        s.id = item.at("id").get<std::string>();
        s.title = item.at("title").get<std::string>();
        s.announced = item.at("announced").get<std::string>();
        s.note = item.value("note", std::string());
        s.references = string_list(item.value("references", nlohmann::json::array()));
        for (const auto& m : item.at("milestones")) s.milestones.push_back(milestone_from(m));
        data.schedules.push_back(std::move(s));
    }
    const auto& custom = document.at("custom");
    data.custom.id = "custom";
    data.custom.title = custom.at("title").get<std::string>();
    data.custom.note = custom.value("note", std::string());
    for (const auto& m : custom.at("milestones")) data.custom.milestones.push_back(milestone_from(m));
    const auto& hve = document.at("hve");
    data.hve = {hve.at("billingFrom").get<std::string>(), hve.at("basicAuthEndsOn").get<std::string>(),
                hve.at("basicAuthEndsText").get<std::string>(),
                string_list(hve.value("references", nlohmann::json::array()))};
    return data;
}

const ScheduleData& data() {
    static const ScheduleData instance = load_data();
    return instance;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
long days_from_civil(long y, unsigned m, unsigned d) {
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long>(doe) - 719468;
}

long day_number(const std::string& date) {
    if (!is_valid_date(date)) throw std::invalid_argument(fmt::format("'{}' is not a date (YYYY-MM-DD)", date));
    return days_from_civil(std::stol(date.substr(0, 4)), static_cast<unsigned>(std::stoul(date.substr(5, 2))),
                           static_cast<unsigned>(std::stoul(date.substr(8, 2))));
}

std::string known_schedules() {
    std::string names;
    for (const auto& s : data().schedules) names += (names.empty() ? "" : ", ") + s.id;
    return names;
}

RetirementSchedule custom_schedule(const std::string& spec) {
    std::vector<std::string> dates;
    std::size_t start = 0;
    for (;;) {
        const auto comma = spec.find(',', start);
        dates.push_back(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    RetirementSchedule schedule = data().custom;
    if (dates.size() > schedule.milestones.size())
        throw std::invalid_argument(fmt::format("schedule '{}': give at most {} dates (cut-off, final removal)", spec,
                                                schedule.milestones.size()));
    for (std::size_t i = 0; i < dates.size(); ++i) {
        if (!is_valid_date(dates[i]))
            throw std::invalid_argument(fmt::format(
                "unknown schedule '{}': expected one of {}, or custom dates YYYY-MM-DD[,YYYY-MM-DD]", spec,
                known_schedules()));
        if (i > 0 && day_number(dates[i]) <= day_number(dates[i - 1]))
            throw std::invalid_argument(
                fmt::format("schedule '{}': the final date must come after the cut-off date", spec));
        schedule.milestones[i].date = dates[i];
    }
    schedule.milestones.resize(dates.size());
    return schedule;
}

std::string days_phrase(long days) { return fmt::format("{} day{}", days, days == 1 ? "" : "s"); }

}  // namespace

const std::vector<RetirementSchedule>& builtin_schedules() { return data().schedules; }
const std::string& default_schedule_id() { return data().defaultId; }
const HveDates& hve_dates() { return data().hve; }

long days_between(const std::string& from, const std::string& to) { return day_number(to) - day_number(from); }

RetirementSchedule resolve_schedule(const std::string& spec) {
    const std::string& name = spec.empty() ? default_schedule_id() : spec;
    for (const auto& s : data().schedules)
        if (s.id == name) return s;
    return custom_schedule(name);
}

ScheduleStatus schedule_status(const RetirementSchedule& schedule, const std::string& asOf) {
    ScheduleStatus status;
    status.schedule = schedule;
    status.asOf = asOf;
    const long today = day_number(asOf);
    for (const auto& milestone : schedule.milestones) {
        if (day_number(milestone.date) <= today) {
            status.reached = milestone;
        } else {
            status.next = milestone;
            status.daysToNext = day_number(milestone.date) - today;
            break;
        }
    }
    status.severity = status.reached ? Severity::Critical : Severity::High;
    return status;
}

ScheduleStatus schedule_status(const ScanOptions& options) {
    return schedule_status(resolve_schedule(options.schedule), options.asOf);
}

std::string ScheduleStatus::phase() const {
    if (!reached) return "before the cut-off";
    return next ? "cut-off passed" : "final milestone passed";
}

std::string ScheduleStatus::sentence() const {
    std::string out;
    if (reached) out = fmt::format("{} since {}", reached->state, reached->date);
    if (next)
        out += fmt::format("{}{} left until {}, when {}", out.empty() ? "" : "; ", days_phrase(daysToNext), next->date,
                           next->event);
    return out;
}

std::string ScheduleStatus::header_line() const {
    return fmt::format("{}{}: {}; {}", schedule.id,
                       schedule.announced.empty() ? "" : fmt::format(" (announced {})", schedule.announced), phase(),
                       sentence());
}

}  // namespace tenantscan
