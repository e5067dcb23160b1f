// `tenantscan smtp-test` against a real SMTP server on 127.0.0.1 (aiosmtpd, started per test),
// configured to reproduce each failure. Every CLI run also checks that neither the password nor
// the token, nor their base64 forms as SMTP AUTH carries them, reach stdout, stderr or the JSON.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/smtp_test.hpp>
#include <tenantscan/snapshot_loader.hpp>

#include "smtp/loopback_server.hpp"
#include "support.hpp"

using nlohmann::json;
using smtptest::LoopbackServer;
using smtptest::server_config;
namespace smtp = tenantscan::smtp;

namespace {

const std::string kUser = "scanner@contoso.com";
const std::string kUserId = "d1000000-0000-4000-8000-00000000000a";
const std::string kPassword = "Pa55:w0rd+/?>secret";  // characters whose base64 differs by position
const std::string kToken = "eyJ0eXAiOiJKV1Qi.test-token-payload.signature";

using testsupport::base64;

// The secret as it travels in SMTP AUTH: plain, base64, SASL PLAIN, XOAUTH2.
std::vector<std::string> secret_forms(const std::string& secret) {
    return {secret, base64(secret), base64(std::string(1, '\0') + kUser + '\0' + secret),
            base64("user=" + kUser + "\x01" "auth=Bearer " + secret + "\x01\x01")};
}

void check_no_secret(const std::string& text, const char* where) {
    for (const auto& secret : {kPassword, kToken})
        for (const auto& form : secret_forms(secret)) CHECK_MESSAGE(text.find(form) == std::string::npos, where, " leaks ", form);
}

struct Run {
    testsupport::CommandResult cli;   // --format json --transcript
    json report;                      // its stdout, parsed
    testsupport::CommandResult text;  // the same scenario in the text format
    std::vector<std::string> received;  // the messages the server accepted during the JSON run
};

enum class Credential { Password, Token };

// Whether the transcript shows the documented end of a submission: the client's DATA, a 354,
// the message, then a 250 (RFC 5321 §4.1.1.4).
bool transcript_shows_acceptance(const json& report) {
    if (!report.contains("transcript")) return false;
    int state = 0;  // 0 before DATA, 1 DATA sent, 2 got 354, 3 message sent
    for (const auto& line : report.at("transcript")) {
        std::string text = line.at("text");
        bool client = line.at("from") == "client";
        if (state == 0 && client && text == "DATA") state = 1;
        else if (state == 1 && !client) state = text.rfind("354", 0) == 0 ? 2 : 0;
        else if (state == 2 && client && text == ".") state = 3;
        else if (state == 3 && !client) return text.rfind("250 ", 0) == 0;
    }
    return false;
}

// One line of a transcript, from the JSON report or from the text report's "C:"/"S:" lines.
struct Said {
    bool client;
    std::string text;
};

std::vector<Said> transcript_lines(const testsupport::CommandResult& cli, bool jsonFormat) {
    std::vector<Said> lines;
    if (jsonFormat) {
        json report = json::parse(cli.out, nullptr, false);
        if (report.is_object() && report.contains("transcript"))
            for (const auto& line : report.at("transcript")) lines.push_back({line.at("from") == "client", line.at("text")});
        return lines;
    }
    std::istringstream in(cli.out);
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Transcript (", 0) == 0) inside = true;
        if (!inside) continue;
        auto at = line.find(" ms  ");
        if (at == std::string::npos || line.size() < at + 8) continue;
        std::string who = line.substr(at + 5, 2);
        if (who == "C:" || who == "S:") lines.push_back({who == "C:", line.substr(at + 8)});
    }
    return lines;
}

// Whether a transcript shows every step the probe promises, as the server said it: the 220
// greeting, EHLO answered 250, with STARTTLS: STARTTLS answered 220 and EHLO answered 250 again;
// then QUIT. (The verified handshake and the AUTH line are checked from the report.)
bool transcript_shows_probe(const std::vector<Said>& lines, bool startTls) {
    std::size_t i = 0;
    auto final_reply = [&](const char* code) {  // the server's reply, all its lines, ends with "<code> "
        std::string last;
        while (i < lines.size() && !lines[i].client) last = lines[i++].text;
        return last.rfind(std::string(code) + " ", 0) == 0 || last == code;
    };
    auto client = [&](const std::string& command) {
        return i < lines.size() && lines[i].client && lines[i++].text.rfind(command, 0) == 0;
    };
    if (!final_reply("220") || !client("EHLO ") || !final_reply("250")) return false;
    if (startTls && (!client("STARTTLS") || !final_reply("220") || !client("EHLO ") || !final_reply("250"))) return false;
    return client("QUIT");
}

// Seconds from now until an ISO 8601 UTC time ("2026-12-07T10:00:00Z"), from the text alone.
std::optional<long long> seconds_until(const std::string& iso) {
    std::tm t{};
    if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min,
                    &t.tm_sec) != 6)
        return std::nullopt;
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    return static_cast<long long>(timegm(&t)) - static_cast<long long>(std::time(nullptr));
}

// The one check every scenario goes through, whatever it tests:
// - exit 0 only when the server really accepted a message after 354 (its spool has a new
//   message and the transcript shows DATA, 354, the message, 250), or, with --auth-only, only
//   when the server accepted the sign-in (235); with --probe (given in `args`), only when the
//   transcript shows every step the probe promises and the report a verified certificate and
//   AUTH offered (every --expect-auth mechanism);
// - with --probe, whatever the exit code: the server accepted no sign-in and no message, and the
//   client sent no AUTH, MAIL, RCPT or DATA;
// - with --cert-expiry-days N (in `args`), exit 0 only when the certificate's notAfter, as the
//   report prints it, is more than N days away;
// - no secret (password, token, their base64 forms as AUTH carries them) in stdout or stderr;
// - JSON output is always valid JSON, and its exitCode is the process's;
// - text output carries no raw ESC or CR (a server cannot paint the terminal).
void check_invariants(const testsupport::CommandResult& cli, const LoopbackServer* server, std::size_t messagesBefore,
                      std::size_t signInsBefore, bool authOnly, bool jsonFormat, const std::vector<std::string>& args = {}) {
    INFO("stdout: ", cli.out);
    INFO("stderr: ", cli.err);
    check_no_secret(cli.out, "stdout");
    check_no_secret(cli.err, "stderr");
    CHECK(cli.out.find('\x1b') == std::string::npos);
    CHECK(cli.out.find('\r') == std::string::npos);
    CHECK(cli.err.find('\x1b') == std::string::npos);
    json report;
    if (jsonFormat) {
        REQUIRE_FALSE(cli.out.empty());
        REQUIRE_NOTHROW(report = json::parse(cli.out));
        CHECK(report.at("exitCode") == cli.exitCode);
        CHECK((report.at("outcome") == "success") == (cli.exitCode == 0));
    }
    const bool probe = std::find(args.begin(), args.end(), "--probe") != args.end();
    const auto lines = transcript_lines(cli, jsonFormat);
    if (probe) {
        if (server) {
            CHECK_MESSAGE(server->received().size() == messagesBefore, "the probe delivered a message");
            CHECK_MESSAGE(server->sign_ins() == signInsBefore, "the probe signed in");
        }
        for (const auto& line : lines)
            for (const char* command : {"AUTH", "MAIL", "RCPT", "DATA"})
                CHECK_MESSAGE(!(line.client && line.text.rfind(command, 0) == 0), "the probe sent ", line.text);
    }
    if (cli.exitCode != 0) return;
    REQUIRE_MESSAGE(server != nullptr, "exit 0 without a server that could have accepted anything");
    auto days = std::find(args.begin(), args.end(), "--cert-expiry-days");
    if (days != args.end() && days + 1 != args.end()) {
        // The notAfter the report printed, held to N by the test's own clock.
        std::string notAfter;
        if (jsonFormat) {
            REQUIRE(report.contains("tls"));
            notAfter = report.at("tls").at("notAfter");
        } else {
            auto at = cli.out.find(", expires ", cli.out.find("Certificate: "));
            REQUIRE(at != std::string::npos);
            notAfter = cli.out.substr(at + 10, 20);
        }
        auto left = seconds_until(notAfter);
        REQUIRE_MESSAGE(left.has_value(), "exit 0 with --cert-expiry-days, but no readable notAfter");
        CHECK_MESSAGE(*left > std::stoll(*(days + 1)) * 86400, "exit 0, but the certificate expires within the days given");
    }
    if (probe) {
        bool tls = std::find(args.begin(), args.end(), "--plain") == args.end();
        bool startTls = tls && std::find(args.begin(), args.end(), "--tls") == args.end();
        CHECK_FALSE_MESSAGE(lines.empty(), "exit 0 from a probe without a transcript of its steps (needs --transcript)");
        CHECK_MESSAGE(transcript_shows_probe(lines, startTls), "exit 0 without 220, EHLO 250, STARTTLS 220, EHLO 250, QUIT");
        if (jsonFormat) {
            if (tls) {
                CHECK_FALSE(report.at("tls").at("protocol").get<std::string>().empty());
                CHECK(report.at("tls").at("verifyError") == "");
            }
            const auto& offered = report.at("auth").at("mechanismsOffered");
            CHECK_MESSAGE(!offered.empty(), "exit 0 from a probe of a server that offers no AUTH");
            for (auto e = std::find(args.begin(), args.end(), "--expect-auth"); e != args.end() && e + 1 != args.end();
                 e = std::find(e + 1, args.end(), "--expect-auth")) {
                std::istringstream items(*(e + 1));
                for (std::string item; std::getline(items, item, ',');) {
                    for (auto& c : item) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                    CHECK_MESSAGE(std::find(offered.begin(), offered.end(), item) != offered.end(),
                                  "exit 0, but ", item, " is not offered");
                }
            }
        } else {
            CHECK(cli.out.find("TLS certificate verification:") == std::string::npos);
        }
        return;
    }
    if (authOnly) {
        CHECK_MESSAGE(server->sign_ins() > signInsBefore, "exit 0, but the server accepted no sign-in");
    } else {
        CHECK_MESSAGE(server->received().size() > messagesBefore, "exit 0, but the server accepted no message");
        if (jsonFormat && report.contains("transcript"))
            CHECK_MESSAGE(transcript_shows_acceptance(report), "exit 0 without DATA, 354, message, 250 in the transcript");
    }
}

