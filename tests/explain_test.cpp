// `tenantscan explain`: real-world texts (each with the public page it comes from, in
// tests/data/explain/real-world-texts.json), noise, wrappers with and without the enhanced code,
// the snapshot deciding (or not) between causes, the retirement schedule, terminal safety and the
// CLI's exit codes.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/schedule.hpp>
#include <tenantscan/smtp_explain.hpp>
#include <tenantscan/snapshot_loader.hpp>

#include "support.hpp"

namespace smtp = tenantscan::smtp;
using nlohmann::json;

namespace {

smtp::ExplainOptions options_at(const std::string& asOf = "2026-12-01", const std::string& schedule = "") {
    smtp::ExplainOptions options;
    options.schedule = tenantscan::schedule_status(tenantscan::resolve_schedule(schedule), asOf);
    return options;
}

smtp::TextExplanation explain(const std::string& text, const smtp::ExplainOptions& options = options_at()) {
    return smtp::explain_text(text, options);
}

// A snapshot loaded with the same code as the CLI, and the tenant view explain needs.
struct LoadedTenant {
    tenantscan::Snapshot snapshot;
    tenantscan::Directory directory;
    tenantscan::ConditionalAccessEngine engine;
    smtp::Tenant tenant;
    explicit LoadedTenant(tenantscan::Snapshot s)
        : snapshot(std::move(s)), directory(snapshot), engine(snapshot, directory), tenant{snapshot, directory, engine} {}
};

// examples/<name>/snapshot.json, loaded once.
const LoadedTenant& example_tenant(const std::string& name) {
    static std::map<std::string, std::unique_ptr<LoadedTenant>> loaded;
    auto& tenant = loaded[name];
    if (!tenant) tenant = std::make_unique<LoadedTenant>(tenantscan::load_snapshot(testsupport::example_snapshot(name)));
    return *tenant;
}

smtp::TextExplanation explain_for(const std::string& text, const LoadedTenant& tenant, const std::string& user,
                                  const std::string& asOf = "2026-12-01") {
    smtp::ExplainOptions options = options_at(asOf);
    options.user = user;
    options.tenant = &tenant.tenant;
    return smtp::explain_text(text, options);
}

// One account, printer@contoso.com: no Conditional Access, no security defaults, SMTP AUTH on for
// the organization; its mailbox switch (false, true or null: inherit) and an org-default
// authentication policy that allows Basic SMTP or not.
tenantscan::Snapshot printer_tenant(const json& mailboxSwitch, bool policyAllowsBasic) {
    json snapshot = json::parse(R"({
      "snapshotVersion": 1, "tenantId": "c0000000-0000-4000-8000-000000000001",
      "graph": {"securityDefaults": {"isEnabled": false},
                "users": [{"id": "d1000000-0000-4000-8000-00000000000a", "userPrincipalName": "printer@contoso.com",
                           "accountEnabled": true}],
                "groups": [], "roleAssignments": [], "namedLocations": [], "conditionalAccessPolicies": []},
      "exchange": {"transportConfig": {"SmtpClientAuthenticationDisabled": false},
                   "casMailboxes": [{"PrimarySmtpAddress": "printer@contoso.com",
                                     "ExternalDirectoryObjectId": "d1000000-0000-4000-8000-00000000000a"}],
                   "authenticationPolicies": [{"Name": "Org default"}],
                   "organizationConfig": {"DefaultAuthenticationPolicy": "Org default"},
                   "users": []}
    })");
    snapshot["exchange"]["casMailboxes"][0]["SmtpClientAuthenticationDisabled"] = mailboxSwitch;
    snapshot["exchange"]["authenticationPolicies"][0]["AllowBasicAuthSmtp"] = policyAllowsBasic;
    return testsupport::snapshot_from(snapshot);
}

const char* kTenantSwitch =
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
    "https://aka.ms/smtp_auth_disabled for more information.";
const char* kMailboxSwitch =
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit "
    "https://aka.ms/smtp_auth_disabled for more information.";
const char* kBasicDisabled = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.";
const char* kCriteria =
    "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated "
    "successfully. Contact your administrator.";

}  // namespace

