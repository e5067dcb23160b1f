// The smtp module: who submits mail with SMTP AUTH, and how each device or application is set up
// (sign-in logs, the SMTP AUTH switches, the device inventory, Direct Send and connector relay).
#pragma once

#include <memory>

#include <tenantscan/rule.hpp>

namespace tenantscan::rules {

std::unique_ptr<tenantscan::Rule> make_smtp_auth_switches_rule();
std::unique_ptr<tenantscan::Rule> make_smtp_basic_auth_sign_ins_rule();
std::unique_ptr<tenantscan::Rule> make_smtp_client_endpoint_rule();
std::unique_ptr<tenantscan::Rule> make_smtp_client_recipients_rule();
std::unique_ptr<tenantscan::Rule> make_smtp_connector_relay_coverage_rule();
std::unique_ptr<tenantscan::Rule> make_smtp_direct_send_available_rule();

void register_smtp_rules(tenantscan::Registry& registry);

}  // namespace tenantscan::rules