bool has_arg(const std::vector<std::string>& args, const std::string& name) {
    return std::find(args.begin(), args.end(), name) != args.end();
}

// Runs `tenantscan smtp-test` against the loopback server twice, as JSON with the transcript (the
// most text that could leak) and as text with the transcript, and checks both (check_invariants)
// and that both formats end the same way.
Run smtp_test(const LoopbackServer& server, const std::vector<std::string>& extra, Credential credential = Credential::Password,
              const std::string& secret = "") {
    const bool probe = has_arg(extra, "--probe");  // no credentials, no recipients
    std::vector<std::string> args = {"smtp-test", "--host", "127.0.0.1", "--port", server.port_text(),
                                     "--ca-file", smtptest::Certificates::get().path("ca.pem"), "--transcript"};
    if (!probe)
        args.insert(args.end(), {"--user", kUser, credential == Credential::Password ? "--password-env" : "--oauth-token-env",
                                 "SMTP_TEST_SECRET"});
    bool recipients = has_arg(extra, "--to") || has_arg(extra, "--auth-only") || probe;
    if (!recipients) args.insert(args.end(), {"--to", "helpdesk@contoso.com"});
    if (!has_arg(extra, "--timeout")) args.insert(args.end(), {"--timeout", "10"});
    args.insert(args.end(), extra.begin(), extra.end());
    const bool authOnly = has_arg(extra, "--auth-only");
    const std::vector<std::string> env = {
        "SMTP_TEST_SECRET=" + (!secret.empty() ? secret : credential == Credential::Password ? kPassword : kToken),
        "NO_COLOR=1"};

    Run run;
    std::size_t messages = server.received().size(), signIns = server.sign_ins();
    std::vector<std::string> jsonArgs = args;
    jsonArgs.insert(jsonArgs.end(), {"--format", "json"});
    run.cli = testsupport::run_cli(jsonArgs, env);
    check_invariants(run.cli, &server, messages, signIns, authOnly, true, jsonArgs);
    auto all = server.received();
    run.received.assign(all.begin() + static_cast<std::ptrdiff_t>(std::min(messages, all.size())), all.end());
    run.report = json::parse(run.cli.out);

    messages = server.received().size();
    signIns = server.sign_ins();
    run.text = testsupport::run_cli(args, env);
    check_invariants(run.text, &server, messages, signIns, authOnly, false, args);
    CHECK_MESSAGE(run.text.exitCode == run.cli.exitCode, "text and JSON end differently: ", run.text.out);
    return run;
}

// The step of that kind (the nth, for recipients).
const json& step_of(const json& report, const std::string& kind, std::size_t nth = 0) {
    for (const auto& step : report.at("steps"))
        if (step.at("step") == kind && nth-- == 0) return step;
    FAIL("no step " << kind);
    throw std::logic_error("unreachable");
}

std::vector<std::string> explanation_ids(const json& report) {
    std::vector<std::string> ids;
    for (const auto& e : report.at("diagnosis")) ids.push_back(e.at("id"));
    return ids;
}

bool transcript_has(const json& report, const std::string& text) {
    return std::any_of(report.at("transcript").begin(), report.at("transcript").end(),
                       [&](const json& line) { return line.at("text").get<std::string>().find(text) != std::string::npos; });
}

// Whether the client sent a command starting with `command`.
bool client_sent(const json& report, const std::string& command) {
    return std::any_of(report.at("transcript").begin(), report.at("transcript").end(), [&](const json& line) {
        return line.at("from") == "client" && line.at("text").get<std::string>().rfind(command, 0) == 0;
    });
}

// A small tenant: the account is an HVE account, blocked by a legacy-auth policy for everyone,
// under an org-default authentication policy that blocks Basic SMTP.
json tenant_snapshot() {
    return json::parse(R"({
      "snapshotVersion": 1, "tenantId": "c0000000-0000-4000-8000-000000000001",
      "collectedAt": "2026-11-27T06:00:00Z",
      "graph": {
        "securityDefaults": {"isEnabled": false},
        "users": [{"id": "d1000000-0000-4000-8000-00000000000a", "userPrincipalName": "scanner@contoso.com",
                   "displayName": "Scanner", "userType": "Member", "accountEnabled": true}],
        "groups": [],
        "roleAssignments": [],
        "namedLocations": [],
        "conditionalAccessPolicies": [{
          "id": "a9000000-0000-4000-8000-000000000001", "displayName": "Block legacy authentication",
          "state": "enabled",
          "conditions": {"users": {"includeUsers": ["All"]},
                         "applications": {"includeApplications": ["All"]},
                         "clientAppTypes": ["exchangeActiveSync", "other"]},
          "grantControls": {"operator": "OR", "builtInControls": ["block"]}}]
      },
      "exchange": {
        "hveAccounts": [{"Name": "Scanner", "PrimarySmtpAddress": "scanner@contoso.com",
                         "ExternalDirectoryObjectId": "d1000000-0000-4000-8000-00000000000a",
                         "EmailAddresses": ["SMTP:scanner@contoso.com"]}],
        "authenticationPolicies": [{"Name": "Block Basic Auth", "AllowBasicAuthSmtp": false},
                                   {"Name": "Allow Basic Auth SMTP", "AllowBasicAuthSmtp": true}],
        "organizationConfig": {"DefaultAuthenticationPolicy": "Block Basic Auth"},
        "users": [{"UserPrincipalName": "scanner@contoso.com",
                   "ExternalDirectoryObjectId": "d1000000-0000-4000-8000-00000000000a", "AuthenticationPolicy": null}],
        "acceptedDomains": [{"DomainName": "contoso.com", "Default": true}]
      }
    })");
}

// The first explanation of a sign-in the loopback server refuses with `authReply`, diagnosed against
// `tenant` (smtp-test --snapshot); the refusal exits 1.
json refused_sign_in_diagnosis(const json& tenant, const std::string& authReply) {
    testsupport::TempFile snapshot(tenant.dump());
    json config = server_config(kUser);
    config["authReply"] = authReply;
    LoopbackServer server(config, kPassword);
    Run run = smtp_test(server, {"--snapshot", snapshot.path()});
    CHECK(run.cli.exitCode == 1);
    return run.report.at("diagnosis").at(0);
}

}  // namespace

TEST_CASE("smtp-test: a message goes through STARTTLS end to end") {
    LoopbackServer server(server_config(kUser), kPassword);
    Run run = smtp_test(server, {"--to", "helpdesk@contoso.com", "--to", "it@contoso.com"});
    const json& report = run.report;
    CHECK(run.cli.exitCode == 0);
    CHECK(report.at("outcome") == "success");
    CHECK(report.at("exitCode") == 0);

    std::vector<std::string> kinds;
    for (const auto& step : report.at("steps")) {
        kinds.push_back(step.at("step"));
        CHECK_MESSAGE(step.at("status") == "ok", step.dump());
        CHECK_MESSAGE(step.contains("milliseconds"), step.dump());
    }
    CHECK(kinds == std::vector<std::string>{"dns", "connect", "banner", "ehlo", "starttls", "ehloAfterTls", "auth",
                                            "mailFrom", "rcptTo", "rcptTo", "data", "quit"});
    CHECK(step_of(report, "dns").at("detail") == "127.0.0.1");
    CHECK(step_of(report, "ehlo").at("detail") == "STARTTLS offered");
    CHECK(report.at("auth").at("mechanismsOffered") == json::array({"LOGIN", "PLAIN"}));
    CHECK(step_of(report, "rcptTo", 1).at("recipient") == "it@contoso.com");

    const json& tls = report.at("tls");
    CHECK(tls.at("protocol").get<std::string>().rfind("TLSv1.", 0) == 0);
    CHECK(tls.at("protocol") != "TLSv1.1");
    CHECK(tls.at("subject") == "CN=127.0.0.1");
    CHECK(tls.at("issuer") == "CN=tenantscan smtp-test CA");
    CHECK(tls.at("verifyError") == "");
    CHECK_FALSE(tls.at("notAfter").get<std::string>().empty());
    CHECK(step_of(report, "starttls").at("detail").get<std::string>().find(tls.at("cipher").get<std::string>()) != std::string::npos);

    // The server got the message, labelled with the unique id, for both recipients.
    std::string testId = report.at("testId");
    CHECK(report.at("subject") == "tenantscan smtp-test " + testId);
    const auto& messages = run.received;
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].find("Subject: tenantscan smtp-test " + testId) != std::string::npos);
    CHECK(messages[0].find("X-Envelope-To: helpdesk@contoso.com,it@contoso.com") != std::string::npos);
    CHECK(messages[0].find("X-Envelope-From: " + kUser) != std::string::npos);

    // The transcript shows the dialogue with the AUTH payload redacted.
    CHECK(client_sent(report, "STARTTLS"));
    CHECK(client_sent(report, "AUTH "));
    CHECK(transcript_has(report, "<credentials redacted>"));
}

TEST_CASE("smtp-test: the text report lists each step with its timing") {
    LoopbackServer server(server_config(kUser), kPassword);
    auto r = testsupport::run_cli({"smtp-test", "--host", "127.0.0.1", "--port", server.port_text(), "--user", kUser,
                                   "--password-env", "SMTP_TEST_SECRET", "--to", "helpdesk@contoso.com", "--ca-file",
                                   smtptest::Certificates::get().path("ca.pem"), "--transcript"},
                                  {"SMTP_TEST_SECRET=" + kPassword, "NO_COLOR=1"});
    check_invariants(r, &server, 0, 0, false, false);
    CHECK(r.exitCode == 0);
    for (const char* expected : {"TCP connect", "banner", "STARTTLS", "AUTH PLAIN", "RCPT TO <helpdesk@contoso.com>",
                                 "DATA", "QUIT", " ms ", "Result: SUCCESS", "Transcript (credentials redacted)",
                                 "C: <credentials redacted>"})
        CHECK_MESSAGE(r.out.find(expected) != std::string::npos, expected);
    CHECK(r.out.find("\x1b[") == std::string::npos);  // not a terminal: no colour
}

