// The contract between rules and reports is typed (rule.hpp: Finding::related and Finding::steps), not the
// evidence: reports, the migration plan and the fix script read the related objects and steps, never an
// evidence key, and never a rule id. Every finding here has EMPTY evidence and a rule id no shipped rule
// has, so anything still read from evidence or keyed by a rule id comes out missing.
#include <doctest/doctest.h>

#include <string>

#include <tenantscan/detail/migration_plan.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/remediation.hpp>
#include <tenantscan/report.hpp>
#include <tenantscan/scan.hpp>

using namespace tenantscan;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Related policy(const std::string& id, const std::string& name, Related::Role role) {
    Related r;
    r.kind = Related::Kind::ConditionalAccessPolicy;
    r.id = id;
    r.name = name;
    r.role = role;
    r.state = "enabledForReportingButNotEnforced";
    r.controls = {"block"};
    return r;
}

Related group() { return {Related::Kind::Group, "g-1", "Printers exempt", Related::Role::Excludes, {}, {}, {}, {}}; }

Finding finding(const std::string& rule, Status status, Subject subject) {
    Finding f;
    f.rule = rule;
    f.status = status;
    f.severity = Severity::High;
    f.subject = std::move(subject);
    f.message = "message of " + rule;
    return f;  // evidence stays {}
}

RuleMetadata metadata(const std::string& id, bool hve) {
    RuleMetadata m;
    m.id = id;
    m.title = "Title of " + id;
    m.concernsHveAccounts = hve;
    return m;
}

Report report_with(std::vector<Finding> findings) {
    Report report;
    report.toolVersion = "test";
    report.tenantId = "tenant-1";
    report.asOf = "2026-12-01";
    report.snapshotPath = "snapshot.json";
    report.findings = std::move(findings);
    report.rules = {metadata("demo-blocking", true), metadata("demo-device", false), metadata("demo-tenant", true)};
    report.policySources["p-1"] = {"snapshot.json", "/graph/conditionalAccessPolicies/0", 12};
    report.policySources["p-2"] = {"snapshot.json", "/graph/conditionalAccessPolicies/1", 40};
    return report;
}

const Subject kAccount{"hveAccount", "u-1", "printer@contoso.com"};

}  // namespace

TEST_CASE("related objects: the HTML account view and SARIF locations come from related objects, not evidence") {
    Finding blocked = finding("demo-blocking", Status::Fail, kAccount);
    blocked.related = {policy("p-1", "Block legacy", Related::Role::Blocks),
                       policy("p-2", "Require MFA", Related::Role::MayBlock)};
    blocked.related.back().dependsOn = {"location"};
    Finding tenantWide = finding("demo-tenant", Status::Fail, {"tenant", "tenant-1", "tenant-1"});
    Finding otherTenant = finding("demo-device", Status::Fail, {"tenant", "tenant-1", "tenant-1"});
    const Report report = report_with({blocked, tenantWide, otherTenant});

    const std::string html = report_to_html(report);
    CHECK(contains(html, "<strong>Block legacy</strong> blocks it"));
    CHECK(contains(html, "<strong>Require MFA</strong> may block it, depending on location"));
    CHECK(contains(html, "state report-only; controls block"));
    // Tenant-wide findings listed for every HVE account: those of rules that declare they concern them.
    const auto accounts = html.substr(html.find("<section id=\"accounts\">"));
    const auto accountsSection = accounts.substr(0, accounts.find("</section>"));
    CHECK(contains(accountsSection, "message of demo-tenant"));
    CHECK_FALSE(contains(accountsSection, "message of demo-device"));

    const auto sarif = report_to_sarif(report);
    const auto& result = sarif["runs"][0]["results"][0];
    REQUIRE(result["ruleId"] == "demo-blocking");
    CHECK(result["locations"][0]["physicalLocation"]["region"]["startLine"] == 12);
    REQUIRE(result["relatedLocations"].size() == 1);
    CHECK(result["relatedLocations"][0]["message"]["text"] == "Conditional Access policy 'Require MFA' (p-2)");
    CHECK(result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 40);
}

