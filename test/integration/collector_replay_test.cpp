// Replays every request the official Snowplow trackers sent (shared/captures/requests/*.jsonl)
// to the collector over HTTP: each gets the answer the tracker expects, the stored payloads decode
// to CollectorPayloads carrying the request's fields, and they enrich to good events.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "collector_support.h"
#include "enrich/pipeline.h"
#include "event/collector_payload.h"
#include "sources/raw_log_reader.h"

namespace furrow::test::collector {
namespace {

struct Captured {
  std::string file, method, url, path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;
  int expected_status = 0;
  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (lower(n) == lower(name)) return v;
    }
    return "";
  }
};

std::vector<Captured> load_captures() {
  std::vector<Captured> out;
  fs::path dir = shared_dir() / "captures" / "requests";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".jsonl") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    for (const auto& line : read_lines(f)) {
      if (line.empty()) continue;
      rapidjson::Document d;
      d.Parse(line.c_str());
      EXPECT_TRUE(d.IsObject()) << f;
      if (!d.IsObject()) continue;
      Captured c;
      c.file = f.filename().string();
      c.method = d["method"].GetString();
      c.url = d["url"].GetString();
      c.path = d["path"].GetString();
      c.query = d["query"].GetString();
      c.body = d["body"].GetString();
      for (const auto& h : d["headers"].GetArray())
        c.headers.emplace_back(h[0].GetString(), h[1].GetString());
      c.expected_status = d["response"]["status"].GetInt();
      out.push_back(std::move(c));
    }
  }
  return out;
}

TEST(CollectorReplay, TrackerCapturesGetTheExpectedAnswersAndEnrich) {
  auto captures = load_captures();
  ASSERT_GT(captures.size(), 50u);
  fs::path dir = temp_dir("collector-replay");
  Collector c("  sink: rawlog:" + (dir / "raw").string() + "\n", {"--threads", "1"}, dir);
  Connection conn(c.port());
  ASSERT_TRUE(conn.ok());
  std::vector<const Captured*> stored;
  for (const auto& cap : captures) {
    std::string req = cap.method + " " + cap.url + " HTTP/1.1\r\n";
    for (const auto& [n, v] : cap.headers) {
      std::string ln = lower(n);
      if (ln == "content-length" || ln == "connection" || ln == "transfer-encoding") continue;
      req += n + ": " + v + "\r\n";
    }
    if (cap.method == "POST") req += "Content-Length: " + std::to_string(cap.body.size()) + "\r\n";
    req += "\r\n" + cap.body;
    ASSERT_TRUE(conn.send(req));
    auto r = conn.read();
    ASSERT_TRUE(r) << cap.file << " " << cap.url;
    EXPECT_EQ(r->status, cap.expected_status) << cap.file << " " << cap.url;
    std::string origin = cap.header("Origin");
    EXPECT_EQ(r->header("Access-Control-Allow-Origin"), origin.empty() ? "*" : origin) << cap.file;
    EXPECT_EQ(r->header("Access-Control-Allow-Credentials"), "true");
    if (cap.method == "OPTIONS") {
      EXPECT_EQ(r->header("Access-Control-Allow-Headers"), "Content-Type, SP-Anonymous");
      // The browser asked for these request headers; all must be allowed.
      for (std::string h : {"content-type", "sp-anonymous"}) {
        if (lower(cap.header("Access-Control-Request-Headers")).find(h) != std::string::npos) {
          EXPECT_NE(lower(r->header("Access-Control-Allow-Headers")).find(h), std::string::npos);
        }
      }
      continue;
    }
    if (cap.method == "POST") {
      EXPECT_EQ(r->body, "ok");
    } else {
      EXPECT_EQ(r->header("Content-Type"), "image/gif");
      EXPECT_EQ(r->body.size(), 43u);
    }
    bool anonymous = !cap.header("SP-Anonymous").empty();
    EXPECT_EQ(r->has("Set-Cookie"),
              !anonymous || cap.header("Cookie").find("sp=") != std::string::npos);
    stored.push_back(&cap);
  }
  std::chrono::milliseconds took{};
  EXPECT_EQ(WEXITSTATUS(c.stop(SIGTERM, &took)), 0);

  auto reader = sources::RawLogReader::open(dir / "raw");
  ASSERT_TRUE(reader.ok());
  enrich::Pipeline pipeline(enrich::PipelineConfig{});
  std::string_view rec;
  std::size_t i = 0, events = 0, good = 0;
  while ((*reader)->next(rec)) {
    ASSERT_LT(i, stored.size());
    const Captured& cap = *stored[i++];
    auto p = event::decode_thrift(rec);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->path, cap.path);
    EXPECT_EQ(p->querystring.value_or(""), cap.query);
    EXPECT_EQ(p->body.value_or(""), cap.method == "POST" ? cap.body : "");
    EXPECT_EQ(p->user_agent.value_or(""), cap.header("User-Agent"));
    EXPECT_EQ(p->referer_uri.value_or(""), cap.header("Referer"));
    EXPECT_EQ(p->content_type.value_or(""), lower(cap.header("Content-Type")));
    EXPECT_EQ(p->hostname, "127.0.0.1");
    EXPECT_EQ(p->ip_address, cap.header("SP-Anonymous").empty() ? "127.0.0.1" : "unknown");
    if (!cap.header("SP-Anonymous").empty()) {
      EXPECT_EQ(p->network_user_id, "00000000-0000-0000-0000-000000000000");
    }
    // Every request header is stored (Cookie cleaned, identifying ones dropped when anonymous).
    for (const auto& [n, v] : cap.headers) {
      std::string ln = lower(n);
      if (ln == "content-length" || ln == "connection" || ln == "transfer-encoding" ||
          ln == "cookie")
        continue;
      if (!cap.header("SP-Anonymous").empty() && (ln == "x-forwarded-for" || ln == "x-real-ip"))
        continue;
      EXPECT_NE(std::find(p->headers->begin(), p->headers->end(), n + ": " + v), p->headers->end())
          << n;
    }
    if (!cap.header("Content-Type").empty()) {
      EXPECT_EQ(p->headers->back(), cap.header("Content-Type"));
    }
    std::size_t n_events = 1;
    if (cap.method == "POST") {
      rapidjson::Document d;
      d.Parse(cap.body.c_str());
      n_events = d["data"].Size();
    }
    events += n_events;
    enrich::Output out;
    pipeline.process_thrift(rec, out);
    good += out.good.size();
    EXPECT_EQ(out.good.size(), n_events) << cap.file << " " << cap.url;
    for (const auto& b : out.bad) ADD_FAILURE() << cap.file << ": " << b.substr(0, 600);
  }
  EXPECT_EQ(i, stored.size());
  EXPECT_EQ(good, events);
  std::printf("replayed %zu requests, %zu stored payloads, %zu events enriched good\n",
              captures.size(), i, good);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrow::test::collector