TEST_CASE("smtp-test: --auth-only signs in and sends nothing") {
    LoopbackServer server(server_config(kUser), kPassword);
    Run run = smtp_test(server, {"--auth-only"});
    CHECK(run.cli.exitCode == 0);
    CHECK(step_of(run.report, "auth").at("status") == "ok");
    CHECK(run.report.at("auth").at("authenticated") == true);
    CHECK(step_of(run.report, "quit").at("status") == "ok");
    for (const auto& step : run.report.at("steps")) CHECK((step.at("step") != "mailFrom" && step.at("step") != "noop"));
    CHECK_FALSE(run.report.contains("delivery"));
    CHECK_FALSE(run.report.contains("subject"));
    CHECK(server.received().empty());
}

TEST_CASE("smtp-test: implicit TLS with --tls, and a password from a file") {
    json config = server_config(kUser);
    config["tls"] = "implicit";
    LoopbackServer server(config, kPassword);
    testsupport::TempFile passwordFile(kPassword + "\n", ".txt");
    auto r = testsupport::run_cli({"smtp-test", "--host", "127.0.0.1", "--port", server.port_text(), "--tls", "--user",
                                   kUser, "--password-file", passwordFile.path(), "--to", "helpdesk@contoso.com",
                                   "--ca-file", smtptest::Certificates::get().path("ca.pem"), "--format", "json"});
    check_invariants(r, &server, 0, 0, false, true);
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    json report = json::parse(r.out);
    CHECK(report.at("target").at("security") == "tls");
    CHECK(step_of(report, "tlsHandshake").at("status") == "ok");
    CHECK(step_of(report, "banner").at("status") == "ok");
    CHECK(server.received().size() == 1);
}

TEST_CASE("smtp-test: OAuth signs in with XOAUTH2") {
    json config = server_config(kUser);
    config["mechanisms"] = {"LOGIN", "PLAIN", "XOAUTH2"};
    LoopbackServer server(config, kPassword, kToken);
    Run run = smtp_test(server, {}, Credential::Token);
    CHECK(run.cli.exitCode == 0);
    CHECK(run.report.at("auth").at("mechanismUsed") == "XOAUTH2");
    CHECK(run.report.at("target").at("credential") == "oauthToken");
    CHECK(run.received.size() == 1);
}

TEST_CASE("smtp-test: each refused AUTH reply is explained") {
    struct Case {
        const char* reply;
        Credential credential;
        const char* id;
    };
    const Case cases[] = {
        {"535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. "
         "Contact your administrator.", Credential::Password, "auth-sign-in-blocked"},
        {"535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. "
         "Contact your administrator.", Credential::Password, "auth-security-defaults"},
        {"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
         Credential::Password, "smtp-auth-disabled"},
        {"535 5.7.3 Authentication unsuccessful", Credential::Password, "auth-credentials-or-policy"},
        {"535 5.7.8 Error: authentication failed", Credential::Password, "auth-credentials-or-policy"},
        {"550 5.7.30 Basic authentication is not supported for Client Submission", Credential::Password, "basic-auth-retired"},
        {"535 5.7.3 Authentication unsuccessful", Credential::Token, "oauth-token-rejected"},
        {"454 4.7.0 Temporary authentication failure", Credential::Password, "throttled"},
    };
    for (const auto& c : cases) {
        std::string reply = c.reply;
        CAPTURE(reply);
        json config = server_config(kUser);
        config["authReply"] = c.reply;
        config["mechanisms"] = {"LOGIN", "PLAIN", "XOAUTH2"};
        LoopbackServer server(config, kPassword, kToken);
        Run run = smtp_test(server, {}, c.credential);
        CHECK(run.cli.exitCode == 1);
        CHECK(run.report.at("outcome") == "refused");
        const json& auth = step_of(run.report, "auth");
        CHECK(auth.at("status") == "refused");
        CHECK(auth.at("reply").at("lines") == json::array({c.reply}));  // verbatim
        REQUIRE(run.report.at("diagnosis").size() == 1);
        const json& why = run.report.at("diagnosis")[0];
        CHECK(why.at("id") == c.id);
        CHECK(why.at("reply") == c.reply);
        CHECK(step_of(run.report, "mailFrom").at("status") == "notReached");
        CHECK(server.received().empty());
    }
}

TEST_CASE("smtp-test: with a snapshot, 5.7.139 names the blocking Conditional Access policy") {
    const json why = refused_sign_in_diagnosis(
        tenant_snapshot(), "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
                           "authenticated successfully. Contact your administrator.");
    CHECK(why.at("id") == "auth-sign-in-blocked");
    CHECK(why.at("cause").get<std::string>().find("'Block legacy authentication'") != std::string::npos);
    std::string evidence = why.at("evidence").dump();
    CHECK(evidence.find("a9000000-0000-4000-8000-000000000001") != std::string::npos);
    CHECK(evidence.find("block") != std::string::npos);
}

TEST_CASE("smtp-test: with a snapshot, 5.7.139 names security defaults") {
    json tenant = tenant_snapshot();
    tenant["graph"]["securityDefaults"]["isEnabled"] = true;
    // Entra allows no enabled Conditional Access policy beside security defaults (docs/engine.md).
    tenant["graph"]["conditionalAccessPolicies"][0]["state"] = "disabled";
    const json why = refused_sign_in_diagnosis(
        tenant, "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults "
                "policy. Contact your administrator.");
    CHECK(why.at("id") == "auth-security-defaults");
    CHECK(why.at("cause").get<std::string>().find("Security defaults are enabled in this tenant") != std::string::npos);
}

TEST_CASE("smtp-test: with a snapshot, 5.7.3 names the authentication policy") {
    json config = server_config(kUser);
    config["authReply"] = "535 5.7.3 Authentication unsuccessful";
    LoopbackServer server(config, kPassword);

    SUBCASE("the organization default blocks Basic SMTP") {
        testsupport::TempFile snapshot(tenant_snapshot().dump());
        Run run = smtp_test(server, {"--snapshot", snapshot.path()});
        CHECK(run.cli.exitCode == 1);
        const json& why = run.report.at("diagnosis").at(0);
        CHECK(why.at("id") == "auth-credentials-or-policy");
        CHECK(why.at("cause").get<std::string>().find("'Block Basic Auth', the organization default") != std::string::npos);
        // The snapshot already has a policy that allows Basic SMTP: the fix assigns it.
        CHECK(why.at("fix").get<std::string>().find("'Allow Basic Auth SMTP' does: Set-User " + kUser +
                                                    " -AuthenticationPolicy \"Allow Basic Auth SMTP\"") != std::string::npos);
    }
    SUBCASE("the account's own policy allows it: the password is the suspect") {
        json tenant = tenant_snapshot();
        tenant["exchange"]["users"][0]["AuthenticationPolicy"] = "Allow Basic Auth SMTP";
        testsupport::TempFile snapshot(tenant.dump());
        Run run = smtp_test(server, {"--snapshot", snapshot.path()});
        const json& why = run.report.at("diagnosis").at(0);
        CHECK(why.at("cause").get<std::string>().find("allows Basic SMTP: the credentials are the likely cause") !=
              std::string::npos);
        CHECK(why.at("evidence").dump().find("assigned to the account") != std::string::npos);
    }
}

TEST_CASE("smtp-test: no STARTTLS offered: the credentials are never sent") {
    LoopbackServer server({{"tls", "none"}, {"user", kUser}}, kPassword);
    Run run = smtp_test(server, {});
    CHECK(run.cli.exitCode == 2);
    CHECK(run.report.at("outcome") == "connectionError");
    CHECK(explanation_ids(run.report) == std::vector<std::string>{"starttls-not-offered"});
    CHECK(step_of(run.report, "starttls").at("failure") == "starttlsNotOffered");
    CHECK(step_of(run.report, "auth").at("status") == "notReached");
    CHECK_FALSE(client_sent(run.report, "AUTH"));
}

TEST_CASE("smtp-test: certificate problems are explained, naming the certificate") {
    struct Case {
        const char* certificate;
        const char* id;
        const char* failure;
        const char* inCause;
    };
    const Case cases[] = {
        {"wronghost", "certificate-wrong-host", "certificateWrongHost", "DNS:mail.other.example, not for 127.0.0.1"},
        {"expired", "certificate-expired", "certificateExpired", "expired on 2020-02-01T00:00:00Z"},
        {"untrusted", "certificate-untrusted", "certificateUntrusted", "not issued by a CA this machine trusts"},
    };
    for (const auto& c : cases) {
        std::string certificate = c.certificate;
        CAPTURE(certificate);
        LoopbackServer server(server_config(kUser, c.certificate), kPassword);
        Run run = smtp_test(server, {});
        CHECK(run.cli.exitCode == 2);
        const json& starttls = step_of(run.report, "starttls");
        CHECK(starttls.at("status") == "failed");
        CHECK(starttls.at("failure") == c.failure);
        REQUIRE(run.report.at("diagnosis").size() == 1);
        const json& why = run.report.at("diagnosis")[0];
        CHECK(why.at("id") == c.id);
        CHECK_MESSAGE(why.at("cause").get<std::string>().find(c.inCause) != std::string::npos, why.at("cause"));
        CHECK(step_of(run.report, "auth").at("status") == "notReached");
        CHECK_FALSE(client_sent(run.report, "AUTH"));
    }
}

TEST_CASE("smtp-test: a server that offers only TLS 1.1 or older is refused before the credentials") {
    json config = server_config(kUser);
    config["maxTlsVersion"] = "TLSv1.1";
    LoopbackServer server(config, kPassword);
    Run run = smtp_test(server, {});
    CHECK(run.cli.exitCode == 2);
    const json& starttls = step_of(run.report, "starttls");
    CHECK(starttls.at("status") == "failed");
    CHECK(starttls.at("failure") == "tlsHandshake");
    REQUIRE(run.report.at("diagnosis").size() == 1);
    const json& why = run.report.at("diagnosis")[0];
    CHECK(why.at("id") == "tls-handshake-failed");
    CHECK_MESSAGE(why.at("fix").get<std::string>().find("TLS 1.2 or newer") != std::string::npos, why.at("fix"));
    CHECK(step_of(run.report, "auth").at("status") == "notReached");
    CHECK_FALSE(client_sent(run.report, "AUTH"));
    CHECK_FALSE(transcript_has(run.report, kPassword));
}

