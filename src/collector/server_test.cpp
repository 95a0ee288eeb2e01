// The Server in-process over real sockets on 127.0.0.1: the application-router hook (immediate,
// delayed and abandoned answers, HEAD, keep-alive, header hygiene, timeout) and that the
// collector's own routes still work beside it.
#include "collector/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "event/collector_payload.h"

namespace furrow::collector {
namespace {

// Accepts everything at once (buffered-like); counts records.
class MemorySink : public sinks::RawSink {
 public:
  sinks::SinkStatus submit(std::vector<std::string>&& records, sinks::SinkCallback done) override {
    records_.fetch_add(records.size());
    done(sinks::SinkStatus::kOk);
    return sinks::SinkStatus::kOk;
  }
  bool healthy() const override { return true; }
  sinks::SinkStats stats() const override { return {}; }
  void close() override {}
  std::string_view kind() const override { return "memory"; }
  std::size_t max_record_bytes() const override { return 1'000'000; }
  std::atomic<std::size_t> records_{0};
};

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool ok() const { return fd_ >= 0; }
  void send(const std::string& s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }
  // Reads one response whose body length is `body_bytes` (-1: from Content-Length).
  std::optional<std::string> read(int timeout_ms = 5000, long body_bytes = -1) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t len = 0;
        if (body_bytes >= 0) {
          len = static_cast<std::size_t>(body_bytes);
        } else {
          auto cl = buf_.find("Content-Length: ");
          if (cl != std::string::npos && cl < end) len = std::stoul(buf_.substr(cl + 16));
        }
        if (buf_.size() >= end + 4 + len) {
          std::string r = buf_.substr(0, end + 4 + len);
          buf_.erase(0, end + 4 + len);
          return r;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) return std::nullopt;
      char tmp[8192];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }
  // True when the server closes the connection within `ms` with nothing more to read.
  bool closed_by_server(int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }
  // True when nothing arrives within `ms`.
  bool silent_for(int ms) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, ms) == 0;
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

std::string get(const std::string& target, const std::string& method = "GET") {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

// Holds the AppRespond of requests the test answers later.
struct Parked {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<AppRespond> waiting;
  std::vector<std::string> targets;  // copied in the router, checked after the call

  void park(AppRespond r) {
    std::lock_guard<std::mutex> lock(mu);
    waiting.push_back(std::move(r));
    cv.notify_all();
  }
  AppRespond take() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return !waiting.empty(); });
    if (waiting.empty()) return {};
    AppRespond r = std::move(waiting.front());
    waiting.erase(waiting.begin());
    return r;
  }
};

class AppRouterTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(CollectorConfig cfg) {
    server_.reset();
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.threads = 1;
    handler_ = std::make_unique<Handler>(cfg, "memory", 1'000'000);
    auto bad = BadOutput::open("", false);
    ASSERT_TRUE(bad.ok());
    bad_ = std::move(bad.value());
    metrics_ = std::make_unique<Metrics>();
    server_ = std::make_unique<Server>(*handler_, sink_, *bad_, *metrics_);
    server_->set_app_router([this](const HttpRequest& req, AppRespond respond) {
      std::string target(req.target);
      {
        std::lock_guard<std::mutex> lock(parked_.mu);
        parked_.targets.push_back(target);
      }
      if (target.rfind("/now", 0) == 0) {
        AppResponse r;
        r.content_type = "text/plain";
        r.body = "now:" + std::string(req.method);
        r.headers.emplace_back("Cache-Control", "no-store");
        r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: injected=1");
        r.headers.emplace_back("Bad Name", "x");
        respond(std::move(r));
        return true;
      }
      if (target == "/empty") {
        AppResponse r;
        r.status = 304;
        r.body = "must not be sent";
        r.headers.emplace_back("ETag", "\"v1\"");
        respond(std::move(r));
        return true;
      }
      if (target == "/throw") throw std::runtime_error("application bug");
      if (target.rfind("/later", 0) == 0) {
        parked_.park(std::move(respond));
        return true;
      }
      if (target == "/declined-but-answered") {
        AppResponse r;
        r.body = "should be ignored";
        respond(std::move(r));
        return false;
      }
      return false;  // the collector's routes
    });
    ASSERT_TRUE(server_->start().ok());
  }

  void TearDown() override { server_.reset(); }

  MemorySink sink_;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<BadOutput> bad_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Server> server_;
  Parked parked_;
};

