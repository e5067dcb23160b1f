// Keeps secrets (client secret, client assertions, access tokens) out of every message the
// collector produces: errors, progress, warnings and the snapshot itself.
#pragma once

#include <mutex>
#include <string>
#include <vector>

namespace tenantscan::collect::detail {

class Redactor {
public:
    // Registers a value that must never be shown. Values shorter than 8 characters are
    // ignored (they would mask ordinary words; no real secret is that short).
    void add(const std::string& secret);
    // The text with every registered value replaced by "[redacted]".
    std::string redact(std::string text) const;

private:
    mutable std::mutex mutex_;
    std::vector<std::string> secrets_;
};

}  // namespace tenantscan::collect::detail
