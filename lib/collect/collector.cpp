// collect_snapshot(): plans the sections, runs each one as soon as the sections it reads are
// finished (independent lists at once; groups, per-account Exchange objects and the what-if
// cross-check when their inputs are in), and assembles the snapshot v1 document.
#include <algorithm>

#include <tenantscan/json_input.hpp>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <tenantscan/collect.hpp>
#include <tenantscan/detail/dates.hpp>
#include <tenantscan/detail/text.hpp>

#include "api_client.hpp"
#include "encoding.hpp"
#include "http_transport.hpp"
#include "sections.hpp"
#include "session.hpp"
#include "token_provider.hpp"
#include "url.hpp"

namespace tenantscan::collect {

using detail::ApiClient;
using detail::RequestFailure;

namespace {

constexpr const char* kUserProperties =
    "id,userPrincipalName,displayName,mail,userType,accountEnabled,onPremisesSyncEnabled,proxyAddresses";
constexpr const char* kGroupProperties = "id,displayName,isAssignableToRole,securityEnabled,mailEnabled,groupTypes";
constexpr const char* kExchangeOnlineAppId = "00000002-0000-0ff1-ce00-000000000000";

std::string iso_utc(std::chrono::system_clock::time_point when) {
    return format_utc(std::chrono::system_clock::to_time_t(when), "%Y-%m-%dT%H:%M:%SZ");
}

// Graph's "no such directory object" (a 404 with its error body); a 404 without it is a failure.
bool is_resource_not_found(const detail::RequestFailure& failure) {
    for (const char* code : {"Request_ResourceNotFound", "ResourceNotFound", "itemNotFound"})
        if (tenantscan::iequals(failure.code(), code)) return true;
    return false;
}

bool is_guid(const std::string& text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
}

// A string member looked up case-insensitively (Exchange objects are PascalCase, Graph camelCase).
std::string text_member(const nlohmann::json& object, const std::string& name) {
    if (!object.is_object()) return {};
    for (const auto& [key, value] : object.items()) {
        if (tenantscan::iequals(key, name) && value.is_string()) return value.get<std::string>();
    }
    return {};
}

const nlohmann::json* member(const nlohmann::json& object, const std::string& name) {
    if (!object.is_object()) return nullptr;
    for (const auto& [key, value] : object.items()) {
        if (tenantscan::iequals(key, name)) return &value;
    }
    return nullptr;
}

std::vector<std::string> strings_at(const nlohmann::json& object, const std::vector<std::string>& path) {
    const nlohmann::json* at = &object;
    for (const auto& name : path) {
        at = member(*at, name);
        if (at == nullptr) return {};
    }
    std::vector<std::string> values;
    if (at->is_array()) {
        for (const auto& v : *at)
            if (v.is_string()) values.push_back(v.get<std::string>());
    }
    return values;
}

// OData string literal: single quotes doubled.
std::string odata_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        out += c;
        if (c == '\'') out += '\'';
    }
    return out + "'";
}

void validate(const CollectOptions& options) {
    bool secret = !options.credentials.clientSecret.empty();
    bool certificate = !options.credentials.certificateFile.empty();
    bool appCredentials = options.auth.method == AuthMethod::AppCredentials ||
                          (options.auth.method == AuthMethod::Auto && (secret || certificate));
    if (secret && certificate)
        throw CollectError("give exactly one credential: a client secret (--client-secret-env VAR or "
                           "--client-secret-file FILE) or a certificate (--certificate FILE)");
    if ((secret || certificate) && !appCredentials)
        throw CollectError("a client secret or certificate was given, but --auth asks for another source");
    if (appCredentials) {
        if (options.tenant.empty()) throw CollectError("no tenant given (--tenant TENANT_ID_OR_DOMAIN)");
        if (options.clientId.empty()) throw CollectError("no application id given (--client-id APP_ID)");
        if (!secret && !certificate)
            throw CollectError("give exactly one credential: a client secret (--client-secret-env VAR or "
                               "--client-secret-file FILE) or a certificate (--certificate FILE)");
    }
    if (!options.credentials.privateKeyFile.empty() && !certificate)
        throw CollectError("--certificate-key needs --certificate");
    for (const auto* url : {&options.endpoints.login, &options.endpoints.graph, &options.endpoints.exchange}) {
        if (auto problem = detail::transport_security_problem(*url); !problem.empty()) throw CollectError(problem);
    }
    if (options.sinceDays < 1 || options.sinceDays > 365) throw CollectError("--since must be between 1 and 365 days");
    if (options.concurrency < 1 || options.concurrency > 64) throw CollectError("--concurrency must be between 1 and 64");
    if (options.maxRetries < 0) throw CollectError("--max-retries must not be negative");
    if (options.maxPages < 1) throw CollectError("the page limit must be at least 1");
    if (options.maxGroupDepth < 0) throw CollectError("--max-group-depth must not be negative");
    if (options.maxResponseBytes < 1024) throw CollectError("the response size limit must be at least 1 KiB");
    for (const auto& name : options.sections) {
        if (detail::canonical_section(name).empty()) throw CollectError("unknown section '" + name + "'");
    }
}

