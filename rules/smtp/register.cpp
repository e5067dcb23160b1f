#include "smtp/smtp_rules.hpp"

namespace tenantscan::rules {

void register_smtp_rules(tenantscan::Registry& registry) {
    registry.add(make_smtp_auth_switches_rule());             // smtp-auth-switches
    registry.add(make_smtp_basic_auth_sign_ins_rule());       // smtp-basic-auth-sign-ins
    registry.add(make_smtp_client_endpoint_rule());           // smtp-client-endpoint
    registry.add(make_smtp_client_recipients_rule());         // smtp-client-recipients
    registry.add(make_smtp_connector_relay_coverage_rule());  // smtp-connector-relay-coverage
    registry.add(make_smtp_direct_send_available_rule());     // smtp-direct-send-available
}

}  // namespace tenantscan::rules
