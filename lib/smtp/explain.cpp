// `tenantscan explain`: the SMTP reply inside a pasted text, explained from smtp-test's knowledge
// base (smtp_explanations.cpp). This file knows only how texts wrap replies (client libraries,
// MTAs, curl, certificate errors) and what each knowledge-base entry means for the retirement; what
// a reply means, how to fix it and which tenant setting to check live in the knowledge base.
// docs/explain.md lists every family recognised here and the public source of its text.
#include <tenantscan/smtp_explain.hpp>

#include <tenantscan/directory.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tenantscan::smtp {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Undoes the escapes a text gets when a library prints it inside a string: Python's bytes repr
// (b'...\r\n5.7.8 ...'), JSON and JavaScript strings. Only for finding the reply; never printed.
std::string unescape(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\' || i + 1 >= in.size()) {
            out += in[i];
            continue;
        }
        char next = in[i + 1];
        if (next == 'n' || next == 'r') {
            out += '\n';
            ++i;
        } else if (next == 't') {
            out += ' ';
            ++i;
        } else if (next == '\'' || next == '"' || next == '\\') {
            out += next;
            ++i;
        } else if (next == 'x' && i + 3 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 2])) &&
                   std::isxdigit(static_cast<unsigned char>(in[i + 3]))) {
            out += static_cast<char>(std::stoi(std::string(in.substr(i + 2, 2)), nullptr, 16));
            i += 3;
        } else {
            out += in[i];
        }
    }
    return out;
}

// A client that wraps the server's reply, recognised by words it always prints. `auth`: it
// reports a failed sign-in (the reply belongs to AUTH); `hidesReply`: it can report the failure
// without the server's reply. docs/explain.md cites where each text comes from.
struct Wrapper {
    const char* name;
    std::vector<const char*> markers;  // case-sensitive: library names and their fixed messages
    bool auth;
    bool hidesReply;
};

const std::vector<Wrapper>& wrappers() {
    static const std::vector<Wrapper> list = {
        {"Python smtplib (SMTPAuthenticationError)", {"SMTPAuthenticationError"}, true, false},
        {"Python smtplib", {"SMTPDataError", "SMTPSenderRefused", "SMTPRecipientsRefused", "smtplib."}, false, false},
        {"JavaMail (AuthenticationFailedException)", {"AuthenticationFailedException"}, true, false},
        {"JavaMail", {"javax.mail.", "jakarta.mail.", "com.sun.mail."}, false, false},
        {"MailKit (AuthenticationException)", {"MailKit.Security.AuthenticationException", "AuthenticationInvalidCredentials"}, true, false},
        {".NET SmtpClient (SmtpException)", {"SmtpException", "The SMTP server requires a secure connection or the client was not authenticated"}, false, false},
        {"MailKit", {"MailKit."}, false, false},
        {"PHPMailer", {"Could not authenticate", "Password command failed"}, true, true},
        {"PHPMailer", {"SMTP Error:", "SMTP ERROR:"}, false, false},
        {"nodemailer", {"Invalid login:", "EAUTH"}, true, false},
        {"Postfix", {"SASL authentication failed"}, true, false},
        {"Postfix", {"postfix/"}, false, false},
        {"curl", {"curl: (67)", "Login denied"}, true, true},
        {"Swift Mailer / Symfony Mailer", {"Expected response code"}, false, false},
    };
    return list;
}

const Wrapper* find_wrapper(std::string_view text) {
    for (const auto& wrapper : wrappers())
        for (const char* marker : wrapper.markers)
            if (text.find(marker) != std::string_view::npos) return &wrapper;
    return nullptr;
}

// Words that put an enhanced status code without its reply code in an SMTP context (so that a
// version number such as "5.7.30" in a release note is not taken for a reply).
bool smtp_context(std::string_view text) {
    for (const char* word : {"smtp", "mail", "outlook", "authenticat", "server response", "said:", "535", "550"})
        if (icontains(text, word)) return true;
    return false;
}

// One reply found in the text.
struct Candidate {
    std::size_t position = 0;
    int code = 0;
    std::string enhanced;
    std::string line;  // the reply as the text shows it (code, enhanced code, words), unescaped
};

// Reply codes a refusal can have (RFC 5321, 4954): the only ones taken without an enhanced code.
bool refusal_code(int code) {
    static const int codes[] = {421, 432, 450, 451, 452, 454, 504, 530, 534, 535, 538, 550, 551, 552, 553, 554};
    return std::find(std::begin(codes), std::end(codes), code) != std::end(codes);
}

