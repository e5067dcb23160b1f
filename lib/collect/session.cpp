#include "session.hpp"

#include <cctype>
#include <cmath>
#include <ctime>
#include <thread>

namespace tenantscan::collect::detail {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

bool is_throttling(int status) { return status == 429 || status == 503 || status == 504; }

bool looks_like_html(const HttpResponse& response) {
    if (response.header("Content-Type").find("html") != std::string::npos) return true;
    for (char c : response.body) {
        if (std::isspace(static_cast<unsigned char>(c))) continue;
        return c == '<';
    }
    return false;
}

std::string seconds_text(milliseconds wait) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(wait.count()) / 1000.0);
    return buffer;
}

// Exchange puts "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|
// The operation couldn't be performed..." in error.details[].message: the exception's short
// name is the useful code, the human part follows the last '|'.
struct ExchangeDetail {
    std::string exception;
    std::string text;
};
ExchangeDetail split_exchange_detail(const std::string& message) {
    auto last = message.rfind('|');
    if (last == std::string::npos) return {"", message};
    auto previous = message.rfind('|', last - 1);
    std::string type = message.substr(previous == std::string::npos ? 0 : previous + 1,
                                      last - (previous == std::string::npos ? 0 : previous + 1));
    auto dot = type.rfind('.');
    return {dot == std::string::npos ? type : type.substr(dot + 1), message.substr(last + 1)};
}

}  // namespace

RequestFailure::RequestFailure(int status, std::string code, const std::string& message)
    : std::runtime_error(message), status_(status), code_(std::move(code)) {}

std::string status_text(int status) {
    const char* phrase = "";
    switch (status) {
        case 200: phrase = "OK"; break;
        case 400: phrase = "Bad Request"; break;
        case 401: phrase = "Unauthorized"; break;
        case 403: phrase = "Forbidden"; break;
        case 404: phrase = "Not Found"; break;
        case 301: phrase = "Moved Permanently"; break;
        case 302: phrase = "Found"; break;
        case 303: phrase = "See Other"; break;
        case 307: phrase = "Temporary Redirect"; break;
        case 308: phrase = "Permanent Redirect"; break;
        case 408: phrase = "Request Timeout"; break;
        case 409: phrase = "Conflict"; break;
        case 429: phrase = "Too Many Requests"; break;
        case 500: phrase = "Internal Server Error"; break;
        case 502: phrase = "Bad Gateway"; break;
        case 503: phrase = "Service Unavailable"; break;
        case 504: phrase = "Gateway Timeout"; break;
        default: break;
    }
    return *phrase ? std::to_string(status) + " " + phrase : "HTTP " + std::to_string(status);
}

double parse_retry_after(const std::string& value, std::chrono::system_clock::time_point now) {
    if (value.empty()) return -1;
    char* end = nullptr;
    double seconds = std::strtod(value.c_str(), &end);
    if (end != value.c_str() && *end == '\0') return seconds >= 0 ? seconds : -1;
    std::tm when{};
    if (strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &when) == nullptr) return -1;
    auto at = std::chrono::system_clock::from_time_t(timegm(&when));
    return std::max(0.0, std::chrono::duration<double>(at - now).count());
}

std::pair<std::string, std::string> error_of(const nlohmann::json& body) {
    if (!body.is_object()) return {};
    auto error = body.find("error");
    if (error == body.end()) return {};
    if (error->is_string()) {  // token endpoint: {"error": "invalid_client", "error_description": "AADSTS..."}
        auto description = body.find("error_description");
        return {error->get<std::string>(),
                description != body.end() && description->is_string() ? description->get<std::string>() : ""};
    }
    if (!error->is_object()) return {};
    std::string code = error->value("code", "");
    std::string message = error->contains("message") && (*error)["message"].is_string() ? (*error)["message"].get<std::string>() : "";
    // Exchange's InvokeCommand: the useful text is in error.details[].message.
    if (auto details = error->find("details"); details != error->end() && details->is_array()) {
        std::string detailText;
        for (const auto& detail : *details) {
            if (detail.is_object() && detail.contains("message") && detail["message"].is_string()) {
                ExchangeDetail parsed = split_exchange_detail(detail["message"].get<std::string>());
                if (!parsed.exception.empty()) code = parsed.exception;
                if (!detailText.empty()) detailText += "; ";
                detailText += parsed.text;
            }
        }
        if (!detailText.empty()) message = detailText;
    }
    return {code, message};
}

Session::Session(const CollectOptions& options, HttpTransport& transport, ProgressCallback progress)
    : options_(options),
      transport_(transport),
      progress_(std::move(progress)),
      inFlight_(std::max(1, options.concurrency)),
      started_(Clock::now()),
      deadline_(started_ + options.deadline),
      random_(std::random_device{}()) {}

void Session::report(ProgressEvent event) {
    if (!progress_) return;
    event.message = redactor_.redact(std::move(event.message));
    std::lock_guard<std::mutex> lock(progressMutex_);
    progress_(event);
}

CollectStats Session::stats() const {
    CollectStats stats;
    stats.requests = requests_;
    stats.batchedRequests = batched_;
    stats.retries = retries_;
    stats.throttled = throttled_;
    stats.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started_);
    return stats;
}

milliseconds Session::backoff(int attempt) {
    double base = static_cast<double>(options_.retryBaseDelay.count()) * std::pow(2.0, attempt);
    double capped = std::min(base, static_cast<double>(options_.retryMaxDelay.count()));
    std::lock_guard<std::mutex> lock(randomMutex_);
    // "Equal jitter": half fixed, half random, so retries spread out but never fire at once.
    std::uniform_real_distribution<double> jitter(capped / 2, capped);
    return milliseconds(static_cast<long long>(jitter(random_)));
}