TEST_F(AppRouterTest, ImmediateAnswerThenCollectorRouteOnTheSameConnection) {
  Client c(server_->port());
  ASSERT_TRUE(c.ok());
  c.send(get("/now?x=1"));
  auto r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << *r;
  EXPECT_NE(r->find("Content-Type: text/plain\r\n"), std::string::npos);
  EXPECT_NE(r->find("Content-Length: 7\r\n"), std::string::npos);
  EXPECT_NE(r->find("Cache-Control: no-store\r\n"), std::string::npos);
  // Headers that could split the response are dropped, not sent.
  EXPECT_EQ(r->find("X-Evil"), std::string::npos);
  EXPECT_EQ(r->find("injected"), std::string::npos);
  EXPECT_EQ(r->find("Bad Name"), std::string::npos);
  EXPECT_TRUE(r->ends_with("\r\n\r\nnow:GET")) << *r;

  // Keep-alive: the router declines /i, the collector answers with the pixel.
  c.send(get("/i?e=pv"));
  r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(r->find("Content-Type: image/gif"), std::string::npos);
  EXPECT_EQ(sink_.records_.load(), 1u);
  std::lock_guard<std::mutex> lock(parked_.mu);
  EXPECT_EQ(parked_.targets, (std::vector<std::string>{"/now?x=1", "/i?e=pv"}));
}

TEST_F(AppRouterTest, HeadKeepsLengthWithoutBodyAnd304HasNoBody) {
  Client c(server_->port());
  c.send(get("/now", "HEAD"));
  auto r = c.read(5000, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("Content-Length: 8\r\n"), std::string::npos) << *r;
  EXPECT_TRUE(r->ends_with("\r\n\r\n"));
  c.send(get("/empty"));
  r = c.read(5000, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u) << *r;
  EXPECT_EQ(r->find("Content-Length"), std::string::npos);
  EXPECT_NE(r->find("ETag: \"v1\"\r\n"), std::string::npos);
  // Nothing else (the body the application set) follows, and the connection still works.
  c.send(get("/now"));
  r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << *r;
}

TEST_F(AppRouterTest, DelayedAnswerFromAnotherThread) {
  Client c(server_->port());
  c.send(get("/later/1"));
  AppRespond respond = parked_.take();
  ASSERT_TRUE(respond);
  // Not answered yet; the I/O thread is free meanwhile (another client is served).
  EXPECT_TRUE(c.silent_for(100));
  Client other(server_->port());
  other.send(get("/health"));
  auto h = other.read();
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->ends_with("ok"));
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    AppResponse r;
    r.status = 201;
    r.content_type = "application/json";
    r.body = "{\"done\":true}";
    respond(std::move(r));
    AppResponse again;
    again.body = "second call";
    respond(std::move(again));  // ignored
  });
  auto r = c.read();
  t.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 201 Created\r\n", 0), 0u) << *r;
  EXPECT_TRUE(r->ends_with("{\"done\":true}"));
  EXPECT_TRUE(c.silent_for(100));  // the second call sent nothing
  c.send(get("/now"));
  r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ends_with("now:GET"));
}

TEST_F(AppRouterTest, ClientDisconnectsBeforeTheAnswer) {
  {
    Client c(server_->port());
    c.send(get("/later/gone"));
    AppRespond respond = parked_.take();
    ASSERT_TRUE(respond);
    ASSERT_EQ(metrics_->connections(), 1);
    c.close();
    // The server notices the disconnect and releases the connection without waiting for the
    // application.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (metrics_->connections() != 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(metrics_->connections(), 0);
    AppResponse r;
    r.body = "too late";
    respond(std::move(r));  // a harmless no-op
  }
  Client c2(server_->port());
  c2.send(get("/now"));
  auto r = c2.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ends_with("now:GET"));
}

TEST_F(AppRouterTest, AnswerAfterTheServerIsGoneIsANoOp) {
  Client c(server_->port());
  c.send(get("/later/x"));
  AppRespond respond = parked_.take();
  ASSERT_TRUE(respond);
  server_.reset();
  AppResponse r;
  r.body = "after stop";
  respond(std::move(r));
  respond = nullptr;
}

