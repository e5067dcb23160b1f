#include "engine/engine_rules.hpp"

namespace tenantscan::rules {

void register_engine_rules(tenantscan::Registry& registry) {
    registry.add(make_engine_cross_check_rule());  // engine-cross-check
}

}  // namespace tenantscan::rules
