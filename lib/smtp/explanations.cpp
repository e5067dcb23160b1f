// The knowledge half of smtp-test: what a server's refusal or a failed step means, and how to fix
// it. The library of explanations is data (the two tables below); docs/smtp-test.md lists it and
// a test keeps the two in step. Codes come from Microsoft's Exchange Online documentation (NDR
// reference, SMTP AUTH and HVE pages) and RFC 3463; anything not matched is reported verbatim.
//
// With a tenant snapshot, the refusals that depend on tenant settings name the setting: the
// Conditional Access policies (or security defaults) that block a Basic SMTP AUTH sign-in, the
// account's effective Exchange authentication policy, the SMTP AUTH switches, the recipients
// outside the accepted domains.
#include <tenantscan/authentication_policy.hpp>
#include <tenantscan/conditional_access.hpp>
#include <tenantscan/directory.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/model.hpp>
#include <tenantscan/smtp_test.hpp>
#include <tenantscan/detail/text.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tenantscan::smtp {

namespace {

// Which tenant setting can confirm or rule out a cause, when a snapshot is given.
enum class TenantCheck { SignInPolicies, AuthenticationPolicy, SmtpAuthSwitch, ExternalRecipients, Account };

enum class Combine { Both, Either };

// One entry of the knowledge base: what a reply looks like (step, code, RFC 3463 enhanced code,
// words of the text), what it means, how to fix it, what confirms or rules the cause out, and
// which tenant settings --snapshot checks for it. Nothing about replies lives anywhere else.
struct ReplyRule {
    const char* id;
    const char* matches;                     // for the docs: what the rule matches
    std::vector<StepKind> steps;             // empty: any step
    std::vector<int> codes;                  // empty: any reply code
    std::vector<std::string> enhanced;       // empty: any; "4.7." (trailing dot) is a prefix
    std::vector<std::string> text;           // empty: any; else one must occur (case-insensitive)
    Combine combine;                         // how enhanced and text combine when both are given
    std::optional<CredentialKind> credential;
    std::vector<TenantCheck> checks;
    const char* cause;
    const char* fix;
    const char* confirm;
    // Words of the reply that narrow the cause down, and the sentence each adds to it
    // ("for the Tenant" / "for the Mailbox" name the switch).
    std::vector<std::pair<const char*, const char*>> details = {};
    // Never matched from a reply: `explain` names it for a client that hides the server's reply.
    bool byIdOnly = false;
};

// First match wins: specific entries before general ones. Placeholders: {user} {from} {host}.
// Texts are Exchange Online's (docs/smtp-test.md cites each source).
const std::vector<ReplyRule>& reply_rules() {
    using C = TenantCheck;
    static const std::vector<ReplyRule> rules = {
        {"starttls-refused", "any refusal of STARTTLS (e.g. 454 TLS not available)",
         {StepKind::StartTls}, {}, {}, {}, Combine::Both, std::nullopt, {},
         "The server refused to start TLS, so the connection could not be encrypted; the credentials were not sent.",
         "Check the server's TLS set-up (certificate, TLS 1.2 or newer); for Exchange Online and HVE retry later.",
         "The reply text names the reason; a second run shows whether it is temporary (4xx) or lasting (5xx)."},
        {"starttls-required", "any reply mentioning STARTTLS or required encryption (530 5.7.0, 5.7.3, 538 5.7.11)",
         {}, {}, {"5.7.11"}, {"STARTTLS", "encryption required"}, Combine::Either, std::nullopt, {},
         "The server accepts this command only on an encrypted connection, and this session was not encrypted.",
         "Test without --plain (STARTTLS is the default), and configure the device for STARTTLS on port 587 "
         "with TLS 1.2 or newer.",
         "The report's header says which security was used; with --plain no TLS step appears."},
        {"auth-security-defaults", "5.7.139 saying the user is locked by security defaults",
         {}, {}, {"5.7.139"}, {"security defaults"}, Combine::Both, std::nullopt, {C::SignInPolicies},
         "Microsoft Entra security defaults are on in this tenant, and they block every legacy-protocol sign-in, "
         "Basic SMTP AUTH included.",
         "Move the sender to OAuth (XOAUTH2), or turn security defaults off and protect the tenant with "
         "Conditional Access instead (needs Entra ID P1), excluding this account from the policy that blocks "
         "legacy authentication.",
         "With --snapshot: /graph/securityDefaults isEnabled. In Entra ID: Properties, Manage security defaults."},
        {"smtp-auth-disabled", "\"SmtpClientAuthentication is disabled for the Tenant\" or \"... for the Mailbox\" (535 5.7.139)",
         {}, {}, {}, {"SmtpClientAuthentication is disabled"}, Combine::Both, std::nullopt, {C::SmtpAuthSwitch},
         "SMTP AUTH is turned off for this mailbox or for the whole organization (SmtpClientAuthenticationDisabled).",
         "Turn it on for this mailbox only: Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled "
         "$false (the organization-wide switch is Set-TransportConfig -SmtpClientAuthenticationDisabled). HVE "
         "accounts do not depend on this switch.",
         "The reply says which: 'for the Tenant' is Get-TransportConfig, 'for the Mailbox' is Get-CASMailbox. With "
         "--snapshot both values are shown.",
         {{"for the Tenant",
           "The reply says 'for the Tenant': the organization-wide switch is off (Get-TransportConfig "
           "SmtpClientAuthenticationDisabled is True) and the mailbox does not turn it on for itself."},
          {"for the Mailbox",
           "The reply says 'for the Mailbox': the mailbox's own switch is off (Get-CASMailbox "
           "SmtpClientAuthenticationDisabled is True)."}}},
        {"basic-auth-disabled", "5.7.139 saying basic authentication is disabled",
         {}, {}, {"5.7.139"}, {"basic authentication is disabled"}, Combine::Both, std::nullopt,
         {C::AuthenticationPolicy, C::SmtpAuthSwitch},
         "Exchange does not accept Basic authentication for this account: its authentication policy does not allow "
         "Basic SMTP (AllowBasicAuthSmtp), or SMTP AUTH is switched off for it.",
         "Assign the account an authentication policy with -AllowBasicAuthSmtp (Set-User {user} -AuthenticationPolicy "
         "...), check Set-CASMailbox -SmtpClientAuthenticationDisabled, or move the sender to OAuth (XOAUTH2).",
         "With --snapshot: the account's effective authentication policy and its AllowBasicAuthSmtp, and the "
         "organization and mailbox SmtpClientAuthenticationDisabled values; a policy or switch that allows Basic "
         "SMTP rules itself out."},
        {"auth-credentials-incorrect", "5.7.139 saying the user credentials were incorrect",
         {}, {}, {"5.7.139"}, {"credentials were incorrect", "credentials are incorrect"}, Combine::Both, std::nullopt,
         {C::Account},
         "Microsoft Entra ID refused the user name or the password: they are wrong (a mistyped or changed password, "
         "an expired one, or a user name that is not the account's full address).",
         "Check the user name ({user}, the full address) and set the password again on the device; if the account "
         "has MFA, a password alone cannot sign in.",
         "Nothing in a snapshot holds a password. The account's Entra sign-in log shows the failure as a wrong "
         "password; with --snapshot the account is looked up in /graph/users (exists, enabled)."},
        {"auth-sign-in-blocked", "5.7.139 saying the request did not meet the criteria to be authenticated, or the organization configuration does not allow it",
         {}, {}, {"5.7.139"}, {"did not meet the criteria", "configuration doesn't allow", "configuration does not allow"},
         Combine::Both, std::nullopt, {C::SignInPolicies},
         "Microsoft Entra ID refused the sign-in: security defaults or a Conditional Access policy block Basic "
         "(legacy) authentication for this account. A Basic SMTP AUTH sign-in is client app 'other' and can "
         "satisfy no MFA, device or app control, so any such policy that applies blocks it.",
         "Exclude this account from the blocking policy (for HVE accounts: make it a member of the exemption "
         "group the policies exclude), or move the sender to OAuth (XOAUTH2). Run with --snapshot to name the "
         "policy.",
         "With --snapshot: a simulated Basic SMTP AUTH sign-in (client app other, Exchange Online) names each "
         "blocking Conditional Access policy or security defaults. In Entra ID: the account's sign-in log."},
        {"auth-sign-in-refused", "any other 5.7.139",
         {}, {}, {"5.7.139"}, {}, Combine::Both, std::nullopt,
         {C::SignInPolicies, C::AuthenticationPolicy, C::SmtpAuthSwitch},
         "Exchange Online refused the sign-in (5.7.139) with a text tenantscan does not know: security defaults, a "
         "Conditional Access policy, the authentication policy or the SMTP AUTH switches can each cause it.",
         "Read the reply text, then fix the layer it names; run with --snapshot to check each layer.",
         "With --snapshot every layer is checked: the simulated sign-in, the authentication policy, the SMTP AUTH "
         "switches."},
        {"basic-auth-retired", "5.7.30 (Basic authentication is not supported for Client Submission)",
         {}, {}, {"5.7.30"}, {}, Combine::Both, std::nullopt, {},
         "Exchange Online no longer accepts Basic authentication (user name and password) for client submission "
         "on this endpoint.",
         "Move the sender to OAuth (XOAUTH2; test it with --oauth-token-env). Devices that can only do Basic can "
         "send internal mail through an HVE account on smtp.hve.mx.microsoft, or external mail through Azure "
         "Communication Services (smtp.azurecomm.net).",
         "The reply itself is the evidence; the same account with a token (--oauth-token-env) should sign in."},
        {"oauth-token-rejected", "535 5.7.3 or 5.7.8 after XOAUTH2",
         {StepKind::Auth}, {}, {"5.7.3", "5.7.8"}, {}, Combine::Both, CredentialKind::OAuthToken, {},
         "The server refused the OAuth access token: it has expired, was issued for another resource or user, or "
         "the app behind it may not send as this account.",
         "Request a new token for the scope https://outlook.office365.com/.default and check the user name matches "
         "the account. App-only tokens need the SMTP.SendAsApp permission, the app's service principal registered "
         "in Exchange (New-ServicePrincipal) and access to the mailbox (Add-MailboxPermission); for an HVE account "
         "add the app with Add-HVEAppAccess -Identity {user} -AppIds <appId>.",
         "Decode the token (its aud must be https://outlook.office365.com, its exp in the future, its roles or scp "
         "must include SMTP.SendAsApp or SMTP.Send); an error challenge, when the server sent one, is shown decoded."},
        {"auth-credentials-or-policy", "535 5.7.3 or 5.7.8 after LOGIN/PLAIN",
         {StepKind::Auth}, {}, {"5.7.3", "5.7.8"}, {}, Combine::Both, CredentialKind::Password, {C::AuthenticationPolicy},
         "The server refused the user name and password: either they are wrong, or the account's Exchange "
         "authentication policy does not allow Basic SMTP (AllowBasicAuthSmtp), which Exchange reports the same "
         "way.",
         "Check the user name (the full address) and the password. If an authentication policy applies to the "
         "account, allow Basic SMTP for it: New-AuthenticationPolicy \"Allow Basic Auth SMTP\" -AllowBasicAuthSmtp, "
         "then Set-User {user} -AuthenticationPolicy \"Allow Basic Auth SMTP\" (takes effect within 24 hours).",
         "With --snapshot: the effective authentication policy (the account's own, else the organization "
         "default) and its AllowBasicAuthSmtp; a policy that allows Basic SMTP leaves the credentials."},
        {"auth-unsuccessful", "535 5.7.3 or 5.7.8 when it is not known whether a password or a token was sent (a pasted text)",
         {StepKind::Auth}, {}, {"5.7.3", "5.7.8"}, {}, Combine::Both, std::nullopt, {C::AuthenticationPolicy},
         "The server refused the sign-in (5.7.3/5.7.8). With a user name and password: they are wrong, or the "
         "account's Exchange authentication policy does not allow Basic SMTP (AllowBasicAuthSmtp), which Exchange "
         "reports the same way. With an OAuth token: the token was refused.",
         "Check the user name (the full address) and the password; if an authentication policy applies to the "
         "account, allow Basic SMTP for it (Set-User {user} -AuthenticationPolicy with a policy that has "
         "-AllowBasicAuthSmtp). With OAuth, request a new token for https://outlook.office365.com/.default.",
         "With --snapshot: the effective authentication policy and its AllowBasicAuthSmtp; a policy that allows "
         "Basic SMTP leaves the credentials."},
        {"auth-mechanism-refused", "504 to AUTH",
         {StepKind::Auth}, {504}, {}, {}, Combine::Both, std::nullopt, {},
         "The server does not accept the SASL mechanism it was offered, although it announced it.",
         "Check which mechanisms the server really supports (LOGIN or PLAIN for a password, XOAUTH2 for a token); "
         "try another with --auth-mechanism.",
         "The EHLO step lists the mechanisms the server announced."},
        {"not-authenticated", "5.7.57, or a reply saying authentication is required",
         {}, {}, {"5.7.57"}, {"authentication required", "not authenticated"}, Combine::Either, std::nullopt,
         {C::SmtpAuthSwitch},
         "The server treats this session as unauthenticated: the sign-in did not happen or did not count.",
         "Make sure the device signs in (AUTH) before sending, with the account's full address as user name; on "
         "Exchange Online also check that SMTP AUTH is on for the mailbox "
         "(Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false).",
         "The AUTH step shows whether the sign-in succeeded (235); with --snapshot the SMTP AUTH switches are shown."},
        {"send-as-denied", "5.7.60, or a reply naming SendAsDenied / send as",
         {}, {}, {"5.7.60"}, {"SendAsDenied", "send as"}, Combine::Either, std::nullopt, {},
         "The account {user} may not send with {from} as the sender address.",
         "Send with the account's own address as the From address (--from), or grant the account Send As on "
         "that address: Add-RecipientPermission -Identity {from} -Trustee {user} -AccessRights SendAs.",
         "Run again without --from: if that works, the permission is what is missing (Get-RecipientPermission {from})."},
        {"hve-external-recipient", "5.5.105, or a 550 5.7.1 saying HVE / High Volume Email accounts cannot send externally",
         {}, {}, {"5.5.105"}, {"External sending is not supported", "High Volume Email", "HVE account"}, Combine::Either,
         std::nullopt, {C::ExternalRecipients},
         "High Volume Email accounts may send only to recipients inside the organization, and this recipient is "
         "external.",
         "Send to internal recipients only. External mail needs another service, such as Azure Communication "
         "Services (smtp.azurecomm.net).",
         "With --snapshot: whether the refused recipient's domain is one of /exchange/acceptedDomains, and whether "
         "the account is in /exchange/hveAccounts."},
        {"ip-blocked", "5.7.708 (traffic not accepted from this IP)",
         {}, {}, {"5.7.708"}, {}, Combine::Both, std::nullopt, {},
         "Exchange Online does not accept traffic from the IP address this connection comes from: a reputation "
         "block, common for new or trial tenants and for addresses that sent spam.",
         "Send from an address with a good reputation; check Restricted entities in Microsoft Defender and ask "
         "Microsoft support to lift the block.",
         "The same test from another network (another public IP address) gets past this step."},
        {"tenant-blocked", "5.7.705 (tenant has exceeded threshold)",
         {}, {}, {"5.7.705"}, {}, Combine::Both, std::nullopt, {},
         "Exchange Online blocked this tenant's outgoing mail because it sent too much spam or bulk mail.",
         "Find and secure the compromised accounts or connectors, then ask Microsoft support to remove the block.",
         "Every account of the tenant gets the same reply; Microsoft Defender's alerts name the cause."},
        {"recipient-not-found", "5.1.1 or 5.1.10 (recipient not found)",
         {}, {}, {"5.1.1", "5.1.10"}, {}, Combine::Both, std::nullopt, {},
         "The recipient address does not exist.",
         "Check the address for typos and removed aliases.",
         "Get-Recipient for the address (internal recipients) finds nothing."},
        {"too-many-recipients", "x.5.3 (too many recipients)",
         {}, {}, {"4.5.3", "5.5.3"}, {}, Combine::Both, std::nullopt, {},
         "The message has more recipients than the server accepts (HVE: at most 50 per message).",
         "Split the recipients over several messages.",
         "A run with fewer --to addresses passes this step."},
        {"mailbox-full-or-quota", "5.2.2 (mailbox full or sending quota exceeded)",
         {}, {}, {"4.2.2", "5.2.2"}, {}, Combine::Both, std::nullopt, {},
         "A mailbox is full, or the account has exceeded a sending quota; the reply text tells which.",
         "Free space in the recipient's mailbox, or wait until the sending quota resets.",
         "The reply text names the mailbox or the quota."},
        {"message-too-large", "5.2.3 or 5.3.4 (message too large)",
         {}, {}, {"5.2.3", "5.3.4"}, {}, Combine::Both, std::nullopt, {},
         "The message exceeds a size limit. The test message is tiny, so the limit set for this account, the "
         "recipient or a connector must be very low.",
         "Check the sender's MaxSendSize, the recipient's MaxReceiveSize and the organization's limits.",
         "Get-Mailbox shows MaxSendSize and MaxReceiveSize; the EHLO SIZE keyword shows the server's limit."},
        {"message-not-submitted", "5.2.0 (the mailbox store could not submit the message)",
         {}, {}, {"5.2.0"}, {}, Combine::Both, std::nullopt, {},
         "Exchange could not submit the message from this mailbox; the reply names the exception.",
         "Look up the exception named in the reply (STOREDRV.Submission...).",
         "The exception name in the reply."},
        {"sender-thread-limit", "4.3.2 saying the sender thread limit is exceeded (432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded)",
         {}, {}, {"4.3.2"}, {"thread limit exceeded"}, Combine::Both, std::nullopt, {},
         "Exchange Online limits how many messages one account may submit at the same time, and this account "
         "submitted too many at once; the refusal is temporary.",
         "Send from this account over fewer connections at a time (one, for a device), and retry later; bulk or "
         "parallel sending belongs on HVE or Azure Communication Services.",
         "The reply names STOREDRV.ClientSubmit and the sender thread limit; a later run with one connection passes."},
        {"throttled", "4.7.x (temporary refusal: throttling, server busy)",
         {}, {}, {"4.7."}, {}, Combine::Both, std::nullopt, {},
         "The server is throttling this sender or connection (too many messages or connections, or a temporary "
         "reputation limit).",
         "Retry later and send more slowly; the refusal is temporary.",
         "A later run passes; the reply is 4xx, never 5xx."},
        {"temporary-failure", "any other 4xx reply",
         {}, {421, 450, 451, 452, 454, 455}, {}, {}, Combine::Both, std::nullopt, {},
         "The server reported a temporary problem.",
         "Retry later; if it persists, the reply text names the reason.",
         "A later run passes."},
        {"auth-refused", "any other refusal of AUTH",
         {StepKind::Auth}, {}, {}, {}, Combine::Both, std::nullopt, {},
         "The server refused the sign-in.",
         "Check the user name and the secret; the reply text may name the reason.",
         "The reply text; the server's sign-in logs."},
        {"auth-reply-hidden", "a client or device that reports a failed sign-in without the server's reply (curl (67) Login denied, PHPMailer 'Could not authenticate')",
         {StepKind::Auth}, {}, {}, {}, Combine::Both, std::nullopt,
         {C::SignInPolicies, C::AuthenticationPolicy, C::SmtpAuthSwitch, C::Account},
         "The client reports that the server refused the sign-in, but it does not show the server's reply, so the "
         "reply cannot tell the cause: a wrong user name or password, SMTP AUTH switched off for the tenant or the "
         "mailbox, an authentication policy without Basic SMTP, security defaults or Conditional Access, and the "
         "retirement of Basic authentication all look the same here.",
         "Get the server's reply: run tenantscan smtp-test with the same host, port and account (or turn on the "
         "client's SMTP debug log) and explain the 535 line it shows. With --snapshot and --user the tenant's "
         "settings for the account are checked now.",
         "With --snapshot: the simulated sign-in (security defaults, Conditional Access), the authentication "
         "policy, the SMTP AUTH switches and the account.",
         {}, true},
    };
    return rules;
}

struct FailureRule {
    Failure failure;
    const char* id;
    const char* cause;
    const char* fix;
};

// Placeholders: {host} {port} {step} {error} {timeout} {offered} {names} {notAfter} {notBefore} {verifyError}.
const std::vector<FailureRule>& failure_rules() {
    static const std::vector<FailureRule> rules = {
        {Failure::Resolve, "dns-failed", "The host name {host} does not resolve: {error}.",
         "Check the name (HVE: smtp.hve.mx.microsoft; Exchange Online: smtp.office365.com) and this machine's DNS."},
        {Failure::Connect, "connect-failed", "Nothing accepted a connection at {host} port {port}: {error}.",
         "Check the port (587 for STARTTLS, 465 with --tls) and the firewalls on the way: outbound port 587 is "
         "often blocked."},
        {Failure::Timeout, "timeout", "No answer during {step} within {timeout} seconds: {error}.",
         "Check for a firewall or proxy that accepts the connection but drops the traffic; a slow server may need "
         "a longer --timeout.{portHint}"},
        {Failure::StartTlsNotOffered, "starttls-not-offered",
         "The server did not offer STARTTLS, so the connection could not be encrypted; the credentials were not "
         "sent.",
         "Use the submission port that offers STARTTLS (587), or --tls if the port expects TLS from the start "
         "(465). --plain is for test servers only."},
        {Failure::CertificateExpired, "certificate-expired", "The server's certificate ({names}) expired on {notAfter}.",
         "Renew the server's certificate. Microsoft renews its own certificates, so an expired one in front of "
         "Exchange Online or HVE points to a TLS-inspecting proxy or the wrong host."},
        {Failure::CertificateNotYetValid, "certificate-not-yet-valid",
         "The server's certificate ({names}) is valid only from {notBefore}.",
         "Check this machine's clock, then the server's certificate."},
        {Failure::CertificateUntrusted, "certificate-untrusted",
         "The server's certificate ({names}) is not issued by a CA this machine trusts: {verifyError}.",
         "If a proxy or firewall inspects TLS, exempt the mail host from it; a server with a private CA can be "
         "trusted with --ca-file."},
        {Failure::CertificateWrongHost, "certificate-wrong-host",
         "The server's certificate is for {names}, not for {host}: {error}.",
         "Connect with a host name the certificate names (for HVE: smtp.hve.mx.microsoft), not an IP address or an "
         "alias."},
        {Failure::CertificateRejected, "certificate-rejected", "The server's certificate was rejected: {error}.",
         "Check the server's certificate chain."},
        {Failure::TlsHandshake, "tls-handshake-failed", "The TLS handshake failed: {error}.{deviceTls}",
         "tenantscan requires TLS 1.2 or newer, as HVE and Exchange Online do: the server may only offer older "
         "versions, or accept none of the cipher suites offered, or something on the way interferes with TLS."},
        {Failure::CaFileUnreadable, "ca-file-unusable", "The --ca-file could not be used: {error}.",
         "Give a readable PEM file of CA certificates."},
        {Failure::AuthNotOffered, "auth-not-offered",
         "The server announced no AUTH mechanism, so the account could not sign in; no message was sent.",
         "Use the server's submission port with sign-in (587 on Exchange Online and HVE); a port for "
         "unauthenticated relay does not fit this test."},
        {Failure::NoUsableAuthMechanism, "auth-mechanism-unavailable",
         "The server offers AUTH {offered}, but this credential needs {needed}.",
         "If only XOAUTH2 is offered, Basic authentication is off on this server: use --oauth-token-env. With a "
         "token, the server must offer XOAUTH2."},
        {Failure::ConnectionLost, "connection-lost", "The connection ended during {step}: {error}.",
         "Check the server's logs and any security device that might cut SMTP sessions."},
        {Failure::Other, "transfer-failed", "{error}.", "Run again with --transcript to see where it stopped."},
        {Failure::CertificateExpiresSoon, "certificate-expires-soon",
         "The server's certificate ({names}) verifies, but ends soon: {error}.",
         "Renew the server's certificate before it expires (devices stop sending the moment it does). Microsoft "
         "renews its own certificates: one close to expiry in front of Exchange Online or HVE points to a "
         "TLS-inspecting proxy or the wrong host."},
        {Failure::CertificateNotSeen, "certificate-not-seen", "The certificate's end could not be checked: {error}.",
         "Connect with TLS (--starttls or --tls) to a server whose certificate verifies; an earlier failure is "
         "explained above."},
        {Failure::ExpectedAuthNotOffered, "expected-auth-not-offered",
         "The server does not offer every mechanism asked for: {error}.",
         "A device that signs in with a mechanism the server does not offer cannot sign in: compare the "
         "device's setting with what the server offers now, and move it to an offered mechanism (XOAUTH2 "
         "needs OAuth in the device), to HVE, or to a relay."},
        {Failure::PlainServerOnTlsPort, "use-starttls",
         "--tls was given, but {host} port {port} speaks plain SMTP first: {error}. This port expects STARTTLS, not "
         "TLS from the first byte.",
         "Use --starttls (the default) on this port; --tls belongs to an implicit-TLS port (465, RFC 8314)."},
        {Failure::TlsServerOnPlainPort, "use-tls",
         "The server sent no SMTP greeting: {error} (implicit TLS, RFC 8314), so STARTTLS cannot work there.",
         "Use --tls for this port, or STARTTLS on the submission port 587."},
        {Failure::UnexpectedReply, "unexpected-reply", "{error}.",
         "The server, or something in between (a proxy, a TLS-inspecting firewall, an SMTP filter), does not follow "
         "RFC 5321/4954; nothing counts as done until the server gives the documented reply. Check what answers on "
         "{host} port {port}."},
        {Failure::SaslExchangeCancelled, "sasl-exchange-cancelled", "{error}.",
         "The server does not accept this mechanism's answers: try another with --auth-mechanism, and check the "
         "server's logs."},
        {Failure::MalformedReply, "malformed-reply", "The server's answer during {step} is not SMTP: {error}.",
         "Check that {host} port {port} is an SMTP submission service (and not, say, a web or IMAP port)."},
    };
    return rules;
}

template <class T>
const std::vector<T>& items(const std::optional<std::vector<T>>& section) {
    static const std::vector<T> none;
    return section ? *section : none;
}

std::string fill(std::string text, const std::map<std::string, std::string>& values) {
    for (const auto& [key, value] : values) {
        std::string placeholder = "{" + key + "}";
        for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size()))
            text.replace(at, placeholder.size(), value);
    }
    return text;
}

