#include "kafka/admin_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace furrow::kafka {

AdminServer::AdminServer(Render render, Healthy healthy)
    : render_(std::move(render)), healthy_(std::move(healthy)) {}

AdminServer::~AdminServer() {
  stop();
}

Status AdminServer::start(const std::string& host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return Error{"admin listener: '" + host + "' is not an IPv4 address"};
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Error{std::string("admin listener: socket: ") + std::strerror(errno)};
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    const std::string msg = std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Error{"admin listener " + host + ":" + std::to_string(port) + ": " + msg};
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
  return Status::Ok();
}

void AdminServer::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void AdminServer::serve() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    answer(fd);
    ::close(fd);
  }
}

void AdminServer::answer(int fd) {
  // Read until the end of the headers, at most 8 KiB and 2 seconds.
  std::string req;
  char buf[2048];
  while (req.size() < 8192 && req.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<std::size_t>(n));
  }
  if (req.find("\r\n\r\n") == std::string::npos) return;  // too long: no answer
  std::string_view line(req);
  line = line.substr(0, line.find("\r\n"));
  int status = 404;
  std::string body = "not found\n";
  std::string type = "text/plain; charset=utf-8";
  if (line.rfind("GET /metrics ", 0) == 0) {
    status = 200;
    body = render_();
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (line.rfind("GET /health ", 0) == 0) {
    const bool ok = healthy_();
    status = ok ? 200 : 503;
    body = ok ? "ok\n" : "unhealthy\n";
  }
  std::string resp = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                     "\r\nContent-Type: " + type +
                     "\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nConnection: close\r\n\r\n" + body;
  std::size_t off = 0;
  while (off < resp.size()) {
    const ssize_t n = ::send(fd, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace furrow::kafka
