// The collector over real HTTP on 127.0.0.1: every endpoint, status, header, cookie and CORS
// case, limits and timeouts, the redirect allow-list against bypass attempts, metrics, SIGTERM.
#include <gtest/gtest.h>

#include <regex>

#include "collector_support.h"
#include "common/uuid.h"
#include "event/collector_payload.h"
#include "sources/raw_log_reader.h"

namespace furrow::test::collector {
namespace {

constexpr const char* kPixelB64Bytes =
    "\x47\x49\x46\x38\x39\x61\x01\x00\x01\x00\xf0\x00\x00\xff\xff\xff\x00\x00\x00\x21\xf9\x04\x05"
    "\x00\x00\x00\x00"
    "\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";

std::vector<event::CollectorPayload> read_log(const fs::path& dir) {
  std::vector<event::CollectorPayload> out;
  auto r = sources::RawLogReader::open(dir);
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return out;
  std::string_view rec;
  while ((*r)->next(rec)) {
    auto p = event::decode_thrift(rec);
    EXPECT_TRUE(p.ok());
    if (p.ok()) out.push_back(*p);
  }
  return out;
}

class CollectorHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(temp_dir("collector-http"));
    std::string yaml =
        "  admin_port: 1\n"  // replaced below by an ephemeral port
        "  sink: rawlog:" +
        (*dir_ / "raw").string() +
        "\n"
        "  bad_output: " +
        (*dir_ / "bad.jsonl").string() +
        "\n"
        "  cookie: {domains: [acme.com], fallback_domain: fallback.example}\n"
        "  redirect: {enabled: true, allowed_hosts: [example.com]}\n"
        "  cross_domain: {enabled: true, domains: ['*.acme.com'], secure: false}\n"
        "  paths: {/com.acme/track: /com.snowplowanalytics.snowplow/tp2, /com.acme/redirect: "
        "/r/tp2}\n"
        "  do_not_track_cookie: {enabled: true, name: optout, value: 'yes|1'}\n"
        "  limits: {max_body_bytes: 100000, max_payload_bytes: 60000, header_timeout_ms: 400, "
        "body_timeout_ms: 400,"
        " max_request_line: 4096, max_header_bytes: 8192}\n";
    yaml.replace(yaml.find("admin_port: 1"), 13, "admin_port: " + std::to_string(free_port()));
    c_ = new Collector(yaml, {"--threads", "2"}, *dir_);
  }
  static void TearDownTestSuite() {
    delete c_;
    fs::remove_all(*dir_);
    delete dir_;
  }
  static fs::path* dir_;
  static Collector* c_;
};
fs::path* CollectorHttp::dir_ = nullptr;
Collector* CollectorHttp::c_ = nullptr;

TEST_F(CollectorHttp, PixelEndpoints) {
  for (std::string path : {"/i?e=pv&eid=px1", "/ice.png?e=pv", "/com.acme/v1?e=pv"}) {
    Response r = c_->get("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.header("Content-Type"), "image/gif");
    EXPECT_EQ(r.body, std::string(kPixelB64Bytes, 43));
    EXPECT_EQ(r.header("Cache-Control"), "no-cache, no-store, must-revalidate");
    EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "*");
    EXPECT_EQ(r.header("Access-Control-Allow-Credentials"), "true");
    EXPECT_TRUE(r.has("Set-Cookie"));
  }
  Response head = c_->get("HEAD", "/i?e=pv");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "43");
  EXPECT_EQ(head.body, "");
}

