#include "collector/handler.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include <regex>

#include "common/uuid.h"
#include "event/collector_payload.h"
#include "furrow/version.h"
#include "support/test_support.h"

namespace furrow::collector {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
constexpr const char* kUuid = "0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
constexpr const char* kOther = "11111111-2222-4333-8444-555555555555";

struct Req {
  std::string method = "GET";
  std::string target = "/i?e=pv";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string peer = "10.1.2.3";
  std::vector<Header> views;
  HttpRequest view() {
    views.clear();
    for (auto& [n, v] : headers) views.emplace_back(n, v);
    return HttpRequest{method, target, views, body, peer};
  }
};

Outcome run(const Handler& h, Req& r) {
  Outcome o;
  h.handle(r.view(), kNow, o);
  return o;
}

event::CollectorPayload decode(const std::string& record) {
  auto p = event::decode_thrift(record);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return p.ok() ? *p : event::CollectorPayload{};
}

TEST(Handler, PixelGetStoresPayloadAndSetsCookie) {
  Handler h(CollectorConfig{}, "rawlog", 1'000'000);
  Req r;
  r.target = "/i?e=pv&aid=x%20y";
  r.headers = {{"Host", "collector.example:8080"},
               {"User-Agent", "UA/1"},
               {"Referer", "https://r.example/"},
               {"Cookie", "a=b; x=\"q w\"; sp=bad"}};
  Outcome o = run(h, r);
  EXPECT_EQ(o.route, Route::kPixel);
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.response.content_type, "image/gif");
  EXPECT_EQ(o.response.body, pixel_gif());
  EXPECT_EQ(o.response.body.size(), 43u);
  EXPECT_TRUE(o.response.no_cache);
  EXPECT_EQ(o.response.allow_origin, "*");
  EXPECT_TRUE(o.response.allow_credentials);
  ASSERT_EQ(o.records.size(), 1u);
  auto p = decode(o.records[0]);
  EXPECT_EQ(p.path, "/i");
  EXPECT_EQ(p.querystring, "e=pv&aid=x%20y");
  EXPECT_EQ(p.ip_address, "10.1.2.3");
  EXPECT_EQ(p.timestamp, kNow);
  EXPECT_EQ(p.encoding, "UTF-8");
  EXPECT_EQ(p.collector, "furrow-" + std::string(kVersion) + "-rawlog");
  EXPECT_EQ(p.user_agent, "UA/1");
  EXPECT_EQ(p.referer_uri, "https://r.example/");
  EXPECT_EQ(p.hostname, "collector.example");
  EXPECT_FALSE(p.body);
  EXPECT_FALSE(p.content_type);
  ASSERT_TRUE(p.network_user_id);
  // "sp=bad" is not a UUID, so a fresh one is made and set as the cookie.
  EXPECT_TRUE(is_uuid(*p.network_user_id));
  EXPECT_EQ(o.response.set_cookie.rfind(
                "sp=" + *p.network_user_id + "; Expires=Wed, 13 Nov 2024 22:13:20 GMT", 0),
            0u)
      << o.response.set_cookie;
  EXPECT_NE(o.response.set_cookie.find("; Path=/; SameSite=None; Secure; HttpOnly"),
            std::string::npos);
  ASSERT_TRUE(p.headers);
  std::vector<std::string> expected = {"Host: collector.example:8080", "User-Agent: UA/1",
                                       "Referer: https://r.example/", "Cookie: a=b; sp=bad"};
  EXPECT_EQ(*p.headers, expected);
}

