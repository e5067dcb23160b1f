// The network half of smtp-test: libcurl runs the SMTP dialogue (STARTTLS, SASL, MAIL/RCPT/DATA,
// QUIT) and this file watches it through libcurl's debug callback and OpenSSL's verify and info
// callbacks, turning what it sees into one Step per protocol step.
//
// What libcurl gives and how it is used:
// - the dialogue: CURLOPT_DEBUGFUNCTION reports every command (CURLINFO_HEADER_OUT) and reply line
//   (CURLINFO_HEADER_IN) as it happens, which is where step boundaries and timings come from;
// - DNS and TCP timings: CURLINFO_NAMELOOKUP_TIME_T and CURLINFO_CONNECT_TIME_T;
// - the TLS session: CURLOPT_SSL_CTX_FUNCTION installs OpenSSL callbacks on the connection's
//   SSL_CTX, so the certificate is seen during verification (also when verification fails, where
//   CURLINFO_TLS_SSL_PTR has nothing left to inspect) and protocol and cipher when the handshake ends;
// - a server that announces no AUTH: libcurl then silently skips authentication and would go on
//   with MAIL FROM; CURLOPT_PREREQFUNCTION runs right before MAIL FROM and aborts the session;
// - --auth-only: CURLOPT_CONNECT_ONLY does stop after AUTH but then drops the connection without
//   QUIT, so a NOOP is requested instead and libcurl ends the session properly.
// libcurl sends QUIT only when it closes the connection, hence CURLOPT_FORBID_REUSE; after a
// refused AUTH it closes without QUIT, and that step is reported as not reached.
#include <tenantscan/smtp_test.hpp>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

