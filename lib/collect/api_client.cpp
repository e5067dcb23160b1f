#include "api_client.hpp"

#include <algorithm>

#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>
#include <set>

#include "encoding.hpp"
#include "url.hpp"

namespace tenantscan::collect::detail {

namespace {

constexpr std::size_t kMaxBatchSize = 20;  // Graph's limit per $batch request
constexpr const char* kExchangeAnchorMailbox = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@";

bool is_throttling(int status) { return status == 429 || status == 503 || status == 504; }

std::string header_of(const nlohmann::json& headers, const std::string& name) {
    if (!headers.is_object()) return {};
    for (const auto& [key, value] : headers.items()) {
        if (tenantscan::iequals(key, name) && value.is_string()) return value.get<std::string>();
    }
    return {};
}

}  // namespace

bool is_object_not_found(const RequestFailure& failure, const std::string& identity) {
    // Only Exchange's own "no such object" exception, and only about the identity asked for:
    // any other error (a cmdlet the role does not grant, a 404 without the error body, another
    // object not found) is a failure of the request, never "this account has no object".
    if (failure.code() != "ManagementObjectNotFoundException" || identity.empty()) return false;
    return tenantscan::to_lower(failure.what()).find("'" + tenantscan::to_lower(identity) + "'") != std::string::npos;
}

std::string exchange_role_for(const std::string& cmdlet) {
    // Exchange Online's management roles that hold these cmdlets; Global Reader brings both
    // (docs/collect.md, "The app registration").
    static const std::set<std::string> recipientCmdlets = {"get-user", "get-recipient", "get-casmailbox", "get-mailuser"};
    return recipientCmdlets.count(tenantscan::to_lower(cmdlet)) ? "View-Only Recipients" : "View-Only Configuration";
}

ApiClient::ApiClient(Session& session, TokenProvider& tokens, Service graph, Service exchange)
    : session_(session), tokens_(tokens), graph_(std::move(graph)), exchange_(std::move(exchange)) {}

JsonResponse ApiClient::authorized(const Service& service, const std::string& method, const std::string& url,
                                   const std::string& body,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::string& section) {
    for (int renewals = 0;; ++renewals) {
        std::string token = tokens_.token(service.base);
        JsonResponse response = session_.exchange(
            [&] {
                HttpRequest request{method, url, headers, body};
                request.headers.emplace_back("Authorization", "Bearer " + token);
                request.headers.emplace_back("Accept", "application/json");
                if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
                return request;
            },
            section);
        // Any 401 renews the token once: services word an expired or revoked token differently
        // (Graph: InvalidAuthenticationToken, Exchange: WWW-Authenticate error="invalid_token"),
        // and a fresh token tells a stale one from missing permissions. A second 401 is final.
        if (renewals == 0 && response.http.status == 401) {
            tokens_.invalidate(service.base, token);
            ProgressEvent event;
            event.kind = ProgressEvent::Kind::Waiting;
            event.section = section;
            event.message = service.name + " refused the token (401), renewing it once";
            session_.report(event);
            session_.count_retry();
            continue;
        }
        return response;
    }
}

nlohmann::json ApiClient::call(const Service& service, const std::string& method, const std::string& url,
                              const nlohmann::json& body, const std::string& section,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
    JsonResponse response = authorized(service, method, url, body.is_null() ? std::string{} : body.dump(), headers, section);
    int status = response.http.status;
    if (status >= 200 && status < 300) return std::move(response.json);
    throw session_.failure_of(response);
}

std::vector<nlohmann::json> ApiClient::list(const Service& service, const std::string& url, const std::string& section,
                                            const nlohmann::json& postBody,
                                            const std::vector<std::pair<std::string, std::string>>& headers) {
    auto origin = parse_url(service.base);
    std::vector<nlohmann::json> items;
    std::set<std::string> requested;
    std::string next = url;
    for (int pages = 1; !next.empty(); ++pages) {
        if (pages > session_.options().maxPages)
            throw RequestFailure(0, "TooManyPages",
                                 "stopped after " + std::to_string(session_.options().maxPages) +
                                     " pages of " + url + " (page limit; a runaway @odata.nextLink chain?)");
        requested.insert(next);
        nlohmann::json page = call(service, postBody.is_null() ? "GET" : "POST", next, postBody, section, headers);
        if (!page.is_object() || !page.contains("value") || !page["value"].is_array())
            throw RequestFailure(200, "InvalidResponse", "expected a collection {\"value\": [...]} from " + next);
        for (auto& item : page["value"]) items.push_back(std::move(item));

        ProgressEvent event;
        event.kind = ProgressEvent::Kind::Page;
        event.section = section;
        event.objects = items.size();
        session_.report(event);

        next.clear();
        if (auto link = page.find("@odata.nextLink"); link != page.end() && link->is_string()) {
            next = link->get<std::string>();
            auto parsed = parse_url(next);
            if (!parsed || !origin || !same_origin(*parsed, *origin))
                throw RequestFailure(0, "InvalidNextLink",
                                     "@odata.nextLink leaves " + service.name + " (" + next +
                                         "); not followed, the request would carry the access token");
            if (requested.count(next) != 0)
                throw RequestFailure(0, "NextLinkLoop",
                                     "@odata.nextLink repeats a page already read (a loop) after " +
                                         std::to_string(pages) + " pages of " + url);
        }
    }
    return items;
}

std::vector<BatchResult> ApiClient::batch_get(const std::vector<std::string>& relativeUrls, const std::string& section) {
    std::vector<BatchResult> results(relativeUrls.size());
    std::size_t chunks = (relativeUrls.size() + kMaxBatchSize - 1) / kMaxBatchSize;
    parallel_for(chunks, session_.options().concurrency, [&](std::size_t chunk) {
        std::vector<std::size_t> indexes;
        for (std::size_t i = chunk * kMaxBatchSize; i < std::min(relativeUrls.size(), (chunk + 1) * kMaxBatchSize); ++i)
            indexes.push_back(i);
        send_batch(relativeUrls, std::move(indexes), results, section);
    });
    return results;
}

void ApiClient::send_batch(const std::vector<std::string>& relativeUrls, std::vector<std::size_t> pending,
                           std::vector<BatchResult>& results, const std::string& section) {
    for (int attempt = 0; !pending.empty(); ++attempt) {
        nlohmann::json requests = nlohmann::json::array();
        for (std::size_t k = 0; k < pending.size(); ++k)
            requests.push_back({{"id", std::to_string(k)}, {"method", "GET"}, {"url", relativeUrls[pending[k]]}});
        nlohmann::json answer = call(graph_, "POST", graph_.base + "/v1.0/$batch", {{"requests", requests}}, section);
        session_.count_batched(pending.size());
        if (!answer.is_object() || !answer.contains("responses") || !answer["responses"].is_array())
            throw RequestFailure(200, "InvalidResponse", "a $batch answer without \"responses\"");

        std::vector<bool> answered(pending.size(), false);
        std::vector<std::size_t> throttled;
        double retryAfter = -1;
        int throttleStatus = 0;
        for (auto& response : answer["responses"]) {
            std::size_t k = pending.size();
            if (response.is_object() && response.contains("id") && response["id"].is_string())
                k = static_cast<std::size_t>(std::strtoull(response["id"].get<std::string>().c_str(), nullptr, 10));
            if (k >= pending.size() || answered[k] || !response.contains("status") || !response["status"].is_number_integer())
                throw RequestFailure(200, "InvalidResponse", "a $batch answer with an unknown or repeated response id");
            answered[k] = true;
            int status = response["status"].get<int>();
            if (is_throttling(status)) {
                session_.count_throttled();
                throttled.push_back(pending[k]);
                throttleStatus = status;
                retryAfter = std::max(retryAfter, parse_retry_after(header_of(response.value("headers", nlohmann::json()), "Retry-After"),
                                                                    std::chrono::system_clock::now()));
                continue;
            }
            results[pending[k]] = BatchResult{status, response.contains("body") ? std::move(response["body"]) : nlohmann::json()};
        }
        if (std::find(answered.begin(), answered.end(), false) != answered.end())
            throw RequestFailure(200, "InvalidResponse", "a $batch answer is missing responses");
        if (throttled.empty()) return;
        std::string why = std::to_string(throttled.size()) + " of " + std::to_string(pending.size()) +
                          " batched requests answered " + status_text(throttleStatus);
        if (attempt >= session_.options().maxRetries)
            throw RequestFailure(throttleStatus, "Throttled", why + " after " + std::to_string(attempt + 1) + " attempts");
        session_.wait_before_retry(section, retryAfter, attempt, why);
        pending = std::move(throttled);
    }
}

std::optional<std::vector<nlohmann::json>> ApiClient::cmdlet(const std::string& name, const nlohmann::json& parameters,
                                                             const std::string& section, bool allowNotFound) {
    tokens_.token(exchange_.base);  // the tenant id in the URL comes from the token
    std::string tenantId = tokens_.tenant_id();
    std::string url = exchange_.base + "/adminapi/beta/" + percent_encode(tenantId) + "/InvokeCommand";
    nlohmann::json body = {{"CmdletInput", {{"CmdletName", name}, {"Parameters", parameters}}}};
    std::vector<std::pair<std::string, std::string>> headers = {
        {"X-AnchorMailbox", kExchangeAnchorMailbox + tenantId},
        {"Prefer", "odata.maxpagesize=1000"},
    };
    try {
        return list(exchange_, url, section, body, headers);
    } catch (const RequestFailure& failure) {
        if (allowNotFound && parameters.is_object() && parameters.contains("Identity") &&
            parameters["Identity"].is_string() && is_object_not_found(failure, parameters["Identity"].get<std::string>()))
            return std::nullopt;
        if (failure.code() == "CommandNotFoundException")
            throw RequestFailure(failure.status(), failure.code(),
                                 name + ": the app's Exchange Online roles do not include this cmdlet; it needs the "
                                        "Exchange management role " + exchange_role_for(name) +
                                     " (the Entra role Global Reader, assigned to the app, includes it) (" +
                                     failure.what() + ")");
        throw RequestFailure(failure.status(), failure.code(), name + ": " + failure.what());
    }
}

}  // namespace tenantscan::collect::detail