bool enhanced_matches(const std::vector<std::string>& patterns, const std::string& code) {
    if (patterns.empty()) return true;
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
        return p.back() == '.' ? code.compare(0, p.size(), p) == 0 : code == p;
    });
}

bool is_office365_endpoint(const std::string& host) {
    return iequals(host, "smtp.office365.com") || iequals(host, "smtp-legacy.office365.com");
}


std::string domain_of(const std::string& address) {
    auto at = address.rfind('@');
    return at == std::string::npos ? "" : to_lower(address.substr(at + 1));
}

// What the snapshot knows about the account that signed in.
struct Account {
    std::optional<UserIndex> user;     // its Entra user
    const HveAccount* hve = nullptr;   // when it is an HVE account
};

Account find_account(const Tenant& tenant, const std::string& address) {
    Account account;
    account.user = tenant.directory.find_user(address);
    std::string wanted = Directory::normalise_address(address);
    for (const auto& hve : items(tenant.snapshot.hveAccounts)) {
        bool byAddress = Directory::normalise_address(hve.primarySmtpAddress) == wanted ||
                         std::any_of(hve.emailAddresses.begin(), hve.emailAddresses.end(),
                                     [&](const std::string& a) { return Directory::normalise_address(a) == wanted; });
        auto hveUser = tenant.directory.user_of_hve(hve);
        bool byUser = account.user && hveUser && *hveUser == *account.user;
        if (byAddress || byUser) {
            account.hve = &hve;
            if (!account.user) account.user = hveUser;
            break;
        }
    }
    return account;
}