// The sections to collect: those asked for (all by default; the cross-check only when asked
// for), plus every section they are derived from.
std::vector<std::string> plan(const CollectOptions& options) {
    std::set<std::string> wanted;
    for (const auto& name : options.sections) wanted.insert(detail::canonical_section(name));
    if (options.sections.empty()) {
        for (const auto& spec : detail::section_specs())
            if (std::string(spec.pointer) != "/crossCheck") wanted.insert(spec.pointer);
    }
    if (options.crossCheck) wanted.insert("/crossCheck");
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& spec : detail::section_specs()) {
            if (!wanted.count(spec.pointer)) continue;
            for (const char* input : spec.derivedFrom) grew |= wanted.insert(input).second;
        }
    }
    std::vector<std::string> ordered;
    for (const auto& spec : detail::section_specs())
        if (wanted.count(spec.pointer)) ordered.emplace_back(spec.pointer);
    return ordered;
}

class Collector {
public:
    Collector(ApiClient& api, const CollectOptions& options, std::vector<std::string> planned)
        : api_(api), options_(options), planned_(std::move(planned)), now_(std::chrono::system_clock::now()) {}

    void run() {
        bool graphNeeded = std::any_of(planned_.begin(), planned_.end(), [](const std::string& p) {
            return p.rfind("/graph/", 0) == 0 || p == "/crossCheck";
        });
        bool exchangeNeeded = std::any_of(planned_.begin(), planned_.end(),
                                          [](const std::string& p) { return p.rfind("/exchange/", 0) == 0; });
        // Credentials that do not work fail the whole run at once, before anything else is asked.
        if (graphNeeded) authenticate(api_.graph());
        if (exchangeNeeded) {
            try {
                authenticate(api_.exchange());
            } catch (const CollectError& e) {
                if (!graphNeeded) throw;
                for (const auto& pointer : planned_)
                    if (pointer.rfind("/exchange/", 0) == 0) fail(pointer, e.what());
            }
        }

        // Every section starts at once and waits for the sections it reads (its derivedFrom, and
        // the optional inputs named here): the per-account Exchange cmdlets need not wait for the
        // users' pages, which are read one after the other.
        const std::vector<std::string> none;
        const std::vector<std::string> senders = {"/exchange/hveAccounts", "/graph/signIns"};
        run_sections({
            {"/graph/conditionalAccessPolicies", none, [this] { return graph_list("/identity/conditionalAccess/policies"); }},
            {"/graph/namedLocations", none, [this] { return graph_list("/identity/conditionalAccess/namedLocations"); }},
            {"/graph/securityDefaults", none, [this] { return graph_object("/policies/identitySecurityDefaultsEnforcementPolicy"); }},
            {"/graph/users", none, [this] { return graph_list(std::string("/users?$select=") + kUserProperties + "&$top=999"); }},
            {"/graph/roleAssignments", none, [this] { return graph_list("/roleManagement/directory/roleAssignments"); }},
            {"/graph/subscribedSkus", none, [this] { return graph_list("/subscribedSkus"); }},
            {"/graph/signIns", none, [this] { return graph_list(sign_ins_path()); }},
            {"/exchange/organizationConfig", none, [this] { return single(cmdlet_list("Get-OrganizationConfig", {}, "/exchange/organizationConfig"), "Get-OrganizationConfig"); }},
            {"/exchange/transportConfig", none, [this] { return single(cmdlet_list("Get-TransportConfig", {}, "/exchange/transportConfig"), "Get-TransportConfig"); }},
            {"/exchange/authenticationPolicies", none, [this] { return cmdlet_list("Get-AuthenticationPolicy", {}, "/exchange/authenticationPolicies"); }},
            {"/exchange/hveAccounts", none, [this] { return cmdlet_list("Get-MailUser", {{"HVEAccount", true}, {"ResultSize", "Unlimited"}}, "/exchange/hveAccounts"); }},
            {"/exchange/hveBillingPolicies", none, [this] { return cmdlet_list("Get-HVEAccountBillingPolicy", {}, "/exchange/hveBillingPolicies"); }},
            {"/exchange/acceptedDomains", none, [this] { return cmdlet_list("Get-AcceptedDomain", {}, "/exchange/acceptedDomains"); }},
            {"/exchange/inboundConnectors", none, [this] { return cmdlet_list("Get-InboundConnector", {}, "/exchange/inboundConnectors"); }},
            {"/graph/groups", {"/graph/conditionalAccessPolicies", "/graph/roleAssignments"}, [this] { return groups(); }},
            {"/exchange/users", senders, [this] { return per_account("Get-User", "/exchange/users", false); }},
            {"/exchange/recipients", senders, [this] { return per_account("Get-Recipient", "/exchange/recipients", false); }},
            {"/exchange/casMailboxes", senders, [this] { return per_account("Get-CASMailbox", "/exchange/casMailboxes", true); }},
            {"/crossCheck", {"/exchange/hveAccounts"}, [this] { return cross_check(); }},
        });
    }

