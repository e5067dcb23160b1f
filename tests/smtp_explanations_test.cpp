// The smtp-test knowledge base on its own (no network): the reply classification that
// `tenantscan explain TEXT` shares (tests/explain_test.cpp), the one EHLO parser, reply parsing and escaping.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <tenantscan/smtp_test.hpp>

namespace smtp = tenantscan::smtp;

namespace {

std::string id_of(const std::string& line, std::optional<smtp::StepKind> step = std::nullopt,
                  std::optional<smtp::CredentialKind> credential = std::nullopt) {
    const smtp::KnownReply* known = smtp::classify_reply(smtp::parse_reply({line}), step, credential);
    return known ? known->id : "unknown-reply";
}

}  // namespace

TEST_CASE("smtp knowledge base: Exchange Online's texts are classified by code and text") {
    using smtp::StepKind;
    using smtp::CredentialKind;
    struct Case {
        const char* reply;
        const char* id;
    };
    const Case cases[] = {
        {"535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. [AM0PR02CA0001.eurprd02.prod.outlook.com]",
         "auth-credentials-incorrect"},
        {"535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [X]", "basic-auth-disabled"},
        {"535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
         "auth-security-defaults"},
        {"535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
         "auth-sign-in-blocked"},
        {"535 5.7.139 Authentication unsuccessful, the organization configuration doesn't allow this authentication request.",
         "auth-sign-in-blocked"},
        {"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
         "smtp-auth-disabled"},
        {"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.", "smtp-auth-disabled"},
        {"535 5.7.139 Authentication unsuccessful, something new.", "auth-sign-in-refused"},
        {"550 5.7.30 Basic authentication is not supported for Client Submission.", "basic-auth-retired"},
        {"530 5.7.57 Client not authenticated to send mail. [X]", "not-authenticated"},
        {"550 5.7.60 SMTP; Client does not have permissions to send as this sender", "send-as-denied"},
        {"550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.", "ip-blocked"},
        {"550 5.5.105 External sending is not supported for High Volume Email accounts", "hve-external-recipient"},
        {"550 5.7.1 External sending is not supported for High Volume Email accounts", "hve-external-recipient"},
        {"550 5.7.1 Delivery not authorized, message refused", "unknown-reply"},
        {"530 5.7.0 Must issue a STARTTLS command first", "starttls-required"},
        {"432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname=X]", "sender-thread-limit"},
        {"421 4.3.2 Service not available, closing transmission channel", "temporary-failure"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.reply);
        CHECK(id_of(c.reply) == c.id);
    }
    // The step and the credential refine the meaning of 5.7.3.
    CHECK(id_of("535 5.7.3 Authentication unsuccessful", StepKind::Auth, CredentialKind::Password) ==
          "auth-credentials-or-policy");
    CHECK(id_of("535 5.7.3 Authentication unsuccessful", StepKind::Auth, CredentialKind::OAuthToken) == "oauth-token-rejected");
    // A pasted text may not tell a password from a token: the entry says both.
    CHECK(id_of("535 5.7.3 Authentication unsuccessful", StepKind::Auth) == "auth-unsuccessful");
    // Named by explain for a client that hides the reply; never matched by a reply.
    CHECK(id_of("535 Login denied", StepKind::Auth, CredentialKind::Password) == "auth-refused");
}

TEST_CASE("smtp knowledge base: every reply entry says what confirms or rules it out") {
    for (const auto& known : smtp::known_replies()) {
        CAPTURE(known.id);
        CHECK(known.cause[0] != '\0');
        CHECK(known.fix[0] != '\0');
        if (smtp::classify_reply(smtp::parse_reply({"500 5.9.999 x"})) == nullptr && std::string(known.confirm).empty()) {
            // failure entries have no reply to confirm; reply entries must have a confirm text
            bool isFailure = std::string(known.matches).find(' ') == std::string::npos;
            CHECK_MESSAGE(isFailure, known.id, " has no confirm text");
        }
    }
}

TEST_CASE("smtp: one EHLO parser, case-insensitive, both AUTH forms") {
    auto caps = smtp::parse_capabilities({"250-mail.example Hello", "250-starttls", "250-auth=login plain", "250-AUTH LOGIN XOAUTH2",
                                          "250 SIZE 1000"});
    CHECK(caps.startTls);
    CHECK(caps.authAnnounced);
    CHECK(caps.authMechanisms == std::vector<std::string>{"LOGIN", "PLAIN", "XOAUTH2"});
    auto none = smtp::parse_capabilities({"250-mail.example", "250 8BITMIME"});
    CHECK_FALSE(none.startTls);
    CHECK_FALSE(none.authAnnounced);
    CHECK(smtp::parse_capabilities({"250 mail.example"}).keywords.empty());
}

TEST_CASE("smtp: replies are parsed from the bytes, and escaped for printing") {
    smtp::Reply reply = smtp::parse_reply({"535-5.7.3 first", "535 5.7.3 Authentification \xe9" "chou\xe9" "e \x1b[2K\r"});
    CHECK(reply.code == 535);
    CHECK(reply.enhancedCode == "5.7.3");
    CHECK(reply.lines[1] == "535 5.7.3 Authentification \\xE9chou\\xE9e \\x1B[2K\\x0D");
    CHECK(smtp::parse_reply({"250 2.0.0 OK"}).enhancedCode == "2.0.0");
    CHECK(smtp::parse_reply({"250 1.2.3 not a class"}).enhancedCode.empty());
    CHECK(smtp::printable("caf\xc3\xa9") == "caf\xc3\xa9");                   // valid UTF-8 stays
    CHECK(smtp::printable("\xe2\x80\xae" "evil") == "\\u{202E}evil");         // bidi override
    CHECK(smtp::printable("\xc2\x9b" "31m") == "\\u{009B}31m");               // C1 CSI
    CHECK(smtp::printable("\xed\xa0\x80") == "\\xED\\xA0\\x80");              // a surrogate is not UTF-8
    CHECK(smtp::printable(smtp::printable("\x1b")) == smtp::printable("\x1b"));  // idempotent
}

TEST_CASE("smtp: the TLS session is held to Microsoft's documented requirements") {
    smtp::TlsSession tls;
    tls.protocol = "TLSv1.2";
    tls.cipherStandardName = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
    auto met = smtp::assess_tls(tls);
    REQUIRE(met);
    CHECK(met->versionMet);
    CHECK(met->cipherMet == true);
    tls.cipherStandardName = "TLS_RSA_WITH_AES_128_CBC_SHA";
    CHECK(smtp::assess_tls(tls)->cipherMet == false);
    tls.protocol = "TLSv1.3";
    tls.cipherStandardName = "TLS_AES_256_GCM_SHA384";
    CHECK_FALSE(smtp::assess_tls(tls)->cipherMet.has_value());
    CHECK_FALSE(smtp::assess_tls(smtp::TlsSession{}).has_value());
}
