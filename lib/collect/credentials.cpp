#include "credentials.hpp"

#include <tenantscan/json_input.hpp>
#include <tenantscan/detail/text.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "client_assertion.hpp"
#include "encoding.hpp"
#include "url.hpp"

namespace tenantscan::collect::detail {

namespace {

constexpr const char* kSection = "authentication";
constexpr const char* kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr const char* kDeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";
constexpr const char* kFederationAudience = "api://AzureADTokenExchange";
constexpr const char* kImdsDefault = "http://169.254.169.254";

using Form = std::vector<std::pair<std::string, std::string>>;

// A source that cannot work here (nothing configured for it): the auto chain moves on.
class Unavailable : public CollectError {
public:
    using CollectError::CollectError;
};

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
}

std::string first_set(std::initializer_list<std::string> values) {
    for (const auto& v : values)
        if (!v.empty()) return v;
    return {};
}

std::string trim(std::string text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    std::size_t start = 0;
    while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
    return text.substr(start);
}

// A whole number of seconds from a JSON number or a numeric string; false for anything else.
bool whole_seconds(const nlohmann::json& value, long long& out) {
    if (value.is_number_integer()) {
        out = value.get<long long>();
        return true;
    }
    if (value.is_number_float()) {
        out = static_cast<long long>(value.get<double>());
        return true;
    }
    if (!value.is_string()) return false;
    const std::string& text = value.get_ref<const std::string&>();
    if (text.empty() || text.size() > 18) return false;
    for (char c : text)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = std::atoll(text.c_str());
    return true;
}

long long now_epoch() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The token's lifetime from expires_in (seconds) or expires_on (epoch seconds). A member that is
// present but not a number is an error (fail closed); neither present is one too.
long long lifetime_of(const nlohmann::json& body, const std::string& who) {
    long long value = 0;
    if (auto in = body.find("expires_in"); in != body.end()) {
        if (!whole_seconds(*in, value) || value <= 0)
            throw RequestFailure(200, "InvalidResponse", who + " answered with an unreadable expires_in");
        return value;
    }
    if (auto on = body.find("expires_on"); on != body.end()) {
        if (!whole_seconds(*on, value))
            throw RequestFailure(200, "InvalidResponse", who + " answered with an unreadable expires_on");
        if (value - now_epoch() <= 0) throw RequestFailure(200, "InvalidResponse", who + " answered with an expired token");
        return value - now_epoch();
    }
    throw RequestFailure(200, "InvalidResponse", who + " answered without expires_in or expires_on");
}

// A 200 answer carrying a bearer access token, read fail-closed: anything else is an error.
IssuedToken read_token(Session& session, const JsonResponse& response, const std::string& who,
                       std::string* refreshToken = nullptr) {
    if (response.http.status != 200) throw session.failure_of(response);
    const auto& body = response.json;
    if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string() ||
        body["access_token"].get<std::string>().empty())
        throw RequestFailure(response.http.status, "InvalidResponse", who + " answered without an access_token");
    IssuedToken issued;
    issued.token = body["access_token"].get<std::string>();
    session.redactor().add(issued.token);
    if (auto type = body.find("token_type"); type != body.end()) {
        std::string text = type->is_string() ? type->get<std::string>() : "";
        if (!tenantscan::iequals(text, "bearer"))
            throw RequestFailure(response.http.status, "InvalidResponse", who + " answered with a token that is not a bearer token");
    }
    if (refreshToken != nullptr) {
        if (auto refresh = body.find("refresh_token"); refresh != body.end() && refresh->is_string() && !refresh->get<std::string>().empty()) {
            *refreshToken = refresh->get<std::string>();
            session.redactor().add(*refreshToken);
        }
    }
    issued.lifetimeSeconds = lifetime_of(body, who);
    return issued;
}

