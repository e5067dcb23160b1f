// The tenant module: tenant-wide security posture that the SMTP AUTH migration touches.
#pragma once

#include <memory>

#include <tenantscan/rule.hpp>

namespace tenantscan::rules {

std::unique_ptr<tenantscan::Rule> make_tenant_conditional_access_licence_rule();
std::unique_ptr<tenantscan::Rule> make_tenant_legacy_auth_protection_rule();

void register_tenant_rules(tenantscan::Registry& registry);

}  // namespace tenantscan::rules
