#include "dashboard/dashboard.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/time_format.h"
#include "common/url_codec.h"
#include "dashboard/api.h"
#include "dashboard/rollup.h"
#include "sinks/loader.h"
#include "storage/sample_site.h"
#include "support/test_support.h"

namespace furrow::dashboard {
namespace {

// One row of atomic_events with the columns the dashboard reads; empty strings are NULL.
struct Ev {
  std::string app = "web";
  std::string ts;  // collector_tstamp and derived_tstamp
  std::string event = "page_view";
  std::string duid, sid;
  std::string host = "example.com", path;
  std::string refr_medium, refr_source, refr_term;
  std::string mkt_source, mkt_medium, mkt_campaign;
  std::string country, br_family, ua_family;
  std::string se_category, se_action;
  std::string ue_vendor, ue_name;
  std::string page_view_id;
};

int64_t ms(const std::string& tsv) {
  int64_t v = 0;
  EXPECT_TRUE(parse_tsv_tstamp(tsv, v)) << tsv;
  return v;
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = furrow::test::temp_dir("furrow_dashboard");
    db_path_ = dir_ / "d.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Dashboard> open_dashboard(std::filesystem::path path = {},
                                            std::string base = "/") {
    Options o;
    o.db = path.empty() ? db_path_ : path;
    o.base_path = std::move(base);
    o.now_ms = [this] { return now_; };
    auto d = Dashboard::open(o);
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
    return d.ok() ? std::move(*d) : nullptr;
  }

