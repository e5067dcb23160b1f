// Rendering an smtp-test result and its diagnosis: JSON for pipelines, text for people.
#include <tenantscan/scan.hpp>
#include <tenantscan/smtp_test.hpp>

#include <cmath>

#include <fmt/format.h>

namespace tenantscan::smtp {

const char* to_string(StepKind kind) {
    switch (kind) {
        case StepKind::Resolve: return "dns";
        case StepKind::Connect: return "connect";
        case StepKind::TlsHandshake: return "tlsHandshake";
        case StepKind::Banner: return "banner";
        case StepKind::Ehlo: return "ehlo";
        case StepKind::StartTls: return "starttls";
        case StepKind::EhloAfterTls: return "ehloAfterTls";
        case StepKind::Auth: return "auth";
        case StepKind::Noop: return "noop";
        case StepKind::MailFrom: return "mailFrom";
        case StepKind::RcptTo: return "rcptTo";
        case StepKind::Data: return "data";
        case StepKind::Quit: return "quit";
        case StepKind::CertificateExpiry: return "certificateExpiry";
        case StepKind::AuthOffered: return "authOffered";
    }
    return "";
}

const char* to_string(StepStatus status) {
    switch (status) {
        case StepStatus::Ok: return "ok";
        case StepStatus::Refused: return "refused";
        case StepStatus::Failed: return "failed";
        case StepStatus::NotReached: return "notReached";
    }
    return "";
}

const char* to_string(Failure failure) {
    switch (failure) {
        case Failure::None: return "none";
        case Failure::Resolve: return "resolve";
        case Failure::Connect: return "connect";
        case Failure::Timeout: return "timeout";
        case Failure::StartTlsNotOffered: return "starttlsNotOffered";
        case Failure::CertificateExpired: return "certificateExpired";
        case Failure::CertificateNotYetValid: return "certificateNotYetValid";
        case Failure::CertificateUntrusted: return "certificateUntrusted";
        case Failure::CertificateWrongHost: return "certificateWrongHost";
        case Failure::CertificateRejected: return "certificateRejected";
        case Failure::TlsHandshake: return "tlsHandshake";
        case Failure::CaFileUnreadable: return "caFileUnreadable";
        case Failure::AuthNotOffered: return "authNotOffered";
        case Failure::NoUsableAuthMechanism: return "noUsableAuthMechanism";
        case Failure::ConnectionLost: return "connectionLost";
        case Failure::Other: return "other";
        case Failure::PlainServerOnTlsPort: return "plainServerOnTlsPort";
        case Failure::TlsServerOnPlainPort: return "tlsServerOnPlainPort";
        case Failure::UnexpectedReply: return "unexpectedReply";
        case Failure::SaslExchangeCancelled: return "saslExchangeCancelled";
        case Failure::MalformedReply: return "malformedReply";
        case Failure::CertificateExpiresSoon: return "certificateExpiresSoon";
        case Failure::CertificateNotSeen: return "certificateNotSeen";
        case Failure::ExpectedAuthNotOffered: return "expectedAuthNotOffered";
    }
    return "";
}

const char* to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::Success: return "success";
        case Outcome::PartiallyDelivered: return "partiallyDelivered";
        case Outcome::Refused: return "refused";
        case Outcome::ConnectionError: return "connectionError";
    }
    return "";
}

const char* to_string(Security security) {
    switch (security) {
        case Security::StartTls: return "starttls";
        case Security::ImplicitTls: return "tls";
        case Security::Plain: return "plain";
    }
    return "";
}

const char* to_string(AuthMechanism mechanism) {
    switch (mechanism) {
        case AuthMechanism::Auto: return "auto";
        case AuthMechanism::Login: return "LOGIN";
        case AuthMechanism::Plain: return "PLAIN";
        case AuthMechanism::XOAuth2: return "XOAUTH2";
    }
    return "";
}

const char* to_string(TlsMaxVersion version) {
    switch (version) {
        case TlsMaxVersion::Any: return "any";
        case TlsMaxVersion::Tls12: return "1.2";
        case TlsMaxVersion::Tls13: return "1.3";
    }
    return "";
}

