// `tenantscan collect` against a fake Microsoft cloud on 127.0.0.1 (tests/fakecloud), over
// HTTPS with a test CA: the happy path (snapshots that scan like the hand-made examples), the
// least-work request pattern, both credential types, and one test per real-world fault.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>
#include <tenantscan/snapshot_loader.hpp>

#include "fakecloud/collection_invariant.hpp"
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

json fault(json f) { return json{{"faults", json::array({std::move(f)})}}; }

// `collect` from the cloud into output, then the invariant every collection keeps, whatever went wrong.
CommandResult collect_checked(const FakeCloud& cloud, const OutputPath& output, const std::vector<std::string>& extra = {}) {
    CommandResult result = cloud.collect(output.path(), extra);
    fakecloud::check_collection_invariant(cloud, output.path(), result.exitCode);
    return result;
}

// (rule, subject id, status) of every finding of `tenantscan scan --format json`.
std::set<std::tuple<std::string, std::string, std::string>> verdicts(const std::string& snapshot) {
    CommandResult scan = run_cli({"scan", snapshot, "--format", "json"});
    REQUIRE_MESSAGE((scan.exitCode == 0 || scan.exitCode == 1), scan.err);
    std::set<std::tuple<std::string, std::string, std::string>> out;
    const json report = json::parse(scan.out);  // named: a temporary's member would dangle in the loop
    for (const auto& f : report.at("findings"))
        out.emplace(f["rule"].get<std::string>(), f["subject"]["id"].get<std::string>(), f["status"].get<std::string>());
    return out;
}

// Checks that two snapshots get the same verdicts, naming the findings that differ.
void check_same_verdicts(const std::string& collected, const std::string& handMade) {
    auto a = verdicts(collected), b = verdicts(handMade);
    std::string differences;
    for (const auto& [rule, subject, status] : a)
        if (!b.count({rule, subject, status})) differences += "\n  collected only: " + rule + " " + subject + " " + status;
    for (const auto& [rule, subject, status] : b)
        if (!a.count({rule, subject, status})) differences += "\n  hand-made only: " + rule + " " + subject + " " + status;
    CHECK_MESSAGE(differences.empty(), differences);
}

json scan_json(const std::string& snapshot) {
    CommandResult scan = run_cli({"scan", snapshot, "--format", "json"});
    REQUIRE_MESSAGE((scan.exitCode == 0 || scan.exitCode == 1), scan.err);
    return json::parse(scan.out);
}

std::vector<json> api_requests(const FakeCloud& cloud) {
    std::vector<json> out;
    for (auto& entry : cloud.log())
        if (entry["kind"] == "api") out.push_back(entry);
    return out;
}

std::size_t count_requests(const FakeCloud& cloud, const std::string& pathPrefix, bool batched) {
    std::size_t n = 0;
    for (const auto& r : api_requests(cloud))
        if (r["path"].get<std::string>().rfind(pathPrefix, 0) == 0 && r["batch"].get<bool>() == batched) ++n;
    return n;
}

// The example without its device inventory (smtpClients): an inventory kept by the admin, not
// something the cloud can tell, so a collected snapshot never has it.
json without_inventory(const std::string& path) {
    json document = json::parse(read_file(path));
    document.erase("smtpClients");
    return document;
}

}  // namespace

TEST_CASE("collect: a tenant read over HTTPS scans with the same verdicts as its hand-made snapshot") {
    for (const char* name : {"fabrikam-broken", "contoso-ready", "northwind-defaults"}) {
        CAPTURE(name);
        FakeCloud::Options options;
        options.tenantFile = fakecloud::example(name);
        FakeCloud cloud(options);
        OutputPath output;
        CommandResult result = collect_checked(cloud, output);
        INFO(result.err);
        CHECK(result.exitCode == 0);
        json snapshot = output.read();
        CHECK(snapshot["snapshotVersion"] == 1);
        CHECK(snapshot["tenantId"] == cloud.tenant_id());
        CHECK(snapshot["notCollected"].empty());
        CHECK(snapshot["collection"]["tool"]["name"] == "tenantscan");
        CHECK(snapshot["collection"]["requested"]["sinceDays"] == 30);
        for (const auto& section : {"/graph/conditionalAccessPolicies", "/graph/users", "/graph/groups",
                                    "/graph/signIns", "/exchange/hveAccounts", "/exchange/users"})
            CHECK_MESSAGE(snapshot.contains(json::json_pointer(section)), section);
        TempFile handMade(without_inventory(options.tenantFile).dump());
        check_same_verdicts(output.path(), handMade.path());
    }
}

TEST_CASE("collect: reads no more than the rules need") {
    FakeCloud cloud({});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output, {"--concurrency", "3"});
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    json snapshot = output.read();
    json example = json::parse(read_file(fakecloud::example("fabrikam-broken")));

    // One token per resource, reused for the whole run.
    std::map<std::string, int> tokens;
    for (const auto& entry : cloud.log())
        if (entry["kind"] == "token") ++tokens[entry["resource"].get<std::string>()];
    CHECK(tokens == std::map<std::string, int>{{"exchange", 1}, {"graph", 1}});

    std::set<std::string> cmdlets;
    std::size_t maxInFlight = 0;
    for (const auto& r : api_requests(cloud)) {
        std::string path = r["path"];
        std::string query = r["query"];
        if (path == "/graph/v1.0/users") {
            CHECK(query.find("$select=id,userPrincipalName") != std::string::npos);
            CHECK(query.find("$top=999") != std::string::npos);
        }
        if (path == "/graph/v1.0/groups") CHECK(query.find("$filter=displayName%20eq%20%27Exchange-HVEUserAccounts%27") == 0);
        if (path == "/graph/v1.0/auditLogs/signIns") {
            CHECK(query.find("clientAppUsed%20eq%20%27Authenticated%20SMTP%27%20and%20createdDateTime%20ge%20") !=
                  std::string::npos);
        }
        if (r["cmdlet"].is_string()) cmdlets.insert(r["cmdlet"].get<std::string>());
        if (!r["batch"].get<bool>()) maxInFlight = std::max<std::size_t>(maxInFlight, r["inFlight"].get<std::size_t>());
    }
    CHECK(maxInFlight <= 3);
    CHECK(cmdlets == std::set<std::string>{"Get-AcceptedDomain", "Get-AuthenticationPolicy", "Get-CASMailbox",
                                           "Get-HVEAccountBillingPolicy", "Get-InboundConnector", "Get-MailUser",
                                           "Get-OrganizationConfig", "Get-Recipient", "Get-TransportConfig",
                                           "Get-User"});
    // Groups: read through $batch, never listed; only those a policy or the HVE group name points at.
    CHECK(count_requests(cloud, "/graph/v1.0/groups/", false) == 0);
    CHECK(count_requests(cloud, "/graph/v1.0/groups/", true) > 0);
    std::set<std::string> referenced;
    for (const auto& policy : example["graph"]["conditionalAccessPolicies"])
        for (const char* list : {"includeGroups", "excludeGroups"})
            for (const auto& id : policy["conditions"]["users"][list]) referenced.insert(id.get<std::string>());
    std::set<std::string> collectedGroups;
    for (const auto& group : snapshot["graph"]["groups"]) {
        collectedGroups.insert(group["id"].get<std::string>());
        for (const auto& m : group["members"]) {
            CHECK(m.size() == 2);
            CHECK((m["@odata.type"] == "#microsoft.graph.user" || m["@odata.type"] == "#microsoft.graph.group"));
        }
    }
    referenced.insert("e2000000-0000-4000-8000-000000000001");  // Exchange-HVEUserAccounts, found by name
    CHECK(collectedGroups == referenced);

    // Per-account cmdlets: HVE accounts and accounts seen sending, nobody else.
    std::size_t hve = example["exchange"]["hveAccounts"].size();
    CHECK(snapshot["exchange"]["users"].size() == hve);  // every sender of this tenant is an HVE account but erp-mailer
    CHECK(snapshot["exchange"]["hveAccounts"].size() == hve);
    std::set<std::string> casAddresses;
    for (const auto& m : snapshot["exchange"]["casMailboxes"]) casAddresses.insert(m["PrimarySmtpAddress"].get<std::string>());
    CHECK(casAddresses == std::set<std::string>{"erp-mailer@fabrikam.com", "nestor@fabrikam.com"});
}