// Overrides the generic cause and fix when the snapshot names the responsible setting. A finding
// that rules its layer out (the policy allows Basic SMTP, the switch is on) says so in its
// evidence; its cause then only replaces the rule's for the reply it was written for.
struct TenantFinding {
    std::vector<std::string> evidence;
    std::string cause;
    std::string fix;
    bool rulesOut = false;
    // The cause the finding names, when it names one for certain (Explanation::decidedBy).
    std::string category;
};

TenantFinding sign_in_policies(const Tenant& tenant, const Account& account, const std::string& address) {
    TenantFinding finding;
    if (!account.user) {
        finding.evidence.push_back("'" + address + "' is not in the snapshot's /graph/users" +
                                   (account.hve ? " (the HVE account's Entra user is missing)" : "") +
                                   ", so its sign-in cannot be simulated.");
        return finding;
    }
    const User& user = tenant.directory.user(*account.user);
    SignInContext context;  // Basic SMTP AUTH: client app "other", Exchange Online, platform unknown
    context.userId = user.id;
    WhatIfResult whatIf = tenant.engine.evaluate(context);
    finding.evidence.push_back("Simulated a Basic SMTP AUTH sign-in for " + user.userPrincipalName +
                               " (client app other, Exchange Online, platform unknown, location unknown).");
    if (whatIf.blockedBySecurityDefaults) {
        finding.evidence.push_back("Security defaults are enabled: they block every legacy-protocol sign-in.");
        finding.cause = "Security defaults are enabled in this tenant, and they block Basic SMTP AUTH for every "
                        "account, this one included.";
        finding.fix = "Move the sender to OAuth (XOAUTH2), or turn security defaults off and protect the tenant "
                      "with Conditional Access instead (needs Entra ID P1), excluding this account from the policy "
                      "that blocks legacy authentication.";
        finding.category = "security-defaults";
        return finding;
    }
    std::vector<std::string> names;
    for (const auto* evaluation : whatIf.blocking_enforced()) {
        const auto& policy = *evaluation->policy;
        names.push_back("'" + policy.displayName + "'");
        finding.evidence.push_back(fmt::format("Conditional Access policy '{}' (id {}) applies and blocks it with: {}{}",
                                               policy.displayName, policy.id, fmt::join(evaluation->blockingControls, ", "),
                                               evaluation->details.empty() ? "" : " — " + fmt::to_string(fmt::join(evaluation->details, "; "))));
    }
    for (const auto* evaluation : whatIf.undetermined_enforced()) {
        const auto& policy = *evaluation->policy;
        finding.evidence.push_back(fmt::format("Conditional Access policy '{}' (id {}) blocks it depending on {}: {}",
                                               policy.displayName, policy.id, fmt::join(evaluation->unknowns, ", "),
                                               fmt::join(evaluation->blockingControls, ", ")));
    }
    if (whatIf.outcome == tenantscan::AccessOutcome::Undetermined && !whatIf.undeterminedBy.empty())
        finding.evidence.push_back("The outcome depends on what the snapshot does not tell: " +
                                   fmt::to_string(fmt::join(whatIf.undeterminedBy, ", ")) + ".");
    if (!names.empty()) {
        finding.cause = "Conditional Access blocks this Basic SMTP AUTH sign-in: " + fmt::to_string(fmt::join(names, ", ")) + ".";
        finding.category = "conditional-access";
        finding.fix = "Exclude this account from " + fmt::to_string(fmt::join(names, ", ")) + " (for HVE accounts: through the exemption group "
                      "the policies exclude), or move the sender to OAuth (XOAUTH2).";
    } else if (whatIf.undetermined_enforced().empty()) {
        finding.rulesOut = true;
        finding.evidence.push_back(
            "In the snapshot (collected " + (tenant.snapshot.collectedAt.empty() ? "at an unknown time" : tenant.snapshot.collectedAt) +
            ") neither security defaults nor an enabled Conditional Access policy block this sign-in: the tenant may "
            "have changed since.");
    }
    return finding;
}