namespace {

double rounded(double milliseconds) { return std::round(milliseconds * 1000.0) / 1000.0; }

// Every string that reaches an output passes printable() (idempotent): snapshot values and
// server text alike can carry control characters or bytes that are not UTF-8.
std::string p(const std::string& text) { return printable(text); }

std::vector<std::string> p(const std::vector<std::string>& texts) {
    std::vector<std::string> out;
    for (const auto& text : texts) out.push_back(printable(text));
    return out;
}

nlohmann::json explanation_json(const Explanation& e) {
    nlohmann::json out = {{"id", p(e.id)}, {"cause", p(e.cause)}, {"fix", p(e.fix)}, {"evidence", p(e.evidence)}};
    if (!e.confirm.empty()) out["confirm"] = p(e.confirm);
    if (!e.step.empty()) out["step"] = p(e.step);
    if (!e.reply.empty()) out["reply"] = p(e.reply);
    return out;
}

std::string delivery_sentence(const Result& result) {
    if (result.options.authOnly || result.options.probe) return "";
    if (!result.messageAccepted) return "no message was delivered";
    std::string accepted, refused;
    for (const auto& to : result.acceptedRecipients) accepted += (accepted.empty() ? "" : ", ") + p(to);
    for (const auto& to : result.refusedRecipients) refused += (refused.empty() ? "" : ", ") + p(to);
    return "the message was accepted for " + accepted + (refused.empty() ? "" : "; refused for " + refused);
}

const char* security_phrase(Security security) {
    switch (security) {
        case Security::StartTls: return "STARTTLS";
        case Security::ImplicitTls: return "implicit TLS";
        case Security::Plain: return "no TLS";
    }
    return "";
}

struct Style {
    bool colour;
    std::string paint(const std::string& text, const char* code) const {
        return colour ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : text;
    }
};

std::string step_summary(const Step& step) {
    switch (step.status) {
        case StepStatus::Ok:
            if (!step.detail.empty()) return p(step.detail);
            return step.reply ? p(step.reply->last_line()) : "";
        case StepStatus::Refused: return step.reply ? p(step.reply->verbatim()) : "";
        case StepStatus::Failed: return p(step.error);
        case StepStatus::NotReached: return "not reached";
    }
    return "";
}

void explanation_text(std::string& out, const Explanation& e, const std::string& heading) {
    out += fmt::format("\n{} [{}]\n", p(heading), p(e.id));
    if (!e.reply.empty()) out += "  Server said: " + p(e.reply) + "\n";
    out += "  Cause: " + p(e.cause) + "\n";
    out += "  Fix:   " + p(e.fix) + "\n";
    if (!e.confirm.empty()) out += "  Check: " + p(e.confirm) + "\n";
    if (!e.evidence.empty()) {
        out += "  Evidence:\n";
        for (const auto& line : e.evidence) out += "    - " + p(line) + "\n";
    }
}

}  // namespace