TEST_CASE("collect: certificate credentials sign an RS256 client assertion the token endpoint verifies") {
    FakeCloud cloud({});
    std::string pki = fakecloud::pki_dir();
    auto run = [&](std::vector<std::string> credentials, const std::string& output) {
        std::vector<std::string> args = {"collect", "--sections", "/graph/securityDefaults,/exchange/transportConfig",
                                         "--output", output};
        auto endpoints = cloud.endpoint_args();
        args.insert(args.end(), endpoints.begin(), endpoints.end());
        args.insert(args.end(), credentials.begin(), credentials.end());
        return run_cli(args);
    };
    SUBCASE("certificate and key in two files") {
        OutputPath output;
        CommandResult result = run({"--certificate", pki + "/app.pem", "--certificate-key", pki + "/app.key"}, output.path());
        CHECK_MESSAGE(result.exitCode == 0, result.err);
        CHECK(output.read()["collection"]["authentication"] == "certificate");
        for (const auto& entry : cloud.log())
            if (entry["kind"] == "token") CHECK(entry["method"] == "certificate");
    }
    SUBCASE("certificate and key in one file") {
        OutputPath output;
        CommandResult result = run({"--certificate", pki + "/app-combined.pem"}, output.path());
        CHECK_MESSAGE(result.exitCode == 0, result.err);
    }
    SUBCASE("a key that does not belong to the certificate is refused before any request") {
        OutputPath output;
        CommandResult result = run({"--certificate", pki + "/app.pem", "--certificate-key", pki + "/other.key"}, output.path());
        CHECK(result.exitCode == 2);
        CHECK(result.err.find("does not belong to the certificate") != std::string::npos);
        CHECK(read_file(pki + "/other.key").size() > 0);
        CHECK(result.err.find("PRIVATE KEY") == std::string::npos);
        CHECK_FALSE(output.exists());
        CHECK(cloud.log().empty());
    }
}

TEST_CASE("collect: a wrong client secret writes nothing and exits 2 with Entra ID's reason") {
    FakeCloud cloud({});
    OutputPath output;
    std::vector<std::string> args = {"collect", "--client-secret-env", "WRONG_SECRET", "--output", output.path()};
    auto endpoints = cloud.endpoint_args();
    args.insert(args.end(), endpoints.begin(), endpoints.end());
    CommandResult result = run_cli(args, {"WRONG_SECRET=not-the-right-secret-value"});
    CHECK(result.exitCode == 2);
    fakecloud::check_no_token_astray(cloud);
    CHECK(result.err.find("AADSTS7000215") != std::string::npos);
    CHECK(result.err.find("not-the-right-secret-value") == std::string::npos);
    CHECK_FALSE(output.exists());
}

TEST_CASE("collect: secrets are only read from a variable or a file, never from the command line") {
    FakeCloud cloud({});
    OutputPath output;
    auto endpoints = cloud.endpoint_args();
    std::vector<std::string> args = {"collect", "--client-secret", fakecloud::kClientSecret, "--output", output.path()};
    args.insert(args.end(), endpoints.begin(), endpoints.end());
    CHECK(run_cli(args).exitCode == 2);

    TempFile secretFile(fakecloud::kClientSecret + "\n", ".txt");
    ::chmod(secretFile.path().c_str(), 0600);
    args = {"collect", "--client-secret-file", secretFile.path(), "--sections", "/graph/securityDefaults", "--output",
            output.path()};
    args.insert(args.end(), endpoints.begin(), endpoints.end());
    CommandResult fromFile = run_cli(args);
    CHECK_MESSAGE(fromFile.exitCode == 0, fromFile.err);

    args = {"collect", "--client-secret-env", "UNSET_TENANTSCAN_VARIABLE", "--output", output.path()};
    args.insert(args.end(), endpoints.begin(), endpoints.end());
    CommandResult unset = run_cli(args);
    CHECK(unset.exitCode == 2);
    CHECK(unset.err.find("UNSET_TENANTSCAN_VARIABLE") != std::string::npos);
}

TEST_CASE("collect: neither the secret nor any token appears in output, errors, logs or the snapshot") {
    // The Exchange service echoes the bearer token in its error message; --verbose logs every request.
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/exchange/"}, {"cmdlet", "Get-AcceptedDomain"}, {"action", "echoToken"}, {"times", -1}})});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output, {"--verbose"});
    CHECK(result.exitCode == 1);
    CHECK(result.err.find("[redacted]") != std::string::npos);
    std::string everything = result.out + result.err + read_file(output.path());
    std::vector<std::string> secrets = {fakecloud::kClientSecret};
    for (const auto& entry : cloud.log())
        if (entry["kind"] == "token") secrets.push_back(entry["token"]);
    REQUIRE(secrets.size() >= 3);  // the secret, a token per service, and the renewals the 401s asked for
    for (const auto& secret : secrets) {
        CHECK(everything.find(secret) == std::string::npos);
        CHECK(everything.find(secret.substr(0, 20)) == std::string::npos);
    }
}

TEST_CASE("collect: a 429 with Retry-After is waited out and retried") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/graph/v1.0/users"}, {"action", "status"}, {"status", 429},
                            {"headers", {{"Retry-After", "1"}}},
                            {"graphError", {{"code", "TooManyRequests"}, {"message", "Too many requests"}}}})});
    OutputPath output;
    auto started = std::chrono::steady_clock::now();
    CommandResult result = collect_checked(cloud, output, {"--verbose"});
    CHECK_MESSAGE(result.exitCode == 0, result.err);
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::seconds(1));
    CHECK(result.err.find("429 Too Many Requests, waiting 1.0 s") != std::string::npos);
    CHECK(output.read()["graph"]["users"].size() == 9);
    CHECK(output.read()["collection"]["statistics"]["retries"] >= 1);
}

TEST_CASE("collect: a throttled $batch sub-request is sent again on its own") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/graph/v1.0/groups/"}, {"batch", true}, {"skip", 1}, {"action", "status"},
                            {"status", 429}, {"headers", {{"Retry-After", "1"}}},
                            {"graphError", {{"code", "TooManyRequests"}, {"message", "Too many requests"}}}})});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    CHECK_MESSAGE(result.exitCode == 0, result.err);
    TempFile handMade(without_inventory(fakecloud::example("fabrikam-broken")).dump());
    check_same_verdicts(output.path(), handMade.path());
    CHECK(count_requests(cloud, "/graph/v1.0/$batch", false) >= 2);
    CHECK(output.read()["collection"]["statistics"]["throttled"] == 1);
}

TEST_CASE("collect: 503 and 504 without Retry-After are retried with back-off") {
    json scenario = {{"faults",
                      json::array({{{"path", "/graph/v1.0/identity/conditionalAccess/policies"}, {"action", "status"}, {"status", 503}},
                                   {{"path", "/exchange/"}, {"cmdlet", "Get-MailUser"}, {"action", "status"}, {"status", 504}, {"times", 2}}})}};
    FakeCloud cloud({fakecloud::example("fabrikam-broken"), scenario});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    CHECK_MESSAGE(result.exitCode == 0, result.err);
    CHECK(output.read()["collection"]["statistics"]["retries"] == 3);
    TempFile handMade(without_inventory(fakecloud::example("fabrikam-broken")).dump());
    check_same_verdicts(output.path(), handMade.path());
}

TEST_CASE("collect: a response slower than the request timeout is retried, and named when it never comes") {
    SUBCASE("slow once") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "slow"}, {"delay", 3}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output, {"--request-timeout", "1"});
        CHECK_MESSAGE(result.exitCode == 0, result.err);
        CHECK(output.read()["graph"]["subscribedSkus"].size() == json::parse(read_file(fakecloud::example("fabrikam-broken")))["graph"]["subscribedSkus"].size());
    }
    SUBCASE("always slow") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "slow"}, {"delay", 3}, {"times", -1}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output, {"--request-timeout", "1", "--max-retries", "1"});
        CHECK(result.exitCode == 1);
        json snapshot = output.read();
        CHECK_FALSE(snapshot["graph"].contains("subscribedSkus"));
        std::string reason = snapshot["notCollected"]["/graph/subscribedSkus"];
        CHECK(reason.find("within 1000 ms") != std::string::npos);
        CHECK(reason.find("2 attempts") != std::string::npos);
        CHECK(result.err.find("/graph/subscribedSkus not collected") != std::string::npos);
    }
}

TEST_CASE("collect: truncated JSON is retried, a body that stays truncated leaves the section out") {
    SUBCASE("once") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/graph/v1.0/roleManagement/"}, {"action", "truncate"}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output);
        CHECK_MESSAGE(result.exitCode == 0, result.err);
        CHECK(output.read()["graph"]["roleAssignments"].size() == 1);
    }
    SUBCASE("always") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/graph/v1.0/roleManagement/"}, {"action", "truncate"}, {"times", -1}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output, {"--max-retries", "1"});
        CHECK(result.exitCode == 1);
        json snapshot = output.read();
        CHECK(snapshot["notCollected"]["/graph/roleAssignments"].get<std::string>().find("not valid JSON (truncated?)") !=
              std::string::npos);
        // Groups are derived from role assignments too: never collected from half the input.
        CHECK(snapshot["notCollected"]["/graph/groups"] == "derived from /graph/roleAssignments, which was not collected");
        json report = scan_json(output.path());
        CHECK(report["summary"]["error"] > 0);
    }
}

