// `tenantscan smtp-test`: submits a clearly labelled test message through an SMTP server the way a
// device would (its own SMTP client over OpenSSL, so every reply is checked against RFC 5321,
// 3207, 4954 and 7628), records every step with its timing, and turns the server's answer into the
// cause and the fix.
//
// Three separate stages, so each can be used and tested on its own:
//   run()       talks to the server and records facts (steps, replies, TLS session, transcript);
//   diagnose()  explains those facts from the library of known replies, and, given a tenant
//               snapshot, names the policy or setting responsible;
//   to_json() / to_text()  render both.
// Secrets (password or OAuth token) live only in Options::secret: no Result field, transcript
// line or message ever contains them or their base64 forms. Replies are parsed from the bytes
// the server sent; only the text kept for printing is redacted, and escaped (control characters
// and bytes that are not UTF-8 become \xHH), so every output is byte-safe and terminal-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tenantscan {

struct Snapshot;
class Directory;
class ConditionalAccessEngine;

namespace smtp {

// How the connection is protected. StartTls is the default and what HVE and Exchange Online
// expect; Plain exists for test servers only (credentials then travel unencrypted).
enum class Security { StartTls, ImplicitTls, Plain };

// Basic (user name + password, SASL LOGIN/PLAIN) or OAuth (SASL XOAUTH2 with an access token).
enum class CredentialKind { Password, OAuthToken };

// The SASL mechanism. Auto: PLAIN (else LOGIN) for a password, XOAUTH2 for a token. Devices
// usually use LOGIN: name it to test the way the device signs in.
enum class AuthMechanism { Auto, Login, Plain, XOAuth2 };

// The highest TLS version offered. Any: TLS 1.2 and 1.3. Tls12: TLS 1.2 only, like most printers.
enum class TlsMaxVersion { Any, Tls12, Tls13 };

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
    std::string caFile;                        // PEM file of CAs to trust instead of OpenSSL's
                                               // default bundle (e.g. a test server's private CA)
    // "ADDRESS[:PORT]": connect there instead of to what DNS answers for `host` (a new server
    // before the DNS change, one node of several). TLS still verifies the certificate against
    // `host`, and the explanations still speak of `host`. "" = DNS. IPv6 in brackets: [::1]:587.
    std::string connectTo;
    TlsMaxVersion tlsMaxVersion = TlsMaxVersion::Any;
    // OpenSSL cipher string (e.g. "ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA") restricting the TLS 1.2
    // cipher suites offered; TLS 1.3 suite names (TLS_AES_...) in it restrict TLS 1.3. "" = default.
    std::string ciphers;
    AuthMechanism authMechanism = AuthMechanism::Auto;
    // The connectivity probe (--probe): banner, EHLO, STARTTLS (or implicit TLS), the verified
    // certificate, the AUTH mechanisms offered, then QUIT. No credentials, no AUTH, no message:
    // user, secret, to and from must be empty. Success only when every one of those steps was
    // seen to succeed and the server offers AUTH (every mechanism of expectAuth, when given).
    bool probe = false;
    std::vector<std::string> expectAuth;  // probe only: SASL mechanisms that must be offered (upper case)
    // --cert-expiry-days N: fail (exit 1) when the verified server certificate has N days or less
    // left. Needs TLS. A run that sees no certificate never passes this check.
    std::optional<int> certExpiryDays;

    int effective_port() const;
    const std::string& effective_from() const;
};

// Throws std::invalid_argument explaining the first problem (missing host, user or secret,
// no recipient without authOnly, credentials/recipients/sender with probe, expectAuth without
// probe, certExpiryDays without TLS or out of range, port out of range, timeout not positive, control characters in a
// name or address, a mechanism that does not fit the credential, a cipher string OpenSSL rejects).
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
    Noop,          // not planned any more (kept so the JSON name stays reserved)
    MailFrom,
    RcptTo,        // one step per recipient
    Data,          // the command, the message, and the server's final answer
    Quit,
    CertificateExpiry,  // --cert-expiry-days: the verified certificate's days left, after the last EHLO
    AuthOffered,        // --probe: the AUTH mechanisms the last EHLO offered (and --expect-auth)
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
    Other,                    // anything else (the message is in Step::error)
    PlainServerOnTlsPort,     // --tls, but the server greeted in plain text: the port wants STARTTLS
    TlsServerOnPlainPort,     // no greeting, but the server answers a TLS handshake: use --tls
    UnexpectedReply,          // a reply RFC 5321/4954 does not allow at this point (e.g. 250 to DATA)
    SaslExchangeCancelled,    // the server kept sending 334 challenges; cancelled with "*"
    MalformedReply,           // not an SMTP reply (no 3-digit code, too long)
    CertificateExpiresSoon,   // --cert-expiry-days: the certificate has N days or less left
    CertificateNotSeen,       // --cert-expiry-days, but no verified certificate to check
    ExpectedAuthNotOffered,   // --expect-auth: a mechanism asked for is not offered
};