nlohmann::json to_json(const Result& result, const Diagnosis& diagnosis, bool includeTranscript) {
    const Options& o = result.options;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& step : result.steps) {
        nlohmann::json s = {{"step", to_string(step.kind)}, {"label", p(step.label)}, {"status", to_string(step.status)}};
        if (step.milliseconds) s["milliseconds"] = rounded(*step.milliseconds);
        if (!step.recipient.empty()) s["recipient"] = p(step.recipient);
        if (step.reply)
            s["reply"] = {{"code", step.reply->code}, {"enhancedCode", p(step.reply->enhancedCode)}, {"lines", p(step.reply->lines)}};
        if (!step.detail.empty()) s["detail"] = p(step.detail);
        if (step.status == StepStatus::Failed) {
            s["failure"] = to_string(step.failure);
            s["error"] = p(step.error);
        }
        steps.push_back(s);
    }
    nlohmann::json out = {
        {"smtpTestVersion", 1},
        {"tool", {{"name", "tenantscan"}, {"version", version()}}},
        {"target",
         {{"host", p(o.host)},
          {"port", o.effective_port()},
          {"security", to_string(o.security)},
          {"user", p(o.user)},
          {"credential", o.credentialKind == CredentialKind::Password ? "password" : "oauthToken"},
          {"authMechanism", to_string(o.authMechanism)},
          {"tlsMaxVersion", to_string(o.tlsMaxVersion)},
          {"ciphers", o.ciphers.empty() ? nlohmann::json(nullptr) : nlohmann::json(p(o.ciphers))},
          {"from", p(o.effective_from())},
          {"to", p(o.to)},
          {"authOnly", o.authOnly},
          {"probe", o.probe},
          {"expectAuth", p(o.expectAuth)},
          {"certExpiryDays", o.certExpiryDays ? nlohmann::json(*o.certExpiryDays) : nlohmann::json(nullptr)},
          {"timeoutSeconds", static_cast<double>(o.timeout.count()) / 1000.0},
          {"connectTo", o.connectTo.empty() ? nlohmann::json(nullptr) : nlohmann::json(p(o.connectTo))}}},
        {"testId", result.testId},
        {"outcome", to_string(result.outcome())},
        {"exitCode", exit_code(result)},
        {"steps", steps},
        {"auth",
         {{"mechanismsOffered", p(result.authMechanismsOffered)},
          {"mechanismUsed", p(result.authMechanismUsed)},
          {"authenticated", result.authenticated}}},
        {"remoteAddress", p(result.remoteAddress)},
        {"remotePort", result.remotePort},
    };
    if (!o.authOnly && !o.probe)
        out["delivery"] = {{"messageAccepted", result.messageAccepted},
                           {"acceptedRecipients", p(result.acceptedRecipients)},
                           {"refusedRecipients", p(result.refusedRecipients)}};
    if (result.oauthError) {
        const OAuthError& e = *result.oauthError;
        out["auth"]["oauthError"] = {{"status", p(e.status)}, {"scope", p(e.scope)}, {"schemes", p(e.schemes)}, {"json", p(e.json)}};
    }
    if (!result.subject.empty()) out["subject"] = p(result.subject);
    if (result.tls) {
        const TlsSession& t = *result.tls;
        out["tls"] = {{"protocol", p(t.protocol)},   {"cipher", p(t.cipher)},       {"cipherStandardName", p(t.cipherStandardName)},
                      {"subject", p(t.subject)},     {"issuer", p(t.issuer)},       {"notBefore", p(t.notBefore)},
                      {"notAfter", p(t.notAfter)},   {"subjectAltNames", p(t.subjectAltNames)}, {"verifyError", p(t.verifyError)},
                      {"daysLeft", t.daysLeft ? nlohmann::json(*t.daysLeft) : nlohmann::json(nullptr)}};
        if (diagnosis.tls) {
            const TlsAssessment& a = *diagnosis.tls;
            out["tls"]["microsoftRequirements"] = {
                {"versionMet", a.versionMet},
                {"cipherMet", a.cipherMet ? nlohmann::json(*a.cipherMet) : nlohmann::json(nullptr)},
                {"summary", p(a.summary)}};
        }
    }
    out["diagnosis"] = nlohmann::json::array();
    for (const auto& e : diagnosis.explanations) out["diagnosis"].push_back(explanation_json(e));
    out["advisories"] = nlohmann::json::array();
    for (const auto& e : diagnosis.advisories) out["advisories"].push_back(explanation_json(e));
    if (includeTranscript) {
        out["transcript"] = nlohmann::json::array();
        for (const auto& line : result.transcript)
            out["transcript"].push_back({{"milliseconds", rounded(line.milliseconds)},
                                         {"from", line.fromClient ? "client" : "server"},
                                         {"text", p(line.text)}});
    }
    return out;
}