// A reply's words are kept up to this many bytes (Exchange Online's longest replies are ~250).
constexpr std::size_t kMaxReplyBytes = 400;
// At most this many replies are read from one text: a pasted log is short, a hostile one is not.
constexpr std::size_t kMaxCandidates = 200;

// The rest of the line from `from` (at most kMaxReplyBytes), without the quote and bracket a
// wrapper closes it with.
std::string rest_of_line(const std::string& text, std::size_t from) {
    std::size_t end = std::min(text.find('\n', from), std::min(text.size(), from + kMaxReplyBytes));
    std::string line = text.substr(from, end - from);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == ')' || line.back() == '\'' ||
                             line.back() == '"' || line.back() == ','))
        line.pop_back();
    return line;
}

// A 3-digit code ending just before `end` (a token of its own), or 0.
int code_before(const std::string& text, std::size_t end) {
    if (end < 3) return 0;
    std::size_t start = end - 3;
    if (!is_digit(text[start]) || !is_digit(text[start + 1]) || !is_digit(text[start + 2])) return 0;
    if (start > 0 && (is_alnum(text[start - 1]) || text[start - 1] == '.')) return 0;
    return std::stoi(text.substr(start, 3));
}

// Whether the token holding position `at` is part of a URL (a code inside a link is no reply).
bool inside_url(const std::string& text, std::size_t at) {
    std::size_t start = at;
    while (start > 0 && at - start < 2048 && !std::isspace(static_cast<unsigned char>(text[start - 1])) && text[start - 1] != '(' &&
           text[start - 1] != '\'' && text[start - 1] != '"')
        --start;
    std::string token = text.substr(start, at - start);
    return token.find("://") != std::string::npos || icontains(token, "www.");
}

// Every reply in the text: enhanced status codes (x.y.z, RFC 3463) with or without the reply code
// before them, and refusal codes at the start of a line or after a wrapper's colon or quote.
std::vector<Candidate> find_replies(const std::string& text, bool& successSeen) {
    std::vector<Candidate> out;
    std::vector<std::size_t> codesTaken;  // positions of reply codes already part of a candidate
    const bool context = smtp_context(text);
    for (std::size_t p = 0; p + 4 < text.size() && out.size() < kMaxCandidates; ++p) {
        char cls = text[p];
        if ((cls != '2' && cls != '4' && cls != '5') || text[p + 1] != '.') continue;
        std::size_t q = p + 2, digits = 0;
        while (q < text.size() && is_digit(text[q]) && digits < 4) ++q, ++digits;
        if (digits == 0 || digits > 3 || q >= text.size() || text[q] != '.') continue;
        std::size_t r = q + 1;
        digits = 0;
        while (r < text.size() && is_digit(text[r]) && digits < 4) ++r, ++digits;
        if (digits == 0 || digits > 3) continue;
        char before = p > 0 ? text[p - 1] : ' ';
        char after = r < text.size() ? text[r] : ' ';
        char afterNext = r + 1 < text.size() ? text[r + 1] : ' ';
        // A number, a version, an address or a path: not a status code.
        bool dashAfterCode = before == '-' && code_before(text, p - 1) != 0;
        if (is_alnum(before) || before == '.' || before == '/' || before == '_' || before == '\\' || before == '%' ||
            before == '$' || before == '#' || before == '+' || (before == '-' && !dashAfterCode))
            continue;
        if (is_alnum(after) || after == '_' || after == '/' || after == '%' ||
            ((after == '.' || after == '-' || after == ',') && is_digit(afterNext)))
            continue;
        if (inside_url(text, p)) continue;
        // The reply code: "535 5.7.3", "535-5.7.3", "(535, b'5.7.3", "535: 5.7.3".
        int code = 0;
        std::size_t back = p, codeAt = std::string::npos;
        for (int skipped = 0; back > 0 && skipped < 5; ++skipped) {
            char c = text[back - 1];
            if (c != ' ' && c != '-' && c != ',' && c != '\'' && c != '"' && c != 'b' && c != ':') break;
            --back;
            if (int found = code_before(text, back)) {
                code = found;
                codeAt = back - 3;
                break;
            }
        }
        if (code != 0 && code / 100 != cls - '0') code = 0;  // RFC 3463: the classes agree
        if (cls == '2' || (code >= 200 && code < 300)) {
            successSeen = true;
            continue;
        }
        if (code == 0 && !context) continue;
        if (codeAt != std::string::npos) codesTaken.push_back(codeAt);
        Candidate c;
        c.position = p;
        c.code = code;
        c.enhanced = text.substr(p, r - p);
        c.line = (code ? std::to_string(code) + " " : std::string()) + c.enhanced + rest_of_line(text, r);
        out.push_back(c);
    }
    // Reply codes without an enhanced code: at the start of a line, or after ": ", a quote or "(".
    for (std::size_t p = 0; p + 3 < text.size() && out.size() < 2 * kMaxCandidates; ++p) {
        if (!is_digit(text[p]) || !is_digit(text[p + 1]) || !is_digit(text[p + 2])) continue;
        if (std::find(codesTaken.begin(), codesTaken.end(), p) != codesTaken.end()) continue;
        char after = text[p + 3];
        if (after != ' ' && after != '-' && after != ',') continue;
        std::size_t b = p;
        while (b > 0 && (text[b - 1] == ' ' || text[b - 1] == '\t')) --b;
        char before = b > 0 ? text[b - 1] : '\n';
        if (b == p && b > 0 && !(before == '\'' || before == '"' || before == '(')) continue;
        if (before != '\n' && before != ':' && before != '\'' && before != '"' && before != '(') continue;
        int code = std::stoi(text.substr(p, 3));
        if (code >= 200 && code < 300 && before == '\n') {
            successSeen = true;
            continue;
        }
        if (!refusal_code(code)) continue;
        // The words: after "535 ", or inside the tuple's quotes: (535, b'words').
        std::size_t words = p + 4;
        while (words < text.size() && (text[words] == ' ' || text[words] == 'b' || text[words] == '\'' || text[words] == '"') &&
               words < p + 8)
            ++words;
        std::string rest = rest_of_line(text, words);
        // An enhanced code right after it is the other loop's candidate.
        if (!rest.empty() && (rest[0] == '2' || rest[0] == '4' || rest[0] == '5') && rest.size() > 1 && rest[1] == '.') continue;
        Candidate c;
        c.position = p;
        c.code = code;
        c.line = std::to_string(code) + " " + rest;
        out.push_back(c);
    }
    return out;
}

