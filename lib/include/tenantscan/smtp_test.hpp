// `tenantscan smtp-test`: submits a clearly labelled test message through an SMTP server the way a
// device would (libcurl does the protocol and TLS), records every step with its timing, and turns
// the server's answer into the cause and the fix.
//
// Three separate stages, so each can be used and tested on its own:
//   run()       talks to the server and records facts (steps, replies, TLS session, transcript);
//   diagnose()  explains those facts from the library of known replies, and, given a tenant
//               snapshot, names the policy or setting responsible;
//   to_json() / to_text()  render both.
// Secrets (password or OAuth token) live only in Options::secret: no Result field, transcript
// line or message ever contains them or their base64 forms.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tenantscan {

struct Snapshot;
class Directory;
class Engine;

namespace smtp {

// How the connection is protected. StartTls is the default and what HVE and Exchange Online
// expect; Plain exists for test servers only (credentials then travel unencrypted).
enum class Security { StartTls, ImplicitTls, Plain };

// Basic (user name + password, SASL LOGIN/PLAIN) or OAuth (SASL XOAUTH2 with an access token).
enum class CredentialKind { Password, OAuthToken };

inline constexpr int kSubmissionPort = 587;
inline constexpr int kImplicitTlsPort = 465;

struct Options {
    std::string host;
    int port = 0;                              // 0: 587, or 465 with ImplicitTls
    Security security = Security::StartTls;
    std::string user;                          // the SMTP AUTH user name (UPN / HVE address)
    CredentialKind credentialKind = CredentialKind::Password;
    std::string secret;                        // the password or access token; never printed
    std::string from;                          // envelope and header sender; "" = user
    std::vector<std::string> to;               // recipients; required unless authOnly
    bool authOnly = false;                     // stop after AUTH (no message is sent)
    std::chrono::milliseconds timeout{30000};  // for the connection and for the whole session
    std::string caFile;                        // PEM file of CAs to trust instead of libcurl's
                                               // default bundle (e.g. a test server's private CA)
    // "ADDRESS[:PORT]": connect there instead of to what DNS answers for `host` (a new server
    // before the DNS change, one node of several). TLS still verifies the certificate against
    // `host`, and the explanations still speak of `host`. "" = DNS. IPv6 in brackets: [::1]:587.
    std::string connectTo;

    int effective_port() const;
    const std::string& effective_from() const;
};

// Throws std::invalid_argument explaining the first problem (missing host, user or secret,
// no recipient without authOnly, port out of range, timeout not positive).
void validate(const Options& options);

enum class StepKind {
    Resolve,       // DNS
    Connect,       // TCP connect
    TlsHandshake,  // implicit TLS only (with STARTTLS the handshake belongs to the StartTls step)
    Banner,        // the server's 220 greeting
    Ehlo,
    StartTls,      // the command, its 220 reply and the TLS handshake
    EhloAfterTls,
    Auth,
    Noop,          // authOnly: a no-op after AUTH so libcurl ends the session with QUIT
    MailFrom,
    RcptTo,        // one step per recipient
    Data,          // the command, the message, and the server's final answer
    Quit,
};

enum class StepStatus {
    Ok,
    Refused,     // the server answered with a 4xx/5xx reply
    Failed,      // no usable answer: network, timeout, TLS, connection closed, nothing to sign in with
    NotReached,  // an earlier step ended the session
};

// Why a step failed without (or before) a server refusal.
enum class Failure {
    None,
    Resolve,                  // the host name does not resolve
    Connect,                  // TCP connection refused or unreachable
    Timeout,                  // no answer within --timeout
    StartTlsNotOffered,       // EHLO did not announce STARTTLS
    CertificateExpired,
    CertificateNotYetValid,
    CertificateUntrusted,     // not issued by a trusted CA (or self-signed)
    CertificateWrongHost,     // valid, but for another host name
    CertificateRejected,      // any other verification error (named in Step::error)
    TlsHandshake,             // the TLS handshake failed (e.g. no common protocol version)
    CaFileUnreadable,         // --ca-file could not be used
    AuthNotOffered,           // EHLO announced no AUTH at all
    NoUsableAuthMechanism,    // AUTH announced, but none of the mechanisms this credential needs
    ConnectionLost,           // the server closed the connection or the network failed
    Other,                    // anything else libcurl reported (its message is in Step::error)
};

// An SMTP reply exactly as the server sent it.
struct Reply {
    int code = 0;                    // 250, 535, ...
    std::string enhancedCode;        // RFC 3463 "5.7.139", "" when the server sent none
    std::vector<std::string> lines;  // every line, verbatim (multi-line replies have several)

