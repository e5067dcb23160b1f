#include "hve/hve_rules.hpp"
#include "rules/rule_test_support.hpp"

using namespace rulestest;

namespace {

const std::string kHve = "c6000000-0000-4000-8000-000000000001";
const std::string kOther = "c6000000-0000-4000-8000-000000000002";

json recipient(const std::string& identity, const std::string& id, const std::string& type, const std::vector<std::string>& addresses) {
    return {{"Identity", identity}, {"Name", identity}, {"PrimarySmtpAddress", addresses.front().substr(5)},
            {"ExternalDirectoryObjectId", id}, {"RecipientTypeDetails", type}, {"EmailAddresses", addresses}};
}

std::vector<Finding> scan(const json& recipients) {
    return run_rule(tenantscan::rules::make_hve_address_conflict_rule(),
                    tenant(json::object(), {{"hveAccounts", {hve_account(kHve, "Payroll@contoso.com")}}, {"recipients", recipients}}));
}

}  // namespace

TEST_CASE("hve-address-conflict: registered, and its doc page matches its metadata") {
    check_registered_and_documented("hve-address-conflict", "rules/hve/hve_address_conflict.md");
}

TEST_CASE("hve-address-conflict: another recipient holding the address fails, prefixes and case ignored") {
    Finding f = single(scan({recipient("Payroll", kHve, "MailUser", {"SMTP:payroll@contoso.com"}),
                             recipient("ERP mailer", kOther, "UserMailbox", {"SMTP:erp@contoso.com", "smtp:PAYROLL@contoso.com"})}));
    CHECK(f.status == Status::Fail);
    CHECK(f.severity == Severity::High);
    CHECK(contains(f.message, "payroll@contoso.com"));
    CHECK(contains(f.message, "'ERP mailer' (UserMailbox, as a secondary address)"));
    CHECK(contains(f.remediation, "out-of-hours"));
    CHECK(contains(f.remediation, "Set-Mailbox -Identity 'ERP mailer' -EmailAddresses @{remove='smtp:PAYROLL@contoso.com'}"));
    CHECK(f.evidence["otherRecipients"].size() == 1);
    CHECK(f.evidence["otherRecipients"][0]["externalDirectoryObjectId"] == kOther);
}

TEST_CASE("hve-address-conflict: a mail contact holding it as its primary address gets its own cmdlet") {
    Finding f = single(scan({recipient("Payroll (old)", "", "MailContact", {"SMTP:payroll@contoso.com"})}));
    CHECK(f.status == Status::Fail);
    CHECK(contains(f.message, "as its primary address"));
    CHECK(contains(f.remediation, "Set-MailContact"));
}

TEST_CASE("hve-address-conflict: only the account itself → pass, no HVE accounts → n/a, recipients missing → error") {
    CHECK(single(scan({recipient("Payroll", kHve, "MailUser", {"SMTP:payroll@contoso.com"})})).status == Status::Pass);
    CHECK(single(scan(json::array())).status == Status::Pass);
    CHECK(single(run_rule(tenantscan::rules::make_hve_address_conflict_rule(),
                          tenant(json::object(), {{"hveAccounts", json::array()}, {"recipients", json::array()}})))
              .status == Status::NotApplicable);
    CHECK(single(run_rule(tenantscan::rules::make_hve_address_conflict_rule(),
                          tenant(json::object(), {{"hveAccounts", {hve_account(kHve, "payroll@contoso.com")}}})))
              .status == Status::Error);
}
