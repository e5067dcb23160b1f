// The collector's building blocks that decide security and robustness on their own: URL and
// proxy rules, encodings, Retry-After, service error bodies, redaction, client assertions.
#include <doctest/doctest.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "api_client.hpp"
#include "client_assertion.hpp"
#include "encoding.hpp"
#include "fakecloud/fake_cloud.hpp"
#include "redactor.hpp"
#include "session.hpp"
#include "url.hpp"

using namespace tenantscan::collect::detail;

TEST_CASE("collect internals: percent-encoding keeps only unreserved characters") {
    CHECK(percent_encode("clientAppUsed eq 'Authenticated SMTP'") == "clientAppUsed%20eq%20%27Authenticated%20SMTP%27");
    CHECK(percent_encode("a~b-c_d.e") == "a~b-c_d.e");
    CHECK(form_body({{"client_secret", "x+y&z=1/2"}, {"scope", "https://graph.microsoft.com/.default"}}) ==
          "client_secret=x%2By%26z%3D1%2F2&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default");
}

TEST_CASE("collect internals: base64url as JWTs use it") {
    CHECK(base64url_encode("hello") == "aGVsbG8");
    CHECK(base64url_encode(std::string("\xfb\xff", 2)) == "-_8");
    std::string decoded;
    CHECK(base64url_decode("aGVsbG8", decoded));
    CHECK(decoded == "hello");
    CHECK(base64url_decode("aGVsbG8=", decoded));
    CHECK(decoded == "hello");
    CHECK_FALSE(base64url_decode("a*b", decoded));
}

TEST_CASE("collect internals: URLs, origins and what may travel without TLS") {
    auto url = parse_url("https://Graph.Microsoft.com/v1.0/users?$top=999");
    REQUIRE(url);
    CHECK(url->host == "graph.microsoft.com");
    CHECK(url->port == 443);
    CHECK(url->pathAndQuery == "/v1.0/users?$top=999");
    CHECK(url->origin() == "https://graph.microsoft.com");
    auto v6 = parse_url("http://[::1]:8080");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->pathAndQuery == "/");
    CHECK(v6->origin() == "http://[::1]:8080");
    CHECK_FALSE(parse_url("/v1.0/users"));
    CHECK_FALSE(parse_url("ftp://example.com/"));
    CHECK_FALSE(parse_url("https://user:pw@example.com/"));
    CHECK_FALSE(parse_url("https://example.com:99999/"));
    CHECK_FALSE(parse_url("https://example.com:8o8/"));
    // RFC 3986 §3.2.2-3.2.3: a host is reg-name characters, percent-encodings or sub-delims, never a space
    // or a raw control character; an empty port is the scheme's default.
    CHECK_FALSE(parse_url("https://exa mple.com/"));
    CHECK_FALSE(parse_url("https://example.com/\x01"));
    CHECK_FALSE(parse_url(std::string("https://example.com/a\nb")));
    auto emptyPort = parse_url("https://example.com:/x");
    REQUIRE(emptyPort);
    CHECK(emptyPort->port == 443);
    CHECK(emptyPort->pathAndQuery == "/x");

    CHECK(transport_security_problem("https://graph.microsoft.us").empty());
    CHECK(transport_security_problem("http://127.0.0.1:5000/graph").empty());
    CHECK(transport_security_problem("http://localhost/graph").empty());
    CHECK(transport_security_problem("http://graph.microsoft.com") ==
          "http://graph.microsoft.com: plain http is only allowed on loopback; use https");
    CHECK_FALSE(transport_security_problem("graph.microsoft.com").empty());

    CHECK(same_origin(*parse_url("https://graph.microsoft.com/v1.0/a"), *parse_url("https://GRAPH.microsoft.com:443/b")));
    CHECK_FALSE(same_origin(*parse_url("https://graph.microsoft.com/"), *parse_url("https://evil.example/")));
    CHECK_FALSE(same_origin(*parse_url("https://graph.microsoft.com/"), *parse_url("http://graph.microsoft.com/")));
}