std::optional<CredentialKind> credential_in(std::string_view text) {
    if (text.find("XOAUTH2") != std::string_view::npos || text.find("OAUTHBEARER") != std::string_view::npos)
        return CredentialKind::OAuthToken;
    for (const char* words : {"AUTH LOGIN", "AUTH PLAIN", "Password command failed", "Password not accepted", "Username and Password"})
        if (text.find(words) != std::string_view::npos) return CredentialKind::Password;
    return std::nullopt;
}

// What a knowledge-base entry means for `explain`: the cause it names (or the causes it leaves
// open), and whether that cause is a tenant setting, the retirement itself, or neither.
enum class Kind { Setting, Retirement, Other, Open };
struct Meaning {
    std::string cause;
    std::vector<std::string> possible;
    Kind kind;
};

const std::vector<std::string>& sign_in_layers() {
    static const std::vector<std::string> layers = {"wrong-password",       "tenant-switch",     "mailbox-switch",
                                                    "authentication-policy", "security-defaults", "conditional-access",
                                                    "retirement"};
    return layers;
}

Meaning meaning_of(const std::string& id, const std::string& reply) {
    static const std::map<std::string, Meaning> table = {
        {"smtp-auth-disabled", {"", {"tenant-switch", "mailbox-switch"}, Kind::Setting}},
        {"auth-security-defaults", {"security-defaults", {}, Kind::Setting}},
        {"basic-auth-disabled", {"", {"authentication-policy", "tenant-switch", "mailbox-switch"}, Kind::Setting}},
        {"auth-credentials-incorrect", {"wrong-password", {}, Kind::Other}},
        {"auth-sign-in-blocked", {"", {"security-defaults", "conditional-access"}, Kind::Setting}},
        {"auth-sign-in-refused",
         {"", {"security-defaults", "conditional-access", "authentication-policy", "tenant-switch", "mailbox-switch"}, Kind::Setting}},
        {"basic-auth-retired", {"retirement", {}, Kind::Retirement}},
        {"oauth-token-rejected", {"oauth-token", {}, Kind::Other}},
        {"auth-credentials-or-policy", {"", {"wrong-password", "authentication-policy"}, Kind::Open}},
        {"auth-unsuccessful", {"", {"wrong-password", "authentication-policy", "oauth-token"}, Kind::Open}},
        {"auth-mechanism-refused", {"auth-mechanism", {}, Kind::Other}},
        {"not-authenticated", {"not-signed-in", {}, Kind::Other}},
        {"send-as-denied", {"wrong-sender", {}, Kind::Other}},
        {"hve-external-recipient", {"hve-external-recipient", {}, Kind::Other}},
        {"ip-blocked", {"network", {}, Kind::Other}},
        {"tenant-blocked", {"tenant-blocked", {}, Kind::Other}},
        {"throttled", {"throttling", {}, Kind::Other}},
        {"sender-thread-limit", {"throttling", {}, Kind::Other}},
        {"temporary-failure", {"temporary", {}, Kind::Other}},
        {"starttls-required", {"tls-required", {}, Kind::Other}},
        {"starttls-refused", {"tls", {}, Kind::Other}},
        {"recipient-not-found", {"recipient", {}, Kind::Other}},
        {"too-many-recipients", {"recipient", {}, Kind::Other}},
        {"mailbox-full-or-quota", {"quota", {}, Kind::Other}},
        {"message-too-large", {"message-size", {}, Kind::Other}},
        {"message-not-submitted", {"message-submission", {}, Kind::Other}},
        {"auth-refused", {"", sign_in_layers(), Kind::Open}},
        {"auth-reply-hidden", {"", sign_in_layers(), Kind::Open}},
        {"certificate-untrusted", {"tls-trust-store", {}, Kind::Other}},
        {"certificate-rejected", {"", {"tls-trust-store", "certificate-wrong-host", "certificate-expired"}, Kind::Other}},
        {"certificate-expired", {"certificate-expired", {}, Kind::Other}},
        {"certificate-wrong-host", {"certificate-wrong-host", {}, Kind::Other}},
        {"dns-failed", {"network", {}, Kind::Other}},
        {"connect-failed", {"network", {}, Kind::Other}},
        {"timeout", {"network", {}, Kind::Other}},
    };
    auto it = table.find(id);
    Meaning meaning = it == table.end() ? Meaning{"", {}, Kind::Open} : it->second;
    // The reply names the switch: "... is disabled for the Tenant" / "... for the Mailbox".
    if (id == "smtp-auth-disabled" && icontains(reply, "for the Tenant")) meaning = {"tenant-switch", {}, Kind::Setting};
    if (id == "smtp-auth-disabled" && icontains(reply, "for the Mailbox")) meaning = {"mailbox-switch", {}, Kind::Setting};
    return meaning;
}