namespace tenantscan::smtp {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kRedacted = "<credentials redacted>";

std::string base64(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

std::string_view trim_line_end(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    return line;
}

// Last line of defence behind the structural redaction of AUTH payloads: whatever the server
// echoes back or libcurl reports, no text is stored before these forms of the secret are removed.
class Redactor {
public:
    explicit Redactor(const Options& options) {
        const std::string& user = options.user;
        const std::string& secret = options.secret;
        forms_ = {secret,
                  base64(secret),
                  base64(std::string(1, '\0') + user + '\0' + secret),     // SASL PLAIN
                  base64(user + '\0' + user + '\0' + secret),              // PLAIN with an authzid
                  base64("user=" + user + "\x01" "auth=Bearer " + secret + "\x01\x01")};  // XOAUTH2
        forms_.erase(std::remove_if(forms_.begin(), forms_.end(), [](const std::string& f) { return f.empty(); }),
                     forms_.end());
        std::sort(forms_.begin(), forms_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    }

    std::string operator()(std::string text) const {
        for (const auto& form : forms_) {
            for (auto at = text.find(form); at != std::string::npos; at = text.find(form, at))
                text.replace(at, form.size(), "<redacted>");
        }
        return text;
    }

private:
    std::vector<std::string> forms_;
};

std::string make_test_id() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    std::random_device random;
    return fmt::format("{}-{:08x}", stamp, random());
}

std::string rfc5322_date() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    static const char* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    return fmt::format("{}, {:02d} {} {} {:02d}:{:02d}:{:02d} +0000", days[utc.tm_wday], utc.tm_mday,
                       months[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string domain_of(const std::string& address) {
    auto at = address.rfind('@');
    return at == std::string::npos ? std::string("tenantscan.invalid") : address.substr(at + 1);
}

std::string build_message(const Options& options, const std::string& testId, const std::string& subject) {
    std::string recipients = join(options.to, ", ");
    const std::string crlf = "\r\n";
    return "Date: " + rfc5322_date() + crlf +
           "From: " + options.effective_from() + crlf +
           "To: " + recipients + crlf +
           "Subject: " + subject + crlf +
           "Message-ID: <tenantscan-smtp-test." + testId + "@" + domain_of(options.effective_from()) + ">" + crlf +
           "X-Tenantscan-Test-Id: " + testId + crlf +
           "MIME-Version: 1.0" + crlf +
           "Content-Type: text/plain; charset=us-ascii" + crlf + crlf +
           "This is a test message sent by 'tenantscan smtp-test' to prove that this account can" + crlf +
           "submit mail through " + options.host + " port " + std::to_string(options.effective_port()) + "." + crlf +
           "It needs no action and can be deleted." + crlf + crlf +
           "Test id: " + testId + crlf;
}

std::string step_label(StepKind kind) {
    switch (kind) {
        case StepKind::Resolve: return "DNS";
        case StepKind::Connect: return "TCP connect";
        case StepKind::TlsHandshake: return "TLS handshake";
        case StepKind::Banner: return "banner";
        case StepKind::Ehlo: return "EHLO";
        case StepKind::StartTls: return "STARTTLS";
        case StepKind::EhloAfterTls: return "EHLO (after STARTTLS)";
        case StepKind::Auth: return "AUTH";
        case StepKind::Noop: return "NOOP";
        case StepKind::MailFrom: return "MAIL FROM";
        case StepKind::RcptTo: return "RCPT TO";
        case StepKind::Data: return "DATA";
        case StepKind::Quit: return "QUIT";
    }
    return "";
}

Step planned(StepKind kind, std::string label, std::string recipient = {}) {
    Step step;
    step.kind = kind;
    step.label = std::move(label);
    step.recipient = std::move(recipient);
    return step;
}

std::vector<Step> plan_steps(const Options& options) {
    std::vector<StepKind> kinds = {StepKind::Resolve, StepKind::Connect};
    if (options.security == Security::ImplicitTls) kinds.push_back(StepKind::TlsHandshake);
    kinds.insert(kinds.end(), {StepKind::Banner, StepKind::Ehlo});
    if (options.security == Security::StartTls) kinds.insert(kinds.end(), {StepKind::StartTls, StepKind::EhloAfterTls});
    kinds.push_back(StepKind::Auth);
    std::vector<Step> steps;
    for (auto kind : kinds) steps.push_back(planned(kind, step_label(kind)));
    if (options.authOnly) {
        steps.push_back(planned(StepKind::Noop, step_label(StepKind::Noop)));
    } else {
        steps.push_back(planned(StepKind::MailFrom, "MAIL FROM <" + options.effective_from() + ">"));
        for (const auto& to : options.to) steps.push_back(planned(StepKind::RcptTo, "RCPT TO <" + to + ">", to));
        steps.push_back(planned(StepKind::Data, step_label(StepKind::Data)));
    }
    steps.push_back(planned(StepKind::Quit, step_label(StepKind::Quit)));
    return steps;
}

std::string x509_name(const X509_NAME* name) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string iso_time(const ASN1_TIME* time) {
    std::tm t{};
    if (!time || ASN1_TIME_to_tm(time, &t) != 1) return "";
    return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                       t.tm_hour, t.tm_min, t.tm_sec);
}

std::vector<std::string> subject_alt_names(X509* cert) {
    std::vector<std::string> names;
    std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)> owned(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)), GENERAL_NAMES_free);
    GENERAL_NAMES* general = owned.get();
    if (!general) return names;
    for (int i = 0; i < sk_GENERAL_NAME_num(general); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(general, i);
        if (name->type == GEN_DNS) {
            const auto* text = ASN1_STRING_get0_data(name->d.dNSName);
            names.push_back("DNS:" + std::string(reinterpret_cast<const char*>(text),
                                                 static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName))));
        } else if (name->type == GEN_IPADD) {
            const unsigned char* ip = ASN1_STRING_get0_data(name->d.iPAddress);
            int length = ASN1_STRING_length(name->d.iPAddress);
            if (length == 4) {
                names.push_back(fmt::format("IP:{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]));
            } else if (length == 16) {
                std::string text = "IP:";
                for (int j = 0; j < 16; j += 2) text += fmt::format("{}{:x}", j ? ":" : "", (ip[j] << 8) | ip[j + 1]);
                names.push_back(text);
            }
        }
    }
    return names;
}

Failure certificate_failure(long x509Error) {
    switch (x509Error) {
        case X509_V_ERR_CERT_HAS_EXPIRED: return Failure::CertificateExpired;
        case X509_V_ERR_CERT_NOT_YET_VALID: return Failure::CertificateNotYetValid;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_UNTRUSTED: return Failure::CertificateUntrusted;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH: return Failure::CertificateWrongHost;
        default: return Failure::CertificateRejected;
    }
}

// Index of our slot in each SSL_CTX's ex_data, through which OpenSSL callbacks find their Session.
int session_slot() {
    static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return slot;
}

void curl_global() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool curl_uses_openssl() {
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    return info && info->ssl_version && std::strncmp(info->ssl_version, "OpenSSL", 7) == 0;
}