  // Inserts `events` as one load batch with a new load_id.
  void load(const std::vector<Ev>& events, std::filesystem::path path = {}) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((path.empty() ? db_path_ : path).c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_stmt* b = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO load_batches (started_at, events) VALUES "
                                 "('2024-01-01 00:00:00.000', ?1)",
                                 -1, &b, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(b, 1, static_cast<int64_t>(events.size()));
    ASSERT_EQ(sqlite3_step(b), SQLITE_DONE);
    sqlite3_finalize(b);
    const int64_t load_id = sqlite3_last_insert_rowid(db);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(
                  db,
                  "INSERT INTO atomic_events (app_id, platform, collector_tstamp, derived_tstamp, "
                  "event, event_id, v_collector, v_etl, domain_userid, domain_sessionid, "
                  "page_urlhost, page_urlpath, refr_medium, refr_source, refr_term, mkt_source, "
                  "mkt_medium, mkt_campaign, geo_country, br_family, derived_contexts, "
                  "se_category, se_action, event_vendor, event_name, event_format, "
                  "event_version, contexts, load_id) VALUES (?1, 'web', ?2, ?2, ?3, ?4, 'c', "
                  "'e', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
                  "?20, ?21, ?22, ?23, ?24, ?25)",
                  -1, &s, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    for (const Ev& e : events) {
      auto text = [&](int i, const std::string& v) {
        if (v.empty()) {
          sqlite3_bind_null(s, i);
        } else {
          sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        }
      };
      text(1, e.app);
      text(2, e.ts);
      text(3, e.event);
      text(4, "00000000-0000-4000-8000-" + std::to_string(100000000000 + next_id_++));
      text(5, e.duid);
      text(6, e.sid);
      text(7, e.path.empty() ? "" : e.host);
      text(8, e.path);
      text(9, e.refr_medium);
      text(10, e.refr_source);
      text(11, e.refr_term);
      text(12, e.mkt_source);
      text(13, e.mkt_medium);
      text(14, e.mkt_campaign);
      text(15, e.country);
      text(16, e.br_family);
      text(
          17,
          e.ua_family.empty()
              ? ""
              : R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0","data":{"useragentFamily":")" +
                    e.ua_family + R"(","osFamily":"Linux","deviceFamily":"Other"}}]})");
      text(18, e.se_category);
      text(19, e.se_action);
      text(20, e.ue_vendor);
      text(21, e.ue_name);
      text(22, e.ue_vendor.empty() ? "" : "jsonschema");
      text(23, e.ue_vendor.empty() ? "" : "1-0-0");
      text(
          24,
          e.page_view_id.empty()
              ? ""
              : R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":")" +
                    e.page_view_id + R"("}}]})");
      sqlite3_bind_int64(s, 25, load_id);
      ASSERT_EQ(sqlite3_step(s), SQLITE_DONE) << sqlite3_errmsg(db);
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }

  void add_bad_row(const std::string& type, const std::string& tstamp,
                   const std::string& document) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO bad_rows (row_hash, schema, failure_type, "
                                 "processor, failure_tstamp, document, load_id) VALUES (?1, "
                                 "'iglu:com.snowplowanalytics.snowplow.badrows/x/jsonschema/"
                                 "1-0-0', ?2, 'furrow', ?3, ?4, 1)",
                                 -1, &s, nullptr),
              SQLITE_OK);
    const std::string hash = "h" + std::to_string(next_id_++);
    sqlite3_bind_text(s, 1, hash.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, type.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, tstamp.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, document.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(s), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(s);
    sqlite3_close(db);
  }

  struct Reply {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
    std::string content_type;
    bool handled = false;
  };
  static Reply get(Dashboard& d, const std::string& target, std::string method = "GET") {
    collector::HttpRequest req;
    req.method = method;
    req.target = target;
    Response out;
    Reply r;
    r.handled = d.handle(req, out);
    r.status = out.status;
    r.body = out.body;
    r.content_type = out.content_type;
    for (const auto& [k, v] : out.headers) r.headers[k] = v;
    return r;
  }
  static rapidjson::Document json(Dashboard& d, const std::string& target) {
    Reply r = get(d, target);
    EXPECT_TRUE(r.handled);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << r.body;
    return doc;
  }

  // The site of the known-numbers tests (times UTC, 2024-03-10 unless said otherwise).
  static std::vector<Ev> site() {
    std::vector<Ev> v;
    // Previous day: u1's first session, a bounce.
    v.push_back({.ts = "2024-03-09 12:00:00.000", .duid = "u1", .sid = "s0", .path = "/a"});
    // s1: u1, two page views and pings in two windows of page view p1 (one window twice).
    Ev pv1{.ts = "2024-03-10 10:00:00.000",
           .duid = "u1",
           .sid = "s1",
           .path = "/a",
           .refr_medium = "search",
           .refr_source = "Google",
           .refr_term = "shoes",
           .country = "DE",
           .ua_family = "Chrome",
           .page_view_id = "p1"};
    v.push_back(pv1);
    for (const char* t :
         {"2024-03-10 10:00:10.000", "2024-03-10 10:00:15.000", "2024-03-10 10:00:21.000"}) {
      Ev ping = pv1;
      ping.ts = t;
      ping.event = "page_ping";
      v.push_back(ping);
    }
    Ev pv2 = pv1;
    pv2.ts = "2024-03-10 10:05:00.000";
    pv2.path = "/b";
    pv2.page_view_id = "p2";
    v.push_back(pv2);
    // s2: u2, a bounce from a campaign.
    v.push_back({.ts = "2024-03-10 11:00:00.000",
                 .duid = "u2",
                 .sid = "s2",
                 .path = "/a",
                 .mkt_source = "newsletter",
                 .mkt_medium = "email",
                 .mkt_campaign = "spring",
                 .country = "FR",
                 .br_family = "Firefox"});
    // s3: u2 late in the day: a page view, a structured and a self-describing event.
    v.push_back({.ts = "2024-03-10 23:30:00.000",
                 .duid = "u2",
                 .sid = "s3",
                 .path = "/c",
                 .country = "FR",
                 .br_family = "Firefox"});
    v.push_back({.ts = "2024-03-10 23:31:00.000",
                 .event = "struct",
                 .duid = "u2",
                 .sid = "s3",
                 .country = "FR",
                 .se_category = "shop",
                 .se_action = "add"});
    v.push_back({.ts = "2024-03-10 23:32:00.000",
                 .event = "unstruct",
                 .duid = "u2",
                 .sid = "s3",
                 .ue_vendor = "com.acme",
                 .ue_name = "signup"});
    // Another app.
    v.push_back({.app = "shop",
                 .ts = "2024-03-10 12:00:00.000",
                 .duid = "u3",
                 .sid = "s4",
                 .host = "other.com",
                 .path = "/x"});
    return v;
  }

  std::filesystem::path dir_, db_path_;
  int64_t now_ = ms("2024-03-10 23:33:00.000");
  int64_t next_id_ = 0;
};