TEST_CASE("explain: every real-world text is recognised as its cited source shows it") {
    json data = json::parse(testsupport::read_file(testsupport::data_dir() + "/explain/real-world-texts.json"));
    std::set<std::string> distinct;
    for (const auto& entry : data.at("texts")) {
        const std::string text = entry.at("text");
        const std::string source = entry.at("source");
        CAPTURE(text);
        CHECK_MESSAGE(source.rfind("https://", 0) == 0, "every text names the public page it comes from");
        CHECK(distinct.insert(text).second);
        smtp::TextExplanation x = explain(text);
        REQUIRE(x.recognised);
        CHECK(x.explanation.id == entry.at("id").get<std::string>());
        if (entry.at("cause").is_null()) {
            // The reply leaves the cause open: it says which causes, and never picks one.
            CHECK(x.cause.empty());
            CHECK_FALSE(x.possibleCauses.empty());
            CHECK((x.decision == smtp::Decision::NeedsSnapshot || x.decision == smtp::Decision::Review));
        } else {
            CHECK(x.cause == entry.at("cause").get<std::string>());
            CHECK(x.decision == smtp::Decision::Reply);
        }
        const std::string wrapper = entry.at("wrapper");
        if (!wrapper.empty()) CHECK_MESSAGE(x.wrapper.find(wrapper) != std::string::npos, x.wrapper);
        CHECK_FALSE(x.explanation.cause.empty());
        CHECK_FALSE(x.explanation.fix.empty());
        CHECK_FALSE(x.switchBackText.empty());
        CHECK(smtp::exit_code(x) == 0);
    }
    MESSAGE("distinct real-world texts recognised: " << distinct.size());
    CHECK(distinct.size() >= 25);
}

TEST_CASE("explain: noise is not recognised and no cause is guessed") {
    const std::vector<std::string> noise = {
        "2026-11-30 12:00:01 INFO Started nginx.service - A high performance web server.",
        "GET /api/v1/users HTTP/1.1\" 500 1234 \"-\" \"Mozilla/5.0\"",
        "250 2.0.0 OK  1700000000 x12-20020a170902 - gsmtp",
        "250 2.6.0 <abc@contoso.com> [InternalId=123] Queued mail for delivery",
        "See https://learn.microsoft.com/troubleshoot/5.7.139/smtp for the mail error list",
        "Upgraded MySQL from 5.7.30 to 8.0.36",
        "smtp relay host address 10.5.7.139 port 25",
        "mail build 5.7.1390 released",
        "Order 535.7.3 shipped by mail",
        "Invalid login attempt for user admin from 203.0.113.7",
        "Authentication unsuccessful",
        "hello world",
    };
    for (const auto& text : noise) {
        CAPTURE(text);
        smtp::TextExplanation x = explain(text);
        CHECK_FALSE(x.recognised);
        CHECK(x.cause.empty());
        CHECK(x.explanation.id.empty());
        CHECK(x.help.find("smtp-test") != std::string::npos);
        CHECK(x.help.find("reply") != std::string::npos);
        CHECK(smtp::exit_code(x) == 1);
        json j = smtp::to_json(x);
        CHECK(j.at("recognised") == false);
        CHECK_FALSE(j.contains("cause"));
        CHECK(smtp::to_text(x).rfind("Not recognised", 0) == 0);
    }
    // A success reply is said to be one.
    smtp::TextExplanation success = explain("250 2.0.0 OK  1700000000 x12-20020a170902 - gsmtp");
    REQUIRE_FALSE(success.notes.empty());
    CHECK(success.notes.front().find("success") != std::string::npos);
}