bool is_setting(const std::string& cause) {
    return cause == "tenant-switch" || cause == "mailbox-switch" || cause == "authentication-policy" ||
           cause == "security-defaults" || cause == "conditional-access";
}

std::string migration_fix() {
    for (const auto& known : known_replies())
        if (std::string(known.id) == "basic-auth-retired") return known.fix;
    return "";
}

// Whether a tenant setting can still bring Basic SMTP AUTH back, by the schedule at the as-of date.
void switch_back_for_setting(const ScheduleStatus& status, TextExplanation& out) {
    const std::string& id = status.schedule.id;
    if (!status.reached) {
        out.switchBack = SwitchBack::Possible;
        out.switchBackText = "Yes, for now: a tenant setting blocks Basic SMTP AUTH for this account, and changing it "
                             "back lets the account sign in again. Schedule " + id + ": " + status.sentence() +
                             ". Use the time to migrate.";
        return;
    }
    const ScheduleMilestone& reached = *status.reached;
    if (reached.adminCanTurnBackOn && *reached.adminCanTurnBackOn) {
        out.switchBack = SwitchBack::Possible;
        out.switchBackText = "Yes: " + reached.state + " since " + reached.date + " (schedule " + id +
                             "), and an admin can still turn Basic SMTP AUTH back on; that ends when Microsoft removes "
                             "it for good. Migrate.";
    } else if (reached.adminCanTurnBackOn) {
        out.switchBack = SwitchBack::MigrateOnly;
        out.switchBackText = "No: " + reached.state + " since " + reached.date + " (schedule " + id +
                             "), whatever the setting. Migrate: " + migration_fix();
    } else {
        out.switchBack = SwitchBack::Unknown;
        out.switchBackText = "Unknown: " + reached.state + " since " + reached.date + " (schedule " + id +
                             "), and the schedule does not say whether an admin can still turn Basic SMTP AUTH back "
                             "on. Check Microsoft's current announcement, and migrate.";
    }
}

