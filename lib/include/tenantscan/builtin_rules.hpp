// The built-in rules (the tenantscan::rules library, rules/): one source, one doc and one test per
// rule, registered by module. Link tenantscan::rules to use them.
#pragma once

#include <tenantscan/rule.hpp>

namespace tenantscan {

// Registers every rule that ships with tenantscan (one call per module).
void register_builtin_rules(Registry& registry);

}  // namespace tenantscan
