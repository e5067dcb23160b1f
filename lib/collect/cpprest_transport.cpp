// HttpTransport over cpprestsdk (Boost.Asio + OpenSSL). Certificate validation stays on; an
// extra CA bundle and a proxy are the only knobs. Redirects are never followed (a 3xx is
// handed back: following one would carry the access token wherever the Location points), and a
// response body is read up to TransportSettings::maxResponseBytes only. One http_client per
// origin and proxy keeps connections pooled between requests.
#include <cpprest/http_client.h>
#include <cpprest/producerconsumerstream.h>

#include <atomic>
#include <mutex>
#include <strings.h>

#include "http_transport.hpp"
#include "url.hpp"

namespace tenantscan::collect::detail {

namespace {

namespace http = web::http;
namespace client = web::http::client;

struct ResponseTooLarge : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The response body's destination: keeps what cpprestsdk writes, and fails the write (so the
// request fails and the connection is dropped) as soon as the body passes the limit, instead of
// buffering a body of any size.
class CappedBody final : public concurrency::streams::details::basic_producer_consumer_buffer<uint8_t> {
public:
    explicit CappedBody(std::size_t limit) : basic_producer_consumer_buffer<uint8_t>(512), limit_(limit) {}
    std::string take() {
        std::lock_guard<std::mutex> lock(mutex_);
        return std::move(data_);
    }
    bool exceeded() const { return exceeded_; }
    uint8_t* _alloc(size_t) override { return nullptr; }  // "alloc/commit not supported": writers use putn
    void _commit(size_t) override {}

protected:
    pplx::task<size_t> _putn(const uint8_t* ptr, size_t count) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (data_.size() + count > limit_) {
            exceeded_ = true;
            return pplx::task_from_exception<size_t>(ResponseTooLarge("response body over the limit"));
        }
        data_.append(reinterpret_cast<const char*>(ptr), count);
        return pplx::task_from_result(count);
    }
    pplx::task<int_type> _putc(uint8_t ch) override {
        return _putn(&ch, 1).then([ch](size_t n) { return n == 1 ? static_cast<int_type>(ch) : traits::eof(); });
    }

private:
    std::size_t limit_;
    std::mutex mutex_;
    std::string data_;
    std::atomic<bool> exceeded_{false};
};

class CppRestTransport final : public HttpTransport {
public:
    explicit CppRestTransport(TransportSettings settings) : settings_(std::move(settings)) {}

    HttpResponse send(const HttpRequest& request) override {
        auto url = parse_url(request.url);
        if (!url) throw std::invalid_argument("not an absolute http(s) URL: " + request.url);
        client::http_client& http_client = client_for(*url, settings_.proxy.proxy_for(request.url));

        http::http_request message(request.method);
        message.set_request_uri(web::uri(url->pathAndQuery));
        std::string contentType;
        for (const auto& [name, value] : request.headers) {
            if (::strcasecmp(name.c_str(), "Content-Type") == 0)
                contentType = value;
            else
                message.headers().add(name, value);
        }
        if (!request.body.empty() || request.method == "POST")
            message.set_body(request.body, contentType.empty() ? "application/json" : contentType);

        auto body = std::make_shared<CappedBody>(settings_.maxResponseBytes);
        message.set_response_stream(concurrency::streams::streambuf<uint8_t>(body).create_ostream());
        const std::string tooLarge = request.method + " " + url->origin() + url->pathAndQuery.substr(0, url->pathAndQuery.find('?')) +
                                     ": the response is larger than " + std::to_string(settings_.maxResponseBytes) +
                                     " bytes, the limit for one response; not read";
        try {
            http::http_response response = http_client.request(message).get();
            auto length = response.headers().content_length();
            if (length > settings_.maxResponseBytes) throw TransportFailure(tooLarge, TransportFailure::Kind::TooLarge);
            response.content_ready().get();
            HttpResponse result;
            result.status = response.status_code();
            for (const auto& [name, value] : response.headers()) result.headers[name] = value;
            result.body = body->take();
            return result;
        } catch (const ResponseTooLarge&) {
            throw TransportFailure(tooLarge, TransportFailure::Kind::TooLarge);
        } catch (const http::http_exception& e) {
            if (body->exceeded()) throw TransportFailure(tooLarge, TransportFailure::Kind::TooLarge);
            if (e.error_code() == std::make_error_code(std::errc::timed_out))
                throw TransportFailure("no response from " + url->origin() + " within " +
                                           std::to_string(settings_.timeout.count()) + " ms",
                                       TransportFailure::Kind::Timeout);
            // cpprestsdk reports every handshake failure (certificate chain, host name, protocol)
            // with this text only.
            if (std::string(e.what()).find("SSL handshake") != std::string::npos)
                throw TransportFailure("TLS handshake with " + url->origin() +
                                           " failed: its certificate is not trusted or not for this host name "
                                           "(certificates are always validated; --ca-file adds a trusted CA)",
                                       TransportFailure::Kind::Tls);
            throw TransportFailure(url->origin() + ": " + e.what(), TransportFailure::Kind::Connection);
        } catch (const TransportFailure&) {
            throw;
        } catch (const std::exception&) {
            if (body->exceeded()) throw TransportFailure(tooLarge, TransportFailure::Kind::TooLarge);
            throw;
        }
    }

private:
    client::http_client& client_for(const Url& url, const std::string& proxy) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::string key = url.origin() + " " + proxy;
        auto it = clients_.find(key);
        if (it != clients_.end()) return *it->second;

        client::http_client_config config;
        config.set_timeout(settings_.timeout);
        config.set_validate_certificates(true);
        config.set_max_redirects(0);  // a 3xx comes back as it is; the session refuses it
        if (!settings_.caFile.empty()) {
            std::string caFile = settings_.caFile;
            config.set_ssl_context_callback([caFile](boost::asio::ssl::context& context) {
                context.load_verify_file(caFile);
            });
        }
        if (!proxy.empty()) config.set_proxy(make_proxy(proxy));
        auto created = std::make_unique<client::http_client>(web::uri(url.origin()), config);
        return *clients_.emplace(key, std::move(created)).first->second;
    }

    // Credentials in the proxy URL (http://user:password@proxy:3128) become proxy credentials.
    static web::web_proxy make_proxy(const std::string& proxyUrl) {
        web::uri uri(proxyUrl);
        std::string userInfo = web::uri::decode(uri.user_info());
        if (userInfo.empty()) return web::web_proxy(uri);
        web::uri_builder withoutUserInfo(uri);
        withoutUserInfo.set_user_info("");
        web::web_proxy proxy(withoutUserInfo.to_uri());
        auto colon = userInfo.find(':');
        proxy.set_credentials(web::credentials(userInfo.substr(0, colon),
                                               colon == std::string::npos ? "" : userInfo.substr(colon + 1)));
        return proxy;
    }

    TransportSettings settings_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<client::http_client>> clients_;
};

}  // namespace

std::unique_ptr<HttpTransport> make_cpprest_transport(const TransportSettings& settings) {
    return std::make_unique<CppRestTransport>(settings);
}

}  // namespace tenantscan::collect::detail
