// A real SMTP server on 127.0.0.1 for the smtp-test suite: tests/smtp/loopback_smtp_server.py
// (Debian's aiosmtpd), one per test, configured to reproduce one scenario, and the test
// certificates from tests/smtp/make_certificates.sh. The server binds port 0 and reports the port
// it got; the destructor stops it even when the test fails, and the kernel kills it should the
// test process die first (PR_SET_PDEATHSIG), so no server outlives the suite.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace smtptest {

inline std::string make_temp_dir(const char* prefix) {
    std::string pattern = std::string("/tmp/") + prefix + "-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data())) throw std::runtime_error("mkdtemp failed");
    return buffer.data();
}

// The certificates, made once per test run in a temporary directory removed at exit.
class Certificates {
public:
    static const Certificates& get() {
        static const Certificates instance;
        return instance;
    }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    ~Certificates() { std::filesystem::remove_all(dir_); }

private:
    Certificates() : dir_(make_temp_dir("tenantscan-smtp-certs")) {
        std::string command = "sh '" + testsupport::source_dir() + "/tests/smtp/make_certificates.sh' '" + dir_ + "'";
        if (std::system(command.c_str()) != 0) throw std::runtime_error("make_certificates.sh failed");
    }
    std::string dir_;
};

// JSON configuration for loopback_smtp_server.py with the certificate `name` (server, wronghost,
// expired, untrusted) and the account that may sign in.
inline nlohmann::json server_config(const std::string& user, const std::string& certificate = "server") {
    const auto& certs = Certificates::get();
    return {{"cert", certs.path(certificate + ".pem")}, {"key", certs.path(certificate + ".key")}, {"user", user}};
}

class LoopbackServer {
public:
    // The password and token reach the server through its environment, never its command line.
    // `script`: loopback_smtp_server.py (aiosmtpd, a real server) or scripted_smtp_server.py (says
    // exactly what the scenario asks, protocol violations included).
    LoopbackServer(nlohmann::json config, const std::string& password, const std::string& token = "",
                   const std::string& scriptName = "loopback_smtp_server.py")
        : spool_(make_temp_dir("tenantscan-smtp-spool")) {
        config["spool"] = spool_;
        std::string configText = config.dump();
        std::string script = testsupport::source_dir() + "/tests/smtp/" + scriptName;
        std::string log = spool_ + "/server.log";
        int out[2];
        if (pipe(out) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            dup2(out[1], STDOUT_FILENO);
            close(out[0]);
            close(out[1]);
            int err = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (err >= 0) dup2(err, STDERR_FILENO);
            setenv("SMTP_TEST_PASSWORD", password.c_str(), 1);
            setenv("SMTP_TEST_TOKEN", token.c_str(), 1);
            const char* python = "/usr/bin/python3";  // Debian's aiosmtpd is visible to this one only
            execl(python, python, script.c_str(), configText.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        close(out[1]);
        try {
            port_ = read_port(out[0]);
        } catch (...) {
            close(out[0]);
            stop();
            throw;
        }
        close(out[0]);
    }

    ~LoopbackServer() {
        stop();
        std::filesystem::remove_all(spool_);
    }

    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    int port() const { return port_; }
    std::string port_text() const { return std::to_string(port_); }

    // The messages the server accepted (250 after the message it took after 354), each with
    // X-Envelope-To (and, from aiosmtpd, X-Envelope-From) headers in front; in arrival order.
    std::vector<std::string> received() const {
        std::vector<std::filesystem::path> paths;
        for (const auto& entry : std::filesystem::directory_iterator(spool_))
            if (entry.path().extension() == ".eml") paths.push_back(entry.path());
        std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) {
            return std::stoi(a.stem().string()) < std::stoi(b.stem().string());
        });
        std::vector<std::string> messages;
        for (const auto& path : paths) messages.push_back(testsupport::read_file(path.string()));
        return messages;
    }

    // How many sign-ins the server accepted with 235.
    std::size_t sign_ins() const {
        std::size_t count = 0;
        for (const auto& entry : std::filesystem::directory_iterator(spool_))
            if (entry.path().filename().string().rfind("auth.ok", 0) == 0) ++count;
        return count;
    }

private:
    int read_port(int fd) {
        std::string line;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (line.find('\n') == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{fd, POLLIN, 0};
            if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char buffer[64];
            auto n = read(fd, buffer, sizeof buffer);
            if (n <= 0) break;
            line.append(buffer, static_cast<std::size_t>(n));
        }
        if (line.rfind("PORT ", 0) != 0)
            throw std::runtime_error("the loopback SMTP server did not start: " + testsupport::read_file(spool_ + "/server.log"));
        return std::stoi(line.substr(5));
    }

    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (waitpid(pid_, &status, WNOHANG) == 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
        }
        pid_ = -1;
    }

    std::string spool_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace smtptest
