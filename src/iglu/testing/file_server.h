// Tests only: a tiny HTTP/1.0 file server on 127.0.0.1 serving GET <path> from a directory. Used to
// stand in for a static Iglu registry and for the JSON-Schema suite's remotes. It can be stopped
// and started again on the same port to simulate a registry outage.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace furrow::iglu::testing {

class FileServer {
 public:
  explicit FileServer(std::filesystem::path root) : root_(std::move(root)) {}
  ~FileServer() { stop(); }
  FileServer(const FileServer&) = delete;
  FileServer& operator=(const FileServer&) = delete;

  // Binds 127.0.0.1:`port` (0 = any free port, or the port used before when restarting).
  bool start(int port = 0) {
    if (port == 0) port = port_;
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd_, 64) != 0) {
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    running_ = true;
    thread_ = std::thread([this] { loop(); });
    return true;
  }

  void stop() {
    if (!running_) return;
    running_ = false;
    thread_.join();
    ::close(fd_);
    fd_ = -1;
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_; }

 private:
  void loop() {
    while (running_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      handle(c);
      ::close(c);
    }
  }

  void handle(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return;
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) return;
      req.append(buf, static_cast<std::size_t>(n));
    }
    ++requests_;
    std::istringstream line(req.substr(0, req.find("\r\n")));
    std::string method, target;
    line >> method >> target;
    auto q = target.find_first_of("?#");
    if (q != std::string::npos) target.resize(q);
    std::string body;
    int status = 404;
    if (method == "GET" && target.find("..") == std::string::npos && !target.empty() &&
        target[0] == '/') {
      auto path = root_ / target.substr(1);
      if (std::filesystem::is_regular_file(path)) {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        body = ss.str();
        status = 200;
      }
    }
    std::string head =
        "HTTP/1.0 " + std::to_string(status) + (status == 200 ? " OK" : " Not Found") +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n";
    std::string all = head + body;
    std::size_t off = 0;
    while (off < all.size()) {
      ssize_t n = ::send(c, all.data() + off, all.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }

  std::filesystem::path root_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> running_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace furrow::iglu::testing