TEST_F(AppRouterTest, ThrowingRouterGives500AndDeclinedRespondIsIgnored) {
  Client c(server_->port());
  c.send(get("/throw"));
  auto r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 500 ", 0), 0u) << *r;
  c.send(get("/declined-but-answered"));
  r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 404 ", 0), 0u) << *r;  // the collector's answer
  EXPECT_TRUE(c.silent_for(100));
}

TEST_F(AppRouterTest, UnansweredRequestTimesOutWith504) {
  CollectorConfig cfg;
  cfg.limits.app_response_timeout_ms = 200;
  start(cfg);
  Client c(server_->port());
  c.send(get("/later/never"));
  AppRespond respond = parked_.take();
  auto r = c.read(3000);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 504 Gateway Timeout\r\n", 0), 0u) << *r;
  EXPECT_NE(r->find("Connection: close"), std::string::npos);
  AppResponse late;
  respond(std::move(late));  // after the timeout: ignored
}

// One I/O thread on an ephemeral port of 127.0.0.1.
CollectorConfig loopback_config() {
  CollectorConfig cfg;
  cfg.host = "127.0.0.1";
  cfg.port = 0;
  cfg.threads = 1;
  return cfg;
}

// A collector Server without an app router, over `sink`, with everything it needs.
struct RouterlessServer {
  RouterlessServer(sinks::RawSink& sink, const CollectorConfig& cfg)
      : handler(cfg, "memory", 1'000'000),
        bad(std::move(BadOutput::open("", false).value())),
        server(handler, sink, *bad, metrics) {}
  Handler handler;
  std::unique_ptr<BadOutput> bad;
  Metrics metrics;
  Server server;
};

TEST(ServerWithoutRouter, CollectorRoutesAsBefore) {
  MemorySink sink;
  RouterlessServer rs(sink, loopback_config());
  Server& server = rs.server;
  ASSERT_TRUE(server.start().ok());
  Client c(server.port());
  c.send(get("/com.snowplowanalytics.snowplow/tp2?e=pv"));
  auto r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("Content-Type: image/gif"), std::string::npos);
  c.send(get("/api/v1/anything"));
  r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 404 ", 0), 0u);
  EXPECT_EQ(sink.records_.load(), 1u);
}

// Keeps the records it accepts.
class KeepingSink : public MemorySink {
 public:
  sinks::SinkStatus submit(std::vector<std::string>&& records, sinks::SinkCallback done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& r : records) kept_.push_back(std::move(r));
    }
    done(sinks::SinkStatus::kOk);
    return sinks::SinkStatus::kOk;
  }
  std::vector<std::string> kept() {
    std::lock_guard<std::mutex> lock(mu_);
    return kept_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> kept_;
};

// The hand-driven header read: pipelined requests (answered in order), a request whose header
// arrives in pieces, and header fields larger than the session's field arena (heap fallback)
// all give the same answers and records as single small requests.
TEST(ServerWithoutRouter, PipelinedSplitAndLargeHeaderRequests) {
  KeepingSink sink;
  RouterlessServer rs(sink, loopback_config());
  Server& server = rs.server;
  ASSERT_TRUE(server.start().ok());
  std::string big = "GET /i?e=pv&n=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 40; ++i)
    big += "X-Pad-" + std::to_string(i) + ": " + std::string(100, 'p') + "\r\n";
  big += "\r\n";
  Client c(server.port());
  c.send(get("/i?e=pv&n=1") + big + get("/i?e=pv&n=3"));
  for (int i = 0; i < 3; ++i) {
    auto r = c.read();
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->rfind("HTTP/1.1 200 ", 0), 0u) << *r;
  }
  const std::string split = get("/i?e=pv&n=4");
  c.send(split.substr(0, 20));
  EXPECT_TRUE(c.silent_for(100));
  c.send(split.substr(20));
  auto r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 200 ", 0), 0u);
  auto kept = sink.kept();
  ASSERT_EQ(kept.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    auto p = event::decode_thrift(kept[i]);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->querystring, "e=pv&n=" + std::to_string(i + 1));
    EXPECT_EQ(p->headers->size(), i == 1 ? 41u : 1u);
  }
  auto p = event::decode_thrift(kept[1]);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->headers->back(), "X-Pad-39: " + std::string(100, 'p'));
}