const char* kDay = "from=2024-03-10&to=2024-03-11";

TEST_F(DashboardTest, SummaryHasTheKnownNumbersAndThePreviousPeriod) {
  auto d = open_dashboard();
  ASSERT_NE(d, nullptr);
  load(site());
  {
    Status rs = d->refresh();
    ASSERT_TRUE(rs.ok()) << rs.message();
  }
  auto j = json(*d, std::string("/api/summary?") + kDay);
  EXPECT_EQ(j["from"].GetInt64(), ms("2024-03-10 00:00:00.000"));
  EXPECT_EQ(j["to"].GetInt64(), ms("2024-03-11 00:00:00.000"));
  EXPECT_TRUE(j["app_id"].IsNull());
  const auto& c = j["current"];
  EXPECT_EQ(c["visitors"].GetInt64(), 3);
  EXPECT_TRUE(c["visitors_exact"].GetBool());
  EXPECT_EQ(c["page_views"].GetInt64(), 5);
  EXPECT_EQ(c["sessions"].GetInt64(), 4);
  EXPECT_DOUBLE_EQ(c["bounce_rate"].GetDouble(), 0.75);   // s2, s3, s4
  EXPECT_DOUBLE_EQ(c["avg_engaged_s"].GetDouble(), 5.0);  // 2 windows x 10 s over 4 sessions
  EXPECT_EQ(c["events"].GetInt64(), 10);
  EXPECT_EQ(c["page_pings"].GetInt64(), 3);
  EXPECT_EQ(c["struct_events"].GetInt64(), 1);
  EXPECT_EQ(c["unstruct_events"].GetInt64(), 1);
  const auto& p = j["previous"];
  EXPECT_EQ(p["visitors"].GetInt64(), 1);
  EXPECT_EQ(p["page_views"].GetInt64(), 1);
  EXPECT_EQ(p["sessions"].GetInt64(), 1);
  EXPECT_DOUBLE_EQ(p["bounce_rate"].GetDouble(), 1.0);
  EXPECT_DOUBLE_EQ(p["avg_engaged_s"].GetDouble(), 0.0);

  auto web = json(*d, std::string("/api/summary?app_id=web&") + kDay);
  EXPECT_STREQ(web["app_id"].GetString(), "web");
  EXPECT_EQ(web["current"]["visitors"].GetInt64(), 2);
  EXPECT_EQ(web["current"]["page_views"].GetInt64(), 4);
  EXPECT_EQ(web["current"]["sessions"].GetInt64(), 3);
  EXPECT_DOUBLE_EQ(web["current"]["bounce_rate"].GetDouble(), 2.0 / 3.0);

  // An empty period: no sessions, so no rates.
  auto empty = json(*d, "/api/summary?from=2020-01-01&to=2020-01-02");
  EXPECT_EQ(empty["current"]["sessions"].GetInt64(), 0);
  EXPECT_TRUE(empty["current"]["bounce_rate"].IsNull());
}

std::vector<std::pair<std::string, int64_t>> rows(const rapidjson::Value& a, const char* field) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& r : a.GetArray()) out.emplace_back(r[field].GetString(), r["count"].GetInt64());
  return out;
}
using Rows = std::vector<std::pair<std::string, int64_t>>;