TEST_CASE("smtp-test: a slow server runs into the timeout") {
    json config = server_config(kUser);
    config["bannerDelay"] = 30;
    LoopbackServer server(config, kPassword);
    auto started = std::chrono::steady_clock::now();
    Run run = smtp_test(server, {"--timeout", "1"});
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(14));  // two runs (JSON, text)
    CHECK(run.cli.exitCode == 2);
    CHECK(step_of(run.report, "connect").at("status") == "ok");
    CHECK(step_of(run.report, "banner").at("failure") == "timeout");
    CHECK(explanation_ids(run.report) == std::vector<std::string>{"timeout"});
}

TEST_CASE("smtp-test: refused recipients are explained one by one") {
    SUBCASE("an external recipient on an HVE account, the internal one still gets the message") {
        json config = server_config(kUser);
        config["rcptReplies"] = {{"partner@fabrikam.com", "550 5.5.105 External sending is not supported for High Volume Email accounts"}};
        LoopbackServer server(config, kPassword);
        testsupport::TempFile snapshot(tenant_snapshot().dump());
        Run run = smtp_test(server, {"--to", "partner@fabrikam.com", "--to", "helpdesk@contoso.com", "--snapshot", snapshot.path()});
        CHECK(run.cli.exitCode == 1);
        CHECK(step_of(run.report, "rcptTo", 0).at("status") == "refused");
        CHECK(step_of(run.report, "rcptTo", 1).at("status") == "ok");
        CHECK(step_of(run.report, "data").at("status") == "ok");
        REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"hve-external-recipient"});
        std::string evidence = run.report.at("diagnosis")[0].at("evidence").dump();
        CHECK(evidence.find("'partner@fabrikam.com' is outside the tenant's accepted domains (contoso.com)") != std::string::npos);
        CHECK(evidence.find("is an HVE account") != std::string::npos);
        REQUIRE(run.received.size() == 1);
        CHECK(run.received[0].find("X-Envelope-To: helpdesk@contoso.com\r\n") != std::string::npos);
    }
    SUBCASE("no recipient exists: nothing is sent") {
        json config = server_config(kUser);
        config["rcptReplies"] = {{"nobody@contoso.com", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"},
                                 {"gone@contoso.com", "550 5.1.1 User unknown"}};
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {"--to", "nobody@contoso.com", "--to", "gone@contoso.com"});
        CHECK(run.cli.exitCode == 1);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"recipient-not-found", "recipient-not-found"});
        CHECK(step_of(run.report, "data").at("status") == "notReached");
        CHECK(server.received().empty());
    }
}

TEST_CASE("smtp-test: a connection dropped during DATA") {
    json config = server_config(kUser);
    config["dropDuringData"] = true;
    LoopbackServer server(config, kPassword);
    Run run = smtp_test(server, {});
    CHECK(run.cli.exitCode == 2);
    const json& data = step_of(run.report, "data");
    CHECK(data.at("status") == "failed");
    CHECK(data.at("failure") == "connectionLost");
    REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"connection-lost"});
    CHECK(run.report.at("diagnosis")[0].at("cause").get<std::string>().find("The message was not accepted") != std::string::npos);
    CHECK(server.received().empty());
}

TEST_CASE("smtp-test: sender, content and unknown refusals") {
    SUBCASE("Send As denied at MAIL FROM") {
        json config = server_config(kUser);
        config["mailReply"] = "550 5.7.60 SMTP; Client does not have permissions to send as this sender";
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {"--from", "ceo@contoso.com"});
        CHECK(run.cli.exitCode == 1);
        REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"send-as-denied"});
        CHECK(run.report.at("diagnosis")[0].at("fix").get<std::string>().find(
                  "Add-RecipientPermission -Identity ceo@contoso.com -Trustee " + kUser) != std::string::npos);
    }
    SUBCASE("an IP reputation block") {
        json config = server_config(kUser);
        config["mailReply"] = "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.";
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {});
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"ip-blocked"});
    }
    SUBCASE("a reply nobody knows is shown verbatim") {
        json config = server_config(kUser);
        config["dataReply"] = "554 5.9.999 Something nobody has heard of";
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {});
        CHECK(run.cli.exitCode == 1);
        REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"unknown-reply"});
        CHECK(run.report.at("diagnosis")[0].at("reply") == "554 5.9.999 Something nobody has heard of");
        CHECK(step_of(run.report, "data").at("reply").at("enhancedCode") == "5.9.999");
    }
}

TEST_CASE("smtp-test: refusals after sign-in map to their explanations") {
    struct Case {
        const char* setting;  // which command the server refuses
        const char* reply;
        const char* id;
    };
    const Case cases[] = {
        {"mailReply", "530 5.7.0 Must issue a STARTTLS command first", "starttls-required"},
        {"mailReply", "530 5.7.57 Client not authenticated to send mail", "not-authenticated"},
        {"mailReply", "554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied", "send-as-denied"},
        {"mailReply", "451 4.7.500 Server busy. Please try again later.", "throttled"},
        {"mailReply", "550 5.7.705 Access denied, tenant has exceeded threshold", "tenant-blocked"},
        {"dataReply", "552 5.2.3 Message size exceeds fixed maximum message size", "message-too-large"},
        {"dataReply", "554 5.2.2 mailbox full", "mailbox-full-or-quota"},
        {"dataReply", "554 5.2.0 STOREDRV.Submission.Exception:QuotaExceededException", "message-not-submitted"},
        {"dataReply", "452 4.3.1 Insufficient system resources", "temporary-failure"},
    };
    for (const auto& c : cases) {
        std::string reply = c.reply;
        CAPTURE(reply);
        json config = server_config(kUser);
        config[c.setting] = c.reply;
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {});
        CHECK(run.cli.exitCode == 1);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{c.id});
        CHECK(run.report.at("diagnosis")[0].at("reply") == c.reply);
    }
}

TEST_CASE("smtp-test: signing in is impossible") {
    SUBCASE("--plain against a server that offers AUTH only after STARTTLS") {
        json config = server_config(kUser);
        config["requireStartTls"] = true;
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {"--plain"});
        CHECK(run.cli.exitCode == 1);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"auth-needs-tls"});
        CHECK(step_of(run.report, "mailFrom").at("status") == "notReached");  // nothing sent unauthenticated
        CHECK_FALSE(client_sent(run.report, "MAIL FROM"));
    }
    SUBCASE("the server offers no AUTH at all") {
        json config = server_config(kUser);
        config["mechanisms"] = json::array();
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {});
        CHECK(run.cli.exitCode == 1);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"auth-not-offered"});
        CHECK_FALSE(client_sent(run.report, "MAIL FROM"));
    }
    SUBCASE("a password where only XOAUTH2 is offered") {
        json config = server_config(kUser);
        config["mechanisms"] = {"XOAUTH2"};
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {});
        CHECK(run.cli.exitCode == 1);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"auth-mechanism-unavailable"});
    }
}

TEST_CASE("smtp-test: --plain works with a test server and says the credentials were exposed") {
    LoopbackServer server({{"tls", "none"}, {"user", kUser}}, kPassword);
    Run run = smtp_test(server, {"--plain"});
    CHECK(run.cli.exitCode == 0);
    CHECK_FALSE(run.report.contains("tls"));
    REQUIRE(run.report.at("advisories").size() == 1);
    CHECK(run.report.at("advisories")[0].at("id") == "credentials-unencrypted");
}

TEST_CASE("smtp-test: nothing listens on the port") {
    int port = 0;
    {
        LoopbackServer server(server_config(kUser), kPassword);
        port = server.port();
    }  // stopped: the port is closed now
    auto r = testsupport::run_cli({"smtp-test", "--host", "127.0.0.1", "--port", std::to_string(port), "--user", kUser,
                                   "--password-env", "SMTP_TEST_SECRET", "--auth-only", "--format", "json"},
                                  {"SMTP_TEST_SECRET=" + kPassword});
    check_invariants(r, nullptr, 0, 0, true, true);
    CHECK(r.exitCode == 2);
    json report = json::parse(r.out);
    CHECK(step_of(report, "connect").at("failure") == "connect");
    CHECK(explanation_ids(report) == std::vector<std::string>{"connect-failed"});
}

TEST_CASE("smtp-test: usage errors exit 2 before anything is sent") {
    const std::vector<std::string> base = {"smtp-test", "--host", "127.0.0.1", "--port", "1", "--user", kUser};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        return testsupport::run_cli(args, {"SMTP_TEST_SECRET=" + kPassword, "EMPTY_SECRET="});
    };
    struct Case {
        std::vector<std::string> extra;
        const char* message;
    };
    testsupport::TempFile emptyFile("\n", ".txt");
    const Case cases[] = {
        {{"--to", "a@contoso.com"}, "give exactly one of --password-env"},
        {{"--password-env", "SMTP_TEST_SECRET", "--oauth-token-env", "SMTP_TEST_SECRET", "--to", "a@contoso.com"},
         "give exactly one of --password-env"},
        {{"--password-env", "NOT_SET_ANYWHERE", "--to", "a@contoso.com"}, "NOT_SET_ANYWHERE is not set"},
        {{"--password-env", "EMPTY_SECRET", "--to", "a@contoso.com"}, "EMPTY_SECRET is empty"},
        {{"--password-file", emptyFile.path(), "--to", "a@contoso.com"}, "the password file is empty"},
        {{"--password-env", "SMTP_TEST_SECRET"}, "no recipient given"},
        {{"--password-env", "SMTP_TEST_SECRET", "--to", "not-an-address"}, "is not a mail address"},
        {{"--password-env", "SMTP_TEST_SECRET", "--auth-only", "--tls", "--plain"}, "excludes"},
        {{"--password-env", "SMTP_TEST_SECRET", "--auth-only", "--format", "xml"}, "xml"},
        {{"--password-env", "SMTP_TEST_SECRET", "--auth-only", "--timeout", "0"}, "--timeout must be a positive"},
        {{"--password-env", "SMTP_TEST_SECRET", "--auth-only", "--snapshot", "/nonexistent/snapshot.json"},
         "/nonexistent/snapshot.json"},
    };
    for (const auto& c : cases) {
        auto r = with(c.extra);
        CAPTURE(r.err);
        CHECK(r.exitCode == 2);
        CHECK(r.err.find(c.message) != std::string::npos);
        CHECK(r.out.empty());
        check_invariants(r, nullptr, 0, 0, false, false);
    }
}

