// The hve module: rules about High Volume Email accounts (docs/microsoft-facts.md §2).
#pragma once

#include <memory>

#include <tenantscan/rule.hpp>

namespace tenantscan::rules {

std::unique_ptr<tenantscan::Rule> make_hve_account_cloud_only_rule();
std::unique_ptr<tenantscan::Rule> make_hve_account_enabled_rule();
std::unique_ptr<tenantscan::Rule> make_hve_address_conflict_rule();
std::unique_ptr<tenantscan::Rule> make_hve_authentication_policy_rule();
std::unique_ptr<tenantscan::Rule> make_hve_basic_auth_sunset_rule();
std::unique_ptr<tenantscan::Rule> make_hve_billing_policy_rule();
std::unique_ptr<tenantscan::Rule> make_hve_conditional_access_rule();
std::unique_ptr<tenantscan::Rule> make_hve_exclusion_group_rule();
std::unique_ptr<tenantscan::Rule> make_hve_report_only_policies_rule();
std::unique_ptr<tenantscan::Rule> make_hve_security_defaults_rule();

void register_hve_rules(tenantscan::Registry& registry);

}  // namespace tenantscan::rules
