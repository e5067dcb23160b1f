// The network half of smtp-test: a small SMTP client of its own (POSIX sockets and OpenSSL) that
// walks the submission dialogue step by step and records what the server said at each one.
//
// Why its own client and not libcurl: a test that decides whether a printer is fixed must hold
// the server to the documented sequence, and libcurl's SMTP code cannot be made to:
// - success is only "354 after DATA, then 250 after the body" (RFC 5321 §4.1.1.4, §4.2.2);
//   any other reply is a failure of that step, never "ok";
// - EHLO keywords are case-insensitive (RFC 5321 §2.4) and "AUTH=LOGIN PLAIN" is the old form of
//   "AUTH LOGIN PLAIN"; one parser (parse_capabilities) decides what the protocol does and what
//   the report says, so the two cannot disagree;
// - SASL ends as RFC 4954 and RFC 7628 say: 235 is success, a 334 after the last response is
//   answered with "*" (cancel), an XOAUTH2 error challenge is decoded and answered with the dummy
//   response %x01, after which the server sends its failure;
// - TLS is the device's: minimum TLS 1.2, optional maximum version and cipher list; the bytes a
//   server sends first tell a plain-text port from an implicit-TLS one (RFC 3207 / RFC 8314).
// Replies are parsed from the bytes received; the text kept for printing is escaped and redacted.
#include <tenantscan/json_input.hpp>
#include <tenantscan/smtp_test.hpp>
#include <tenantscan/detail/crypto.hpp>
#include <tenantscan/detail/dates.hpp>
#include <tenantscan/detail/text.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tenantscan::smtp {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kRedacted = "<credentials redacted>";





