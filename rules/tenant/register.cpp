#include "tenant/tenant_rules.hpp"

namespace tenantscan::rules {

void register_tenant_rules(tenantscan::Registry& registry) {
    registry.add(make_tenant_conditional_access_licence_rule());  // tenant-conditional-access-licence
    registry.add(make_tenant_legacy_auth_protection_rule());      // tenant-legacy-auth-protection
}

}  // namespace tenantscan::rules