TenantFinding authentication_policy(const Tenant& tenant, const Account& account, const std::string& address) {
    TenantFinding finding;
    const Snapshot& snapshot = tenant.snapshot;
    if (!snapshot.authenticationPolicies) {
        finding.evidence.push_back("The snapshot has no /exchange/authenticationPolicies, so the account's "
                                   "authentication policy cannot be checked.");
        return finding;
    }
    const std::string entraId = account.user ? tenant.directory.user(*account.user).id : "";
    const ExchangeUser* exchangeUser = find_exchange_user(items(snapshot.exchangeUsers), entraId, address);
    if (!exchangeUser)
        finding.evidence.push_back("'" + address + "' is not in the snapshot's /exchange/users, so a policy assigned "
                                   "to the account itself cannot be seen; checking the organization default.");
    const EffectiveAuthenticationPolicy effective = effective_authentication_policy(snapshot, exchangeUser);
    const std::string& reference = effective.reference;
    const std::string source = effective.source == EffectiveAuthenticationPolicy::Source::Account
                                   ? "assigned to the account (Get-User AuthenticationPolicy)"
                                   : "the organization default (Get-OrganizationConfig DefaultAuthenticationPolicy)";
    if (effective.source == EffectiveAuthenticationPolicy::Source::None) {
        finding.evidence.push_back("No authentication policy applies to the account (none assigned, no organization "
                                   "default): this layer does not block Basic SMTP.");
        finding.cause = "The server refused the user name and password, and no Exchange authentication policy blocks "
                        "Basic SMTP for this account: the credentials are the likely cause.";
        finding.fix = "Check the user name (the full address) and reset the password.";
        finding.rulesOut = true;
        finding.category = "credentials";
        return finding;
    }
    const AuthenticationPolicy* policy = effective.policy;
    if (!policy) {
        finding.evidence.push_back("The effective authentication policy '" + reference + "' (" + source +
                                   ") is not in /exchange/authenticationPolicies.");
        return finding;
    }
    finding.evidence.push_back(fmt::format("Effective authentication policy: '{}', {}; AllowBasicAuthSmtp is {}.",
                                           policy->name, source, policy->allowBasicAuthSmtp ? "true" : "false"));
    if (policy->allowBasicAuthSmtp) {
        finding.rulesOut = true;
        finding.category = "credentials";
        finding.cause = "The server refused the user name and password, and the account's authentication policy '" +
                        policy->name + "' allows Basic SMTP: the credentials are the likely cause.";
        finding.fix = "Check the user name (the full address) and reset the password.";
    } else {
        finding.category = "authentication-policy";
        finding.cause = "The authentication policy '" + policy->name + "', " + source +
                        ", does not allow Basic SMTP, so Exchange refuses the password whatever it is.";
        const auto& policies = *snapshot.authenticationPolicies;
        auto allowing = std::find_if(policies.begin(), policies.end(), [](const auto& p) { return p.allowBasicAuthSmtp; });
        finding.fix = allowing != policies.end()
                          ? "Assign the account a policy that allows Basic SMTP; '" + allowing->name + "' does: Set-User " +
                                address + " -AuthenticationPolicy \"" + allowing->name + "\" (takes effect within 24 hours)."
                          : "Give the account a policy that allows Basic SMTP: New-AuthenticationPolicy \"Allow Basic Auth "
                            "SMTP\" -AllowBasicAuthSmtp, then Set-User " + address +
                                " -AuthenticationPolicy \"Allow Basic Auth SMTP\" (takes effect within 24 hours).";
    }
    return finding;
}

