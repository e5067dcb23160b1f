#include "token_provider.hpp"

#include "encoding.hpp"
#include "url.hpp"

namespace tenantscan::collect::detail {

namespace {

constexpr const char* kTokenSection = "authentication";

// The "tid" claim of a JWT access token, or "" (tokens are opaque to clients in principle;
// Entra ID's are JWTs in practice, and the tenant id in them saves a request).
std::string tenant_claim(const std::string& token) {
    auto first = token.find('.');
    auto second = token.find('.', first == std::string::npos ? first : first + 1);
    if (first == std::string::npos || second == std::string::npos) return {};
    std::string payload;
    if (!base64url_decode(std::string_view(token).substr(first + 1, second - first - 1), payload)) return {};
    auto claims = nlohmann::json::parse(payload, nullptr, false);
    if (!claims.is_object() || !claims.contains("tid") || !claims["tid"].is_string()) return {};
    return claims["tid"].get<std::string>();
}

}  // namespace

TokenProvider::TokenProvider(Session& session, const CollectOptions& options)
    : session_(session),
      options_(options),
      tokenUrl_(trim_trailing_slashes(options.endpoints.login) + "/" + percent_encode(options.tenant) +
                "/oauth2/v2.0/token") {
    if (!options.credentials.certificateFile.empty())
        certificate_ = std::make_unique<CertificateCredential>(options.credentials.certificateFile,
                                                               options.credentials.privateKeyFile);
    else
        session_.redactor().add(options.credentials.clientSecret);
}

std::string TokenProvider::tenant_id() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return tenantId_.empty() ? options_.tenant : tenantId_;
}

std::string TokenProvider::token(const std::string& resource) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(resource);
    if (it != cache_.end() && std::chrono::steady_clock::now() < it->second.renewAt) return it->second.token;
    Cached fresh = request_token(resource);
    if (tenantId_.empty()) tenantId_ = tenant_claim(fresh.token);
    cache_[resource] = fresh;
    return fresh.token;
}

void TokenProvider::invalidate(const std::string& resource, const std::string& rejected) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(resource);
    if (it != cache_.end() && it->second.token == rejected) cache_.erase(it);
}

TokenProvider::Cached TokenProvider::request_token(const std::string& resource) {
    std::vector<std::pair<std::string, std::string>> form = {
        {"grant_type", "client_credentials"},
        {"client_id", options_.clientId},
        {"scope", trim_trailing_slashes(resource) + "/.default"},
    };
    if (certificate_) {
        std::string assertion = certificate_->assertion(options_.clientId, tokenUrl_, std::chrono::system_clock::now());
        session_.redactor().add(assertion);
        form.emplace_back("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.emplace_back("client_assertion", assertion);
    } else {
        form.emplace_back("client_secret", options_.credentials.clientSecret);
    }
    std::string body = form_body(form);
    session_.redactor().add(body);
    session_.redactor().add(percent_encode(options_.credentials.clientSecret));

    auto sentAt = std::chrono::steady_clock::now();
    JsonResponse response = session_.exchange(
        [&] {
            return HttpRequest{"POST", tokenUrl_,
                               {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
                               body};
        },
        kTokenSection);
    if (response.http.status != 200) {
        RequestFailure failure = session_.failure_of(response);
        throw RequestFailure(failure.status(), failure.code(),
                             std::string("token request for ") + resource + " refused: " + failure.what());
    }
    const auto& json = response.json;
    if (!json.is_object() || !json.contains("access_token") || !json["access_token"].is_string())
        throw RequestFailure(response.http.status, "InvalidResponse", "the token endpoint answered without an access_token");
    Cached cached;
    cached.token = json["access_token"].get<std::string>();
    session_.redactor().add(cached.token);

    long long lifetime = 3600;
    if (auto expires = json.find("expires_in"); expires != json.end()) {
        if (expires->is_number_integer()) lifetime = expires->get<long long>();
        if (expires->is_string()) lifetime = std::atoll(expires->get<std::string>().c_str());  // AD FS style
    }
    // Renew five minutes before expiry (half the lifetime for short-lived tokens), so a token
    // never expires between being handed out and reaching the service.
    long long margin = std::min<long long>(300, lifetime / 2);
    cached.renewAt = sentAt + std::chrono::seconds(lifetime - margin);
    return cached;
}

}  // namespace tenantscan::collect::detail