class Session {
public:
    Session(const Options& options, Result& result)
        : options_(options), result_(result), redact_(options), start_(Clock::now()) {
        result_.steps = plan_steps(options);
        started_.assign(result_.steps.size(), -1);
        if (!options.authOnly) {
            result_.subject = "tenantscan smtp-test " + result_.testId;
            message_ = build_message(options, result_.testId, result_.subject);
        }
    }

    // Aligns this session's clock with libcurl's, whose timings start inside curl_easy_perform.
    void start_clock() { start_ = Clock::now(); }

    void on_header_out(std::string_view data) {
        settle_tls_step();
        std::string line = redact_(std::string(trim_line_end(data)));
        if (awaitingCredential_) {
            // A client line inside a SASL exchange is a credential (user name, password, token).
            transcript(true, kRedacted);
            awaitingCredential_ = false;
            return;
        }
        auto verbEnd = line.find(' ');
        std::string verb = upper(line.substr(0, verbEnd));
        if (verb == "AUTH") {
            std::string rest = verbEnd == std::string::npos ? "" : line.substr(verbEnd + 1);
            auto mechanismEnd = rest.find(' ');
            result_.authMechanismUsed = upper(rest.substr(0, mechanismEnd));
            transcript(true, mechanismEnd == std::string::npos ? line : "AUTH " + result_.authMechanismUsed + " " + kRedacted);
            if (Step* step = open(StepKind::Auth)) step->label = "AUTH " + result_.authMechanismUsed;
            return;
        }
        transcript(true, line);
        if (verb == "EHLO" || verb == "HELO") {
            Step* step = open(tlsUp_ && options_.security == Security::StartTls ? StepKind::EhloAfterTls : StepKind::Ehlo);
            if (step && verb == "HELO") step->label += ", then HELO";  // libcurl's fallback when EHLO is refused
        } else if (verb == "STARTTLS") {
            open(StepKind::StartTls);
        } else if (verb == "MAIL") {
            open(StepKind::MailFrom);
        } else if (verb == "RCPT") {
            auto begin = line.find('<'), end = line.rfind('>');
            open(StepKind::RcptTo, begin != std::string::npos && end > begin ? line.substr(begin + 1, end - begin - 1) : "");
        } else if (verb == "DATA") {
            open(StepKind::Data);
        } else if (verb == "NOOP") {
            open(StepKind::Noop);
        } else if (verb == "QUIT") {
            open(StepKind::Quit);
        }
    }

    void on_header_in(std::string_view data) {
        settle_tls_step();
        // Kept in the step's reply too, so scrubbed first: a server may echo what it was sent.
        std::string line = redact_(std::string(trim_line_end(data)));
        transcript(false, line);
        if (current_ < 0 && !bannerSeen_) {
            bannerSeen_ = true;
            current_ = index_of(StepKind::Banner);
            // Its start (end of the TCP connect or TLS handshake) is known only from curl_easy_getinfo.
        }
        if (current_ < 0) return;  // an unsolicited line; it stays in the transcript
        pendingLines_.push_back(line);
        bool finalLine = line.size() < 4 || line[3] == ' ';
        if (!finalLine) return;

        Reply reply = parse_reply(pendingLines_);
        pendingLines_.clear();
        Step& step = result_.steps[static_cast<std::size_t>(current_)];
        if (step.kind == StepKind::Auth && reply.code == 334) {
            awaitingCredential_ = true;
            return;
        }
        if (step.kind == StepKind::Data && reply.code == 354) return;  // the message follows
        awaitingCredential_ = false;
        if (step.kind == StepKind::Ehlo || step.kind == StepKind::EhloAfterTls) read_capabilities(reply, step);
        step.reply = reply;
        if (step.kind == StepKind::StartTls && reply.code < 400) return;  // done when the handshake is
        close(step, reply.code < 400 ? StepStatus::Ok : StepStatus::Refused);
    }

    void on_message_sent() {
        if (messageNoted_) return;
        messageNoted_ = true;
        transcript(true, fmt::format("(the test message: {} bytes, subject '{}')", message_.size(), result_.subject));
    }