void decide_switch_back(const Meaning& meaning, TextExplanation& out) {
    const std::string& cause = out.cause;
    if (cause == "retirement" || meaning.kind == Kind::Retirement) {
        out.switchBack = SwitchBack::MigrateOnly;
        out.switchBackText = "No: Exchange Online refused Basic authentication itself, and no tenant setting brings it "
                             "back for this submission. Migrate: " + migration_fix();
        return;
    }
    if (!cause.empty()) {
        if (is_setting(cause)) {
            switch_back_for_setting(out.schedule, out);
        } else {
            out.switchBack = SwitchBack::NotRetirement;
            out.switchBackText = "Not a retirement setting: fix the cause below. Basic SMTP AUTH itself follows schedule " +
                                 out.schedule.schedule.id + " (" + out.schedule.sentence() + ").";
        }
        return;
    }
    bool allSettings = !out.possibleCauses.empty() &&
                       std::all_of(out.possibleCauses.begin(), out.possibleCauses.end(), is_setting);
    if (allSettings) {
        switch_back_for_setting(out.schedule, out);
        return;
    }
    TextExplanation settingVerdict;
    settingVerdict.schedule = out.schedule;
    switch_back_for_setting(out.schedule, settingVerdict);
    out.switchBack = SwitchBack::DependsOnCause;
    out.switchBackText = "It depends on the cause, which this text leaves open. If a tenant setting blocks it: " +
                         settingVerdict.switchBackText + " If the password or the account is wrong, fix that instead.";
}

const char* cause_phrase(const std::string& cause) {
    static const std::map<std::string, const char*> phrases = {
        {"tenant-switch", "SMTP AUTH switched off for the whole tenant (Set-TransportConfig)"},
        {"mailbox-switch", "SMTP AUTH switched off for the mailbox (Set-CASMailbox)"},
        {"authentication-policy", "an Exchange authentication policy that does not allow Basic SMTP"},
        {"security-defaults", "Microsoft Entra security defaults"},
        {"conditional-access", "a Conditional Access policy that blocks legacy authentication"},
        {"retirement", "the retirement of Basic authentication itself"},
        {"wrong-password", "a wrong user name or password"},
        {"wrong-sender", "a sender address the account may not send as"},
        {"network", "the network (connection, address or its reputation)"},
        {"tls-trust-store", "a certificate this machine's trust store does not trust"},
        {"account-disabled", "an account disabled in Microsoft Entra ID"},
    };
    auto it = phrases.find(cause);
    return it == phrases.end() ? "" : it->second;
}

std::string join(const std::vector<std::string>& items) { return fmt::to_string(fmt::join(items, ", ")); }

// The snapshot's word on the cause: decided, contradicted or silent.
void decide(const Meaning& meaning, bool checked, const ExplainOptions& options, TextExplanation& out) {
    const Explanation& e = out.explanation;
    std::string decided = e.decidedBy == "credentials" ? "wrong-password" : e.decidedBy;
    if (!meaning.cause.empty()) {
        out.cause = meaning.cause;
        if (!options.tenant || !checked) return;
        if (!decided.empty() && decided != meaning.cause) {
            out.decision = Decision::Review;
            out.cause.clear();
            out.possibleCauses = {meaning.cause, decided};
            out.decisionNote = "The reply names " + meaning.cause + ", the snapshot " + decided +
                               ": the tenant may have changed since the snapshot was collected. Review both.";
        } else if (decided.empty() && !e.ruledOut.empty()) {
            out.decision = Decision::Review;
            out.decisionNote = "The reply names " + meaning.cause + ", but the snapshot rules out " + join(e.ruledOut) +
                               ": it may have been collected before the change. Review the setting now.";
        } else if (!decided.empty()) {
            out.decision = Decision::Snapshot;
            out.decisionNote = "The snapshot confirms it.";
        }
        return;
    }
    out.possibleCauses = meaning.possible;
    if (meaning.kind == Kind::Other) {
        // Not a tenant setting (which certificate problem, say): no snapshot can tell.
        out.decision = Decision::Review;
        out.decisionNote = "The text leaves the cause open (" + join(meaning.possible) +
                           ") and no tenant setting decides it: run tenantscan smtp-test against the same host, which "
                           "names it.";
        return;
    }
    if (!options.tenant) {
        out.decision = Decision::NeedsSnapshot;
        out.decisionNote = "The text leaves the cause open (" + join(meaning.possible) +
                           "). Run again with --snapshot SNAPSHOT --user ADDRESS to decide it for the account.";
        return;
    }
    bool among = decided == "account-disabled" ||
                 std::find(meaning.possible.begin(), meaning.possible.end(), decided) != meaning.possible.end();
    if (!decided.empty() && among) {
        out.cause = decided;
        out.decision = Decision::Snapshot;
        out.decisionNote = "The snapshot decides it: " + std::string(cause_phrase(decided)) + ".";
        if (e.blockedBy.size() > 1)
            out.decisionNote += " It shows more layers that block this sign-in (" + join(e.blockedBy) +
                                "): each must allow it, or the sender must migrate.";
        return;
    }
    out.decision = Decision::Review;
    out.decisionNote = "The snapshot does not decide between " + join(meaning.possible) +
                       (e.ruledOut.empty() ? std::string() : "; it rules out " + join(e.ruledOut)) +
                       ". Review: the evidence below says what the snapshot shows and what it does not.";
}