TenantFinding smtp_auth_switch(const Tenant& tenant, const Account& account, const std::string& address) {
    TenantFinding finding;
    const Snapshot& snapshot = tenant.snapshot;
    if (account.hve) {
        finding.evidence.push_back("'" + address + "' is an HVE account: the SMTP AUTH switches do not apply to it.");
        return finding;
    }
    bool organizationDisabled = false;
    if (snapshot.transportConfig) {
        const auto& value = snapshot.transportConfig->smtpClientAuthenticationDisabled;
        organizationDisabled = value.value_or(false);
        finding.evidence.push_back(std::string("Organization: SmtpClientAuthenticationDisabled is ") +
                                   (value ? (*value ? "true" : "false") : "not set") + ".");
    }
    std::string entraId = account.user ? tenant.directory.user(*account.user).id : "";
    for (const auto& mailbox : items(snapshot.casMailboxes)) {
        if (!iequals(mailbox.primarySmtpAddress, address) &&
            (entraId.empty() || !iequals(mailbox.externalDirectoryObjectId, entraId)))
            continue;
        auto value = mailbox.smtpClientAuthenticationDisabled;
        finding.evidence.push_back(std::string("Mailbox: SmtpClientAuthenticationDisabled is ") +
                                   (value ? (*value ? "true" : "false") : "null (inherits the organization)") + ".");
        bool disabled = value ? *value : organizationDisabled;
        if (disabled) {
            finding.cause = std::string("SMTP AUTH is disabled for this mailbox (") +
                            (value ? "set on the mailbox" : "inherited from the organization") + ").";
            finding.category = value ? "mailbox-switch" : "tenant-switch";
        } else
            finding.rulesOut = true;
        return finding;
    }
    finding.evidence.push_back("'" + address + "' is not in the snapshot's /exchange/casMailboxes, so its mailbox "
                               "switch cannot be checked.");
    if (organizationDisabled)
        finding.cause = "SMTP AUTH is disabled for the whole organization (Set-TransportConfig "
                        "-SmtpClientAuthenticationDisabled $true), unless the mailbox overrides it.";
    return finding;
}