    // Right before MAIL FROM / NOOP: only reached when libcurl did not authenticate.
    bool before_request() {
        Step& auth = result_.steps[static_cast<std::size_t>(index_of(StepKind::Auth))];
        if (auth.status == StepStatus::Ok) return true;
        failed_step(auth, Failure::AuthNotOffered, "the server's EHLO reply announced no AUTH");
        return false;
    }

    std::size_t read_message(char* buffer, std::size_t size) {
        std::size_t count = std::min(size, message_.size() - messageOffset_);
        std::memcpy(buffer, message_.data() + messageOffset_, count);
        messageOffset_ += count;
        return count;
    }

    void on_certificate(X509_STORE_CTX* store, int preverifyOk) {
        TlsSession& tls = tls_session();
        X509* leaf = X509_STORE_CTX_get0_cert(store);
        if (leaf && tls.subject.empty()) {
            tls.subject = x509_name(X509_get_subject_name(leaf));
            tls.issuer = x509_name(X509_get_issuer_name(leaf));
            tls.notBefore = iso_time(X509_get0_notBefore(leaf));
            tls.notAfter = iso_time(X509_get0_notAfter(leaf));
            tls.subjectAltNames = subject_alt_names(leaf);
        }
        if (!preverifyOk && x509Error_ == X509_V_OK) {
            x509Error_ = X509_STORE_CTX_get_error(store);
            tls.verifyError = X509_verify_cert_error_string(x509Error_);
        }
    }

    void on_handshake_done(const SSL* ssl) {
        if (tlsUp_) return;  // TLS 1.3 session tickets report a "handshake" again
        tlsUp_ = true;
        TlsSession& tls = tls_session();
        tls.protocol = SSL_get_version(ssl);
        tls.cipher = SSL_get_cipher_name(ssl);
        handshakeDoneMs_ = elapsed_ms();
        tlsStep_ = index_of(options_.security == Security::ImplicitTls ? StepKind::TlsHandshake : StepKind::StartTls);
        if (tlsStep_ >= 0) result_.steps[static_cast<std::size_t>(tlsStep_)].detail = tls_detail();
        // The step succeeds only once libcurl goes on: it checks the host name after the handshake.
    }

    void finish(CURLcode code, CURL* curl, const char* errorBuffer) {
        curl_off_t resolveUs = 0, connectUs = 0;
        curl_easy_getinfo(curl, CURLINFO_NAMELOOKUP_TIME_T, &resolveUs);
        curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connectUs);
        char* ip = nullptr;
        if (curl_easy_getinfo(curl, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) result_.remoteAddress = ip;
        std::string error = redact_(*errorBuffer ? errorBuffer : curl_easy_strerror(code));

        Step& resolve = result_.steps[0];
        Step& connect = result_.steps[1];
        if (code == CURLE_COULDNT_RESOLVE_HOST || (code == CURLE_OPERATION_TIMEDOUT && resolveUs == 0)) {
            failed_step(resolve, classify(code), error);
            return;
        }
        resolve.status = StepStatus::Ok;
        resolve.milliseconds = static_cast<double>(resolveUs) / 1000.0;
        resolve.detail = result_.remoteAddress;
        if (code == CURLE_COULDNT_CONNECT || connectUs == 0) {
            failed_step(connect, code == CURLE_COULDNT_CONNECT ? Failure::Connect : classify(code), error);
            return;
        }
        connect.status = StepStatus::Ok;
        connect.milliseconds = static_cast<double>(connectUs - resolveUs) / 1000.0;
        connect.detail = fmt::format("{} port {}", result_.remoteAddress, options_.effective_port());
        if (options_.security == Security::ImplicitTls && tlsUp_) {
            Step& handshake = result_.steps[static_cast<std::size_t>(index_of(StepKind::TlsHandshake))];
            handshake.milliseconds = std::max(0.0, handshakeDoneMs_ - static_cast<double>(connectUs) / 1000.0);
        }
        Step& banner = result_.steps[static_cast<std::size_t>(index_of(StepKind::Banner))];
        if (banner.reply) {
            double bannerStart = options_.security == Security::ImplicitTls ? handshakeDoneMs_
                                                                            : static_cast<double>(connectUs) / 1000.0;
            banner.milliseconds = std::max(0.0, bannerEndMs_ - bannerStart);  // two clocks, microseconds apart
        }

        attribute_failure(code, error);
    }

private:
    // A command went out: its step starts. Commands outside the plan stay in the transcript only.
    Step* open(StepKind kind, const std::string& recipient = {}) {
        int index = index_of(kind, recipient);
        if (index < 0) return nullptr;
        current_ = index;
        started_[static_cast<std::size_t>(index)] = elapsed_ms();
        return &result_.steps[static_cast<std::size_t>(index)];
    }