// Removes the secret and the forms SMTP AUTH carries it in from text that will be printed. The
// AUTH payloads themselves never reach the transcript (they are replaced structurally); this is
// the second line of defence for whatever the server echoes back. Replies are parsed before
// this runs, and the 3-digit code of a reply line is never touched: a password "250" must not
// turn every "250" reply into something else.
class Redactor {
public:
    explicit Redactor(const Options& options) {
        if (options.secret.empty()) return;  // --probe: nothing to hide (and "AAA=" is no secret)
        const std::string& user = options.user;
        const std::string& secret = options.secret;
        std::vector<std::string> forms = {secret,
                                          detail::base64_encode(secret),
                                          detail::base64_encode(std::string(1, '\0') + user + '\0' + secret),  // SASL PLAIN
                                          detail::base64_encode(user + '\0' + user + '\0' + secret),           // PLAIN with an authzid
                                          detail::base64_encode("user=" + user + "\x01" "auth=Bearer " + secret + "\x01\x01")};  // XOAUTH2
        for (const auto& form : forms) {
            if (form.empty()) continue;
            forms_.push_back(form);
            std::string shown = printable(form);  // as it reads once escaped
            if (shown != form) forms_.push_back(shown);
        }
        std::sort(forms_.begin(), forms_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    }

    std::string operator()(std::string text) const {
        for (const auto& form : forms_) {
            for (auto at = text.find(form); at != std::string::npos; at = text.find(form, at))
                text.replace(at, form.size(), "<redacted>");
        }
        return text;
    }

    // A server line as it will be printed: escaped, redacted, its reply code kept.
    std::string server_line(std::string_view raw) const {
        std::size_t keep = raw.size() >= 4 && (raw[3] == ' ' || raw[3] == '-') &&
                                   std::all_of(raw.begin(), raw.begin() + 3, [](char c) { return c >= '0' && c <= '9'; })
                               ? 4
                               : 0;
        return std::string(raw.substr(0, keep)) + (*this)(printable((*this)(std::string(raw.substr(keep)))));
    }

    std::string text(std::string_view raw) const { return (*this)(printable((*this)(std::string(raw)))); }

private:
    std::vector<std::string> forms_;
};

std::string make_test_id() {
    std::random_device random;
    return fmt::format("{}-{:08x}", format_utc(std::time(nullptr), "%Y%m%dT%H%M%SZ"), random());
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
    std::string recipients = fmt::to_string(fmt::join(options.to, ", "));
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
        case StepKind::CertificateExpiry: return "certificate expiry";
        case StepKind::AuthOffered: return "AUTH offered";
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
    if (options.certExpiryDays) kinds.push_back(StepKind::CertificateExpiry);
    kinds.push_back(options.probe ? StepKind::AuthOffered : StepKind::Auth);
    std::vector<Step> steps;
    for (auto kind : kinds) steps.push_back(planned(kind, step_label(kind)));
    if (!options.authOnly && !options.probe) {
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


bool is_ip_literal(const std::string& host) {
    unsigned char buffer[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string openssl_error() {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

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

// --ciphers split the way OpenSSL wants it: TLS 1.3 suites (TLS_AES_...) and the rest.
std::pair<std::string, std::string> split_ciphers(const std::string& ciphers) {
    std::string tls12, tls13;
    std::size_t at = 0;
    while (at <= ciphers.size()) {
        auto end = ciphers.find_first_of(":, ", at);
        if (end == std::string::npos) end = ciphers.size();
        std::string name = ciphers.substr(at, end - at);
        std::string& list = name.rfind("TLS_", 0) == 0 ? tls13 : tls12;
        if (!name.empty()) list += (list.empty() ? "" : ":") + name;
        at = end + 1;
    }
    return {tls12, tls13};
}

struct SslCtxDeleter {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};

// An SSL_CTX for the device's TLS: TLS 1.2 at least, the maximum and the ciphers asked for.
// Throws std::invalid_argument when OpenSSL accepts none of the ciphers named.
std::unique_ptr<SSL_CTX, SslCtxDeleter> make_tls_context(const Options& options) {
    std::unique_ptr<SSL_CTX, SslCtxDeleter> context(SSL_CTX_new(TLS_client_method()));
    if (!context) throw std::runtime_error("smtp-test: OpenSSL could not create a TLS context");
    SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
    if (options.tlsMaxVersion == TlsMaxVersion::Tls12) SSL_CTX_set_max_proto_version(context.get(), TLS1_2_VERSION);
    if (options.tlsMaxVersion == TlsMaxVersion::Tls13) SSL_CTX_set_max_proto_version(context.get(), TLS1_3_VERSION);
    auto [tls12, tls13] = split_ciphers(options.ciphers);
    if (!tls12.empty() && SSL_CTX_set_cipher_list(context.get(), tls12.c_str()) != 1) {
        ERR_clear_error();
        throw std::invalid_argument("--ciphers '" + tls12 + "': OpenSSL knows none of these TLS 1.2 cipher suites");
    }
    if (!tls13.empty() && SSL_CTX_set_ciphersuites(context.get(), tls13.c_str()) != 1) {
        ERR_clear_error();
        throw std::invalid_argument("--ciphers '" + tls13 + "': OpenSSL knows none of these TLS 1.3 cipher suites");
    }
    return context;
}

int ssl_slot() {
    static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return slot;
}

enum class Io { Ok, Timeout, Closed, Error, TooLong };

struct IoResult {
    Io status = Io::Ok;
    std::string message;
};

constexpr std::size_t kMaxLine = 64 * 1024;      // RFC 5321 says 512; hostile servers say more
constexpr std::size_t kMaxReplyLines = 1000;

class Client;

// The connection: a non-blocking socket, with TLS once started. Every wait ends at a deadline.
class Connection {
public:
    ~Connection() { close(); }

    void close() {
        if (ssl_) SSL_free(ssl_);
        ssl_ = nullptr;
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    int fd() const { return fd_; }
    void adopt(int fd) { fd_ = fd; }
    SSL* ssl() const { return ssl_; }
    void set_ssl(SSL* ssl) { ssl_ = ssl; }
    std::string& buffer() { return in_; }

    // Waits until the socket is ready; false when the deadline passed first.
    bool wait(short events, Clock::time_point deadline) const {
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return false;
            pollfd p{fd_, events, 0};
            int rc = poll(&p, 1, static_cast<int>(std::min<long long>(left, 60000)));
            if (rc > 0) return true;
            if (rc < 0 && errno != EINTR) return true;  // let the read or write report the error
        }
    }

    IoResult write_all(std::string_view data, Clock::time_point deadline) {
        std::size_t done = 0;
        while (done < data.size()) {
            if (ssl_) {
                ERR_clear_error();
                int n = SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done));
                if (n > 0) {
                    done += static_cast<std::size_t>(n);
                    continue;
                }
                int error = SSL_get_error(ssl_, n);
                if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
                    if (!wait(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return {Io::Timeout, ""};
                    continue;
                }
                std::string detail = openssl_error();
                return {Io::Error, detail.empty() ? std::string("the connection broke while sending") : detail};
            }
            ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n > 0) {
                done += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                if (!wait(POLLOUT, deadline)) return {Io::Timeout, ""};
                continue;
            }
            return {Io::Error, std::strerror(errno)};
        }
        return {};
    }

    // One line without its CR LF, as received.
    IoResult read_line(std::string& line, Clock::time_point deadline) {
        for (;;) {
            auto end = in_.find('\n');
            if (end != std::string::npos) {
                line = in_.substr(0, end);
                in_.erase(0, end + 1);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                return {};
            }
            if (in_.size() > kMaxLine) return {Io::TooLong, fmt::format("a reply line longer than {} bytes", kMaxLine)};
            IoResult more = fill(deadline);
            if (more.status != Io::Ok) return more;
        }
    }

    IoResult fill(Clock::time_point deadline) {
        char chunk[4096];
        for (;;) {
            if (ssl_) {
                ERR_clear_error();
                int n = SSL_read(ssl_, chunk, sizeof chunk);
                if (n > 0) {
                    in_.append(chunk, static_cast<std::size_t>(n));
                    return {};
                }
                int error = SSL_get_error(ssl_, n);
                if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
                    if (!wait(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return {Io::Timeout, ""};
                    continue;
                }
                if (error == SSL_ERROR_ZERO_RETURN) return {Io::Closed, "the server closed the TLS session"};
                std::string detail = openssl_error();
                if (error == SSL_ERROR_SYSCALL && detail.empty())
                    return {Io::Closed, errno ? std::string(std::strerror(errno)) : "the server closed the connection"};
                return {Io::Error, detail.empty() ? std::string("TLS error") : detail};
            }
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n > 0) {
                in_.append(chunk, static_cast<std::size_t>(n));
                return {};
            }
            if (n == 0) return {Io::Closed, "the server closed the connection"};
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                if (!wait(POLLIN, deadline)) return {Io::Timeout, ""};
                continue;
            }
            if (errno == ECONNRESET) return {Io::Closed, "the server reset the connection"};
            return {Io::Error, std::strerror(errno)};
        }
    }

private:
    int fd_ = -1;
    SSL* ssl_ = nullptr;
    std::string in_;
};

// The first bytes the server sent during a TLS handshake: a TLS record starts with 0x16 or 0x15,
// an SMTP greeting with three digits.
long capture_callback(BIO* bio, int operation, const char* data, std::size_t, int, long, int ret, std::size_t* processed) {
    if (operation == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 && processed && *processed > 0) {
        auto* captured = reinterpret_cast<std::string*>(BIO_get_callback_arg(bio));
        if (captured && captured->size() < 64) captured->append(data, std::min<std::size_t>(*processed, 64 - captured->size()));
    }
    return ret;
}

bool looks_like_smtp(const std::string& bytes) {
    return bytes.size() >= 3 && std::all_of(bytes.begin(), bytes.begin() + 3, [](char c) { return c >= '0' && c <= '9'; });
}

bool looks_like_tls(const std::string& bytes) {
    return !bytes.empty() && (bytes[0] == '\x16' || bytes[0] == '\x15');
}

class Client {
public:
    Client(const Options& options, Result& result)
        : options_(options), result_(result), redact_(options), start_(Clock::now()),
          deadline_(start_ + options.timeout) {
        result_.steps = plan_steps(options);
        started_.assign(result_.steps.size(), -1);
        if (!options.authOnly && !options.probe) {
            result_.subject = "tenantscan smtp-test " + result_.testId;
            message_ = build_message(options, result_.testId, result_.subject);
        }
    }

    void execute() {
        if (!resolve_and_connect()) return;
        if (options_.security == Security::ImplicitTls && !handshake(step(StepKind::TlsHandshake))) return;
        if (!banner()) return;
        if (!ehlo(StepKind::Ehlo)) return;
        if (options_.security == Security::StartTls) {
            Step& starttls = step(StepKind::StartTls);
            if (!result_.startTlsOffered) {
                begin(starttls);
                fail(starttls, Failure::StartTlsNotOffered, "the server's EHLO reply did not announce STARTTLS");
                return quit();
            }
            Reply reply;
            begin(starttls);
            if (!command(starttls, "STARTTLS", reply)) return;
            if (reply.code >= 400) return refuse(starttls, reply), quit();
            if (reply.code != 220) return unexpected(starttls, reply, "220"), quit();
            starttls.reply = reply;
            // RFC 3207 §4.2: nothing the server sent before TLS may be used afterwards.
            connection_.buffer().clear();
            if (!handshake(starttls)) return;
            if (!ehlo(StepKind::EhloAfterTls)) return;
        }
        // --cert-expiry-days: checked before anything is sent (credentials or message).
        if (options_.certExpiryDays && !check_certificate_expiry()) return quit();
        if (options_.probe) return check_auth_offered(), quit();
        if (!authenticate()) return quit();
        if (options_.authOnly) return quit();
        send_message();
        quit();
    }

private:
    // ---- steps

    Step& step(StepKind kind, const std::string& recipient = {}) {
        for (auto& s : result_.steps)
            if (s.kind == kind && (kind != StepKind::RcptTo || s.recipient == recipient)) return s;
        throw std::logic_error("smtp-test: no planned step");
    }

    std::size_t index(const Step& s) const { return static_cast<std::size_t>(&s - result_.steps.data()); }

    void begin(Step& s) { started_[index(s)] = elapsed_ms(); }

    void end(Step& s, StepStatus status) {
        s.status = status;
        if (started_[index(s)] >= 0) s.milliseconds = elapsed_ms() - started_[index(s)];
    }

    void succeed(Step& s, const std::optional<Reply>& reply = std::nullopt) {
        if (reply) s.reply = reply;
        end(s, StepStatus::Ok);
    }

    void refuse(Step& s, const Reply& reply) {
        s.reply = reply;
        end(s, StepStatus::Refused);
    }

    void fail(Step& s, Failure failure, const std::string& error) {
        s.failure = failure;
        s.error = redact_.text(error);
        end(s, StepStatus::Failed);
    }

    void unexpected(Step& s, const Reply& reply, const std::string& expected, const std::string& consequence = "") {
        s.reply = reply;
        fail(s, Failure::UnexpectedReply,
             fmt::format("The server answered {} with {}, where the protocol allows only {} (or a 4xx/5xx refusal){}",
                         s.label, reply.code, expected, consequence.empty() ? "" : ": " + consequence));
    }

    // ---- connection

    bool resolve_and_connect() {
        Step& resolve = step(StepKind::Resolve);
        Step& connect = step(StepKind::Connect);
        std::string host = options_.host;
        int port = options_.effective_port();
        if (!options_.connectTo.empty()) std::tie(host, port) = parse_connect_to(options_);
        result_.remotePort = port;

        begin(resolve);
        addrinfo* found = nullptr;
        int rc = 0, lookupErrno = 0;
        if (!resolve_within(host, port, found, rc, lookupErrno)) {
            fail(resolve, Failure::Timeout, fmt::format("{} did not resolve within {} seconds", host, seconds()));
            return false;
        }
        if (rc != 0 || !found) {
            fail(resolve, Failure::Resolve, rc == EAI_SYSTEM ? std::strerror(lookupErrno) : gai_strerror(rc));
            return false;
        }
        std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
        std::vector<std::string> names;
        for (auto* a = found; a; a = a->ai_next) names.push_back(address_text(a->ai_addr));
        resolve.detail = fmt::to_string(fmt::join(names, ", "));
        succeed(resolve);

        begin(connect);
        std::string lastError = "no address to connect to";
        bool timedOut = false;
        for (auto* a = found; a; a = a->ai_next) {
            int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
            if (fd < 0) {
                lastError = std::strerror(errno);
                continue;
            }
            connection_.adopt(fd);
            int result = ::connect(fd, a->ai_addr, a->ai_addrlen);
            if (result != 0 && errno == EINPROGRESS) {
                if (!connection_.wait(POLLOUT, deadline_)) {
                    timedOut = true;
                    lastError = fmt::format("no TCP connection within {} seconds", seconds());
                    connection_.close();
                    break;
                }
                int error = 0;
                socklen_t length = sizeof error;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
                result = error == 0 ? 0 : -1;
                errno = error;
            }
            if (result == 0) {
                result_.remoteAddress = address_text(a->ai_addr);
                connect.detail = fmt::format("{} port {}", result_.remoteAddress, port);
                succeed(connect);
                return true;
            }
            lastError = fmt::format("{} port {}: {}", address_text(a->ai_addr), port, std::strerror(errno));
            connection_.close();
        }
        fail(connect, timedOut ? Failure::Timeout : Failure::Connect, lastError);
        return false;
    }

    // getaddrinfo cannot be interrupted: it runs on a thread of its own, and --timeout bounds the
    // wait. A lookup still running when the test gives up frees its own result when it ends.
    bool resolve_within(const std::string& host, int port, addrinfo*& found, int& rc, int& error) {
        struct Lookup {
            std::mutex mutex;
            std::condition_variable done;
            bool finished = false, abandoned = false;
            int rc = 0, error = 0;
            addrinfo* result = nullptr;
        };
        auto lookup = std::make_shared<Lookup>();
        std::thread([lookup, host, service = std::to_string(port)] {
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            addrinfo* result = nullptr;
            int code = getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
            int saved = errno;
            std::lock_guard<std::mutex> lock(lookup->mutex);
            if (lookup->abandoned) {
                if (result) freeaddrinfo(result);
                return;
            }
            lookup->rc = code;
            lookup->error = saved;
            lookup->result = result;
            lookup->finished = true;
            lookup->done.notify_all();
        }).detach();
        std::unique_lock<std::mutex> lock(lookup->mutex);
        if (!lookup->done.wait_until(lock, deadline_, [&] { return lookup->finished; })) {
            lookup->abandoned = true;
            return false;
        }
        found = lookup->result;
        rc = lookup->rc;
        error = lookup->error;
        return true;
    }

    static std::string address_text(const sockaddr* address) {
        char text[INET6_ADDRSTRLEN] = {0};
        if (address->sa_family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
        else if (address->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text, sizeof text);
        return text;
    }

    // The EHLO argument: this machine's address literal (RFC 5321 §4.1.3), as a device sends it.
    std::string ehlo_domain() const {
        sockaddr_storage local{};
        socklen_t length = sizeof local;
        if (getsockname(connection_.fd(), reinterpret_cast<sockaddr*>(&local), &length) != 0) return "[127.0.0.1]";
        std::string address = address_text(reinterpret_cast<const sockaddr*>(&local));
        if (address.empty()) return "[127.0.0.1]";
        return local.ss_family == AF_INET6 ? "[IPv6:" + address + "]" : "[" + address + "]";
    }

    std::string seconds() const { return fmt::format("{:g}", static_cast<double>(options_.timeout.count()) / 1000.0); }

    // ---- TLS

    bool handshake(Step& s) {
        if (started_[index(s)] < 0) begin(s);
        std::unique_ptr<SSL_CTX, SslCtxDeleter> context = make_tls_context(options_);
        if (!options_.caFile.empty()) {
            if (SSL_CTX_load_verify_locations(context.get(), options_.caFile.c_str(), nullptr) != 1) {
                fail(s, Failure::CaFileUnreadable, options_.caFile + ": " + openssl_error());
                connection_.close();
                return false;
            }
        } else {
            SSL_CTX_set_default_verify_paths(context.get());
        }
        SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, &Client::verify_callback);
        SSL* ssl = SSL_new(context.get());
        if (!ssl) throw std::runtime_error("smtp-test: OpenSSL could not create a TLS session");
        connection_.set_ssl(ssl);  // owned by the connection from here on
        SSL_set_ex_data(ssl, ssl_slot(), this);
        if (is_ip_literal(options_.host)) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), options_.host.c_str());
        } else {
            SSL_set1_host(ssl, options_.host.c_str());
            SSL_set_tlsext_host_name(ssl, options_.host.c_str());
        }
        BIO* bio = BIO_new_socket(connection_.fd(), BIO_NOCLOSE);
        captured_.clear();
        BIO_set_callback_ex(bio, capture_callback);
        BIO_set_callback_arg(bio, reinterpret_cast<char*>(&captured_));
        SSL_set_bio(ssl, bio, bio);

        for (;;) {
            ERR_clear_error();
            int rc = SSL_connect(ssl);
            if (rc == 1) break;
            int error = SSL_get_error(ssl, rc);
            if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
                if (connection_.wait(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_)) continue;
                fail(s, Failure::Timeout, fmt::format("the TLS handshake did not finish within {} seconds", seconds()));
                connection_.close();
                return false;
            }
            std::string detail = openssl_error();
            long verify = SSL_get_verify_result(ssl);
            if (x509Error_ != X509_V_OK || verify != X509_V_OK) {
                long code = x509Error_ != X509_V_OK ? x509Error_ : verify;
                fail(s, certificate_failure(code), X509_verify_cert_error_string(code));
            } else if (s.kind == StepKind::TlsHandshake && looks_like_smtp(captured_)) {
                std::string greeting = captured_.substr(0, captured_.find_first_of("\r\n"));
                fail(s, Failure::PlainServerOnTlsPort,
                     fmt::format("the server greeted in plain text ('{}') instead of starting TLS", printable(greeting)));
            } else {
                fail(s, Failure::TlsHandshake,
                     detail.empty() ? (captured_.empty() ? "the server closed the connection during the TLS handshake"
                                                         : "the TLS handshake failed")
                                    : detail);
            }
            connection_.close();  // a failed handshake leaves nothing to talk over
            return false;
        }
        TlsSession& tls = tls_session();
        tls.protocol = SSL_get_version(ssl);
        tls.cipher = SSL_get_cipher_name(ssl);
        if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl))
            if (const char* name = SSL_CIPHER_standard_name(cipher)) tls.cipherStandardName = name;
        s.detail = tls_detail();
        succeed(s);
        return true;
    }

    static int verify_callback(int preverifyOk, X509_STORE_CTX* store) {
        auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        auto* self = ssl ? static_cast<Client*>(SSL_get_ex_data(ssl, ssl_slot())) : nullptr;
        if (!self) return preverifyOk;
        try {
            self->on_certificate(store, preverifyOk);
        } catch (...) {
            // The certificate stays undescribed; verification itself is unaffected.
        }
        return preverifyOk;
    }

    void on_certificate(X509_STORE_CTX* store, int preverifyOk) {
        TlsSession& tls = tls_session();
        X509* leaf = X509_STORE_CTX_get0_cert(store);
        if (leaf && tls.subject.empty()) {
            tls.subject = printable(x509_name(X509_get_subject_name(leaf)));
            tls.issuer = printable(x509_name(X509_get_issuer_name(leaf)));
            tls.notBefore = iso_time(X509_get0_notBefore(leaf));
            tls.notAfter = iso_time(X509_get0_notAfter(leaf));
            int days = 0, seconds = 0;  // from now to notAfter; negative once expired
            if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(leaf)) == 1) {
                tls.secondsLeft = static_cast<long long>(days) * 86400 + seconds;
                // Whole days left, rounded down (an expired certificate has a negative count).
                long long s = *tls.secondsLeft;
                tls.daysLeft = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
            }
            for (const auto& name : subject_alt_names(leaf)) tls.subjectAltNames.push_back(printable(name));
        }
        if (!preverifyOk && x509Error_ == X509_V_OK) {
            x509Error_ = X509_STORE_CTX_get_error(store);
            tls.verifyError = X509_verify_cert_error_string(x509Error_);
        }
    }

    std::string tls_detail() const {
        const TlsSession& tls = *result_.tls;
        std::string detail = tls.protocol + ", " + (tls.cipherStandardName.empty() ? tls.cipher : tls.cipherStandardName);
        if (!tls.subject.empty())
            detail += "; certificate " + tls.subject + ", issued by " + tls.issuer + ", expires " + tls.notAfter +
                      (tls.daysLeft ? fmt::format(" ({} days left)", *tls.daysLeft) : "");
        return detail;
    }

    TlsSession& tls_session() {
        if (!result_.tls) result_.tls.emplace();
        return *result_.tls;
    }

    // The server sent no greeting: does it wait for a TLS ClientHello (an implicit-TLS port)? A
    // short handshake attempt on the same connection tells, after the timeout has already passed.
    bool answers_tls() {
        std::unique_ptr<SSL_CTX, SslCtxDeleter> context(SSL_CTX_new(TLS_client_method()));
        if (!context) return false;
        SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);  // only the first bytes matter
        SSL* ssl = SSL_new(context.get());
        if (!ssl) return false;
        BIO* bio = BIO_new_socket(connection_.fd(), BIO_NOCLOSE);
        captured_.clear();
        BIO_set_callback_ex(bio, capture_callback);
        BIO_set_callback_arg(bio, reinterpret_cast<char*>(&captured_));
        SSL_set_bio(ssl, bio, bio);
        auto probeDeadline = Clock::now() + std::min<Clock::duration>(options_.timeout, std::chrono::seconds(3));
        for (;;) {
            ERR_clear_error();
            int rc = SSL_connect(ssl);
            if (rc == 1 || !captured_.empty()) break;
            int error = SSL_get_error(ssl, rc);
            if ((error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) ||
                !connection_.wait(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, probeDeadline))
                break;
        }
        ERR_clear_error();
        SSL_free(ssl);
        return looks_like_tls(captured_);
    }

    // ---- SMTP

    // Reads one reply (all its lines). On failure the step fails and false is returned.
    bool read_reply(Step& s, Reply& reply) {
        std::vector<std::string> raw;
        for (;;) {
            std::string line;
            IoResult io = connection_.read_line(line, deadline_);
            if (io.status != Io::Ok) {
                io_failure(s, io, raw);
                return false;
            }
            transcript(false, redact_.server_line(line));
            bool coded = line.size() >= 3 && std::all_of(line.begin(), line.begin() + 3, [](char c) { return c >= '0' && c <= '9'; }) &&
                         (line.size() == 3 || line[3] == ' ' || line[3] == '-');
            if (!coded) {
                fail(s, Failure::MalformedReply, "not an SMTP reply: '" + redact_.text(line) + "'");
                connection_.close();
                return false;
            }
            raw.push_back(line);
            if (line.size() == 3 || line[3] == ' ') break;
            if (raw.size() >= kMaxReplyLines) {
                fail(s, Failure::MalformedReply, fmt::format("a reply of more than {} lines", kMaxReplyLines));
                connection_.close();
                return false;
            }
        }
        reply = parse_reply(raw);
        for (std::size_t i = 0; i < raw.size(); ++i) reply.lines[i] = redact_.server_line(raw[i]);
        lastRaw_ = raw;
        return true;
    }

    void io_failure(Step& s, const IoResult& io, const std::vector<std::string>& partial) {
        std::string context = partial.empty() ? "" : " (after '" + redact_.server_line(partial.back()) + "')";
        switch (io.status) {
            case Io::Timeout:
                fail(s, Failure::Timeout, fmt::format("no reply within {} seconds{}", seconds(), context));
                break;
            case Io::Closed: fail(s, Failure::ConnectionLost, io.message + context); break;
            case Io::TooLong: fail(s, Failure::MalformedReply, io.message); break;
            default: fail(s, Failure::ConnectionLost, io.message + context); break;
        }
        connection_.close();
    }

    bool send(Step& s, const std::string& line, const std::string& shown) {
        transcript(true, shown);
        IoResult io = connection_.write_all(line + "\r\n", deadline_);
        if (io.status == Io::Ok) return true;
        if (io.status == Io::Timeout) fail(s, Failure::Timeout, fmt::format("could not send within {} seconds", seconds()));
        else fail(s, Failure::ConnectionLost, io.message);
        connection_.close();
        return false;
    }

    bool command(Step& s, const std::string& line, Reply& reply) {
        return send(s, line, redact_.text(line)) && read_reply(s, reply);
    }

    bool banner() {
        Step& s = step(StepKind::Banner);
        begin(s);
        Reply reply;
        if (!read_reply(s, reply)) {
            if (s.failure == Failure::Timeout && options_.security != Security::ImplicitTls && connection_alive_after_timeout()) {
                s.failure = Failure::TlsServerOnPlainPort;
                s.error = fmt::format("no greeting within {} seconds, but the server answers a TLS handshake: port {} "
                                      "expects TLS from the first byte", seconds(), result_.remotePort);
            }
            return false;
        }
        if (reply.code == 220) return succeed(s, reply), true;
        if (reply.code >= 400) return refuse(s, reply), quit(), false;
        unexpected(s, reply, "220");
        quit();
        return false;
    }

    // After a banner timeout the connection was closed; reopen it for the probe.
    bool connection_alive_after_timeout() {
        if (!reconnect()) return false;
        return answers_tls();
    }

    bool reconnect() {
        std::string host = options_.host;
        int port = options_.effective_port();
        if (!options_.connectTo.empty()) std::tie(host, port) = parse_connect_to(options_);
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) return false;
        std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
        int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, found->ai_protocol);
        if (fd < 0) return false;
        connection_.close();
        connection_.adopt(fd);
        if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) return false;
        return connection_.wait(POLLOUT, Clock::now() + std::chrono::seconds(3));
    }

    bool ehlo(StepKind kind) {
        Step& s = step(kind);
        begin(s);
        Reply reply;
        if (!command(s, "EHLO " + ehlo_domain(), reply)) return false;
        if (reply.code == 250) {
            Capabilities capabilities = parse_capabilities(lastRaw_);
            result_.capabilities.clear();
            for (const auto& keyword : capabilities.keywords) result_.capabilities.push_back(redact_.text(keyword));
            result_.authMechanismsOffered.clear();
            for (const auto& mechanism : capabilities.authMechanisms) result_.authMechanismsOffered.push_back(redact_.text(mechanism));
            authAnnounced_ = capabilities.authAnnounced;
            if (kind == StepKind::Ehlo) result_.startTlsOffered = capabilities.startTls;
            s.detail = capability_detail(kind);
            return succeed(s, reply), true;
        }
        if (reply.code == 500 || reply.code == 502) {
            // RFC 5321 §4.1.4: a server without extensions answers HELO. It then offers no
            // STARTTLS and no AUTH, which the next step reports.
            s.label += ", then HELO";
            if (!command(s, "HELO " + ehlo_domain(), reply)) return false;
            if (reply.code == 250) {
                result_.capabilities.clear();
                result_.authMechanismsOffered.clear();
                authAnnounced_ = false;
                if (kind == StepKind::Ehlo) result_.startTlsOffered = false;
                s.detail = capability_detail(kind);
                return succeed(s, reply), true;
            }
        }
        if (reply.code >= 400) return refuse(s, reply), quit(), false;
        unexpected(s, reply, "250");
        quit();
        return false;
    }

    std::string capability_detail(StepKind kind) const {
        std::vector<std::string> facts;
        std::string mechanisms = fmt::to_string(fmt::join(result_.authMechanismsOffered, " "));
        if (kind == StepKind::Ehlo && options_.security == Security::StartTls)
            facts.push_back(result_.startTlsOffered ? "STARTTLS offered" : "STARTTLS not offered");
        if (kind == StepKind::EhloAfterTls || options_.security != Security::StartTls || !mechanisms.empty())
            facts.push_back(mechanisms.empty() ? (authAnnounced_ ? "AUTH announced without mechanisms" : "no AUTH offered")
                                               : "AUTH offered: " + mechanisms);
        return fmt::to_string(fmt::join(facts, "; "));
    }

    std::string choose_mechanism(Step& s) {
        const auto& offered = result_.authMechanismsOffered;
        auto has = [&](const char* m) { return std::find(offered.begin(), offered.end(), m) != offered.end(); };
        std::string list = offered.empty() ? std::string("none") : fmt::to_string(fmt::join(offered, " "));
        if (options_.authMechanism != AuthMechanism::Auto) {
            const char* wanted = to_string(options_.authMechanism);
            if (has(wanted)) return wanted;
            fail(s, Failure::NoUsableAuthMechanism,
                 fmt::format("the server does not offer {} (--auth-mechanism); it offers {}", wanted, list));
            return "";
        }
        if (options_.credentialKind == CredentialKind::OAuthToken) {
            if (has("XOAUTH2")) return "XOAUTH2";
        } else {
            if (has("PLAIN")) return "PLAIN";
            if (has("LOGIN")) return "LOGIN";
        }
        fail(s, Failure::NoUsableAuthMechanism, "no offered mechanism (" + list + ") fits this credential");
        return "";
    }

    // --cert-expiry-days N: the certificate the handshake verified must have more than N days left.
    // No verified certificate (no handshake, verification failed, notAfter unreadable) never passes.
    bool check_certificate_expiry() {
        Step& s = step(StepKind::CertificateExpiry);
        begin(s);
        const int limit = *options_.certExpiryDays;
        const TlsSession* tls = result_.tls ? &*result_.tls : nullptr;
        if (!tls || tls->protocol.empty() || tls->subject.empty() || !tls->verifyError.empty() || !tls->secondsLeft) {
            fail(s, Failure::CertificateNotSeen,
                 fmt::format("no verified server certificate whose expiry could be read, so --cert-expiry-days {} "
                             "cannot pass", limit));
            return false;
        }
        if (*tls->secondsLeft <= static_cast<long long>(limit) * 86400) {
            fail(s, Failure::CertificateExpiresSoon,
                 fmt::format("{} expires on {}, {} whole day(s) from now, within the {} day(s) of "
                             "--cert-expiry-days", tls->subject, tls->notAfter, *tls->daysLeft, limit));
            return false;
        }
        s.detail = fmt::format("expires {}, {} days left (more than {})", tls->notAfter, *tls->daysLeft, limit);
        succeed(s);
        return true;
    }

    // --probe: what the last EHLO offered for AUTH. A server that offers no mechanism, or not
    // every one --expect-auth names, fails the probe; nothing is sent either way.
    bool check_auth_offered() {
        Step& s = step(StepKind::AuthOffered);
        begin(s);
        const auto& offered = result_.authMechanismsOffered;
        if (offered.empty()) {
            fail(s, authAnnounced_ ? Failure::NoUsableAuthMechanism : Failure::AuthNotOffered,
                 authAnnounced_ ? "the server announced AUTH without any mechanism"
                                : "the server's EHLO reply announced no AUTH");
            return false;
        }
        std::vector<std::string> missing;
        for (const auto& wanted : options_.expectAuth)
            if (std::find(offered.begin(), offered.end(), wanted) == offered.end()) missing.push_back(wanted);
        if (!missing.empty()) {
            fail(s, Failure::ExpectedAuthNotOffered,
                 fmt::format("the server offers AUTH {}, but not {} (--expect-auth)", fmt::join(offered, " "), fmt::join(missing, " ")));
            return false;
        }
        s.detail = "AUTH offered: " + fmt::to_string(fmt::join(offered, " ")) +
                   (options_.expectAuth.empty() ? "" : " (expected: " + fmt::to_string(fmt::join(options_.expectAuth, " ")) + ")");
        succeed(s);
        return true;
    }

    // RFC 4954: AUTH, then one response per 334 challenge, until 235 or a refusal.
    bool authenticate() {
        Step& s = step(StepKind::Auth);
        begin(s);
        if (result_.authMechanismsOffered.empty()) {
            fail(s, authAnnounced_ ? Failure::NoUsableAuthMechanism : Failure::AuthNotOffered,
                 authAnnounced_ ? "the server announced AUTH without any mechanism"
                                : "the server's EHLO reply announced no AUTH");
            return false;
        }
        std::string mechanism = choose_mechanism(s);
        if (mechanism.empty()) return false;
        result_.authMechanismUsed = mechanism;
        s.label = "AUTH " + mechanism;

        const std::string& user = options_.user;
        const std::string& secret = options_.secret;
        std::vector<std::string> responses;
        if (mechanism == "LOGIN") responses = {detail::base64_encode(user), detail::base64_encode(secret)};
        else if (mechanism == "PLAIN") responses = {detail::base64_encode(std::string(1, '\0') + user + '\0' + secret)};
        else responses = {detail::base64_encode("user=" + user + "\x01" "auth=Bearer " + secret + "\x01\x01")};

        Reply reply;
        if (!command(s, "AUTH " + mechanism, reply)) return false;
        std::size_t sent = 0;
        bool errorChallengeAnswered = false;
        for (;;) {
            if (reply.code == 235) {
                result_.authenticated = true;
                return succeed(s, reply), true;
            }
            if (reply.code == 334) {
                if (sent < responses.size()) {
                    if (!send(s, responses[sent++], kRedacted) || !read_reply(s, reply)) return false;
                    continue;
                }
                if (mechanism == "XOAUTH2" && !errorChallengeAnswered) {
                    // RFC 7628 §3.2.2: the error challenge; answer with %x01, the server then fails.
                    result_.oauthError = decode_oauth_error(lastRaw_.back());
                    s.detail = oauth_error_detail(*result_.oauthError);
                    errorChallengeAnswered = true;
                    if (!send(s, detail::base64_encode("\x01"), "AQ== (dummy response to the error challenge, RFC 7628)") ||
                        !read_reply(s, reply))
                        return false;
                    continue;
                }
                // More challenges than the mechanism has answers: cancel (RFC 4954 §4).
                std::string challenge = reply.verbatim();
                Reply cancelled;
                std::string answer;
                if (send(s, "*", "*") && read_reply(s, cancelled)) answer = cancelled.verbatim();
                s.reply = reply;
                fail(s, Failure::SaslExchangeCancelled,
                     fmt::format("After all {} response(s) of {} the server sent another challenge ('{}'); tenantscan "
                                 "cancelled the exchange with '*' (RFC 4954){}",
                                 responses.size(), mechanism, challenge,
                                 answer.empty() ? "" : ", and the server answered '" + answer + "'"));
                return false;
            }
            if (reply.code >= 400) return refuse(s, reply), false;
            unexpected(s, reply, "235 (signed in) or 334 (a challenge)", "the account is not treated as signed in");
            return false;
        }
    }

    OAuthError decode_oauth_error(const std::string& rawLine) const {
        OAuthError error;
        std::string challenge = rawLine.size() > 4 ? rawLine.substr(4) : "";
        auto decoded = detail::base64_decode(challenge);
        if (!decoded) return error;
        error.json = redact_.text(*decoded);
        auto parsed = nlohmann::json::parse(*decoded, nullptr, false);
        if (!parsed.is_object()) return error;
        auto field = [&](const char* name) -> std::string {
            if (!parsed.contains(name)) return "";
            const auto& value = parsed.at(name);
            return redact_.text(value.is_string() ? value.get<std::string>() : value.dump());
        };
        error.status = field("status");
        error.scope = field("scope");
        error.schemes = field("schemes");
        return error;
    }

    static std::string oauth_error_detail(const OAuthError& error) {
        if (error.status.empty() && error.scope.empty())
            return error.json.empty() ? "the server sent an error challenge that is not base64"
                                      : "token error challenge: " + error.json;
        std::string detail = "token error challenge: status " + (error.status.empty() ? "?" : error.status);
        if (!error.scope.empty()) detail += ", scope " + error.scope;
        if (!error.schemes.empty()) detail += ", schemes " + error.schemes;
        return detail;
    }

    void send_message() {
        Step& mail = step(StepKind::MailFrom);
        begin(mail);
        Reply reply;
        if (!command(mail, "MAIL FROM:<" + options_.effective_from() + ">", reply)) return;
        if (reply.code >= 400) return refuse(mail, reply);
        if (reply.code != 250) return unexpected(mail, reply, "250", "no message was sent");
        succeed(mail, reply);

        for (const auto& to : options_.to) {
            Step& rcpt = step(StepKind::RcptTo, to);
            begin(rcpt);
            if (!command(rcpt, "RCPT TO:<" + to + ">", reply)) return;
            if (reply.code == 250 || reply.code == 251) {
                succeed(rcpt, reply);
                result_.acceptedRecipients.push_back(to);
            } else if (reply.code >= 400) {
                refuse(rcpt, reply);
                result_.refusedRecipients.push_back(to);
            } else {
                result_.refusedRecipients.push_back(to);
                return unexpected(rcpt, reply, "250 or 251", "no message was sent");
            }
        }
        if (result_.acceptedRecipients.empty()) return;  // nothing to send to: DATA is not reached

        Step& data = step(StepKind::Data);
        begin(data);
        if (!command(data, "DATA", reply)) return;
        if (reply.code >= 400) return refuse(data, reply);
        if (reply.code != 354)
            return unexpected(data, reply, "354 (send the message)", "the message was not sent, nothing was delivered");
        std::string body;
        std::size_t at = 0;
        while (at < message_.size()) {  // RFC 5321 §4.5.2: a line starting with "." gets another
            auto end = message_.find("\r\n", at);
            std::string line = message_.substr(at, end == std::string::npos ? std::string::npos : end - at);
            body += (line.rfind('.', 0) == 0 ? "." : "") + line + "\r\n";
            at = end == std::string::npos ? message_.size() : end + 2;
        }
        transcript(true, fmt::format("(the test message: {} bytes, subject '{}')", message_.size(), result_.subject));
        if (!send(data, body + ".", ".")) return;
        if (!read_reply(data, reply)) {
            if (data.failure == Failure::ConnectionLost || data.failure == Failure::Timeout)
                data.error += "; the message was sent, but the server never confirmed it: it was not accepted";
            return;
        }
        if (reply.code == 250) {
            result_.messageAccepted = true;
            return succeed(data, reply);
        }
        if (reply.code >= 400) return refuse(data, reply);
        unexpected(data, reply, "250", "tenantscan cannot tell whether the message was accepted, so it counts as not");
    }

    void quit() {
        Step& s = step(StepKind::Quit);
        if (connection_.fd() < 0 || s.status != StepStatus::NotReached) return;
        // QUIT gets a few seconds of its own, also when a refusal came at the end of --timeout.
        deadline_ = std::max(deadline_, Clock::now() + std::min<Clock::duration>(options_.timeout, std::chrono::seconds(5)));
        begin(s);
        Reply reply;
        if (!command(s, "QUIT", reply)) {
            if (s.failure == Failure::ConnectionLost) s.error = "the server closed the connection without answering QUIT";
            return;
        }
        if (reply.code >= 400) return refuse(s, reply);
        succeed(s, reply);
        connection_.close();
    }

    double elapsed_ms() const { return std::chrono::duration<double, std::milli>(Clock::now() - start_).count(); }

    void transcript(bool fromClient, const std::string& text) {
        result_.transcript.push_back(TranscriptLine{elapsed_ms(), fromClient, text});
    }

    const Options& options_;
    Result& result_;
    Redactor redact_;
    Clock::time_point start_;
    Clock::time_point deadline_;
    Connection connection_;
    std::vector<double> started_;  // per step: start time in ms, -1 not started
    std::vector<std::string> lastRaw_;  // the last reply's lines as received
    bool authAnnounced_ = false;
    long x509Error_ = X509_V_OK;
    std::string captured_;  // first bytes of a TLS handshake
    std::string message_;
};

}  // namespace