TEST_CASE("smtp-test: an HVE account pointed at smtp.office365.com is sent to the HVE endpoint") {
    // The advice depends on the host name only; the refusal comes from the loopback server.
    json config = server_config(kUser);
    config["authReply"] = "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
                          "authenticated successfully. Contact your administrator.";
    LoopbackServer server(config, kPassword);
    smtp::Options options;
    options.host = "127.0.0.1";
    options.port = server.port();
    options.user = kUser;
    options.secret = kPassword;
    options.to = {"helpdesk@contoso.com"};
    options.caFile = smtptest::Certificates::get().path("ca.pem");
    smtp::Result result = smtp::run(options);
    REQUIRE(smtp::exit_code(result) == 1);
    CHECK_FALSE(result.messageAccepted);

    tenantscan::Snapshot snapshot = testsupport::snapshot_from(tenant_snapshot());
    tenantscan::Directory directory(snapshot);
    tenantscan::ConditionalAccessEngine engine(snapshot, directory);
    smtp::Tenant tenant{snapshot, directory, engine};
    result.options.host = "smtp.office365.com";
    smtp::Diagnosis diagnosis = smtp::diagnose(result, &tenant);
    REQUIRE(diagnosis.advisories.size() == 1);
    CHECK(diagnosis.advisories[0].id == "hve-wrong-endpoint");
    CHECK(diagnosis.advisories[0].fix.find("smtp.hve.mx.microsoft") != std::string::npos);
    REQUIRE(diagnosis.explanations.size() == 1);
    CHECK(diagnosis.explanations[0].evidence.at(0).find("does not accept HVE accounts") != std::string::npos);

    // Without the snapshot nothing says the account is an HVE account: Basic on Exchange Online is
    // then about the retirement.
    smtp::Diagnosis unknownAccount = smtp::diagnose(result, nullptr);
    REQUIRE(unknownAccount.advisories.size() == 1);
    CHECK(unknownAccount.advisories[0].id == "basic-auth-retirement");

    check_no_secret(smtp::to_json(result, diagnosis, true).dump(), "JSON");
    check_no_secret(smtp::to_text(result, diagnosis, true, false), "text");
}

TEST_CASE("smtp-test: --connect-to reaches 'smtp.office365.com' on loopback: HVE account → wrong endpoint, policy named") {
    // The whole command as an admin runs it: the host name is Exchange Online's (the certificate is
    // checked against it), the connection goes to the loopback server that answers like it.
    json config = server_config(kUser, "office365");
    config["authReply"] = "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
                          "authenticated successfully. Contact your administrator.";
    LoopbackServer server(config, kPassword);
    testsupport::TempFile snapshot(tenant_snapshot().dump(), ".json");
    auto cli = testsupport::run_cli({"smtp-test", "--host", "smtp.office365.com", "--connect-to",
                                     "127.0.0.1:" + server.port_text(), "--user", kUser, "--password-env",
                                     "SMTP_TEST_SECRET", "--to", "helpdesk@contoso.com", "--ca-file",
                                     smtptest::Certificates::get().path("ca.pem"), "--snapshot", snapshot.path(),
                                     "--timeout", "10", "--format", "json"},
                                    {"SMTP_TEST_SECRET=" + kPassword});
    INFO("stderr: ", cli.err);
    INFO("stdout: ", cli.out);
    check_invariants(cli, &server, 0, 0, false, true);
    CHECK(cli.exitCode == 1);
    const json report = json::parse(cli.out);
    CHECK(report.at("target").at("host") == "smtp.office365.com");
    // The port connected to, not the one of the URL (587).
    CHECK(step_of(report, "connect").at("detail") == "127.0.0.1 port " + server.port_text());
    CHECK(report.at("remotePort") == server.port());
    CHECK(report.at("target").at("connectTo") == "127.0.0.1:" + server.port_text());
    CHECK(step_of(report, "starttls").at("status") == "ok");
    CHECK(step_of(report, "auth").at("status") == "refused");
    REQUIRE(report.at("advisories").size() == 1);
    CHECK(report.at("advisories")[0].at("id") == "hve-wrong-endpoint");
    CHECK_MESSAGE(report.at("advisories")[0].at("fix").get<std::string>().find("smtp.hve.mx.microsoft") !=
                      std::string::npos,
                  report.at("advisories")[0]);
    CHECK(explanation_ids(report) == std::vector<std::string>{"auth-sign-in-blocked"});
    CHECK_MESSAGE(report.dump().find("Block legacy authentication") != std::string::npos, report.dump());

    SUBCASE("the text report says where it connected") {
        auto text = testsupport::run_cli({"smtp-test", "--host", "smtp.office365.com", "--connect-to",
                                          "127.0.0.1:" + server.port_text(), "--user", kUser, "--password-env",
                                          "SMTP_TEST_SECRET", "--auth-only", "--ca-file",
                                          smtptest::Certificates::get().path("ca.pem"), "--timeout", "10"},
                                         {"SMTP_TEST_SECRET=" + kPassword});
        check_invariants(text, &server, 0, 0, true, false);
        CHECK(text.exitCode == 1);
        CHECK_MESSAGE(text.out.find("smtp-test smtp.office365.com:587 via 127.0.0.1:" + server.port_text()) !=
                          std::string::npos,
                      text.out);
        CHECK_MESSAGE(text.out.find("127.0.0.1 port " + server.port_text()) != std::string::npos, text.out);
    }
    SUBCASE("a bad --connect-to is a usage error before anything is sent") {
        auto bad = testsupport::run_cli({"smtp-test", "--host", "smtp.office365.com", "--connect-to", "127.0.0.1:99999",
                                         "--user", kUser, "--password-env", "SMTP_TEST_SECRET", "--auth-only"},
                                        {"SMTP_TEST_SECRET=" + kPassword});
        check_invariants(bad, nullptr, 0, 0, true, false);
        CHECK(bad.exitCode == 2);
        CHECK_MESSAGE(bad.err.find("port out of range") != std::string::npos, bad.err);
    }
}

TEST_CASE("smtp-test: docs/smtp-test.md lists every explanation") {
    std::string docs = testsupport::read_file(testsupport::source_dir() + "/docs/smtp-test.md");
    REQUIRE_FALSE(docs.empty());
    for (const auto& known : smtp::known_replies()) CHECK_MESSAGE(docs.find(std::string("`") + known.id + "`") != std::string::npos, known.id);
    for (const char* id : {"unknown-reply", "auth-needs-tls", "credentials-unencrypted", "hve-wrong-endpoint",
                           "hve-legacy-endpoint", "basic-auth-retirement", "hve-recipient-limit", "hve-billing-policy",
                           "closed-after-acceptance", "tls-below-microsoft-requirements"})
        CHECK_MESSAGE(docs.find(std::string("`") + id + "`") != std::string::npos, id);
}

// ---- Issue 13: a scripted server (tests/smtp/scripted_smtp_server.py) says exactly what each
// scenario needs, protocol violations and hostile bytes included. Every run goes through
// check_invariants: exit 0 only after 354 + 250, no secret anywhere, JSON always valid.

namespace {

LoopbackServer scripted(json config, const std::string& password = kPassword, const std::string& token = kToken) {
    return LoopbackServer(std::move(config), password, token, "scripted_smtp_server.py");
}

std::string explanation_text(const json& report, std::size_t i = 0) { return report.at("diagnosis").at(i).dump(); }

// smtp-test against the scripted server, which refuses the sign-in with authReply.
Run scripted_auth_refusal(const std::string& authReply, const std::vector<std::string>& extra = {}) {
    json config = server_config(kUser);
    config["authReply"] = authReply;
    LoopbackServer server = scripted(config);
    return smtp_test(server, extra);
}

}  // namespace

TEST_CASE("smtp-test: the scripted server accepts a message the documented way") {
    LoopbackServer server = scripted(server_config(kUser));
    Run run = smtp_test(server, {});
    CHECK(run.cli.exitCode == 0);
    CHECK(run.report.at("delivery").at("messageAccepted") == true);
    CHECK(run.report.at("delivery").at("acceptedRecipients") == json::array({"helpdesk@contoso.com"}));
    CHECK(run.received.size() == 1);
    CHECK(run.text.out.find("Delivery: the message was accepted for helpdesk@contoso.com") != std::string::npos);
}

TEST_CASE("smtp-test: 250 instead of 354 after DATA is never a success (defect 1)") {
    json config = server_config(kUser);
    config["data"] = "250 2.0.0 OK";
    LoopbackServer server = scripted(config);
    Run run = smtp_test(server, {});
    CHECK(run.cli.exitCode != 0);
    CHECK(run.report.at("outcome") != "success");
    const json& data = step_of(run.report, "data");
    CHECK(data.at("status") == "failed");
    CHECK(data.at("failure") == "unexpectedReply");
    CHECK(run.report.at("delivery").at("messageAccepted") == false);
    CHECK(run.text.out.find("SUCCESS") == std::string::npos);
    CHECK(run.text.out.find("no message was delivered") != std::string::npos);
    CHECK(explanation_ids(run.report) == std::vector<std::string>{"unexpected-reply"});
    CHECK(server.received().empty());

    SUBCASE("nor is an answer other than 250 after the message") {
        json other = server_config(kUser);
        other["dataEnd"] = "252 2.0.0 maybe";
        LoopbackServer odd = scripted(other);
        Run r = smtp_test(odd, {});
        CHECK(r.cli.exitCode != 0);
        CHECK(step_of(r.report, "data").at("failure") == "unexpectedReply");
    }
}