TenantFinding account_presence(const Tenant& tenant, const Account& account, const std::string& address) {
    TenantFinding finding;
    if (!account.user) {
        finding.evidence.push_back("'" + address + "' is not in the snapshot's /graph/users: check the user name (the "
                                   "account's full address).");
        return finding;
    }
    const User& user = tenant.directory.user(*account.user);
    finding.evidence.push_back("'" + user.userPrincipalName + "' is in /graph/users (id " + user.id + "), " +
                               (user.accountEnabled ? "enabled" : "DISABLED") + ".");
    if (!user.accountEnabled) {
        finding.cause = "The account is disabled in Microsoft Entra ID (accountEnabled false), so no password works.";
        finding.category = "account-disabled";
        finding.fix = "Enable the account, or send with an account that is in use.";
    }
    return finding;
}

TenantFinding external_recipients(const Tenant& tenant, const Account& account, const Step& step) {
    TenantFinding finding;
    if (account.hve) finding.evidence.push_back("'" + account.hve->primarySmtpAddress + "' is an HVE account.");
    if (!tenant.snapshot.acceptedDomains || step.recipient.empty()) return finding;
    std::vector<std::string> domains;
    for (const auto& domain : *tenant.snapshot.acceptedDomains) domains.push_back(to_lower(domain.domainName));
    bool accepted = std::find(domains.begin(), domains.end(), domain_of(step.recipient)) != domains.end();
    finding.evidence.push_back("'" + step.recipient + "' is " + (accepted ? "in" : "outside") +
                               " the tenant's accepted domains (" + fmt::to_string(fmt::join(domains, ", ")) + ").");
    return finding;
}

TenantFinding tenant_finding(TenantCheck check, const Tenant& tenant, const Result& result, const Step& step) {
    const std::string& address = result.options.user;
    Account account = find_account(tenant, address);
    switch (check) {
        case TenantCheck::SignInPolicies: return sign_in_policies(tenant, account, address);
        case TenantCheck::AuthenticationPolicy: return authentication_policy(tenant, account, address);
        case TenantCheck::SmtpAuthSwitch: return smtp_auth_switch(tenant, account, address);
        case TenantCheck::ExternalRecipients: return external_recipients(tenant, account, step);
        case TenantCheck::Account: return account_presence(tenant, account, address);
    }
    return {};
}

const char* layer_name(TenantCheck check) {
    switch (check) {
        case TenantCheck::SignInPolicies: return "security defaults and Conditional Access";
        case TenantCheck::AuthenticationPolicy: return "the authentication policy";
        case TenantCheck::SmtpAuthSwitch: return "the SMTP AUTH switch";
        case TenantCheck::ExternalRecipients: return "the recipient's domain";
        case TenantCheck::Account: return "the account's existence";
    }
    return "";
}

// What --timeout and a TLS handshake failure say about the settings that were tested.
std::string port_hint(const Result& result, const Step& step) {
    const Options& o = result.options;
    if (step.kind == StepKind::Banner && o.security != Security::ImplicitTls && o.effective_port() == kImplicitTlsPort)
        return " Port 465 is the implicit-TLS port (RFC 8314): try --tls.";
    return "";
}

std::string device_tls(const Result& result) {
    const Options& o = result.options;
    std::vector<std::string> settings;
    if (o.tlsMaxVersion == TlsMaxVersion::Tls12) settings.push_back("TLS 1.2 only (--tls-max-version 1.2)");
    if (o.tlsMaxVersion == TlsMaxVersion::Tls13) settings.push_back("TLS 1.2 or 1.3 (--tls-max-version 1.3)");
    if (!o.ciphers.empty()) settings.push_back("the cipher suites " + o.ciphers + " (--ciphers)");
    if (settings.empty()) return "";
    return " The client offered " + fmt::to_string(fmt::join(settings, " and ")) +
           ": a device with these settings fails against this server the same way.";
}

std::map<std::string, std::string> placeholders(const Result& result, const Step& step) {
    const Options& o = result.options;
    std::map<std::string, std::string> values = {
        {"user", o.user},
        {"from", o.effective_from()},
        {"host", o.host},
        {"port", std::to_string(result.remotePort ? result.remotePort : o.effective_port())},
        {"step", step.label},
        {"error", step.error},
        {"timeout", fmt::format("{:g}", static_cast<double>(o.timeout.count()) / 1000.0)},
        {"offered", fmt::to_string(fmt::join(result.authMechanismsOffered, " "))},
        {"needed", o.authMechanism != AuthMechanism::Auto ? to_string(o.authMechanism)
                   : o.credentialKind == CredentialKind::Password ? "LOGIN or PLAIN" : "XOAUTH2"},
        {"portHint", port_hint(result, step)},
        {"deviceTls", device_tls(result)},
    };
    const TlsSession tls = result.tls.value_or(TlsSession{});
    values["names"] = tls.subjectAltNames.empty() ? (tls.subject.empty() ? "unknown" : tls.subject)
                                                  : fmt::to_string(fmt::join(tls.subjectAltNames, ", "));
    values["notAfter"] = tls.notAfter.empty() ? "an unknown date" : tls.notAfter;
    values["notBefore"] = tls.notBefore.empty() ? "an unknown date" : tls.notBefore;
    values["verifyError"] = tls.verifyError.empty() ? step.error : tls.verifyError;
    return values;
}

const ReplyRule* match_rule(const Reply& reply, std::optional<StepKind> step, std::optional<CredentialKind> credential) {
    for (const auto& rule : reply_rules()) {
        if (rule.byIdOnly) continue;
        if (!rule.steps.empty() && (!step || std::find(rule.steps.begin(), rule.steps.end(), *step) == rule.steps.end()))
            continue;
        if (!rule.codes.empty() && std::find(rule.codes.begin(), rule.codes.end(), reply.code) == rule.codes.end()) continue;
        if (rule.credential && (!credential || *rule.credential != *credential)) continue;
        std::string all = reply.verbatim();
        bool textMatches = rule.text.empty() || std::any_of(rule.text.begin(), rule.text.end(),
                                                            [&](const std::string& t) { return icontains(all, t); });
        bool codeMatches = enhanced_matches(rule.enhanced, reply.enhancedCode);
        bool matches = rule.combine == Combine::Either && !rule.enhanced.empty() && !rule.text.empty()
                           ? (codeMatches && !reply.enhancedCode.empty()) || textMatches
                           : codeMatches && textMatches;
        if (matches) return &rule;
    }
    return nullptr;
}

std::string oauth_evidence(const OAuthError& error) {
    if (error.status.empty() && error.scope.empty())
        return "The server's error challenge (RFC 7628) was " + (error.json.empty() ? std::string("not readable") : "'" + error.json + "'") + ".";
    std::string text = "The server's error challenge (RFC 7628) says: status " + (error.status.empty() ? "?" : error.status);
    if (!error.scope.empty()) text += ", scope " + error.scope;
    if (!error.schemes.empty()) text += ", schemes " + error.schemes;
    text += ". ";
    if (error.status == "401" || error.status == "invalid_token")
        text += "The token is not valid for this server (expired, or for another audience or user).";
    else if (error.status == "403" || error.status == "insufficient_scope")
        text += "The token lacks the permission this server needs" +
                (error.scope.empty() ? std::string(".") : " (" + error.scope + ").");
    else if (error.status == "400" || error.status == "invalid_request")
        text += "The request was malformed: check that the user name matches the token.";
    return text;
}

