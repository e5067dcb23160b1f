// The findings regrouped as a migration plan: for each sender (a device of the inventory, an
// account seen submitting with SMTP AUTH, an HVE account), what it is, what breaks, and where it
// should go. Built from the findings alone, so any report format can show it.
//
// It reads the findings' subjects and typed related objects (rule.hpp), never their evidence:
// subjects of kind "smtpClient", "user" and "hveAccount" are senders; a related object of role
// Sender describes one (`detail`), MigrateTo says where it should go, and SignsInAs links a device
// to the account it signs in as (that account's subject name).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <tenantscan/rule.hpp>

namespace tenantscan {

struct SenderPlan {
    enum class Kind { Device, Account, HveAccount };
    Kind kind = Kind::Device;
    std::string name;                 // device name, UPN or HVE address
    std::string what;                 // "device 'Scanner 2F' (owner Facilities): smtp.office365.com:587 …"
    std::vector<const Finding*> breaks;  // its fail, review and error findings and its account's, worst first
    std::string target;               // where it should go ("" when no finding says)
    // For a device on Basic auth: what the device catalogue says about OAuth for its vendor, model
    // and firmware (evidence.client), or that it is unknown; "" otherwise.
    std::string device;
};

// Senders that something breaks for come first (worst severity first), then the others; each
// group by name. The pointers refer into `findings`, which must outlive the plan.
std::vector<SenderPlan> build_migration_plan(const std::vector<Finding>& findings);

// The plan as a text section ("MIGRATION PLAN (n senders)" …), written to `out` as it goes; nothing
// when there is no sender.
void write_migration_plan_text(const std::vector<SenderPlan>& plan, bool colour, std::ostream& out);
std::string migration_plan_to_text(const std::vector<SenderPlan>& plan, bool colour);  // the same, as a string

}  // namespace tenantscan