TEST_CASE("smtp-test: bytes that are not UTF-8 give the same result in JSON and text (defect 2)") {
    Run run = scripted_auth_refusal("535 5.7.3 Authentification \u00e9chou\u00e9e");  // sent as latin-1 bytes E9
    CHECK(run.cli.exitCode == 1);
    CHECK(run.text.exitCode == 1);
    const json& auth = step_of(run.report, "auth");
    CHECK(auth.at("reply").at("lines") == json::array({"535 5.7.3 Authentification \\xE9chou\\xE9e"}));
    CHECK(explanation_ids(run.report) == std::vector<std::string>{"auth-credentials-or-policy"});
    CHECK(run.text.out.find("Authentification \\xE9chou\\xE9e") != std::string::npos);
}

TEST_CASE("smtp-test: control characters in replies are escaped everywhere (defect 3)") {
    json config = server_config(kUser);
    // ESC sequences and a bare CR that would repaint the line as "ok AUTH" on a terminal.
    config["authReply"] = "535 5.7.3 denied\u001b[2K\r  ok       AUTH LOGIN  235 2.7.0 Authentication successful\u001b[0m";
    config["banner"] = json::array({"220-scripted.test \u001b]0;owned\u0007", "220 ready \u009b31m"});
    LoopbackServer server = scripted(config);
    Run run = smtp_test(server, {});
    CHECK(run.cli.exitCode == 1);
    for (const auto* out : {&run.cli.out, &run.text.out}) {
        CHECK(out->find('\x1b') == std::string::npos);
        CHECK(out->find('\r') == std::string::npos);
        CHECK(out->find('\x07') == std::string::npos);
    }
    CHECK(run.text.out.find("\\x1B[2K\\x0D") != std::string::npos);
    CHECK(step_of(run.report, "auth").at("reply").at("lines")[0].get<std::string>().find("\\x1B[2K\\x0D") != std::string::npos);
    CHECK(run.text.out.find("\\x9B31m") != std::string::npos);  // a lone C1 byte, not UTF-8
}

TEST_CASE("smtp-test: 5.7.139 is explained by its text, and the snapshot checks the right layer (defect 4)") {
    testsupport::TempFile snapshot(tenant_snapshot().dump());
    SUBCASE("the user credentials were incorrect: a wrong password, not Conditional Access") {
        Run run = scripted_auth_refusal("535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. "
                                        "[AM0PR02CA0001.eurprd02.prod.outlook.com]",
                                        {"--snapshot", snapshot.path()});
        CHECK(run.cli.exitCode == 1);
        REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"auth-credentials-incorrect"});
        const json& why = run.report.at("diagnosis")[0];
        CHECK(why.dump().find("Conditional Access") == std::string::npos);
        CHECK(why.at("cause").get<std::string>().find("password") != std::string::npos);
        CHECK(why.at("evidence").dump().find("is in /graph/users") != std::string::npos);
        CHECK_FALSE(why.at("confirm").get<std::string>().empty());
    }
    SUBCASE("basic authentication is disabled: the authentication policy and the SMTP AUTH switches are checked") {
        Run run = scripted_auth_refusal("535 5.7.139 Authentication unsuccessful, basic authentication is disabled. "
                                        "[AM0PR02CA0001.eurprd02.prod.outlook.com]",
                                        {"--snapshot", snapshot.path()});
        CHECK(run.cli.exitCode == 1);
        REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"basic-auth-disabled"});
        const json& why = run.report.at("diagnosis")[0];
        std::string evidence = why.at("evidence").dump();
        CHECK(evidence.find("AllowBasicAuthSmtp is false") != std::string::npos);
        CHECK(evidence.find("HVE account: the SMTP AUTH switches do not apply") != std::string::npos);
        CHECK(why.at("cause").get<std::string>().find("'Block Basic Auth'") != std::string::npos);
    }
    SUBCASE("SmtpClientAuthentication is disabled for the Mailbox") {
        Run run = scripted_auth_refusal("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
                                        "for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.");
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"smtp-auth-disabled"});
    }
}

TEST_CASE("smtp-test: SASL ends as RFC 4954 and RFC 7628 say (defect 5)") {
    SUBCASE("an XOAUTH2 error challenge is decoded, answered with the dummy response, then the failure") {
        json config = server_config(kUser);
        config["oauthError"] = {{"status", "invalid_token"}, {"scope", "https://outlook.office365.com/.default"}, {"schemes", "bearer"}};
        config["authReply"] = "535 5.7.3 Authentication unsuccessful";
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {}, Credential::Token);
        CHECK(run.cli.exitCode == 1);
        const json& oauth = run.report.at("auth").at("oauthError");
        CHECK(oauth.at("status") == "invalid_token");
        CHECK(oauth.at("scope") == "https://outlook.office365.com/.default");
        CHECK(client_sent(run.report, "AQ=="));
        REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"oauth-token-rejected"});
        CHECK(explanation_text(run.report).find("status invalid_token") != std::string::npos);
        CHECK(run.text.out.find("invalid_token") != std::string::npos);
    }
    SUBCASE("an endless 334 loop is cancelled with '*'") {
        json config = server_config(kUser);
        config["authLoop"] = true;
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {});
        CHECK(run.cli.exitCode != 0);
        CHECK(step_of(run.report, "auth").at("failure") == "saslExchangeCancelled");
        CHECK(client_sent(run.report, "*"));
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"sasl-exchange-cancelled"});
        CHECK_FALSE(client_sent(run.report, "MAIL FROM"));
    }
    SUBCASE("250 to AUTH is not a sign-in, and not 'mechanism unavailable'") {
        json config = server_config(kUser);
        config["authImmediate"] = "250 2.0.0 OK";
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {});
        CHECK(run.cli.exitCode != 0);
        CHECK(step_of(run.report, "auth").at("failure") == "unexpectedReply");
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"unexpected-reply"});
        CHECK_FALSE(client_sent(run.report, "MAIL FROM"));
        CHECK(run.report.at("auth").at("authenticated") == false);
    }
}

TEST_CASE("smtp-test: EHLO keywords are read case-insensitively, AUTH= included (defect 6)") {
    json config = server_config(kUser);
    config["ehlo"] = json::array({"250-scripted.test", "250-starttls", "250 auth=login plain"});
    config["ehloAfterTls"] = json::array({"250-scripted.test", "250-Auth=Login Plain", "250 size 1000000"});
    LoopbackServer server = scripted(config);
    Run run = smtp_test(server, {"--auth-mechanism", "LOGIN"});
    CHECK(run.cli.exitCode == 0);
    CHECK(step_of(run.report, "ehlo").at("detail") == "STARTTLS offered; AUTH offered: LOGIN PLAIN");
    CHECK(step_of(run.report, "starttls").at("status") == "ok");
    CHECK(run.report.at("auth").at("mechanismsOffered") == json::array({"LOGIN", "PLAIN"}));
    CHECK(run.report.at("auth").at("mechanismUsed") == "LOGIN");
}

TEST_CASE("smtp-test: TLS failures belong to the TLS step, and the wrong mode is named (defect 7)") {
    SUBCASE("--tls against a STARTTLS port") {
        LoopbackServer server = scripted(server_config(kUser));
        Run run = smtp_test(server, {"--tls"});
        CHECK(run.cli.exitCode == 2);
        CHECK(step_of(run.report, "connect").at("status") == "ok");
        CHECK(step_of(run.report, "tlsHandshake").at("failure") == "plainServerOnTlsPort");
        REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"use-starttls"});
        CHECK(explanation_text(run.report).find("--starttls") != std::string::npos);
        CHECK(explanation_text(run.report).find("TLS 1.2") == std::string::npos);
    }
    SUBCASE("STARTTLS against an implicit-TLS port") {
        json config = server_config(kUser);
        config["tls"] = "implicit";
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {"--timeout", "2"});
        CHECK(run.cli.exitCode == 2);
        CHECK(step_of(run.report, "banner").at("failure") == "tlsServerOnPlainPort");
        REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"use-tls"});
        CHECK(explanation_text(run.report).find("--tls") != std::string::npos);
    }
    SUBCASE("a certificate problem with --tls is the TLS step's, not TCP connect's") {
        json config = server_config(kUser, "wronghost");
        config["tls"] = "implicit";
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {"--tls"});
        CHECK(run.cli.exitCode == 2);
        CHECK(step_of(run.report, "connect").at("status") == "ok");
        CHECK(step_of(run.report, "tlsHandshake").at("failure") == "certificateWrongHost");
        CHECK(run.text.out.find("FAILED   TCP connect") == std::string::npos);
    }
}

TEST_CASE("smtp-test: what was delivered, and to whom, comes first (defect 8)") {
    SUBCASE("accepted, then the server closes without answering QUIT: exit 0, do not resend") {
        json config = server_config(kUser);
        config["quit"] = nullptr;
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {});
        CHECK(run.cli.exitCode == 0);
        CHECK(run.report.at("outcome") == "success");
        CHECK(run.report.at("diagnosis").empty());
        REQUIRE(run.report.at("advisories").size() == 1);
        CHECK(run.report.at("advisories")[0].at("id") == "closed-after-acceptance");
        CHECK(run.report.at("advisories")[0].at("fix").get<std::string>().find("do not send again") != std::string::npos);
    }
    SUBCASE("partial recipients: who got it is said before anything else") {
        json config = server_config(kUser);
        config["rcpt"] = {{"partner@fabrikam.com", "550 5.7.1 Service unavailable, Client host blocked"}};
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {"--to", "partner@fabrikam.com", "--to", "helpdesk@contoso.com"});
        CHECK(run.cli.exitCode == 1);
        CHECK(run.report.at("outcome") == "partiallyDelivered");
        CHECK(run.report.at("delivery").at("acceptedRecipients") == json::array({"helpdesk@contoso.com"}));
        CHECK(run.report.at("delivery").at("refusedRecipients") == json::array({"partner@fabrikam.com"}));
        auto delivery = run.text.out.find("Delivery: the message was accepted for helpdesk@contoso.com; refused for partner@fabrikam.com");
        CHECK(delivery != std::string::npos);
        CHECK(delivery < run.text.out.find("TCP connect"));
        CHECK(run.text.out.find("PARTLY DELIVERED") != std::string::npos);
    }
}