TEST_F(DashboardTest, TopTablesCountPagesSessionsAndEvents) {
  auto d = open_dashboard();
  ASSERT_NE(d, nullptr);
  load(site());
  {
    Status rs = d->refresh();
    ASSERT_TRUE(rs.ok()) << rs.message();
  }
  const std::string q = std::string("?") + kDay;
  EXPECT_EQ(
      rows(json(*d, "/api/pages" + q)["rows"], "page"),
      (Rows{{"example.com/a", 2}, {"example.com/b", 1}, {"example.com/c", 1}, {"other.com/x", 1}}));
  EXPECT_EQ(rows(json(*d, "/api/entry-pages" + q)["rows"], "page"),
            (Rows{{"example.com/a", 2}, {"example.com/c", 1}, {"other.com/x", 1}}));
  EXPECT_EQ(
      rows(json(*d, "/api/exit-pages" + q)["rows"], "page"),
      (Rows{{"example.com/a", 1}, {"example.com/b", 1}, {"example.com/c", 1}, {"other.com/x", 1}}));
  auto ref = json(*d, "/api/referrers" + q);
  ASSERT_EQ(ref["rows"].Size(), 1u);
  EXPECT_STREQ(ref["rows"][0]["medium"].GetString(), "search");
  EXPECT_STREQ(ref["rows"][0]["source"].GetString(), "Google");
  EXPECT_STREQ(ref["counts"].GetString(), "sessions");
  EXPECT_EQ(rows(json(*d, "/api/search-terms" + q)["rows"], "term"), (Rows{{"shoes", 1}}));
  auto camp = json(*d, "/api/campaigns" + q);
  ASSERT_EQ(camp["rows"].Size(), 1u);
  EXPECT_STREQ(camp["rows"][0]["source"].GetString(), "newsletter");
  EXPECT_STREQ(camp["rows"][0]["medium"].GetString(), "email");
  EXPECT_STREQ(camp["rows"][0]["campaign"].GetString(), "spring");
  EXPECT_EQ(camp["rows"][0]["count"].GetInt64(), 1);
  EXPECT_EQ(rows(json(*d, "/api/countries" + q)["rows"], "country"), (Rows{{"FR", 2}, {"DE", 1}}));
  // ua_parser_context first, else br_family.
  EXPECT_EQ(rows(json(*d, "/api/browsers" + q)["rows"], "browser"),
            (Rows{{"Firefox", 2}, {"Chrome", 1}}));
  EXPECT_EQ(rows(json(*d, "/api/os" + q)["rows"], "os"), (Rows{{"Linux", 1}}));
  EXPECT_EQ(rows(json(*d, "/api/devices" + q)["rows"], "device"), (Rows{{"Other", 1}}));
  auto ev = json(*d, "/api/events" + q);
  EXPECT_EQ(ev["by_type"]["page_view"].GetInt64(), 5);
  EXPECT_EQ(ev["by_type"]["page_ping"].GetInt64(), 3);
  EXPECT_EQ(ev["by_type"]["other"].GetInt64(), 0);
  ASSERT_EQ(ev["structured"].Size(), 1u);
  EXPECT_STREQ(ev["structured"][0]["category"].GetString(), "shop");
  EXPECT_STREQ(ev["structured"][0]["action"].GetString(), "add");
  EXPECT_EQ(rows(ev["self_describing"], "schema"),
            (Rows{{"iglu:com.acme/signup/jsonschema/1-0-0", 1}}));
  // Limit and app filter.
  EXPECT_EQ(rows(json(*d, "/api/pages" + q + "&limit=1&app_id=shop")["rows"], "page"),
            (Rows{{"other.com/x", 1}}));
  auto apps = json(*d, "/api/apps");
  ASSERT_EQ(apps["apps"].Size(), 2u);
  EXPECT_STREQ(apps["apps"][0]["app_id"].GetString(), "web");
}