TEST_CASE("collect: an HTML page with status 200 is not taken for data") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "html"}, {"times", -1}})});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    CHECK(result.exitCode == 1);
    json snapshot = output.read();
    std::string reason = snapshot["notCollected"]["/graph/subscribedSkus"];
    CHECK(reason.find("HTML page instead of JSON") != std::string::npos);
    CHECK_FALSE(snapshot["graph"].contains("subscribedSkus"));
    CHECK(count_requests(cloud, "/graph/v1.0/subscribedSkus", false) == 1);  // not worth retrying
    // The scan still runs: rules needing the licences report an error with the reason, the others their verdicts.
    json report = scan_json(output.path());
    bool named = false;
    for (const auto& f : report["findings"])
        if (f["status"] == "error" && f.dump().find("HTML page instead of JSON") != std::string::npos) named = true;
    CHECK(named);
    CHECK(report["summary"]["fail"] > 0);
}

TEST_CASE("collect: an @odata.nextLink loop stops with the section named") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/graph/v1.0/users"}, {"action", "loop"}, {"times", -1}})});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    CHECK(result.exitCode == 1);
    std::string reason = output.read()["notCollected"]["/graph/users"];
    CHECK(reason.find("repeats a page already read (a loop)") != std::string::npos);
    CHECK(count_requests(cloud, "/graph/v1.0/users", false) == 1);
}

TEST_CASE("collect: 403 names the missing permission and licence, the scan reports the reason") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/graph/v1.0/auditLogs/signIns"}, {"action", "status"}, {"status", 403}, {"times", -1},
                            {"graphError",
                             {{"code", "Authentication_RequestFromNonPremiumTenantOrB2CTenant"},
                              {"message", "Neither tenant is B2C or tenant doesn't have premium license"}}}})});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    CHECK(result.exitCode == 1);
    json snapshot = output.read();
    std::string reason = snapshot["notCollected"]["/graph/signIns"];
    CHECK(reason.rfind("403 Forbidden: needs ", 0) == 0);
    CHECK(reason.find("AuditLog.Read.All") != std::string::npos);
    CHECK(reason.find("Entra ID P1") != std::string::npos);
    CHECK(reason.find("Authentication_RequestFromNonPremiumTenantOrB2CTenant") != std::string::npos);
    CHECK(snapshot["collection"]["warnings"][0].get<std::string>().find("cover the HVE accounts only") != std::string::npos);

    json report = scan_json(output.path());
    bool named = false;
    for (const auto& f : report["findings"])
        if (f["status"] == "error" && f.dump().find("AuditLog.Read.All") != std::string::npos) named = true;
    CHECK(named);
}

TEST_CASE("collect: 401 from Exchange Online names Exchange.ManageAsApp and the role") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/exchange/"}, {"action", "status"}, {"status", 401}, {"times", -1},
                            {"exchangeError", "Ex0|System.UnauthorizedAccessException|The role assigned to application isn't supported in this scenario."}})});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    CHECK(result.exitCode == 1);
    json snapshot = output.read();
    for (const char* section : {"/exchange/organizationConfig", "/exchange/hveAccounts", "/exchange/users"}) {
        CAPTURE(section);
        std::string reason = snapshot["notCollected"][section];
        if (std::string(section) == "/exchange/users") {
            CHECK(reason == "derived from /exchange/hveAccounts, which was not collected");
            continue;
        }
        CHECK(reason.find("401 Unauthorized: needs ") == 0);
        CHECK(reason.find("Exchange.ManageAsApp") != std::string::npos);
        CHECK(reason.find("Global Reader") != std::string::npos);
        CHECK(reason.find("isn't supported in this scenario") != std::string::npos);
    }
    CHECK(snapshot["graph"]["users"].size() == 9);
}

TEST_CASE("collect: an Exchange cmdlet error leaves only that section out") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/exchange/"}, {"cmdlet", "Get-HVEAccountBillingPolicy"}, {"action", "status"},
                            {"status", 400}, {"times", -1},
                            {"exchangeError", "Ex0|System.Management.Automation.CommandNotFoundException|The term "
                                              "'Get-HVEAccountBillingPolicy' is not recognized as a name of a cmdlet."}})});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    CHECK(result.exitCode == 1);
    json snapshot = output.read();
    CHECK(snapshot["notCollected"].size() == 1);
    const std::string reason = snapshot["notCollected"]["/exchange/hveBillingPolicies"];
    CHECK(reason.rfind("Get-HVEAccountBillingPolicy: the app's Exchange Online roles do not include this cmdlet; it needs "
                       "the Exchange management role View-Only Configuration", 0) == 0);
    CHECK(reason.find("400 Bad Request: CommandNotFoundException: The term 'Get-HVEAccountBillingPolicy' is not "
                      "recognized as a name of a cmdlet.") != std::string::npos);
    CHECK(snapshot["exchange"]["hveAccounts"].size() == 4);
    scan_json(output.path());
}

// ---- issue 12: every path fails closed ------------------------------------------------------
namespace {

// Status of each finding of a scan, by (rule, subject id).
std::map<std::pair<std::string, std::string>, std::string> statuses(const std::string& snapshot) {
    std::map<std::pair<std::string, std::string>, std::string> out;
    for (const auto& [rule, subject, status] : verdicts(snapshot)) out[{rule, subject}] = status;
    return out;
}

std::size_t foreign_requests(const FakeCloud& cloud) {
    std::size_t n = 0;
    for (const auto& entry : cloud.log()) n += entry["kind"] == "foreign";
    return n;
}

}  // namespace

TEST_CASE("collect: a redirect is never followed: the request fails, named, and the other host receives nothing") {
    SUBCASE("a later page of a Graph list redirected to another host") {
        FakeCloud::Options options;
        options.synthetic = R"({"users": 1100})";  // two pages of 999
        options.scenario = fault({{"path", "/graph/v1.0/users"}, {"skip", 1}, {"action", "redirect"}, {"times", -1}});
        FakeCloud cloud(options);
        OutputPath output;
        CommandResult result = collect_checked(cloud, output, {"--verbose"});
        CHECK(result.exitCode == 1);
        json snapshot = output.read();
        CHECK_FALSE(snapshot["graph"].contains("users"));  // never cut to the pages read before the redirect
        const std::string reason = snapshot["notCollected"]["/graph/users"];
        CHECK(reason.find("302 Found") != std::string::npos);
        CHECK(reason.find("redirected to https://127.0.0.1:" + std::to_string(cloud.foreign_port())) != std::string::npos);
        CHECK(reason.find("redirects are not followed") != std::string::npos);
        CHECK(result.err.find("-> 302") != std::string::npos);  // the log shows the answer that came, not a 200
        CHECK(foreign_requests(cloud) == 0);
    }
    SUBCASE("an Exchange cmdlet answered 307 to another host") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/exchange/"}, {"cmdlet", "Get-AcceptedDomain"}, {"action", "redirect"},
                                {"status", 307}, {"times", -1}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output);
        CHECK(result.exitCode == 1);
        CHECK(output.read()["notCollected"]["/exchange/acceptedDomains"].get<std::string>().find("307 Temporary Redirect") !=
              std::string::npos);
    }
    SUBCASE("a redirect to the same host is not followed either") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "redirect"}, {"target", "self"},
                                {"status", 301}, {"times", 1}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output);
        CHECK(result.exitCode == 1);
        CHECK(count_requests(cloud, "/graph/v1.0/subscribedSkus", false) == 1);
    }
    SUBCASE("the token endpoint redirected to another host: the secret goes nowhere, nothing is written") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/login/"}, {"action", "redirect"}, {"status", 307}, {"times", -1}})});
        OutputPath output;
        CommandResult result = cloud.collect(output.path());
        fakecloud::check_no_token_astray(cloud);
        CHECK(result.exitCode == 2);
        CHECK(result.err.find("cannot sign in to Microsoft Graph: 307 Temporary Redirect") != std::string::npos);
        CHECK_FALSE(output.exists());
        CHECK(foreign_requests(cloud) == 0);
    }
}

