// HttpTransport over cpprestsdk (Boost.Asio + OpenSSL). Certificate validation stays on; an
// extra CA bundle and a proxy are the only knobs. One http_client per origin and proxy keeps
// connections pooled between requests.
#include <cpprest/http_client.h>

#include <mutex>
#include <strings.h>

#include "http_transport.hpp"
#include "url.hpp"

namespace tenantscan::collect::detail {

namespace {

namespace http = web::http;
namespace client = web::http::client;

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

        try {
            http::http_response response = http_client.request(message).get();
            std::vector<unsigned char> body = response.extract_vector().get();
            HttpResponse result;
            result.status = response.status_code();
            for (const auto& [name, value] : response.headers()) result.headers[name] = value;
            result.body.assign(body.begin(), body.end());
            return result;
        } catch (const http::http_exception& e) {
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