TEST_F(DashboardTest, TimeSeriesByHourAndByDay) {
  auto d = open_dashboard();
  ASSERT_NE(d, nullptr);
  load(site());
  {
    Status rs = d->refresh();
    ASSERT_TRUE(rs.ok()) << rs.message();
  }
  auto h = json(*d, "/api/timeseries?from=2024-03-10T10:00Z&to=2024-03-10T12:00Z");
  EXPECT_STREQ(h["interval"].GetString(), "hour");
  const auto& b = h["buckets"];
  ASSERT_EQ(b.Size(), 2u);
  EXPECT_EQ(b[0]["t"].GetInt64(), ms("2024-03-10 10:00:00.000"));
  EXPECT_EQ(b[0]["page_views"].GetInt64(), 2);
  EXPECT_EQ(b[0]["events"].GetInt64(), 5);
  EXPECT_EQ(b[0]["visitors"].GetInt64(), 1);
  EXPECT_EQ(b[0]["sessions"].GetInt64(), 1);
  EXPECT_EQ(b[0]["engaged_s"].GetInt64(), 20);
  EXPECT_EQ(b[1]["page_views"].GetInt64(), 1);
  EXPECT_EQ(b[1]["bounces"].GetInt64(), 1);
  // Days, with a range that starts and ends mid-day: partial days come from the hourly rows.
  auto days = json(*d, "/api/timeseries?interval=day&from=2024-03-09T06:00Z&to=2024-03-10T11:00Z");
  EXPECT_STREQ(days["interval"].GetString(), "day");
  ASSERT_EQ(days["buckets"].Size(), 2u);
  EXPECT_EQ(days["buckets"][0]["page_views"].GetInt64(), 1);
  EXPECT_EQ(days["buckets"][1]["page_views"].GetInt64(), 2);  // 10:00 and 10:05; not 11:00
  EXPECT_EQ(days["buckets"][1]["visitors"].GetInt64(), 1);
}

TEST_F(DashboardTest, LiveVisitorsInTheLastFiveMinutes) {
  auto d = open_dashboard();
  ASSERT_NE(d, nullptr);
  load(site());
  auto live = json(*d, "/api/live");          // reads atomic_events directly: no refresh needed
  EXPECT_EQ(live["visitors"].GetInt64(), 1);  // u2 at 23:30-23:32; now is 23:33
  EXPECT_EQ(live["events"].GetInt64(), 3);
  EXPECT_EQ(live["window_s"].GetInt64(), 300);
  now_ = ms("2024-03-11 01:00:00.000");
  EXPECT_EQ(json(*d, "/api/live")["visitors"].GetInt64(), 0);
}

TEST_F(DashboardTest, BadRowsByTypeAndLatestWithReasons) {
  auto d = open_dashboard();
  ASSERT_NE(d, nullptr);
  const std::string hostile = "<script>alert(1)</script>\" onerror=\"x";
  add_bad_row("schema_violations", "2024-03-10T08:00:00.000Z",
              R"({"schema":"s","data":{"failure":{"messages":[{"error":"ResolutionError"},")" +
                  std::string("\\u003cscript>alert(1)\\u003c/script>\\\" onerror=\\\"x") +
                  R"("]}}})");
  add_bad_row("schema_violations", "2024-03-10T09:00:00.000Z",
              R"({"data":{"failure":{"messages":["second"]}}})");
  add_bad_row("adapter_failures", "2024-03-10 10:00:00.000", "not json");
  add_bad_row("adapter_failures", "2024-03-08T10:00:00.000Z", "{}");  // outside the range
  {
    Status rs = d->refresh();
    ASSERT_TRUE(rs.ok()) << rs.message();
  }
  auto j = json(*d, std::string("/api/bad-rows?") + kDay);
  EXPECT_EQ(j["total"].GetInt64(), 3);
  ASSERT_EQ(j["by_type"].Size(), 2u);
  EXPECT_STREQ(j["by_type"][0]["failure_type"].GetString(), "schema_violations");
  EXPECT_EQ(j["by_type"][0]["count"].GetInt64(), 2);
  EXPECT_EQ(j["by_type"][1]["count"].GetInt64(), 1);
  const auto& latest = j["latest"];
  ASSERT_EQ(latest.Size(), 3u);
  EXPECT_STREQ(latest[0]["failure_type"].GetString(), "adapter_failures");
  EXPECT_EQ(latest[0]["messages"].Size(), 0u);  // unreadable document: no reasons, no crash
  EXPECT_STREQ(latest[1]["messages"][0].GetString(), "second");
  ASSERT_EQ(latest[2]["messages"].Size(), 2u);
  EXPECT_STREQ(latest[2]["messages"][0].GetString(), R"({"error":"ResolutionError"})");
  EXPECT_EQ(std::string(latest[2]["messages"][1].GetString()), hostile);
  EXPECT_EQ(json(*d, std::string("/api/bad-rows?limit=1&") + kDay)["latest"].Size(), 1u);
}