TEST_CASE("collect internals: proxy choice honours NO_PROXY and never proxies loopback or link-local") {
    ProxySettings proxy{"http://proxy.corp:3128", "http://plain-proxy.corp:3128", "localhost, .internal.example,contoso.com"};
    CHECK(proxy.proxy_for("https://graph.microsoft.com/v1.0") == "http://proxy.corp:3128");
    CHECK(proxy.proxy_for("http://graph.example.net/") == "http://plain-proxy.corp:3128");
    CHECK(proxy.proxy_for("https://127.0.0.1:8443/graph").empty());
    CHECK(proxy.proxy_for("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01").empty());
    CHECK(proxy.proxy_for("https://login.contoso.com/").empty());
    CHECK(proxy.proxy_for("https://contoso.com/").empty());
    CHECK(proxy.proxy_for("https://x.internal.example/").empty());
    CHECK(proxy.proxy_for("https://notcontoso.com/") == "http://proxy.corp:3128");
    CHECK(no_proxy_matches("*", "anything.example"));
    CHECK_FALSE(no_proxy_matches("", "anything.example"));
}

TEST_CASE("collect internals: Retry-After as seconds or as an HTTP date") {
    auto now = std::chrono::system_clock::from_time_t(1700000000);  // Tue, 14 Nov 2023 22:13:20 GMT
    CHECK(parse_retry_after("2", now) == doctest::Approx(2));
    CHECK(parse_retry_after("0", now) == doctest::Approx(0));
    CHECK(parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now) == doctest::Approx(30));
    CHECK(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == doctest::Approx(0));
    CHECK(parse_retry_after("", now) < 0);
    CHECK(parse_retry_after("soon", now) < 0);
    CHECK(parse_retry_after("-5", now) < 0);
}

TEST_CASE("collect internals: error codes and messages from Graph, Exchange and the token endpoint") {
    using nlohmann::json;
    auto graph = error_of(json::parse(R"({"error": {"code": "Authorization_RequestDenied",
        "message": "Insufficient privileges to complete the operation.", "innerError": {}}})"));
    CHECK(graph.first == "Authorization_RequestDenied");
    CHECK(graph.second == "Insufficient privileges to complete the operation.");
    auto token = error_of(json::parse(R"({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})"));
    CHECK(token.first == "invalid_client");
    CHECK(token.second == "AADSTS7000215: Invalid client secret provided.");
    auto exchange = error_of(json::parse(R"({"error": {"code": "BadRequest", "message": "An error has occurred.",
        "details": [{"code": "Context", "message": "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found."}]}})"));
    CHECK(exchange.first == "ManagementObjectNotFoundException");
    CHECK(exchange.second == "The operation couldn't be performed because object 'x' couldn't be found.");
    CHECK(error_of(json::parse(R"({"value": []})")).first.empty());
    CHECK(status_text(429) == "429 Too Many Requests");
    CHECK(status_text(418) == "HTTP 418");
}