// What the request parser hands over: keep-alive as HTTP/1.0 and 1.1 define it, and POST bodies
// framed by Content-Length or chunked reach the record byte for byte.
TEST(ServerWithoutRouter, KeepAliveRulesAndPostBodies) {
  KeepingSink sink;
  RouterlessServer rs(sink, loopback_config());
  Server& server = rs.server;
  ASSERT_TRUE(server.start().ok());
  const std::string body =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",)"
      R"("data":[{"e":"pv","tv":"js-3","p":"web","eid":"5f1c0b7e-8f2a-4c3d-9e4f-a1b2c3d4e5f6"}]})";
  const std::string post =
      "POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json; charset=UTF-8\r\n";
  Client c(server.port());
  c.send(post + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  auto r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 200 ", 0), 0u) << *r;
  EXPECT_EQ(r->find("Connection:"), std::string::npos) << *r;  // 1.1: open by default
  const std::string a = body.substr(0, 50), b = body.substr(50);
  auto hex = [](std::size_t n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%zx", n);
    return std::string(buf);
  };
  c.send(post + "Transfer-Encoding: chunked\r\n\r\n" + hex(a.size()) + "\r\n" + a + "\r\n" +
         hex(b.size()) + "\r\n" + b + "\r\n0\r\n\r\n");
  r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 200 ", 0), 0u) << *r;
  c.send("GET /i?e=pv&n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("Connection: close\r\n"), std::string::npos) << *r;
  EXPECT_TRUE(c.closed_by_server(2000));

  Client d(server.port());
  d.send("GET /i?e=pv&n=4 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
  r = d.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("Connection: keep-alive\r\n"), std::string::npos) << *r;
  d.send("GET /i?e=pv&n=5 HTTP/1.0\r\nHost: x\r\n\r\n");  // 1.0: closed by default
  r = d.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("Connection: close\r\n"), std::string::npos) << *r;
  EXPECT_TRUE(d.closed_by_server(2000));

  auto kept = sink.kept();
  ASSERT_EQ(kept.size(), 5u);
  for (int i = 0; i < 2; ++i) {
    auto p = event::decode_thrift(kept[i]);
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(p->body.has_value());
    EXPECT_EQ(*p->body, body) << i;
    EXPECT_EQ(p->path, "/com.snowplowanalytics.snowplow/tp2");
  }
  for (int i = 2; i < 5; ++i) {
    auto p = event::decode_thrift(kept[i]);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->querystring, "e=pv&n=" + std::to_string(i + 1));
  }
}

// The request deadline is kept lazily (a pending timer wait is reused when a keep-alive request
// pushes the deadline later): an idle keep-alive connection is closed one header timeout after
// its last request, not after its first, and not never.
TEST(ServerWithoutRouter, IdleTimeoutCountsFromTheLastRequest) {
  CollectorConfig cfg = loopback_config();
  cfg.limits.header_timeout_ms = 1000;
  MemorySink sink;
  RouterlessServer rs(sink, cfg);
  Server& server = rs.server;
  ASSERT_TRUE(server.start().ok());
  Client c(server.port());
  const auto t0 = std::chrono::steady_clock::now();
  c.send(get("/i?e=pv&n=1"));
  ASSERT_TRUE(c.read().has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  c.send(get("/i?e=pv&n=2"));
  auto r = c.read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("HTTP/1.1 200 ", 0), 0u);
  const auto t1 = std::chrono::steady_clock::now();
  // Past the first request's deadline (t0 + 1 s), before the second's (t1 + 1 s).
  const auto quiet_until = t0 + std::chrono::milliseconds(1150);
  if (quiet_until < t1 + std::chrono::milliseconds(900)) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        quiet_until - std::chrono::steady_clock::now());
    EXPECT_TRUE(c.silent_for(static_cast<int>(std::max<int64_t>(ms.count(), 0))));
  }
  EXPECT_TRUE(c.closed_by_server(3000));
  EXPECT_GE(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(900));
  EXPECT_EQ(sink.records_.load(), 2u);
}

}  // namespace
}  // namespace furrow::collector