TEST_CASE("collect: Exchange errors are told apart by exception type, only 'no such object' for that identity skips an account") {
    const json example = json::parse(read_file(fakecloud::example("fabrikam-broken")));
    SUBCASE("a cmdlet the app's role does not grant fails the section, naming the role") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/exchange/"}, {"cmdlet", "Get-Recipient"}, {"action", "status"}, {"status", 400},
                                {"times", -1},
                                {"exchangeError", "Ex0|System.Management.Automation.CommandNotFoundException|The term "
                                                  "'Get-Recipient' is not recognized as a name of a cmdlet."}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output);
        CHECK(result.exitCode == 1);
        json snapshot = output.read();
        CHECK_FALSE(snapshot["exchange"].contains("recipients"));  // never [] ("nobody holds the address")
        const std::string reason = snapshot["notCollected"]["/exchange/recipients"];
        CHECK(reason.find("Get-Recipient") != std::string::npos);
        CHECK(reason.find("View-Only Recipients") != std::string::npos);
        CHECK(reason.find("Global Reader") != std::string::npos);
        CHECK(snapshot["collection"]["warnings"].dump().find("Get-Recipient found no object") == std::string::npos);
        for (const auto& [key, status] : statuses(output.path()))
            if (key.first == "hve-address-conflict") CHECK(status == "error");
    }
    SUBCASE("ManagementObjectNotFoundException about another object is a failure, not a skipped account") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/exchange/"}, {"cmdlet", "Get-User"}, {"action", "status"}, {"status", 404},
                                {"times", -1},
                                {"exchangeError", "Ex6F9304|Microsoft.Exchange.Configuration.Tasks."
                                                  "ManagementObjectNotFoundException|The operation couldn't be performed "
                                                  "because object 'SystemMailbox{bb558c35}' couldn't be found on 'X'."}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output);
        CHECK(result.exitCode == 1);
        CHECK(output.read()["notCollected"].contains("/exchange/users"));
    }
    SUBCASE("ManagementObjectNotFoundException for the identity asked about skips that account with a warning") {
        json tenant = example;
        tenant["exchange"]["casMailboxes"] = json::array();  // nestor and erp-mailer have no mailbox object
        TempFile tenantFile(tenant.dump());
        FakeCloud cloud({tenantFile.path()});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output);
        CHECK(result.exitCode == 0);
        json snapshot = output.read();
        CHECK(snapshot["exchange"]["casMailboxes"] == json::array());
        CHECK(snapshot["collection"]["warnings"].dump().find("Get-CASMailbox found no object for 'nestor@fabrikam.com'") !=
              std::string::npos);
    }
    SUBCASE("a 404 with an empty body is a failed request, not 'no such object'") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/exchange/"}, {"cmdlet", "Get-CASMailbox"}, {"action", "empty"}, {"status", 404},
                                {"times", -1}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output);
        CHECK(result.exitCode == 1);
        json snapshot = output.read();
        CHECK_FALSE(snapshot["exchange"].contains("casMailboxes"));
        CHECK(snapshot["notCollected"]["/exchange/casMailboxes"].get<std::string>().find("Get-CASMailbox: 404 Not Found") == 0);
    }
}

TEST_CASE("collect: a group members page that fails fails /graph/groups, never an empty group") {
    // The HVE exemption group answers 404 on its members inside $batch (replication lag), while
    // the group itself is found.
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/graph/v1.0/groups/e2000000-0000-4000-8000-000000000001/members"}, {"batch", true},
                            {"action", "status"}, {"status", 404}, {"times", -1},
                            {"graphError", {{"code", "Request_ResourceNotFound"},
                                            {"message", "Resource 'e2000000-0000-4000-8000-000000000001' does not exist or "
                                                        "one of its queried reference-property objects are not present."}}}})});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    CHECK(result.exitCode == 1);
    json snapshot = output.read();
    CHECK_FALSE(snapshot["graph"].contains("groups"));
    const std::string reason = snapshot["notCollected"]["/graph/groups"];
    CHECK(reason.find("the members of group e2000000-0000-4000-8000-000000000001") != std::string::npos);
    CHECK(reason.find("404") != std::string::npos);

    SUBCASE("a group a policy names answering 404 without Graph's error body is a failure, not a deleted group") {
        FakeCloud empty404({fakecloud::example("fabrikam-broken"),
                            fault({{"path", "/graph/v1.0/groups/e2000000-0000-4000-8000-000000000002"}, {"batch", true},
                                   {"action", "empty"}, {"status", 404}, {"times", -1}})});
        OutputPath out;
        CommandResult r = empty404.collect(out.path());
        fakecloud::check_collection_invariant(empty404, out.path(), r.exitCode);
        CHECK(r.exitCode == 1);
        CHECK(out.read()["notCollected"].contains("/graph/groups"));
        CHECK(out.read()["collection"]["warnings"].dump().find("does not exist") == std::string::npos);
    }
}

TEST_CASE("collect: any 401 renews the token once, for both services, then reports honestly") {
    for (const char* service : {"exchange", "graph"}) {
        CAPTURE(service);
        // The tokens issued so far stop working after a few requests; the service says
        // "invalid_token" (Exchange, no body) or "Access token validation failure." (Graph),
        // never "expired".
        FakeCloud cloud({fakecloud::example("fabrikam-broken"), json{{"revokeTokensAfter", 6}, {"revokeResource", service}}});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output, {"--concurrency", "1"});
        CHECK_MESSAGE(result.exitCode == 0, result.err);
        CHECK(output.read()["notCollected"].empty());
        std::size_t tokens = 0;
        for (const auto& entry : cloud.log()) tokens += entry["kind"] == "token" && entry["resource"] == service;
        CHECK(tokens == 2);
    }
    SUBCASE("a 401 that stays: renewed once, then the section names the permission") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/exchange/"}, {"cmdlet", "Get-TransportConfig"}, {"action", "status"},
                                {"status", 401}, {"times", -1}})});
        OutputPath output;
        CommandResult result =
            cloud.collect(output.path(), {"--sections", "/exchange/transportConfig,/exchange/organizationConfig"});
        fakecloud::check_collection_invariant(cloud, output.path(), result.exitCode);
        CHECK(result.exitCode == 1);
        CHECK(output.read()["notCollected"]["/exchange/transportConfig"].get<std::string>().find(
                  "401 Unauthorized: needs the Office 365 Exchange Online application permission Exchange.ManageAsApp") == 0);
        std::size_t tokens = 0, attempts = 0;
        for (const auto& entry : cloud.log()) {
            tokens += entry["kind"] == "token" && entry["resource"] == "exchange";
            attempts += entry["kind"] == "api" && entry["cmdlet"] == "Get-TransportConfig";
        }
        CHECK(tokens == 2);
        CHECK(attempts == 2);
    }
}

TEST_CASE("collect: an empty or non-JSON 2xx body is a failed request, never a section of null") {
    SUBCASE("empty every time") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/graph/v1.0/policies/identitySecurityDefaultsEnforcementPolicy"}, {"action", "empty"},
                                {"times", -1}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output, {"--max-retries", "1"});
        CHECK(result.exitCode == 1);
        json snapshot = output.read();
        CHECK_FALSE(snapshot["graph"].contains("securityDefaults"));
        CHECK(snapshot["notCollected"]["/graph/securityDefaults"].get<std::string>().find("200 OK with an empty body") !=
              std::string::npos);
    }
    SUBCASE("empty once: retried") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/exchange/"}, {"cmdlet", "Get-OrganizationConfig"}, {"action", "empty"}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output);
        CHECK_MESSAGE(result.exitCode == 0, result.err);
    }
}

TEST_CASE("collect: without the sign-ins, the per-account sections are marked partial with their scope") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/graph/v1.0/auditLogs/signIns"}, {"action", "status"}, {"status", 403}, {"times", -1},
                            {"graphError", {{"code", "Authentication_RequestFromNonPremiumTenantOrB2CTenant"},
                                            {"message", "Neither tenant is B2C or tenant doesn't have premium license"}}}})});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    CHECK(result.exitCode == 1);
    json snapshot = output.read();
    CHECK(snapshot["partial"] == json({{"/exchange/users", "only the HVE accounts: /graph/signIns was not collected"},
                                       {"/exchange/recipients", "only the HVE accounts: /graph/signIns was not collected"}}));
    // Get-CASMailbox is only asked about the accounts seen sending: without the sign-ins it has nobody.
    CHECK(snapshot["notCollected"]["/exchange/casMailboxes"] == "derived from /graph/signIns, which was not collected");
    CHECK(result.err.find("tenantscan: warning: /exchange/users collected in part: only the HVE accounts") != std::string::npos);

    // payroll-hve's address is also held by erp-mailer, a sender the partial recipients do not
    // hold: the scan cannot pass the account, it does not know.
    auto fault = statuses(output.path());
    CHECK(fault[{"hve-address-conflict", "d1000000-0000-4000-8000-000000000009"}] == "review");
    TempFile handMade(without_inventory(fakecloud::example("fabrikam-broken")).dump());
    CHECK(statuses(handMade.path())[{"hve-address-conflict", "d1000000-0000-4000-8000-000000000009"}] == "fail");

    // --sections without the sign-ins: the same scope, named as not requested.
    OutputPath narrow;
    CommandResult asked = cloud.collect(narrow.path(), {"--sections", "/exchange/users"});
    CHECK(asked.exitCode == 1);
    CHECK(narrow.read()["partial"]["/exchange/users"] == "only the HVE accounts: /graph/signIns was not requested (--sections)");
}

