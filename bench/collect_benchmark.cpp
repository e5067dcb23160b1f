// Collection benchmark (not a test): collects a large synthetic tenant from the fake cloud
// (tests/fakecloud/fake_cloud.py) with injected latency, and compares the requests and wall time
// of `tenantscan collect` with the ideal (lower bound) and with a naive crawl of every group.
//
//   collect_benchmark [--users N] [--groups N] [--referenced N] [--policies N] [--hve N]
//                     [--latency-ms MS] [--concurrency N] [--skip-naive]
//
// Defaults are the issue's: 200 000 users, 20 000 groups of which policies reference 60,
// 195 policies, 2 000 HVE accounts, 50 ms per request, 4 requests in flight.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tenantscan/collect.hpp>

#include "api_client.hpp"
#include "http_transport.hpp"
#include "parallel.hpp"
#include "session.hpp"
#include "token_provider.hpp"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace collect = tenantscan::collect;

constexpr const char* kSecret = "benchmark-client-secret-value";
constexpr const char* kClientId = "11111111-2222-3333-4444-555555555555";
constexpr const char* kTenantId = "5e1f0c2d-0000-4000-8000-00000000be0c";

struct Settings {
    int users = 200000, groups = 20000, referenced = 60, policies = 195, hve = 2000;
    double latencyMs = 50;
    int concurrency = 4;
    bool naive = true;
};