TEST_CASE("smtp-test: a password that reads like a reply code does not break parsing (defect 9)") {
    const std::string password = "250";
    json config = server_config(kUser);
    LoopbackServer server = scripted(config, password);
    auto cli = testsupport::run_cli({"smtp-test", "--host", "127.0.0.1", "--port", server.port_text(), "--user", kUser,
                                     "--password-env", "P", "--to", "helpdesk@contoso.com", "--ca-file",
                                     smtptest::Certificates::get().path("ca.pem"), "--format", "json", "--transcript",
                                     "--timeout", "10"},
                                    {"P=" + password});
    INFO(cli.out);
    CHECK(cli.exitCode == 0);
    json report = json::parse(cli.out);
    CHECK(transcript_has(report, "250 2.1.0 Sender OK"));
    CHECK(server.received().size() == 1);
    for (const auto& form : {base64(password), base64(std::string(1, '\0') + kUser + '\0' + password)})
        CHECK(cli.out.find(form) == std::string::npos);
}

TEST_CASE("smtp-test: HVE's external-recipient refusals are recognised by their texts (defect 11)") {
    struct Case {
        const char* reply;
        const char* id;
    };
    const Case cases[] = {
        {"550 5.5.105 External sending is not supported for High Volume Email accounts", "hve-external-recipient"},
        {"550 5.7.1 External sending is not supported for High Volume Email accounts", "hve-external-recipient"},
        {"550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked", "unknown-reply"},
    };
    for (const auto& c : cases) {
        std::string reply = c.reply;
        CAPTURE(reply);
        json config = server_config(kUser);
        config["rcpt"] = {{"partner@fabrikam.com", c.reply}};
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {"--to", "partner@fabrikam.com"});
        CHECK(run.cli.exitCode == 1);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{c.id});
    }
}

TEST_CASE("smtp-test: test like the device: TLS version, ciphers, mechanism") {
    SUBCASE("--tls-max-version 1.2 with one of Microsoft's cipher suites meets the requirements") {
        LoopbackServer server = scripted(server_config(kUser, "rsa"));
        Run run = smtp_test(server, {"--tls-max-version", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"});
        CHECK(run.cli.exitCode == 0);
        const json& tls = run.report.at("tls");
        CHECK(tls.at("protocol") == "TLSv1.2");
        CHECK(tls.at("cipherStandardName") == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        CHECK(tls.at("microsoftRequirements").at("versionMet") == true);
        CHECK(tls.at("microsoftRequirements").at("cipherMet") == true);
        CHECK(run.text.out.find("TLS against Microsoft 365's requirements: met") != std::string::npos);
    }
    SUBCASE("a cipher suite Microsoft does not list is reported, even when this server takes it") {
        json config = server_config(kUser, "rsa");
        config["serverCiphers"] = "ALL:@SECLEVEL=0";
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {"--tls-max-version", "1.2", "--ciphers", "AES256-SHA256"});
        CHECK(run.report.at("tls").at("cipherStandardName") == "TLS_RSA_WITH_AES_256_CBC_SHA256");
        CHECK(run.report.at("tls").at("microsoftRequirements").at("cipherMet") == false);
        bool advised = false;
        for (const auto& a : run.report.at("advisories")) advised = advised || a.at("id") == "tls-below-microsoft-requirements";
        CHECK(advised);
    }
    SUBCASE("the device's ciphers that the server does not accept fail the handshake, named") {
        json config = server_config(kUser, "rsa");
        config["tlsMax"] = "1.2";
        config["serverCiphers"] = "ECDHE-RSA-AES128-GCM-SHA256";
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {"--tls-max-version", "1.2", "--ciphers", "ECDHE-RSA-AES256-SHA384"});
        CHECK(run.cli.exitCode == 2);
        CHECK(step_of(run.report, "starttls").at("failure") == "tlsHandshake");
        REQUIRE(explanation_ids(run.report) == std::vector<std::string>{"tls-handshake-failed"});
        CHECK(explanation_text(run.report).find("ECDHE-RSA-AES256-SHA384 (--ciphers)") != std::string::npos);
        CHECK_FALSE(client_sent(run.report, "AUTH"));
    }
    SUBCASE("TLS 1.3 says that a TLS 1.2 device is not shown") {
        LoopbackServer server = scripted(server_config(kUser));
        Run run = smtp_test(server, {});
        CHECK(run.report.at("tls").at("protocol") == "TLSv1.3");
        CHECK(run.report.at("tls").at("microsoftRequirements").at("cipherMet").is_null());
        CHECK(run.report.at("tls").at("microsoftRequirements").at("summary").get<std::string>().find("--tls-max-version 1.2") !=
              std::string::npos);
    }
    SUBCASE("--auth-mechanism LOGIN signs in with LOGIN, as the device does") {
        LoopbackServer server(server_config(kUser), kPassword);  // aiosmtpd offers LOGIN and PLAIN
        Run run = smtp_test(server, {"--auth-mechanism", "LOGIN"});
        CHECK(run.cli.exitCode == 0);
        CHECK(run.report.at("auth").at("mechanismUsed") == "LOGIN");
        CHECK(client_sent(run.report, "AUTH LOGIN"));
    }
    SUBCASE("a mechanism the server does not offer is named") {
        json config = server_config(kUser);
        config["mechanisms"] = {"PLAIN"};
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {"--auth-mechanism", "login"});
        CHECK(run.cli.exitCode == 1);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"auth-mechanism-unavailable"});
        CHECK(step_of(run.report, "auth").at("error").get<std::string>().find("LOGIN") != std::string::npos);
    }
    SUBCASE("usage errors: a mechanism that does not fit the credential, ciphers OpenSSL does not know") {
        for (std::vector<std::string> extra : {std::vector<std::string>{"--auth-mechanism", "XOAUTH2"},
                                               std::vector<std::string>{"--ciphers", "NO-SUCH-CIPHER"},
                                               std::vector<std::string>{"--tls-max-version", "1.1"}}) {
            std::vector<std::string> args = {"smtp-test", "--host", "127.0.0.1", "--port", "1", "--user", kUser,
                                             "--password-env", "SMTP_TEST_SECRET", "--auth-only"};
            args.insert(args.end(), extra.begin(), extra.end());
            auto r = testsupport::run_cli(args, {"SMTP_TEST_SECRET=" + kPassword});
            CAPTURE(r.err);
            check_invariants(r, nullptr, 0, 0, true, false);
            CHECK(r.exitCode == 2);
            CHECK(r.out.empty());
        }
    }
}

TEST_CASE("smtp-test: a server that refuses at the greeting and hangs up") {
    json config = server_config(kUser);
    config["banner"] = json::array({"421 4.3.2 Service not available, closing transmission channel"});
    config["quit"] = nullptr;
    LoopbackServer server = scripted(config);
    Run run = smtp_test(server, {});
    CHECK(run.cli.exitCode == 1);
    CHECK(step_of(run.report, "banner").at("status") == "refused");
    CHECK(explanation_ids(run.report) == std::vector<std::string>{"temporary-failure"});  // QUIT adds nothing
    CHECK_FALSE(client_sent(run.report, "AUTH"));
}

TEST_CASE("smtp-test: text that is not SMTP is not parsed as a reply") {
    json config = server_config(kUser);
    config["banner"] = json::array({"HTTP/1.1 400 Bad Request"});
    LoopbackServer server = scripted(config);
    Run run = smtp_test(server, {});
    CHECK(run.cli.exitCode == 2);
    CHECK(step_of(run.report, "banner").at("failure") == "malformedReply");
    CHECK(explanation_ids(run.report) == std::vector<std::string>{"malformed-reply"});
}

TEST_CASE("smtp-test: a name that does not resolve fails the DNS step within --timeout") {
    auto started = std::chrono::steady_clock::now();
    auto r = testsupport::run_cli({"smtp-test", "--host", "no-such-host.invalid", "--user", kUser, "--password-env",
                                   "SMTP_TEST_SECRET", "--auth-only", "--timeout", "3", "--format", "json"},
                                  {"SMTP_TEST_SECRET=" + kPassword});
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(8));
    check_invariants(r, nullptr, 0, 0, true, true);
    CHECK(r.exitCode == 2);
    json report = json::parse(r.out);
    const json& dns = step_of(report, "dns");
    CHECK(dns.at("status") == "failed");
    CHECK((dns.at("failure") == "resolve" || dns.at("failure") == "timeout"));
    CHECK(step_of(report, "connect").at("status") == "notReached");
}

// ---- Issue 16 §4: a canary for CI. --probe needs no credentials and sends nothing; every run
// goes through check_invariants, which for --probe requires an empty spool, no AUTH/MAIL/RCPT/DATA
// from the client, and exit 0 only with the probe's steps in the transcript; for
// --cert-expiry-days N, exit 0 only with a notAfter more than N days away by the test's clock.

namespace {

std::vector<std::string> step_kinds(const json& report) {
    std::vector<std::string> kinds;
    for (const auto& step : report.at("steps")) kinds.push_back(step.at("step"));
    return kinds;
}

}  // namespace

TEST_CASE("smtp-test --probe: banner, EHLO, STARTTLS, certificate and AUTH offered, without credentials") {
    LoopbackServer server(server_config(kUser), kPassword);
    Run run = smtp_test(server, {"--probe"});
    const json& report = run.report;
    CHECK(run.cli.exitCode == 0);
    CHECK(step_kinds(report) ==
          std::vector<std::string>{"dns", "connect", "banner", "ehlo", "starttls", "ehloAfterTls", "authOffered", "quit"});
    for (const auto& step : report.at("steps")) CHECK_MESSAGE(step.at("status") == "ok", step.dump());
    CHECK(report.at("target").at("probe") == true);
    CHECK(report.at("target").at("user") == "");
    CHECK(report.at("auth").at("mechanismsOffered") == json::array({"LOGIN", "PLAIN"}));
    CHECK(step_of(report, "authOffered").at("detail") == "AUTH offered: LOGIN PLAIN");
    CHECK_FALSE(report.contains("delivery"));
    CHECK_FALSE(report.contains("subject"));
    // The certificate's end and days left, in both formats, in every run that saw one.
    const json& tls = report.at("tls");
    CHECK(tls.at("verifyError") == "");
    // make_certificates.sh ends it 29.5 days after it was made, moments ago.
    CHECK(tls.at("daysLeft").get<long long>() == 29);
    CHECK(run.text.out.find("Certificate: CN=127.0.0.1, expires " + tls.at("notAfter").get<std::string>() + " (" +
                            std::to_string(tls.at("daysLeft").get<long long>()) + " days left)") != std::string::npos);
    CHECK(run.text.out.find("Result: SUCCESS: the probe") != std::string::npos);
    CHECK(run.text.out.substr(0, run.text.out.find('\n')).find(" as ") == std::string::npos);  // signs in as nobody
    CHECK(server.received().empty());
    CHECK(server.sign_ins() == 0);
}

