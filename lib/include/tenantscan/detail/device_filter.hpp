// The Conditional Access device filter rule language
// (e.g. `device.trustType -eq "ServerAD" -and device.isCompliant -eq True`).
#pragma once

#include <map>
#include <stdexcept>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tenantscan {

class DeviceFilterSyntaxError : public std::runtime_error {
public:
    DeviceFilterSyntaxError(const std::string& message, std::size_t position);
    std::size_t position() const noexcept { return position_; }

private:
    std::size_t position_;
};

// A parsed rule. Immutable; cheap to copy (shared tree).
class DeviceFilterRule {
public:
    // Parses the rule text. Throws DeviceFilterSyntaxError (with the character position) for
    // malformed rules: unknown operators, unbalanced parentheses, unterminated strings, a missing
    // operand, a property that is not `device.<name>`, trailing input.
    static DeviceFilterRule parse(const std::string& text);

    // Evaluates against a device described by property values (lower-case property names
    // without "device."; a value of nullopt means the property is null). A device that is not
    // registered has every property null: positive operators (-eq, -startsWith, -endsWith,
    // -contains, -in, -match) are false on null, negative ones (-ne, -notStartsWith,
    // -notEndsWith, -notContains, -notIn, -notMatch) are true.
    bool matches(const std::map<std::string, std::optional<std::string>>& device) const;
    bool matches_unregistered_device() const;  // all properties null

    // The rule re-printed in a normalised form (for evidence).
    std::string to_string() const;

    struct Node;

private:
    std::shared_ptr<const Node> root_;
};

}  // namespace tenantscan