    // libcurl talks again after the TLS handshake: it accepted the server's certificate.
    void settle_tls_step() {
        if (tlsStep_ < 0) return;
        close(result_.steps[static_cast<std::size_t>(tlsStep_)], StepStatus::Ok, handshakeDoneMs_);
        tlsStep_ = -1;
    }

    void close(Step& step, StepStatus status, std::optional<double> endMs = std::nullopt) {
        auto index = static_cast<std::size_t>(&step - result_.steps.data());
        double now = endMs.value_or(elapsed_ms());
        step.status = status;
        if (step.kind == StepKind::Banner) bannerEndMs_ = now;
        else if (started_[index] >= 0) step.milliseconds = now - started_[index];
        started_[index] = -2;  // closed
        if (static_cast<int>(index) == current_) current_ = -1;
    }

    void failed_step(Step& step, Failure failure, const std::string& error) {
        auto index = static_cast<std::size_t>(&step - result_.steps.data());
        if (started_[index] >= 0) step.milliseconds = elapsed_ms() - started_[index];
        started_[index] = -2;
        step.status = StepStatus::Failed;
        step.failure = failure;
        step.error = error;
        if (static_cast<int>(index) == current_) current_ = -1;
    }

    // Steps still waiting for their reply when the session ended failed with it (a closed
    // connection, a timeout, a TLS error). Otherwise libcurl stopped between commands, and its
    // error belongs to the first step not reached, unless a refusal already explains the end.
    void attribute_failure(CURLcode code, const std::string& error) {
        bool anyWaiting = false;
        for (std::size_t i = 2; i < result_.steps.size(); ++i) {
            if (started_[i] < 0 && static_cast<int>(i) != current_) continue;
            if (code == CURLE_OK) failed_step(result_.steps[i], Failure::ConnectionLost, "no reply before the connection closed");
            else failed_step(result_.steps[i], classify(code), error);
            anyWaiting = true;
        }
        if (code == CURLE_OK || anyWaiting) return;
        for (const auto& step : result_.steps)
            if (step.status == StepStatus::Refused || step.status == StepStatus::Failed) return;
        for (auto& step : result_.steps) {
            if (step.status != StepStatus::NotReached) continue;
            Failure failure = classify(code);
            // libcurl's own words ("Login denied") say less than the mechanisms do.
            std::string offered = result_.authMechanismsOffered.empty() ? std::string("none") : join(result_.authMechanismsOffered, " ");
            failed_step(step, failure, failure == Failure::NoUsableAuthMechanism
                                           ? "no offered mechanism (" + offered + ") fits this credential"
                                           : error);
            return;
        }
    }

    Failure classify(CURLcode code) const {
        switch (code) {
            case CURLE_COULDNT_RESOLVE_HOST: return Failure::Resolve;
            case CURLE_COULDNT_CONNECT: return Failure::Connect;
            case CURLE_OPERATION_TIMEDOUT: return Failure::Timeout;
            case CURLE_USE_SSL_FAILED: return Failure::StartTlsNotOffered;
            case CURLE_PEER_FAILED_VERIFICATION:
                // libcurl checks the host name itself, after OpenSSL accepted the chain.
                return x509Error_ == X509_V_OK ? Failure::CertificateWrongHost : certificate_failure(x509Error_);
            case CURLE_SSL_CONNECT_ERROR:
                return x509Error_ == X509_V_OK ? Failure::TlsHandshake : certificate_failure(x509Error_);
            case CURLE_SSL_CACERT_BADFILE: return Failure::CaFileUnreadable;
            case CURLE_LOGIN_DENIED: return Failure::NoUsableAuthMechanism;  // refusals have their reply
            case CURLE_SEND_ERROR:
            case CURLE_RECV_ERROR:
            case CURLE_GOT_NOTHING:
            case CURLE_WEIRD_SERVER_REPLY: return Failure::ConnectionLost;
            default: return Failure::Other;
        }
    }

