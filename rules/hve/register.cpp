#include "hve/hve_rules.hpp"

namespace tenantscan::rules {

void register_hve_rules(tenantscan::Registry& registry) {
    registry.add(make_hve_account_cloud_only_rule());      // hve-account-cloud-only
    registry.add(make_hve_account_enabled_rule());         // hve-account-enabled
    registry.add(make_hve_address_conflict_rule());        // hve-address-conflict
    registry.add(make_hve_authentication_policy_rule());   // hve-authentication-policy
    registry.add(make_hve_basic_auth_sunset_rule());       // hve-basic-auth-sunset
    registry.add(make_hve_billing_policy_rule());          // hve-billing-policy
    registry.add(make_hve_conditional_access_rule());      // hve-conditional-access
    registry.add(make_hve_exclusion_group_rule());         // hve-exclusion-group
    registry.add(make_hve_report_only_policies_rule());    // hve-report-only-policies
    registry.add(make_hve_security_defaults_rule());       // hve-security-defaults
}

}  // namespace tenantscan::rules