// Loading in several batches with a refresh after each (sessions spanning batches, a late event
// that becomes a session's new first page view) gives the rollups of one load and one refresh.
TEST_F(DashboardTest, IncrementalRefreshEqualsOneRefresh) {
  std::vector<Ev> all = site();
  // A late event: an earlier page view of s1 from a referrer that arrives last.
  all.push_back({.ts = "2024-03-10 09:59:00.000",
                 .duid = "u1",
                 .sid = "s1",
                 .path = "/z",
                 .refr_medium = "social",
                 .refr_source = "Mastodon",
                 .country = "DE"});
  auto whole = open_dashboard(dir_ / "whole.db");
  ASSERT_NE(whole, nullptr);
  load(all, dir_ / "whole.db");
  {
    Status rs = whole->refresh();
    ASSERT_TRUE(rs.ok()) << rs.message();
  }

  auto inc = open_dashboard();
  ASSERT_NE(inc, nullptr);
  for (std::size_t i = 0; i < all.size(); i += 3) {
    std::vector<Ev> part(all.begin() + static_cast<std::ptrdiff_t>(i),
                         all.begin() + static_cast<std::ptrdiff_t>(std::min(i + 3, all.size())));
    load(part);
    {
      Status rs = inc->refresh();
      ASSERT_TRUE(rs.ok()) << rs.message();
    }
  }
  {
    Status rs = inc->refresh();
    ASSERT_TRUE(rs.ok()) << rs.message();
  }  // nothing new: no change
  for (const char* ep :
       {"summary", "pages", "entry-pages", "exit-pages", "referrers", "search-terms", "campaigns",
        "countries", "browsers", "os", "devices", "events", "timeseries"}) {
    const std::string t = std::string("/api/") + ep + "?from=2024-03-09&to=2024-03-11";
    EXPECT_EQ(get(*inc, t).body, get(*whole, t).body) << ep;
  }
  auto entry = json(*inc, std::string("/api/entry-pages?") + kDay);
  EXPECT_EQ(
      rows(entry["rows"], "page"),
      (Rows{{"example.com/a", 1}, {"example.com/c", 1}, {"example.com/z", 1}, {"other.com/x", 1}}));
  EXPECT_STREQ(json(*inc, std::string("/api/referrers?") + kDay)["rows"][0]["source"].GetString(),
               "Mastodon");
}

TEST_F(DashboardTest, SmallTransactionsGiveTheSameRollups) {
  std::vector<Ev> all = site();
  auto one = open_dashboard(dir_ / "one.db");
  ASSERT_NE(one, nullptr);
  load(all, dir_ / "one.db");
  {
    Status rs = one->refresh();
    ASSERT_TRUE(rs.ok()) << rs.message();
  }
  auto chunked = open_dashboard();
  ASSERT_NE(chunked, nullptr);
  for (const Ev& e : all) load({e});
  {
    auto conn = Conn::open(db_path_, false);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(refresh_rollups(
                    **conn, [] { return int64_t{0}; }, 2)
                    .ok());
  }
  for (const char* ep : {"summary", "pages", "exit-pages", "referrers", "timeseries"}) {
    const std::string t = std::string("/api/") + ep + "?from=2024-03-09&to=2024-03-11";
    EXPECT_EQ(get(*chunked, t).body, get(*one, t).body) << ep;
  }
}