    static Reply parse_reply(const std::vector<std::string>& lines) {
        Reply reply;
        reply.lines = lines;
        const std::string& last = lines.back();
        reply.code = std::atoi(last.substr(0, 3).c_str());
        std::string rest = last.size() > 4 ? last.substr(4) : "";
        std::string first = rest.substr(0, rest.find(' '));
        int dots = static_cast<int>(std::count(first.begin(), first.end(), '.'));
        bool enhanced = dots == 2 && !first.empty() && std::all_of(first.begin(), first.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
        });
        if (enhanced) reply.enhancedCode = first;
        return reply;
    }

    void read_capabilities(const Reply& reply, Step& step) {
        result_.capabilities.clear();
        result_.authMechanismsOffered.clear();
        for (std::size_t i = 1; i < reply.lines.size(); ++i) {  // line 0 greets
            std::string capability = reply.lines[i].size() > 4 ? reply.lines[i].substr(4) : "";
            result_.capabilities.push_back(capability);
            std::string keyword = upper(capability.substr(0, 5));
            if (keyword == "AUTH " || keyword == "AUTH=") {
                std::string mechanisms = capability.substr(5);
                for (std::size_t at = 0; at < mechanisms.size();) {
                    auto end = mechanisms.find(' ', at);
                    if (end == std::string::npos) end = mechanisms.size();
                    if (end > at) result_.authMechanismsOffered.push_back(upper(mechanisms.substr(at, end - at)));
                    at = end + 1;
                }
            }
        }
        bool offersStartTls = std::any_of(result_.capabilities.begin(), result_.capabilities.end(),
                                          [](const std::string& c) { return upper(c) == "STARTTLS"; });
        std::string mechanisms = join(result_.authMechanismsOffered, " ");
        std::vector<std::string> facts;
        if (step.kind == StepKind::Ehlo && options_.security == Security::StartTls)
            facts.push_back(offersStartTls ? "STARTTLS offered" : "STARTTLS not offered");
        if (step.kind == StepKind::EhloAfterTls || options_.security != Security::StartTls || !mechanisms.empty())
            facts.push_back(mechanisms.empty() ? "no AUTH offered" : "AUTH offered: " + mechanisms);
        step.detail = join(facts, "; ");
    }

    std::string tls_detail() const {
        const TlsSession& tls = *result_.tls;
        std::string detail = tls.protocol + ", " + tls.cipher;
        if (!tls.subject.empty())
            detail += "; certificate " + tls.subject + ", issued by " + tls.issuer + ", expires " + tls.notAfter;
        return detail;
    }

    TlsSession& tls_session() {
        if (!result_.tls) result_.tls.emplace();
        return *result_.tls;
    }

    // The planned step for a command; a recipient's RCPT TO by address (else the next one not
    // started). -1 when the plan has no such step.
    int index_of(StepKind kind, const std::string& recipient = {}) const {
        int nextRecipient = -1;
        for (std::size_t i = 0; i < result_.steps.size(); ++i) {
            const Step& step = result_.steps[i];
            if (step.kind != kind) continue;
            if (kind != StepKind::RcptTo) return static_cast<int>(i);
            if (started_[i] != -1) continue;
            if (step.recipient == recipient) return static_cast<int>(i);
            if (nextRecipient < 0) nextRecipient = static_cast<int>(i);
        }
        return nextRecipient;
    }

    double elapsed_ms() const {
        return std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
    }

    void transcript(bool fromClient, const std::string& text) {
        result_.transcript.push_back(TranscriptLine{elapsed_ms(), fromClient, redact_(text)});
    }

    const Options& options_;
    Result& result_;
    Redactor redact_;
    Clock::time_point start_;
    std::vector<double> started_;     // per step: start time in ms, -1 not started, -2 closed
    int current_ = -1;                // the step awaiting its reply
    std::vector<std::string> pendingLines_;
    bool bannerSeen_ = false;
    double bannerEndMs_ = 0;
    bool awaitingCredential_ = false;
    bool tlsUp_ = false;
    double handshakeDoneMs_ = 0;
    int tlsStep_ = -1;                // the TLS step whose handshake finished, until libcurl goes on
    long x509Error_ = X509_V_OK;
    std::string message_;
    std::size_t messageOffset_ = 0;
    bool messageNoted_ = false;
};

// ---- libcurl and OpenSSL callbacks: thin trampolines into the Session.

// Exceptions must not cross libcurl's C frames: a callback that fails ends the session instead.