TEST(Handler, NuidResolutionOrder) {
  Handler h(CollectorConfig{}, "stdout", 1'000'000'000);
  Req r;
  r.target = std::string("/i?e=pv&nuid=") + kUuid;
  r.headers = {{"Cookie", std::string("sp=") + kOther}};
  auto p = decode(run(h, r).records.at(0));
  EXPECT_EQ(p.network_user_id, kUuid);  // query parameter beats the cookie
  r.target = "/i?e=pv&nuid=abc";
  Outcome o = run(h, r);
  EXPECT_EQ(decode(o.records.at(0)).network_user_id, kOther);  // non-UUID nuid ignored
  EXPECT_EQ(o.response.set_cookie.rfind(std::string("sp=") + kOther + ";", 0), 0u);
  r.target = "/i?e=pv&nuid=abc%0d%0aSet-Cookie:x";
  r.headers = {{"Cookie", "sp=x\r\nSet-Cookie: y"}};
  o = run(h, r);
  std::string nuid = *decode(o.records.at(0)).network_user_id;
  EXPECT_TRUE(is_uuid(nuid));
  EXPECT_EQ(o.response.set_cookie.find('\r'), std::string::npos);
}

TEST(Handler, AnonymousDropsIdentifiers) {
  Handler h(CollectorConfig{}, "stdout", 1'000'000'000);
  Req r;
  r.method = "POST";
  r.target = "/com.snowplowanalytics.snowplow/tp2";
  r.body = R"({"schema":"s","data":[{"e":"pv"}]})";
  r.headers = {{"SP-Anonymous", "*"},
               {"X-Forwarded-For", "1.2.3.4"},
               {"X-Real-Ip", "1.2.3.4"},
               {"Cookie", std::string("sp=") + kOther},
               {"Content-Type", "application/json; charset=UTF-8"}};
  Outcome o = run(h, r);
  EXPECT_EQ(o.response.body, "ok");
  auto p = decode(o.records.at(0));
  EXPECT_EQ(p.network_user_id, "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(p.ip_address, "unknown");
  std::vector<std::string> expected = {"SP-Anonymous: *",
                                       "Content-Type: application/json; charset=UTF-8",
                                       "application/json; charset=UTF-8"};
  EXPECT_EQ(*p.headers, expected);
  EXPECT_EQ(p.content_type, "application/json; charset=utf-8");
  EXPECT_EQ(p.body, r.body);
  // The existing sp cookie is cleared, no new identifier is set.
  EXPECT_EQ(o.response.set_cookie.rfind("sp=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", 0), 0u)
      << o.response.set_cookie;
  r.headers.erase(r.headers.begin() + 3);
  EXPECT_EQ(run(h, r).response.set_cookie, "");
}

TEST(Handler, CookieAttributesAndDomains) {
  CollectorConfig c;
  c.cookie.name = "sp2";
  c.cookie.domains = {"acme.com", "example.org"};
  c.cookie.fallback_domain = "fallback.net";
  c.cookie.secure = false;
  c.cookie.http_only = false;
  c.cookie.same_site = SameSite::kLax;
  c.cookie.expiration_seconds = 3600;
  Handler h(c, "stdout", 1'000'000'000);
  Req r;
  r.headers = {{"Origin", "https://shop.example.org https://www.acme.com"}};
  Outcome o = run(h, r);
  EXPECT_NE(o.response.set_cookie.find(
                "; Expires=Tue, 14 Nov 2023 23:13:20 GMT; Domain=example.org; Path=/; "
                "SameSite=Lax"),
            std::string::npos)
      << o.response.set_cookie;
  EXPECT_EQ(o.response.set_cookie.find("Secure"), std::string::npos);
  EXPECT_EQ(o.response.set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_EQ(o.response.set_cookie.rfind("sp2=", 0), 0u);
  r.headers = {{"Origin", "https://notacme.com"}};
  EXPECT_NE(run(h, r).response.set_cookie.find("Domain=fallback.net"), std::string::npos);
  r.headers = {{"Origin", "https://acme.com"}};
  EXPECT_NE(run(h, r).response.set_cookie.find("Domain=acme.com"), std::string::npos);
  c.cookie.enabled = false;
  Handler off(c, "stdout", 1'000'000'000);
  Outcome o2 = run(off, r);
  EXPECT_EQ(o2.response.set_cookie, "");
  EXPECT_EQ(o2.records.size(), 1u);
}

TEST(Handler, DoNotTrackCookieStoresNothing) {
  CollectorConfig c;
  c.do_not_track_cookie = {true, "dnt", "y.*s"};
  Handler h(c, "stdout", 1'000'000'000);
  Req r;
  r.headers = {{"Cookie", "dnt=yes"}};
  Outcome o = run(h, r);
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.response.body.size(), 43u);
  EXPECT_TRUE(o.records.empty());
  EXPECT_EQ(o.response.set_cookie, "");
  r.headers = {{"Cookie", "dnt=no"}};
  EXPECT_EQ(run(h, r).records.size(), 1u);
}

TEST(Handler, CorsPreflightEchoesOnlyWellFormedOrigins) {
  Handler h(CollectorConfig{}, "stdout", 1'000'000'000);
  Req r;
  r.method = "OPTIONS";
  r.target = "/com.snowplowanalytics.snowplow/tp2";
  r.headers = {{"Origin", "https://a.example"}};
  Outcome o = run(h, r);
  EXPECT_EQ(o.route, Route::kOptions);
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.response.allow_origin, "https://a.example");
  EXPECT_TRUE(o.response.allow_credentials);
  EXPECT_TRUE(o.response.preflight);
  EXPECT_EQ(o.response.cors_max_age, 3600);
  EXPECT_TRUE(o.records.empty());
  r.headers = {{"Origin", "https://a.example\r\nX-Evil: 1"}};
  EXPECT_EQ(run(h, r).response.allow_origin, "*");
  r.headers = {{"Origin", "null"}};
  EXPECT_EQ(run(h, r).response.allow_origin, "*");
}

TEST(Handler, RoutesAndStatuses) {
  CollectorConfig c;
  c.paths["/com.acme/track"] = "/com.snowplowanalytics.snowplow/tp2";
  c.paths["/com.acme/px"] = "/i";
  c.cross_domain.enabled = true;
  c.cross_domain.domains = {"*.acme.com"};
  Handler h(c, "stdout", 1'000'000'000);
  auto status = [&](std::string method, std::string target) {
    Req r;
    r.method = std::move(method);
    r.target = std::move(target);
    return run(h, r).response.status;
  };
  EXPECT_EQ(status("GET", "/health"), 200);
  EXPECT_EQ(status("GET", "/robots.txt"), 200);
  EXPECT_EQ(status("GET", "/crossdomain.xml"), 200);
  EXPECT_EQ(status("GET", "/"), 404);
  EXPECT_EQ(status("GET", "/a/b/c"), 404);
  EXPECT_EQ(status("POST", "/i"), 404);
  EXPECT_EQ(status("DELETE", "/com.acme/v1"), 404);
  EXPECT_EQ(status("GET", "/r/tp2?u=https%3A%2F%2Fx.example%2F"), 404);
  EXPECT_EQ(status("HEAD", "/ice.png"), 200);
  EXPECT_EQ(status("GET", "/com.acme/v1?x=1"), 200);
  Req r;
  r.method = "POST";
  r.target = "/com.acme/track?aid=q";
  r.body = "{}";
  Outcome o = run(h, r);
  EXPECT_EQ(o.route, Route::kPostTracking);
  EXPECT_EQ(decode(o.records.at(0)).path, "/com.snowplowanalytics.snowplow/tp2");
  r.method = "GET";
  r.target = "/com.acme/px?e=pv";
  o = run(h, r);
  EXPECT_EQ(o.route, Route::kPixel);
  EXPECT_EQ(decode(o.records.at(0)).path, "/i");
  r.target = "/robots.txt";
  EXPECT_EQ(run(h, r).response.body,
            "User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\nUser-agent: "
            "AdsBot-Google\nDisallow: /");
  r.target = "/crossdomain.xml";
  o = run(h, r);
  EXPECT_EQ(o.response.content_type, "text/xml");
  EXPECT_NE(o.response.body.find("<allow-access-from domain=\"*.acme.com\" secure=\"true\" />"),
            std::string::npos);
  r.target = "/sink-health";
  EXPECT_TRUE(run(h, r).wants_sink_health);
}

TEST(Handler, RedirectStoresEventAndValidatesTarget) {
  CollectorConfig c;
  c.redirect.enabled = true;
  c.redirect.allowed_hosts = {"example.com"};
  Handler h(c, "stdout", 1'000'000'000);
  Req r;
  r.target = "/r/tp2?u=https%3A%2F%2Fexample.com%2Fpage%3Fa%3D1&e=se";
  Outcome o = run(h, r);
  EXPECT_EQ(o.response.status, 302);
  EXPECT_EQ(o.response.location, "https://example.com/page?a=1");
  ASSERT_EQ(o.records.size(), 1u);
  EXPECT_EQ(decode(o.records[0]).path, "/r/tp2");
  r.target = "/r/tp2?e=se";
  o = run(h, r);
  EXPECT_EQ(o.response.status, 400);
  EXPECT_TRUE(o.records.empty());
  r.target = "/r/tp2?u=https%3A%2F%2Fevil.com%2F";
  o = run(h, r);
  EXPECT_EQ(o.response.status, 400);
  EXPECT_EQ(o.response.location, "");
}

TEST(Handler, TrustedProxiesResolveClientIp) {
  CollectorConfig c;
  c.trusted_proxies = {"10.0.0.0/8"};
  Handler h(c, "stdout", 1'000'000'000);
  Req r;
  r.headers = {{"X-Forwarded-For", "6.6.6.6, 203.0.113.7, 10.9.9.9"}};
  auto p = decode(run(h, r).records.at(0));
  EXPECT_EQ(p.ip_address, "203.0.113.7");
  EXPECT_EQ(p.headers->back(), "X-Forwarded-For: 203.0.113.7");
  r.peer = "198.51.100.1";  // untrusted peer: its X-Forwarded-For is not believed
  p = decode(run(h, r).records.at(0));
  EXPECT_EQ(p.ip_address, "198.51.100.1");
  for (const auto& line : *p.headers) EXPECT_EQ(line.find("6.6.6.6"), std::string::npos) << line;
}

// encode_payload is the hot-path encoder; build_payload + encode_thrift is the reference. Random
// requests drawn from the headers the payload treats specially (in any case, repeated, empty,
// with hostile cookie text) must give the same bytes, anonymous or not, and handle() must store
// exactly those bytes.
TEST(Handler, DirectEncodingMatchesBuildPayloadBytes) {
  CollectorConfig c;
  c.trusted_proxies = {"10.0.0.0/8", "::1"};
  const Handler h(c, "rawlog", 1'000'000);
  const std::vector<std::pair<std::string, std::string>> pool = {
      {"Host", "collector.example:8080"},
      {"host", "[::1]:9"},
      {"HOST", ""},
      {"User-Agent", "Mozilla/5.0 (X11)"},
      {"user-agent", ""},
      {"Referer", "https://r.example/a?b=c"},
      {"REFERER", "second"},
      {"Cookie", "a=b; x=\"q w\"; sp=0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
      {"cookie", " ;; bad,cookie=1; ok=2 ; =; sp=x y"},
      {"Cookie", ""},
      {"Content-Type", "Application/JSON; Charset=UTF-8"},
      {"content-type", ""},
      {"X-Forwarded-For", "6.6.6.6, 203.0.113.7, 10.9.9.9"},
      {"x-forwarded-for", "10.1.1.1"},
      {"Forwarded", "for=1.2.3.4"},
      {"X-Real-Ip", "5.6.7.8"},
      {"X-Real-IP", ""},
      {"SP-Anonymous", "*"},
      {"Accept", "*/*"},
      {"Origin", "https://shop.example"},
      {"X-Custom", std::string(300, 'v')},
      {"Forwarded-X", "not forwarded"},
      {"Hosts", "not host"},
  };
  const std::vector<std::string> peers = {"10.1.2.3", "198.51.100.1", "::1", ""};
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"/i", ""}, {"/i", "e=pv&aid=x%20y"}, {"/com.snowplowanalytics.snowplow/tp2", ""}};
  uint64_t state = 12345;
  auto next = [&state](uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  std::string direct;
  for (int i = 0; i < 3000; ++i) {
    Req r;
    r.method = next(2) ? "GET" : "POST";
    if (r.method == "POST" && next(2)) r.body = R"({"schema":"s","data":[{"e":"pv"}]})";
    const auto& [path, query] = targets[next(targets.size())];
    r.target = query.empty() ? path : path + "?" + query;
    r.peer = peers[next(peers.size())];
    for (uint64_t k = next(9); k > 0; --k) r.headers.push_back(pool[next(pool.size())]);
    const HttpRequest req = r.view();
    for (bool anonymous : {false, true}) {
      const std::string_view nuid = anonymous ? "00000000-0000-0000-0000-000000000000" : kUuid;
      const std::string reference =
          event::encode_thrift(h.build_payload(req, path, query, kNow, nuid, anonymous));
      ASSERT_TRUE(h.encode_payload(req, path, query, kNow, nuid, anonymous, direct));
      ASSERT_EQ(direct, reference) << "request " << i << " anonymous " << anonymous;
    }
  }
  // handle() stores the directly encoded bytes.
  Req r;
  r.target = "/i?e=pv";
  r.headers = {{"User-Agent", "UA"}, {"Cookie", std::string("sp=") + kUuid}};
  Outcome o = run(h, r);
  ASSERT_EQ(o.records.size(), 1u);
  const HttpRequest req = r.view();
  EXPECT_EQ(o.records[0],
            event::encode_thrift(h.build_payload(req, "/i", "e=pv", kNow, kUuid, false)));
}

std::string batch(int events, std::size_t pad) {
  std::string body =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[)";
  for (int i = 0; i < events; ++i) {
    if (i) body += ',';
    body +=
        R"({"e":"pv","eid":")" + std::to_string(i) + R"(","x":")" + std::string(pad, 'a') + "\"}";
  }
  return body + "]}";
}

TEST(Handler, LargePostIsSplitAcrossRecords) {
  CollectorConfig c;
  Handler h(c, "rawlog", 10'000);
  Req r;
  r.method = "POST";
  r.target = "/com.snowplowanalytics.snowplow/tp2";
  r.headers = {{"Content-Type", "application/json"}};
  r.body = batch(40, 900);  // ~38 kB: must be split into records under 10 kB
  Outcome o = run(h, r);
  EXPECT_TRUE(o.bad_rows.empty());
  ASSERT_GT(o.records.size(), 3u);
  int seen = 0;
  for (const auto& rec : o.records) {
    EXPECT_LT(rec.size(), 10'000u);
    auto p = decode(rec);
    rapidjson::Document d;
    d.Parse(p.body->c_str());
    ASSERT_TRUE(d.IsObject());
    EXPECT_STREQ(d["schema"].GetString(),
                 "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4");
    for (const auto& e : d["data"].GetArray())
      EXPECT_EQ(e["eid"].GetString(), std::to_string(seen++));
    EXPECT_EQ(p.path, "/com.snowplowanalytics.snowplow/tp2");
  }
  EXPECT_EQ(seen, 40);
  // One event bigger than a record becomes a size_violation; the rest is kept.
  r.body = batch(1, 100);
  r.body.insert(r.body.size() - 2,
                std::string(",{\"e\":\"pv\",\"x\":\"") + std::string(20'000, 'b') + "\"}");
  o = run(h, r);
  EXPECT_EQ(o.records.size(), 1u);
  ASSERT_EQ(o.bad_rows.size(), 1u);
  EXPECT_NE(o.bad_rows[0].find("size_violation"), std::string::npos);
  // A GET that does not fit cannot be split.
  Req g;
  g.target = "/i?e=pv&x=" + std::string(12'000, 'c');
  o = run(h, g);
  EXPECT_TRUE(o.records.empty());
  ASSERT_EQ(o.bad_rows.size(), 1u);
  EXPECT_NE(o.bad_rows[0].find("GET requests cannot be split"), std::string::npos);
}

TEST(Handler, OversizedPayloadAndTooManyEventsBecomeBadRows) {
  CollectorConfig c;
  c.limits.max_payload_bytes = 5000;
  c.limits.max_events_per_post = 10;
  Handler h(c, "stdout", 1'000'000'000);
  Req r;
  r.method = "POST";
  r.target = "/com.snowplowanalytics.snowplow/tp2";
  r.body = batch(3, 3000);
  Outcome o = run(h, r);
  EXPECT_EQ(o.response.status, 200);
  EXPECT_TRUE(o.records.empty());
  ASSERT_EQ(o.bad_rows.size(), 1u);
  rapidjson::Document d;
  d.Parse(o.bad_rows[0].c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["schema"].GetString(),
               "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0");
  EXPECT_EQ(d["data"]["failure"]["maximumAllowedSizeBytes"].GetInt(), 5000);
  r.body = batch(11, 1);
  o = run(h, r);
  EXPECT_TRUE(o.records.empty());
  ASSERT_EQ(o.bad_rows.size(), 1u);
  EXPECT_NE(o.bad_rows[0].find("too many events in one POST: 11"), std::string::npos);
  r.body = batch(10, 1);
  EXPECT_EQ(run(h, r).records.size(), 1u);
}

TEST(Handler, StaticAssetWithStrongEtagAnd304) {
  CollectorConfig cfg;
  cfg.assets.push_back({"/sp.js", "text/javascript", "console.log(1);", "public, max-age=3600"});
  cfg.assets.push_back({"/other.js", "text/javascript", "console.log(2);", ""});
  Handler h(cfg, "stdout", 1'000'000'000);
  Req r;
  r.target = "/sp.js?v=3";
  Outcome o = run(h, r);
  EXPECT_EQ(o.route, Route::kAsset);
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.response.content_type, "text/javascript");
  EXPECT_EQ(o.response.body, "console.log(1);");
  EXPECT_EQ(o.response.cache_control, "public, max-age=3600");
  EXPECT_EQ(o.response.allow_origin, "*");  // SRI from other sites needs a CORS grant
  EXPECT_TRUE(o.records.empty());
  const std::string etag(o.response.etag);
  // Strong: quoted, no W/ prefix, 128 bits of hex; different bodies get different tags.
  EXPECT_TRUE(std::regex_match(etag, std::regex("\"[0-9a-f]{32}\""))) << etag;
  r.target = "/other.js";
  Outcome o2 = run(h, r);
  EXPECT_NE(std::string(o2.response.etag), etag);
  EXPECT_TRUE(o2.response.cache_control.empty());

  r.target = "/sp.js";
  for (const std::string& inm : {etag, "W/" + etag, "\"x\", " + etag, std::string("*")}) {
    r.headers = {{"If-None-Match", inm}};
    o = run(h, r);
    EXPECT_EQ(o.response.status, 304) << inm;
    EXPECT_TRUE(o.response.body.empty());
    EXPECT_EQ(o.response.etag, etag);
  }
  r.headers = {{"If-None-Match", "\"stale\""}};
  EXPECT_EQ(run(h, r).response.status, 200);
  r.method = "HEAD";
  r.headers.clear();
  EXPECT_EQ(run(h, r).response.body, "console.log(1);");  // the server drops HEAD bodies
  r.method = "POST";
  EXPECT_EQ(run(h, r).response.status, 405);
  r.method = "GET";
  r.target = "/sp.jsx";
  EXPECT_EQ(run(h, r).response.status, 404);  // exactly that path only
}

TEST(Handler, RootResponseConfigurable) {
  Req r;
  r.target = "/";
  Handler off(CollectorConfig{}, "stdout", 1'000'000'000);
  Outcome o = run(off, r);
  EXPECT_EQ(o.route, Route::kRoot);
  EXPECT_EQ(o.response.status, 404);
  CollectorConfig cfg;
  cfg.root_response = {true, 302, {{"Location", "https://www.acme.com/"}}, "moved"};
  Handler on(cfg, "stdout", 1'000'000'000);
  o = run(on, r);
  EXPECT_EQ(o.response.status, 302);
  EXPECT_EQ(o.response.body, "moved");
  ASSERT_EQ(o.response.extra_headers.size(), 1u);
  EXPECT_EQ(o.response.extra_headers[0].second, "https://www.acme.com/");
  EXPECT_TRUE(o.records.empty());
  r.method = "POST";
  EXPECT_EQ(run(on, r).response.status, 404);

  cfg.root_response.headers = {{"X-Bad", "a\r\nb"}};
  EXPECT_FALSE(validate(cfg).ok());
  cfg.root_response.headers = {{"Bad Name", "a"}};
  EXPECT_FALSE(validate(cfg).ok());
}

TEST(Handler, CookieBounceRoundTrip) {
  CollectorConfig cfg;
  cfg.cookie_bounce.enabled = true;
  cfg.cookie_bounce.forwarded_protocol_header = "X-Forwarded-Proto";
  Handler h(cfg, "stdout", 1'000'000'000);
  Req r;
  r.target = "/i?e=pv&url=x";
  r.headers = {{"Host", "c.acme.com"}};
  // 1. No cookie, no nuid: 302 to the same URL plus n3pc=true, a cookie offered, nothing stored.
  Outcome o = run(h, r);
  EXPECT_EQ(o.response.status, 302);
  EXPECT_EQ(o.response.location, "http://c.acme.com/i?e=pv&url=x&n3pc=true");
  EXPECT_TRUE(o.response.body.empty());
  EXPECT_TRUE(o.records.empty());
  std::smatch m;
  std::regex cookie_re("^sp=([0-9a-f-]{36}); ");
  ASSERT_TRUE(std::regex_search(o.response.set_cookie, m, cookie_re)) << o.response.set_cookie;
  const std::string offered = m[1];
  EXPECT_TRUE(is_uuid(offered));
  // The scheme follows the forwarded-protocol header; a query-less URL gets '?'.
  r.headers = {{"Host", "c.acme.com:8443"}, {"X-Forwarded-Proto", "https"}};
  r.target = "/com.snowplowanalytics.snowplow/tp2";
  EXPECT_EQ(run(h, r).response.location,
            "https://c.acme.com:8443/com.snowplowanalytics.snowplow/tp2?n3pc=true");

  // 2a. The bounced request came back with the cookie: stored with it.
  r.headers = {{"Host", "c.acme.com"}, {"Cookie", "sp=" + offered}};
  r.target = "/i?e=pv&url=x&n3pc=true";
  o = run(h, r);
  EXPECT_EQ(o.response.status, 200);
  ASSERT_EQ(o.records.size(), 1u);
  EXPECT_EQ(decode(o.records[0]).network_user_id, offered);
  // 2b. Without the cookie (third-party cookies blocked): the fallback id, and no cookie set.
  r.headers = {{"Host", "c.acme.com"}};
  o = run(h, r);
  EXPECT_EQ(o.response.status, 200);
  ASSERT_EQ(o.records.size(), 1u);
  EXPECT_EQ(decode(o.records[0]).network_user_id, "00000000-0000-4000-A000-000000000000");
  EXPECT_TRUE(o.response.set_cookie.empty());

  // No bounce for POST, a request with a cookie or nuid, SP-Anonymous, or an unsafe Host.
  r.target = "/i?e=pv";
  r.headers = {{"Host", "c.acme.com"}, {"Cookie", std::string("sp=") + kUuid}};
  EXPECT_EQ(run(h, r).response.status, 200);
  r.headers = {{"Host", "c.acme.com"}};
  r.target = std::string("/i?e=pv&nuid=") + kUuid;
  EXPECT_EQ(run(h, r).response.status, 200);
  r.target = "/i?e=pv";
  r.headers = {{"Host", "c.acme.com"}, {"SP-Anonymous", "*"}};
  EXPECT_EQ(run(h, r).response.status, 200);
  r.headers = {{"Host", "evil.com\r\nX: y"}};
  o = run(h, r);
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.records.size(), 1u);
  r.method = "POST";
  r.target = "/com.snowplowanalytics.snowplow/tp2";
  r.headers = {{"Host", "c.acme.com"}};
  r.body =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv"}]})";
  o = run(h, r);
  EXPECT_EQ(o.response.status, 200);
  EXPECT_EQ(o.records.size(), 1u);

  auto c = parse_collector_config(
      YAML::Load("cookie_bounce: {enabled: true, name: bounce, fallback_network_user_id: "
                 "11111111-2222-4333-8444-555555555555, forwarded_protocol_header: X-Proto}\n"
                 "root_response: {enabled: true, status: 200, body: hi, headers: {Content-Type: "
                 "text/plain}}"),
      "f.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->cookie_bounce.name, "bounce");
  EXPECT_EQ(c->cookie_bounce.forwarded_protocol_header, "X-Proto");
  EXPECT_EQ(c->root_response.status, 200);
  EXPECT_EQ(c->root_response.headers.at(0).first, "Content-Type");
  EXPECT_FALSE(
      parse_collector_config(
          YAML::Load("cookie_bounce: {enabled: true, fallback_network_user_id: nope}"), "f.yaml")
          .ok());
}

TEST(Config, ParsesEveryKeyAndRejectsUnknownOnes) {
  auto node = YAML::Load(R"(
host: 127.0.0.1
port: 9090
threads: 2
admin_port: 9091
sink: rawlog:/tmp/x
durability: buffered
bad_output: /tmp/bad.jsonl
cookie: {name: c, expiration_days: 2, domains: [Acme.com], fallback_domain: f.com, secure: false, http_only: false, same_site: Strict}
do_not_track_cookie: {enabled: true, name: dnt, value: "1"}
redirect: {enabled: true, allowed_hosts: [Example.com]}
cross_domain: {enabled: true, domains: ["*"], secure: false}
paths: {"/com.acme/t": "/com.snowplowanalytics.snowplow/tp2"}
trusted_proxies: [10.0.0.0/8, "::1"]
raw_log: {max_pending_bytes: 100000, segment_max_bytes: 100000, segment_max_age_seconds: 5, compress: false}
limits: {max_body_bytes: 1000, max_payload_bytes: 2000, max_events_per_post: 5, header_timeout_ms: 100}
)");
  auto c = parse_collector_config(node, "f.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->port, 9090);
  EXPECT_EQ(c->sink, SinkKind::kRawLog);
  EXPECT_EQ(c->raw_log_dir, "/tmp/x");
  EXPECT_FALSE(c->fsync);
  EXPECT_EQ(c->cookie.domains.at(0), "acme.com");
  EXPECT_EQ(c->cookie.same_site, SameSite::kStrict);
  EXPECT_EQ(c->cookie.expiration_seconds, 2 * 86400);
  EXPECT_EQ(c->redirect.allowed_hosts.at(0), "example.com");
  EXPECT_EQ(c->limits.header_timeout_ms, 100);
  EXPECT_FALSE(c->compress_segments);

  auto bad = parse_collector_config(YAML::Load("cookie: {sam_site: Lax}"), "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "f.yaml: collector.cookie.sam_site: unknown key");
  bad = parse_collector_config(YAML::Load("port: 70000"), "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("collector.port"), std::string::npos);
  bad = parse_collector_config(YAML::Load("durability: maybe"), "f.yaml");
  EXPECT_FALSE(bad.ok());
  bad = parse_collector_config(YAML::Load("trusted_proxies: [not-an-ip]"), "f.yaml");
  EXPECT_FALSE(bad.ok());
  bad = parse_collector_config(YAML::Load("paths: {\"/a/b/c\": /i}"), "f.yaml");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace furrow::collector

namespace furrow::collector {
namespace {
TEST(Config, ExampleFileLoads) {
  auto c = load_collector_config(test::source_dir() / "examples" / "collector.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->admin_port, 9100);
  EXPECT_TRUE(c->fsync);
  EXPECT_EQ(c->paths.at("/com.acme/track"), "/com.snowplowanalytics.snowplow/tp2");
}
}  // namespace
}  // namespace furrow::collector
