// The migration plan: findings regrouped per sender (device, account, HVE account), and the text
// report reading as a plan for the example tenants, with the schedule in its header.
#include <doctest/doctest.h>

#include <tenantscan/detail/migration_plan.hpp>
#include <tenantscan/scan.hpp>
#include <tenantscan/smtp_clients.hpp>

#include "support/smtp_inventory.hpp"
#include "support/smtp_senders.hpp"
#include "support.hpp"

using namespace tenantscan;
using nlohmann::json;
using testsupport::run_cli;

namespace {

std::string example(const std::string& name) { return testsupport::source_dir() + "/examples/" + name + "/snapshot.json"; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Finding make(const std::string& rule, Status status, Severity severity, Subject subject, std::vector<Related> related = {}) {
    Finding f;
    f.rule = rule;
    f.status = status;
    f.severity = severity;
    f.subject = std::move(subject);
    f.message = rule + " says so";
    f.related = std::move(related);  // the plan reads these, never the evidence (left empty here)
    return f;
}

}  // namespace

TEST_CASE("migration-plan: a device carries its account's failures, untouched senders come last") {
    // The related objects as the smtp rules make them (rules/support/smtp_inventory.hpp, smtp_senders.hpp).
    SmtpClient client;
    client.name = "Scanner";
    client.host = "smtp.office365.com";
    client.port = 587;
    client.security = SmtpSecurity::StartTls;
    client.auth = SmtpAuth::Basic;
    client.username = "Scan@contoso.com";
    client.owner = "Facilities";
    auto device = rules::device_related(client);
    device.push_back(rules::migrate_to("HVE: smtp.hve.mx.microsoft:587"));
    const Subject erp{"user", "id-2", "erp@contoso.com"};
    const json summary = {{"signIns", 3}, {"firstSeen", "2026-11-01"}, {"lastSeen", "2026-11-20"}, {"sourceIps", {"192.0.2.1"}}};
    const std::vector<Finding> findings = {
        make("smtp-client-endpoint", Status::Fail, Severity::High, {"smtpClient", "Scanner", "Scanner"}, device),
        make("hve-conditional-access", Status::Fail, Severity::Critical, {"hveAccount", "id-1", "scan@contoso.com"}),
        make("hve-billing-policy", Status::Pass, Severity::Critical, {"hveAccount", "id-1", "scan@contoso.com"}),
        make("smtp-basic-auth-sign-ins", Status::Fail, Severity::High, erp,
             {rules::sign_in_sender(erp, summary), rules::migrate_to("move it to OAuth")}),
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

// The plan uses the device catalogue for each Basic-auth device (docs/devices.md: Lexmark from FW24,
// Sharp BP-70M65 available, QNAP only through its Outlook.com provider; Xerox not in the catalogue).
TEST_CASE("migration-plan: each Basic-auth device gets what its vendor says about OAuth, unknown ones say so") {
    // The related objects as the smtp rules make them (rules/support/smtp_inventory.hpp: device_related).
    auto device = [](const std::string& name, const std::string& vendor, const std::string& model,
                     const std::string& firmware, SmtpAuth auth = SmtpAuth::Basic) {
        SmtpClient client;
        client.name = name;
        client.host = "smtp.office365.com";
        client.port = 587;
        client.security = SmtpSecurity::StartTls;
        client.auth = auth;
        client.username = "dev@contoso.com";
        client.vendor = vendor;
        client.model = model;
        client.firmware = firmware;
        return make("smtp-client-endpoint", Status::Fail, Severity::High, {"smtpClient", name, name}, rules::device_related(client));
    };
    const std::vector<Finding> findings = {
        device("Old Lexmark", "Lexmark", "CX735", "FW23"),  device("New Lexmark", "Lexmark", "CX735", "FW24"),
        device("Sharp copier", "Sharp", "BP-70M65", ""),    device("NAS", "QNAP", "TS-464", ""),
        device("Xerox copier", "Xerox", "AltaLink C8170", ""), device("Mystery box", "", "", ""),
        device("OAuth app", "Lexmark", "CX735", "FW23", SmtpAuth::OAuth),
    };
    const auto plan = build_migration_plan(findings);
    auto of = [&](const std::string& name) {
        for (const auto& sender : plan)
            if (sender.name == name) return sender.device;
        FAIL("no plan entry for " << name);
        return std::string();
    };
    CHECK(contains(of("Old Lexmark"), "FW24"));
    CHECK(contains(of("Old Lexmark"), "update the firmware"));
    CHECK(contains(of("New Lexmark"), "switch it to SMTP AUTH with XOAUTH2"));
    CHECK_FALSE(contains(of("New Lexmark"), "update the firmware"));
    CHECK(contains(of("Sharp copier"), "XOAUTH2"));
    CHECK(contains(of("NAS"), "only partly"));
    CHECK(contains(of("NAS"), "High Volume Email"));
    CHECK(contains(of("Xerox copier"), "not in the device catalogue"));
    CHECK(contains(of("Xerox copier"), "unknown"));
    CHECK_FALSE(contains(of("Xerox copier"), "XOAUTH2"));
    CHECK(contains(of("Mystery box"), "no vendor"));
    CHECK(of("OAuth app").empty());  // already on OAuth: nothing to migrate

    const std::string text = migration_plan_to_text(plan, false);
    CHECK(contains(text, "oauth:  Lexmark (Printers and MFPs with the embedded web server): OAuth available from firmware FW24, but this device runs FW23"));
    CHECK(contains(text, "device Lexmark CX735 firmware FW23: submits to smtp.office365.com:587"));
}