int debug_callback(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
    auto* session = static_cast<Session*>(user);
    std::string_view text(data, size);
    try {
        if (type == CURLINFO_HEADER_OUT) session->on_header_out(text);
        else if (type == CURLINFO_HEADER_IN) session->on_header_in(text);
        else if (type == CURLINFO_DATA_OUT) session->on_message_sent();
    } catch (...) {
        // Only bad_alloc can get here; the transcript misses a line, the session goes on.
    }
    return 0;
}

std::size_t read_callback(char* buffer, std::size_t size, std::size_t count, void* user) {
    return static_cast<Session*>(user)->read_message(buffer, size * count);
}

std::size_t discard_callback(char*, std::size_t size, std::size_t count, void*) { return size * count; }

int prereq_callback(void* user, char*, char*, int, int) {
    try {
        return static_cast<Session*>(user)->before_request() ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
    } catch (...) {
        return CURL_PREREQFUNC_ABORT;
    }
}

Session* session_of(const SSL* ssl) {
    return static_cast<Session*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), session_slot()));
}

int verify_callback(int preverifyOk, X509_STORE_CTX* store) {
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    Session* session = ssl ? session_of(ssl) : nullptr;
    try {
        if (session) session->on_certificate(store, preverifyOk);
    } catch (...) {
        // The certificate stays undescribed; verification itself is unaffected.
    }
    return preverifyOk;  // observe only: libcurl and OpenSSL decide
}

void info_callback(const SSL* ssl, int where, int) {
    if (!(where & SSL_CB_HANDSHAKE_DONE)) return;
    try {
        if (Session* session = session_of(ssl)) session->on_handshake_done(ssl);
    } catch (...) {
        // The TLS parameters stay unknown; the handshake itself is unaffected.
    }
}

CURLcode ssl_ctx_callback(CURL*, void* sslContext, void* user) {
    auto* context = static_cast<SSL_CTX*>(sslContext);
    SSL_CTX_set_ex_data(context, session_slot(), user);
    SSL_CTX_set_verify(context, SSL_CTX_get_verify_mode(context), verify_callback);
    SSL_CTX_set_info_callback(context, info_callback);
    return CURLE_OK;
}

struct CurlDeleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// "ADDRESS[:PORT]" → {address, port}; the port defaults to the one the URL uses.
std::pair<std::string, int> parse_connect_to(const Options& options) {
    const std::string& text = options.connectTo;
    std::string address = text, port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos) throw std::invalid_argument("connect-to '" + text + "': missing ']'");
        address = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') throw std::invalid_argument("connect-to '" + text + "': expected ':' after ']'");
            port = text.substr(close + 2);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        address = text.substr(0, text.find(':'));
        port = text.substr(text.find(':') + 1);
    }
    if (address.empty() || address.find_first_of(" \t\r\n/") != std::string::npos)
        throw std::invalid_argument("connect-to '" + text + "' is not ADDRESS[:PORT]");
    int number = options.effective_port();
    if (!port.empty()) {
        const bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
        number = digits ? std::stoi(port) : 0;
        if (number < 1 || number > 65535) throw std::invalid_argument("connect-to '" + text + "': port out of range (1-65535)");
    }
    return {address, number};
}

// An IPv6 literal in brackets, as URLs and CURLOPT_CONNECT_TO write it; any other name as it is.
std::string bracket_ipv6(const std::string& name) {
    return !name.empty() && name.front() != '[' && name.find(':') != std::string::npos ? "[" + name + "]" : name;
}

std::string url_for(const Options& options) {
    const std::string host = bracket_ipv6(options.host);
    return fmt::format("{}://{}:{}/", options.security == Security::ImplicitTls ? "smtps" : "smtp", host,
                       options.effective_port());
}

}  // namespace

int Options::effective_port() const {
    if (port != 0) return port;
    return security == Security::ImplicitTls ? kImplicitTlsPort : kSubmissionPort;
}

const std::string& Options::effective_from() const { return from.empty() ? user : from; }