JsonResponse post_form(Session& session, const std::string& url, const Form& form) {
    std::string body = form_body(form);
    session.redactor().add(body);
    return session.exchange(
        [&] {
            return HttpRequest{"POST", url,
                               {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
                               body};
        },
        kSection);
}

std::string login_url(const CollectOptions& options, const std::string& tenant, const std::string& endpoint) {
    return trim_trailing_slashes(options.endpoints.login) + "/" + percent_encode(tenant) + "/oauth2/v2.0/" + endpoint;
}

std::string with_query(const std::string& url, const std::string& query) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string read_text_file(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CollectError(std::string("cannot read the ") + what + " " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// ---- client credentials: secret, certificate, federated assertion --------------------------

class ClientCredentials : public Credential {
public:
    using Assertion = std::function<std::string()>;

    ClientCredentials(Session& session, const CollectOptions& options, std::string tenant, std::string clientId,
                      std::string method, std::string description)
        : session_(session), options_(options), tenant_(std::move(tenant)), clientId_(std::move(clientId)),
          method_(std::move(method)), description_(std::move(description)) {
        if (tenant_.empty()) throw Unavailable("no tenant (--tenant or AZURE_TENANT_ID)");
        if (clientId_.empty()) throw Unavailable("no application id (--client-id or AZURE_CLIENT_ID)");
        tokenUrl_ = login_url(options_, tenant_, "token");
    }

    void use_secret(std::string secret) {
        secret_ = std::move(secret);
        session_.redactor().add(secret_);
        session_.redactor().add(percent_encode(secret_));
    }
    void use_certificate(const std::string& file, const std::string& keyFile, const std::string& password) {
        session_.redactor().add(password);
        certificate_ = std::make_unique<CertificateCredential>(file, keyFile, password);
    }
    void use_assertion(Assertion assertion) { assertion_ = std::move(assertion); }

    IssuedToken get(const std::string& resource) override {
        Form form = {{"grant_type", "client_credentials"},
                     {"client_id", clientId_},
                     {"scope", trim_trailing_slashes(resource) + "/.default"}};
        if (certificate_ || assertion_) {
            // A federated assertion is read or requested again for every token: it may have
            // expired since the last one (GitHub's live minutes, a projected file is rotated).
            std::string assertion =
                certificate_ ? certificate_->assertion(clientId_, tokenUrl_, std::chrono::system_clock::now()) : assertion_();
            session_.redactor().add(assertion);
            form.emplace_back("client_assertion_type", kJwtBearer);
            form.emplace_back("client_assertion", assertion);
        } else {
            form.emplace_back("client_secret", secret_);
        }
        JsonResponse response = post_form(session_, tokenUrl_, form);
        if (response.http.status != 200) {
            RequestFailure failure = session_.failure_of(response);
            throw RequestFailure(failure.status(), failure.code(),
                                 "token request for " + resource + " refused: " + failure.what());
        }
        return read_token(session_, response, "the token endpoint");
    }

    std::string method() const override { return method_; }
    std::string description() const override { return description_; }

private:
    Session& session_;
    const CollectOptions& options_;
    std::string tenant_, clientId_, method_, description_, tokenUrl_, secret_;
    std::unique_ptr<CertificateCredential> certificate_;
    Assertion assertion_;
};

// ---- workload identity federation: where the assertion comes from -------------------------

std::string checked_assertion(Session& session, std::string token, const std::string& from) {
    token = trim(std::move(token));
    session.redactor().add(token);
    if (token.empty()) throw CollectError(from + " holds no token");
    if (std::count(token.begin(), token.end(), '.') != 2)
        throw CollectError(from + " does not hold a JWT (three dot-separated parts)");
    return token;
}

struct AssertionSource {
    std::string description;
    ClientCredentials::Assertion fetch;
};

// GitHub Actions: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=... with the request token; {"value": jwt}.
// Azure DevOps: POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=... ; {"oidcToken": jwt}.
AssertionSource requested_assertion(Session& session, std::string method, std::string url, std::string bearer,
                                    std::string member, std::string description) {
    session.redactor().add(bearer);
    return {description, [&session, method, url, bearer, member, description] {
                JsonResponse response = session.exchange(
                    [&] {
                        return HttpRequest{method, url,
                                           {{"Authorization", "Bearer " + bearer}, {"Accept", "application/json"},
                                            {"Content-Type", "application/json"}},
                                           method == "POST" ? "{}" : ""};
                    },
                    kSection);
                if (response.http.status != 200) {
                    RequestFailure failure = session.failure_of(response);
                    throw CollectError(description + " refused the ID token request: " + failure.what());
                }
                const auto& body = response.json;
                if (!body.is_object() || !body.contains(member) || !body[member].is_string())
                    throw CollectError(description + " answered without \"" + member + "\"");
                return checked_assertion(session, body[member].get<std::string>(), description);
            }};
}

AssertionSource assertion_source(Session& session, const CollectOptions& options) {
    const AuthOptions& auth = options.auth;
    std::string file = first_set({auth.federatedTokenFile, env("AZURE_FEDERATED_TOKEN_FILE")});
    if (!file.empty()) {
        std::string description = "the federated token file " + file;
        return {description, [&session, file, description] {
                    return checked_assertion(session, read_text_file(file, "federated token file"), description);
                }};
    }
    std::string variable = auth.federatedTokenVariable.empty() ? "AZURE_FEDERATED_TOKEN" : auth.federatedTokenVariable;
    if (!env(variable.c_str()).empty() || !auth.federatedTokenVariable.empty()) {
        std::string description = "the variable " + variable;
        return {description, [&session, variable, description] {
                    return checked_assertion(session, env(variable.c_str()), description);
                }};
    }
    std::string github = env("ACTIONS_ID_TOKEN_REQUEST_URL");
    std::string githubToken = env("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    if (!github.empty() && !githubToken.empty()) {
        return requested_assertion(session, "GET",
                                   with_query(github, "audience=" + percent_encode(kFederationAudience)), githubToken,
                                   "value", "GitHub Actions' OIDC token service");
    }
    if (!github.empty())
        throw CollectError("ACTIONS_ID_TOKEN_REQUEST_URL is set but ACTIONS_ID_TOKEN_REQUEST_TOKEN is not: give the "
                           "job `permissions: id-token: write`");
    std::string ado = env("SYSTEM_OIDCREQUESTURI");
    if (!ado.empty()) {
        std::string connection = first_set({auth.serviceConnectionId, env("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID")});
        std::string adoToken = env("SYSTEM_ACCESSTOKEN");
        if (connection.empty())
            throw CollectError("SYSTEM_OIDCREQUESTURI is set but no service connection id (AZURESUBSCRIPTION_SERVICE_CONNECTION_ID "
                               "or --service-connection-id)");
        if (adoToken.empty())
            throw CollectError("SYSTEM_OIDCREQUESTURI is set but SYSTEM_ACCESSTOKEN is not: map it into the step's env "
                               "(SYSTEM_ACCESSTOKEN: $(System.AccessToken))");
        return requested_assertion(session, "POST",
                                   with_query(ado, "api-version=7.1&serviceConnectionId=" + percent_encode(connection)),
                                   adoToken, "oidcToken", "Azure DevOps' OIDC token service");
    }
    throw Unavailable("no federated token: none of AZURE_FEDERATED_TOKEN_FILE, AZURE_FEDERATED_TOKEN, "
                      "ACTIONS_ID_TOKEN_REQUEST_URL (GitHub Actions) or SYSTEM_OIDCREQUESTURI (Azure DevOps) is set");
}

std::unique_ptr<Credential> workload_identity(Session& session, const CollectOptions& options) {
    AssertionSource source = assertion_source(session, options);
    auto credential = std::make_unique<ClientCredentials>(
        session, options, first_set({options.tenant, env("AZURE_TENANT_ID"), env("AZURESUBSCRIPTION_TENANT_ID")}),
        first_set({options.clientId, env("AZURE_CLIENT_ID"), env("AZURESUBSCRIPTION_CLIENT_ID")}), "workloadIdentity",
        "workload identity federation (" + source.description + ")");
    credential->use_assertion(source.fetch);
    return credential;
}

// ---- environment (azure-identity's EnvironmentCredential) --------------------------------

std::unique_ptr<Credential> environment(Session& session, const CollectOptions& options) {
    std::string tenant = env("AZURE_TENANT_ID"), client = env("AZURE_CLIENT_ID");
    std::string secret = env("AZURE_CLIENT_SECRET"), certificate = env("AZURE_CLIENT_CERTIFICATE_PATH");
    if (secret.empty() && certificate.empty())
        throw Unavailable("neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is set");
    if (tenant.empty() || client.empty())
        throw Unavailable(std::string(tenant.empty() ? "AZURE_TENANT_ID" : "AZURE_CLIENT_ID") + " is not set");
    if (!options.tenant.empty() && options.tenant != tenant)
        throw CollectError("AZURE_TENANT_ID (" + tenant + ") is not the tenant given with --tenant (" + options.tenant + ")");
    auto credential = std::make_unique<ClientCredentials>(
        session, options, tenant, client, "environment",
        std::string("the environment (") + (secret.empty() ? "AZURE_CLIENT_CERTIFICATE_PATH" : "AZURE_CLIENT_SECRET") + ")");
    if (!secret.empty())
        credential->use_secret(secret);
    else
        credential->use_certificate(certificate, "", env("AZURE_CLIENT_CERTIFICATE_PASSWORD"));
    return credential;
}

// ---- device code (delegated) --------------------------------------------------------------

class DeviceCode : public Credential {
public:
    DeviceCode(Session& session, const CollectOptions& options) : session_(session), options_(options) {
        tenant_ = configured_tenant(options);
        clientId_ = first_set({options.clientId, env("AZURE_CLIENT_ID")});
        if (tenant_.empty()) throw CollectError("device code sign-in needs --tenant (or AZURE_TENANT_ID)");
        if (clientId_.empty())
            throw CollectError("device code sign-in needs --client-id: the application id of your public-client app "
                               "registration (docs/collect.md)");
        if (!options.auth.prompt) throw CollectError("device code sign-in needs somewhere to show the code");
    }

    IssuedToken get(const std::string& resource) override {
        std::lock_guard<std::mutex> lock(mutex_);
        return refreshToken_.empty() ? sign_in(resource) : refresh(resource);
    }
    std::string method() const override { return "deviceCode"; }
    std::string description() const override { return "device code sign-in"; }

private:
    // Delegated scopes, one resource per request (Entra issues a token for one resource at a time).
    std::string scopes(const std::string& resource) const {
        std::string base = trim_trailing_slashes(resource);
        if (base == trim_trailing_slashes(options_.endpoints.exchange)) return base + "/Exchange.Manage offline_access";
        std::string text;
        for (const char* scope : {"Policy.Read.All", "User.Read.All", "GroupMember.Read.All", "RoleManagement.Read.Directory",
                                  "Organization.Read.All", "AuditLog.Read.All"})
            text += base + "/" + scope + " ";
        return text + "offline_access";
    }

    IssuedToken sign_in(const std::string& resource) {
        JsonResponse start = post_form(session_, login_url(options_, tenant_, "devicecode"),
                                       {{"client_id", clientId_}, {"scope", scopes(resource)}});
        if (start.http.status != 200) {
            RequestFailure failure = session_.failure_of(start);
            throw CollectError(std::string("the device code request was refused: ") + failure.what());
        }
        const auto& body = start.json;
        auto text = [&](const char* name) {
            return body.is_object() && body.contains(name) && body[name].is_string() ? body[name].get<std::string>() : "";
        };
        std::string deviceCode = text("device_code"), userCode = text("user_code"), uri = text("verification_uri");
        long long expiresIn = 0, interval = 5;
        if (deviceCode.empty() || userCode.empty() || uri.empty() || !body.contains("expires_in") ||
            !whole_seconds(body["expires_in"], expiresIn) || expiresIn <= 0 ||
            (body.contains("interval") && (!whole_seconds(body["interval"], interval) || interval < 0)))
            throw CollectError("the device code endpoint answered without device_code, user_code, verification_uri "
                               "and expires_in");
        session_.redactor().add(deviceCode);
        std::string message = text("message");
        options_.auth.prompt(message.empty() ? "To sign in, open " + uri + " in a browser and enter the code " + userCode
                                             : message);
        auto expiresAt = std::chrono::steady_clock::now() + std::chrono::seconds(expiresIn);
        const std::string tokenUrl = login_url(options_, tenant_, "token");
        for (;;) {
            auto wake = std::chrono::steady_clock::now() + std::chrono::seconds(interval);
            if (wake >= expiresAt)
                throw CollectError("the device code expired before the sign-in was completed (it is valid for " +
                                   std::to_string(expiresIn) + " s); run again and enter the code sooner");
            if (session_.deadline_passed()) throw CollectError("the overall deadline passed while waiting for the sign-in");
            std::this_thread::sleep_until(wake);
            JsonResponse poll = post_form(session_, tokenUrl,
                                          {{"grant_type", kDeviceCodeGrant}, {"client_id", clientId_}, {"device_code", deviceCode}});
            if (poll.http.status == 200) {
                IssuedToken issued = read_token(session_, poll, "the token endpoint", &refreshToken_);
                return issued;
            }
            std::string error = poll.json.is_object() && poll.json.contains("error") && poll.json["error"].is_string()
                                    ? poll.json["error"].get<std::string>()
                                    : "";
            if (error == "authorization_pending") continue;
            if (error == "slow_down") {  // RFC 8628 §3.5: five seconds more for this and every later poll
                interval += 5;
                continue;
            }
            if (error == "authorization_declined" || error == "access_denied")
                throw CollectError("the sign-in was declined (the user chose not to sign in, or was refused); nothing "
                                   "was collected");
            if (error == "expired_token")
                throw CollectError("the device code expired before the sign-in was completed; run again and enter the code "
                                   "within 15 minutes");
            if (error == "bad_verification_code")
                throw CollectError("the token endpoint did not recognise the device code (bad_verification_code)");
            RequestFailure failure = session_.failure_of(poll);
            throw CollectError(std::string("device code sign-in failed: ") + failure.what());
        }
    }

    // One sign-in for both services: the refresh token from the first buys the second's token.
    IssuedToken refresh(const std::string& resource) {
        JsonResponse response = post_form(session_, login_url(options_, tenant_, "token"),
                                          {{"grant_type", "refresh_token"},
                                           {"client_id", clientId_},
                                           {"refresh_token", refreshToken_},
                                           {"scope", scopes(resource)}});
        if (response.http.status != 200) {
            RequestFailure failure = session_.failure_of(response);
            throw RequestFailure(failure.status(), failure.code(),
                                 "token request for " + resource + " (refresh token of the device code sign-in) refused: " +
                                     failure.what());
        }
        return read_token(session_, response, "the token endpoint", &refreshToken_);
    }

    Session& session_;
    const CollectOptions& options_;
    std::string tenant_, clientId_, refreshToken_;
    std::mutex mutex_;
};

// ---- managed identity ----------------------------------------------------------------------

bool plain_http_allowed(const std::string& url) {
    auto parsed = parse_url(url);
    if (!parsed) return false;
    return parsed->scheme == "https" || is_loopback_host(parsed->host) || parsed->host.rfind("169.254.", 0) == 0;
}

class ManagedIdentity : public Credential {
public:
    ManagedIdentity(Session& session, const CollectOptions& options, bool autoChain)
        : session_(session), clientId_(options.auth.managedIdentityClientId) {
        std::string endpoint = env("IDENTITY_ENDPOINT"), header = env("IDENTITY_HEADER");
        if (!endpoint.empty() && !header.empty()) {
            appService_ = true;
            endpoint_ = endpoint;
            header_ = header;
            session_.redactor().add(header_);
            where_ = "App Service / Container Apps / Functions (IDENTITY_ENDPOINT)";
        } else {
            std::string host = env("AZURE_POD_IDENTITY_AUTHORITY_HOST");
            // The metadata service answers on every Azure VM, but nothing in the environment says a
            // machine is one: the auto chain asks it only when told to (its address, or an identity).
            if (autoChain && host.empty() && clientId_.empty())
                throw Unavailable("no IDENTITY_ENDPOINT and IDENTITY_HEADER (App Service, Container Apps, Functions); on "
                                  "a VM give --auth managed-identity");
            endpoint_ = trim_trailing_slashes(host.empty() ? kImdsDefault : host) + "/metadata/identity/oauth2/token";
            where_ = "the instance metadata service";
        }
        if (!plain_http_allowed(endpoint_))
            throw CollectError("the managed identity endpoint " + endpoint_ +
                               " is neither https nor a local address; refusing to send a request there");
    }

    IssuedToken get(const std::string& resource) override {
        std::string query = "resource=" + percent_encode(trim_trailing_slashes(resource)) +
                            (appService_ ? "&api-version=2019-08-01" : "&api-version=2018-02-01");
        if (!clientId_.empty()) query += "&client_id=" + percent_encode(clientId_);
        std::string url = with_query(endpoint_, query);
        JsonResponse response = session_.exchange(
            [&] {
                HttpRequest request{"GET", url, {{"Accept", "application/json"}}, ""};
                if (appService_)
                    request.headers.emplace_back("X-IDENTITY-HEADER", header_);
                else
                    request.headers.emplace_back("Metadata", "true");
                return request;
            },
            kSection);
        if (response.http.status != 200) {
            RequestFailure failure = session_.failure_of(response);
            throw RequestFailure(failure.status(), failure.code(),
                                 "the managed identity endpoint (" + where_ + ") refused a token for " + resource + ": " +
                                     failure.what());
        }
        return read_token(session_, response, "the managed identity endpoint");
    }
    std::string method() const override { return "managedIdentity"; }
    std::string description() const override {
        return "the " + std::string(clientId_.empty() ? "system-assigned" : "user-assigned") + " managed identity (" + where_ + ")";
    }

private:
    Session& session_;
    std::string clientId_, endpoint_, header_, where_;
    bool appService_ = false;
};

// ---- Azure CLI -----------------------------------------------------------------------------

struct ProcessResult {
    int exitCode = -1;  // 127: could not be started
    std::string out, err;
};

ProcessResult run_process(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    int outPipe[2], errPipe[2];
    if (::pipe(outPipe) != 0) throw CollectError("cannot start " + args[0] + ": no pipe");
    if (::pipe(errPipe) != 0) {
        ::close(outPipe[0]);
        ::close(outPipe[1]);
        throw CollectError("cannot start " + args[0] + ": no pipe");
    }
    pid_t pid = ::fork();
    if (pid < 0) throw CollectError("cannot start " + args[0] + ": fork failed");
    if (pid == 0) {
        ::dup2(outPipe[1], 1);
        ::dup2(errPipe[1], 2);
        ::close(outPipe[0]);
        ::close(errPipe[0]);
        ::close(outPipe[1]);
        ::close(errPipe[1]);
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(outPipe[1]);
    ::close(errPipe[1]);
    ProcessResult result;
    pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timedOut = false;
    int open = 2;
    while (open > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timedOut = true;
            break;
        }
        int ready = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (ready < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
            char buffer[4096];
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0 && (i == 0 ? result.out : result.err).size() < (1u << 20)) {
                (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
            } else if (n <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    for (auto& fd : fds)
        if (fd.fd >= 0) ::close(fd.fd);
    if (timedOut) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (timedOut) throw CollectError(args[0] + " did not answer within " + std::to_string(timeout.count() / 1000) + " s");
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

// Anything shaped like a JWT ("eyJ" then base64url parts joined by dots) replaced: a CLI's error
// text is shown to the user, and must not carry a token whatever the CLI printed.
std::string without_jwts(std::string text) {
    auto isB64 = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; };
    for (auto at = text.find("eyJ"); at != std::string::npos; at = text.find("eyJ", at + 1)) {
        auto end = at;
        while (end < text.size() && isB64(text[end])) ++end;
        if (end - at >= 20) text.replace(at, end - at, "[redacted]");
    }
    return text;
}

class AzureCli : public Credential {
public:
    AzureCli(Session& session, const CollectOptions& options) : session_(session), options_(options) {}

    IssuedToken get(const std::string& resource) override {
        std::vector<std::string> args = {options_.auth.azCommand, "account", "get-access-token", "--resource",
                                         trim_trailing_slashes(resource), "--output", "json"};
        std::string tenant = options_.tenant;
        if (!tenant.empty()) args.insert(args.end(), {"--tenant", tenant});
        ProcessResult run = run_process(args, options_.requestTimeout);
        session_.redactor().add(trim(run.out));
        if (run.exitCode == 127 && run.out.empty())
            throw Unavailable("the Azure CLI (" + options_.auth.azCommand + ") is not installed or not on PATH");
        std::string why = trim(session_.redactor().redact(without_jwts(run.err)));
        if (why.size() > 400) why = why.substr(0, 400) + "...";
        if (run.exitCode != 0) {
            if (tenantscan::to_lower(why).find("az login") != std::string::npos)
                throw Unavailable("the Azure CLI is not signed in (run `az login`" +
                                  std::string(tenant.empty() ? "" : " --tenant " + tenant) + "): " + why);
            throw CollectError("`az account get-access-token --resource " + trim_trailing_slashes(resource) + "` failed (exit " +
                               std::to_string(run.exitCode) + ")" + (why.empty() ? "" : ": " + why));
        }
        auto body = nlohmann::json::parse(run.out, nullptr, false);
        if (!body.is_object() || !body.contains("accessToken") || !body["accessToken"].is_string() ||
            body["accessToken"].get<std::string>().empty())
            throw CollectError("`az account get-access-token` printed no accessToken (not the JSON the Azure CLI prints)");
        IssuedToken issued;
        issued.token = body["accessToken"].get<std::string>();
        session_.redactor().add(issued.token);
        long long expiresOn = 0;
        if (body.contains("expires_on") && whole_seconds(body["expires_on"], expiresOn)) {
        } else if (body.contains("expiresOn") && body["expiresOn"].is_string()) {
            // Older versions: local time, "2024-01-31 12:34:56.000000".
            std::tm when{};
            const std::string& text = body["expiresOn"].get_ref<const std::string&>();
            if (strptime(text.c_str(), "%Y-%m-%d %H:%M:%S", &when) == nullptr)
                throw CollectError("`az account get-access-token` printed an unreadable expiresOn");
            when.tm_isdst = -1;
            expiresOn = static_cast<long long>(std::mktime(&when));
        } else {
            throw CollectError("`az account get-access-token` printed no expiry (expires_on or expiresOn)");
        }
        issued.lifetimeSeconds = expiresOn - now_epoch();
        if (issued.lifetimeSeconds <= 0) throw CollectError("`az account get-access-token` printed an expired token");
        return issued;
    }
    std::string method() const override { return "azureCli"; }
    std::string description() const override { return "the Azure CLI (az login)"; }

private:
    Session& session_;
    const CollectOptions& options_;
};

// ---- the auto chain --------------------------------------------------------------------------

class Chain : public Credential {
public:
    using Factory = std::function<std::unique_ptr<Credential>()>;
    Chain(const CollectOptions& options, std::vector<std::pair<std::string, Factory>> sources)
        : options_(options), sources_(std::move(sources)) {}

    IssuedToken get(const std::string& resource) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (chosen_) return chosen_->get(resource);
        std::string tried;
        for (auto& [name, factory] : sources_) {
            try {
                auto credential = factory();
                IssuedToken issued = credential->get(resource);
                chosen_ = std::move(credential);
                if (options_.auth.notice) options_.auth.notice("signed in with " + chosen_->description());
                return issued;
            } catch (const Unavailable& e) {
                tried += "\n  " + name + ": " + e.what();
            } catch (const std::exception& e) {
                // Configured but refused: stop here rather than sign in as someone else.
                throw CollectError(name + " is configured but failed: " + e.what() +
                                   (tried.empty() ? "" : "\n(sources tried before it:" + tried + ")"));
            }
        }
        throw CollectError("no credential source worked (--auth auto tries, in order):" + tried +
                           "\n  device code: only with --auth device-code (interactive)"
                           "\nSee docs/collect.md, \"Credential sources\".");
    }
    std::string method() const override { return chosen_ ? chosen_->method() : "auto"; }
    std::string description() const override { return chosen_ ? chosen_->description() : "auto"; }

private:
    const CollectOptions& options_;
    std::vector<std::pair<std::string, Factory>> sources_;
    std::unique_ptr<Credential> chosen_;
    std::mutex mutex_;
};

std::unique_ptr<Credential> app_credentials(Session& session, const CollectOptions& options) {
    const auto& c = options.credentials;
    bool certificate = !c.certificateFile.empty();
    auto credential = std::make_unique<ClientCredentials>(session, options, options.tenant, options.clientId,
                                                          certificate ? "certificate" : "clientSecret",
                                                          certificate ? "a certificate" : "a client secret");
    if (certificate)
        credential->use_certificate(c.certificateFile, c.privateKeyFile, c.certificatePassword);
    else
        credential->use_secret(c.clientSecret);
    return credential;
}

// An explicit source: "not configured" is an error of its own, named as such.
template <typename Make>
std::unique_ptr<Credential> explicitly(const char* name, Make make) {
    try {
        return make();
    } catch (const Unavailable& e) {
        throw CollectError(std::string(name) + ": " + e.what());
    }
}

}  // namespace

std::string configured_tenant(const CollectOptions& options) {
    return options.tenant.empty() ? env("AZURE_TENANT_ID") : options.tenant;
}

nlohmann::json token_claims(const std::string& token) {
    auto first = token.find('.');
    if (first == std::string::npos) return nlohmann::json::value_t::discarded;
    auto second = token.find('.', first + 1);
    if (second == std::string::npos) return nlohmann::json::value_t::discarded;
    std::string payload;
    if (!base64url_decode(std::string_view(token).substr(first + 1, second - first - 1), payload))
        return nlohmann::json::value_t::discarded;
    auto claims = nlohmann::json::parse(payload, nullptr, false);
    return claims.is_object() ? claims : nlohmann::json(nlohmann::json::value_t::discarded);
}

std::unique_ptr<Credential> make_credential(Session& session, const CollectOptions& options) {
    const auto& c = options.credentials;
    bool appCredentials = !c.clientSecret.empty() || !c.certificateFile.empty();
    switch (options.auth.method) {
        case AuthMethod::AppCredentials:
            return app_credentials(session, options);
        case AuthMethod::DeviceCode:
            return std::make_unique<DeviceCode>(session, options);
        case AuthMethod::WorkloadIdentity:
            return explicitly("workload identity", [&] { return workload_identity(session, options); });
        case AuthMethod::ManagedIdentity:
            return explicitly("managed identity", [&] { return std::make_unique<ManagedIdentity>(session, options, false); });
        case AuthMethod::AzureCli: {
            class Explicit : public AzureCli {
            public:
                using AzureCli::AzureCli;
                IssuedToken get(const std::string& resource) override {
                    try {
                        return AzureCli::get(resource);
                    } catch (const Unavailable& e) {
                        throw CollectError(std::string("Azure CLI: ") + e.what());
                    }
                }
            };
            return std::make_unique<Explicit>(session, options);
        }
        case AuthMethod::Environment:
            return explicitly("environment", [&] { return environment(session, options); });
        case AuthMethod::Auto:
            break;
    }
    if (appCredentials) return app_credentials(session, options);
    std::vector<std::pair<std::string, Chain::Factory>> sources = {
        {"environment", [&session, &options] { return environment(session, options); }},
        {"workload identity", [&session, &options] { return workload_identity(session, options); }},
        {"managed identity",
         [&session, &options]() -> std::unique_ptr<Credential> { return std::make_unique<ManagedIdentity>(session, options, true); }},
        {"Azure CLI", [&session, &options]() -> std::unique_ptr<Credential> { return std::make_unique<AzureCli>(session, options); }},
    };
    return std::make_unique<Chain>(options, std::move(sources));
}

}  // namespace tenantscan::collect::detail