    nlohmann::json snapshot(const std::string& version) const {
        nlohmann::json document = nlohmann::json::object();
        document["snapshotVersion"] = 1;
        document["tenantId"] = api_.tokens().tenant_id();
        document["collectedAt"] = iso_utc(now_);
        for (const auto& [pointer, value] : collected_) document[nlohmann::json::json_pointer(pointer)] = value;

        nlohmann::json notCollected = nlohmann::json::object();
        for (const auto& spec : detail::section_specs()) {
            if (std::find(planned_.begin(), planned_.end(), spec.pointer) == planned_.end() &&
                std::string(spec.pointer) != "/crossCheck")
                notCollected[spec.pointer] = "not requested (--sections)";
        }
        for (const auto& [pointer, reason] : failed_) notCollected[pointer] = reason;
        document["notCollected"] = notCollected;
        nlohmann::json partial = nlohmann::json::object();
        for (const auto& [pointer, scope] : partial_)
            if (collected_.count(pointer)) partial[pointer] = scope;
        document["partial"] = partial;

        CollectStats stats = api_.session().stats();
        document["collection"] = {
            {"tool", {{"name", "tenantscan"}, {"version", version}}},
            {"requested",
             {{"sections", planned_},
              {"sinceDays", options_.sinceDays},
              {"signInsSince", sign_ins_since()},
              {"hveGroups", options_.hveGroupNames},
              {"crossCheck", options_.crossCheck}}},
            {"endpoints",
             {{"login", options_.endpoints.login}, {"graph", options_.endpoints.graph}, {"exchange", options_.endpoints.exchange}}},
            {"clientId", client_id()},
            {"authentication", api_.tokens().method()},
            {"statistics",
             {{"requests", stats.requests},
              {"batchedRequests", stats.batchedRequests},
              {"retries", stats.retries},
              {"throttled", stats.throttled},
              {"seconds", static_cast<double>(stats.elapsed.count()) / 1000.0}}},
            {"warnings", warnings_},
        };
        return document;
    }

    const std::map<std::string, std::string>& failed() const { return failed_; }
    // The application id as given, else the one in the tokens ("appid" or "azp" claim).
    std::string client_id() const {
        if (!options_.clientId.empty()) return options_.clientId;
        for (const char* name : {"appid", "azp"})
            if (auto id = api_.tokens().cached_claim(name); !id.empty()) return id;
        return "";
    }
    std::map<std::string, std::string> partial() const {
        std::map<std::string, std::string> out;
        for (const auto& [pointer, scope] : partial_)
            if (collected_.count(pointer)) out[pointer] = scope;
        return out;
    }
    const std::vector<std::string>& warnings() const { return warnings_; }
    bool anything_collected() const { return !collected_.empty(); }

private:
    using SectionBody = std::function<nlohmann::json()>;

    void authenticate(const detail::Service& service) {
        try {
            api_.tokens().token(service.base);
        } catch (const RequestFailure& failure) {
            throw CollectError(std::string("cannot sign in to ") + service.name + ": " + failure.what());
        }
    }

    bool planned(const std::string& pointer) const {
        return std::find(planned_.begin(), planned_.end(), pointer) != planned_.end();
    }

    struct SectionTask {
        std::string pointer;
        std::vector<std::string> reads;  // sections to wait for (those planned); derivedFrom must be among them
        SectionBody body;
    };

    // Runs the planned sections concurrently, each once the planned sections it reads are
    // finished (the session bounds the requests in flight).
    void run_sections(const std::vector<SectionTask>& tasks) {
        std::vector<std::thread> threads;
        for (const auto& task : tasks) {
            if (!planned(task.pointer) || finished(task.pointer)) continue;
            threads.emplace_back([this, &task] {
                wait_for(task.reads);
                run_section(task.pointer, task.body);
            });
        }
        for (auto& thread : threads) thread.join();
    }