void validate(const Options& options) {
    if (options.host.empty()) throw std::invalid_argument("no SMTP host given");
    if (options.port < 0 || options.port > 65535)
        throw std::invalid_argument(fmt::format("port {} is out of range (1-65535)", options.port));
    if (options.user.empty()) throw std::invalid_argument("no user given");
    if (options.secret.empty())
        throw std::invalid_argument(options.credentialKind == CredentialKind::Password ? "the password is empty"
                                                                                       : "the OAuth token is empty");
    if (!options.authOnly && options.to.empty())
        throw std::invalid_argument("no recipient given: name at least one, or test the sign-in alone with auth-only");
    if (options.timeout.count() <= 0) throw std::invalid_argument("the timeout must be positive");
    auto bad = [](const std::string& address) {
        return address.find_first_of("<>\r\n") != std::string::npos || address.find('@') == std::string::npos;
    };
    if (bad(options.effective_from())) throw std::invalid_argument("'" + options.effective_from() + "' is not a mail address");
    for (const auto& to : options.to)
        if (bad(to)) throw std::invalid_argument("'" + to + "' is not a mail address");
    if (!options.connectTo.empty()) parse_connect_to(options);
}

Result run(const Options& options) {
    validate(options);
    curl_global();

    Result result;
    result.options = options;
    result.options.secret.clear();
    result.testId = make_test_id();
    Session session(options, result);

    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) throw std::runtime_error("smtp-test: libcurl could not be initialised");
    CURL* c = curl.get();
    char errorBuffer[CURL_ERROR_SIZE] = {0};
    std::unique_ptr<curl_slist, CurlDeleter> recipients;
    for (const auto& to : options.to) recipients.reset(curl_slist_append(recipients.release(), ("<" + to + ">").c_str()));

    std::string url = url_for(options);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    std::unique_ptr<curl_slist, CurlDeleter> connectTo;
    if (!options.connectTo.empty()) {
        // HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT; the URL's host stays what TLS verifies.
        auto [address, port] = parse_connect_to(options);
        connectTo.reset(curl_slist_append(nullptr, fmt::format("{}:{}:{}:{}", bracket_ipv6(options.host),
                                                                 options.effective_port(), bracket_ipv6(address), port)
                                                         .c_str()));
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, connectTo.get());
    }
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);  // feeds the debug callback; nothing is printed
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_callback);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &session);
    curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, prereq_callback);
    curl_easy_setopt(c, CURLOPT_PREREQDATA, &session);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_callback);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);  // close, and so QUIT, within this transfer
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));

    curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(options.security == Security::Plain ? CURLUSESSL_NONE : CURLUSESSL_ALL));
    curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.caFile.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options.caFile.c_str());
    if (curl_uses_openssl()) {
        curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_callback);
        curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &session);
    }

    curl_easy_setopt(c, CURLOPT_USERNAME, options.user.c_str());
    if (options.credentialKind == CredentialKind::Password) {
        curl_easy_setopt(c, CURLOPT_PASSWORD, options.secret.c_str());
        curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=LOGIN;AUTH=PLAIN");
    } else {
        curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, options.secret.c_str());
        curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
    }

    if (options.authOnly) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "NOOP");
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        std::string from = "<" + options.effective_from() + ">";
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());  // libcurl copies string options
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients.get());
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);  // one RCPT result per recipient
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_callback);
        curl_easy_setopt(c, CURLOPT_READDATA, &session);
    }

    session.start_clock();
    CURLcode code = curl_easy_perform(c);
    session.finish(code, c, errorBuffer);
    return result;
}

Outcome Result::outcome() const {
    bool failed = false, refused = false;
    for (const auto& step : steps) {
        if (step.status == StepStatus::Refused) refused = true;
        if (step.status == StepStatus::Failed) {
            if (step.failure == Failure::AuthNotOffered || step.failure == Failure::NoUsableAuthMechanism) refused = true;
            else failed = true;
        }
    }
    if (refused) return Outcome::Refused;
    return failed ? Outcome::ConnectionError : Outcome::Success;
}

const Step* Result::first_unsuccessful_step() const {
    for (const auto& step : steps)
        if (step.status == StepStatus::Refused || step.status == StepStatus::Failed) return &step;
    return nullptr;
}

int exit_code(const Result& result) {
    switch (result.outcome()) {
        case Outcome::Success: return 0;
        case Outcome::Refused: return 1;
        case Outcome::ConnectionError: return 2;
    }
    return 2;
}

const std::string& Reply::last_line() const {
    static const std::string empty;
    return lines.empty() ? empty : lines.back();
}

std::string Reply::verbatim() const {
    std::string out;
    for (const auto& line : lines) out += (out.empty() ? "" : " / ") + line;
    return out;
}

}  // namespace tenantscan::smtp