TEST_CASE("explain: wrappers with and without the enhanced code") {
    SUBCASE("with the enhanced code, the wrapper is named and the reply is the server's") {
        smtp::TextExplanation x = explain("smtplib.SMTPAuthenticationError: (535, b'5.7.139 Authentication unsuccessful, "
                                          "SmtpClientAuthentication is disabled for the Mailbox.')");
        REQUIRE(x.recognised);
        CHECK(x.wrapper.find("Python smtplib") != std::string::npos);
        CHECK(x.code == 535);
        CHECK(x.enhancedCode == "5.7.139");
        CHECK(x.cause == "mailbox-switch");
    }
    SUBCASE("without the enhanced code, the reply code still says it was the sign-in, and the cause stays open") {
        for (const char* text : {"smtplib.SMTPAuthenticationError: (535, 'Authentication failed: Bad username / password')",
                                       "Error: Invalid login: 535 Authentication failed"}) {
            CAPTURE(text);
            smtp::TextExplanation x = explain(text);
            REQUIRE(x.recognised);
            CHECK(x.code == 535);
            CHECK(x.enhancedCode.empty());
            CHECK(x.explanation.id == "auth-refused");
            CHECK(x.cause.empty());
            CHECK(x.decision == smtp::Decision::NeedsSnapshot);
            CHECK(x.switchBack == smtp::SwitchBack::DependsOnCause);
        }
    }
    SUBCASE("with only the enhanced code (.NET's SmtpException), the step comes from the code") {
        smtp::TextExplanation x = explain("System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the "
                                          "client was not authenticated. The server response was: 5.7.60 SMTP; Client does "
                                          "not have permissions to send as this sender");
        REQUIRE(x.recognised);
        CHECK(x.code == 0);
        CHECK(x.cause == "wrong-sender");
    }
    SUBCASE("a network error counts only in an SMTP context") {
        smtp::TextExplanation mail = explain("Error: connect ECONNREFUSED 52.97.1.1:587 (smtp.office365.com)");
        REQUIRE(mail.recognised);
        CHECK(mail.explanation.id == "connect-failed");
        CHECK(mail.cause == "network");
        CHECK(mail.switchBack == smtp::SwitchBack::NotRetirement);
        CHECK_FALSE(explain("Error: connect ECONNREFUSED 127.0.0.1:5432").recognised);
    }
    SUBCASE("an HVE account's refusal of an outside recipient") {
        smtp::TextExplanation x = explain("550 5.5.105 External sending is not supported for High Volume Email accounts");
        CHECK(x.explanation.id == "hve-external-recipient");
        CHECK(x.cause == "hve-external-recipient");
    }
    SUBCASE("curl hides the reply: said so, smtp-test suggested") {
        smtp::TextExplanation x = explain("curl: (67) Login denied");
        REQUIRE(x.recognised);
        CHECK(x.replyHidden);
        CHECK(x.reply.empty());
        CHECK(x.explanation.fix.find("smtp-test") != std::string::npos);
        CHECK(x.decision == smtp::Decision::NeedsSnapshot);
        std::string text = smtp::to_text(x);
        CHECK(text.find("hidden") != std::string::npos);
    }
    SUBCASE("a 5.7.57 and the 535 behind it: the refused sign-in explains it") {
        smtp::TextExplanation x = explain("The server response was: 5.7.57 Client not authenticated to send mail. Error: " +
                                          std::string(kTenantSwitch));
        CHECK(x.explanation.id == "smtp-auth-disabled");
        CHECK(x.cause == "tenant-switch");
        REQUIRE_FALSE(x.notes.empty());
    }
}

TEST_CASE("explain: the retirement schedule says whether a setting can still bring Basic SMTP AUTH back") {
    SUBCASE("before the cut-off, a tenant setting can be switched back") {
        smtp::TextExplanation x = explain(kTenantSwitch, options_at("2026-12-01"));
        CHECK(x.switchBack == smtp::SwitchBack::Possible);
        CHECK(x.switchBackText.find("2026-12-31") != std::string::npos);
    }
    SUBCASE("after the 2026-01 cut-off an admin can still turn it back on") {
        smtp::TextExplanation x = explain(kTenantSwitch, options_at("2027-01-15"));
        CHECK(x.switchBack == smtp::SwitchBack::Possible);
        CHECK(x.switchBackText.find("since 2026-12-31") != std::string::npos);
    }
    SUBCASE("under the 2025-06 plan, once every submission is rejected, only migration helps") {
        smtp::TextExplanation x = explain(kTenantSwitch, options_at("2026-05-01", "2025-06"));
        CHECK(x.switchBack == smtp::SwitchBack::MigrateOnly);
        CHECK(x.switchBackText.find("OAuth") != std::string::npos);
    }
    SUBCASE("custom dates do not say: unknown, never yes") {
        smtp::TextExplanation x = explain(kTenantSwitch, options_at("2026-10-01", "2026-09-30"));
        CHECK(x.switchBack == smtp::SwitchBack::Unknown);
    }
    SUBCASE("5.7.30 is the retirement itself: migrate, whatever the date") {
        smtp::TextExplanation x = explain("550 5.7.30 Basic authentication is not supported for Client Submission", options_at("2026-01-01"));
        CHECK(x.cause == "retirement");
        CHECK(x.switchBack == smtp::SwitchBack::MigrateOnly);
    }
    SUBCASE("a wrong password is not the retirement") {
        smtp::TextExplanation x = explain("535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.");
        CHECK(x.cause == "wrong-password");
        CHECK(x.switchBack == smtp::SwitchBack::NotRetirement);
    }
}

