// Starts tests/fakecloud/fake_cloud.py (a fake Microsoft Graph + Exchange Online + token
// endpoint on 127.0.0.1) for one test, with a scenario of injected faults.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace fakecloud {

// The client secret the fake cloud expects: characters that need form encoding on purpose.
inline const std::string kClientSecret = "fake~S3cr3t+value&with=special/chars.0123456789";
inline const std::string kClientId = "11111111-2222-3333-4444-555555555555";
inline const std::string kSecretVariable = "TENANTSCAN_TEST_CLIENT_SECRET";

// Keys and certificates (tests/fakecloud/make_pki.sh), made once per build tree: concurrent
// test processes wait on a lock while the first one creates them.
inline std::string pki_dir() {
    std::string dir = std::string(TENANTSCAN_BINARY_DIR) + "/tests/fakecloud-pki";
    std::string done = dir + "/done";
    ::mkdir((std::string(TENANTSCAN_BINARY_DIR) + "/tests").c_str(), 0755);
    int lock = ::open((dir + ".lock").c_str(), O_CREAT | O_RDWR, 0644);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + dir + ".lock");
    struct stat info {};
    bool fresh = ::stat(done.c_str(), &info) == 0 && std::time(nullptr) - info.st_mtime < 7 * 24 * 3600;
    if (!fresh) {
        std::string command = "sh '" + testsupport::source_dir() + "/tests/fakecloud/make_pki.sh' '" + dir + "'";
        if (std::system(command.c_str()) != 0) {
            ::close(lock);
            throw std::runtime_error("make_pki.sh failed");
        }
        std::ofstream(done) << "ok\n";
    }
    ::flock(lock, LOCK_UN);
    ::close(lock);
    return dir;
}

// A path for a snapshot that does not exist yet (collect must create it).
struct OutputPath {
    OutputPath() : file("", ".json") { std::remove(file.path().c_str()); }
    const std::string& path() const { return file.path(); }
    bool exists() const {
        struct stat info {};
        return ::stat(path().c_str(), &info) == 0;
    }
    nlohmann::json read() const { return nlohmann::json::parse(testsupport::read_file(path())); }
    testsupport::TempFile file;
};

inline std::string example(const std::string& name) {
    return testsupport::source_dir() + "/examples/" + name + "/snapshot.json";
}

class FakeCloud {
public:
    struct Options {
        std::string tenantFile = example("fabrikam-broken");
        nlohmann::json scenario = nlohmann::json::object();
        bool tls = true;
        bool proxy = false;
        std::string synthetic = {};  // JSON merged into fakeCloud.generate
        double latencyMs = 0;
    };