Reply parse_reply(const std::vector<std::string>& rawLines) {
    Reply reply;
    for (const auto& line : rawLines) reply.lines.push_back(printable(line));
    if (rawLines.empty()) return reply;
    const std::string& last = rawLines.back();
    if (last.size() >= 3 && std::all_of(last.begin(), last.begin() + 3, [](char c) { return c >= '0' && c <= '9'; }))
        reply.code = std::stoi(last.substr(0, 3));
    // RFC 3463: class.subject.detail, class 2, 4 or 5; Exchange repeats it on every line.
    for (auto it = rawLines.rbegin(); it != rawLines.rend() && reply.enhancedCode.empty(); ++it) {
        std::string rest = it->size() > 4 ? it->substr(4) : "";
        std::string first = rest.substr(0, rest.find(' '));
        int dots = static_cast<int>(std::count(first.begin(), first.end(), '.'));
        bool digits = !first.empty() && std::all_of(first.begin(), first.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
        });
        if (dots == 2 && digits && (first[0] == '2' || first[0] == '4' || first[0] == '5') && first[1] == '.' &&
            first.back() != '.' && first.find("..") == std::string::npos)
            reply.enhancedCode = first;
    }
    return reply;
}

Capabilities parse_capabilities(const std::vector<std::string>& ehloLines) {
    Capabilities capabilities;
    for (std::size_t i = 1; i < ehloLines.size(); ++i) {  // line 0 greets
        std::string line = ehloLines[i].size() > 4 ? ehloLines[i].substr(4) : "";
        capabilities.keywords.push_back(printable(line));
        std::vector<std::string> words;
        for (std::size_t at = 0; at < line.size();) {
            auto end = line.find_first_of(" \t=", at);
            if (end == std::string::npos) end = line.size();
            if (end > at) words.push_back(to_upper(line.substr(at, end - at)));
            at = end + 1;
        }
        if (words.empty()) continue;
        if (words[0] == "STARTTLS") capabilities.startTls = true;
        if (words[0] != "AUTH") continue;
        capabilities.authAnnounced = true;
        for (std::size_t w = 1; w < words.size(); ++w) {
            std::string mechanism = printable(words[w]);
            if (std::find(capabilities.authMechanisms.begin(), capabilities.authMechanisms.end(), mechanism) ==
                capabilities.authMechanisms.end())
                capabilities.authMechanisms.push_back(mechanism);
        }
    }
    return capabilities;
}