TEST_CASE("snapshot: the partial marker is validated like notCollected") {
    json base = json::parse(read_file(fakecloud::example("fabrikam-broken")));
    base.erase("smtpClients");
    auto scan = [](const json& document) {
        TempFile file(document.dump(), ".json");
        return run_cli({"scan", file.path(), "--format", "json"});
    };
    json ok = base;
    ok["partial"] = {{"/exchange/recipients", "only the HVE accounts"}};
    CHECK(scan(ok).exitCode == 1);

    json unknown = base;
    unknown["partial"] = {{"/exchange/everything", "x"}};
    CommandResult r1 = scan(unknown);
    CHECK(r1.exitCode == 2);
    CHECK(r1.err.find("/partial/~1exchange~1everything: unknown section") != std::string::npos);

    json notText = base;
    notText["partial"] = {{"/exchange/recipients", 3}};
    CommandResult r2 = scan(notText);
    CHECK(r2.exitCode == 2);
    CHECK(r2.err.find("expected the scope as a string") != std::string::npos);

    json absent = base;
    absent["exchange"].erase("recipients");
    absent["partial"] = {{"/exchange/recipients", "only the HVE accounts"}};
    CommandResult r3 = scan(absent);
    CHECK(r3.exitCode == 2);
    CHECK(r3.err.find("listed as partial but is not in the snapshot") != std::string::npos);

    json notObject = base;
    notObject["partial"] = json::array();
    CHECK(scan(notObject).exitCode == 2);
}

TEST_CASE("snapshot: rules reading a partial section take an entry they do not find as unknown, never as absent") {
    // contoso-ready passes both rules when its sections are complete.
    json document = json::parse(read_file(fakecloud::example("contoso-ready")));
    document.erase("smtpClients");
    TempFile complete(document.dump(), ".json");
    document["partial"] = {{"/exchange/recipients", "only the HVE accounts"}, {"/graph/users", "only the HVE accounts"}};
    TempFile partial(document.dump(), ".json");

    const tenantscan::Snapshot model = tenantscan::load_snapshot(partial.path());
    REQUIRE(model.partial_scope("/exchange/recipients") != nullptr);
    CHECK(*model.partial_scope("/exchange/recipients") == "only the HVE accounts");
    CHECK(model.partial_scope("/exchange/users") == nullptr);
    CHECK(model.has_section("/exchange/recipients"));

    auto before = statuses(complete.path()), after = statuses(partial.path());
    std::size_t checked = 0;
    for (const auto& [key, status] : before) {
        if (key.first != "hve-address-conflict" && key.first != "tenant-legacy-auth-protection") continue;
        CAPTURE(key.first);
        CHECK(status == "pass");
        CHECK(after[key] == "review");
        ++checked;
    }
    CHECK(checked == 3);
    const json report = scan_json(partial.path());
    for (const auto& f : report.at("findings"))
        if (f["rule"] == "hve-address-conflict") CHECK(f["message"].get<std::string>().find("the section is partial (only the HVE accounts)") != std::string::npos);
}

TEST_CASE("collect: a response larger than the limit fails its section with a clear error") {
    for (bool chunked : {false, true}) {
        CAPTURE(chunked);
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "huge"}, {"megabytes", 3},
                                {"chunked", chunked}, {"times", -1}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output, {"--max-response-mb", "1"});
        CHECK(result.exitCode == 1);
        const std::string reason = output.read()["notCollected"]["/graph/subscribedSkus"];
        CHECK(reason.find("GET " + cloud.base() + "/graph/v1.0/subscribedSkus: the response is larger than 1048576 bytes") == 0);
        CHECK(count_requests(cloud, "/graph/v1.0/subscribedSkus", false) == 1);  // not retried: it would not shrink
    }
    SUBCASE("the default limit is 32 MiB") {
        FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                         fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "huge"}, {"megabytes", 40}, {"times", -1}})});
        OutputPath output;
        CommandResult result = cloud.collect(output.path(), {"--sections", "/graph/subscribedSkus,/graph/securityDefaults"});
        CHECK(result.exitCode == 1);
        CHECK(output.read()["notCollected"]["/graph/subscribedSkus"].get<std::string>().find("larger than 33554432 bytes") !=
              std::string::npos);
    }
}

TEST_CASE("collect: a token that expires mid-run is renewed once and the request repeated") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"), json{{"expireTokensAfter", 6}}});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output, {"--concurrency", "1"});
    CHECK_MESSAGE(result.exitCode == 0, result.err);
    std::size_t tokenRequests = 0;
    for (const auto& entry : cloud.log()) tokenRequests += entry["kind"] == "token";
    CHECK(tokenRequests >= 3);
    CHECK(tokenRequests <= 4);
    TempFile handMade(without_inventory(fakecloud::example("fabrikam-broken")).dump());
    check_same_verdicts(output.path(), handMade.path());
}

TEST_CASE("collect: long lists are followed page by page, group members too") {
    FakeCloud::Options options;
    options.synthetic = R"({"users": 2100, "groupMembers": {"e2000000-0000-4000-8000-000000000002": 1500}})";
    FakeCloud cloud(options);
    OutputPath output;
    CommandResult result = collect_checked(cloud, output);
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    json snapshot = output.read();
    CHECK(snapshot["graph"]["users"].size() == 2109);
    CHECK(count_requests(cloud, "/graph/v1.0/users", false) == 3);
    for (const auto& group : snapshot["graph"]["groups"])
        if (group["id"] == "e2000000-0000-4000-8000-000000000002") CHECK(group["members"].size() == 1504);
    CHECK(count_requests(cloud, "/graph/v1.0/groups/e2000000-0000-4000-8000-000000000002/members", false) == 1);
}

TEST_CASE("collect: sign-ins of the last --since days only") {
    json stale = json::parse(read_file(fakecloud::example("fabrikam-broken")))["graph"]["signIns"][0];
    stale["id"] = "stale-sign-in";
    stale["createdDateTime"] = "2026-09-01T00:00:00Z";  // 80 days before the newest one
    json tenant = json::parse(read_file(fakecloud::example("fabrikam-broken")));
    tenant["fakeCloud"]["staleSignIns"] = json::array({stale});
    TempFile tenantFile(tenant.dump());
    FakeCloud cloud({tenantFile.path()});
    OutputPath output;
    REQUIRE(cloud.collect(output.path()).exitCode == 0);
    const auto recent = tenant["graph"]["signIns"].size();  // the example's sign-ins are all within 30 days
    CHECK(output.read()["graph"]["signIns"].size() == recent);
    REQUIRE(cloud.collect(output.path(), {"--since", "90"}).exitCode == 0);
    CHECK(output.read()["graph"]["signIns"].size() == recent + 1);
    CHECK(output.read()["collection"]["requested"]["sinceDays"] == 90);
}

TEST_CASE("collect: --sections collects what is asked and what it is derived from, and says what is left out") {
    FakeCloud cloud({});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output, {"--sections", "graph/groups,/exchange/transportConfig"});
    CHECK_MESSAGE(result.exitCode == 0, result.err);
    json snapshot = output.read();
    CHECK(snapshot["graph"].size() == 3);  // groups, conditionalAccessPolicies, roleAssignments
    CHECK(snapshot["exchange"].size() == 1);
    CHECK(snapshot["notCollected"]["/graph/users"] == "not requested (--sections)");
    CHECK(snapshot["collection"]["requested"]["sections"] ==
          json::array({"/graph/conditionalAccessPolicies", "/graph/groups", "/graph/roleAssignments", "/exchange/transportConfig"}));

    CommandResult unknown = cloud.collect(output.path(), {"--sections", "/graph/everything"});
    CHECK(unknown.exitCode == 2);
    CHECK(unknown.err.find("unknown section '/graph/everything'") != std::string::npos);
}

