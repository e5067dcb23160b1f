#include "checks/checks_rules.hpp"

namespace tenantscan::rules {

void register_checks_rules(tenantscan::Registry& registry) {
    registry.add(make_engine_cross_check_rule());  // engine-cross-check
}

}  // namespace tenantscan::rules
