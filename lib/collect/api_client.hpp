// Authenticated calls to Microsoft Graph and Exchange Online: bearer tokens (renewed once when
// a service answers 401), @odata.nextLink paging, Graph $batch, and Exchange's
// InvokeCommand endpoint.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "session.hpp"
#include "token_provider.hpp"

namespace tenantscan::collect::detail {

struct Service {
    std::string name;  // "Microsoft Graph" | "Exchange Online"
    std::string base;  // base URL without trailing slash; also the token's resource
};

struct BatchResult {
    int status = 0;
    nlohmann::json body;
};

class ApiClient {
public:
    ApiClient(Session& session, TokenProvider& tokens, Service graph, Service exchange);

    const Service& graph() const { return graph_; }
    const Service& exchange() const { return exchange_; }

    // One call; its parsed JSON body. Any non-2xx answer (404 too) throws RequestFailure.
    nlohmann::json call(const Service& service, const std::string& method, const std::string& url,
                        const nlohmann::json& body, const std::string& section,
                        const std::vector<std::pair<std::string, std::string>>& headers = {});

    // Every element of a paged collection ("value" of each page), following @odata.nextLink
    // verbatim. The link must stay on the service's origin (a bearer token is attached), may not
    // repeat (a loop) and the number of pages is capped by CollectOptions::maxPages.
    // With a body, each page is a POST of that body (Exchange's InvokeCommand pages so).
    std::vector<nlohmann::json> list(const Service& service, const std::string& url, const std::string& section,
                                     const nlohmann::json& postBody = nullptr,
                                     const std::vector<std::pair<std::string, std::string>>& headers = {});

    // GET requests relative to Graph's /v1.0 ("/groups/{id}"), sent in $batch requests of at
    // most 20, several batches in flight. Throttled sub-requests (429/503/504) are sent again
    // after their Retry-After; any other status is returned as is, in input order.
    std::vector<BatchResult> batch_get(const std::vector<std::string>& relativeUrls, const std::string& section);

    // Runs an Exchange Online cmdlet through InvokeCommand and returns its output objects. With
    // allowNotFound, a ManagementObjectNotFoundException for parameters["Identity"] yields
    // nullopt; every other error throws RequestFailure (a missing cmdlet names the role it needs).
    std::optional<std::vector<nlohmann::json>> cmdlet(const std::string& name, const nlohmann::json& parameters,
                                                      const std::string& section, bool allowNotFound = false);

    Session& session() { return session_; }
    TokenProvider& tokens() { return tokens_; }

private:
    JsonResponse authorized(const Service& service, const std::string& method, const std::string& url,
                            const std::string& body, const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& section);
    void send_batch(const std::vector<std::string>& relativeUrls, std::vector<std::size_t> indexes,
                    std::vector<BatchResult>& results, const std::string& section);

    Session& session_;
    TokenProvider& tokens_;
    Service graph_, exchange_;
};

// True only for Exchange's ManagementObjectNotFoundException about `identity` (the exception
// type, read from error.details[].message, and the identity it quotes).
bool is_object_not_found(const RequestFailure& failure, const std::string& identity);

}  // namespace tenantscan::collect::detail
