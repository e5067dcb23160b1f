// `tenantscan smtp-test` against a real SMTP server on 127.0.0.1 (aiosmtpd, started per test),
// configured to reproduce each failure. Every CLI run also checks that neither the password nor
// the token, nor their base64 forms as SMTP AUTH carries them, reach stdout, stderr or the JSON.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
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

std::string base64(const std::string& data) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8) |
                     static_cast<unsigned char>(data[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += alphabet[(v >> shift) & 63];
    }
    if (i < data.size()) {
        unsigned v = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += i + 1 < data.size() ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

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
    testsupport::CommandResult cli;
    json report;  // stdout parsed (JSON runs)
};

enum class Credential { Password, Token };

// Runs `tenantscan smtp-test` against the loopback server (JSON, with the transcript: the most
// text that could leak), and checks that nothing leaks.
Run smtp_test(const LoopbackServer& server, const std::vector<std::string>& extra, Credential credential = Credential::Password) {
    std::vector<std::string> args = {"smtp-test", "--host", "127.0.0.1", "--port", server.port_text(), "--user", kUser,
                                     "--ca-file", smtptest::Certificates::get().path("ca.pem"), "--format", "json",
                                     "--transcript",
                                     credential == Credential::Password ? "--password-env" : "--oauth-token-env",
                                     "SMTP_TEST_SECRET"};
    bool recipients = std::any_of(extra.begin(), extra.end(), [](const std::string& a) { return a == "--to" || a == "--auth-only"; });
    if (!recipients) args.insert(args.end(), {"--to", "helpdesk@contoso.com"});
    if (std::find(extra.begin(), extra.end(), "--timeout") == extra.end()) args.insert(args.end(), {"--timeout", "10"});
    args.insert(args.end(), extra.begin(), extra.end());
    Run run;
    run.cli = testsupport::run_cli(args, {"SMTP_TEST_SECRET=" + (credential == Credential::Password ? kPassword : kToken)});
    check_no_secret(run.cli.out, "stdout");
    check_no_secret(run.cli.err, "stderr");
    INFO("stderr: ", run.cli.err);
    INFO("stdout: ", run.cli.out);
    REQUIRE_FALSE(run.cli.out.empty());
    run.report = json::parse(run.cli.out);
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
    auto messages = server.received();
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
    check_no_secret(r.out, "stdout");
    check_no_secret(r.err, "stderr");
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
    CHECK(step_of(run.report, "noop").at("status") == "ok");
    CHECK(step_of(run.report, "quit").at("status") == "ok");
    for (const auto& step : run.report.at("steps")) CHECK(step.at("step") != "mailFrom");
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
    check_no_secret(r.out, "stdout");
    check_no_secret(r.err, "stderr");
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
    CHECK(server.received().size() == 1);
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
    testsupport::TempFile snapshot(tenant_snapshot().dump());
    json config = server_config(kUser);
    config["authReply"] = "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
                          "authenticated successfully. Contact your administrator.";
    LoopbackServer server(config, kPassword);
    Run run = smtp_test(server, {"--snapshot", snapshot.path()});
    CHECK(run.cli.exitCode == 1);
    const json& why = run.report.at("diagnosis").at(0);
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
    testsupport::TempFile snapshot(tenant.dump());
    json config = server_config(kUser);
    config["authReply"] = "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security "
                          "defaults policy. Contact your administrator.";
    LoopbackServer server(config, kPassword);
    Run run = smtp_test(server, {"--snapshot", snapshot.path()});
    CHECK(run.cli.exitCode == 1);
    const json& why = run.report.at("diagnosis").at(0);
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
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(8));
    CHECK(run.cli.exitCode == 2);
    CHECK(step_of(run.report, "connect").at("status") == "ok");
    CHECK(step_of(run.report, "banner").at("failure") == "timeout");
    CHECK(explanation_ids(run.report) == std::vector<std::string>{"timeout"});
}

TEST_CASE("smtp-test: refused recipients are explained one by one") {
    SUBCASE("an external recipient on an HVE account; the internal one still gets the message") {
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
        auto messages = server.received();
        REQUIRE(messages.size() == 1);
        CHECK(messages[0].find("X-Envelope-To: helpdesk@contoso.com\r\n") != std::string::npos);
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
        check_no_secret(r.err, "stderr");
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

    tenantscan::Snapshot snapshot = testsupport::snapshot_from(tenant_snapshot());
    tenantscan::Directory directory(snapshot);
    tenantscan::Engine engine(snapshot, directory);
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
    check_no_secret(cli.out, "stdout");
    check_no_secret(cli.err, "stderr");
    CHECK(cli.exitCode == 1);
    const json report = json::parse(cli.out);
    CHECK(report.at("target").at("host") == "smtp.office365.com");
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
        CHECK(text.exitCode == 1);
        CHECK_MESSAGE(text.out.find("smtp-test smtp.office365.com:587 via 127.0.0.1:" + server.port_text()) !=
                          std::string::npos,
                      text.out);
    }
    SUBCASE("a bad --connect-to is a usage error before anything is sent") {
        auto bad = testsupport::run_cli({"smtp-test", "--host", "smtp.office365.com", "--connect-to", "127.0.0.1:99999",
                                         "--user", kUser, "--password-env", "SMTP_TEST_SECRET", "--auth-only"},
                                        {"SMTP_TEST_SECRET=" + kPassword});
        CHECK(bad.exitCode == 2);
        CHECK_MESSAGE(bad.err.find("port out of range") != std::string::npos, bad.err);
    }
}

TEST_CASE("smtp-test: docs/smtp-test.md lists every explanation") {
    std::string docs = testsupport::read_file(testsupport::source_dir() + "/docs/smtp-test.md");
    REQUIRE_FALSE(docs.empty());
    for (const auto& known : smtp::known_replies()) CHECK_MESSAGE(docs.find(std::string("`") + known.id + "`") != std::string::npos, known.id);
    for (const char* id : {"unknown-reply", "auth-needs-tls", "credentials-unencrypted", "hve-wrong-endpoint",
                           "hve-legacy-endpoint", "basic-auth-retirement", "hve-recipient-limit", "hve-billing-policy"})
        CHECK_MESSAGE(docs.find(std::string("`") + id + "`") != std::string::npos, id);
}
