#include "kafka/admin_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace furrow::kafka {
namespace {

std::string get(uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "connect failed";
  }
  (void)::send(fd, request.data(), request.size(), 0);
  std::string out;
  char buf[1024];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, n);
  ::close(fd);
  return out;
}

TEST(AdminServer, ServesMetricsHealthAndNotFound) {
  std::atomic<bool> healthy{true};
  AdminServer s([] { return std::string("furrow_kafka_records_total{stage=\"t\"} 3\n"); },
                [&] { return healthy.load(); });
  ASSERT_TRUE(s.start("127.0.0.1", 0).ok());
  ASSERT_NE(s.port(), 0);
  std::string r = get(s.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(r.find("\r\n\r\nfurrow_kafka_records_total{stage=\"t\"} 3\n"), std::string::npos);
  EXPECT_NE(get(s.port(), "GET /health HTTP/1.1\r\n\r\n").find("200 OK"), std::string::npos);
  healthy = false;
  EXPECT_EQ(get(s.port(), "GET /health HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 503", 0), 0u);
  EXPECT_EQ(get(s.port(), "GET /other HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  // A request without an end of headers gets no answer and does not block the listener.
  EXPECT_EQ(get(s.port(), "GET /metrics HTTP/1.1\r\n" + std::string(9000, 'x')), "");
  EXPECT_NE(get(s.port(), "GET /metrics HTTP/1.1\r\n\r\n").find("200 OK"), std::string::npos);
  s.stop();
}

TEST(AdminServer, RejectsABadAddress) {
  AdminServer s([] { return std::string(); }, [] { return true; });
  const Status st = s.start("not-an-ip", 0);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not-an-ip"), std::string::npos);
}

}  // namespace
}  // namespace furrow::kafka