    bool finished(const std::string& pointer) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return collected_.count(pointer) != 0 || failed_.count(pointer) != 0;
    }
    void wait_for(const std::vector<std::string>& pointers) {
        std::unique_lock<std::mutex> lock(mutex_);
        sectionFinished_.wait(lock, [&] {
            return std::all_of(pointers.begin(), pointers.end(), [&](const std::string& p) {
                return !planned(p) || collected_.count(p) != 0 || failed_.count(p) != 0;
            });
        });
    }

    void run_section(const std::string& pointer, const SectionBody& body) {
        const auto* spec = detail::find_section(pointer);
        for (const char* input : spec->derivedFrom) {
            if (!has(input)) {
                fail(pointer, std::string("derived from ") + input + ", which was not collected");
                return;
            }
        }
        api_.session().report({ProgressEvent::Kind::SectionStarted, pointer, "", 0, std::chrono::milliseconds(0)});
        try {
            nlohmann::json value = body();
            std::size_t objects = value.is_array() ? value.size() : 1;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                collected_[pointer] = std::move(value);
            }
            sectionFinished_.notify_all();
            api_.session().report({ProgressEvent::Kind::SectionDone, pointer, "", objects, std::chrono::milliseconds(0)});
        } catch (const RequestFailure& failure) {
            // A user's token (device code, the Azure CLI as a user) carries "scp": name the
            // delegated permission and the user's role rather than the application permission.
            fail(pointer, detail::failure_reason(failure, *spec, !api_.tokens().cached_claim("scp").empty()));
        } catch (const CollectError& error) {
            fail(pointer, error.what());
        } catch (const std::exception& error) {
            // A JSON shape the collector did not expect (nlohmann type errors and the like).
            fail(pointer, std::string("unexpected answer from the service: ") + error.what());
        }
    }

    void fail(const std::string& pointer, const std::string& reason) {
        std::string redacted = api_.session().redactor().redact(reason);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            failed_[pointer] = redacted;
        }
        sectionFinished_.notify_all();
        api_.session().report({ProgressEvent::Kind::SectionFailed, pointer, redacted, 0, std::chrono::milliseconds(0)});
    }

    void warn(const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex_);
        warnings_.push_back(api_.session().redactor().redact(text));
    }

    bool has(const std::string& pointer) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return collected_.count(pointer) != 0;
    }
    nlohmann::json get(const std::string& pointer) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = collected_.find(pointer);
        return it == collected_.end() ? nlohmann::json() : it->second;
    }

    std::string sign_ins_since() const { return iso_utc(now_ - std::chrono::hours(24) * options_.sinceDays); }
    std::string sign_ins_path() const {
        return "/auditLogs/signIns?$filter=" +
               detail::percent_encode("clientAppUsed eq 'Authenticated SMTP' and createdDateTime ge " + sign_ins_since()) +
               "&$top=1000";
    }

    nlohmann::json graph_list(const std::string& path) {
        return api_.list(api_.graph(), api_.graph().base + "/v1.0" + path, current_section(path));
    }
    nlohmann::json graph_object(const std::string& path) {
        nlohmann::json object = api_.call(api_.graph(), "GET", api_.graph().base + "/v1.0" + path, nullptr, current_section(path));
        if (!object.is_object()) throw CollectError("expected a JSON object from GET " + api_.graph().base + "/v1.0" + path);
        object.erase("@odata.context");
        return object;
    }
    // The progress label of a request: the section it serves (looked up by its path's start).
    std::string current_section(const std::string& path) const {
        static const std::vector<std::pair<std::string, std::string>> prefixes = {
            {"/identity/conditionalAccess/policies", "/graph/conditionalAccessPolicies"},
            {"/identity/conditionalAccess/namedLocations", "/graph/namedLocations"},
            {"/policies/identitySecurityDefaultsEnforcementPolicy", "/graph/securityDefaults"},
            {"/users", "/graph/users"},
            {"/roleManagement", "/graph/roleAssignments"},
            {"/subscribedSkus", "/graph/subscribedSkus"},
            {"/auditLogs/signIns", "/graph/signIns"},
        };
        for (const auto& [prefix, section] : prefixes)
            if (path.rfind(prefix, 0) == 0) return section;
        return path;
    }

    nlohmann::json cmdlet_list(const std::string& name, const nlohmann::json& parameters, const std::string& section) {
        return *api_.cmdlet(name, parameters.is_null() ? nlohmann::json::object() : parameters, section);
    }
    static nlohmann::json single(const nlohmann::json& objects, const std::string& cmdlet) {
        if (!objects.is_array() || objects.empty()) throw CollectError(cmdlet + " returned no object");
        if (objects.size() != 1 || !objects.front().is_object())
            throw CollectError(cmdlet + " returned " + std::to_string(objects.size()) + " objects where one was expected");
        return objects.front();
    }

    // ---- /graph/groups -------------------------------------------------------------------
    // The groups policies (and the HVE exemption group parameter) name, with their direct
    // members; member groups are collected the same way, level by level, so nesting resolves.
    nlohmann::json groups() {
        const std::string section = "/graph/groups";
        nlohmann::json policies = get("/graph/conditionalAccessPolicies");
        std::map<std::string, std::string> referencedBy;  // group id → a policy naming it
        std::set<std::string> roles;
        for (const auto& policy : policies) {
            std::string name = text_member(policy, "displayName");
            for (const char* list : {"includeGroups", "excludeGroups"}) {
                for (const auto& id : strings_at(policy, {"conditions", "users", list})) {
                    if (is_guid(id))
                        referencedBy.emplace(tenantscan::to_lower(id), name);
                    else
                        warn("policy '" + name + "' names group '" + id + "', which is not an object id; not collected");
                }
            }
            for (const char* list : {"includeRoles", "excludeRoles"})
                for (const auto& id : strings_at(policy, {"conditions", "users", list})) roles.insert(tenantscan::to_lower(id));
        }

        // Groups holding a role that a policy targets count for their members (role-assignable
        // groups). A principal may as well be a user or a service principal: reading it as a group
        // answers 404 and it is skipped (the users' pages are not waited for to tell them apart).
        std::set<std::string> rolePrincipals;
        for (const auto& assignment : get("/graph/roleAssignments")) {
            std::string principal = tenantscan::to_lower(text_member(assignment, "principalId"));
            if (roles.count(tenantscan::to_lower(text_member(assignment, "roleDefinitionId"))) &&
                text_member(assignment, "directoryScopeId") == "/" && is_guid(principal) &&
                !referencedBy.count(principal))
                rolePrincipals.insert(principal);
        }

        std::map<std::string, nlohmann::json> found;  // id → group with "members"
        std::vector<std::string> level;                // ids whose object is still to be read
        for (const auto& [id, policy] : referencedBy) level.push_back(id);
        for (const auto& id : rolePrincipals) level.push_back(id);

        std::vector<std::string> membersOnly;  // groups found by name: object known, members to read
        for (const auto& name : options_.hveGroupNames) {
            std::string path = "/groups?$filter=" + detail::percent_encode("displayName eq " + odata_quote(name)) +
                               "&$select=" + kGroupProperties;
            for (auto& group : api_.list(api_.graph(), api_.graph().base + "/v1.0" + path, section)) {
                std::string id = tenantscan::to_lower(text_member(group, "id"));
                if (id.empty() || found.count(id)) continue;
                found[id] = std::move(group);
                membersOnly.push_back(id);
                level.erase(std::remove(level.begin(), level.end(), id), level.end());
            }
        }

        for (int depth = 0; !level.empty() || !membersOnly.empty(); ++depth) {
            if (depth > options_.maxGroupDepth)
                throw CollectError("groups nest deeper than " + std::to_string(options_.maxGroupDepth) +
                                   " levels (raise --max-group-depth); e.g. group " +
                                   (level.empty() ? membersOnly.front() : level.front()) + " is not expanded");
            std::vector<std::string> requests;
            std::vector<std::pair<std::string, bool>> meaning;  // group id, true = members page
            for (const auto& id : level) {
                requests.push_back("/groups/" + id + "?$select=" + kGroupProperties);
                meaning.emplace_back(id, false);
            }
            for (const auto& id : level) {
                requests.push_back("/groups/" + id + "/members?$select=id&$top=999");
                meaning.emplace_back(id, true);
            }
            for (const auto& id : membersOnly) {
                requests.push_back("/groups/" + id + "/members?$select=id&$top=999");
                meaning.emplace_back(id, true);
            }
            std::vector<detail::BatchResult> results = api_.batch_get(requests, section);

            std::map<std::string, nlohmann::json> members;
            std::set<std::string> missing;  // ids Graph says are no group (404 with its error body)
            for (std::size_t i = 0; i < results.size(); ++i) {
                const auto& [id, isMembers] = meaning[i];
                auto& result = results[i];
                if (result.status < 200 || result.status >= 300) {
                    detail::JsonResponse response;
                    response.http.status = result.status;
                    response.json = result.body;
                    detail::RequestFailure failure = api_.session().failure_of(response);
                    if (result.status == 404 && is_resource_not_found(failure)) {
                        missing.insert(id);
                        continue;
                    }
                    throw detail::RequestFailure(failure.status(), failure.code(),
                                                 std::string(isMembers ? "the members of group " : "group ") + id +
                                                     ": " + failure.what());
                }
                if (result.body.is_null() || !result.body.is_object())
                    throw detail::RequestFailure(result.status, "InvalidResponse",
                                                 std::string(isMembers ? "the members of group " : "group ") + id +
                                                     ": a $batch response without a JSON object body");
                if (isMembers)
                    members[id] = result.body;
                else
                    found[id] = result.body;
            }
            // A group that is not there is fine only where it may legitimately be missing: a policy
            // may still name a deleted group, and a role holder may be a user or a service principal.
            // A member group of a group read, or a members page of a group that exists, that cannot
            // be read would leave its members out: the section fails rather than read short.
            for (const auto& id : missing) {
                bool object = found.count(id) != 0;
                if (object)
                    throw detail::RequestFailure(404, "MembersNotFound",
                                                 "the members of group " + id +
                                                     " answered 404 although the group exists (replication lag?); "
                                                     "its members are unknown");
                if (members.count(id))
                    throw detail::RequestFailure(404, "GroupNotFound",
                                                 "group " + id + " answered 404 although its members were read");
                if (referencedBy.count(id)) {
                    warn("group " + id + " named by policy '" + referencedBy[id] + "' does not exist");
                    continue;
                }
                if (rolePrincipals.count(id)) continue;  // a user or service principal holding the role
                throw detail::RequestFailure(404, "GroupNotFound",
                                             "group " + id + ", a member of a group read, answered 404; its members are unknown");
            }

            std::vector<std::string> next;
            for (auto& [id, page] : members) {
                if (!found.count(id)) continue;  // the group itself was not found
                nlohmann::json list = nlohmann::json::array();
                std::vector<nlohmann::json> all = page.value("value", nlohmann::json::array()).get<std::vector<nlohmann::json>>();
                if (page.contains("@odata.nextLink") && page["@odata.nextLink"].is_string()) {
                    auto rest = api_.list(api_.graph(), page["@odata.nextLink"].get<std::string>(), section);
                    all.insert(all.end(), rest.begin(), rest.end());
                }
                for (const auto& object : all) {
                    std::string type = text_member(object, "@odata.type");
                    std::string memberId = tenantscan::to_lower(text_member(object, "id"));
                    if (type != "#microsoft.graph.user" && type != "#microsoft.graph.group") continue;
                    list.push_back({{"@odata.type", type}, {"id", memberId}});
                    if (type == "#microsoft.graph.group" && !found.count(memberId) &&
                        std::find(next.begin(), next.end(), memberId) == next.end())
                        next.push_back(memberId);
                }
                found[id]["members"] = std::move(list);
            }
            level = std::move(next);
            membersOnly.clear();
        }

        nlohmann::json out = nlohmann::json::array();
        for (auto& [id, group] : found) {
            if (!group.contains("members")) group["members"] = nlohmann::json::array();
            group.erase("@odata.context");
            out.push_back(std::move(group));
        }
        return out;
    }

    // ---- per-account Exchange objects ----------------------------------------------------
    struct Account {
        std::string identity;  // what the cmdlets get as -Identity
        bool isHve = false;
    };

    // HVE accounts, then the accounts seen sending with SMTP AUTH (from the sign-ins, when collected).
    std::vector<Account> accounts() {
        std::map<std::string, Account> byKey;
        std::set<std::string> hveKeys;
        for (const auto& hve : get("/exchange/hveAccounts")) {
            std::string identity = text_member(hve, "PrimarySmtpAddress");
            for (const char* fallback : {"UserPrincipalName", "ExternalDirectoryObjectId", "Identity"})
                if (identity.empty()) identity = text_member(hve, fallback);
            if (identity.empty()) continue;
            byKey[tenantscan::to_lower(identity)] = Account{identity, true};
            for (const char* key : {"PrimarySmtpAddress", "UserPrincipalName", "ExternalDirectoryObjectId"})
                if (auto value = text_member(hve, key); !value.empty()) hveKeys.insert(tenantscan::to_lower(value));
        }
        std::lock_guard<std::mutex> lock(accountsMutex_);
        if (!signInsNoted_ && !has("/graph/signIns")) {
            signInsNoted_ = true;
            warn("/graph/signIns was not collected: /exchange/users and /exchange/recipients cover the HVE accounts "
                 "only (marked partial), and /exchange/casMailboxes, which covers the accounts sending with SMTP AUTH, "
                 "is not collected");
        }
        for (const auto& signIn : get("/graph/signIns")) {
            std::string upn = text_member(signIn, "userPrincipalName");
            if (upn.empty() || hveKeys.count(tenantscan::to_lower(upn)) || hveKeys.count(tenantscan::to_lower(text_member(signIn, "userId")))) continue;
            byKey.emplace(tenantscan::to_lower(upn), Account{upn, false});
        }
        std::vector<Account> list;
        for (auto& [key, account] : byKey) list.push_back(account);
        return list;
    }

    // Get-User / Get-Recipient for every account; Get-CASMailbox only for senders (HVE accounts
    // have no mailbox, and the SMTP AUTH switch does not apply to them).
    nlohmann::json per_account(const std::string& cmdlet, const std::string& section, bool sendersOnly) {
        // Without the sign-ins, the accounts seen sending are unknown: a senders-only section
        // would be empty for no reason, and the others hold the HVE accounts only, which the
        // snapshot says ("partial") so that no rule reads an absent account as "has no object".
        if (!has("/graph/signIns")) {
            std::string why = "/graph/signIns " + (planned("/graph/signIns") ? std::string("was not collected")
                                                                             : std::string("was not requested (--sections)"));
            if (sendersOnly) throw CollectError("derived from /graph/signIns (the accounts seen sending), which " +
                                                why.substr(std::string("/graph/signIns ").size()));
            std::lock_guard<std::mutex> lock(mutex_);
            partial_[section] = "only the HVE accounts: " + why;
        }
        std::vector<Account> all = accounts();
        std::vector<Account> selected;
        for (const auto& account : all)
            if (!(sendersOnly && account.isHve)) selected.push_back(account);
        std::vector<std::optional<std::vector<nlohmann::json>>> results(selected.size());
        detail::parallel_for(selected.size(), options_.concurrency, [&](std::size_t i) {
            results[i] = api_.cmdlet(cmdlet, {{"Identity", selected[i].identity}}, section, true);
        });
        nlohmann::json out = nlohmann::json::array();
        for (std::size_t i = 0; i < selected.size(); ++i) {
            if (!results[i]) {
                warn(cmdlet + " found no object for '" + selected[i].identity + "'");
                continue;
            }
            for (auto& object : *results[i]) out.push_back(std::move(object));
        }
        return out;
    }

    // ---- /crossCheck ---------------------------------------------------------------------
    // Microsoft's own what-if for the sign-in the engine simulates for each HVE account: Basic
    // SMTP AUTH (client app "other") to Exchange Online, no device, location unknown.
    nlohmann::json cross_check() {
        struct Subject {
            std::string userId, account;
        };
        std::vector<Subject> subjects;
        for (const auto& hve : get("/exchange/hveAccounts")) {
            std::string userId = text_member(hve, "ExternalDirectoryObjectId");
            std::string account = text_member(hve, "PrimarySmtpAddress");
            if (userId.empty()) {
                warn("HVE account '" + account + "' has no ExternalDirectoryObjectId; not cross-checked");
                continue;
            }
            subjects.push_back({userId, account});
        }
        std::sort(subjects.begin(), subjects.end(), [](const Subject& a, const Subject& b) { return a.account < b.account; });
        std::vector<nlohmann::json> answers(subjects.size());
        detail::parallel_for(subjects.size(), options_.concurrency, [&](std::size_t i) {
            nlohmann::json request = {
                {"signInIdentity", {{"@odata.type", "#microsoft.graph.userSignIn"}, {"userId", subjects[i].userId}}},
                {"signInContext",
                 {{"@odata.type", "#microsoft.graph.applicationContext"},
                  {"includeApplications", nlohmann::json::array({kExchangeOnlineAppId})}}},
                {"signInConditions", {{"clientAppType", "other"}, {"signInRiskLevel", "none"}, {"userRiskLevel", "none"}}},
                {"appliedPoliciesOnly", false},
            };
            auto result = api_.call(api_.graph(), "POST", api_.graph().base + "/v1.0/identity/conditionalAccess/evaluate",
                                    request, "/crossCheck");
            nlohmann::json value = result.is_object() ? result.value("value", nlohmann::json()) : nlohmann::json();
            if (!value.is_array()) throw CollectError("the what-if API answered without a list of policies");
            answers[i] = {{"userId", subjects[i].userId}, {"account", subjects[i].account}, {"request", request}, {"value", value}};
        });
        return answers;
    }

    ApiClient& api_;
    const CollectOptions& options_;
    std::vector<std::string> planned_;
    std::chrono::system_clock::time_point now_;
    mutable std::mutex mutex_;
    std::condition_variable sectionFinished_;  // collected_ or failed_ grew
    std::map<std::string, nlohmann::json> collected_;
    std::map<std::string, std::string> failed_;
    std::map<std::string, std::string> partial_;  // collected sections that hold less than their definition: scope
    std::vector<std::string> warnings_;
    std::mutex accountsMutex_;
    bool signInsNoted_ = false;
};

}  // namespace

