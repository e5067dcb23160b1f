#include "smtp_test_command.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <tenantscan/json_input.hpp>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/smtp_test.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/detail/text.hpp>

#include "output.hpp"

namespace tenantscan::cli {

namespace {

struct SmtpTestArguments {
    smtp::Options options;
    bool startTls = false, implicitTls = false, plain = false;
    std::string passwordEnv, passwordFile, oauthTokenEnv;
    double timeoutSeconds = 30;
    std::string snapshot;
    std::string format = "text";
    bool transcript = false;
    std::string tlsMaxVersion, authMechanism;
    std::vector<std::string> expectAuth;  // as given: "LOGIN,XOAUTH2", repeatable
    int certExpiryDays = -1;              // -1: not given
};

std::string secret_from_environment(const std::string& variable) {
    const char* value = std::getenv(variable.c_str());
    if (!value) throw std::invalid_argument("environment variable " + variable + " is not set");
    if (!*value) throw std::invalid_argument("environment variable " + variable + " is empty");
    return value;
}

std::string secret_from_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument(path + ": cannot read the password file");
    std::ostringstream contents;
    contents << in.rdbuf();
    std::string secret = contents.str();
    // Editors and `echo` end the file with a line break that is not part of the password.
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) throw std::invalid_argument(path + ": the password file is empty");
    return secret;
}

void read_credential(SmtpTestArguments& args) {
    int given = !args.passwordEnv.empty() + !args.passwordFile.empty() + !args.oauthTokenEnv.empty();
    if (given != 1)
        throw std::invalid_argument("give exactly one of --password-env VAR, --password-file FILE, --oauth-token-env VAR");
    smtp::Options& o = args.options;
    if (!args.oauthTokenEnv.empty()) {
        o.credentialKind = smtp::CredentialKind::OAuthToken;
        o.secret = secret_from_environment(args.oauthTokenEnv);
    } else {
        o.credentialKind = smtp::CredentialKind::Password;
        o.secret = args.passwordFile.empty() ? secret_from_environment(args.passwordEnv) : secret_from_file(args.passwordFile);
    }
}