// The explanation of a refusal by a known rule (nullptr: unknown), checked against the tenant.
Explanation explain_by_rule(const ReplyRule* rule, const Result& result, const Step& step, const Tenant* tenant) {
    const Reply& reply = *step.reply;
    auto values = placeholders(result, step);
    Explanation explanation;
    explanation.step = step.label;
    explanation.reply = reply.verbatim();
    if (step.kind == StepKind::Auth && result.oauthError) explanation.evidence.push_back(oauth_evidence(*result.oauthError));
    if (!rule) {
        explanation.id = "unknown-reply";
        explanation.cause = "tenantscan has no explanation for this reply; the server's words are shown verbatim.";
        explanation.fix = reply.enhancedCode.empty()
                              ? "Read the server's reply; its administrator can tell what it means."
                              : "Look up the status code " + reply.enhancedCode +
                                    " in the server's documentation (for Exchange Online: the NDR reference).";
        return explanation;
    }
    explanation.id = rule->id;
    explanation.cause = fill(rule->cause, values);
    for (const auto& [words, sentence] : rule->details)
        if (icontains(reply.verbatim(), words)) explanation.cause += std::string(" ") + sentence;
    explanation.fix = fill(rule->fix, values);
    explanation.confirm = fill(rule->confirm, values);
    if (!tenant) return explanation;
    bool overridden = false;
    for (TenantCheck check : rule->checks) {
        TenantFinding finding = tenant_finding(check, *tenant, result, step);
        explanation.evidence.insert(explanation.evidence.end(), finding.evidence.begin(), finding.evidence.end());
        if (finding.rulesOut) explanation.ruledOut.push_back(layer_name(check));
        if (!finding.rulesOut && !finding.category.empty()) explanation.blockedBy.push_back(finding.category);
        if (finding.rulesOut && rule->checks.size() > 1)
            explanation.evidence.push_back(std::string("This rules out ") + layer_name(check) + ".");
        // A layer that allows the sign-in only rewrites the cause for the reply that suspects it alone.
        bool applies = !finding.rulesOut || rule->checks.size() == 1;
        if (!overridden && applies && !finding.cause.empty()) {
            explanation.cause = finding.cause;
            if (!finding.fix.empty()) explanation.fix = finding.fix;
            explanation.decidedBy = finding.category;
            overridden = !finding.rulesOut;
        }
    }
    return explanation;
}

Explanation explain_refusal(const Result& result, const Step& step, const Tenant* tenant) {
    return explain_by_rule(match_rule(*step.reply, step.kind, result.options.credentialKind), result, step, tenant);
}

Explanation explain_failure(const Result& result, const Step& step) {
    auto values = placeholders(result, step);
    Explanation explanation;
    explanation.step = step.label;
    // A reply the protocol does not allow is the evidence; after a 220 to STARTTLS it is not.
    if (step.reply && (step.failure == Failure::UnexpectedReply || step.failure == Failure::SaslExchangeCancelled))
        explanation.reply = step.reply->verbatim();
    if (step.failure == Failure::AuthNotOffered && result.options.security == Security::Plain &&
        std::any_of(result.capabilities.begin(), result.capabilities.end(),
                    [](const std::string& c) { return iequals(c, "STARTTLS"); })) {
        explanation.id = "auth-needs-tls";
        explanation.cause = "The server offers AUTH only on an encrypted connection, and --plain turned STARTTLS off.";
        explanation.fix = "Test without --plain: STARTTLS is the default.";
        return explanation;
    }
    for (const auto& rule : failure_rules()) {
        if (rule.failure != step.failure) continue;
        explanation.id = rule.id;
        explanation.cause = fill(rule.cause, values);
        explanation.fix = fill(rule.fix, values);
    }
    if (step.kind == StepKind::Auth && result.oauthError) explanation.evidence.push_back(oauth_evidence(*result.oauthError));
    if ((step.failure == Failure::ConnectionLost || step.failure == Failure::Timeout) && step.kind == StepKind::Data)
        explanation.cause += " The message was not accepted.";
    if (result.tls && !result.tls->subject.empty() &&
        ((step.failure >= Failure::CertificateExpired && step.failure <= Failure::CertificateRejected) ||
         step.failure == Failure::CertificateExpiresSoon)) {
        const TlsSession& tls = *result.tls;
        explanation.evidence.push_back("Certificate subject: " + tls.subject + "; issuer: " + tls.issuer);
        if (!tls.subjectAltNames.empty()) explanation.evidence.push_back("Certificate names: " + fmt::to_string(fmt::join(tls.subjectAltNames, ", ")));
        explanation.evidence.push_back("Valid from " + tls.notBefore + " to " + tls.notAfter);
    }
    return explanation;
}

// Microsoft's TLS 1.2 cipher suites for Microsoft 365 (docs/smtp-test.md cites the list).
const std::vector<std::string>& microsoft_tls12_ciphers() {
    static const std::vector<std::string> ciphers = {
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",       "TLS_RSA_WITH_AES_128_GCM_SHA256",
    };
    return ciphers;
}

std::vector<Explanation> advisories(const Result& result, const Tenant* tenant) {
    std::vector<Explanation> out;
    const Options& o = result.options;
    std::optional<Account> account;
    if (tenant) account = find_account(*tenant, o.user);
    const HveAccount* hve = account ? account->hve : nullptr;
    // The credentials went out when AUTH was sent: it got a reply, or the session ended waiting for one.
    bool credentialsSent = std::any_of(result.steps.begin(), result.steps.end(), [](const Step& s) {
        return s.kind == StepKind::Auth && (s.reply || (s.status == StepStatus::Failed && s.failure != Failure::AuthNotOffered &&
                                                        s.failure != Failure::NoUsableAuthMechanism));
    });

    if (o.security == Security::Plain && credentialsSent)
        out.push_back({"credentials-unencrypted", "", "",
                       "--plain: the credentials crossed the network unencrypted.",
                       "Use --plain only with a test server; real devices must use STARTTLS or TLS.", "", {}});
    if (hve && is_office365_endpoint(o.host))
        out.push_back({"hve-wrong-endpoint", "", "",
                       "'" + o.user + "' is an HVE account, and " + o.host + " does not accept HVE accounts.",
                       "Point the device at smtp.hve.mx.microsoft, port 587, STARTTLS.", "",
                       {"/exchange/hveAccounts lists '" + hve->primarySmtpAddress + "'."}});
    if (iequals(o.host, "smtp-hve.office365.com"))
        out.push_back({"hve-legacy-endpoint", "", "",
                       "smtp-hve.office365.com still works but is announced for deprecation.",
                       "Point the device at smtp.hve.mx.microsoft.", "", {}});
    if (!hve && !o.probe && is_office365_endpoint(o.host) && o.credentialKind == CredentialKind::Password)
        out.push_back({"basic-auth-retirement", "", "",
                       "Basic authentication for SMTP AUTH on Exchange Online is being retired (disabled by default for "
                       "existing tenants at the end of December 2026).",
                       "Plan the move: OAuth (XOAUTH2) for clients that support it, an HVE account for internal mail "
                       "from devices that can only do Basic.", "", {}});
    if (hve && o.to.size() > 50)
        out.push_back({"hve-recipient-limit", "", "", "HVE accepts at most 50 recipients per message.",
                       "Split the recipients over several messages.", "", {}});
    if (hve && tenant->snapshot.hveBillingPolicies) {
        for (const auto& billing : *tenant->snapshot.hveBillingPolicies) {
            bool same = iequals(billing.identity, hve->primarySmtpAddress) || iequals(billing.identity, hve->identity) ||
                        iequals(billing.identity, hve->name);
            if (same && !iequals(billing.billingPolicyStatus, "BillingPolicyValid"))
                out.push_back({"hve-billing-policy", "", "",
                               "The HVE account's billing policy status is " + billing.billingPolicyStatus +
                                   ": without a valid billing policy an HVE account cannot send.",
                               "Create or repair the HVE billing policy (Get-HVEAccountBillingPolicy shows its status).", "",
                               {"/exchange/hveBillingPolicies: " + billing.identity + " → " + billing.billingPolicyStatus}});
        }
    }
    const Step* quit = nullptr;
    for (const auto& step : result.steps)
        if (step.kind == StepKind::Quit) quit = &step;
    bool done = o.authOnly ? result.authenticated : result.messageAccepted;
    if (done && quit && quit->status != StepStatus::Ok && quit->status != StepStatus::NotReached)
        out.push_back({"closed-after-acceptance", "", "",
                       o.authOnly ? "The account signed in (235); the session then ended without a proper QUIT: " + quit->error + "."
                                  : "The server accepted the message (250 after the message); the session then ended "
                                    "without a proper QUIT: " + (quit->error.empty() ? quit->reply ? quit->reply->verbatim() : std::string() : quit->error) + ".",
                       o.authOnly ? "Nothing to do." : "Nothing to do, and do not send again: the message was delivered to the server.",
                       "", {}});
    if (result.tls) {
        auto assessment = assess_tls(*result.tls);
        if (assessment && (!assessment->versionMet || (assessment->cipherMet && !*assessment->cipherMet)))
            out.push_back({"tls-below-microsoft-requirements", "", "", assessment->summary,
                           "Configure the device for TLS 1.2 with one of Microsoft's cipher suites (listed in docs/smtp-test.md); "
                           "a device that can do neither cannot reach Exchange Online or HVE.",
                           "", {}});
    }
    return out;
}

}  // namespace

