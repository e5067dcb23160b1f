// The engine module: rules that check tenantscan itself against Microsoft's own answers.
#pragma once

#include <memory>

#include <tenantscan/rule.hpp>

namespace tenantscan::rules {

std::unique_ptr<tenantscan::Rule> make_engine_cross_check_rule();

void register_engine_rules(tenantscan::Registry& registry);

}  // namespace tenantscan::rules