void Session::sleep_for(milliseconds wait, const std::string& section, const std::string& why) {
    auto remaining = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    if (wait > remaining)
        throw RequestFailure(0, "DeadlineExceeded",
                             why + "; waiting " + seconds_text(wait) + " would pass the overall deadline (" +
                                 seconds_text(options_.deadline) + ")");
    ProgressEvent event;
    event.kind = ProgressEvent::Kind::Waiting;
    event.section = section;
    event.message = why + ", waiting " + seconds_text(wait);
    event.wait = wait;
    report(event);
    std::this_thread::sleep_for(wait);
}

void Session::wait_before_retry(const std::string& section, double retryAfterSeconds, int attempt, const std::string& why) {
    milliseconds wait = retryAfterSeconds >= 0 ? milliseconds(static_cast<long long>(std::ceil(retryAfterSeconds * 1000)))
                                               : backoff(attempt);
    ++retries_;
    sleep_for(wait, section, why);
}

RequestFailure Session::failure_of(const JsonResponse& response) const {
    auto [code, message] = error_of(response.json);
    std::string text = status_text(response.http.status);
    if (!code.empty()) text += ": " + code;
    if (!message.empty()) text += ": " + message;
    return RequestFailure(response.http.status, code, redactor_.redact(text));
}

JsonResponse Session::exchange(const std::function<HttpRequest()>& build, const std::string& section) {
    for (int attempt = 0;; ++attempt) {
        if (deadline_passed())
            throw RequestFailure(0, "DeadlineExceeded",
                                 "the overall deadline (" + seconds_text(options_.deadline) + ") has passed");
        bool lastAttempt = attempt >= options_.maxRetries;
        HttpRequest request = build();
        JsonResponse response;
        auto sentAt = Clock::now();
        try {
            inFlight_.acquire();
            ++requests_;
            try {
                response.http = transport_.send(request);
            } catch (...) {
                inFlight_.release();
                throw;
            }
            inFlight_.release();
        } catch (const TransportFailure& e) {
            std::string why = redactor_.redact(e.what());
            if (e.kind() == TransportFailure::Kind::Tls) throw RequestFailure(0, "TlsFailure", why);
            if (e.kind() == TransportFailure::Kind::TooLarge) throw RequestFailure(0, "ResponseTooLarge", why);
            if (lastAttempt)
                throw RequestFailure(0, e.kind() == TransportFailure::Kind::Timeout ? "Timeout" : "ConnectionFailed",
                                     why + " (" + std::to_string(attempt + 1) + " attempts)");
            wait_before_retry(section, -1, attempt, why);
            continue;
        } catch (const std::exception& e) {
            throw RequestFailure(0, "RequestFailed", redactor_.redact(e.what()));
        }

        auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - sentAt);
        report({ProgressEvent::Kind::Request, section,
                request.method + " " + request.url + " -> " + std::to_string(response.http.status) + " (" +
                    std::to_string(took.count()) + " ms)",
                0, milliseconds(0)});

        const int status = response.http.status;
        if (status >= 300 && status < 400) {
            // Never followed: the request carries a bearer token, and a redirect can point anywhere.
            // Graph and Exchange Online answer these requests directly; a 3xx comes from something
            // in between (a proxy, a wrong base URL) or from a service that moved.
            std::string location = response.http.header("Location");
            throw RequestFailure(status, "Redirect",
                                 status_text(status) + ": " + request.method + " " + redactor_.redact(request.url) +
                                     " was redirected to " +
                                     (location.empty() ? std::string("nowhere (no Location header)")
                                                       : redactor_.redact(location)) +
                                     "; redirects are not followed, since the request carries the access token");
        }
        if (status >= 200 && status < 300) {
            if (response.http.body.empty()) {
                // Every request the collector sends answers with a JSON body; an empty one is a
                // cut or broken answer, never "no data".
                if (lastAttempt)
                    throw RequestFailure(status, "InvalidResponse",
                                         status_text(status) + " with an empty body after " + std::to_string(attempt + 1) +
                                             " attempts: " + request.method + " " + redactor_.redact(request.url));
                wait_before_retry(section, -1, attempt, "empty response body");
                continue;
            }
            if (looks_like_html(response.http))
                throw RequestFailure(status, "InvalidResponse",
                                     status_text(status) + " with an HTML page instead of JSON (a proxy, captive "
                                     "portal or wrong base URL answered): " + request.method + " " +
                                         redactor_.redact(request.url));
            response.json = nlohmann::json::parse(response.http.body, nullptr, false);
            if (!response.json.is_discarded()) return response;
            if (lastAttempt)
                throw RequestFailure(status, "InvalidResponse",
                                     "the response is not valid JSON (truncated?) after " + std::to_string(attempt + 1) +
                                         " attempts: " + request.method + " " + redactor_.redact(request.url));
            wait_before_retry(section, -1, attempt, "truncated or malformed JSON response");
            continue;
        }

        response.json = nlohmann::json::parse(response.http.body, nullptr, false);
        if (response.json.is_discarded()) response.json = nullptr;
        if (is_throttling(status)) {
            ++throttled_;
            if (lastAttempt) {
                RequestFailure failure = failure_of(response);
                throw RequestFailure(status, failure.code(),
                                     std::string(failure.what()) + " (still refused after " +
                                         std::to_string(attempt + 1) + " attempts)");
            }
            double retryAfter = parse_retry_after(response.http.header("Retry-After"), std::chrono::system_clock::now());
            wait_before_retry(section, retryAfter, attempt, status_text(status));
            continue;
        }
        return response;
    }
}

}  // namespace tenantscan::collect::detail