std::optional<TlsAssessment> assess_tls(const TlsSession& tls) {
    if (tls.protocol.empty()) return std::nullopt;
    TlsAssessment a;
    a.versionMet = tls.protocol == "TLSv1.2" || tls.protocol == "TLSv1.3";
    std::string cipher = tls.cipherStandardName.empty() ? tls.cipher : tls.cipherStandardName;
    if (!a.versionMet) {
        a.summary = tls.protocol + " is below TLS 1.2, which Microsoft 365 requires.";
        return a;
    }
    if (tls.protocol == "TLSv1.3") {
        a.summary = "TLS 1.3 (" + cipher + ") meets the TLS 1.2+ requirement. Microsoft documents its cipher suites for "
                    "TLS 1.2, so whether a TLS 1.2 device would be accepted is not shown: test with "
                    "--tls-max-version 1.2 (and the device's --ciphers).";
        return a;
    }
    const auto& list = microsoft_tls12_ciphers();
    a.cipherMet = std::find(list.begin(), list.end(), cipher) != list.end();
    a.summary = *a.cipherMet ? "met: TLS 1.2 with " + cipher + ", one of Microsoft's TLS 1.2 cipher suites."
                             : "NOT met: TLS 1.2 with " + cipher + ", which is not among Microsoft's TLS 1.2 cipher "
                               "suites for Microsoft 365: the device would fail against Exchange Online or HVE.";
    return a;
}

const KnownReply* classify_reply(const Reply& reply, std::optional<StepKind> step, std::optional<CredentialKind> credential) {
    static const std::vector<KnownReply> known = known_replies();
    const ReplyRule* rule = match_rule(reply, step, credential);
    if (!rule) return nullptr;
    for (const auto& entry : known)
        if (std::string(entry.id) == rule->id) return &entry;
    return nullptr;
}

namespace {

// A Result and a Step that stand for a reply or failure known only from a pasted text.
void stand_in(const ReplyContext& context, Result& result, Step& step) {
    result.options.user = context.user.empty() ? "<account>" : context.user;
    result.options.from = context.from;
    result.options.host = context.host.empty() ? "the SMTP server" : context.host;
    result.options.credentialKind = context.credential.value_or(CredentialKind::Password);
    step.kind = context.step.value_or(StepKind::MailFrom);
    step.label = context.step ? to_string(*context.step) : "";
    step.status = StepStatus::Refused;
}

}  // namespace

Explanation explain_reply(const Reply& reply, const ReplyContext& context, const Tenant* tenant) {
    Result result;
    Step step;
    stand_in(context, result, step);
    step.reply = reply;
    return explain_by_rule(match_rule(reply, context.step, context.credential), result, step, tenant);
}

Explanation explain_by_id(const std::string& id, const ReplyContext& context, const Tenant* tenant) {
    const auto& rules = reply_rules();
    auto rule = std::find_if(rules.begin(), rules.end(), [&](const ReplyRule& r) { return id == r.id; });
    if (rule == rules.end()) throw std::logic_error("no knowledge-base entry '" + id + "'");
    Result result;
    Step step;
    stand_in(context, result, step);
    step.reply = Reply{};
    Explanation explanation = explain_by_rule(&*rule, result, step, tenant);
    explanation.reply.clear();
    return explanation;
}

Explanation explain_failure_kind(Failure failure, const std::string& error, const ReplyContext& context) {
    Result result;
    Step step;
    stand_in(context, result, step);
    step.status = StepStatus::Failed;
    step.failure = failure;
    step.error = error;
    return explain_failure(result, step);
}

Diagnosis diagnose(const Result& result, const Tenant* tenant) {
    Diagnosis diagnosis;
    diagnosis.advisories = advisories(result, tenant);
    if (result.tls) diagnosis.tls = assess_tls(*result.tls);
    auto wrongEndpoint = std::find_if(diagnosis.advisories.begin(), diagnosis.advisories.end(),
                                      [](const Explanation& a) { return a.id == "hve-wrong-endpoint"; });
    bool failureExplained = false;
    for (const auto& step : result.steps) {
        // After the server confirmed what was asked (250 after the message, or 235 with
        // --auth-only), an unanswered QUIT is an advisory, not a failure.
        bool afterDone = step.kind == StepKind::Quit &&
                         (result.options.probe ? result.outcome() == Outcome::Success
                                               : result.options.authOnly ? result.authenticated : result.messageAccepted);
        // A QUIT that fails after an earlier refusal or failure adds nothing to its explanation.
        bool afterEnd = step.kind == StepKind::Quit && !diagnosis.explanations.empty();
        if (afterDone || afterEnd) continue;
        if (step.status == StepStatus::Refused && step.reply) {
            diagnosis.explanations.push_back(explain_refusal(result, step, tenant));
        } else if (step.status == StepStatus::Failed && !failureExplained) {
            // Steps after the first failure failed with it (e.g. QUIT after a dropped DATA).
            diagnosis.explanations.push_back(explain_failure(result, step));
            failureExplained = true;
        } else {
            continue;
        }
        // An HVE account refused at the wrong endpoint: that is the first thing to fix.
        if (step.kind == StepKind::Auth && wrongEndpoint != diagnosis.advisories.end()) {
            auto& evidence = diagnosis.explanations.back().evidence;
            evidence.insert(evidence.begin(), wrongEndpoint->cause + " " + wrongEndpoint->fix);
        }
    }
    return diagnosis;
}

std::vector<KnownReply> known_replies() {
    std::vector<KnownReply> out;
    for (const auto& rule : reply_rules()) out.push_back({rule.id, rule.matches, rule.cause, rule.fix, rule.confirm});
    for (const auto& rule : failure_rules()) out.push_back({rule.id, to_string(rule.failure), rule.cause, rule.fix, ""});
    return out;
}

}  // namespace tenantscan::smtp
