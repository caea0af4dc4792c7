// An in-process TCP server on 127.0.0.1 (port 0) for socket and TLS tests:
// it accepts one connection, optionally runs the TLS handshake, and hands
// the accepted end to a test-supplied session function in its own thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sqlx::testing {

using Bytes = std::vector<uint8_t>;

inline constexpr int kServerWaitMs = 10000;  // bounds every server-side wait

// The accepted end of a TestServer connection, plain or TLS.
class ServerSide {
 public:
  ServerSide(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}

  bool ReadExactly(Bytes& out, size_t size) {
    out.resize(size);
    for (size_t filled = 0; filled < size;) {
      const int got = ssl_ != nullptr
                          ? SSL_read(ssl_, out.data() + filled, static_cast<int>(size - filled))
                          : static_cast<int>(recv(fd_, out.data() + filled, size - filled, 0));
      if (got <= 0) return false;
      filled += static_cast<size_t>(got);
    }
    return true;
  }

  bool Write(const Bytes& data) {
    for (size_t done = 0; done < data.size();) {
      const int sent =
          ssl_ != nullptr
              ? SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done))
              : static_cast<int>(send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL));
      if (sent <= 0) return false;
      done += static_cast<size_t>(sent);
    }
    return true;
  }

  // Blocks until the client closes (or kServerWaitMs passes).
  void WaitForClientClose() {
    Bytes ignored;
    while (ReadExactly(ignored, 1)) {
    }
  }

  // Sends close_notify first when `tls_goodbye` and TLS is on.
  void CloseNow(bool tls_goodbye) {
    if (ssl_ != nullptr && tls_goodbye) SSL_shutdown(ssl_);
    shutdown(fd_, SHUT_RDWR);
  }

 private:
  int fd_;
  SSL* ssl_;
};

// Accepts one connection on 127.0.0.1:0 and runs `session` on it in a thread;
// with a `tls` context it runs SSL_accept first (no session if that fails).
class TestServer {
 public:
  explicit TestServer(std::function<void(ServerSide&)> session, SSL_CTX* tls = nullptr)
      : tls_(tls) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
    socklen_t length = sizeof(address);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, session = std::move(session)] { Serve(session); });
  }
  ~TestServer() {
    thread_.join();
    close(listen_fd_);
  }

  uint16_t port() const { return port_; }

 private:
  void Serve(const std::function<void(ServerSide&)>& session) {
    sigset_t pipe;  // a client that hangs up must not kill the test binary
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    pollfd entry{listen_fd_, POLLIN, 0};
    if (poll(&entry, 1, kServerWaitMs) != 1) return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    const timeval wait{kServerWaitMs / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait));
    SSL* ssl = nullptr;
    if (tls_ != nullptr) {
      ssl = SSL_new(tls_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        close(fd);
        ERR_clear_error();
        return;
      }
    }
    ServerSide side(fd, ssl);
    session(side);
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
  }

  SSL_CTX* tls_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace sqlx::testing
