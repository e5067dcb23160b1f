// HttpTransport over cpprestsdk (Boost.Asio + OpenSSL). Certificate validation stays on; an
// extra CA bundle and a proxy are the only knobs. Redirects are never followed (a 3xx is
// handed back: following one would carry the access token wherever the Location points), and a
// response body is read up to TransportSettings::maxResponseBytes only. One http_client per
// origin and proxy keeps connections pooled between requests.
//
// Lifetime: cpprestsdk finishes a request on its own thread pool, and that pool is never shut
// down (its threads still run while the process exits). Whatever a pool thread still holds when
// main returns (the last reference to a client's connection pool, whose sockets and TLS sessions
// are freed then) is torn down concurrently with exit() and OpenSSL's atexit cleanup: a crash
// after all the work is done, or a hang (a request still reading a body waits on the pool that
// exit's static destructors are joining). So this transport cancels every request it gives up on, and its
// destructor waits until cpprestsdk has let go of every client's connection pool, then frees the
// pools itself, on the calling thread, before collect_snapshot returns (docs/collect.md).
#include <cpprest/http_client.h>
#include <cpprest/producerconsumerstream.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <strings.h>
#include <thread>
#include <vector>

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

// A pipeline stage that forwards every request unchanged. Added to each http_client, it hands the
// transport the client's final stage (cpprestsdk's connection pool, sockets and TLS state), which
// requests in flight keep alive after the http_client itself is gone.
class FinalStageHandle final : public http::http_pipeline_stage {
public:
    pplx::task<http::http_response> propagate(http::http_request request) override {
        return next_stage()->propagate(std::move(request));
    }
    std::shared_ptr<http::http_pipeline_stage> final_stage() const { return next_stage(); }
};

// Cancels the request unless it was read to the end: a request given up on (a body over the
// limit, an exception) must not keep reading on cpprestsdk's threads after send() returns.
class CancelUnlessDone {
public:
    pplx::cancellation_token token() const { return source_.get_token(); }
    void done() { done_ = true; }
    ~CancelUnlessDone() {
        if (!done_) source_.cancel();
    }

private:
    pplx::cancellation_token_source source_;
    bool done_ = false;
};

// How long the destructor waits for cpprestsdk to finish with the requests it still holds (the
// tail of a completed request; a cancelled one closing its connection).
constexpr std::chrono::seconds kDrainLimit{10};

class CppRestTransport final : public HttpTransport {
public:
    explicit CppRestTransport(TransportSettings settings) : settings_(std::move(settings)) {}
    CppRestTransport(const CppRestTransport&) = delete;
    CppRestTransport& operator=(const CppRestTransport&) = delete;

    ~CppRestTransport() override {
        std::vector<std::shared_ptr<http::http_pipeline_stage>> pools;
        for (auto& [key, client] : clients_) pools.push_back(std::move(client.finalStage));
        clients_.clear();
        // Each pool is ours alone once no request context of cpprestsdk refers to it any more;
        // then releasing it here frees its connections on this thread, not on a pool thread
        // racing with the process exit.
        auto until = std::chrono::steady_clock::now() + kDrainLimit;
        for (auto& pool : pools) {
            while (pool.use_count() > 1 && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            if (pool.use_count() > 1) {
                // Still in use after the limit (a server that neither answers nor closes): never
                // freed rather than freed during exit. Reachable, so not reported as a leak.
                static std::mutex abandonedMutex;
                static auto* const abandoned = new std::vector<std::shared_ptr<http::http_pipeline_stage>>;
                std::lock_guard<std::mutex> lock(abandonedMutex);
                abandoned->push_back(std::move(pool));
            }
        }
        pools.clear();
    }

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
        CancelUnlessDone cancel;
        try {
            http::http_response response = http_client.request(message, cancel.token()).get();
            auto length = response.headers().content_length();
            if (length > settings_.maxResponseBytes) throw TransportFailure(tooLarge, TransportFailure::Kind::TooLarge);
            response.content_ready().get();
            HttpResponse result;
            result.status = response.status_code();
            for (const auto& [name, value] : response.headers()) result.headers[name] = value;
            result.body = body->take();
            cancel.done();
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
        if (it != clients_.end()) return *it->second.client;

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
        Client created;
        created.client = std::make_unique<client::http_client>(web::uri(url.origin()), config);
        auto handle = std::make_shared<FinalStageHandle>();
        created.client->add_handler(handle);
        created.finalStage = handle->final_stage();
        return *clients_.emplace(key, std::move(created)).first->second.client;
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
    struct Client {
        std::unique_ptr<client::http_client> client;
        std::shared_ptr<http::http_pipeline_stage> finalStage;  // see ~CppRestTransport
    };
    std::map<std::string, Client> clients_;
};

}  // namespace

std::unique_ptr<HttpTransport> make_cpprest_transport(const TransportSettings& settings) {
    return std::make_unique<CppRestTransport>(settings);
}

}  // namespace tenantscan::collect::detail