    const std::string& last_line() const;
    std::string verbatim() const;    // the lines joined with " / "
};

struct Step {
    StepKind kind = StepKind::Resolve;
    std::string label;                  // "DNS", "AUTH PLAIN", "RCPT TO <a@contoso.com>", ...
    std::string recipient;              // RcptTo only
    StepStatus status = StepStatus::NotReached;
    std::optional<double> milliseconds;
    std::optional<Reply> reply;         // the final reply (for a refusal: the server's words)
    std::string detail;                 // facts learned: address, TLS parameters, mechanisms offered
    Failure failure = Failure::None;    // Failed steps only
    std::string error;                  // libcurl's or OpenSSL's words for a Failed step
};

// The TLS session, from OpenSSL during the handshake (also when certificate verification fails,
// so the certificate that was refused can be named).
struct TlsSession {
    std::string protocol;                      // "TLSv1.3"; "" when the handshake did not finish
    std::string cipher;
    std::string subject, issuer;               // of the server certificate, RFC 2253
    std::string notBefore, notAfter;           // ISO 8601 UTC
    std::vector<std::string> subjectAltNames;  // "DNS:smtp.hve.mx.microsoft", "IP:127.0.0.1"
    std::string verifyError;                   // OpenSSL's verification error, "" when none
};

// One line of the dialogue. AUTH payloads are replaced by "<credentials redacted>".
struct TranscriptLine {
    double milliseconds = 0;
    bool fromClient = false;
    std::string text;
};

enum class Outcome {
    Success,          // every requested step succeeded
    Refused,          // the server refused something (or offered no way to sign in)
    ConnectionError,  // DNS, TCP, timeout, TLS, or the connection was lost
};

struct Result {
    Options options;                      // as run, with the secret removed
    std::string testId;                   // unique; in the message's subject and headers
    std::string subject;                  // of the test message ("" with authOnly)
    std::vector<Step> steps;              // every planned step in order, NotReached when not reached
    std::optional<TlsSession> tls;
    std::string remoteAddress;            // the IP address connected to
    std::vector<std::string> capabilities;          // of the last EHLO reply (e.g. "AUTH LOGIN XOAUTH2")
    std::vector<std::string> authMechanismsOffered; // from the last EHLO reply
    std::string authMechanismUsed;
    std::vector<TranscriptLine> transcript;

    Outcome outcome() const;
    const Step* first_unsuccessful_step() const;  // nullptr on success
};

// Runs the test. Never throws for network or server problems (they are recorded in the
// result); throws std::invalid_argument for invalid options (see validate()).
Result run(const Options& options);

// A snapshot of the tenant the account belongs to, to name the policy or setting behind a refusal.
struct Tenant {
    const Snapshot& snapshot;
    const Directory& directory;
    const Engine& engine;
};

struct Explanation {
    std::string id;                     // stable, e.g. "auth-sign-in-blocked" (see docs/smtp-test.md)
    std::string step;                   // label of the step it explains; "" for advisories
    std::string reply;                  // the server's reply, verbatim; "" when there was none
    std::string cause;
    std::string fix;
    std::vector<std::string> evidence;  // from the snapshot: policies, settings, values
};

struct Diagnosis {
    std::vector<Explanation> explanations;  // one per refused or failed step, in step order
    std::vector<Explanation> advisories;    // worth knowing even when everything worked
};

// Explains the result. `tenant` may be null (no snapshot): explanations then say which settings
// to check instead of which one is responsible.
Diagnosis diagnose(const Result& result, const Tenant* tenant);

// 0 success, 1 refused by the server, 2 connection error (usage errors are the CLI's).
int exit_code(const Result& result);

// One entry of the library of known replies (data in smtp_explanations.cpp), for docs and tests.
struct KnownReply {
    const char* id;
    const char* matches;  // human description of what it matches, e.g. "535 5.7.139"
    const char* cause;
    const char* fix;
};
std::vector<KnownReply> known_replies();

nlohmann::json to_json(const Result& result, const Diagnosis& diagnosis, bool includeTranscript);
std::string to_text(const Result& result, const Diagnosis& diagnosis, bool includeTranscript, bool colour);

const char* to_string(StepKind kind);      // "dns", "connect", "tlsHandshake", ... "quit"
const char* to_string(StepStatus status);  // "ok", "refused", "failed", "notReached"
const char* to_string(Failure failure);    // "none", "resolve", ... "other"
const char* to_string(Outcome outcome);    // "success", "refused", "connectionError"
const char* to_string(Security security);  // "starttls", "tls", "plain"

}  // namespace smtp
}  // namespace tenantscan