std::vector<std::string> collectable_sections() {
    std::vector<std::string> pointers;
    for (const auto& spec : detail::section_specs()) pointers.emplace_back(spec.pointer);
    return pointers;
}

namespace {

std::unique_ptr<detail::HttpTransport> make_transport(const CollectOptions& options) {
    detail::TransportSettings settings;
    settings.timeout = options.requestTimeout;
    settings.caFile = options.caFile;
    settings.maxResponseBytes = options.maxResponseBytes;
    settings.proxy = detail::ProxySettings::from_environment();
    return detail::make_cpprest_transport(settings);
}

std::set<std::string> claim_set(const nlohmann::json& claims, const char* name, bool spaceSeparated) {
    std::set<std::string> out;
    if (!claims.is_object() || !claims.contains(name)) return out;
    const auto& value = claims[name];
    if (value.is_array()) {
        for (const auto& v : value)
            if (v.is_string()) out.insert(spaceSeparated ? v.get<std::string>() : tenantscan::to_lower(v.get<std::string>()));
    } else if (value.is_string() && spaceSeparated) {
        std::string text = value.get<std::string>();
        for (std::size_t at = 0; at < text.size();) {
            auto space = text.find(' ', at);
            std::string word = text.substr(at, space == std::string::npos ? std::string::npos : space - at);
            if (!word.empty()) out.insert(word);
            if (space == std::string::npos) break;
            at = space + 1;
        }
    }
    return out;
}

std::string joined(const std::vector<std::string>& items, const char* last) {
    std::string text;
    for (std::size_t i = 0; i < items.size(); ++i)
        text += (i == 0 ? "" : i + 1 == items.size() ? std::string(" ") + last + " " : std::string(", ")) + items[i];
    return text;
}

SectionAccess judge(const std::string& pointer, const detail::AccessRule& rule, const nlohmann::json& claims,
                    const std::string& signInFailure) {
    SectionAccess access;
    access.section = pointer;
    const char* service = rule.exchange ? "Office 365 Exchange Online" : "Microsoft Graph";
    if (!signInFailure.empty()) {
        access.status = SectionAccess::Status::Missing;
        access.detail = std::string("no ") + service + " token: " + signInFailure;
        return access;
    }
    bool delegated = claims.contains("scp");
    auto granted = delegated ? claim_set(claims, "scp", true) : claim_set(claims, "roles", true);
    std::vector<std::string> wanted;
    for (const char* permission : rule.permissions) {
        std::string name = permission;
        if (rule.exchange && (delegated ? name == "Exchange.ManageAsApp" : name == "Exchange.Manage")) continue;
        wanted.push_back(name);
    }
    std::string have;
    for (const auto& name : wanted)
        if (granted.count(name)) have = name;
    if (have.empty()) {
        access.status = SectionAccess::Status::Missing;
        access.detail = std::string("add the ") + service + (delegated ? " delegated" : " application") + " permission " +
                        joined(wanted, "or") + (delegated ? " to the app registration and consent to it"
                                                          : " to the app registration and grant admin consent");
        return access;
    }
    const auto& roles = delegated ? rule.userRoles : rule.appRoles;
    if (roles.empty()) {
        access.status = SectionAccess::Status::Collected;
        access.detail = have;
        return access;
    }
    std::vector<std::string> names(roles.begin(), roles.end());
    const char* who = delegated ? "the signed-in user" : "the app's service principal";
    if (!claims.contains("wids")) {
        access.status = SectionAccess::Status::Unverified;
        access.detail = have + " granted; the token lists no directory roles (no \"wids\" claim), so whether " + who +
                        " holds one of " + joined(names, "or") + " cannot be told";
        return access;
    }
    auto wids = claim_set(claims, "wids", false);
    for (const auto& name : names) {
        if (wids.count(tenantscan::to_lower(detail::role_template_id(name)))) {
            access.status = SectionAccess::Status::Collected;
            access.detail = have + " and the " + name + " role";
            return access;
        }
    }
    if (rule.exchange) {
        // Exchange's own role groups (View-Only Organization Management) are not in the token.
        access.status = SectionAccess::Status::Unverified;
        access.detail = have + " granted, but " + who + " holds none of the Entra roles " + joined(names, "or") +
                        "; assign Global Reader (or check that it is in an Exchange role group such as View-Only "
                        "Organization Management)";
        return access;
    }
    access.status = SectionAccess::Status::Missing;
    access.detail = have + " granted, but " + who + " needs one of the Entra roles " + joined(names, "or") +
                    "; assign Global Reader";
    return access;
}

}  // namespace

