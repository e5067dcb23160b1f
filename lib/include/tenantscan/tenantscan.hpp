// tenantscan's API in one include. The layers, and which target holds each (docs/architecture.md):
//
//   model      model.hpp smtp_clients.hpp errors.hpp source_location.hpp      tenantscan::tenantscan
//   loader     snapshot_loader.hpp json_input.hpp policy_overlay.hpp           tenantscan::tenantscan
//   engine     directory.hpp conditional_access.hpp authentication_policy.hpp  tenantscan::tenantscan
//   scan       rule.hpp scan.hpp config.hpp schedule.hpp device_catalog.hpp    tenantscan::tenantscan
//   report     report.hpp report_diff.hpp                                      tenantscan::tenantscan
//   remediate  remediation.hpp                                                 tenantscan::tenantscan
//   rules      builtin_rules.hpp                                               tenantscan::rules
//   collect    collect.hpp                                                     tenantscan::collect
//   smtp-test  smtp_test.hpp                                                   tenantscan::smtp
//
// The detail folder beside these headers holds the project's own helpers: not installed, no stability promise.
#pragma once

#include <tenantscan/errors.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/smtp_clients.hpp>
#include <tenantscan/source_location.hpp>

#include <tenantscan/json_input.hpp>
#include <tenantscan/policy_overlay.hpp>
#include <tenantscan/snapshot_loader.hpp>

#include <tenantscan/authentication_policy.hpp>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>

#include <tenantscan/config.hpp>
#include <tenantscan/device_catalog.hpp>
#include <tenantscan/rule.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/schedule.hpp>

#include <tenantscan/report.hpp>
#include <tenantscan/report_diff.hpp>

#include <tenantscan/remediation.hpp>

#include <tenantscan/builtin_rules.hpp>
#include <tenantscan/collect.hpp>
#include <tenantscan/smtp_test.hpp>
