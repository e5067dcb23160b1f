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
    }
    return "";
}

const char* to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::Success: return "success";
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

namespace {

double rounded(double milliseconds) { return std::round(milliseconds * 1000.0) / 1000.0; }

nlohmann::json explanation_json(const Explanation& e) {
    nlohmann::json out = {{"id", e.id}, {"cause", e.cause}, {"fix", e.fix}, {"evidence", e.evidence}};
    if (!e.step.empty()) out["step"] = e.step;
    if (!e.reply.empty()) out["reply"] = e.reply;
    return out;
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
            if (!step.detail.empty()) return step.detail;
            return step.reply ? step.reply->last_line() : "";
        case StepStatus::Refused: return step.reply ? step.reply->verbatim() : "";
        case StepStatus::Failed: return step.error;
        case StepStatus::NotReached: return "not reached";
    }
    return "";
}

void explanation_text(std::string& out, const Explanation& e, const std::string& heading) {
    out += fmt::format("\n{} [{}]\n", heading, e.id);
    if (!e.reply.empty()) out += "  Server said: " + e.reply + "\n";
    out += "  Cause: " + e.cause + "\n";
    out += "  Fix:   " + e.fix + "\n";
    if (!e.evidence.empty()) {
        out += "  Evidence:\n";
        for (const auto& line : e.evidence) out += "    - " + line + "\n";
    }
}

}  // namespace

nlohmann::json to_json(const Result& result, const Diagnosis& diagnosis, bool includeTranscript) {
    const Options& o = result.options;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& step : result.steps) {
        nlohmann::json s = {{"step", to_string(step.kind)}, {"label", step.label}, {"status", to_string(step.status)}};
        if (step.milliseconds) s["milliseconds"] = rounded(*step.milliseconds);
        if (!step.recipient.empty()) s["recipient"] = step.recipient;
        if (step.reply)
            s["reply"] = {{"code", step.reply->code}, {"enhancedCode", step.reply->enhancedCode}, {"lines", step.reply->lines}};
        if (!step.detail.empty()) s["detail"] = step.detail;
        if (step.status == StepStatus::Failed) {
            s["failure"] = to_string(step.failure);
            s["error"] = step.error;
        }
        steps.push_back(s);
    }
    nlohmann::json out = {
        {"smtpTestVersion", 1},
        {"tool", {{"name", "tenantscan"}, {"version", version()}}},
        {"target",
         {{"host", o.host},
          {"port", o.effective_port()},
          {"security", to_string(o.security)},
          {"user", o.user},
          {"credential", o.credentialKind == CredentialKind::Password ? "password" : "oauthToken"},
          {"from", o.effective_from()},
          {"to", o.to},
          {"authOnly", o.authOnly},
          {"timeoutSeconds", static_cast<double>(o.timeout.count()) / 1000.0},
          {"connectTo", o.connectTo.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.connectTo)}}},
        {"testId", result.testId},
        {"outcome", to_string(result.outcome())},
        {"exitCode", exit_code(result)},
        {"steps", steps},
        {"auth", {{"mechanismsOffered", result.authMechanismsOffered}, {"mechanismUsed", result.authMechanismUsed}}},
        {"remoteAddress", result.remoteAddress},
    };
    if (!result.subject.empty()) out["subject"] = result.subject;
    if (result.tls) {
        const TlsSession& t = *result.tls;
        out["tls"] = {{"protocol", t.protocol},   {"cipher", t.cipher},       {"subject", t.subject},
                      {"issuer", t.issuer},       {"notBefore", t.notBefore}, {"notAfter", t.notAfter},
                      {"subjectAltNames", t.subjectAltNames}, {"verifyError", t.verifyError}};
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
                                         {"text", line.text}});
    }
    return out;
}

std::string to_text(const Result& result, const Diagnosis& diagnosis, bool includeTranscript, bool colour) {
    const Options& o = result.options;
    Style style{colour};
    std::string out = fmt::format("smtp-test {}:{}{} ({}) as {}", o.host, o.effective_port(),
                                  o.connectTo.empty() ? std::string() : " via " + o.connectTo, security_phrase(o.security),
                                  o.user);
    out += o.authOnly ? ", sign-in only\n" : fmt::format(", {} recipient(s), test id {}\n", o.to.size(), result.testId);

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
        out += fmt::format("  {} {:<{}} {}  {}\n", status, step.label, labelWidth, time, step_summary(step));
    }

    switch (result.outcome()) {
        case Outcome::Success:
            out += o.authOnly ? "\nResult: SUCCESS: the account signed in (exit code 0)\n"
                              : fmt::format("\nResult: SUCCESS: the server accepted the test message '{}' (exit code 0)\n",
                                            result.subject);
            break;
        case Outcome::Refused: out += "\nResult: " + style.paint("REFUSED", "1;31") + " by the server (exit code 1)\n"; break;
        case Outcome::ConnectionError:
            out += "\nResult: " + style.paint("CONNECTION ERROR", "1;31") + " (exit code 2)\n";
            break;
    }
    if (result.tls && !result.tls->verifyError.empty())
        out += "TLS certificate verification: " + result.tls->verifyError + "\n";
    for (const auto& e : diagnosis.explanations) explanation_text(out, e, "Why " + e.step + " failed");
    for (const auto& e : diagnosis.advisories) explanation_text(out, e, "Note");

    if (includeTranscript) {
        out += "\nTranscript (credentials redacted):\n";
        for (const auto& line : result.transcript)
            out += fmt::format("  {:>9.1f} ms  {} {}\n", line.milliseconds, line.fromClient ? "C:" : "S:", line.text);
    }
    return out;
}

}  // namespace tenantscan::smtp