TEST_CASE("collect: plain http is refused except on loopback, and TLS certificates are checked") {
    FakeCloud cloud({});
    OutputPath output;
    SUBCASE("http to a non-loopback host") {
        CommandResult result = cloud.collect(output.path(), {"--graph-url", "http://graph.example.com"});
        CHECK(result.exitCode == 2);
        CHECK(result.err.find("plain http is only allowed on loopback") != std::string::npos);
    }
    SUBCASE("a certificate from an untrusted CA") {
        std::vector<std::string> args = {"collect", "--client-secret-env", fakecloud::kSecretVariable, "--output", output.path()};
        for (const auto& a : cloud.endpoint_args())
            if (a.find("ca.pem") == std::string::npos && a != "--ca-file") args.push_back(a);
        CommandResult result = run_cli(args, {fakecloud::kSecretVariable + "=" + fakecloud::kClientSecret});
        CHECK(result.exitCode == 2);
        CHECK(result.err.find("cannot sign in to Microsoft Graph: TLS handshake with " + cloud.base() +
                              " failed: its certificate is not trusted") != std::string::npos);
        CHECK(result.err.find("waiting") == std::string::npos);  // not retried: it cannot get better
        CHECK(cloud.log().empty());
    }
    CHECK_FALSE(output.exists());
}

TEST_CASE("collect: HTTPS_PROXY is used (CONNECT) unless NO_PROXY names the host") {
    FakeCloud::Options options;
    options.proxy = true;
    options.scenario = {{"publicBase", "https://cloud.fakecloud.test:{port}"}};
    FakeCloud cloud(options);
    std::string base = "https://cloud.fakecloud.test:" + std::to_string(cloud.port());
    std::vector<std::string> args = {"collect", "--client-secret-env", fakecloud::kSecretVariable, "--sections",
                                     "/graph/securityDefaults"};
    auto endpoints = cloud.endpoint_args(base);
    args.insert(args.end(), endpoints.begin(), endpoints.end());
    OutputPath output;
    args.insert(args.end(), {"--output", output.path()});
    std::string secret = fakecloud::kSecretVariable + "=" + fakecloud::kClientSecret;

    CommandResult viaProxy = run_cli(args, {secret, "HTTPS_PROXY=http://127.0.0.1:" + std::to_string(cloud.proxy_port())});
    CHECK_MESSAGE(viaProxy.exitCode == 0, viaProxy.err);
    std::size_t tunnels = 0;
    for (const auto& entry : cloud.log())
        if (entry["kind"] == "proxy") {
            CHECK(entry["target"] == "cloud.fakecloud.test:" + std::to_string(cloud.port()));
            ++tunnels;
        }
    CHECK(tunnels >= 1);

    args.insert(args.end(), {"--max-retries", "0"});
    CommandResult bypassed = run_cli(args, {secret, "HTTPS_PROXY=http://127.0.0.1:" + std::to_string(cloud.proxy_port()),
                                            "NO_PROXY=localhost,.fakecloud.test"});
    CHECK(bypassed.exitCode == 2);  // cloud.fakecloud.test does not resolve without the proxy
    CHECK(bypassed.err.find("cannot sign in to Microsoft Graph: https://cloud.fakecloud.test:") != std::string::npos);
}

TEST_CASE("collect: the snapshot is replaced atomically and kept when nothing could be collected") {
    FakeCloud cloud({});
    TempFile previous(R"({"snapshotVersion": 1, "previous": true})");
    CommandResult failed = cloud.collect(previous.path(), {"--login-url", cloud.base() + "/nowhere"});
    CHECK(failed.exitCode == 2);
    CHECK(json::parse(read_file(previous.path()))["previous"] == true);

    CommandResult ok = cloud.collect(previous.path(), {"--sections", "/graph/securityDefaults"});
    CHECK_MESSAGE(ok.exitCode == 0, ok.err);
    CHECK_FALSE(json::parse(read_file(previous.path())).contains("previous"));
    struct stat info {};
    REQUIRE(::stat(previous.path().c_str(), &info) == 0);
    CHECK((info.st_mode & 0077) == 0);  // tenant data: readable by its owner only
}

TEST_CASE("collect: the overall deadline stops a run that would not end") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/graph/v1.0/users"}, {"action", "status"}, {"status", 429}, {"times", -1},
                            {"headers", {{"Retry-After", "30"}}}})});
    OutputPath output;
    auto started = std::chrono::steady_clock::now();
    CommandResult result = collect_checked(cloud, output, {"--deadline", "5"});
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    CHECK(result.exitCode == 1);
    std::string reason = output.read()["notCollected"]["/graph/users"];
    CHECK(reason.find("would pass the overall deadline") != std::string::npos);
}

TEST_CASE("collect: --cross-check stores Microsoft's what-if answers, and engine-cross-check compares them") {
    json tenant = json::parse(read_file(fakecloud::example("fabrikam-broken")));
    std::string disabledPolicy, disabledName;
    for (const auto& policy : tenant["graph"]["conditionalAccessPolicies"])
        if (policy["state"] == "disabled") {
            disabledPolicy = policy["id"];
            disabledName = policy["displayName"];
        }
    REQUIRE_FALSE(disabledPolicy.empty());
    const json& account = tenant["exchange"]["hveAccounts"][0];
    const std::string userId = account["ExternalDirectoryObjectId"];
    // Microsoft (the fake) claims a disabled policy applies: the engine must disagree.
    tenant["fakeCloud"]["whatIf"][userId] = json::array({{{"id", disabledPolicy}, {"policyApplies", true}, {"analysisReasons", "notSet"}}});
    TempFile tenantFile(tenant.dump());
    FakeCloud cloud({tenantFile.path()});
    OutputPath output;
    CommandResult result = collect_checked(cloud, output, {"--cross-check"});
    REQUIRE_MESSAGE(result.exitCode == 0, result.err);
    json snapshot = output.read();
    REQUIRE(snapshot["crossCheck"].size() == tenant["exchange"]["hveAccounts"].size());
    for (const auto& entry : snapshot["crossCheck"]) {
        CHECK(entry["request"]["signInConditions"]["clientAppType"] == "other");
        CHECK(entry["request"]["signInContext"]["includeApplications"] == json::array({"00000002-0000-0ff1-ce00-000000000000"}));
        CHECK(entry["value"].size() == tenant["graph"]["conditionalAccessPolicies"].size());
    }
    CHECK(count_requests(cloud, "/graph/v1.0/identity/conditionalAccess/evaluate", false) ==
          tenant["exchange"]["hveAccounts"].size());

    json report = scan_json(output.path());
    std::size_t crossChecks = 0;
    for (const auto& f : report["findings"]) {
        if (f["rule"] != "engine-cross-check") continue;
        ++crossChecks;
        if (f["subject"]["id"] != userId) continue;
        CHECK(f["status"] == "review");
        CHECK(f["message"].get<std::string>().find("'" + disabledName + "' (Microsoft: applies; engine: does not apply, policyNotEnabled)") !=
              std::string::npos);
    }
    CHECK(crossChecks == tenant["exchange"]["hveAccounts"].size());

    // Without --cross-check there is nothing to compare: not applicable, and no what-if request.
    FakeCloud plain({tenantFile.path()});
    REQUIRE(plain.collect(output.path()).exitCode == 0);
    CHECK(count_requests(plain, "/graph/v1.0/identity/conditionalAccess/evaluate", false) == 0);
    const json plainReport = scan_json(output.path());
    for (const auto& f : plainReport.at("findings"))
        if (f["rule"] == "engine-cross-check") CHECK(f["status"] == "not-applicable");
}

TEST_CASE("collect: scan --live collects and scans in one go, and --save-snapshot keeps what it read") {
    FakeCloud cloud({});
    OutputPath saved;
    std::vector<std::string> args = {"scan", "--live", "--client-secret-env", fakecloud::kSecretVariable, "--format", "json",
                                     "--save-snapshot", saved.path()};
    auto endpoints = cloud.endpoint_args();
    args.insert(args.end(), endpoints.begin(), endpoints.end());
    CommandResult live = run_cli(args, {fakecloud::kSecretVariable + "=" + fakecloud::kClientSecret});
    CHECK_MESSAGE(live.exitCode == 1, live.err);  // fabrikam-broken fails the gate
    REQUIRE(saved.exists());
    json liveReport = json::parse(live.out);
    CHECK(liveReport["snapshot"] == saved.path());
    CHECK(liveReport["findings"] == scan_json(saved.path())["findings"]);

    CHECK(run_cli({"scan", "--format", "json"}).exitCode == 2);                              // neither SNAPSHOT nor --live
    CHECK(run_cli({"scan", saved.path(), "--live", "--tenant", "x"}).exitCode == 2);         // both
    CHECK(run_cli({"scan", saved.path(), "--save-snapshot", saved.path()}).exitCode == 2);  // --save-snapshot needs --live
}