// The rollups agree with the data models' known answers on storage's sample site, loaded by the
// real SQLite loader.
TEST_F(DashboardTest, AgreesWithTheSampleSiteKnownAnswers) {
  const storage::SampleSite s = storage::make_sample_site({.seed = 3, .users = 40});
  {
    auto target = sinks::parse_db_target("sqlite:" + db_path_.string());
    ASSERT_TRUE(target.ok());
    auto l = sinks::open_loader(*target, {});
    ASSERT_TRUE(l.ok()) << l.error().message;
    for (const auto& e : s.events) ASSERT_TRUE((*l)->add_event(e));
    ASSERT_TRUE((*l)->flush());
  }
  auto d = open_dashboard();
  ASSERT_NE(d, nullptr);
  {
    Status rs = d->refresh();
    ASSERT_TRUE(rs.ok()) << rs.message();
  }
  auto j = json(*d, "/api/summary?from=2024-02-01&to=2024-06-01");
  const auto& c = j["current"];
  EXPECT_EQ(c["events"].GetInt64(), s.unique_events);
  EXPECT_EQ(c["visitors"].GetInt64(), s.users);
  EXPECT_EQ(c["sessions"].GetInt64(), s.sessions);
  EXPECT_EQ(c["page_views"].GetInt64(), s.page_views);
  EXPECT_DOUBLE_EQ(c["bounce_rate"].GetDouble(),
                   static_cast<double>(s.bounces) / static_cast<double>(s.sessions));
  EXPECT_DOUBLE_EQ(c["avg_engaged_s"].GetDouble(),
                   static_cast<double>(s.engaged_seconds) / static_cast<double>(s.sessions));
  std::map<std::string, int64_t> landing;
  auto entry = json(*d, "/api/entry-pages?limit=1000&from=2024-02-01&to=2024-06-01");
  for (const auto& r : entry["rows"].GetArray()) {
    std::string page = r["page"].GetString();
    landing[page.substr(page.find('/'))] += r["count"].GetInt64();
  }
  EXPECT_EQ(landing, s.landing_pages);
}

TEST_F(DashboardTest, HostileAndInvalidUtf8ValuesComeBackAsJsonStrings) {
  auto d = open_dashboard();
  ASSERT_NE(d, nullptr);
  const std::string hostile = "</script ><script>alert(\"x\")</script>\\\n\t\x01";
  const std::string invalid = "caf\xc3(\xff";
  load({{.app = hostile,
         .ts = "2024-03-10 10:00:00.000",
         .duid = "u",
         .sid = "s",
         .path = "/" + hostile,
         .country = invalid,
         .se_category = hostile},
        {.app = hostile,
         .ts = "2024-03-10 10:01:00.000",
         .event = "struct",
         .duid = "u",
         .sid = "s",
         .se_category = hostile,
         .se_action = invalid}});
  {
    Status rs = d->refresh();
    ASSERT_TRUE(rs.ok()) << rs.message();
  }
  const std::string q = std::string("?") + kDay;
  auto pages = json(*d, "/api/pages" + q);
  EXPECT_EQ(std::string(pages["rows"][0]["page"].GetString()), "example.com/" + hostile);
  auto ev = json(*d, "/api/events" + q);
  EXPECT_EQ(std::string(ev["structured"][0]["category"].GetString()), hostile);
  EXPECT_EQ(std::string(ev["structured"][0]["action"].GetString()), "caf\xEF\xBF\xBD(\xEF\xBF\xBD");
  auto countries = json(*d, "/api/countries" + q);
  EXPECT_EQ(std::string(countries["rows"][0]["country"].GetString()),
            "caf\xEF\xBF\xBD(\xEF\xBF\xBD");
  // The app filter takes the value as data, too.
  auto app = json(*d, "/api/summary?app_id=" + common::url_encode(hostile) + "&" + kDay);
  EXPECT_EQ(app["current"]["events"].GetInt64(), 2);
  EXPECT_EQ(std::string(json(*d, "/api/apps")["apps"][0]["app_id"].GetString()), hostile);
  // The raw body never contains the markup unescaped in a way that ends a string early.
  rapidjson::Document whole;
  EXPECT_FALSE(whole.Parse(get(*d, "/api/pages" + q).body.c_str()).HasParseError());
}

