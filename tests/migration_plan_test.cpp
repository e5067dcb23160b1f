// The migration plan: findings regrouped per sender (device, account, HVE account), and the text
// report reading as a plan for the example tenants, with the schedule in its header.
#include <doctest/doctest.h>

#include <tenantscan/detail/migration_plan.hpp>
#include <tenantscan/scan.hpp>

#include "support.hpp"

using namespace tenantscan;
using nlohmann::json;
using testsupport::run_cli;

namespace {

std::string example(const std::string& name) { return testsupport::source_dir() + "/examples/" + name + "/snapshot.json"; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Finding make(const std::string& rule, Status status, Severity severity, Subject subject, json evidence = json::object()) {
    Finding f;
    f.rule = rule;
    f.status = status;
    f.severity = severity;
    f.subject = std::move(subject);
    f.message = rule + " says so";
    f.evidence = std::move(evidence);
    return f;
}

}  // namespace

TEST_CASE("migration-plan: a device carries its account's failures, untouched senders come last") {
    const json client = {{"name", "Scanner"}, {"host", "smtp.office365.com"}, {"port", 587}, {"security", "starttls"},
                         {"auth", "basic"}, {"username", "Scan@contoso.com"}, {"owner", "Facilities"}};
    const std::vector<Finding> findings = {
        make("smtp-client-endpoint", Status::Fail, Severity::High, {"smtpClient", "Scanner", "Scanner"},
             {{"client", client}, {"target", "HVE: smtp.hve.mx.microsoft:587"}}),
        make("hve-conditional-access", Status::Fail, Severity::Critical, {"hveAccount", "id-1", "scan@contoso.com"}),
        make("hve-billing-policy", Status::Pass, Severity::Critical, {"hveAccount", "id-1", "scan@contoso.com"}),
        make("smtp-basic-auth-sign-ins", Status::Fail, Severity::High, {"user", "id-2", "erp@contoso.com"},
             {{"signIns", {{"signIns", 3}, {"firstSeen", "2026-11-01"}, {"lastSeen", "2026-11-20"}, {"sourceIps", {"192.0.2.1"}}}},
              {"target", "move it to OAuth"}}),
        make("hve-conditional-access", Status::Pass, Severity::High, {"hveAccount", "id-3", "alerts@contoso.com"}),
        make("tenant-legacy-auth-protection", Status::Fail, Severity::Critical, {"tenant", "t", "t"}),
    };
    const auto plan = build_migration_plan(findings);
    REQUIRE(plan.size() == 3);  // the scanner (with its HVE account), the ERP account, the alerts HVE account
    CHECK(plan[0].name == "Scanner");
    CHECK(plan[0].kind == SenderPlan::Kind::Device);
    REQUIRE(plan[0].breaks.size() == 2);
    CHECK(plan[0].breaks[0]->rule == "hve-conditional-access");  // worst first
    CHECK(plan[0].target == "HVE: smtp.hve.mx.microsoft:587");
    CHECK(contains(plan[0].what, "device (owner Facilities): submits to smtp.office365.com:587 (starttls, auth basic as Scan@contoso.com)"));
    CHECK(plan[1].name == "erp@contoso.com");
    CHECK(plan[1].kind == SenderPlan::Kind::Account);
    CHECK(contains(plan[1].what, "3 sign-ins from 2026-11-01 to 2026-11-20, source IPs 192.0.2.1"));
    CHECK(plan[2].name == "alerts@contoso.com");
    CHECK(plan[2].breaks.empty());

    const std::string text = migration_plan_to_text(plan, false);
    CHECK(contains(text, "MIGRATION PLAN (3 senders, 2 need action)"));
    CHECK(contains(text, "    breaks: [fail critical] hve-conditional-access: hve-conditional-access says so"));
    CHECK(contains(text, "    go to:  HVE: smtp.hve.mx.microsoft:587"));
    CHECK(contains(text, "  ok  alerts@contoso.com (HVE account) → stay on HVE"));
    CHECK(migration_plan_to_text({}, false).empty());
}

TEST_CASE("migration-plan: the broken example's text report reads as a migration plan under its schedule") {
    auto r = run_cli({"scan", example("fabrikam-broken"), "--as-of", "2026-11-27"});
    INFO(r.err);
    REQUIRE(r.exitCode == 1);
    const std::string& out = r.out;
    CHECK(contains(out, "schedule: 2026-01 (announced 2026-01-27): before the cut-off; 34 days left until 2026-12-31"));
    const auto plan = out.find("MIGRATION PLAN");
    REQUIRE(plan != std::string::npos);
    CHECK(plan < out.find("FAILURES"));
    CHECK(contains(out, "\n  MFP floor 2 (device)\n    what:   device (owner Facilities): submits to smtp.office365.com:587"));
    // The account seen in the sign-ins is shown with the device that signs in as it.
    CHECK(contains(out, "\n  ERP invoices (device)\n"));
    CHECK(contains(out, "[fail high] smtp-basic-auth-sign-ins: erp-mailer@fabrikam.com submitted mail with Basic SMTP AUTH"));
    CHECK(contains(out, "go to:  move it to Azure Communication Services"));

    auto stricter = run_cli({"scan", example("fabrikam-broken"), "--as-of", "2026-11-27", "--schedule", "2025-06"});
    CHECK(contains(stricter.out, "schedule: 2025-06 (announced 2025-06-12): final milestone passed"));
    CHECK(contains(stricter.out, "[fail critical] smtp-basic-auth-sign-ins"));
}

TEST_CASE("migration-plan: --schedule and --clients through the CLI") {
    SUBCASE("an unknown schedule is a usage error") {
        auto r = run_cli({"scan", example("contoso-ready"), "--schedule", "2024-04"});
        CHECK(r.exitCode == 2);
        CHECK(contains(r.err, "2026-01"));
    }
    SUBCASE("a CSV inventory replaces the snapshot's, located by line") {
        auto r = run_cli({"scan", example("fabrikam-broken"), "--as-of", "2026-11-27", "--format", "json", "--clients",
                          testsupport::source_dir() + "/examples/inventory/smtp-clients.csv"});
        REQUIRE(r.exitCode == 1);
        const json report = json::parse(r.out);
        int devices = 0;
        for (const auto& f : report["findings"])
            if (f["rule"] == "smtp-client-endpoint") {
                ++devices;
                CHECK(contains(f["evidence"]["client"]["location"].get<std::string>(), "smtp-clients.csv:"));
            }
        CHECK(devices == 4);
    }
    SUBCASE("bad rows become errors naming their line, a broken file exits 2") {
        testsupport::TempFile csv("name,host,port,security,auth,username\nFax,smtp.office365.com,twenty-five,ssl,basic,fax@contoso.com\n",
                                  ".csv");
        auto r = run_cli({"scan", example("contoso-ready"), "--as-of", "2026-11-27", "--clients", csv.path()});
        CHECK(r.exitCode == 1);
        CHECK(contains(r.out, csv.path() + ":2 cannot be checked: port 'twenty-five'"));
        testsupport::TempFile broken("name,host\nFax,relay\n", ".csv");
        auto b = run_cli({"scan", example("contoso-ready"), "--clients", broken.path()});
        CHECK(b.exitCode == 2);
        CHECK(contains(b.err, "lacks the required columns"));
    }
}

TEST_CASE("migration-plan: the ready example keeps passing with its inventory") {
    auto r = run_cli({"scan", example("contoso-ready"), "--as-of", "2026-11-27", "--format", "json"});
    REQUIRE(r.exitCode == 0);
    const json report = json::parse(r.out);
    for (const auto& f : report["findings"]) {
        INFO(f.dump());
        CHECK(f["status"] != "error");
        if (f["status"] == "fail") CHECK(f["severity"] == "info");  // hve-basic-auth-sunset's reminder only
    }
}
