#include "token_provider.hpp"

#include "encoding.hpp"
#include "url.hpp"

namespace tenantscan::collect::detail {

TokenProvider::TokenProvider(Session& session, const CollectOptions& options)
    : session_(session), options_(options), credential_(make_credential(session, options)) {}

std::string TokenProvider::tenant_id() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return tenantId_.empty() ? configured_tenant(options_) : tenantId_;
}

std::string TokenProvider::cached_claim(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [resource, cached] : cache_) {
        auto claims = token_claims(cached.token);
        if (claims.is_object() && claims.contains(name) && claims[name].is_string()) return claims[name].get<std::string>();
    }
    return {};
}

std::string TokenProvider::token(const std::string& resource) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(resource);
    if (it != cache_.end() && std::chrono::steady_clock::now() < it->second.renewAt) return it->second.token;
    Cached fresh = request_token(resource);
    if (tenantId_.empty()) {
        auto claims = token_claims(fresh.token);
        if (claims.is_object() && claims.contains("tid") && claims["tid"].is_string()) tenantId_ = claims["tid"].get<std::string>();
    }
    cache_[resource] = fresh;
    return fresh.token;
}

void TokenProvider::invalidate(const std::string& resource, const std::string& rejected) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(resource);
    if (it != cache_.end() && it->second.token == rejected) cache_.erase(it);
}

TokenProvider::Cached TokenProvider::request_token(const std::string& resource) {
    auto sentAt = std::chrono::steady_clock::now();
    IssuedToken issued = credential_->get(resource);
    session_.redactor().add(issued.token);
    Cached cached;
    cached.token = std::move(issued.token);
    long long lifetime = issued.lifetimeSeconds;
    // Renew five minutes before expiry (half the lifetime for short-lived tokens), so a token
    // never expires between being handed out and reaching the service.
    long long margin = std::min<long long>(300, lifetime / 2);
    cached.renewAt = sentAt + std::chrono::seconds(lifetime - margin);
    return cached;
}

}  // namespace tenantscan::collect::detail