TEST_F(DashboardTest, ServesTheAppWithStrictHeadersAndLeavesOtherPathsAlone) {
  auto d = open_dashboard();
  ASSERT_NE(d, nullptr);
  for (const char* t : {"/", "/index.html", "/assets/app.js", "/assets/app.css", "/api/summary",
                        "/api/nope", "/api/summary?from=x"}) {
    Reply r = get(*d, t);
    EXPECT_TRUE(r.handled) << t;
    EXPECT_EQ(r.headers["Content-Security-Policy"], kContentSecurityPolicy) << t;
    EXPECT_EQ(r.headers["X-Content-Type-Options"], "nosniff") << t;
  }
  Reply index = get(*d, "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("assets/app.js"), std::string::npos);
  EXPECT_EQ(index.body.find("<script>"), std::string::npos);  // no inline script
  EXPECT_EQ(get(*d, "/assets/app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(get(*d, "/api/nope").status, 404);
  EXPECT_EQ(get(*d, "/api/summary?from=x").status, 400);
  EXPECT_EQ(get(*d, "/api/summary?from=2024-03-02&to=2024-03-01").status, 400);
  EXPECT_EQ(get(*d, "/api/pages?limit=0").status, 400);
  EXPECT_EQ(get(*d, "/api/summary?from=1990-01-01&to=2024-01-01").status, 400);  // > 5 years
  EXPECT_EQ(get(*d, "/api/summary", "POST").status, 405);
  Reply head = get(*d, "/api/summary", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  for (const char* t : {"/i", "/com.snowplowanalytics.snowplow/tp2", "/health", "/micro/good",
                        "/assets/missing.js", "/login"}) {
    EXPECT_FALSE(get(*d, t).handled) << t;
  }

  auto sub = open_dashboard({}, "/dash");
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ(get(*sub, "/dash/").status, 200);
  EXPECT_EQ(get(*sub, "/dash/assets/app.js").status, 200);
  Reply redirect = get(*sub, "/dash");
  EXPECT_EQ(redirect.status, 308);
  EXPECT_EQ(redirect.headers["Location"], "/dash/");
  EXPECT_FALSE(get(*sub, "/").handled);
  EXPECT_TRUE(get(*sub, "/api/live").handled);
}

TEST(DashboardParams, TimeParameters) {
  EXPECT_EQ(parse_time_param("1710028800000"), 1710028800000);
  EXPECT_EQ(parse_time_param("2024-03-10"), 1710028800000);
  EXPECT_EQ(parse_time_param("2024-03-10T00:00Z"), 1710028800000);
  EXPECT_EQ(parse_time_param("2024-03-10T00:00:01.5Z"), 1710028801500);
  EXPECT_FALSE(parse_time_param("2024-13-10"));
  EXPECT_FALSE(parse_time_param("yesterday"));
  EXPECT_FALSE(parse_time_param(""));
  EXPECT_FALSE(parse_time_param("99999999999999999999999"));
  // 2 days 3 hours, starting mid-day: leading hours, one whole day, trailing hours.
  const Pieces p = split_range({1710028800000 + 20 * kHourMs, 1710028800000 + 51 * kHourMs});
  const int64_t h0 = 1710028800000 / kHourMs;
  EXPECT_EQ(p.h0_lo, h0 + 20);
  EXPECT_EQ(p.h0_hi, h0 + 24);
  EXPECT_EQ(p.d_lo, h0 / 24 + 1);
  EXPECT_EQ(p.d_hi, h0 / 24 + 2);
  EXPECT_EQ(p.h1_lo, h0 + 48);
  EXPECT_EQ(p.h1_hi, h0 + 51);
}

}  // namespace
}  // namespace furrow::dashboard