TEST_CASE("explain: with a snapshot and an account, the snapshot decides between the causes or says review") {
    SUBCASE("fabrikam: the mailbox switch is off for nestor (the reply names the mailbox, the snapshot confirms)") {
        smtp::TextExplanation x = explain_for(kMailboxSwitch, example_tenant("fabrikam-broken"), "nestor@fabrikam.com");
        CHECK(x.cause == "mailbox-switch");
        CHECK(x.decision == smtp::Decision::Snapshot);
    }
    SUBCASE("fabrikam: the reply says the tenant switch, the snapshot has it on: review, not a guess") {
        smtp::TextExplanation x = explain_for(kTenantSwitch, example_tenant("fabrikam-broken"), "megan@fabrikam.com");
        CHECK(x.decision == smtp::Decision::Review);
        CHECK(x.decisionNote.find("rules out") != std::string::npos);
    }
    SUBCASE("contoso: the tenant switch is off and alice's mailbox inherits it") {
        smtp::TextExplanation x = explain_for(kTenantSwitch, example_tenant("contoso-ready"), "alice@contoso.com");
        CHECK(x.cause == "tenant-switch");
        CHECK(x.decision == smtp::Decision::Snapshot);
    }
    SUBCASE("northwind: security defaults block the sign-in") {
        smtp::TextExplanation x = explain_for(kCriteria, example_tenant("northwind-defaults"), "staff@northwindtraders.com");
        CHECK(x.cause == "security-defaults");
        CHECK(x.decision == smtp::Decision::Snapshot);
    }
    SUBCASE("contoso: a Conditional Access policy blocks alice, and it is named") {
        smtp::TextExplanation x = explain_for(kCriteria, example_tenant("contoso-ready"), "alice@contoso.com");
        CHECK(x.cause == "conditional-access");
        CHECK(x.decision == smtp::Decision::Snapshot);
        bool named = false;
        for (const auto& e : x.explanation.evidence) named = named || e.find("CA001 Block legacy authentication") != std::string::npos;
        CHECK(named);
    }
    SUBCASE("'basic authentication is disabled': the authentication policy, when the switches are on") {
        LoadedTenant t(printer_tenant(/*mailboxSwitch=*/false, /*policyAllowsBasic=*/false));
        smtp::TextExplanation x = explain_for(kBasicDisabled, t, "printer@contoso.com");
        CHECK(x.cause == "authentication-policy");
        CHECK(x.decision == smtp::Decision::Snapshot);
        CHECK(x.switchBack == smtp::SwitchBack::Possible);
    }
    SUBCASE("curl hides the reply and the snapshot shows nothing that blocks: review, never 'wrong password'") {
        LoadedTenant t(printer_tenant(/*mailboxSwitch=*/nullptr, /*policyAllowsBasic=*/true));
        smtp::TextExplanation x = explain_for("curl: (67) Login denied", t, "printer@contoso.com");
        CHECK(x.decision == smtp::Decision::Review);
        CHECK(x.cause.empty());
        CHECK(x.switchBack == smtp::SwitchBack::DependsOnCause);
    }
    SUBCASE("curl hides the reply; contoso blocks alice in three layers: the first decides, all are named") {
        smtp::TextExplanation x = explain_for("curl: (67) Login denied", example_tenant("contoso-ready"), "alice@contoso.com");
        CHECK(x.cause == "conditional-access");
        CHECK(x.decision == smtp::Decision::Snapshot);
        CHECK(x.decisionNote.find("authentication-policy") != std::string::npos);
        CHECK(x.decisionNote.find("tenant-switch") != std::string::npos);
    }
    SUBCASE("an account the snapshot does not hold: review") {
        smtp::TextExplanation x = explain_for(kBasicDisabled, example_tenant("contoso-ready"), "ghost@contoso.com");
        CHECK(x.decision == smtp::Decision::Review);
        CHECK(x.decisionNote.find("ghost@contoso.com") != std::string::npos);
    }
}

