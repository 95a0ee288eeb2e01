// Helpers for the collector's integration tests: start/stop the built `furrow collector` on an
// ephemeral 127.0.0.1 port, and a minimal blocking HTTP/1.1 client over raw sockets (so tests
// control every byte sent, including malformed requests).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace furrow::test::collector {

namespace fs = std::filesystem;

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string raw;
  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == lower(name)) return v;
    }
    return "";
  }
  bool has(const std::string& name) const {
    for (const auto& h : headers) {
      if (h.first == lower(name)) return true;
    }
    return false;
  }
};

// One client connection.
class Connection {
 public:
  explicit Connection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    int one = 1;
    if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  bool ok() const { return fd_ >= 0; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (Content-Length framed). nullopt on timeout or a closed connection.
  std::optional<Response> read(int timeout_ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        Response r;
        std::string head = buf_.substr(0, end);
        std::istringstream hs(head);
        std::string line;
        std::getline(hs, line);
        if (line.size() < 12) return std::nullopt;
        r.status = std::stoi(line.substr(9, 3));
        std::size_t length = 0;
        while (std::getline(hs, line)) {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          auto colon = line.find(':');
          if (colon == std::string::npos) continue;
          std::string name = lower(line.substr(0, colon));
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          if (name == "content-length") length = std::stoul(value);
          r.headers.emplace_back(name, value);
        }
        if (head_only_) length = 0;
        if (buf_.size() >= end + 4 + length) {
          r.body = buf_.substr(end + 4, length);
          r.raw = buf_.substr(0, end + 4 + length);
          buf_.erase(0, end + 4 + length);
          return r;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char tmp[65536];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

  // True when the peer closed the connection within the timeout.
  bool closed_by_peer(int timeout_ms = 3000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char tmp[4096];
    return ::recv(fd_, tmp, sizeof tmp, 0) <= 0;
  }

  void expect_head(bool v) { head_only_ = v; }

 private:
  int fd_ = -1;
  std::string buf_;
  bool head_only_ = false;
};

// A port that was free a moment ago (for listeners that cannot report an ephemeral port).
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::string request(const std::string& method, const std::string& target,
                           const std::vector<std::pair<std::string, std::string>>& headers = {},
                           const std::string& body = "", bool close = false) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [n, v] : headers) r += n + ": " + v + "\r\n";
  if (!body.empty() || method == "POST")
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) r += "Connection: close\r\n";
  r += "\r\n" + body;
  return r;
}

// A running `furrow collector`. The config is written to a file; `extra_args` are flags.
class Collector {
 public:
  Collector(const std::string& yaml, std::vector<std::string> extra_args, fs::path dir)
      : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    config_ = dir_ / "collector.yaml";
    std::ofstream(config_) << "collector:\n" << yaml;
    stderr_ = dir_ / ("stderr-" + std::to_string(++starts_) + ".log");
    std::vector<std::string> args = {
        furrow_bin().string(), "collector", "--config", config_.string(), "--host",
        "127.0.0.1",           "--port",    "0"};
    for (auto& a : extra_args) args.push_back(a);
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(stderr_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (std::find(args.begin(), args.end(), "stdout") == args.end()) ::dup2(devnull, 1);
      // Keep ASan's quarantine small so memory-bound checks measure the collector, not ASan.
      std::string asan = "quarantine_size_mb=16:malloc_context_size=5";
      if (const char* prev = std::getenv("ASAN_OPTIONS")) asan = std::string(prev) + ":" + asan;
      ::setenv("ASAN_OPTIONS", asan.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::regex re("listening on [^ ]+:([0-9]+) admin ([0-9]+)");
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(stderr_);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::smatch m;
      if (std::regex_search(text, m, re)) {
        port_ = static_cast<uint16_t>(std::stoi(m[1]));
        admin_port_ = static_cast<uint16_t>(std::stoi(m[2]));
        return;
      }
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        ADD_FAILURE() << "collector exited at start-up: " << text;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "collector did not start";
  }
  ~Collector() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  pid_t pid() const { return pid_; }
  std::string stderr_text() const { return read_file(stderr_); }

  // Sends SIGTERM (or `sig`) and waits; returns the exit status and the time it took.
  int stop(int sig, std::chrono::milliseconds* took = nullptr) {
    auto t0 = std::chrono::steady_clock::now();
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    if (took)
      *took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - t0);
    return status;
  }

  Response get(const std::string& method, const std::string& target,
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               const std::string& body = "") {
    Connection c(port_);
    EXPECT_TRUE(c.ok());
    c.expect_head(method == "HEAD");
    c.send(request(method, target, headers, body, true));
    auto r = c.read();
    EXPECT_TRUE(r.has_value()) << method << " " << target;
    return r.value_or(Response{});
  }

  long rss_kb() const { return status_kb("VmRSS:"); }
  long peak_rss_kb() const { return status_kb("VmHWM:"); }

 private:
  long status_kb(const std::string& key) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
    }
    return -1;
  }

  fs::path dir_;
  fs::path config_;
  fs::path stderr_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  static inline int starts_ = 0;
};

}  // namespace furrow::test::collector