// An SMTP reply. The code and the enhanced code are parsed from the bytes the server sent; the
// lines are kept for printing: escaped (printable()) and with any secret redacted.
struct Reply {
    int code = 0;                    // 250, 535, ...
    std::string enhancedCode;        // RFC 3463 "5.7.139", "" when the server sent none
    std::vector<std::string> lines;  // every line (multi-line replies have several)

    const std::string& last_line() const;
    std::string verbatim() const;    // the lines joined with " / "
    std::string text() const;        // the lines without their codes, joined with " "
};

// Parses a reply from its lines as received (CRLF removed). Lines that do not start with a
// 3-digit code leave code 0. The lines are escaped with printable(), not redacted.
Reply parse_reply(const std::vector<std::string>& rawLines);

// Text safe for a terminal and for JSON: bytes that are not valid UTF-8, C0/C1 control
// characters, DEL and bidirectional overrides become \xHH (or \u{HHHH}).
std::string printable(std::string_view bytes);

// What an EHLO reply announces (RFC 5321: keywords are case-insensitive; "AUTH=LOGIN PLAIN" is
// the old form of "AUTH LOGIN PLAIN"). The one parser the protocol and the report both use.
struct Capabilities {
    bool startTls = false;
    bool authAnnounced = false;               // an AUTH line, even without mechanisms
    std::vector<std::string> authMechanisms;  // upper case, in the server's order, no duplicates
    std::vector<std::string> keywords;        // every capability line after the greeting
};
Capabilities parse_capabilities(const std::vector<std::string>& ehloLines);  // the reply's lines

struct Step {
    StepKind kind = StepKind::Resolve;
    std::string label;                  // "DNS", "AUTH PLAIN", "RCPT TO <a@contoso.com>", ...
    std::string recipient;              // RcptTo only
    StepStatus status = StepStatus::NotReached;
    std::optional<double> milliseconds;
    std::optional<Reply> reply;         // the final reply (for a refusal: the server's words)
    std::string detail;                 // facts learned: address, TLS parameters, mechanisms offered
    Failure failure = Failure::None;    // Failed steps only
    std::string error;                  // what went wrong, for a Failed step (OpenSSL's or the system's words)
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
    std::string cipherStandardName;            // IANA name, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    // Time from the handshake to notAfter (negative once expired), and its whole days (rounded
    // down). nullopt when no certificate was seen or its notAfter could not be read.
    std::optional<long long> secondsLeft;
    std::optional<long long> daysLeft;
};

// The error challenge of a failed OAuth sign-in (RFC 7628 §3.2.2: base64 JSON in a 334 reply),
// decoded. The client answers it with a dummy response (%x01) and the server then fails AUTH.
struct OAuthError {
    std::string status;   // "invalid_token", "401", ...
    std::string scope;    // the scope the token needs
    std::string schemes;
    std::string json;     // the decoded challenge, printable(); "" when it was not JSON
};

// One line of the dialogue. AUTH payloads are replaced by "<credentials redacted>".
struct TranscriptLine {
    double milliseconds = 0;
    bool fromClient = false;
    std::string text;
};

enum class Outcome {
    Success,             // the server accepted the message after 354 for every recipient (with
                         // authOnly: AUTH succeeded with 235; with probe: every step
                         // before QUIT succeeded)
    PartiallyDelivered,  // accepted after 354, but some recipients were refused
    Refused,             // nothing delivered: the server refused something (or offered no way to sign in)
    ConnectionError,     // nothing delivered: DNS, TCP, timeout, TLS, connection lost, or a reply
                         // the protocol does not allow
};

struct Result {
    Options options;                      // as run, with the secret removed
    std::string testId;                   // unique; in the message's subject and headers
    std::string subject;                  // of the test message ("" with authOnly)
    std::vector<Step> steps;              // every planned step in order, NotReached when not reached
    std::optional<TlsSession> tls;
    std::string remoteAddress;            // the IP address connected to
    int remotePort = 0;                   // the port connected to (--connect-to may change it)
    std::vector<std::string> capabilities;          // of the last EHLO reply (e.g. "AUTH LOGIN XOAUTH2")
    std::vector<std::string> authMechanismsOffered; // from the last EHLO reply
    bool startTlsOffered = false;                   // in the first EHLO reply
    std::string authMechanismUsed;
    bool authenticated = false;           // AUTH ended with 235
    std::optional<OAuthError> oauthError;
    // Delivery, set only from the documented sequence: 354 after DATA, then 250 after the body.
    bool messageAccepted = false;
    std::vector<std::string> acceptedRecipients, refusedRecipients;
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
    const ConditionalAccessEngine& engine;
};