TEST_CASE("smtp-test --probe: implicit TLS with --tls, and no TLS with --plain") {
    SUBCASE("--tls") {
        json config = server_config(kUser);
        config["tls"] = "implicit";
        LoopbackServer server(config, kPassword);
        Run run = smtp_test(server, {"--probe", "--tls"});
        CHECK(run.cli.exitCode == 0);
        CHECK(step_kinds(run.report) ==
              std::vector<std::string>{"dns", "connect", "tlsHandshake", "banner", "ehlo", "authOffered", "quit"});
        CHECK(run.report.at("tls").at("daysLeft").is_number());
    }
    SUBCASE("--plain: no certificate to show, AUTH offered in the clear") {
        LoopbackServer server({{"tls", "none"}, {"user", kUser}}, kPassword);
        Run run = smtp_test(server, {"--probe", "--plain"});
        CHECK(run.cli.exitCode == 0);
        CHECK_FALSE(run.report.contains("tls"));
        CHECK(run.text.out.find("Certificate:") == std::string::npos);
    }
}

TEST_CASE("smtp-test --probe: a refused or missing step is never a pass") {
    SUBCASE("STARTTLS refused: exit 1, nothing after it") {
        json config = server_config(kUser);
        config["starttls"] = "454 4.7.0 TLS not available due to temporary reason";
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {"--probe"});
        CHECK(run.cli.exitCode == 1);
        CHECK(step_of(run.report, "starttls").at("status") == "refused");
        CHECK(step_of(run.report, "ehloAfterTls").at("status") == "notReached");
        CHECK(step_of(run.report, "authOffered").at("status") == "notReached");
        CHECK(run.text.out.find("probe: nothing was sent") != std::string::npos);
    }
    SUBCASE("STARTTLS not offered: exit 2, as without --probe") {
        LoopbackServer server({{"tls", "none"}, {"user", kUser}}, kPassword);
        Run run = smtp_test(server, {"--probe"});
        CHECK(run.cli.exitCode == 2);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"starttls-not-offered"});
    }
    SUBCASE("the wrong mode: --tls on a port that speaks plain SMTP first") {
        LoopbackServer server = scripted(server_config(kUser));
        Run run = smtp_test(server, {"--probe", "--tls"});
        CHECK(run.cli.exitCode == 2);
        CHECK(step_of(run.report, "tlsHandshake").at("failure") == "plainServerOnTlsPort");
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"use-starttls"});
    }
    SUBCASE("no AUTH after STARTTLS: exit 1") {
        json config = server_config(kUser);
        config["ehloAfterTls"] = json::array({"250-scripted.test", "250 8BITMIME"});
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {"--probe"});
        CHECK(run.cli.exitCode == 1);
        CHECK(step_of(run.report, "authOffered").at("failure") == "authNotOffered");
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"auth-not-offered"});
    }
    SUBCASE("an untrusted certificate: exit 2") {
        LoopbackServer server(server_config(kUser, "untrusted"), kPassword);
        Run run = smtp_test(server, {"--probe"});
        CHECK(run.cli.exitCode == 2);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"certificate-untrusted"});
    }
}

TEST_CASE("smtp-test --probe --expect-auth: every mechanism named must be offered") {
    SUBCASE("offered: exit 0") {
        LoopbackServer server = scripted(server_config(kUser));  // AUTH LOGIN PLAIN XOAUTH2 after STARTTLS
        Run run = smtp_test(server, {"--probe", "--expect-auth", "LOGIN,xoauth2"});
        CHECK(run.cli.exitCode == 0);
        CHECK(run.report.at("target").at("expectAuth") == json::array({"LOGIN", "XOAUTH2"}));
        CHECK(step_of(run.report, "authOffered").at("detail") ==
              "AUTH offered: LOGIN PLAIN XOAUTH2 (expected: LOGIN XOAUTH2)");
    }
    SUBCASE("Basic gone, only XOAUTH2 left: a device that needs LOGIN fails the check, exit 1") {
        json config = server_config(kUser);
        config["ehloAfterTls"] = json::array({"250-scripted.test", "250 AUTH XOAUTH2"});
        LoopbackServer server = scripted(config);
        Run run = smtp_test(server, {"--probe", "--expect-auth", "XOAUTH2", "--expect-auth", "LOGIN"});
        CHECK(run.cli.exitCode == 1);
        const json& step = step_of(run.report, "authOffered");
        CHECK(step.at("failure") == "expectedAuthNotOffered");
        CHECK(step.at("error").get<std::string>().find("not LOGIN") != std::string::npos);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"expected-auth-not-offered"});
        CHECK(step_of(run.report, "quit").at("status") == "ok");
    }
}

TEST_CASE("smtp-test --cert-expiry-days: a certificate that expires within N days fails, exit 1") {
    SUBCASE("expires in 5 days: N 5 fails, N 4 passes (probe)") {
        LoopbackServer server(server_config(kUser, "soon"), kPassword);
        Run soon = smtp_test(server, {"--probe", "--cert-expiry-days", "5"});
        CHECK(soon.cli.exitCode == 1);
        const json& check = step_of(soon.report, "certificateExpiry");
        CHECK(check.at("failure") == "certificateExpiresSoon");
        // Made at test time to end 4.5 days later: 4 whole days left, not more than 5.
        CHECK(soon.report.at("tls").at("daysLeft") == 4);
        CHECK(explanation_ids(soon.report) == std::vector<std::string>{"certificate-expires-soon"});
        CHECK(step_of(soon.report, "authOffered").at("status") == "notReached");
        CHECK(soon.report.at("target").at("certExpiryDays") == 5);
        CHECK(soon.text.out.find("(4 days left); --cert-expiry-days 5") != std::string::npos);

        Run later = smtp_test(server, {"--probe", "--cert-expiry-days", "4"});
        CHECK(later.cli.exitCode == 0);
        CHECK(step_of(later.report, "certificateExpiry").at("status") == "ok");
        CHECK(step_of(later.report, "certificateExpiry").at("detail").get<std::string>().find("days left (more than 4)") !=
              std::string::npos);
    }
    SUBCASE("a 30-day certificate: N 10 sends the message, N 30 stops before the credentials") {
        LoopbackServer server(server_config(kUser), kPassword);
        Run pass = smtp_test(server, {"--cert-expiry-days", "10"});
        CHECK(pass.cli.exitCode == 0);
        CHECK(pass.received.size() == 1);
        std::size_t signIns = server.sign_ins();
        Run fail = smtp_test(server, {"--cert-expiry-days", "30"});
        CHECK(fail.cli.exitCode == 1);
        CHECK(fail.received.empty());
        CHECK(server.sign_ins() == signIns);
        CHECK_FALSE(client_sent(fail.report, "AUTH"));
        CHECK(step_of(fail.report, "auth").at("status") == "notReached");
        CHECK(explanation_ids(fail.report) == std::vector<std::string>{"certificate-expires-soon"});
    }
    SUBCASE("an expired certificate stays a verification failure (exit 2), with its end shown") {
        LoopbackServer server(server_config(kUser, "expired"), kPassword);
        Run run = smtp_test(server, {"--probe", "--cert-expiry-days", "30"});
        CHECK(run.cli.exitCode == 2);
        CHECK(explanation_ids(run.report) == std::vector<std::string>{"certificate-expired"});
        CHECK(run.report.at("tls").at("notAfter") == "2020-02-01T00:00:00Z");
        CHECK(run.report.at("tls").at("daysLeft").get<long long>() < 0);
        CHECK(step_of(run.report, "certificateExpiry").at("status") == "notReached");
        CHECK(run.text.out.find("Certificate: CN=127.0.0.1, expires 2020-02-01T00:00:00Z (-") != std::string::npos);
    }
}

TEST_CASE("smtp-test --probe and --cert-expiry-days: usage errors exit 2 before anything is sent") {
    struct Case {
        std::vector<std::string> args;
        const char* message;
    };
    const Case cases[] = {
        {{"--probe", "--password-env", "SMTP_TEST_SECRET"}, "--probe sends no credentials"},
        {{"--probe", "--user", kUser}, "drop --user"},
        {{"--probe", "--to", "a@contoso.com"}, "the probe sends no message"},
        {{"--probe", "--auth-only"}, "excludes"},
        {{"--user", kUser, "--password-env", "SMTP_TEST_SECRET", "--auth-only", "--expect-auth", "LOGIN"},
         "--expect-auth needs --probe"},
        {{"--probe", "--expect-auth", "LOGIN,,PLAIN"}, "empty mechanism"},
        {{"--probe", "--expect-auth", "LO GIN"}, "is not a SASL mechanism name"},
        {{"--probe", "--plain", "--cert-expiry-days", "5"}, "drop --plain"},
        {{"--probe", "--cert-expiry-days", "-1"}, "--cert-expiry-days"},
        {{"--user", kUser, "--auth-only"}, "give exactly one of --password-env"},
        {{"--auth-only", "--password-env", "SMTP_TEST_SECRET"}, "--user is required"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = {"smtp-test", "--host", "127.0.0.1", "--port", "1"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        auto r = testsupport::run_cli(args, {"SMTP_TEST_SECRET=" + kPassword});
        CAPTURE(r.err);
        CHECK(r.exitCode == 2);
        CHECK(r.err.find(c.message) != std::string::npos);
        CHECK(r.out.empty());
        check_invariants(r, nullptr, 0, 0, false, false, args);
    }
}