// Certificate-verification errors as OpenSSL, Python, Node.js, Java and .NET print them.
struct CertificateText {
    const char* words;
    Failure failure;
};
const std::vector<CertificateText>& certificate_texts() {
    static const std::vector<CertificateText> texts = {
        {"certificate has expired", Failure::CertificateExpired},
        {"CERT_HAS_EXPIRED", Failure::CertificateExpired},
        {"Hostname mismatch", Failure::CertificateWrongHost},
        {"ERR_TLS_CERT_ALTNAME_INVALID", Failure::CertificateWrongHost},
        {"RemoteCertificateNameMismatch", Failure::CertificateWrongHost},
        {"No subject alternative DNS name matching", Failure::CertificateWrongHost},
        {"unable to get local issuer certificate", Failure::CertificateUntrusted},
        {"self signed certificate", Failure::CertificateUntrusted},
        {"self-signed certificate", Failure::CertificateUntrusted},
        {"SELF_SIGNED_CERT_IN_CHAIN", Failure::CertificateUntrusted},
        {"UNABLE_TO_VERIFY_LEAF_SIGNATURE", Failure::CertificateUntrusted},
        {"unable to verify the first certificate", Failure::CertificateUntrusted},
        {"unable to find valid certification path to requested target", Failure::CertificateUntrusted},
        {"RemoteCertificateChainErrors", Failure::CertificateUntrusted},
        {"The remote certificate is invalid according to the validation procedure", Failure::CertificateRejected},
        {"certificate verify failed", Failure::CertificateRejected},
    };
    return texts;
}

// Network failures, taken only in an SMTP context.
struct NetworkText {
    const char* words;
    Failure failure;
};
const std::vector<NetworkText>& network_texts() {
    static const std::vector<NetworkText> texts = {
        {"ECONNREFUSED", Failure::Connect},       {"Connection refused", Failure::Connect},
        {"ETIMEDOUT", Failure::Timeout},          {"Connection timed out", Failure::Timeout},
        {"Connection timeout", Failure::Timeout}, {"ENOTFOUND", Failure::Resolve},
        {"Name or service not known", Failure::Resolve}, {"No such host is known", Failure::Resolve},
    };
    return texts;
}

std::size_t rank_of(const std::string& id) {
    static const std::vector<KnownReply> known = known_replies();
    for (std::size_t i = 0; i < known.size(); ++i)
        if (id == known[i].id) return i;
    return known.size();
}

void not_recognised(TextExplanation& out, bool successSeen, bool hadCandidates) {
    out.recognised = false;
    out.help = "Paste the server's whole reply line: its three-digit code, the enhanced code and the words "
               "(for example 535 5.7.139 Authentication unsuccessful, ...), as the client's log or exception shows it. "
               "If the device shows only its own error, run tenantscan smtp-test with the same host, port and account: "
               "it shows the server's reply and explains it.";
    if (successSeen)
        out.notes.push_back("The text holds a success reply (2xx / 2.x.x): nothing was refused there.");
    if (hadCandidates)
        out.notes.push_back("The text holds an SMTP reply that the knowledge base does not know; tenantscan names no "
                            "cause it cannot tell.");
}

}  // namespace

const char* to_string(SwitchBack verdict) {
    switch (verdict) {
        case SwitchBack::Possible: return "possible";
        case SwitchBack::MigrateOnly: return "migrate-only";
        case SwitchBack::NotRetirement: return "not-retirement";
        case SwitchBack::DependsOnCause: return "depends-on-cause";
        case SwitchBack::Unknown: return "unknown";
    }
    return "unknown";
}