TEST_CASE("collect internals: only ManagementObjectNotFoundException about the identity asked for means 'no such object'") {
    auto failure = [](int status, const char* body) {
        auto json = nlohmann::json::parse(body, nullptr, false);
        if (json.is_discarded()) json = nullptr;
        auto [code, message] = error_of(json);
        return RequestFailure(status, code, status_text(status) + (code.empty() ? "" : ": " + code) +
                                                (message.empty() ? "" : ": " + message));
    };
    const RequestFailure notFound = failure(404, R"({"error": {"code": "NotFound", "message": "An error has occurred.",
        "details": [{"code": "Context", "target": "", "message": "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'Nestor@Fabrikam.com' couldn't be found on 'AM0PR05A001DC01.EURPR05A001.prod.outlook.com'."}]}})");
    CHECK(notFound.code() == "ManagementObjectNotFoundException");
    CHECK(is_object_not_found(notFound, "nestor@fabrikam.com"));
    CHECK_FALSE(is_object_not_found(notFound, "erp-mailer@fabrikam.com"));  // about another object
    CHECK_FALSE(is_object_not_found(notFound, ""));

    const RequestFailure missingCmdlet = failure(400, R"({"error": {"code": "BadRequest", "message": "An error has occurred.",
        "details": [{"code": "Context", "target": "", "message": "Ex0|System.Management.Automation.CommandNotFoundException|The term 'Get-Recipient' is not recognized as a name of a cmdlet. NotFound 'nestor@fabrikam.com'"}]}})");
    CHECK(missingCmdlet.code() == "CommandNotFoundException");
    CHECK_FALSE(is_object_not_found(missingCmdlet, "nestor@fabrikam.com"));

    CHECK_FALSE(is_object_not_found(failure(404, ""), "nestor@fabrikam.com"));  // a 404 without Exchange's body
    CHECK_FALSE(is_object_not_found(failure(404, R"({"error": {"code": "ManagementObjectNotFoundException",
        "message": "object 'nestor@fabrikam.com'"}})"), "other@fabrikam.com"));
}

TEST_CASE("collect internals: the redactor hides every registered secret, wherever it appears") {
    Redactor redactor;
    redactor.add("s3cr3t-value-123");
    redactor.add("short");  // too short to be a secret: would mask ordinary words
    CHECK(redactor.redact("secret=s3cr3t-value-123&again=s3cr3t-value-123 short") ==
          "secret=[redacted]&again=[redacted] short");
}

TEST_CASE("collect internals: a client assertion names the certificate and the audience") {
    std::string pki = fakecloud::pki_dir();
    CertificateCredential credential(pki + "/app.pem", pki + "/app.key");
    auto now = std::chrono::system_clock::from_time_t(1800000000);
    std::string jwt = credential.assertion("app-id", "https://login.microsoftonline.com/t/oauth2/v2.0/token", now);
    auto first = jwt.find('.');
    auto second = jwt.find('.', first + 1);
    REQUIRE(second != std::string::npos);
    std::string header, claims, signature;
    REQUIRE(base64url_decode(jwt.substr(0, first), header));
    REQUIRE(base64url_decode(jwt.substr(first + 1, second - first - 1), claims));
    REQUIRE(base64url_decode(jwt.substr(second + 1), signature));
    auto h = nlohmann::json::parse(header);
    auto c = nlohmann::json::parse(claims);
    CHECK(h["alg"] == "RS256");
    CHECK(h["x5t"] == credential.sha1_thumbprint());
    CHECK(h["x5t#S256"] == credential.sha256_thumbprint());
    CHECK(credential.sha1_thumbprint().size() == 27);    // 20 bytes
    CHECK(credential.sha256_thumbprint().size() == 43);  // 32 bytes
    CHECK(c["aud"] == "https://login.microsoftonline.com/t/oauth2/v2.0/token");
    CHECK(c["iss"] == "app-id");
    CHECK(c["sub"] == "app-id");
    CHECK(c["nbf"] == 1800000000);
    CHECK(c["exp"] == 1800000600);
    CHECK(c["jti"].get<std::string>().size() == 36);
    CHECK(signature.size() == 256);  // RSA-2048
    CHECK(credential.assertion("app-id", "aud", now) != jwt);  // a fresh jti every time

    CHECK_THROWS_WITH_AS(CertificateCredential(pki + "/app.pem", pki + "/other.key"),
                         doctest::Contains("does not belong to the certificate"), tenantscan::collect::CollectError);
    CHECK_THROWS_WITH_AS(CertificateCredential(pki + "/app.pem", ""), doctest::Contains("no unencrypted private key"),
                         tenantscan::collect::CollectError);
    CHECK_THROWS_WITH_AS(CertificateCredential(pki + "/missing.pem", ""), doctest::Contains("cannot read the certificate file"),
                         tenantscan::collect::CollectError);
}
