// The fuzz targets' bodies, one function per target. libFuzzer calls them through
// LLVMFuzzerTestOneInput (fuzz/entry.cpp, one executable per target, clang only); the normal test
// suite calls the same functions over the regression inputs and the seed corpus (gcc, no libFuzzer).
//
// Each function takes arbitrary bytes and returns whether the library accepted them (and the
// checks that follow acceptance ran) or rejected them the way it should: an InputError whose
// message starts with `name`, a DeviceFilterSyntaxError with a position inside the text, nullopt.
// Anything else is a bug and escapes: a crash or sanitizer report, an exception of another type,
// or a ContractViolation thrown when an oracle below does not hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tenantscan::fuzz {

// A property the library promises did not hold (the message says which).
class ContractViolation : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// The file name the targets give the library by default; every InputError must start with it.
inline constexpr const char* kInputName = "fuzz-input.json";

enum class Verdict { Rejected, Accepted };

// load_snapshot_from_memory (every encoding); a snapshot that loads is scanned with every built-in
// rule and its JSON and text reports are written.
Verdict snapshot_target(std::string_view bytes, const std::string& name = kInputName);

// DeviceFilterRule::parse; a rule that parses must re-parse from its to_string() to the same
// text and the same verdicts, and evaluate against unregistered and registered devices.
Verdict device_filter_target(std::string_view bytes);

// parse_json_text + decode_policies / decode_named_locations (a document of any shape: one
// object, an array, a {"value": [...]} envelope); what decodes is evaluated by the Conditional
// Access engine for a handful of sign-ins (IPv4, IPv6, countries, platforms, client apps).
Verdict ca_decoders_target(std::string_view bytes, const std::string& name = kInputName);

// parse_cidr and parse_ip_address on the raw text; a range that parses must contain its own
// address, and an address that parses must parse as a single-host range containing itself.
Verdict cidr_target(std::string_view bytes);

}  // namespace tenantscan::fuzz