const char* to_string(Decision decision) {
    switch (decision) {
        case Decision::Reply: return "reply";
        case Decision::Snapshot: return "snapshot";
        case Decision::Review: return "review";
        case Decision::NeedsSnapshot: return "needs-snapshot";
    }
    return "review";
}

TextExplanation explain_text(std::string_view raw, const ExplainOptions& options) {
    TextExplanation out;
    out.schedule = options.schedule;
    const std::string text = unescape(raw);
    const Wrapper* wrapper = find_wrapper(text);
    ReplyContext context;
    context.user = options.user;
    context.credential = credential_in(text);

    bool successSeen = false;
    std::vector<Candidate> candidates = find_replies(text, successSeen);
    // The most specific known reply wins (the knowledge base's order): with .NET's "5.7.57 ... Error:
    // 535 5.7.139 ..." the refused sign-in explains the refused sender.
    const Candidate* best = nullptr;
    std::optional<StepKind> bestStep;
    std::size_t bestRank = 0;
    std::vector<std::string> others;
    for (const auto& candidate : candidates) {
        Reply reply;
        reply.code = candidate.code;
        reply.enhancedCode = candidate.enhanced;
        reply.lines = {printable(candidate.line)};
        // RFC 4954's replies to AUTH (535, 534, 538; 504 5.7.4 for an unknown mechanism), and
        // Exchange Online's 5.7.139, which it sends only to AUTH.
        bool authCode = candidate.code == 535 || candidate.code == 534 || candidate.code == 538 ||
                        candidate.enhanced == "5.7.139" || (candidate.code == 504 && candidate.enhanced == "5.7.4");
        std::optional<StepKind> step;
        if (authCode || (candidate.code == 0 && wrapper && wrapper->auth)) step = StepKind::Auth;
        const KnownReply* known = classify_reply(reply, step, context.credential);
        if (!known) continue;
        std::size_t rank = rank_of(known->id);
        if (!best || rank < bestRank) {
            if (best) others.push_back(printable(best->line));
            best = &candidate;
            bestStep = step;
            bestRank = rank;
        } else {
            others.push_back(reply.lines.front());
        }
    }
    if (best) {
        Reply reply;
        reply.code = best->code;
        reply.enhancedCode = best->enhanced;
        reply.lines = {printable(best->line)};
        context.step = bestStep;
        out.recognised = true;
        out.wrapper = wrapper ? wrapper->name : "";
        out.reply = reply.lines.front();
        out.code = reply.code;
        out.enhancedCode = reply.enhancedCode;
        out.explanation = explain_reply(reply, context, options.tenant);
        for (const auto& other : others)
            if (other != out.reply) out.notes.push_back("The text also holds the reply '" + other + "', explained by this one.");
    } else {
        // No reply: a certificate that does not verify, a client that hides the reply, the network.
        std::optional<Failure> failure;
        std::string words;
        for (const auto& certificate : certificate_texts())
            if (icontains(text, certificate.words)) {
                failure = certificate.failure;
                words = certificate.words;
                break;
            }
        if (!failure && smtp_context(text))
            for (const auto& network : network_texts())
                if (text.find(network.words) != std::string::npos) {
                    failure = network.failure;
                    words = network.words;
                    break;
                }
        if (failure) {
            out.recognised = true;
            out.wrapper = wrapper ? wrapper->name : "";
            out.explanation = explain_failure_kind(*failure, printable(words), context);
        } else if (wrapper && wrapper->auth && (wrapper->hidesReply || smtp_context(text))) {
            out.recognised = true;
            out.replyHidden = true;
            out.wrapper = wrapper->name;
            context.step = StepKind::Auth;
            out.explanation = explain_by_id("auth-reply-hidden", context, options.tenant);
            out.notes.push_back(std::string(wrapper->name) + " reports that the sign-in failed but does not show the "
                                "server's reply code: run tenantscan smtp-test with the same account to see it.");
        } else {
            not_recognised(out, successSeen, !candidates.empty());
            return out;
        }
    }

    const std::string replyText = out.reply;
    Meaning meaning = meaning_of(out.explanation.id, replyText);
    bool checked = !out.explanation.evidence.empty() || !out.explanation.ruledOut.empty() || !out.explanation.decidedBy.empty();
    decide(meaning, checked, options, out);
    // An account the snapshot does not hold: its settings are not known, whatever the defaults say.
    if (options.tenant && !options.user.empty() && !options.tenant->directory.find_user(options.user) &&
        out.decision == Decision::Snapshot) {
        if (out.possibleCauses.empty() && !meaning.cause.empty()) out.possibleCauses = {meaning.cause};
        if (out.possibleCauses.empty()) out.possibleCauses = {out.cause};
        out.cause = meaning.cause;
        out.decision = Decision::Review;
        out.decisionNote = "'" + options.user + "' is not in the snapshot's /graph/users: its own settings are not known, "
                           "so the snapshot decides nothing for it. Check the user name, or collect a newer snapshot.";
    }
    decide_switch_back(meaning, out);
    if (options.tenant == nullptr && !options.user.empty())
        out.notes.push_back("--user without --snapshot only fills the account into the fix.");
    return out;
}