TEST_F(CollectorHttp, PostTp2AnswersOkAndStoresTheBody) {
  std::string body =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","eid":"post-1"}]})";
  Response r = c_->get(
      "POST", "/com.snowplowanalytics.snowplow/tp2?aid=q",
      {{"Content-Type", "application/json; charset=UTF-8"}, {"User-Agent", "UA-post"}}, body);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=UTF-8");
  Response mapped =
      c_->get("POST", "/com.acme/track", {{"Content-Type", "application/json"}}, body);
  EXPECT_EQ(mapped.status, 200);
  bool found = false, found_mapped = false;
  for (const auto& p : read_log(*dir_ / "raw")) {
    if (p.user_agent == "UA-post") {
      found = true;
      EXPECT_EQ(p.path, "/com.snowplowanalytics.snowplow/tp2");
      EXPECT_EQ(p.querystring, "aid=q");
      EXPECT_EQ(p.body, body);
      EXPECT_EQ(p.content_type, "application/json; charset=utf-8");
      EXPECT_EQ(p.ip_address, "127.0.0.1");
      EXPECT_EQ(p.hostname, "127.0.0.1");
      EXPECT_EQ(p.collector, "furrow-0.1.0-rawlog");
      EXPECT_EQ(p.headers->back(), "application/json; charset=UTF-8");
    } else if (p.body == body && p.content_type == "application/json") {
      found_mapped = true;
      EXPECT_EQ(p.path, "/com.snowplowanalytics.snowplow/tp2");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(found_mapped);
}

TEST_F(CollectorHttp, HealthRobotsCrossDomainAndNotFound) {
  Response h = c_->get("GET", "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok");
  EXPECT_EQ(c_->get("GET", "/sink-health").status, 200);
  Response robots = c_->get("GET", "/robots.txt");
  EXPECT_EQ(robots.status, 200);
  EXPECT_EQ(robots.body.rfind("User-agent: *\nDisallow: /", 0), 0u);
  Response xd = c_->get("GET", "/crossdomain.xml");
  EXPECT_EQ(xd.status, 200);
  EXPECT_EQ(xd.header("Content-Type"), "text/xml");
  EXPECT_NE(xd.body.find("<allow-access-from domain=\"*.acme.com\" secure=\"false\" />"),
            std::string::npos);
  for (std::string p : {"/", "/a/b/c", "/metrics", "/admin", "/i/x/y"})
    EXPECT_EQ(c_->get("GET", p).status, 404) << p;
  EXPECT_EQ(c_->get("POST", "/i", {}, "x").status, 404);
  EXPECT_EQ(c_->get("PUT", "/com.acme/v1", {}, "").status, 404);
}

TEST_F(CollectorHttp, CorsPreflight) {
  Response r =
      c_->get("OPTIONS", "/com.snowplowanalytics.snowplow/tp2",
              {{"Origin", "https://a.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(r.header("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(r.header("Access-Control-Allow-Headers"), "Content-Type, SP-Anonymous");
  EXPECT_EQ(r.header("Access-Control-Max-Age"), "3600");
  EXPECT_FALSE(r.has("Set-Cookie"));
  Response tracked = c_->get("GET", "/i?e=pv", {{"Origin", "http://shop.acme.com:8080"}});
  EXPECT_EQ(tracked.header("Access-Control-Allow-Origin"), "http://shop.acme.com:8080");
  Response weird = c_->get("OPTIONS", "/i", {{"Origin", "https://a.example\"><script>"}});
  EXPECT_EQ(weird.header("Access-Control-Allow-Origin"), "*");
}

TEST_F(CollectorHttp, NetworkUserIdCookie) {
  Response fresh = c_->get("GET", "/i?e=pv");
  std::smatch m;
  std::string sc = fresh.header("Set-Cookie");
  ASSERT_TRUE(std::regex_search(
      sc, m,
      std::regex("^sp=([0-9a-f-]{36}); Expires=[A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} "
                 "\\d\\d:\\d\\d:\\d\\d GMT; Domain=fallback.example; Path=/; "
                 "SameSite=None; Secure; HttpOnly$")))
      << sc;
  EXPECT_TRUE(is_uuid(m[1].str()));
  const std::string a = "0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                    b = "11111111-2222-4333-8444-555555555555";
  // The cookie is kept and re-set (rolling expiry); domain from the Origin.
  Response kept = c_->get("GET", "/i?e=pv&eid=ck1",
                          {{"Cookie", "sp=" + b}, {"Origin", "https://www.acme.com"}});
  EXPECT_EQ(kept.header("Set-Cookie").rfind("sp=" + b + "; ", 0), 0u);
  EXPECT_NE(kept.header("Set-Cookie").find("; Domain=acme.com;"), std::string::npos);
  // nuid query parameter wins over the cookie; a non-UUID nuid is ignored.
  EXPECT_EQ(c_->get("GET", "/i?nuid=" + a, {{"Cookie", "sp=" + b}})
                .header("Set-Cookie")
                .rfind("sp=" + a + ";", 0),
            0u);
  EXPECT_EQ(c_->get("GET", "/i?nuid=abc", {{"Cookie", "sp=" + b}})
                .header("Set-Cookie")
                .rfind("sp=" + b + ";", 0),
            0u);
  std::string injected = c_->get("GET", "/i?nuid=x%0d%0aSet-Cookie:%20evil=1").header("Set-Cookie");
  EXPECT_EQ(injected.find("evil"), std::string::npos);
  // SP-Anonymous: no identifier set, an existing one is cleared.
  Response anon =
      c_->get("GET", "/i?e=pv&eid=anon1",
              {{"SP-Anonymous", "*"}, {"Cookie", "sp=" + b}, {"X-Forwarded-For", "9.9.9.9"}});
  EXPECT_EQ(anon.status, 200);
  EXPECT_EQ(anon.header("Set-Cookie").rfind("sp=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", 0), 0u);
  EXPECT_FALSE(c_->get("GET", "/i?e=pv", {{"SP-Anonymous", "*"}}).has("Set-Cookie"));
  // Do-not-track cookie: normal answer, nothing stored, no cookie.
  Response dnt = c_->get("GET", "/i?e=pv&eid=dnt1", {{"Cookie", "optout=yes"}});
  EXPECT_EQ(dnt.status, 200);
  EXPECT_FALSE(dnt.has("Set-Cookie"));
  bool anon_seen = false;
  for (const auto& p : read_log(*dir_ / "raw")) {
    EXPECT_EQ(p.querystring.value_or("").find("eid=dnt1"), std::string::npos);
    if (p.querystring == "e=pv&eid=anon1") {
      anon_seen = true;
      EXPECT_EQ(p.network_user_id, "00000000-0000-0000-0000-000000000000");
      EXPECT_EQ(p.ip_address, "unknown");
      for (const auto& h : *p.headers) {
        EXPECT_EQ(h.find("9.9.9.9"), std::string::npos);
        EXPECT_EQ(h.rfind("Cookie", 0), std::string::npos);
      }
    }
    if (p.querystring == "e=pv&eid=ck1") {
      EXPECT_EQ(p.network_user_id, b);
    }
  }
  EXPECT_TRUE(anon_seen);
}

TEST_F(CollectorHttp, RedirectAllowListRefusesBypassAttempts) {
  auto enc = [](const std::string& s) {
    std::string out;
    char buf[4];
    for (unsigned char ch : s) {
      if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
        out += static_cast<char>(ch);
      } else {
        std::snprintf(buf, sizeof buf, "%%%02X", ch);
        out += buf;
      }
    }
    return out;
  };
  Response ok = c_->get("GET", "/r/tp2?e=se&u=" + enc("https://example.com/landing?x=1"));
  EXPECT_EQ(ok.status, 302);
  EXPECT_EQ(ok.header("Location"), "https://example.com/landing?x=1");
  EXPECT_TRUE(ok.has("Set-Cookie"));
  EXPECT_EQ(c_->get("GET", "/com.acme/redirect?u=" + enc("http://EXAMPLE.COM/")).status, 302);
  const std::vector<std::string> attacks = {
      "//evil.com",
      "///evil.com",
      "/\\evil.com",
      "\\\\evil.com",
      "https:evil.com",
      "https:/evil.com",
      "https://evil.com\\@example.com",
      "https://example.com@evil.com",
      "https://example.com.evil.com",
      "https://evilexample.com",
      "https://example.com.",
      "https://evil.com#example.com",
      "https://evil.com?x=example.com",
      "https://evil.com/example.com",
      "HTTPS://EVIL.COM",
      "https://ex%61mple.com.evil.com",
      "https://ex%61mple.com",
      "https://xn--exmple-cua.com",
      "https://exämple.com",
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "java\tscript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:x",
      "https://evil.com\r\nSet-Cookie:x=1",
      "https://example.com/\r\nSet-Cookie:x=1",
      "https://evil.com\0.example.com",
      "http://[::1]",
      "http://127.0.0.1",
      "http://0x7f.1",
      "http://2130706433",
      "https://example.com:443@evil.com",
      "  https://example.com",
      "https://example.com ",
      "ftp://example.com/",
      "https://user:pass@example.com/",
      "https://EXAMPLE.com..",
      "https://example.com%2F@evil.com",
      "",
  };
  int refused = 0;
  for (const auto& a : attacks) {
    Response r = c_->get("GET", "/r/tp2?u=" + enc(a));
    EXPECT_EQ(r.status, 400) << a;
    EXPECT_FALSE(r.has("Location")) << a;
    refused += r.status == 400;
  }
  // Raw (unencoded) CR/LF in the request line never reaches a header.
  Response twice =
      c_->get("GET", "/r/tp2?u=" + enc("https://example.com") + "&u=" + enc("https://evil.com"));
  EXPECT_EQ(twice.status, 400);
  Response none = c_->get("GET", "/r/tp2?e=se");
  EXPECT_EQ(none.status, 400);
  EXPECT_GE(refused + 2, 32);
}

TEST_F(CollectorHttp, KeepAliveServesManyRequestsOnOneConnection) {
  Connection c(c_->port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(request("GET", "/i?e=pv&eid=ka" + std::to_string(i))));
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->has("Connection"));
  }
  // Pipelined.
  ASSERT_TRUE(c.send(request("GET", "/health") + request("GET", "/robots.txt")));
  EXPECT_EQ(c.read()->body, "ok");
  EXPECT_EQ(c.read()->status, 200);
}

TEST_F(CollectorHttp, OversizedBodyGets413WithoutReadingIt) {
  Connection c(c_->port());
  // Only the headers are sent: the answer must come without the body.
  ASSERT_TRUE(
      c.send("POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: x\r\nContent-Type: "
             "application/json\r\n"
             "Content-Length: 5000000\r\n\r\n"));
  auto r = c.read(3000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  // Chunked bodies stop at the cap.
  Connection c2(c_->port());
  std::string chunk(60000, 'x');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  c2.send("POST /com.acme/v1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  c2.send(std::string(size) + "\r\n" + chunk + "\r\n" + size + "\r\n" + chunk + "\r\n");
  auto r2 = c2.read(3000);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 413);
  // Both became size_violation bad rows.
  std::string bad = read_file(*dir_ / "bad.jsonl");
  EXPECT_NE(bad.find("\"actualSizeBytes\":5000000"), std::string::npos) << bad;
  EXPECT_NE(bad.find("size_violation"), std::string::npos);
}

TEST_F(CollectorHttp, PayloadBetweenLimitsBecomesABadRowNotA5xx) {
  std::string body =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","x":")" +
      std::string(70000, 'y') + "\"}]}";
  Response r = c_->get("POST", "/com.snowplowanalytics.snowplow/tp2",
                       {{"Content-Type", "application/json"}}, body);
  EXPECT_EQ(r.status, 200);
  std::string bad = read_file(*dir_ / "bad.jsonl");
  EXPECT_NE(bad.find("Payload exceeds max size of 60000"), std::string::npos);
}

TEST_F(CollectorHttp, LongRequestLineAndHeaders) {
  EXPECT_EQ(c_->get("GET", "/i?x=" + std::string(5000, 'a')).status, 414);
  Connection c(c_->port());
  c.send("GET /i HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n");
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  Connection bad(c_->port());
  bad.send("GARBAGE\r\n\r\n");
  auto rb = bad.read();
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->status, 400);
}

TEST_F(CollectorHttp, SlowClientsTimeOut) {
  Connection c(c_->port());
  c.send("GET /i?e=pv HTTP/1.1\r\nHost: x\r\n");  // headers never finished
  auto r = c.read(3000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  Connection b(c_->port());
  b.send("POST /com.acme/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");  // body never
                                                                                      // finished
  auto rb = b.read(3000);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->status, 408);
  // An idle connection that sent nothing is just closed.
  Connection idle(c_->port());
  EXPECT_TRUE(idle.closed_by_peer(3000));
}

TEST_F(CollectorHttp, MetricsOnTheAdminListener) {
  ASSERT_NE(c_->admin_port(), 0);
  c_->get("GET", "/i?e=pv");
  Connection c(c_->admin_port());
  c.send(request("GET", "/metrics"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  for (std::string metric :
       {"furrow_collector_requests_total{route=\"pixel\",status=\"200\"}",
        "furrow_collector_request_bytes_total", "furrow_collector_payloads_stored_total",
        "furrow_sink_queue_bytes", "furrow_sink_fsync_seconds_bucket", "furrow_collector_503_total",
        "furrow_collector_bad_rows_total", "furrow_sink_healthy 1"}) {
    EXPECT_NE(r->body.find(metric), std::string::npos) << metric;
  }
}

TEST(CollectorLifecycle, SigtermFinishesAndExitsZero) {
  fs::path dir = temp_dir("collector-term");
  Collector c("  sink: rawlog:" + (dir / "raw").string() + "\n", {"--threads", "1"}, dir);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(c.get("GET", "/i?e=pv&eid=t" + std::to_string(i)).status, 200);
  Connection idle(c.port());  // an idle keep-alive connection must not delay the exit
  std::chrono::milliseconds took{};
  int status = c.stop(SIGTERM, &took);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_LT(took.count(), 10000);
  EXPECT_EQ(read_log(dir / "raw").size(), 20u);
  fs::remove_all(dir);
}

TEST(CollectorLifecycle, BadConfigIsAUsageError) {
  fs::path dir = temp_dir("collector-badcfg");
  std::ofstream(dir / "c.yaml") << "collector:\n  cookie: {nmae: x}\n";
  std::string cmd = furrow_bin().string() + " collector --config " + (dir / "c.yaml").string() +
                    " 2>" + (dir / "err").string();
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  EXPECT_NE(read_file(dir / "err").find("collector.cookie.nmae: unknown key"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrow::test::collector