// ---- scan --live --cross-check in every fault case --------------------------------------
// Each case runs `scan --live --cross-check --save-snapshot` against a fake cloud with one
// fault: a transient fault must be retried into the same verdicts as the hand-made snapshot; a
// lasting one must leave out exactly the section it hits, named on stderr, in the saved
// snapshot's notCollected and in the report's error findings. Secrets never show anywhere.
namespace {

struct LiveFault {
    const char* name;
    json scenario;
    std::vector<std::string> extra;  // e.g. a short request timeout
    std::vector<std::string> leftOut;  // sections that must be reported not collected; none = recovered
};

// (rule, subject id, status) of every finding of a JSON report, without engine-cross-check
// (the hand-made example has no cross-check data; the live scan has).
std::set<std::tuple<std::string, std::string, std::string>> verdicts_without_cross_check(const json& report) {
    std::set<std::tuple<std::string, std::string, std::string>> out;
    for (const auto& f : report["findings"])
        if (f["rule"] != "engine-cross-check")
            out.emplace(f["rule"].get<std::string>(), f["subject"]["id"].get<std::string>(), f["status"].get<std::string>());
    return out;
}

void check_live_scan(const LiveFault& c) {
    CAPTURE(c.name);
    const std::string example = fakecloud::example("fabrikam-broken");
    FakeCloud cloud({example, c.scenario});
    OutputPath saved;
    std::vector<std::string> args = {"--cross-check", "--format", "json", "--save-snapshot", saved.path(), "--verbose"};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    CommandResult live = cloud.scan_live(args);
    INFO(live.err);
    REQUIRE(live.exitCode == 1);  // fabrikam-broken fails the gate, with or without the fault
    REQUIRE(saved.exists());
    fakecloud::check_collection_invariant(cloud, saved.path(), live.exitCode);
    json report = json::parse(live.out);
    json snapshot = saved.read();
    const std::size_t hveAccounts = json::parse(read_file(example))["exchange"]["hveAccounts"].size();

    std::vector<std::string> secrets = {fakecloud::kClientSecret};
    for (const auto& entry : cloud.log())
        if (entry["kind"] == "token") secrets.push_back(entry["token"]);
    const std::string everything = live.out + live.err + read_file(saved.path());
    for (const auto& secret : secrets) CHECK(everything.find(secret.substr(0, 20)) == std::string::npos);

    std::size_t crossChecks = 0, crossCheckErrors = 0;
    for (const auto& f : report["findings"])
        if (f["rule"] == "engine-cross-check") ++crossChecks, crossCheckErrors += f["status"] == "error";

    if (c.leftOut.empty()) {
        CHECK(snapshot["notCollected"].empty());
        json handMade = scan_json(TempFile(without_inventory(example).dump()).path());
        CHECK(verdicts_without_cross_check(report) == verdicts_without_cross_check(handMade));
        CHECK(crossChecks == hveAccounts);
        CHECK(crossCheckErrors == 0);
        return;
    }
    std::set<std::string> notCollected;
    for (const auto& [section, reason] : snapshot["notCollected"].items()) notCollected.insert(section);
    CHECK(notCollected == std::set<std::string>(c.leftOut.begin(), c.leftOut.end()));
    for (const auto& section : c.leftOut) {
        CAPTURE(section);
        CHECK(live.err.find("tenantscan: warning: " + section + " not collected: ") != std::string::npos);
        // The collector's reason reaches the report through an error finding.
        const std::string reason = snapshot["notCollected"][section];
        bool named = false;
        for (const auto& f : report["findings"])
            if (f["status"] == "error" && f.dump().find(json(reason).dump()) != std::string::npos) named = true;
        CHECK_MESSAGE(named, "no error finding gives the reason: " << reason);
    }
    CHECK(report["summary"]["error"] > 0);
    CHECK(report["summary"]["fail"] > 0);  // the rules that had their input still give verdicts
}

json faults(json list) { return json{{"faults", std::move(list)}}; }

}  // namespace

TEST_CASE("scan --live --cross-check: transient faults are retried into the hand-made verdicts") {
    const json tooMany = {{"code", "TooManyRequests"}, {"message", "Too many requests"}};
    const std::vector<LiveFault> cases = {
        {"429 with Retry-After on a list",
         fault({{"path", "/graph/v1.0/users"}, {"action", "status"}, {"status", 429}, {"headers", {{"Retry-After", "1"}}},
                {"graphError", tooMany}}),
         {}, {}},
        {"429 with Retry-After on the what-if API",
         fault({{"path", "/graph/v1.0/identity/conditionalAccess/evaluate"}, {"action", "status"}, {"status", 429},
                {"headers", {{"Retry-After", "1"}}}, {"graphError", tooMany}}),
         {}, {}},
        {"429 on a $batch sub-request",
         fault({{"path", "/graph/v1.0/groups/"}, {"batch", true}, {"action", "status"}, {"status", 429},
                {"headers", {{"Retry-After", "1"}}}, {"graphError", tooMany}}),
         {}, {}},
        {"503 and 504 without Retry-After",
         faults({{{"path", "/graph/v1.0/identity/conditionalAccess/policies"}, {"action", "status"}, {"status", 503}},
                 {{"path", "/exchange/"}, {"cmdlet", "Get-User"}, {"action", "status"}, {"status", 504}}}),
         {}, {}},
        {"slower than the request timeout once",
         fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "slow"}, {"delay", 3}}), {"--request-timeout", "1"}, {}},
        {"truncated JSON once", fault({{"path", "/graph/v1.0/roleManagement/"}, {"action", "truncate"}}), {}, {}},
        {"token expiring mid-run", json{{"expireTokensAfter", 6}}, {"--concurrency", "1"}, {}},
    };
    for (const auto& c : cases) check_live_scan(c);
}

TEST_CASE("scan --live --cross-check: a lasting fault leaves out exactly its section, named, and the scan goes on") {
    const std::vector<LiveFault> cases = {
        {"always slower than the request timeout",
         fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "slow"}, {"delay", 3}, {"times", -1}}),
         {"--request-timeout", "1", "--max-retries", "1"}, {"/graph/subscribedSkus"}},
        {"always truncated JSON", fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "truncate"}, {"times", -1}}),
         {"--max-retries", "1"}, {"/graph/subscribedSkus"}},
        {"HTML sign-in page with status 200",
         fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "html"}, {"times", -1}}), {}, {"/graph/subscribedSkus"}},
        {"@odata.nextLink loop", fault({{"path", "/graph/v1.0/auditLogs/signIns"}, {"action", "loop"}, {"times", -1}}), {},
         {"/graph/signIns", "/exchange/casMailboxes"}},
        {"401 with a Graph error body",
         fault({{"path", "/graph/v1.0/subscribedSkus"}, {"action", "status"}, {"status", 401}, {"times", -1},
                {"graphError", {{"code", "InvalidAuthenticationToken"}, {"message", "Access token validation failure."}}}}),
         {}, {"/graph/subscribedSkus"}},
        {"403 with a Graph error body",
         fault({{"path", "/graph/v1.0/auditLogs/signIns"}, {"action", "status"}, {"status", 403}, {"times", -1},
                {"graphError",
                 {{"code", "Authentication_RequestFromNonPremiumTenantOrB2CTenant"},
                  {"message", "Neither tenant is B2C or tenant doesn't have premium license"}}}}),
         {}, {"/graph/signIns", "/exchange/casMailboxes"}},
        {"403 from the what-if API",
         fault({{"path", "/graph/v1.0/identity/conditionalAccess/evaluate"}, {"action", "status"}, {"status", 403},
                {"times", -1},
                {"graphError", {{"code", "Authorization_RequestDenied"}, {"message", "Insufficient privileges to complete the operation."}}}}),
         {}, {"/crossCheck"}},
        {"Exchange cmdlet error",
         fault({{"path", "/exchange/"}, {"cmdlet", "Get-AuthenticationPolicy"}, {"action", "status"}, {"status", 400},
                {"times", -1},
                {"exchangeError", "Ex0|System.Management.Automation.CommandNotFoundException|The term "
                                  "'Get-AuthenticationPolicy' is not recognized as a name of a cmdlet."}}),
         {}, {"/exchange/authenticationPolicies"}},
        {"a service that echoes the bearer token in its error",
         fault({{"path", "/exchange/"}, {"cmdlet", "Get-AcceptedDomain"}, {"action", "echoToken"}, {"times", -1}}), {},
         {"/exchange/acceptedDomains"}},
    };
    for (const auto& c : cases) check_live_scan(c);
}