int exit_code(const TextExplanation& explanation) { return explanation.recognised ? 0 : 1; }

nlohmann::json to_json(const TextExplanation& x) {
    nlohmann::json out;
    out["recognised"] = x.recognised;
    out["notes"] = nlohmann::json::array();
    for (const auto& note : x.notes) out["notes"].push_back(printable(note));
    out["schedule"] = {{"id", x.schedule.schedule.id},
                       {"asOf", x.schedule.asOf},
                       {"phase", x.schedule.phase()},
                       {"sentence", printable(x.schedule.sentence())}};
    if (!x.recognised) {
        out["help"] = x.help;
        return out;
    }
    out["wrapper"] = x.wrapper.empty() ? nlohmann::json(nullptr) : nlohmann::json(x.wrapper);
    if (x.reply.empty()) {
        out["reply"] = nullptr;
    } else {
        out["reply"] = {{"text", printable(x.reply)},
                        {"code", x.code == 0 ? nlohmann::json(nullptr) : nlohmann::json(x.code)},
                        {"enhancedCode", x.enhancedCode.empty() ? nlohmann::json(nullptr) : nlohmann::json(x.enhancedCode)}};
    }
    out["replyHidden"] = x.replyHidden;
    out["id"] = x.explanation.id;
    out["cause"] = x.cause.empty() ? nlohmann::json(nullptr) : nlohmann::json(x.cause);
    out["possibleCauses"] = x.possibleCauses;
    out["decision"] = to_string(x.decision);
    out["decisionNote"] = printable(x.decisionNote);
    out["explanation"] = {{"cause", printable(x.explanation.cause)},
                          {"fix", printable(x.explanation.fix)},
                          {"confirm", printable(x.explanation.confirm)}};
    out["evidence"] = nlohmann::json::array();
    for (const auto& item : x.explanation.evidence) out["evidence"].push_back(printable(item));
    out["switchBack"] = {{"verdict", to_string(x.switchBack)}, {"text", printable(x.switchBackText)}};
    return out;
}

std::string to_text(const TextExplanation& x) {
    std::string out;
    auto line = [&](const std::string& label, const std::string& value) {
        if (!value.empty()) out += label + printable(value) + "\n";
    };
    if (!x.recognised) {
        out += "Not recognised: tenantscan found no SMTP reply or client error it knows in this text, so it names no cause.\n";
        for (const auto& note : x.notes) line("Note: ", note);
        line("What would help: ", x.help);
        return out;
    }
    line("Recognised: ", x.replyHidden ? x.wrapper + " (the server's reply is hidden)"
                                       : (x.reply.empty() ? std::string("a client error") : std::string("an SMTP reply")) +
                                             (x.wrapper.empty() ? std::string() : " inside " + x.wrapper));
    line("Reply: ", x.reply);
    line("Knowledge-base entry: ", x.explanation.id);
    if (!x.cause.empty())
        line("Cause: ", x.cause + (cause_phrase(x.cause)[0] ? std::string(" (") + cause_phrase(x.cause) + ")" : std::string()));
    else
        line("Possible causes: ", join(x.possibleCauses));
    line("Decided by: ", std::string(to_string(x.decision)) + (x.decisionNote.empty() ? "" : ": " + x.decisionNote));
    line("Why: ", x.explanation.cause);
    line("Switch back before the cut-off? ", x.switchBackText);
    line("Fix: ", x.explanation.fix);
    line("Confirm: ", x.explanation.confirm);
    if (!x.explanation.evidence.empty()) {
        out += "Evidence from the snapshot:\n";
        for (const auto& item : x.explanation.evidence) out += "  - " + printable(item) + "\n";
    }
    for (const auto& note : x.notes) line("Note: ", note);
    line("Schedule: ", x.schedule.header_line());
    return out;
}

}  // namespace tenantscan::smtp
