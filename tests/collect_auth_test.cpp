// `tenantscan collect` credential sources against the fake cloud (tests/fakecloud): device code
// (RFC 8628 and Entra's polling answers), workload identity federation (token file, variable,
// GitHub Actions, Azure DevOps), managed identity (App Service and the metadata service, at a
// test address: never 169.254.169.254), the Azure CLI (a stand-in `az` on PATH), azure-identity's
// environment variables, the --auth auto chain, and --check-access. Written from Microsoft's
// documented request and response shapes (docs/microsoft-facts.md, "Signing in").
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakecloud/fake_cloud.hpp"
#include "support.hpp"

using fakecloud::FakeCloud;
using fakecloud::OutputPath;
using nlohmann::json;
using testsupport::CommandResult;
using testsupport::read_file;
using testsupport::run_cli;
using testsupport::TempFile;

namespace {

constexpr const char* kGithubRequestToken = "gh-request-token-0123456789abcdef";
constexpr const char* kAdoAccessToken = "ado-system-access-token-0123456789";
constexpr const char* kIdentityHeader = "identity-header-secret-0123456789";
constexpr const char* kUserAssigned = "7a1b2c3d-0000-4000-8000-00000000beef";
// What the stand-in az puts in its garbled output and in its error text.
constexpr const char* kStandInLeak = "eyJ0eXAiOiJKV1QifQ.eyJzZWNyZXQiOiJzdGFuZC1pbiJ9.c3RhbmQtaW4tc2lnbmF0dXJl";


std::string b64url(const std::string& bytes) { return testsupport::base64(bytes, /*url=*/true); }

// An external identity provider's ID token, as a Kubernetes service account or GitLab issues it
// (unsigned here: the fake checks issuer, subject, audience and expiry, as Entra matches them
// against the app's federated identity credential).
std::string external_token(const std::string& audience, long long expiresIn = 600,
                           const std::string& subject = "system:serviceaccount:audit:tenantscan") {
    long long now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    json claims = {{"iss", "https://issuer.example"}, {"sub", subject}, {"aud", audience},
                   {"iat", now}, {"nbf", now}, {"exp", now + expiresIn}};
    return b64url(R"({"alg":"RS256","typ":"JWT","kid":"k1"})") + "." + b64url(claims.dump()) + "." +
           b64url("not-checked-signature-0123456789");
}

// Every variable a credential source reads, emptied (the tests' own environment must not leak in:
// a CI runner may well have AZURE_* or GitHub's ID token variables).
std::vector<std::string> clean_env(const std::string& path, std::vector<std::string> extra = {}) {
    std::vector<std::string> env = {"AZURE_TENANT_ID=", "AZURE_CLIENT_ID=", "AZURE_CLIENT_SECRET=",
                                    "AZURE_CLIENT_CERTIFICATE_PATH=", "AZURE_CLIENT_CERTIFICATE_PASSWORD=",
                                    "AZURE_FEDERATED_TOKEN_FILE=", "AZURE_FEDERATED_TOKEN=",
                                    "ACTIONS_ID_TOKEN_REQUEST_URL=", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=",
                                    "SYSTEM_OIDCREQUESTURI=", "SYSTEM_ACCESSTOKEN=",
                                    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID=", "AZURESUBSCRIPTION_CLIENT_ID=",
                                    "AZURESUBSCRIPTION_TENANT_ID=", "IDENTITY_ENDPOINT=", "IDENTITY_HEADER=",
                                    "AZURE_POD_IDENTITY_AUTHORITY_HOST=", "FAKE_AZ_STATE=", "PATH=" + path};
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
}

// A directory with nothing in it: PATH for "az is not installed" (a CI runner may have a real az).
const std::string& empty_dir() {
    static const std::string dir = [] {
        std::string d = testsupport::binary_dir() + "/tests/empty-path";
        ::mkdir((testsupport::binary_dir() + "/tests").c_str(), 0755);
        ::mkdir(d.c_str(), 0755);
        return d;
    }();
    return dir;
}
std::string stand_in_dir() { return testsupport::source_dir() + "/tests/fakecloud"; }

// The base URLs and CA of the fake cloud, without tenant and client id.
std::vector<std::string> urls(const FakeCloud& cloud) {
    std::string base = cloud.base();
    return {"--login-url", base + "/login", "--graph-url", base + "/graph", "--exchange-url", base + "/exchange",
            "--ca-file", fakecloud::pki_dir() + "/ca.pem"};
}

CommandResult collect(const FakeCloud& cloud, const std::vector<std::string>& args, const std::vector<std::string>& env,
                      const std::string& output) {
    std::vector<std::string> all = {"collect"};
    auto u = urls(cloud);
    all.insert(all.end(), u.begin(), u.end());
    all.insert(all.end(), args.begin(), args.end());
    if (!output.empty()) all.insert(all.end(), {"--output", output});
    return run_cli(all, env);
}

std::vector<json> entries(const FakeCloud& cloud, const std::string& kind) {
    std::vector<json> out;
    for (auto& entry : cloud.log())
        if (entry["kind"] == kind) out.push_back(entry);
    return out;
}

// No token or other secret the fake handed out (access and refresh tokens, device codes, OIDC tokens),
// nor any of `secrets`, in stdout, stderr or the snapshot.
void check_nothing_leaked(const FakeCloud& cloud, const CommandResult& result, const OutputPath* output,
                          std::vector<std::string> secrets) {
    for (const auto& entry : cloud.log()) {
        if (entry.contains("token") && entry["token"].is_string()) secrets.push_back(entry["token"].get<std::string>());
        if (entry.contains("secret") && entry["secret"].is_string()) secrets.push_back(entry["secret"].get<std::string>());
    }
    std::string snapshot = output != nullptr && output->exists() ? read_file(output->path()) : "";
    for (const auto& secret : secrets) {
        CHECK_MESSAGE(result.out.find(secret) == std::string::npos, "stdout shows a secret");
        CHECK_MESSAGE(result.err.find(secret) == std::string::npos, "stderr shows a secret");
        CHECK_MESSAGE(snapshot.find(secret) == std::string::npos, "the snapshot holds a secret");
    }
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

FakeCloud::Options with_scenario(json scenario) {
    FakeCloud::Options options;
    options.scenario = std::move(scenario);
    return options;
}

const std::vector<std::string> kFewSections = {"--sections", "/graph/users,/exchange/acceptedDomains"};

}  // namespace

// ---- device code ---------------------------------------------------------------------------

TEST_CASE("collect auth: device code shows Entra's message, polls at the interval and signs in once for both services") {
    FakeCloud cloud(with_scenario({{"deviceCode", {{"interval", 1}, {"polls", {"authorization_pending", "approve"}}}}}));
    OutputPath output;
    CommandResult result = collect(cloud, {"--auth", "device-code", "--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId},
                                   clean_env(empty_dir()), output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    auto codes = entries(cloud, "deviceCode");
    REQUIRE(codes.size() == 1);  // one sign-in
    CHECK(contains(result.err, "https://microsoft.com/devicelogin"));
    CHECK(contains(result.err, codes[0]["user_code"].get<std::string>()));
    CHECK(contains(codes[0]["scope"].get<std::string>(), "offline_access"));  // a refresh token for the second service
    CHECK(entries(cloud, "tooSoon").empty());
    CHECK(entries(cloud, "devicePoll").size() == 2);
    std::set<std::string> methods;
    for (const auto& token : entries(cloud, "token")) methods.insert(token["resource"].get<std::string>() + ":" + token["method"].get<std::string>());
    CHECK(methods == std::set<std::string>{"graph:deviceCode", "exchange:refreshToken"});
    json snapshot = output.read();
    CHECK(snapshot["collection"]["authentication"] == "deviceCode");
    CHECK(snapshot["notCollected"].find("/graph/users") == snapshot["notCollected"].end());
    check_nothing_leaked(cloud, result, &output, {});
}

TEST_CASE("collect auth: a section refused to a signed-in user names the delegated permission and the user's role") {
    FakeCloud cloud(with_scenario({{"deviceCode", {{"interval", 1}, {"polls", {"approve"}}}},
                                   {"faults", json::array({{{"path", "/graph/v1.0/auditLogs/signIns"}, {"action", "status"}, {"status", 403},
                                                            {"times", -1},
                                                            {"graphError", {{"code", "Authorization_RequestDenied"},
                                                                            {"message", "Insufficient privileges to complete the operation."}}}}})}}));
    OutputPath output;
    CommandResult result = collect(cloud, {"--auth", "device-code", "--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId,
                                           "--sections", "/graph/users,/graph/signIns"},
                                   clean_env(empty_dir()), output.path());
    REQUIRE_MESSAGE(result.exitCode == 1, result.err);
    std::string reason = output.read()["notCollected"]["/graph/signIns"].get<std::string>();
    CHECK_MESSAGE(contains(reason, "delegated permission AuditLog.Read.All"), reason);
    CHECK_MESSAGE(contains(reason, "signed-in user"), reason);
    CHECK_FALSE(contains(reason, "application permission"));
}

TEST_CASE("collect auth: device code slow_down adds five seconds to the polling interval (RFC 8628)") {
    FakeCloud cloud(with_scenario({{"deviceCode", {{"interval", 1}, {"polls", {"slow_down", "approve"}}}}}));
    OutputPath output;
    auto started = std::chrono::steady_clock::now();
    CommandResult result = collect(cloud, {"--auth", "device-code", "--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId,
                                           "--sections", "/graph/users"},
                                   clean_env(empty_dir()), output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::seconds(7));  // 1 s, then 1 + 5 s
    CHECK(entries(cloud, "tooSoon").empty());
}

TEST_CASE("collect auth: device code failures are clear and exit 2 without a snapshot") {
    struct Case {
        const char* answer;
        const char* says;
    };
    for (const auto& c : {Case{"authorization_declined", "declined"}, Case{"expired_token", "expired"},
                          Case{"bad_verification_code", "bad_verification_code"}}) {
        std::string answerText = c.answer;
        CAPTURE(answerText);
        FakeCloud cloud(with_scenario({{"deviceCode", {{"interval", 1}, {"polls", {"authorization_pending", c.answer}}}}}));
        OutputPath output;
        CommandResult result = collect(cloud, {"--auth", "device-code", "--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId},
                                       clean_env(empty_dir()), output.path());
        CHECK(result.exitCode == 2);
        CHECK_MESSAGE(contains(result.err, c.says), result.err);
        CHECK_FALSE(output.exists());
        CHECK(entries(cloud, "token").empty());
    }
}

TEST_CASE("collect auth: device code gives up when the code's lifetime (expires_in) runs out") {
    FakeCloud cloud(with_scenario({{"deviceCode", {{"interval", 1}, {"expiresIn", 3}, {"polls", {"authorization_pending"}}}}}));
    OutputPath output;
    CommandResult result = collect(cloud, {"--auth", "device-code", "--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId},
                                   clean_env(empty_dir()), output.path());
    CHECK(result.exitCode == 2);
    CHECK_MESSAGE(contains(result.err, "expired"), result.err);
    CHECK(entries(cloud, "devicePoll").size() <= 3);
}

TEST_CASE("collect auth: device code needs the user's public-client app id and a tenant") {
    FakeCloud cloud(FakeCloud::Options{});
    CommandResult result = collect(cloud, {"--auth", "device-code", "--tenant", cloud.tenant_id()}, clean_env(empty_dir()), "out.json");
    CHECK(result.exitCode == 2);
    CHECK(contains(result.err, "--client-id"));
}

// ---- workload identity federation ----------------------------------------------------------

TEST_CASE("collect auth: workload identity from AZURE_FEDERATED_TOKEN_FILE, with tenant and client id from the environment") {
    FakeCloud cloud(FakeCloud::Options{});
    std::string assertion = external_token("api://AzureADTokenExchange");
    TempFile file(assertion + "\n", ".jwt");
    OutputPath output;
    CommandResult result = collect(cloud, kFewSections,
                                   clean_env(empty_dir(), {"AZURE_FEDERATED_TOKEN_FILE=" + file.path(),
                                                           "AZURE_TENANT_ID=" + cloud.tenant_id(),
                                                           "AZURE_CLIENT_ID=" + fakecloud::kClientId}),
                                   output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    CHECK(contains(result.err, "workload identity"));  // the auto chain says which source it used
    CHECK(output.read()["collection"]["authentication"] == "workloadIdentity");
    for (const auto& token : entries(cloud, "token")) CHECK(token["method"] == "federated");
    check_nothing_leaked(cloud, result, &output, {assertion});
}

TEST_CASE("collect auth: workload identity refusals (wrong audience, expired assertion) exit 2 and never show the assertion") {
    FakeCloud cloud(FakeCloud::Options{});
    struct Case {
        std::string assertion;
        const char* says;
    };
    for (const auto& c : {Case{external_token("api://SomethingElse"), "No matching federated identity record"},
                          Case{external_token("api://AzureADTokenExchange", -60), "AADSTS700024"},
                          Case{external_token("api://AzureADTokenExchange", 600, "repo:evil/fork:ref:refs/heads/main"),
                               "No matching federated identity record"}}) {
        std::string saysText = c.says;
        CAPTURE(saysText);
        TempFile file(c.assertion, ".jwt");
        OutputPath output;
        CommandResult result = collect(cloud, {"--auth", "workload-identity", "--tenant", cloud.tenant_id(), "--client-id",
                                               fakecloud::kClientId, "--federated-token-file", file.path()},
                                       clean_env(empty_dir()), output.path());
        CHECK(result.exitCode == 2);
        CHECK_MESSAGE(contains(result.err, c.says), result.err);
        CHECK_FALSE(output.exists());
        check_nothing_leaked(cloud, result, &output, {c.assertion});
    }
}

TEST_CASE("collect auth: workload identity from a variable (GitLab id_tokens)") {
    FakeCloud cloud(FakeCloud::Options{});
    std::string assertion = external_token("api://AzureADTokenExchange");
    OutputPath output;
    CommandResult result = collect(cloud, {"--auth", "workload-identity", "--tenant", cloud.tenant_id(), "--client-id",
                                           fakecloud::kClientId, "--federated-token-env", "GITLAB_OIDC_TOKEN", "--sections", "/graph/users"},
                                   clean_env(empty_dir(), {"GITLAB_OIDC_TOKEN=" + assertion}), output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    check_nothing_leaked(cloud, result, &output, {assertion});
}

TEST_CASE("collect auth: workload identity in GitHub Actions requests an ID token for api://AzureADTokenExchange, again for every token") {
    // Tokens expire after a few requests: every new access token needs a fresh assertion.
    FakeCloud cloud(with_scenario({{"githubRequestToken", kGithubRequestToken}, {"expireTokensAfter", 3}}));
    OutputPath output;
    CommandResult result =
        collect(cloud, {"--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId},
                clean_env(empty_dir(), {"ACTIONS_ID_TOKEN_REQUEST_URL=" + cloud.base() + "/github/oidc?api-version=2.0",
                                        std::string("ACTIONS_ID_TOKEN_REQUEST_TOKEN=") + kGithubRequestToken}),
                output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    auto requests = entries(cloud, "oidcRequest");
    auto tokens = entries(cloud, "token");
    CHECK(tokens.size() >= 3);  // Graph, Exchange, and at least one renewed after the expiry
    CHECK(requests.size() == tokens.size());
    for (const auto& request : requests) {
        CHECK(request["audience"] == "api://AzureADTokenExchange");
        CHECK(request["authorized"] == true);
    }
    check_nothing_leaked(cloud, result, &output, {kGithubRequestToken});
}

TEST_CASE("collect auth: workload identity in GitHub Actions without id-token permission is a clear error") {
    FakeCloud cloud(FakeCloud::Options{});
    CommandResult result = collect(cloud, {"--auth", "workload-identity", "--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId},
                                   clean_env(empty_dir(), {"ACTIONS_ID_TOKEN_REQUEST_URL=" + cloud.base() + "/github/oidc?api-version=2.0"}),
                                   "unused.json");
    CHECK(result.exitCode == 2);
    CHECK(contains(result.err, "id-token: write"));
}

TEST_CASE("collect auth: workload identity in Azure DevOps asks the service connection's OIDC token") {
    FakeCloud cloud(with_scenario({{"adoAccessToken", kAdoAccessToken}}));
    OutputPath output;
    CommandResult result =
        collect(cloud, {"--auth", "workload-identity", "--sections", "/graph/users"},
                clean_env(empty_dir(), {"SYSTEM_OIDCREQUESTURI=" + cloud.base() + "/ado/oidc",
                                        std::string("SYSTEM_ACCESSTOKEN=") + kAdoAccessToken,
                                        "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID=3f1c2b4a-0000-4000-8000-0000000000c0",
                                        "AZURESUBSCRIPTION_TENANT_ID=" + cloud.tenant_id(),
                                        "AZURESUBSCRIPTION_CLIENT_ID=" + fakecloud::kClientId}),
                output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    auto requests = entries(cloud, "oidcRequest");
    REQUIRE(!requests.empty());
    CHECK(requests[0]["source"] == "ado");
    CHECK(requests[0]["serviceConnectionId"] == "3f1c2b4a-0000-4000-8000-0000000000c0");
    check_nothing_leaked(cloud, result, &output, {kAdoAccessToken});
}

TEST_CASE("collect auth: --auth workload-identity with nothing in the environment names what to set") {
    FakeCloud cloud(FakeCloud::Options{});
    CommandResult result = collect(cloud, {"--auth", "workload-identity", "--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId},
                                   clean_env(empty_dir()), "unused.json");
    CHECK(result.exitCode == 2);
    CHECK(contains(result.err, "AZURE_FEDERATED_TOKEN_FILE"));
    CHECK(contains(result.err, "ACTIONS_ID_TOKEN_REQUEST_URL"));
    CHECK(entries(cloud, "token").empty());
}

// ---- managed identity ----------------------------------------------------------------------

TEST_CASE("collect auth: managed identity in App Service (IDENTITY_ENDPOINT, X-IDENTITY-HEADER, api-version 2019-08-01)") {
    FakeCloud cloud(with_scenario({{"identityHeader", kIdentityHeader}}));
    OutputPath output;
    // The auto chain picks it: its environment says it runs there.
    CommandResult result = collect(cloud, kFewSections,
                                   clean_env(empty_dir(), {"IDENTITY_ENDPOINT=" + cloud.base() + "/msi/token",
                                                           std::string("IDENTITY_HEADER=") + kIdentityHeader}),
                                   output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    CHECK(contains(result.err, "managed identity"));
    auto requests = entries(cloud, "managedIdentity");
    REQUIRE(requests.size() == 2);
    for (const auto& request : requests) {
        CHECK(request["style"] == "appService");
        CHECK(request["apiVersion"] == "2019-08-01");
        CHECK(request["clientId"].is_null());  // system-assigned
    }
    json snapshot = output.read();
    CHECK(snapshot["collection"]["authentication"] == "managedIdentity");
    CHECK(snapshot["tenantId"] == cloud.tenant_id());  // from the token, no --tenant given
    check_nothing_leaked(cloud, result, &output, {kIdentityHeader});
}

TEST_CASE("collect auth: managed identity through the metadata service (Metadata: true), user-assigned") {
    FakeCloud cloud(with_scenario({{"managedIdentities", {kUserAssigned}}}));
    OutputPath output;
    CommandResult result = collect(cloud, {"--auth", "managed-identity", "--managed-identity-client-id", kUserAssigned, "--sections", "/graph/users"},
                                   clean_env(empty_dir(), {"AZURE_POD_IDENTITY_AUTHORITY_HOST=" + cloud.base()}), output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    auto requests = entries(cloud, "managedIdentity");
    REQUIRE(!requests.empty());
    CHECK(requests[0]["style"] == "imds");
    CHECK(requests[0]["metadataHeader"] == "true");
    CHECK(requests[0]["apiVersion"] == "2018-02-01");
    CHECK(requests[0]["clientId"] == kUserAssigned);
    check_nothing_leaked(cloud, result, &output, {});
}

TEST_CASE("collect auth: managed identity refusals exit 2 with the endpoint's reason") {
    SUBCASE("a user-assigned identity the machine does not have") {
        FakeCloud cloud(FakeCloud::Options{});
        CommandResult result = collect(cloud, {"--auth", "managed-identity", "--managed-identity-client-id", kUserAssigned},
                                       clean_env(empty_dir(), {"AZURE_POD_IDENTITY_AUTHORITY_HOST=" + cloud.base()}), "unused.json");
        CHECK(result.exitCode == 2);
        CHECK_MESSAGE(contains(result.err, "Identity not found"), result.err);
    }
    SUBCASE("a wrong identity header") {
        FakeCloud cloud(with_scenario({{"identityHeader", kIdentityHeader}}));
        CommandResult result = collect(cloud, {"--auth", "managed-identity"},
                                       clean_env(empty_dir(), {"IDENTITY_ENDPOINT=" + cloud.base() + "/msi/token",
                                                               "IDENTITY_HEADER=wrong-header-value-123"}),
                                       "unused.json");
        CHECK(result.exitCode == 2);
        CHECK_MESSAGE(contains(result.err, "401"), result.err);
        CHECK_FALSE(contains(result.err, "wrong-header-value-123"));
    }
}

// ---- Azure CLI -----------------------------------------------------------------------------

TEST_CASE("collect auth: the Azure CLI's token for each resource (az account get-access-token --resource)") {
    FakeCloud cloud(FakeCloud::Options{});
    TempFile azLog("", ".jsonl");
    OutputPath output;
    CommandResult result = collect(cloud, {"--auth", "azure-cli"},
                                   clean_env(stand_in_dir(), {"FAKE_AZ_URL=" + cloud.base(), "FAKE_AZ_CA=" + fakecloud::pki_dir() + "/ca.pem",
                                                              "FAKE_AZ_LOG=" + azLog.path()}),
                                   output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    std::set<std::string> resources;
    std::istringstream lines(read_file(azLog.path()));
    for (std::string line; std::getline(lines, line);) {
        auto args = json::parse(line);
        auto at = std::find(args.begin(), args.end(), "--resource");
        REQUIRE(at != args.end());
        resources.insert((at + 1)->get<std::string>());
    }
    CHECK(resources == std::set<std::string>{cloud.base() + "/graph", cloud.base() + "/exchange"});
    CHECK(output.read()["collection"]["authentication"] == "azureCli");
    check_nothing_leaked(cloud, result, &output, {});
}

TEST_CASE("collect auth: Azure CLI failures (not signed in, garbled output, a token in its error) exit 2 and show no token") {
    FakeCloud cloud(FakeCloud::Options{});
    struct Case {
        const char* state;
        const char* says;
    };
    for (const auto& c : {Case{"signed-out", "az login"}, Case{"garbled", "accessToken"}, Case{"token-in-error", "AADSTS50173"}}) {
        std::string stateText = c.state;
        CAPTURE(stateText);
        OutputPath output;
        CommandResult result = collect(cloud, {"--auth", "azure-cli"},
                                       clean_env(stand_in_dir(), {std::string("FAKE_AZ_STATE=") + c.state}), output.path());
        CHECK(result.exitCode == 2);
        CHECK_MESSAGE(contains(result.err, c.says), result.err);
        CHECK_FALSE(output.exists());
        check_nothing_leaked(cloud, result, &output, {kStandInLeak, "c3RhbmQtaW4tc2lnbmF0dXJl"});
    }
}

// ---- environment (azure-identity's EnvironmentCredential) ---------------------------------

TEST_CASE("collect auth: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, picked by the auto chain") {
    FakeCloud cloud(FakeCloud::Options{});
    OutputPath output;
    CommandResult result = collect(cloud, kFewSections,
                                   clean_env(empty_dir(), {"AZURE_TENANT_ID=" + cloud.tenant_id(), "AZURE_CLIENT_ID=" + fakecloud::kClientId,
                                                           "AZURE_CLIENT_SECRET=" + fakecloud::kClientSecret}),
                                   output.path());
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    CHECK(contains(result.err, "AZURE_CLIENT_SECRET"));  // says which source
    CHECK(output.read()["collection"]["authentication"] == "environment");
    check_nothing_leaked(cloud, result, &output, {fakecloud::kClientSecret});
}

TEST_CASE("collect auth: --auth environment without the variables names them and exits 2") {
    FakeCloud cloud(FakeCloud::Options{});
    CommandResult result = collect(cloud, {"--auth", "environment"},
                                   clean_env(empty_dir(), {"AZURE_TENANT_ID=" + cloud.tenant_id(), "AZURE_CLIENT_ID=" + fakecloud::kClientId}),
                                   "unused.json");
    CHECK(result.exitCode == 2);
    CHECK(contains(result.err, "AZURE_CLIENT_SECRET"));
    CHECK(contains(result.err, "AZURE_CLIENT_CERTIFICATE_PATH"));
    CHECK(cloud.log().empty());
}

TEST_CASE("collect auth: a PKCS#12 certificate, from AZURE_CLIENT_CERTIFICATE_PATH or --certificate, with its password") {
    std::string pki = fakecloud::pki_dir();
    const std::string password = "pfx-Passw0rd-for-tests";
    std::string pfx = pki + "/app-" + std::to_string(::getpid()) + ".pfx";
    std::string command = "openssl pkcs12 -export -in '" + pki + "/app.pem' -inkey '" + pki + "/app.key' -out '" + pfx +
                          "' -passout pass:" + password + " 2>/dev/null";
    REQUIRE(std::system(command.c_str()) == 0);
    FakeCloud cloud(FakeCloud::Options{});
    SUBCASE("environment") {
        OutputPath output;
        CommandResult result = collect(cloud, {"--sections", "/graph/users"},
                                       clean_env(empty_dir(), {"AZURE_TENANT_ID=" + cloud.tenant_id(), "AZURE_CLIENT_ID=" + fakecloud::kClientId,
                                                               "AZURE_CLIENT_CERTIFICATE_PATH=" + pfx,
                                                               "AZURE_CLIENT_CERTIFICATE_PASSWORD=" + password}),
                                       output.path());
        REQUIRE_MESSAGE(result.exitCode == 0, result.err);
        for (const auto& token : entries(cloud, "token")) CHECK(token["method"] == "certificate");
        check_nothing_leaked(cloud, result, &output, {password});
    }
    SUBCASE("--certificate with --certificate-password-env") {
        OutputPath output;
        CommandResult result = collect(cloud, {"--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId, "--certificate", pfx,
                                               "--certificate-password-env", "PFX_PASSWORD", "--sections", "/graph/users"},
                                       clean_env(empty_dir(), {"PFX_PASSWORD=" + password}), output.path());
        REQUIRE_MESSAGE(result.exitCode == 0, result.err);
        CHECK(output.read()["collection"]["authentication"] == "certificate");
    }
    SUBCASE("a wrong password") {
        CommandResult result = collect(cloud, {"--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId, "--certificate", pfx,
                                               "--certificate-password-env", "PFX_PASSWORD"},
                                       clean_env(empty_dir(), {"PFX_PASSWORD=not-the-password"}), "unused.json");
        CHECK(result.exitCode == 2);
        CHECK(contains(result.err, "wrong password"));
        CHECK_FALSE(contains(result.err, "not-the-password"));
    }
    std::remove(pfx.c_str());
}

// ---- the auto chain --------------------------------------------------------------------------

TEST_CASE("collect auth: --auth auto with no source lists each one and why, never prompts, never asks the metadata address") {
    FakeCloud cloud(FakeCloud::Options{});
    OutputPath output;
    CommandResult result = collect(cloud, {}, clean_env(empty_dir()), output.path());
    CHECK(result.exitCode == 2);
    for (const char* source : {"environment: ", "workload identity: ", "managed identity: ", "Azure CLI: ", "device code: "})
        CHECK_MESSAGE(contains(result.err, source), source);
    CHECK(contains(result.err, "AZURE_CLIENT_SECRET"));
    CHECK(contains(result.err, "IDENTITY_ENDPOINT"));
    CHECK(contains(result.err, "not installed"));
    CHECK_FALSE(contains(result.err, "devicelogin"));
    CHECK(cloud.log().empty());  // no request at all, to the fake or to anywhere it stands for
    CHECK_FALSE(output.exists());
}

TEST_CASE("collect auth: the auto chain moves past the Azure CLI when it is not signed in, and says so") {
    FakeCloud cloud(FakeCloud::Options{});
    CommandResult result = collect(cloud, {}, clean_env(stand_in_dir(), {"FAKE_AZ_STATE=signed-out"}), "unused.json");
    CHECK(result.exitCode == 2);
    CHECK(contains(result.err, "Azure CLI: the Azure CLI is not signed in"));
}

// ---- --check-access ------------------------------------------------------------------------

TEST_CASE("collect --check-access names the missing application permission and sends no data request") {
    json roles = {{"graph", {"Policy.Read.All", "User.Read.All", "GroupMember.Read.All", "RoleManagement.Read.Directory",
                             "Organization.Read.All"}},  // no AuditLog.Read.All
                  {"exchange", {"Exchange.ManageAsApp"}}};
    FakeCloud cloud(with_scenario({{"appRoles", roles}}));
    CommandResult result = cloud.run_with_secret("collect", {"--check-access"});
    CHECK(result.exitCode == 1);
    std::map<std::string, std::string> lines;
    std::istringstream out(result.out);
    for (std::string line; std::getline(out, line);) lines[line.substr(0, line.find(' '))] = line;
    REQUIRE_MESSAGE(lines.count("/graph/signIns"), result.out);
    CHECK(contains(lines["/graph/signIns"], "MISSING"));
    CHECK(contains(lines["/graph/signIns"], "application permission AuditLog.Read.All"));
    CHECK(contains(lines["/graph/users"], "collected"));
    CHECK(contains(lines["/exchange/hveAccounts"], "collected"));
    CHECK(contains(lines["/exchange/casMailboxes"], "MISSING"));  // derived from the sign-ins
    CHECK(contains(lines["/exchange/casMailboxes"], "derived from /graph/signIns"));
    CHECK(contains(result.out, "a client secret"));
    CHECK(entries(cloud, "api").empty());
    check_nothing_leaked(cloud, result, nullptr, {fakecloud::kClientSecret});
}

TEST_CASE("collect --check-access for a signed-in user names the missing delegated permission and directory role") {
    FakeCloud cloud(with_scenario({{"deviceCode",
                                    {{"interval", 1},
                                     {"polls", {"approve"}},
                                     {"scp", {{"graph", "User.Read.All Policy.Read.All AuditLog.Read.All"}, {"exchange", "User.Read"}}}}},
                                   {"wids", json::array({"b79fbf4d-3ef9-4689-8143-76b194e85509"})}}));  // no admin role
    CommandResult result = collect(cloud, {"--auth", "device-code", "--tenant", cloud.tenant_id(), "--client-id", fakecloud::kClientId,
                                           "--check-access"},
                                   clean_env(empty_dir()), "");
    CHECK(result.exitCode == 1);
    CHECK(contains(result.out, "delegated"));
    std::map<std::string, std::string> lines;
    std::istringstream out(result.out);
    for (std::string line; std::getline(out, line);) lines[line.substr(0, line.find(' '))] = line;
    CHECK(contains(lines["/exchange/casMailboxes"], "delegated permission Exchange.Manage"));
    CHECK(contains(lines["/graph/conditionalAccessPolicies"], "Global Reader"));
    CHECK(contains(lines["/graph/conditionalAccessPolicies"], "MISSING"));
    CHECK(contains(lines["/graph/users"], "collected"));
    CHECK(contains(lines["/graph/groups"], "GroupMember.Read.All"));
    CHECK(contains(lines["/crossCheck"], "MISSING"));
    check_nothing_leaked(cloud, result, nullptr, {});
}

// ---- fail closed ---------------------------------------------------------------------------

TEST_CASE("collect auth: a token answer that is not a usable bearer token is an error, never a sign-in") {
    struct Case {
        const char* what;
        json body;
        const char* says;
    };
    for (const auto& c : {Case{"no access_token", {{"token_type", "Bearer"}, {"expires_in", 3599}}, "without an access_token"},
                          Case{"another token type", {{"token_type", "pop"}, {"expires_in", 3599}, {"access_token", "x.y.z-0123456789"}}, "not a bearer token"},
                          Case{"an unreadable expiry", {{"token_type", "Bearer"}, {"expires_in", "soon"}, {"access_token", "x.y.z-0123456789"}}, "expires_in"},
                          Case{"no expiry", {{"token_type", "Bearer"}, {"access_token", "x.y.z-0123456789"}}, "expires_in"}}) {
        std::string whatText = c.what;
        CAPTURE(whatText);
        FakeCloud cloud(with_scenario({{"faults", json::array({{{"path", "/login/"}, {"action", "status"}, {"status", 200},
                                                                 {"times", -1}, {"body", c.body}}})}}));
        OutputPath output;
        CommandResult result = cloud.collect(output.path());
        CHECK(result.exitCode == 2);
        CHECK_MESSAGE(contains(result.err, c.says), result.err);
        CHECK_FALSE(output.exists());
        CHECK_FALSE(contains(result.err, "x.y.z-0123456789"));
    }
}