TEST_CASE("scan --live: when nothing can be collected, exit 2 with the reason and no report or snapshot") {
    FakeCloud cloud({fakecloud::example("fabrikam-broken"),
                     fault({{"path", "/login/"}, {"action", "status"}, {"status", 401}, {"times", -1},
                            {"body", {{"error", "invalid_client"},
                                      {"error_description", "AADSTS7000222: The provided client secret keys are expired."}}}})});
    OutputPath saved;
    CommandResult live = cloud.scan_live({"--cross-check", "--format", "json", "--save-snapshot", saved.path()});
    CHECK(live.exitCode == 2);
    fakecloud::check_no_token_astray(cloud);
    CHECK(live.out.empty());
    CHECK(live.err.find("cannot sign in to Microsoft Graph") != std::string::npos);
    CHECK(live.err.find("AADSTS7000222") != std::string::npos);
    CHECK(live.err.find(fakecloud::kClientSecret) == std::string::npos);
    CHECK_FALSE(saved.exists());
}

TEST_CASE("scan --live: SARIF without --save-snapshot points at no file, with it, at the saved snapshot") {
    FakeCloud cloud({});
    testsupport::TempDir dir;
    auto validate = [](const std::string& sarif) {
        return testsupport::run_program("/usr/bin/python3", {testsupport::source_dir() + "/tests/tools/validate_sarif.py",
                                                             testsupport::sarif_schema_path(),
                                                             sarif});
    };
    auto uris = [](const json& sarif) {
        std::set<std::string> out;
        for (const auto& result : sarif["runs"][0]["results"])
            for (const char* list : {"locations", "relatedLocations"})
                for (const auto& location : result.value(list, json::array()))
                    if (location.contains("physicalLocation"))
                        out.insert(location["physicalLocation"]["artifactLocation"]["uri"].get<std::string>());
        return out;
    };

    CommandResult unsaved = cloud.scan_live({"--output", "sarif=" + dir.file("live.sarif")});
    REQUIRE_MESSAGE(unsaved.exitCode == 1, unsaved.err);
    json sarif = json::parse(read_file(dir.file("live.sarif")));
    CommandResult valid = validate(dir.file("live.sarif"));
    CHECK_MESSAGE(valid.exitCode == 0, valid.err);
    REQUIRE(sarif["runs"][0]["results"].size() > 0);
    CHECK(uris(sarif).empty());
    bool relatedNamed = false;
    for (const auto& result : sarif["runs"][0]["results"]) {
        CHECK(result["locations"][0]["logicalLocations"][0]["name"].is_string());  // still says whom it is about
        for (const auto& location : result.value("relatedLocations", json::array()))
            relatedNamed |= location["message"]["text"].get<std::string>().find("Conditional Access policy '") == 0;
    }
    CHECK(relatedNamed);
    CHECK(sarif["runs"][0]["invocations"][0]["properties"]["snapshot"] == "(live collection)");

    const std::string savedPath = dir.file("tenant.json");
    CommandResult kept = cloud.scan_live({"--save-snapshot", savedPath, "--output", "sarif=" + dir.file("saved.sarif")});
    REQUIRE_MESSAGE(kept.exitCode == 1, kept.err);
    CommandResult validSaved = validate(dir.file("saved.sarif"));
    CHECK_MESSAGE(validSaved.exitCode == 0, validSaved.err);
    CHECK(uris(json::parse(read_file(dir.file("saved.sarif")))) == std::set<std::string>{"file://" + savedPath});
}

TEST_CASE("collect: progress on stderr when it is a terminal, silent when not, --quiet and --verbose override") {
    FakeCloud cloud({});
    OutputPath output;
    // `script` gives the command a pseudo-terminal for stdin, stdout and stderr, and copies what
    // it writes there to its own stdout.
    auto on_terminal = [&](const std::vector<std::string>& extra) {
        std::string command = "'" + std::string(TENANTSCAN_CLI) + "' collect";
        std::vector<std::string> args = cloud.endpoint_args();
        args.insert(args.end(), {"--client-secret-env", fakecloud::kSecretVariable, "--output", output.path()});
        args.insert(args.end(), extra.begin(), extra.end());
        for (const auto& a : args) command += " '" + a + "'";
        CommandResult r = testsupport::run_program("/usr/bin/script", {"-qefc", command, "/dev/null"},
                                                   {fakecloud::kSecretVariable + "=" + fakecloud::kClientSecret});
        REQUIRE_MESSAGE(r.exitCode == 0, r.out << r.err);
        return r.out;
    };
    std::string terminal = on_terminal({});
    CHECK(terminal.find("\r\033[Kcollect: /graph/users: 9 objects so far") != std::string::npos);  // pages rewrite one line
    CHECK(terminal.find("collect: /graph/users: 9 objects\r\n") != std::string::npos);             // each section once done
    CHECK(terminal.find("collect: /exchange/hveAccounts: 4 objects") != std::string::npos);
    CHECK(terminal.find("tenantscan: wrote " + output.path()) != std::string::npos);
    CHECK(terminal.find("GET ") == std::string::npos);  // requests only with --verbose

    std::string quiet = on_terminal({"--quiet"});
    CHECK(quiet.find("collect:") == std::string::npos);
    CHECK(quiet.find("tenantscan: wrote") == std::string::npos);

    CommandResult piped = cloud.collect(output.path());
    REQUIRE(piped.exitCode == 0);
    CHECK(piped.err.find("collect:") == std::string::npos);
    CHECK(piped.err.find("tenantscan: wrote " + output.path()) != std::string::npos);

    CommandResult verbose = cloud.collect(output.path(), {"--verbose"});
    REQUIRE(verbose.exitCode == 0);
    CHECK(verbose.err.find("collect: /graph/users: started") != std::string::npos);
    CHECK(verbose.err.find("collect: /graph/users: 9 objects") != std::string::npos);
    CHECK(verbose.err.find("/graph/v1.0/users?$select=") != std::string::npos);  // one line per request
}

// Direct Send and connector relay (docs/microsoft-facts.md §10): RejectDirectSend comes with
// Get-OrganizationConfig, the connectors with Get-InboundConnector; the rules judge the inventory's
// devices against them. A connector list that cannot be read is listed in notCollected and the
// relay rule errors on it, never passes.
TEST_CASE("collect: Direct Send and inbound connectors are collected, and the rules use them") {
    const std::string tenantFile = fakecloud::example("fabrikam-broken");
    const json example = json::parse(read_file(tenantFile));
    TempFile clients(example["smtpClients"].dump(), ".json");
    auto verdict = [](const json& report, const std::string& rule, const std::string& subject) {
        for (const auto& f : report["findings"])
            if (f["rule"] == rule && f["subject"]["name"] == subject) return f["status"].get<std::string>();
        return std::string("(none)");
    };
    SUBCASE("collected") {
        FakeCloud cloud({tenantFile});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output, {"--sections", "/exchange/organizationConfig,/exchange/acceptedDomains,/exchange/inboundConnectors"});
        REQUIRE_MESSAGE(result.exitCode == 0, result.err);
        const json snapshot = output.read();
        CHECK(snapshot["exchange"]["organizationConfig"]["RejectDirectSend"] == true);
        CHECK(snapshot["exchange"]["inboundConnectors"] == example["exchange"]["inboundConnectors"]);
        CommandResult scan = run_cli({"scan", output.path(), "--clients", clients.path(), "--format", "json"});
        REQUIRE_MESSAGE((scan.exitCode == 0 || scan.exitCode == 1), scan.err);
        const json report = json::parse(scan.out);
        CHECK(verdict(report, "smtp-direct-send-available", "Badge printer") == "fail");         // RejectDirectSend true
        CHECK(verdict(report, "smtp-connector-relay-coverage", "Warehouse scanner") == "fail");  // its connector is disabled
    }
    SUBCASE("Get-InboundConnector refused: listed as not collected, the relay rule errors") {
        FakeCloud cloud({tenantFile, fault({{"path", "/exchange/"}, {"cmdlet", "Get-InboundConnector"}, {"action", "status"},
                                            {"status", 403}, {"times", -1}})});
        OutputPath output;
        CommandResult result = collect_checked(cloud, output, {"--sections", "/exchange/inboundConnectors,/exchange/organizationConfig"});
        CHECK(result.exitCode == 1);
        const json snapshot = output.read();
        CHECK_FALSE(snapshot["exchange"].contains("inboundConnectors"));
        CHECK(snapshot["notCollected"]["/exchange/inboundConnectors"].get<std::string>().find("403") == 0);
        CommandResult scan = run_cli({"scan", output.path(), "--clients", clients.path(), "--format", "json"});
        const json report = json::parse(scan.out);
        bool errored = false;
        for (const auto& f : report["findings"])
            if (f["rule"] == "smtp-connector-relay-coverage") {
                CHECK(f["status"] == "error");
                errored = true;
            }
        CHECK(errored);
    }
}