TEST_CASE("explain: a hostile text of a megabyte is read in bounded time") {
    // One line full of lookalike replies, and many short reply lines: the words of each reply are
    // kept to a few hundred bytes and at most a few hundred replies are read.
    std::string oneLine;
    while (oneLine.size() < (1u << 20) - 64) oneLine += ";5.7.3;x ";
    smtp::TextExplanation line = explain("smtp " + oneLine);
    CHECK(line.reply.size() < 1000);
    std::string manyLines;
    while (manyLines.size() < (1u << 20) - 64) manyLines += "535 5.7.3 Authentication unsuccessful\n";
    smtp::TextExplanation lines = explain(manyLines);
    CHECK(lines.recognised);
    CHECK(lines.explanation.id == "auth-unsuccessful");
}

TEST_CASE("explain: control characters and invalid UTF-8 in the pasted text are escaped in every format") {
    const std::string text = std::string(kBasicDisabled) + " \x1b[2J\x07 \xff\xfe \xe2\x80\xae" + "evil";
    smtp::TextExplanation x = explain(text);
    REQUIRE(x.recognised);
    const std::string plain = smtp::to_text(x);
    const std::string structured = smtp::to_json(x).dump();
    for (const std::string& out : {plain, structured, x.reply}) {
        CHECK(out.find('\x1b') == std::string::npos);
        CHECK(out.find('\x07') == std::string::npos);
        CHECK(out.find("\xff") == std::string::npos);
        CHECK(out.find("\xe2\x80\xae") == std::string::npos);
    }
    // The same escaped reply in both formats.
    CHECK(plain.find(x.reply) != std::string::npos);
    CHECK(smtp::to_json(x).at("reply").at("text") == x.reply);
    CHECK(x.reply.find("\\x1B") != std::string::npos);
}

TEST_CASE("explain CLI: exit codes, standard input, JSON, and the command list") {
    using testsupport::run_cli;
    auto recognised = run_cli({"explain", kTenantSwitch, "--as-of", "2026-12-01"});
    CHECK(recognised.exitCode == 0);
    CHECK(recognised.out.find("tenant-switch") != std::string::npos);

    auto unknown = run_cli({"explain", "hello world"});
    CHECK(unknown.exitCode == 1);
    CHECK(unknown.out.find("Not recognised") != std::string::npos);

    auto json_run = run_cli({"explain", kBasicDisabled, "--format", "json", "--as-of", "2027-02-01"});
    CHECK(json_run.exitCode == 0);
    json j = json::parse(json_run.out);
    CHECK(j.at("id") == "basic-auth-disabled");
    CHECK(j.at("decision") == "needs-snapshot");
    CHECK(j.at("schedule").at("asOf") == "2027-02-01");

    testsupport::TempFile input(std::string("Oct 1 postfix/smtp[1]: SASL authentication failed; server smtp.office365.com[1.2.3.4] said: ") +
                                    kMailboxSwitch + "\n",
                                ".txt");
    auto piped = testsupport::run_program("/bin/sh", {"-c", "\"$0\" explain - --format json < \"$1\"", testsupport::cli_path(), input.path()});
    CHECK(piped.exitCode == 0);
    CHECK(json::parse(piped.out).at("cause") == "mailbox-switch");

    auto snapshot = run_cli({"explain", kMailboxSwitch, "--snapshot", testsupport::example_snapshot("fabrikam-broken"),
                             "--user", "nestor@fabrikam.com", "--format", "json"});
    CHECK(snapshot.exitCode == 0);
    CHECK(json::parse(snapshot.out).at("decision") == "snapshot");

    CHECK(run_cli({"explain", "   "}).exitCode == 2);
    CHECK(run_cli({"explain", kMailboxSwitch, "--snapshot", testsupport::example_snapshot("fabrikam-broken")}).exitCode == 2);
    auto missing = run_cli({"explain", kMailboxSwitch, "--snapshot", "/nonexistent/snap.json", "--user", "a@b.c"});
    CHECK(missing.exitCode == 2);
    CHECK(missing.err.find("/nonexistent/snap.json") != std::string::npos);
    CHECK(run_cli({"explain", kMailboxSwitch, "--schedule", "nonsense"}).exitCode == 2);

    auto help = run_cli({"--help"});
    CHECK(help.out.find("explain") != std::string::npos);
}
