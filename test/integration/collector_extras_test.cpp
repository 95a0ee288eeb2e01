// The built `furrow collector` over real HTTP: /sp.js (ETag, 304, HEAD, keep-alive), the cookie
// bounce round trip as a browser without and with third-party cookies would make it, and the
// configurable root response.
#include <gtest/gtest.h>

#include <regex>

#include "collector_support.h"
#include "common/uuid.h"
#include "event/collector_payload.h"
#include "sources/raw_log_reader.h"

namespace furrow::test::collector {
namespace {

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

TEST(CollectorExtras, ServesSpJsWithStrongEtag) {
  fs::path dir = temp_dir("collector-spjs");
  {
    Collector c("  sink: rawlog:" + (dir / "raw").string() + "\n", {"--threads", "1"}, dir);
    Connection conn(c.port());
    ASSERT_TRUE(conn.ok());
    conn.send(request("GET", "/sp.js"));
    auto r = conn.read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("content-type").rfind("text/javascript", 0), 0u);
    EXPECT_EQ(r->header("cache-control"), "public, max-age=3600");
    const std::string etag = r->header("etag");
    EXPECT_TRUE(std::regex_match(etag, std::regex("\"[0-9a-f]{32}\""))) << etag;
    EXPECT_GT(r->body.size(), 1000u);  // the real tracker, not a placeholder
    EXPECT_NE(r->body.find("snowplow"), std::string::npos);
    const std::size_t size = r->body.size();

    // Same connection: revalidation gives 304 without a body, then HEAD gives the length only.
    conn.send(request("GET", "/sp.js", {{"If-None-Match", etag}}));
    conn.expect_head(true);  // a 304 has no body to read
    r = conn.read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 304);
    EXPECT_EQ(r->header("etag"), etag);
    EXPECT_FALSE(r->has("content-length"));
    conn.send(request("HEAD", "/sp.js"));
    r = conn.read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("content-length"), std::to_string(size));
    conn.expect_head(false);
    conn.send(request("GET", "/sp.js", {{"If-None-Match", "\"older\""}}, "", true));
    r = conn.read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.size(), size);
    EXPECT_EQ(c.stop(SIGTERM), 0);
  }
  EXPECT_TRUE(read_log(dir / "raw").empty());  // assets are not events
  fs::remove_all(dir);
}

TEST(CollectorExtras, CookieBounceRoundTrip) {
  fs::path dir = temp_dir("collector-bounce");
  std::string offered;
  {
    Collector c("  sink: rawlog:" + (dir / "raw").string() +
                    "\n"
                    "  durability: fsync\n"
                    "  cookie_bounce: {enabled: true}\n"
                    "  root_response: {enabled: true, status: 302, headers: {Location: "
                    "'https://www.acme.com/'}, body: moved}\n",
                {"--threads", "1"}, dir);
    // First visit: no cookie, so a 302 to the same URL with n3pc=true and a cookie on offer.
    // (The test client sends Host: 127.0.0.1.)
    auto r = c.get("GET", "/i?e=pv&aid=bounce&eid=1");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("location"), "http://127.0.0.1/i?e=pv&aid=bounce&eid=1&n3pc=true");
    std::smatch m;
    std::string cookie = r.header("set-cookie");
    ASSERT_TRUE(std::regex_search(cookie, m, std::regex("^sp=([0-9a-f-]{36});"))) << cookie;
    offered = m[1];
    // A browser that accepts third-party cookies follows with the cookie.
    r = c.get("GET", "/i?e=pv&aid=bounce&eid=1&n3pc=true", {{"Cookie", "sp=" + offered}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "image/gif");
    // One that refuses them comes back without: stored with the fallback id, no cookie set.
    r = c.get("GET", "/i?e=pv&aid=bounce&eid=2&n3pc=true");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.has("set-cookie"));
    // The root response.
    r = c.get("GET", "/");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("location"), "https://www.acme.com/");
    EXPECT_EQ(r.body, "moved");
    EXPECT_EQ(c.stop(SIGTERM), 0);
  }
  auto payloads = read_log(dir / "raw");
  ASSERT_EQ(payloads.size(), 2u);  // the bounce itself stored nothing
  EXPECT_EQ(payloads[0].network_user_id, offered);
  EXPECT_EQ(payloads[0].querystring, "e=pv&aid=bounce&eid=1&n3pc=true");
  EXPECT_EQ(payloads[1].network_user_id, "00000000-0000-4000-A000-000000000000");
  fs::remove_all(dir);
}

TEST(CollectorExtras, RootIs404ByDefault) {
  fs::path dir = temp_dir("collector-root");
  {
    Collector c("  sink: rawlog:" + (dir / "raw").string() + "\n", {"--threads", "1"}, dir);
    auto r = c.get("GET", "/");
    EXPECT_EQ(r.status, 404);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrow::test::collector