// The fake cloud as a child process, plain http on loopback (the request pattern is what is
// measured; TLS would only add the fake's own CPU time).
class FakeCloud {
public:
    FakeCloud(const Settings& s, const std::string& tenantFile, const std::string& logFile) {
        json synthetic = {{"users", s.users}, {"groups", s.groups}, {"referencedGroups", s.referenced},
                          {"policies", s.policies}, {"hveAccounts", s.hve}, {"membersPerGroup", 10}};
        std::vector<std::string> args = {"/usr/bin/python3", std::string(TENANTSCAN_SOURCE_DIR) + "/tests/fakecloud/fake_cloud.py",
                                         "--tenant", tenantFile, "--log", logFile, "--synthetic", synthetic.dump(),
                                         "--latency-ms", std::to_string(s.latencyMs)};
        int out[2];
        if (pipe(out) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ == 0) {
            dup2(out[1], 1);
            close(out[0]);
            setenv("FAKE_CLOUD_CLIENT_SECRET", kSecret, 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(out[1]);
        FILE* reader = fdopen(out[0], "r");
        char line[128];
        while (fgets(line, sizeof line, reader) != nullptr && std::sscanf(line, "PORT %d", &port_) != 1) {
        }
        fclose(reader);
        if (port_ == 0) throw std::runtime_error("the fake cloud did not start");
    }
    ~FakeCloud() {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

json base_tenant() {
    return {{"snapshotVersion", 1},
            {"tenantId", kTenantId},
            {"fakeCloud", {{"clientId", kClientId}}},
            {"graph",
             {{"namedLocations", json::array()},
              {"securityDefaults", {{"id", "00000000-0000-0000-0000-000000000005"}, {"isEnabled", false}}},
              {"roleAssignments", json::array()},
              {"subscribedSkus", json::array()},
              {"signIns", json::array()}}},
            {"exchange",
             {{"organizationConfig", {{"DefaultAuthenticationPolicy", nullptr}}},
              {"transportConfig", {{"SmtpClientAuthenticationDisabled", true}}},
              {"authenticationPolicies", json::array()},
              {"hveBillingPolicies", json::array()},
              {"acceptedDomains", json::array({{{"DomainName", "synthetic.example"}, {"Default", true}}})}}}};
}

collect::CollectOptions options_for(const FakeCloud& cloud, const Settings& s) {
    collect::CollectOptions options;
    options.tenant = kTenantId;
    options.clientId = kClientId;
    options.credentials.clientSecret = kSecret;
    options.endpoints = {cloud.base() + "/login", cloud.base() + "/graph", cloud.base() + "/exchange"};
    options.concurrency = s.concurrency;
    options.deadline = std::chrono::hours(2);
    return options;
}

std::size_t count_lines(const std::string& path, const std::string& needle) {
    std::ifstream in(path);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
    return n;
}

struct Run {
    std::string name;
    std::size_t requests = 0;
    double seconds = 0;
    double idealSeconds = 0;
    std::string idealNote;
};

void print(const std::vector<Run>& runs, const Settings& s) {
    std::cout << "\nSynthetic tenant: " << s.users << " users, " << s.groups << " groups (" << s.referenced
              << " referenced by policies), " << s.policies << " policies, " << s.hve << " HVE accounts; "
              << s.latencyMs << " ms per request, " << s.concurrency << " requests in flight.\n\n"
              << "| run | HTTP requests | wall time | ideal | ideal is |\n|---|---:|---:|---:|---|\n";
    for (const auto& r : runs) {
        char line[512];
        std::snprintf(line, sizeof line, "| %s | %zu | %.1f s | %.1f s | %s |\n", r.name.c_str(), r.requests, r.seconds,
                      r.idealSeconds, r.idealNote.c_str());
        std::cout << line;
    }
}

// Lower bound: the longer of the dependent chain and the work spread over the concurrency.
Run with_ideal(Run run, std::size_t chain, const Settings& s, const std::string& chainNote) {
    double latency = s.latencyMs / 1000.0;
    double spread = std::ceil(static_cast<double>(run.requests) / s.concurrency) * latency;
    double critical = static_cast<double>(chain) * latency;
    run.idealSeconds = std::max(spread, critical);
    run.idealNote = spread >= critical ? "requests / concurrency" : "critical path: " + chainNote;
    return run;
}

// A naive crawl of the groups: every group listed, then each group's members one request at a
// time (no $batch), with the same concurrency.
Run naive_groups(const FakeCloud& cloud, const Settings& s) {
    collect::CollectOptions options = options_for(cloud, s);
    auto transport = collect::detail::make_cpprest_transport({options.requestTimeout, "", {}});
    collect::detail::Session session(options, *transport, {});
    collect::detail::TokenProvider tokens(session, options);
    collect::detail::ApiClient api(session, tokens, {"Microsoft Graph", options.endpoints.graph},
                                   {"Exchange Online", options.endpoints.exchange});
    auto started = Clock::now();
    auto groups = api.list(api.graph(), api.graph().base + "/v1.0/groups?$select=id,displayName&$top=999", "/graph/groups");
    std::atomic<std::size_t> members{0};
    collect::detail::parallel_for(groups.size(), s.concurrency, [&](std::size_t i) {
        std::string id = groups[i]["id"];
        members += api.list(api.graph(), api.graph().base + "/v1.0/groups/" + id + "/members?$select=id&$top=999",
                            "/graph/groups")
                       .size();
    });
    Run run{"groups only, naive crawl (every group, one request per group)", session.stats().requests,
            std::chrono::duration<double>(Clock::now() - started).count(), 0, ""};
    std::size_t listPages = (groups.size() + 998) / 999;
    return with_ideal(run, 1 + listPages + 1, s, "token + group list pages + one members page");
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> double {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return std::atof(argv[++i]);
        };
        if (a == "--users") s.users = static_cast<int>(next());
        else if (a == "--groups") s.groups = static_cast<int>(next());
        else if (a == "--referenced") s.referenced = static_cast<int>(next());
        else if (a == "--policies") s.policies = static_cast<int>(next());
        else if (a == "--hve") s.hve = static_cast<int>(next());
        else if (a == "--latency-ms") s.latencyMs = next();
        else if (a == "--concurrency") s.concurrency = static_cast<int>(next());
        else if (a == "--skip-naive") s.naive = false;
        else {
            std::cerr << "usage: collect_benchmark [--users N] [--groups N] [--referenced N] [--policies N] [--hve N] "
                         "[--latency-ms MS] [--concurrency N] [--skip-naive]\n";
            return 2;
        }
    }

    std::string tenantFile = "/tmp/tenantscan-bench-tenant.json";
    std::string logFile = "/tmp/tenantscan-bench-requests.jsonl";
    std::ofstream(tenantFile) << base_tenant().dump();
    std::remove(logFile.c_str());
    std::cerr << "starting the fake cloud (generating the synthetic tenant)...\n";
    FakeCloud cloud(s, tenantFile, logFile);
    std::vector<Run> runs;

    {
        std::cerr << "tenantscan collect, every section...\n";
        auto started = Clock::now();
        auto result = collect::collect_snapshot(options_for(cloud, s));
        Run run{"tenantscan collect, every section", result.stats.requests,
                std::chrono::duration<double>(Clock::now() - started).count(), 0, ""};
        if (!result.complete())
            for (const auto& [section, reason] : result.notCollected) std::cerr << section << ": " << reason << "\n";
        std::size_t userPages = (static_cast<std::size_t>(s.users) + 998) / 999;
        // The longest chain of dependent requests: the token, then the users' pages one after the
        // other (every other section runs beside them).
        runs.push_back(with_ideal(run, 1 + userPages, s, "token + user pages"));
        std::cerr << "  " << result.stats.requests << " requests (" << result.stats.batchedRequests << " in $batch), "
                  << count_lines(logFile, "\"cmdlet\": \"Get-") << " Exchange cmdlet calls\n";
    }
    {
        std::cerr << "tenantscan collect, groups only...\n";
        collect::CollectOptions options = options_for(cloud, s);
        options.sections = {"/graph/groups"};
        auto started = Clock::now();
        auto result = collect::collect_snapshot(options);
        Run run{"groups only, tenantscan (referenced groups, $batch)", result.stats.requests,
                std::chrono::duration<double>(Clock::now() - started).count(), 0, ""};
        // The token, the policies' pages (100 a page), the HVE group's name lookup, then the
        // referenced groups' objects and member pages in $batch requests of 20, `concurrency`
        // batches at a time (the synthetic groups a policy names have no nested groups).
        std::size_t policyPages = (static_cast<std::size_t>(s.policies) + 99) / 100;
        std::size_t batches = (2 * static_cast<std::size_t>(s.referenced) + 19) / 20;
        std::size_t batchRounds = (batches + s.concurrency - 1) / s.concurrency;
        runs.push_back(with_ideal(run, 1 + policyPages + 1 + batchRounds, s,
                                  "token + policy pages + name lookup + batch rounds"));
    }
    if (s.naive) {
        std::cerr << "naive crawl of every group...\n";
        runs.push_back(naive_groups(cloud, s));
    }
    print(runs, s);
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) != 3) load[0] = -1;
    std::cout << "\nMachine: " << sysconf(_SC_NPROCESSORS_ONLN) << " CPUs online, load average " << load[0]
              << " at the end (other work on the machine slows the fake cloud and the client).\n";
    return 0;
}