std::string printable(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02X}", c);
            else out += static_cast<char>(c);
            ++i;
            continue;
        }
        std::size_t length = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        std::uint32_t point = length == 2 ? (c & 0x1Fu) : length == 3 ? (c & 0x0Fu) : (c & 0x07u);
        bool valid = length != 0 && i + length <= bytes.size();
        for (std::size_t k = 1; valid && k < length; ++k) {
            const auto next = static_cast<unsigned char>(bytes[i + k]);
            valid = (next & 0xC0) == 0x80;
            point = (point << 6) | (next & 0x3Fu);
        }
        if (valid && ((length == 3 && point < 0x800) || (length == 4 && (point < 0x10000 || point > 0x10FFFF)) ||
                      (point >= 0xD800 && point <= 0xDFFF)))
            valid = false;
        if (!valid) {
            out += fmt::format("\\x{:02X}", c);
            ++i;
            continue;
        }
        bool control = (point >= 0x80 && point <= 0x9F) || point == 0x061C || point == 0x200E || point == 0x200F ||
                       (point >= 0x2028 && point <= 0x202E) || (point >= 0x2066 && point <= 0x2069);
        if (control) out += fmt::format("\\u{{{:04X}}}", point);
        else out.append(bytes.substr(i, length));
        i += length;
    }
    return out;
}