TEST_CASE("related objects: the migration plan reads senders, accounts and targets from related objects") {
    Finding device = finding("demo-device", Status::Fail, {"smtpClient", "Scanner 2F", "Scanner 2F"});
    device.related = {{Related::Kind::Device, "Scanner 2F", "Scanner 2F", Related::Role::Sender, {}, {}, {}, "device: submits to smtp.office365.com:587"},
                      {Related::Kind::Account, "", "Scan@Contoso.com", Related::Role::SignsInAs, {}, {}, {}, {}},
                      {Related::Kind::Endpoint, "", "HVE", Related::Role::MigrateTo, {}, {}, {}, {}}};
    Finding account = finding("demo-blocking", Status::Review, {"user", "u-2", "scan@contoso.com"});
    account.related = {{Related::Kind::Account, "u-2", "scan@contoso.com", Related::Role::Sender, {}, {}, {}, "account seen submitting"}};
    const std::vector<Finding> findings{device, account};

    const auto plan = build_migration_plan(findings);
    REQUIRE(plan.size() == 1);  // the account is shown with the device that signs in as it
    CHECK(plan[0].name == "Scanner 2F");
    CHECK(plan[0].what == "device: submits to smtp.office365.com:587");
    CHECK(plan[0].target == "HVE");
    REQUIRE(plan[0].breaks.size() == 2);
}

TEST_CASE("related objects: the fix script writes the steps findings carry, whatever their rule") {
    Finding assign = finding("demo-blocking", Status::Fail, kAccount);
    RemediationStep step;
    step.action = RemediationStep::Action::AssignAuthenticationPolicy;
    step.account = {Related::Kind::Account, "u-1", "printer@contoso.com", Related::Role::Names, {}, {}, {}, {}};
    step.policy = {Related::Kind::AuthenticationPolicy, "", "Allow SMTP", Related::Role::Assigned, {}, {}, {}, {}};
    assign.steps.push_back(step);

    Finding exclude = finding("demo-tenant", Status::Fail, kAccount);
    RemediationStep excludeStep;
    excludeStep.action = RemediationStep::Action::ExcludeGroupFromPolicy;
    excludeStep.account = step.account;
    excludeStep.group = group();
    excludeStep.policy = policy("p-1", "Block legacy", Related::Role::Blocks);
    exclude.steps.push_back(excludeStep);

    // A waived finding needs no change: its steps are not written.
    Finding waived = finding("demo-device", Status::Waived, {"hveAccount", "u-3", "waived@contoso.com"});
    RemediationStep waivedStep = step;
    waivedStep.account.name = "waived@contoso.com";
    waived.steps.push_back(waivedStep);

    const Report report = report_with({assign, exclude, waived});
    ScanOptions options;
    options.asOf = "2026-12-01";
    const std::string script = remediation_script(Snapshot{}, report, options);
    CHECK(contains(script, "$SmtpPolicyName = 'Allow SMTP'"));
    CHECK(contains(script, "# Fixes demo-blocking for printer@contoso.com: message of demo-blocking"));
    CHECK(contains(script, "Set-HveAuthenticationPolicy 'printer@contoso.com'"));
    CHECK(contains(script, "$HveGroup = Get-MgGroup -GroupId 'g-1'"));
    CHECK(contains(script, "# Fixes demo-tenant: 'Block legacy' (enabledForReportingButNotEnforced; block) blocks"));
    CHECK(contains(script, "Add-HveGroupExclusion 'p-1' 'Block legacy'"));
    CHECK_FALSE(contains(script, "waived@contoso.com"));
    // Findings with steps are fixed by the script, so the checklist has nothing left.
    CHECK(contains(script, "# Nothing: no other finding needs a change."));
}
