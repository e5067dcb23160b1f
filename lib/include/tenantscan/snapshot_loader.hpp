// Loading a snapshot v1 document (see README, "Snapshot format") and the Graph objects inside it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/model.hpp>

namespace tenantscan {

// Reads and decodes a snapshot file. Throws InputError naming the file and JSON pointer for
// anything structurally wrong; never returns a partially decoded snapshot.
Snapshot load_snapshot(const std::string& path);
// Where load_snapshot spent its time (wall-clock seconds; `scan --timings`, docs/performance.md).
struct LoadTimings {
    double readSeconds = 0;    // reading the file and converting it to UTF-8
    double parseSeconds = 0;   // parsing the JSON
    double decodeSeconds = 0;  // building the model from the parsed document
};
Snapshot load_snapshot(const std::string& path, LoadTimings* timings);
// The same from bytes already in memory (any accepted encoding); `name` stands for the file in
// error messages and as Snapshot::sourcePath.
Snapshot load_snapshot_from_memory(const std::string& bytes, const std::string& name);
Snapshot decode_snapshot(const nlohmann::json& document, const std::string& file);

// Decoders for single Graph objects, shared with policy overlays and the corpus tests.
// decode_policy accepts a conditionalAccessPolicy, or a conditionalAccessTemplate
// ({"id", "name", "details": {...}}: decoded from "details", displayName from "name", state disabled).
// A policy without "state" decodes as disabled; decode_snapshot requires the state.
ConditionalAccessPolicy decode_policy(const JsonView& view);
NamedLocation decode_named_location(const JsonView& view);
Group decode_group(const JsonView& view);
User decode_user(const JsonView& view);

// A list of policies or named locations in any accepted shape (array, envelope, single object).
std::vector<ConditionalAccessPolicy> decode_policies(const JsonView& view);
std::vector<NamedLocation> decode_named_locations(const JsonView& view);

}  // namespace tenantscan
