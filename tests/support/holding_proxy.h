// A TCP proxy on 127.0.0.1 in front of one upstream port that can hold new
// connections: accepted, but not forwarded until released. A client that
// connects while the proxy holds waits for the server's first bytes, which
// keeps a worker "mid-job" for exactly as long as a test needs. It can also
// cut a connection once the server has sent it a number of bytes: a
// connection lost mid-job.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace sqlx::testing {

class HoldingProxy {
 public:
  // Listens on 127.0.0.1:0 (port() says which) and forwards to
  // 127.0.0.1:`upstream_port`. port() is 0 when it cannot listen.
  explicit HoldingProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(0);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
    accepter_ = std::thread([this] { AcceptLoop(); });
  }
  // Closes every connection, held or forwarded, and joins its threads.
  ~HoldingProxy() {
    stop_ = true;
    if (accepter_.joinable()) accepter_.join();
    std::vector<std::thread> pumps;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pumps.swap(pumps_);
      for (int fd : held_) ::close(fd);
      held_.clear();
    }
    for (std::thread& t : pumps) t.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  HoldingProxy(const HoldingProxy&) = delete;
  HoldingProxy& operator=(const HoldingProxy&) = delete;

  int port() const { return port_; }

  // Connections accepted from now on wait until Release(), but for the
  // next `pass_first`, which are forwarded.
  void Hold(size_t pass_first = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    holding_ = true;
    pass_first_ = pass_first;
  }
  // Forwards the waiting connections (a client gone meanwhile is simply
  // closed again) and every later one.
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    holding_ = false;
    for (int fd : held_) pumps_.emplace_back([this, fd] { Pump(fd, nullptr, 0); });
    held_.clear();
  }
  // The next connection accepted is closed (both ways) once the server has
  // sent it `server_bytes` bytes.
  void CutNext(size_t server_bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    cut_next_ = server_bytes;
  }
  // Bytes the server sent on each connection so far, in accept order.
  std::vector<size_t> server_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<size_t> out;
    for (const std::atomic<size_t>& n : sent_) out.push_back(n.load());
    return out;
  }
  // Connections waiting now.
  size_t held() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.size();
  }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
  }

  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      std::atomic<size_t>* sent = &sent_.emplace_back(0);
      const size_t cut = cut_next_;
      cut_next_ = 0;
      if (holding_ && pass_first_ == 0) {
        held_.push_back(fd);
      } else {
        if (holding_) --pass_first_;
        pumps_.emplace_back([this, fd, sent, cut] { Pump(fd, sent, cut); });
      }
    }
  }

  // Copies bytes both ways until either side closes or the proxy stops, or
  // (cut > 0) the server has sent `cut` bytes; counts the server's in `sent`.
  void Pump(int client, std::atomic<size_t>* sent, size_t cut) {
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(upstream_port_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(server);
      ::close(client);
      return;
    }
    char buf[65536];
    while (!stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 100) <= 0) continue;
      bool closed = false;
      for (int i = 0; i < 2 && !closed; ++i) {
        if (fds[i].revents == 0) continue;
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        closed = n <= 0 || !WriteAll(fds[1 - i].fd, buf, static_cast<size_t>(n));
        if (!closed && i == 1 && sent != nullptr) {
          const size_t total = *sent += static_cast<size_t>(n);
          closed = cut > 0 && total >= cut;
        }
      }
      if (closed) break;
    }
    ::close(server);
    ::close(client);
  }

  static bool WriteAll(int fd, const char* data, size_t n) {
    while (n > 0) {
      const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  const int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accepter_;
  std::mutex mu_;
  bool holding_ = false;
  size_t cut_next_ = 0;
  std::deque<std::atomic<size_t>> sent_;  // per connection, in accept order (a deque: stable addresses)
  size_t pass_first_ = 0;  // while holding: connections still let through
  std::vector<int> held_;
  std::vector<std::thread> pumps_;
};

}  // namespace sqlx::testing