std::string to_text(const Result& result, const Diagnosis& diagnosis, bool includeTranscript, bool colour) {
    const Options& o = result.options;
    Style style{colour};
    std::string out = fmt::format("smtp-test {}:{}{} ({}){}", p(o.host), o.effective_port(),
                                  o.connectTo.empty() ? std::string() : " via " + p(o.connectTo), security_phrase(o.security),
                                  o.probe ? std::string() : " as " + p(o.user));
    out += o.probe      ? ", probe: no credentials, no message\n"
           : o.authOnly ? ", sign-in only\n"
                        : fmt::format(", {} recipient(s), test id {}\n", o.to.size(), result.testId);
    // What was delivered, and to whom, comes first: it decides whether to send again.
    if (!o.authOnly && !o.probe) out += "Delivery: " + delivery_sentence(result) + "\n";

    std::size_t labelWidth = 0;
    for (const auto& step : result.steps) labelWidth = std::max(labelWidth, step.label.size());
    for (const auto& step : result.steps) {
        std::string status;
        switch (step.status) {
            case StepStatus::Ok: status = style.paint(fmt::format("{:<8}", "ok"), "32"); break;
            case StepStatus::Refused: status = style.paint(fmt::format("{:<8}", "REFUSED"), "1;31"); break;
            case StepStatus::Failed: status = style.paint(fmt::format("{:<8}", "FAILED"), "1;31"); break;
            case StepStatus::NotReached: status = style.paint(fmt::format("{:<8}", "-"), "2"); break;
        }
        std::string time = step.milliseconds ? fmt::format("{:>9.1f} ms", *step.milliseconds) : std::string(12, ' ');
        out += fmt::format("  {} {:<{}} {}  {}\n", status, p(step.label), labelWidth, time, step_summary(step));
    }
    // Every certificate seen, verified or not: when it ends and how many days are left.
    if (result.tls && !result.tls->subject.empty())
        out += "Certificate: " + p(result.tls->subject) + ", expires " +
               (result.tls->notAfter.empty() ? std::string("at an unknown date") : p(result.tls->notAfter)) +
               (result.tls->daysLeft ? fmt::format(" ({} days left)", *result.tls->daysLeft) : std::string()) +
               (o.certExpiryDays ? fmt::format("; --cert-expiry-days {}", *o.certExpiryDays) : std::string()) + "\n";
    if (diagnosis.tls) out += "TLS against Microsoft 365's requirements: " + p(diagnosis.tls->summary) + "\n";

    switch (result.outcome()) {
        case Outcome::Success:
            out += o.probe ? "\nResult: SUCCESS: the probe saw every step succeed (greeting, EHLO, " +
                                 std::string(o.security == Security::Plain ? "no TLS" : "TLS with a verified certificate") +
                                 ", AUTH offered; no credentials, no message) (exit code 0)\n"
                 : o.authOnly ? "\nResult: SUCCESS: the account signed in (235; --auth-only, no message sent) (exit code 0)\n"
                              : fmt::format("\nResult: SUCCESS: the server accepted the test message '{}' after 354 (exit code 0)\n",
                                            p(result.subject));
            break;
        case Outcome::PartiallyDelivered:
            out += "\nResult: " + style.paint("PARTLY DELIVERED", "1;33") + ": " + delivery_sentence(result) +
                   " (exit code 1)\n";
            break;
        case Outcome::Refused:
            out += "\nResult: " + style.paint("REFUSED", "1;31") +
                   (o.probe ? std::string(": the server refused a step, or a check failed (probe: nothing was sent) (exit code 1)\n")
                            : std::string(" by the server, or a check failed: nothing was delivered (exit code 1)\n"));
            break;
        case Outcome::ConnectionError:
            out += "\nResult: " + style.paint("CONNECTION OR PROTOCOL ERROR", "1;31") +
                   (o.probe ? ": the probe did not complete (exit code 2)\n" : ": nothing was delivered (exit code 2)\n");
            break;
    }
    if (result.tls && !result.tls->verifyError.empty())
        out += "TLS certificate verification: " + p(result.tls->verifyError) + "\n";
    for (const auto& e : diagnosis.explanations) explanation_text(out, e, "Why " + e.step + " failed");
    for (const auto& e : diagnosis.advisories) explanation_text(out, e, "Note");

    if (includeTranscript) {
        out += "\nTranscript (credentials redacted):\n";
        for (const auto& line : result.transcript)
            out += fmt::format("  {:>9.1f} ms  {} {}\n", line.milliseconds, line.fromClient ? "C:" : "S:", p(line.text));
    }
    return out;
}

}  // namespace tenantscan::smtp