int Options::effective_port() const {
    if (port != 0) return port;
    return security == Security::ImplicitTls ? kImplicitTlsPort : kSubmissionPort;
}

const std::string& Options::effective_from() const { return from.empty() ? user : from; }

void validate(const Options& options) {
    if (options.host.empty()) throw std::invalid_argument("no SMTP host given");
    if (options.port < 0 || options.port > 65535)
        throw std::invalid_argument(fmt::format("port {} is out of range (1-65535)", options.port));
    if (options.probe) {
        // The probe signs in with nothing and sends nothing: a credential or an address given
        // with it would suggest a test that does not happen.
        if (!options.user.empty() || !options.secret.empty() || options.authMechanism != AuthMechanism::Auto)
            throw std::invalid_argument("the probe sends no credentials: drop the user, the password or token, and the auth mechanism");
        if (!options.to.empty() || !options.from.empty() || options.authOnly)
            throw std::invalid_argument("the probe sends no message: drop the recipients, the sender and auth-only");
    } else {
        if (options.user.empty()) throw std::invalid_argument("no user given");
        if (options.secret.empty())
            throw std::invalid_argument(options.credentialKind == CredentialKind::Password ? "the password is empty"
                                                                                           : "the OAuth token is empty");
        if (!options.authOnly && options.to.empty())
            throw std::invalid_argument("no recipient given: name at least one, or test the sign-in alone with auth-only");
        if (!options.expectAuth.empty())
            throw std::invalid_argument("expect-auth belongs to the probe (the sign-in itself shows whether its mechanism is offered)");
    }
    for (const auto& mechanism : options.expectAuth)
        if (mechanism.empty() || !std::all_of(mechanism.begin(), mechanism.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            }))
            throw std::invalid_argument("'" + printable(mechanism) + "' is not a SASL mechanism name (upper case letters, digits, - and _)");
    if (options.certExpiryDays) {
        if (*options.certExpiryDays < 0 || *options.certExpiryDays > 36500)
            throw std::invalid_argument(fmt::format("cert-expiry-days {} is out of range (0-36500)", *options.certExpiryDays));
        if (options.security == Security::Plain)
            throw std::invalid_argument("cert-expiry-days needs a certificate, and --plain has no TLS: drop --plain");
    }
    if (options.timeout.count() <= 0) throw std::invalid_argument("the timeout must be positive");
    auto control = [](const std::string& text) {
        return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
    };
    for (const auto* field : {&options.host, &options.user, &options.connectTo, &options.caFile, &options.ciphers})
        if (control(*field)) throw std::invalid_argument("'" + printable(*field) + "' contains control characters");
    auto bad = [&](const std::string& address) {
        return control(address) || address.find_first_of("<> ") != std::string::npos || address.find('@') == std::string::npos;
    };
    if (!options.probe && bad(options.effective_from())) throw std::invalid_argument("'" + printable(options.effective_from()) + "' is not a mail address");
    for (const auto& to : options.to)
        if (bad(to)) throw std::invalid_argument("'" + printable(to) + "' is not a mail address");
    if (!options.connectTo.empty()) parse_connect_to(options);
    bool password = options.credentialKind == CredentialKind::Password;
    if (options.authMechanism == AuthMechanism::XOAuth2 && password)
        throw std::invalid_argument("auth mechanism XOAUTH2 needs an OAuth token, not a password");
    if ((options.authMechanism == AuthMechanism::Login || options.authMechanism == AuthMechanism::Plain) && !password)
        throw std::invalid_argument(std::string("auth mechanism ") + to_string(options.authMechanism) +
                                    " needs a password, not an OAuth token");
    if (options.security == Security::Plain && (options.tlsMaxVersion != TlsMaxVersion::Any || !options.ciphers.empty()))
        throw std::invalid_argument("the TLS version and ciphers need TLS: drop --plain");
    make_tls_context(options);  // OpenSSL must know the ciphers named
}

