// The cpprestsdk transport's lifetime: nothing it started may outlive it. cpprestsdk's thread pool
// is never shut down, so a request or connection still alive on it when the process exits is torn
// down concurrently with exit (a SIGSEGV after the snapshot was written); see docs/collect.md.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "http_transport.hpp"

using namespace tenantscan::collect::detail;

namespace {

// A loopback HTTP server for one connection, driven step by step from the test's own thread.
class OneConnectionServer {
public:
    OneConnectionServer() {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 4) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        port_ = ntohs(address.sin_port);
    }
    ~OneConnectionServer() {
        if (connection_ >= 0) ::close(connection_);
        ::close(listener_);
    }
    OneConnectionServer(const OneConnectionServer&) = delete;
    OneConnectionServer& operator=(const OneConnectionServer&) = delete;

    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

    // Accepts the connection and reads one request's head (the client sends no body).
    void read_request() {
        if (connection_ < 0) connection_ = ::accept(listener_, nullptr, nullptr);
        REQUIRE(connection_ >= 0);
        std::string head;
        char buffer[4096];
        while (head.find("\r\n\r\n") == std::string::npos) {
            REQUIRE(wait_readable(std::chrono::seconds(30)));
            ssize_t n = ::recv(connection_, buffer, sizeof buffer, 0);
            REQUIRE(n > 0);
            head.append(buffer, static_cast<std::size_t>(n));
        }
    }

    void send_text(const std::string& text) {
        REQUIRE(::send(connection_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()));
    }

    // On its own thread (join it before the checks): reads one request and answers with `response`.
    std::thread answer_once(std::string response) {
        return std::thread([this, response = std::move(response)] {
            read_request();
            send_text(response);
        });
    }

    // Whether the client has closed the connection by now: no waiting, what is there is read.
    bool closed_by_client() {
        char buffer[4096];
        for (;;) {
            ssize_t n = ::recv(connection_, buffer, sizeof buffer, MSG_DONTWAIT);
            if (n == 0) return true;
            if (n < 0) return errno == ECONNRESET;  // EAGAIN: still open
        }
    }

private:
    bool wait_readable(std::chrono::milliseconds limit) {
        pollfd entry{connection_, POLLIN, 0};
        return ::poll(&entry, 1, static_cast<int>(limit.count())) == 1;
    }

    int listener_ = -1;
    int connection_ = -1;
    int port_ = 0;
};

TransportSettings settings_with_limit(std::size_t maxResponseBytes) {
    TransportSettings settings;
    settings.timeout = std::chrono::seconds(60);  // longer than the test: nothing here may wait for it
    settings.maxResponseBytes = maxResponseBytes;
    return settings;
}

}  // namespace

TEST_CASE("cpprest transport: a response given up on over the size limit is not read on, and the transport's end closes its connection") {
    OneConnectionServer server;
    // The server announces more than the limit, sends a little of it and then nothing: a request
    // left running would wait for the rest (until the 60 s timeout) on cpprestsdk's threads,
    // holding the connection after send() returned and after the transport was destroyed.
    std::thread serving = server.answer_once(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{\"value\": [");
    auto transport = make_cpprest_transport(settings_with_limit(1024));
    HttpRequest request{"GET", server.url("/graph/v1.0/users"), {}, {}};
    bool tooLarge = false;
    try {
        transport->send(request);
    } catch (const TransportFailure& failure) {
        tooLarge = failure.kind() == TransportFailure::Kind::TooLarge;
    }
    serving.join();
    CHECK(tooLarge);
    transport.reset();
    CHECK(server.closed_by_client());
}

TEST_CASE("cpprest transport: once the transport is gone, its pooled keep-alive connection is closed") {
    OneConnectionServer server;
    std::thread serving =
        server.answer_once("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    auto transport = make_cpprest_transport(settings_with_limit(1024));
    HttpResponse response = transport->send(HttpRequest{"GET", server.url("/graph/v1.0/organization"), {}, {}});
    serving.join();
    CHECK(response.status == 200);
    CHECK(response.body == "{}");
    CHECK_FALSE(server.closed_by_client());  // kept alive for the next request while the transport lives
    transport.reset();
    CHECK(server.closed_by_client());
}