AccessReport check_access(const CollectOptions& options, const ProgressCallback& progress) {
    validate(options);
    auto transport = make_transport(options);
    detail::Session session(options, *transport, progress);
    detail::TokenProvider tokens(session, options);

    nlohmann::json claims[2];
    std::string failures[2];
    const std::string bases[2] = {detail::trim_trailing_slashes(options.endpoints.graph),
                                  detail::trim_trailing_slashes(options.endpoints.exchange)};
    for (int i = 0; i < 2; ++i) {
        try {
            claims[i] = detail::token_claims(tokens.token(bases[i]));
            if (!claims[i].is_object()) failures[i] = "the access token is not a JWT, so its permissions cannot be read";
        } catch (const RequestFailure& failure) {
            failures[i] = session.redactor().redact(failure.what());
        } catch (const CollectError& error) {
            if (i == 0) throw;  // the source itself does not work: nothing to check
            failures[i] = session.redactor().redact(error.what());
        }
    }
    if (!failures[0].empty() && !failures[1].empty())
        throw CollectError("cannot sign in to Microsoft Graph: " + failures[0] + "\ncannot sign in to Exchange Online: " + failures[1]);

    AccessReport report;
    report.source = tokens.description();
    const nlohmann::json& any = failures[0].empty() ? claims[0] : claims[1];
    report.delegated = any.is_object() && any.contains("scp");
    auto text = [&](const char* name) {
        return any.is_object() && any.contains(name) && any[name].is_string() ? any[name].get<std::string>() : std::string();
    };
    if (report.delegated) {
        std::string user = text("upn").empty() ? text("preferred_username") : text("upn");
        report.principal = "user " + (user.empty() ? text("oid") : user);
    } else {
        std::string app = text("appid").empty() ? text("azp") : text("appid");
        report.principal = "application " + app;
    }
    std::map<std::string, SectionAccess::Status> status;
    for (const auto& spec : detail::section_specs()) {
        auto rule = detail::access_rule(spec.pointer);
        int i = rule.exchange ? 1 : 0;
        report.sections.push_back(judge(spec.pointer, rule, claims[i], failures[i]));
        status[spec.pointer] = report.sections.back().status;
    }
    // A section derived from one that will not be collected is not collected either (the
    // collector never builds it from half its input).
    for (auto& section : report.sections) {
        if (section.status != SectionAccess::Status::Collected) continue;
        for (const char* input : detail::find_section(section.section)->derivedFrom) {
            if (status[input] == SectionAccess::Status::Collected) continue;
            section.status = status[input];
            section.detail += std::string("; but it is derived from ") + input + ", which " +
                              (status[input] == SectionAccess::Status::Missing ? "will not be collected" : "may not be collected");
            break;
        }
    }
    return report;
}

CollectResult collect_snapshot(const CollectOptions& options, const ProgressCallback& progress) {
    validate(options);
    auto transport = make_transport(options);

    detail::Session session(options, *transport, progress);
    detail::TokenProvider tokens(session, options);
    ApiClient api(session, tokens, {"Microsoft Graph", detail::trim_trailing_slashes(options.endpoints.graph)},
                  {"Exchange Online", detail::trim_trailing_slashes(options.endpoints.exchange)});
    Collector collector(api, options, plan(options));
    collector.run();
    if (!collector.anything_collected()) {
        std::string reasons;
        for (const auto& [pointer, reason] : collector.failed()) reasons += "\n  " + pointer + ": " + reason;
        throw CollectError("no section could be collected:" + reasons);
    }

    CollectResult result;
    result.snapshot = collector.snapshot(TENANTSCAN_VERSION);
    result.notCollected = collector.failed();
    result.partial = collector.partial();
    result.warnings = collector.warnings();
    result.stats = session.stats();
    return result;
}

}  // namespace tenantscan::collect