Result run(const Options& options) {
    validate(options);
    Result result;
    result.options = options;
    result.options.secret.clear();
    result.testId = make_test_id();
    Client client(options, result);
    client.execute();
    return result;
}

Outcome Result::outcome() const {
    // Success only from what the server confirmed: 250 after the message (sent after 354), or
    // with authOnly, 235 to AUTH. Nothing else, however the other steps went, is a success.
    // With probe, every planned step before QUIT seen to succeed (an unanswered QUIT then changes
    // nothing, as after an accepted message). A failed --cert-expiry-days check is never a success.
    bool checksPassed = std::all_of(steps.begin(), steps.end(), [](const Step& step) {
        return step.kind != StepKind::CertificateExpiry || step.status == StepStatus::Ok;
    });
    bool probed = options.probe && !steps.empty() && std::all_of(steps.begin(), steps.end(), [](const Step& step) {
        return step.kind == StepKind::Quit || step.status == StepStatus::Ok;
    });
    if (checksPassed && (options.probe ? probed : options.authOnly ? authenticated : messageAccepted))
        return options.probe || options.authOnly || refusedRecipients.empty() ? Outcome::Success : Outcome::PartiallyDelivered;
    for (const auto& step : steps) {
        if (step.status == StepStatus::Refused) return Outcome::Refused;
        if (step.status == StepStatus::Failed)
            return step.failure == Failure::AuthNotOffered || step.failure == Failure::NoUsableAuthMechanism ||
                           step.failure == Failure::CertificateExpiresSoon || step.failure == Failure::CertificateNotSeen ||
                           step.failure == Failure::ExpectedAuthNotOffered
                       ? Outcome::Refused
                       : Outcome::ConnectionError;
    }
    return Outcome::ConnectionError;  // nothing confirmed, nothing failed: never a success
}

const Step* Result::first_unsuccessful_step() const {
    for (const auto& step : steps)
        if (step.status == StepStatus::Refused || step.status == StepStatus::Failed) return &step;
    return nullptr;
}

int exit_code(const Result& result) {
    switch (result.outcome()) {
        case Outcome::Success: return 0;
        case Outcome::PartiallyDelivered:
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

std::string Reply::text() const {
    std::string out;
    for (const auto& line : lines) out += (out.empty() ? "" : " ") + (line.size() > 4 ? line.substr(4) : std::string());
    return out;
}

}  // namespace tenantscan::smtp