    explicit FakeCloud(Options options) : options_(std::move(options)) {
        scenarioFile_ = std::make_unique<testsupport::TempFile>(options_.scenario.dump());
        logFile_ = std::make_unique<testsupport::TempFile>("", ".jsonl");
        truthFile_ = std::make_unique<testsupport::TempFile>("", ".json");
        std::string pki = pki_dir();
        std::vector<std::string> args = {"/usr/bin/python3",
                                         testsupport::source_dir() + "/tests/fakecloud/fake_cloud.py",
                                         "--tenant", options_.tenantFile,
                                         "--scenario", scenarioFile_->path(),
                                         "--log", logFile_->path(),
                                         "--ground-truth", truthFile_->path(),
                                         "--app-cert", pki + "/app.pem"};
        if (options_.tls) {
            args.insert(args.end(), {"--cert", pki + "/server.pem", "--key", pki + "/server.key"});
        }
        if (options_.proxy) args.push_back("--proxy");
        if (!options_.synthetic.empty()) args.insert(args.end(), {"--synthetic", options_.synthetic});
        if (options_.latencyMs > 0) args.insert(args.end(), {"--latency-ms", std::to_string(options_.latencyMs)});

        int out[2];
        if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            // Should the test process die first (a sanitizer abort), the kernel kills the server, so
            // it does not keep the test's output pipe open and hang ctest until its timeout.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::dup2(out[1], 1);
            ::close(out[0]);
            ::close(out[1]);
            ::setenv("FAKE_CLOUD_CLIENT_SECRET", kClientSecret.c_str(), 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        std::unique_ptr<FILE, int (*)(FILE*)> reader(::fdopen(out[0], "r"), ::fclose);
        char line[256];
        int wanted = options_.proxy ? 3 : 2;
        while (wanted > 0 && std::fgets(line, sizeof line, reader.get()) != nullptr) {
            if (std::sscanf(line, "PORT %d", &port_) == 1 || std::sscanf(line, "PROXY %d", &proxyPort_) == 1 ||
                std::sscanf(line, "FOREIGN %d", &foreignPort_) == 1)
                --wanted;
        }
        if (wanted > 0) {
            stop();
            throw std::runtime_error("the fake cloud did not start");
        }
    }

    ~FakeCloud() { stop(); }
    FakeCloud(const FakeCloud&) = delete;
    FakeCloud& operator=(const FakeCloud&) = delete;

    int port() const { return port_; }
    int proxy_port() const { return proxyPort_; }
    std::string base() const { return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_); }

    // The flags that point `collect` at this cloud (without credentials).
    std::vector<std::string> endpoint_args(const std::string& base) const {
        std::vector<std::string> args = {"--tenant", tenant_id(), "--client-id", kClientId,
                                         "--login-url", base + "/login", "--graph-url", base + "/graph",
                                         "--exchange-url", base + "/exchange"};
        if (options_.tls) args.insert(args.end(), {"--ca-file", pki_dir() + "/ca.pem"});
        return args;
    }
    std::vector<std::string> endpoint_args() const { return endpoint_args(base()); }

    // `collect` with the client secret in an environment variable, writing `output`.
    testsupport::CommandResult collect(const std::string& output, const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> args = {"--output", output};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_with_secret("collect", args);
    }

    // `scan --live` against this cloud, with the client secret in an environment variable.
    testsupport::CommandResult scan_live(const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> args = {"--live"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_with_secret("scan", args);
    }

    // `tenantscan COMMAND` pointed at this cloud, the client secret in an environment variable.
    testsupport::CommandResult run_with_secret(const std::string& command, const std::vector<std::string>& args) const {
        std::vector<std::string> all = {command};
        auto endpoints = endpoint_args();
        all.insert(all.end(), endpoints.begin(), endpoints.end());
        all.insert(all.end(), {"--client-secret-env", kSecretVariable});
        all.insert(all.end(), args.begin(), args.end());
        return testsupport::run_cli(all, {kSecretVariable + "=" + kClientSecret});
    }

    std::string tenant_id() const {
        return nlohmann::json::parse(testsupport::read_file(options_.tenantFile)).value("tenantId", "");
    }

    // What a complete collection of the tenant holds (fake_cloud.py --ground-truth).
    nlohmann::json ground_truth() const { return nlohmann::json::parse(testsupport::read_file(truthFile_->path())); }
    std::string tenant_file() const { return options_.tenantFile; }
    int foreign_port() const { return foreignPort_; }

    // Every request the cloud saw, in arrival order (token requests too).
    std::vector<nlohmann::json> log() const {
        std::vector<nlohmann::json> entries;
        std::istringstream lines(testsupport::read_file(logFile_->path()));
        for (std::string line; std::getline(lines, line);)
            if (!line.empty()) entries.push_back(nlohmann::json::parse(line));
        return entries;
    }

private:
    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }

    Options options_;
    std::unique_ptr<testsupport::TempFile> scenarioFile_, logFile_, truthFile_;
    pid_t pid_ = -1;
    int port_ = 0;
    int proxyPort_ = 0;
    int foreignPort_ = 0;
};

}  // namespace fakecloud
