#include "redactor.hpp"

namespace tenantscan::collect::detail {

void Redactor::add(const std::string& secret) {
    if (secret.size() < 8) return;
    std::lock_guard<std::mutex> lock(mutex_);
    secrets_.push_back(secret);
}

std::string Redactor::redact(std::string text) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& secret : secrets_) {
        for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
            text.replace(at, secret.size(), "[redacted]");
            at += 10;
        }
    }
    return text;
}

}  // namespace tenantscan::collect::detail
