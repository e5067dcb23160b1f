// State shared by every request of one collection run: the transport, the concurrency limit,
// the overall deadline, statistics, progress reporting and secret redaction. Its exchange()
// is where retries happen: throttling (429/503/504, Retry-After honoured), transient network
// failures and truncated bodies are retried with capped exponential back-off and jitter.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>
#include <tenantscan/collect.hpp>

#include "http_transport.hpp"
#include "parallel.hpp"
#include "redactor.hpp"

namespace tenantscan::collect::detail {

// A request that failed for good. what() is a redacted one-line description such as
// "403 Forbidden: Authorization_RequestDenied: Insufficient privileges to complete the operation."
class RequestFailure : public std::runtime_error {
public:
    RequestFailure(int status, std::string code, const std::string& message);
    int status() const { return status_; }            // 0 when no HTTP response arrived
    const std::string& code() const { return code_; } // service error code, e.g. "Authorization_RequestDenied"

private:
    int status_;
    std::string code_;
};

struct JsonResponse {
    HttpResponse http;
    nlohmann::json json;  // the parsed body (null when empty or not JSON)
};

// "403 Forbidden"
std::string status_text(int status);
// Seconds from a Retry-After header (delta-seconds or HTTP-date); negative when absent or unreadable.
double parse_retry_after(const std::string& value, std::chrono::system_clock::time_point now);
// The code and message of a Graph, Exchange or token-endpoint error body ("" when none).
std::pair<std::string, std::string> error_of(const nlohmann::json& body);

class Session {
public:
    Session(const CollectOptions& options, HttpTransport& transport, ProgressCallback progress);

    const CollectOptions& options() const { return options_; }
    Redactor& redactor() { return redactor_; }

    // Sends the request built by `build` (called again for every attempt, so credentials can
    // change between attempts) and returns the first final answer: a 2xx with a JSON body, or
    // any other status that is not worth retrying. Throws RequestFailure when retries are
    // exhausted, the deadline passes, or a 2xx body is not JSON.
    JsonResponse exchange(const std::function<HttpRequest()>& build, const std::string& section);

    // A failure for a final non-2xx answer, with the service's error code and message.
    RequestFailure failure_of(const JsonResponse& response) const;

    // Waits before retrying a throttled batch sub-request (Retry-After seconds, or back-off).
    void wait_before_retry(const std::string& section, double retryAfterSeconds, int attempt, const std::string& why);

    bool deadline_passed() const { return std::chrono::steady_clock::now() >= deadline_; }
    void report(ProgressEvent event);

    void count_batched(std::size_t n) { batched_ += n; }
    void count_throttled() { ++throttled_; }
    void count_retry() { ++retries_; }
    CollectStats stats() const;

private:
    std::chrono::milliseconds backoff(int attempt);
    void sleep_for(std::chrono::milliseconds wait, const std::string& section, const std::string& why);

    const CollectOptions& options_;
    HttpTransport& transport_;
    ProgressCallback progress_;
    std::mutex progressMutex_;
    Redactor redactor_;
    Semaphore inFlight_;
    std::chrono::steady_clock::time_point started_;
    std::chrono::steady_clock::time_point deadline_;
    std::mutex randomMutex_;
    std::mt19937 random_;
    std::atomic<std::size_t> requests_{0}, batched_{0}, retries_{0}, throttled_{0};
};

}  // namespace tenantscan::collect::detail