int run_smtp_test(SmtpTestArguments& args) {
    smtp::Options& o = args.options;
    if (args.implicitTls) o.security = smtp::Security::ImplicitTls;
    if (args.plain) o.security = smtp::Security::Plain;
    if (!(args.timeoutSeconds > 0 && args.timeoutSeconds <= 86400))
        throw std::invalid_argument("--timeout must be a positive number of seconds, at most 86400");
    o.timeout = std::chrono::milliseconds(static_cast<long long>(args.timeoutSeconds * 1000));
    if (args.tlsMaxVersion == "1.2") o.tlsMaxVersion = smtp::TlsMaxVersion::Tls12;
    if (args.tlsMaxVersion == "1.3") o.tlsMaxVersion = smtp::TlsMaxVersion::Tls13;
    const std::string mechanism = tenantscan::to_upper(args.authMechanism);
    if (mechanism == "LOGIN") o.authMechanism = smtp::AuthMechanism::Login;
    if (mechanism == "PLAIN") o.authMechanism = smtp::AuthMechanism::Plain;
    if (mechanism == "XOAUTH2") o.authMechanism = smtp::AuthMechanism::XOAuth2;
    for (const auto& list : args.expectAuth) {
        std::stringstream items(list);
        for (std::string item; std::getline(items, item, ',');) {
            item = tenantscan::to_upper(item);
            if (item.empty()) throw std::invalid_argument("--expect-auth: an empty mechanism name in '" + list + "'");
            if (std::find(o.expectAuth.begin(), o.expectAuth.end(), item) == o.expectAuth.end()) o.expectAuth.push_back(item);
        }
    }
    if (args.certExpiryDays >= 0) o.certExpiryDays = args.certExpiryDays;
    if (o.probe) {
        // The probe never signs in: a credential given with it is a mistake, not something to ignore.
        if (!args.passwordEnv.empty() || !args.passwordFile.empty() || !args.oauthTokenEnv.empty())
            throw std::invalid_argument("--probe sends no credentials: drop --password-env, --password-file and --oauth-token-env");
        if (!o.user.empty()) throw std::invalid_argument("--probe signs in as nobody: drop --user");
        if (!args.snapshot.empty()) throw std::invalid_argument("--probe tests no account: drop --snapshot");
    } else {
        if (o.user.empty()) throw std::invalid_argument("--user is required (or --probe, which needs no credentials)");
        if (!o.expectAuth.empty()) throw std::invalid_argument("--expect-auth needs --probe");
        read_credential(args);
    }
    smtp::validate(o);

    // The snapshot is read before anything is sent, so a broken one costs no test message.
    std::unique_ptr<Snapshot> snapshot;
    std::unique_ptr<Directory> directory;
    std::unique_ptr<ConditionalAccessEngine> engine;
    if (!args.snapshot.empty()) {
        snapshot = std::make_unique<Snapshot>(load_snapshot(args.snapshot));
        directory = std::make_unique<Directory>(*snapshot);
        engine = std::make_unique<ConditionalAccessEngine>(*snapshot, *directory);
    }

    smtp::Result result = smtp::run(o);

    std::optional<smtp::Tenant> tenant;
    if (snapshot) tenant.emplace(smtp::Tenant{*snapshot, *directory, *engine});
    smtp::Diagnosis diagnosis = smtp::diagnose(result, tenant ? &*tenant : nullptr);
    if (args.format == "json")
        // Every string is already printable(); the replace handler is the last line of defence:
        // no byte the server sent can make the JSON invalid or empty.
        write_output(smtp::to_json(result, diagnosis, args.transcript).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "");
    else
        write_output(smtp::to_text(result, diagnosis, args.transcript, use_colour(false)), "");
    return smtp::exit_code(result);
}

}  // namespace

