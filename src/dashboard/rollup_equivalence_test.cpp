// The rollup tables do not depend on how the events arrive or are cut into chunks, and they hold
// what rollup.h defines. Random event sets (few sessions over three days, so that late events move
// sessions between buckets and change their first page view, exit page and attributes) are
// refreshed (a) at once, (b) in random load batches with a refresh after each, (c) as many small
// load batches refreshed with a tiny chunk size; every dash_* table must be byte-identical in the
// three, and the from-scratch tables must equal an independent recomputation in this file from
// the definitions in rollup.h (the semantics of the rollups as of session 9's start).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/time_format.h"
#include "dashboard/dashboard.h"
#include "dashboard/distinct.h"
#include "dashboard/rollup.h"
#include "dashboard/sqlite_conn.h"
#include "support/test_support.h"

namespace furrow::dashboard {
namespace {

// One atomic_events row; nullopt is NULL.
struct Row {
  std::optional<std::string> app, collector_ts, derived_ts, event, duid, nuid, sid, host, path,
      refr_medium, refr_source, refr_urlhost, refr_term, mkt_source, mkt_medium, mkt_campaign,
      country, br_family, os_family, dvce_type, derived_contexts, se_category, se_action, ue_vendor,
      ue_name, contexts;
};

std::string tstamp(int64_t ms, bool iso) {
  std::string s = format_tsv_tstamp(ms);
  if (iso) {
    s[10] = 'T';
    s += 'Z';
  }
  return s;
}

// Random events: `sessions` sessions of `visitors` visitors in two apps over three days.
std::vector<Row> random_rows(uint32_t seed, int n, int sessions, int visitors) {
  std::mt19937 rng(seed);
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<uint32_t>(k)); };
  auto maybe = [&](int percent, std::string v) -> std::optional<std::string> {
    if (pick(100) < percent) return v;
    return std::nullopt;
  };
  const int64_t base = 1'709'251'200'000;  // 2024-03-01 00:00 UTC
  std::vector<Row> rows;
  for (int i = 0; i < n; ++i) {
    Row r;
    const int s = pick(sessions);
    // A session lives around its own time, so its events cross hours and sometimes days.
    const int64_t ts = base + int64_t{s} * 3'600'000 * 72 / sessions + pick(5'400'000) +
                       (pick(10) == 0 ? -pick(90'000'000) : 0);
    r.app = pick(8) == 0 ? std::nullopt : std::optional<std::string>(s % 3 ? "web" : "shop");
    r.collector_ts = tstamp(ts + pick(2'000), false);
    if (pick(10) != 0) r.derived_ts = pick(20) == 0 ? "garbage" : tstamp(ts, pick(4) == 0);
    static const char* const kEvents[] = {"page_view", "page_view", "page_ping", "page_ping",
                                          "page_ping", "struct",    "unstruct",  "transaction"};
    r.event = kEvents[pick(8)];
    if (pick(12) != 0) r.duid = "u" + std::to_string(s % visitors);
    if (pick(3) != 0) r.nuid = "n" + std::to_string(s % (visitors + 3));
    if (pick(15) != 0) r.sid = pick(25) == 0 ? "" : "s" + std::to_string(s);
    r.host = maybe(90, pick(5) == 0 ? "b.example" : "a.example");
    r.path = maybe(90, "/p" + std::to_string(pick(6)));
    r.refr_medium = maybe(40, pick(2) ? "search" : "social");
    r.refr_source = maybe(30, "Src" + std::to_string(pick(3)));
    r.refr_urlhost = maybe(40, "r" + std::to_string(pick(3)) + ".example");
    r.refr_term = maybe(20, "term " + std::to_string(pick(3)));
    r.mkt_source = maybe(20, "m" + std::to_string(pick(2)));
    r.mkt_medium = maybe(20, "email");
    r.mkt_campaign = maybe(20, "c" + std::to_string(pick(3)));
    r.country = maybe(80, pick(2) ? "DE" : "FR");
    r.br_family = maybe(60, "Br" + std::to_string(pick(3)));
    r.os_family = maybe(60, "Os" + std::to_string(pick(2)));
    r.dvce_type = maybe(60, "Dv" + std::to_string(pick(2)));
    if (pick(3) != 0) {
      // A ua_parser_context, sometimes after another entity, sometimes without a field, and
      // sometimes with an escape (which takes the full JSON parse).
      std::string ua = pick(6) == 0 ? "Ch\\\"rome" : "UA" + std::to_string(pick(3));
      std::string data = "{\"useragentFamily\":\"" + ua + "\"";
      if (pick(4) != 0) data += ",\"osFamily\":\"UOs" + std::to_string(pick(2)) + "\"";
      if (pick(4) != 0) data += ",\"deviceFamily\":\"UDv\"";
      data += "}";
      std::string other = pick(2) == 0 ? ""
                                       : "{\"schema\":\"iglu:com.acme/other/jsonschema/1-0-0\","
                                         "\"data\":{\"osFamily\":\"NotThis\"}},";
      r.derived_contexts =
          "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\","
          "\"data\":[" +
          other +
          "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/"
          "1-0-0\",\"data\":" +
          data + "}]}";
    }
    if (r.event == "struct") {
      r.se_category = maybe(80, "cat" + std::to_string(pick(2)));
      r.se_action = maybe(80, "act" + std::to_string(pick(2)));
    }
    if (r.event == "unstruct" && pick(5) != 0) {
      r.ue_vendor = "com.acme";
      r.ue_name = "ev" + std::to_string(pick(3));
    }
    if (pick(6) != 0) {
      r.contexts =
          "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\","
          "\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/"
          "1-0-0\",\"data\":{\"id\":\"pv" +
          std::to_string(s) + "-" + std::to_string(pick(3)) + "\"}}]}";
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

class RollupEquivalenceTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = furrow::test::temp_dir("furrow_rollup_eq"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Dashboard> open(const std::string& name) {
    Options o;
    o.db = dir_ / name;
    o.now_ms = [] { return int64_t{1'709'251'200'000}; };
    auto d = Dashboard::open(o);
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
    return d.ok() ? std::move(*d) : nullptr;
  }

  // Appends rows [from, to) as one load batch.
  void load(const std::string& name, const std::vector<Row>& rows, std::size_t from,
            std::size_t to) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / name).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_stmt* b = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO load_batches (started_at, events) VALUES "
                                 "('2024-01-01 00:00:00.000', ?1)",
                                 -1, &b, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(b, 1, static_cast<int64_t>(to - from));
    ASSERT_EQ(sqlite3_step(b), SQLITE_DONE);
    sqlite3_finalize(b);
    const int64_t load_id = sqlite3_last_insert_rowid(db);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(
                  db,
                  "INSERT INTO atomic_events (platform, event_id, v_collector, v_etl, load_id, "
                  "app_id, collector_tstamp, derived_tstamp, event, domain_userid, network_userid, "
                  "domain_sessionid, page_urlhost, page_urlpath, refr_medium, refr_source, "
                  "refr_urlhost, refr_term, mkt_source, mkt_medium, mkt_campaign, geo_country, "
                  "br_family, os_family, dvce_type, derived_contexts, se_category, se_action, "
                  "event_vendor, event_name, event_format, event_version, contexts) VALUES "
                  "('web', ?1, 'c', 'e', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                  "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, "
                  "CASE WHEN ?26 IS NOT NULL THEN 'jsonschema' END, "
                  "CASE WHEN ?26 IS NOT NULL THEN '1-0-0' END, ?28)",
                  -1, &s, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    for (std::size_t i = from; i < to; ++i) {
      const Row& r = rows[i];
      const std::string id = "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
      sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(s, 2, load_id);
      const std::optional<std::string>* cols[] = {
          &r.app,          &r.collector_ts, &r.derived_ts,
          &r.event,        &r.duid,         &r.nuid,
          &r.sid,          &r.host,         &r.path,
          &r.refr_medium,  &r.refr_source,  &r.refr_urlhost,
          &r.refr_term,    &r.mkt_source,   &r.mkt_medium,
          &r.mkt_campaign, &r.country,      &r.br_family,
          &r.os_family,    &r.dvce_type,    &r.derived_contexts,
          &r.se_category,  &r.se_action,    &r.ue_vendor,
          &r.ue_name,      &r.contexts};
      for (int c = 0; c < 26; ++c) {
        const auto& v = *cols[c];
        if (v) {
          sqlite3_bind_text(s, 3 + c, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
        } else {
          sqlite3_bind_null(s, 3 + c);
        }
      }
      ASSERT_EQ(sqlite3_step(s), SQLITE_DONE) << sqlite3_errmsg(db);
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }

  // Every dash_* table (but dash_state) as text, one line per row in key order.
  std::string dump(const std::string& name) {
    auto c = Conn::open(dir_ / name, true);
    EXPECT_TRUE(c.ok());
    if (!c.ok()) return {};
    std::string out;
    for (const char* table :
         {"dash_totals", "dash_dims", "dash_visitors", "dash_sessions", "dash_bad"}) {
      out += std::string("== ") + table + "\n";
      // WITHOUT ROWID tables: a full scan is in primary-key order. A totals row whose figures are
      // all zero is left behind when a session moves out of a bucket that has none of its events
      // (its app changed with an earlier first event): equal to no row for every query.
      std::string sql = std::string("SELECT * FROM ") + table;
      if (std::string_view(table) == "dash_totals") {
        sql +=
            " WHERE events OR page_views OR page_pings OR struct_events OR unstruct_events OR "
            "sessions OR bounces OR engaged_s";
      }
      sqlite3_stmt* s = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2((*c)->raw(), sql.c_str(), -1, &s, nullptr), SQLITE_OK);
      while (sqlite3_step(s) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(s); ++i) {
          const auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
          const int n = sqlite3_column_bytes(s, i);
          out += sqlite3_column_type(s, i) == SQLITE_BLOB ? "B:" : "";
          for (int k = 0; k < n; ++k) {
            const auto ch = static_cast<unsigned char>(p[k]);
            if (ch >= 0x20 && ch < 0x7f) {
              out += static_cast<char>(ch);
            } else {
              out += "\\x" + std::string(1, "0123456789abcdef"[ch >> 4]) +
                     std::string(1, "0123456789abcdef"[ch & 15]);
            }
          }
          out += '|';
        }
        out += '\n';
      }
      sqlite3_finalize(s);
    }
    return out;
  }

  std::filesystem::path dir_;
};

// The rollups recomputed from the events by the definitions in rollup.h.
struct Reference {
  using BucketKey = std::tuple<int, int64_t, std::string>;  // grain, bucket, app
  std::map<BucketKey, std::array<int64_t, 8>> totals;
  std::map<std::tuple<int, int, int64_t, std::string, std::string>, int64_t> dims;
  std::map<BucketKey, std::set<std::string>> visitors;
  // domain_sessionid -> entry page, exit page, page views, pings, the ten attributes, windows
  std::map<std::string, std::vector<std::string>> sessions;
};

std::string v(const std::optional<std::string>& s) {
  return s.value_or("");
}

int64_t row_ts(const Row& r, bool& ok) {
  int64_t ms = 0;
  ok = true;
  if (r.derived_ts && parse_any_tstamp(*r.derived_ts, ms)) return ms;
  ok = parse_any_tstamp(v(r.collector_ts), ms);
  return ms;
}

// A field of the ua_parser_context entity's data, read with the JSON escape undone.
std::string ua_field(const Row& r, const std::string& key) {
  const std::string j = v(r.derived_contexts);
  const auto at = j.find("/ua_parser_context/");
  if (at == std::string::npos) return "";
  const auto k = j.find("\"" + key + "\":\"", at);
  if (k == std::string::npos) return "";
  std::string out;
  for (std::size_t i = k + key.size() + 4; i < j.size() && j[i] != '"'; ++i) {
    if (j[i] == '\\') ++i;
    out += j[i];
  }
  return out;
}

Reference reference(const std::vector<Row>& rows) {
  Reference ref;
  auto add_dim = [&](Dim d, int64_t ts, const std::string& app,
                     const std::vector<std::string>& parts, int64_t n) {
    if (std::all_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); }))
      return;
    std::string value;
    for (std::size_t i = 0; i < parts.size(); ++i) value += (i ? "\x1f" : "") + parts[i];
    ref.dims[{static_cast<int>(d), 0, floor_div(ts, kHourMs), app, value}] += n;
    ref.dims[{static_cast<int>(d), 1, floor_div(ts, kDayMs), app, value}] += n;
  };
  struct Ses {
    std::vector<std::size_t> rows;
  };
  std::map<std::string, Ses> by_session;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    bool ok = false;
    const int64_t ts = row_ts(r, ok);
    if (!ok) continue;
    const std::string app = v(r.app), ev = v(r.event);
    for (int g = 0; g < 2; ++g) {
      auto& t = ref.totals[{g, floor_div(ts, g ? kDayMs : kHourMs), app}];
      t[0] += 1;
      t[1] += ev == "page_view";
      t[2] += ev == "page_ping";
      t[3] += ev == "struct";
      t[4] += ev == "unstruct";
      const std::string visitor = v(r.duid).empty() ? v(r.nuid) : v(r.duid);
      if (!visitor.empty())
        ref.visitors[{g, floor_div(ts, g ? kDayMs : kHourMs), app}].insert(visitor);
    }
    if (ev == "page_view") add_dim(Dim::kPage, ts, app, {v(r.host) + v(r.path)}, 1);
    if (ev == "struct") add_dim(Dim::kStruct, ts, app, {v(r.se_category), v(r.se_action)}, 1);
    if (ev == "unstruct" && r.ue_vendor) {
      add_dim(Dim::kUnstruct, ts, app,
              {"iglu:" + v(r.ue_vendor) + "/" + v(r.ue_name) + "/jsonschema/1-0-0"}, 1);
    }
    if (!v(r.sid).empty()) by_session[v(r.sid)].rows.push_back(i);
  }
  for (const auto& [sid, ses] : by_session) {
    int64_t start = std::numeric_limits<int64_t>::max();
    // first: (rank, ts, order of arrival); exit: latest page view, the first to arrive on a tie.
    std::optional<std::tuple<int, int64_t, std::size_t>> first;
    std::optional<std::pair<int64_t, std::size_t>> exit;
    int64_t pvs = 0, pings = 0;
    std::set<uint64_t> windows;
    for (std::size_t i : ses.rows) {
      const Row& r = rows[i];
      bool ok = false;
      const int64_t ts = row_ts(r, ok);
      const bool pv = v(r.event) == "page_view";
      start = std::min(start, ts);
      const std::tuple<int, int64_t, std::size_t> key{pv ? 0 : 1, ts, i};
      if (!first || key < *first) first = key;
      if (pv) {
        ++pvs;
        if (!exit || ts > exit->first) exit = {ts, i};
      }
      if (v(r.event) == "page_ping") {
        ++pings;
        const std::string c = v(r.contexts);
        std::string id;
        if (auto at = c.find("\"id\":\""); at != std::string::npos) {
          id = c.substr(at + 6, c.find('"', at + 6) - at - 6);
        }
        windows.insert(distinct_hash(id + "\x1f" + std::to_string(floor_div(ts, 10'000))));
      }
    }
    const Row& f = rows[std::get<2>(*first)];
    const std::string app = v(f.app);
    const std::string entry = std::get<0>(*first) == 0 ? v(f.host) + v(f.path) : "";
    const std::string exit_page =
        exit ? v(rows[exit->second].host) + v(rows[exit->second].path) : "";
    std::string browser = ua_field(f, "useragentFamily"), os = ua_field(f, "osFamily"),
                device = ua_field(f, "deviceFamily");
    if (browser.empty()) browser = v(f.br_family);
    if (os.empty()) os = v(f.os_family);
    if (device.empty()) device = v(f.dvce_type);
    const std::string source = f.refr_source ? *f.refr_source : v(f.refr_urlhost);
    const bool bounce = pvs == 1 && windows.empty();
    for (int g = 0; g < 2; ++g) {
      auto& t = ref.totals[{g, floor_div(start, g ? kDayMs : kHourMs), app}];
      t[5] += 1;
      t[6] += bounce;
      t[7] += static_cast<int64_t>(windows.size()) * kHeartbeatS;
    }
    add_dim(Dim::kEntry, start, app, {entry}, 1);
    add_dim(Dim::kExit, start, app, {exit_page}, 1);
    add_dim(Dim::kReferrer, start, app, {v(f.refr_medium), source}, 1);
    add_dim(Dim::kSearchTerm, start, app, {v(f.refr_term)}, 1);
    add_dim(Dim::kCampaign, start, app, {v(f.mkt_source), v(f.mkt_medium), v(f.mkt_campaign)}, 1);
    add_dim(Dim::kCountry, start, app, {v(f.country)}, 1);
    add_dim(Dim::kBrowser, start, app, {browser}, 1);
    add_dim(Dim::kOs, start, app, {os}, 1);
    add_dim(Dim::kDevice, start, app, {device}, 1);
    ref.sessions[sid] = {entry,
                         exit_page,
                         std::to_string(pvs),
                         std::to_string(pings),
                         v(f.refr_medium),
                         source,
                         v(f.refr_term),
                         v(f.mkt_source),
                         v(f.mkt_medium),
                         v(f.mkt_campaign),
                         v(f.country),
                         browser,
                         os,
                         device,
                         std::to_string(windows.size())};
  }
  return ref;
}

// The from-scratch tables of `name` against the recomputation.
void expect_matches_reference(const std::string& path, const Reference& ref) {
  auto c = Conn::open(path, true);
  ASSERT_TRUE(c.ok());
  Reference got;
  {
    auto s = (*c)->prepare(
        "SELECT grain, bucket, app_id, events, page_views, page_pings, struct_events, "
        "unstruct_events, sessions, bounces, engaged_s FROM dash_totals");
    ASSERT_TRUE(s.ok());
    while ((*s)->step() == SQLITE_ROW) {
      auto& t =
          got.totals[{static_cast<int>((*s)->i64(0)), (*s)->i64(1), std::string((*s)->text(2))}];
      for (int i = 0; i < 8; ++i) t[static_cast<std::size_t>(i)] = (*s)->i64(3 + i);
    }
  }
  EXPECT_EQ(got.totals, ref.totals);
  {
    auto s = (*c)->prepare("SELECT dim, grain, bucket, app_id, value, n FROM dash_dims");
    ASSERT_TRUE(s.ok());
    while ((*s)->step() == SQLITE_ROW) {
      got.dims[{static_cast<int>((*s)->i64(0)), static_cast<int>((*s)->i64(1)), (*s)->i64(2),
                std::string((*s)->text(3)), std::string((*s)->text(4))}] = (*s)->i64(5);
    }
  }
  EXPECT_EQ(got.dims, ref.dims);
  {
    auto s = (*c)->prepare("SELECT grain, bucket, app_id, sketch FROM dash_visitors");
    ASSERT_TRUE(s.ok());
    std::map<Reference::BucketKey, int64_t> counts, want;
    while ((*s)->step() == SQLITE_ROW) {
      DistinctSketch sk;
      ASSERT_TRUE(sk.merge_serialized((*s)->text(3)));
      counts[{static_cast<int>((*s)->i64(0)), (*s)->i64(1), std::string((*s)->text(2))}] =
          sk.estimate();
    }
    for (const auto& [k, set] : ref.visitors) want[k] = static_cast<int64_t>(set.size());
    EXPECT_EQ(counts, want);
  }
  {
    auto s = (*c)->prepare(
        "SELECT domain_sessionid, entry_page, exit_page, page_views, pings, refr_medium, "
        "refr_source, refr_term, mkt_source, mkt_medium, mkt_campaign, country, browser, os, "
        "device, length(windows) / 8 FROM dash_sessions");
    ASSERT_TRUE(s.ok());
    while ((*s)->step() == SQLITE_ROW) {
      auto& row = got.sessions[std::string((*s)->text(0))];
      for (int i = 1; i < 16; ++i) {
        row.push_back(i == 3 || i == 4 || i == 15 ? std::to_string((*s)->i64(i))
                                                  : std::string((*s)->text(i)));
      }
    }
  }
  EXPECT_EQ(got.sessions, ref.sessions);
}

TEST_F(RollupEquivalenceTest, ChunkedAndIncrementalRefreshesEqualFromScratchAndTheDefinitions) {
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string tag = std::to_string(seed);
    // Seed 4: more sessions than one batched read of stored states takes (64), so that chunks
    // touch sessions in several batches.
    const auto rows =
        seed == 4 ? random_rows(seed, 3'000, 400, 250) : random_rows(seed, 1'500, 60, 40);
    std::mt19937 rng(seed * 7919);

    // (a) At once.
    auto whole = open("whole" + tag + ".db");
    ASSERT_NE(whole, nullptr);
    load("whole" + tag + ".db", rows, 0, rows.size());
    ASSERT_TRUE(whole->refresh().ok());

    // (b) Random load batches, a refresh after each (some batches refreshed two at a time).
    auto inc = open("inc" + tag + ".db");
    ASSERT_NE(inc, nullptr);
    for (std::size_t i = 0; i < rows.size();) {
      const std::size_t n = std::min<std::size_t>(rows.size() - i, 1 + rng() % 200);
      load("inc" + tag + ".db", rows, i, i + n);
      i += n;
      if (rng() % 3 != 0) {
        ASSERT_TRUE(inc->refresh().ok());
      }
    }
    ASSERT_TRUE(inc->refresh().ok());

    // (c) Small load batches refreshed in small chunks (several chunks per refresh).
    auto chunked = open("chunked" + tag + ".db");
    ASSERT_NE(chunked, nullptr);
    for (std::size_t i = 0; i < rows.size(); i += 37) {
      load("chunked" + tag + ".db", rows, i, std::min(rows.size(), i + 37));
    }
    {
      auto conn = Conn::open(dir_ / ("chunked" + tag + ".db"), false);
      ASSERT_TRUE(conn.ok());
      ASSERT_TRUE(refresh_rollups(
                      **conn, [] { return int64_t{0}; }, 100)
                      .ok());
    }

    const std::string want = dump("whole" + tag + ".db");
    EXPECT_GT(want.size(), 10'000u);
    EXPECT_EQ(dump("inc" + tag + ".db"), want);
    EXPECT_EQ(dump("chunked" + tag + ".db"), want);
    expect_matches_reference((dir_ / ("whole" + tag + ".db")).string(), reference(rows));
  }
}

}  // namespace
}  // namespace furrow::dashboard
