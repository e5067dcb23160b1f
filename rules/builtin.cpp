// Every rule that ships with tenantscan, registered explicitly module by module (self-registering
// static objects would be dropped by the linker from a static library).
#include <tenantscan/rule.hpp>
#include <tenantscan/builtin_rules.hpp>

#include "engine/engine_rules.hpp"
#include "hve/hve_rules.hpp"
#include "smtp/smtp_rules.hpp"
#include "tenant/tenant_rules.hpp"

namespace tenantscan {

void register_builtin_rules(Registry& registry) {
    rules::register_engine_rules(registry);
    rules::register_hve_rules(registry);
    rules::register_smtp_rules(registry);
    rules::register_tenant_rules(registry);
}

}  // namespace tenantscan