void add_smtp_test_command(CLI::App& app, int& exitCode) {
    auto args = std::make_shared<SmtpTestArguments>();
    auto* cmd = app.add_subcommand(
        "smtp-test",
        "Prove that an account can submit mail: sign in and send a labelled test message through an SMTP server, "
        "step by step with timings, and explain any refusal");
    cmd->footer("Exit codes: 0 the server accepted the test message after 354 (with --auth-only: the account signed "
                "in, 235; with --probe: greeting 220, EHLO 250, STARTTLS 220 and a verified certificate, AUTH offered), "
                "1 the server refused something, accepted the message for only some recipients, or a check failed "
                "(--cert-expiry-days, --expect-auth, no AUTH offered), 2 usage "
                "error, or a connection or protocol error (DNS, TCP, timeout, TLS, connection lost, a reply SMTP does "
                "not allow).\n"
                "Example (HVE): tenantscan smtp-test --host smtp.hve.mx.microsoft --user scanner@contoso.com "
                "--password-env HVE_PASSWORD --to helpdesk@contoso.com\n"
                "Example (CI canary): tenantscan smtp-test --host smtp.office365.com --probe --cert-expiry-days 21 "
                "--expect-auth XOAUTH2 --format json");
    smtp::Options& o = args->options;
    cmd->add_option("--host", o.host, "SMTP server (HVE: smtp.hve.mx.microsoft)")->required();
    cmd->add_option("--port", o.port, "Port (default 587; 465 with --tls)")->check(CLI::Range(1, 65535));
    auto* startTls = cmd->add_flag("--starttls", args->startTls, "Require STARTTLS before signing in (the default)");
    auto* implicitTls = cmd->add_flag("--tls", args->implicitTls, "TLS from the first byte (smtps, usually port 465)");
    auto* plain = cmd->add_flag("--plain", args->plain,
                                "No TLS at all: credentials travel unencrypted. For test servers only");
    startTls->excludes(implicitTls)->excludes(plain);
    implicitTls->excludes(plain);
    cmd->add_option("--user", o.user, "Account that signs in (its UPN or HVE address); required unless --probe");
    cmd->add_option("--password-env", args->passwordEnv, "Read the password from this environment variable")
        ->type_name("VAR");
    cmd->add_option("--password-file", args->passwordFile, "Read the password from this file (one trailing line break is ignored)")
        ->type_name("FILE");
    cmd->add_option("--oauth-token-env", args->oauthTokenEnv,
                    "Sign in with OAuth (XOAUTH2): read the access token from this environment variable")
        ->type_name("VAR");
    cmd->add_option("--from", o.from, "Sender address (default: --user)")->type_name("ADDRESS");
    cmd->add_option("--to", o.to, "Recipient of the test message. Repeatable; required unless --auth-only")
        ->type_name("ADDRESS")
        ->allow_extra_args(false);
    auto* authOnly = cmd->add_flag("--auth-only", o.authOnly, "Stop after signing in: no message is sent");
    auto* probe = cmd->add_flag("--probe", o.probe,
                                "Connectivity probe without credentials: greeting, EHLO, STARTTLS (or --tls), the verified "
                                "certificate and the AUTH mechanisms offered, then QUIT. Signs in as nobody, sends nothing");
    probe->excludes(authOnly);
    cmd->add_option("--expect-auth", args->expectAuth,
                    "With --probe: fail (exit 1) unless the server offers every one of these SASL mechanisms "
                    "(comma-separated or repeated, e.g. LOGIN,XOAUTH2)")
        ->type_name("MECH[,MECH...]")
        ->allow_extra_args(false);
    cmd->add_option("--cert-expiry-days", args->certExpiryDays,
                    "Fail (exit 1) when the server's verified certificate has N days or less left; a run that sees no "
                    "verified certificate never passes it. Needs TLS")
        ->check(CLI::Range(0, 36500))
        ->type_name("N");
    cmd->add_option("--snapshot", args->snapshot,
                    "Tenant snapshot: name the policy or setting behind a refusal (Conditional Access, security "
                    "defaults, authentication policies, HVE accounts)")
        ->type_name("SNAPSHOT");
    cmd->add_option("--timeout", args->timeoutSeconds, "Seconds allowed for the connection and for the whole test")
        ->capture_default_str();
    cmd->add_option("--ca-file", o.caFile,
                    "PEM file of CA certificates to trust instead of the default bundle (test servers with a private CA)")
        ->check(CLI::ExistingFile)
        ->type_name("FILE");
    cmd->add_option("--connect-to", o.connectTo,
                    "Connect to this address instead of what DNS answers for --host (the certificate is still "
                    "checked against --host)")
        ->type_name("ADDRESS[:PORT]");
    cmd->add_option("--tls-max-version", args->tlsMaxVersion,
                    "Highest TLS version to offer, like the device: 1.2 (most printers) or 1.3 (default: both 1.2 and 1.3)")
        ->check(CLI::IsMember({"1.2", "1.3"}))
        ->type_name("1.2|1.3");
    cmd->add_option("--ciphers", o.ciphers,
                    "Cipher suites to offer, in OpenSSL syntax, like the device (e.g. ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA)")
        ->type_name("LIST");
    cmd->add_option("--auth-mechanism", args->authMechanism,
                    "SASL mechanism, like the device: LOGIN (most devices) or PLAIN for a password, XOAUTH2 for a token "
                    "(default: PLAIN, else LOGIN; XOAUTH2 for a token)")
        ->check(CLI::IsMember({"LOGIN", "PLAIN", "XOAUTH2"}, CLI::ignore_case))
        ->type_name("LOGIN|PLAIN|XOAUTH2");
    cmd->add_option("--format", args->format, "Output format")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
    cmd->add_flag("--transcript", args->transcript, "Show the SMTP dialogue (credentials redacted)");
    cmd->callback([args, &exitCode] { exitCode = run_guarded([&] { return run_smtp_test(*args); }); });
}

}  // namespace tenantscan::cli
