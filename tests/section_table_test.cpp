// The one table of snapshot sections (tenantscan/detail/sections.hpp) is what the loader decodes,
// what Snapshot::has_section knows, what `collect` fetches and what docs/snapshot-format.md describes:
// these checks keep the four from drifting apart again.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <variant>
#include <vector>

#include <tenantscan/detail/sections.hpp>
#include <tenantscan/model.hpp>

#include "sections.hpp"  // lib/collect: what each collectable section needs
#include "support.hpp"

using nlohmann::json;

namespace {

std::vector<std::string> table_pointers(bool onlyCollectable) {
    std::vector<std::string> out;
    for (const auto& section : tenantscan::sections::all())
        if (!onlyCollectable || section.collectable) out.emplace_back(section.pointer);
    return out;
}

// An empty but collected value for the section: [] for a list (the device inventory is one), an
// object with its required members for an object section.
template <class T>
json empty_of(tenantscan::sections::List<T>) { return json::array(); }
template <class T>
json empty_of(tenantscan::sections::Object<T>) { return json::object(); }
json empty_of(tenantscan::sections::Object<tenantscan::SmtpClientInventory>) { return json::array(); }

json empty_value(const tenantscan::sections::Section& section) {
    if (section.pointer == "/graph/securityDefaults") return {{"isEnabled", false}};
    return std::visit([](auto member) { return empty_of(member); }, section.member);
}

}  // namespace

TEST_CASE("section table: docs/snapshot-format.md has one row per section of the table, no more") {
    const std::string doc = testsupport::read_file(testsupport::source_dir() + "/docs/snapshot-format.md");
    std::set<std::string> documented;
    // A table row that starts with a section pointer: "| `/graph/users` | ...". Plain scanning, not
    // std::regex (libstdc++'s regex does not build under the sanitizer build's -Werror).
    const std::string start = "\n| `/";
    for (auto at = doc.find(start); at != std::string::npos; at = doc.find(start, at + 1)) {
        const std::size_t begin = at + start.size() - 1;
        const std::size_t end = doc.find("` |", begin);
        const std::string pointer = end == std::string::npos ? std::string() : doc.substr(begin, end - begin);
        if (!pointer.empty() && pointer.find_first_not_of("/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == std::string::npos)
            documented.insert(pointer);
    }
    const auto pointers = table_pointers(false);
    CHECK(documented == std::set<std::string>(pointers.begin(), pointers.end()));
    CHECK(pointers.size() == 20);
}

TEST_CASE("section table: collect fetches exactly the collectable sections, in the table's order") {
    std::vector<std::string> collected;
    for (const auto& spec : tenantscan::collect::detail::section_specs()) collected.emplace_back(spec.pointer);
    CHECK(collected == table_pointers(true));
    // The device inventory is the admin's own list: never collected.
    CHECK(tenantscan::sections::find("/smtpClients")->collectable == false);
}

TEST_CASE("section table: each section, alone in a snapshot, is the one has_section reports") {
    for (const auto& section : tenantscan::sections::all()) {
        CAPTURE(section.pointer);
        json document = {{"snapshotVersion", 1}, {"tenantId", "t-1"}, {"collectedAt", "2026-11-27T06:00:00Z"}};
        const std::string parent(section.parent), key(section.key);
        if (parent.empty()) document[key] = empty_value(section);
        else document[parent][key] = empty_value(section);
        const tenantscan::Snapshot snapshot = testsupport::snapshot_from(document);
        for (const auto& other : tenantscan::sections::all()) {
            CAPTURE(other.pointer);
            CHECK(snapshot.has_section(std::string(other.pointer)) == (other.pointer == section.pointer));
            CHECK(tenantscan::sections::collected(other, snapshot) == (other.pointer == section.pointer));
        }
        CHECK(tenantscan::Snapshot::is_section(section.pointer));
    }
}

TEST_CASE("section table: rules must spell a section exactly, a snapshot's notCollected need not") {
    CHECK(tenantscan::Snapshot::is_section("/graph/users"));
    CHECK_FALSE(tenantscan::Snapshot::is_section("/Graph/Users"));
    CHECK_FALSE(tenantscan::Snapshot::is_section("/graph/user"));
    REQUIRE(tenantscan::sections::find_ignoring_case("/Graph/Users") != nullptr);
    CHECK(tenantscan::sections::find_ignoring_case("/Graph/Users")->pointer == "/graph/users");

    json document = {{"snapshotVersion", 1}, {"tenantId", "t-1"}, {"collectedAt", "2026-11-27T06:00:00Z"},
                     {"notCollected", {{"/Graph/SignIns", "AuditLog.Read.All missing"}}}};
    const tenantscan::Snapshot snapshot = testsupport::snapshot_from(document);
    CHECK(snapshot.notCollected.at("/graph/signIns") == "AuditLog.Read.All missing");
}