struct Explanation {
    std::string id;                     // stable, e.g. "auth-sign-in-blocked" (see docs/smtp-test.md)
    std::string step;                   // label of the step it explains; "" for advisories
    std::string reply;                  // the server's reply, verbatim; "" when there was none
    std::string cause;
    std::string fix;
    std::string confirm;                // what evidence confirms or rules the cause out
    std::vector<std::string> evidence;  // from the snapshot: policies, settings, values
    // With a snapshot: the cause it names for certain ("tenant-switch", "mailbox-switch",
    // "authentication-policy", "security-defaults", "conditional-access", "account-disabled",
    // "credentials"), "" when it names none; and the layers it rules out. Not part of smtp-test's
    // report (its evidence says the same in words); `explain` uses them to say decided or review.
    std::string decidedBy = {};
    std::vector<std::string> ruledOut = {};
    std::vector<std::string> blockedBy = {};  // every cause the snapshot finds blocking, in check order
};

// The negotiated TLS session against Microsoft's documented requirements for Microsoft 365
// endpoints: TLS 1.2 or newer, and for TLS 1.2 one of the cipher suites Microsoft lists.
struct TlsAssessment {
    bool versionMet = false;
    std::optional<bool> cipherMet;  // nullopt: not decidable (TLS 1.3: Microsoft lists TLS 1.2 suites)
    std::string summary;            // one sentence, for the report
};
std::optional<TlsAssessment> assess_tls(const TlsSession& tls);

struct Diagnosis {
    std::vector<Explanation> explanations;  // one per refused or failed step, in step order
    std::vector<Explanation> advisories;    // worth knowing even when everything worked
    std::optional<TlsAssessment> tls;       // when a TLS session was negotiated
};

// Explains the result. `tenant` may be null (no snapshot): explanations then say which settings
// to check instead of which one is responsible.
Diagnosis diagnose(const Result& result, const Tenant* tenant);

// 0 success (the message accepted after 354; with authOnly: signed in; with probe: every step
// before QUIT succeeded), 1 refused, partly delivered, or a check failed (--cert-expiry-days,
// --expect-auth, no AUTH offered), 2 connection or protocol error (usage errors are the CLI's).
int exit_code(const Result& result);

// One entry of the library of known replies (data in lib/smtp/explanations.cpp), for docs and tests.
struct KnownReply {
    const char* id;
    const char* matches;  // human description of what it matches, e.g. "535 5.7.139"
    const char* cause;
    const char* fix;
    const char* confirm;  // what confirms or rules the cause out (with --snapshot: what is checked)
};
std::vector<KnownReply> known_replies();

// The knowledge base on its own, for any command that has a server's reply text: classifies a
// reply by its code, enhanced code and text (and, when known, the step and the credential) and
// returns the entry, or nullptr for an unknown reply.
const KnownReply* classify_reply(const Reply& reply, std::optional<StepKind> step = std::nullopt,
                                 std::optional<CredentialKind> credential = std::nullopt);

// What is known about a reply or failure that comes from a pasted text rather than a run (the
// `explain` command): the step and credential when the text shows them, the account when given.
struct ReplyContext {
    std::optional<StepKind> step;
    std::optional<CredentialKind> credential;  // nullopt: the text does not tell a password from a token
    std::string user;                          // "" = not known
    std::string from;
    std::string host;                          // "" = not known
};

// The same knowledge base and tenant checks as diagnose(), for a reply known only from a text.
Explanation explain_reply(const Reply& reply, const ReplyContext& context, const Tenant* tenant);
// A knowledge-base entry by its id (e.g. "auth-reply-hidden", matched by no reply); throws
// std::logic_error for an unknown id.
Explanation explain_by_id(const std::string& id, const ReplyContext& context, const Tenant* tenant);
// A failure without a reply (a certificate that does not verify, a refused connection) known from
// a text; `error` is the text's own words.
Explanation explain_failure_kind(Failure failure, const std::string& error, const ReplyContext& context);

nlohmann::json to_json(const Result& result, const Diagnosis& diagnosis, bool includeTranscript);
std::string to_text(const Result& result, const Diagnosis& diagnosis, bool includeTranscript, bool colour);

const char* to_string(StepKind kind);      // "dns", "connect", "tlsHandshake", ... "quit"
const char* to_string(StepStatus status);  // "ok", "refused", "failed", "notReached"
const char* to_string(Failure failure);    // "none", "resolve", ... "other"
const char* to_string(Outcome outcome);    // "success", "refused", "connectionError"
const char* to_string(Security security);  // "starttls", "tls", "plain"
const char* to_string(AuthMechanism mechanism);  // "auto", "LOGIN", "PLAIN", "XOAUTH2"
const char* to_string(TlsMaxVersion version);    // "any", "1.2", "1.3"

}  // namespace smtp
}  // namespace tenantscan
