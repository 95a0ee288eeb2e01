// A tiny HTTP/1.1 collector stand-in for the tracker's unit tests: listens on 127.0.0.1 (ephemeral
// port), reads each request (Content-Length framed), records it, and answers with the status the
// test chooses (one request per connection, "Connection: close").
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace furrow::tracker::test {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::string headers;  // raw header block
  std::string body;
  std::chrono::steady_clock::time_point at;
};

class TestServer {
 public:
  // `status_for(n)` gives the answer to the n-th request (0-based).
  // `headers_for(n)` adds header lines ("Name: value\r\n") to the n-th answer.
  explicit TestServer(
      std::function<int(std::size_t)> status_for = [](std::size_t) { return 200; },
      std::function<std::string(std::size_t)> headers_for = {})
      : status_for_(std::move(status_for)), headers_for_(std::move(headers_for)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~TestServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  // Polls until `n` requests arrived or `timeout` passed.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (count() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return count() >= n;
  }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      serve(c);
      ::close(c);
    }
  }

  void serve(int c) {
    std::string buf;
    char tmp[65536];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::size_t head_end = std::string::npos;
    std::size_t length = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return;
      buf.append(tmp, static_cast<std::size_t>(n));
      if (head_end == std::string::npos) {
        head_end = buf.find("\r\n\r\n");
        if (head_end == std::string::npos) continue;
        std::string lower = buf.substr(0, head_end);
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        auto cl = lower.find("content-length:");
        if (cl != std::string::npos) length = std::stoul(lower.substr(cl + 15));
      }
      if (buf.size() >= head_end + 4 + length) break;
    }
    if (head_end == std::string::npos) return;
    RecordedRequest r;
    const auto sp1 = buf.find(' ');
    const auto sp2 = buf.find(' ', sp1 + 1);
    r.method = buf.substr(0, sp1);
    r.target = buf.substr(sp1 + 1, sp2 - sp1 - 1);
    r.headers = buf.substr(0, head_end);
    r.body = buf.substr(head_end + 4, length);
    r.at = std::chrono::steady_clock::now();
    std::size_t index;
    {
      std::lock_guard lock(mutex_);
      index = requests_.size();
      requests_.push_back(r);
    }
    const int status = status_for_(index);
    std::string resp = "HTTP/1.1 " + std::to_string(status) +
                       " X\r\nContent-Length: 2\r\nConnection: close\r\n" +
                       (headers_for_ ? headers_for_(index) : std::string()) + "\r\nok";
    ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
  }

  std::function<int(std::size_t)> status_for_;
  std::function<std::string(std::size_t)> headers_for_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  std::thread thread_;
};

}  // namespace furrow::tracker::test
