#include "dashboard/api.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>

#include "common/time_format.h"
#include "common/url_codec.h"
#include "dashboard/distinct.h"
#include "dashboard/rollup.h"
#include "furrow/version.h"

namespace furrow::dashboard {
namespace {

constexpr int64_t kMaxRangeMs = 5 * 366 * kDayMs;  // bounds the work of one query
constexpr int64_t kDefaultRangeMs = 7 * kDayMs;
constexpr int64_t kMaxHourBuckets = 24 * 62;
constexpr int64_t kLiveWindowMs = 5 * 60 * 1000;
// Query-time visitor unions stay exact up to this many distinct visitors.
constexpr std::size_t kQuerySparseLimit = std::size_t{1} << 16;

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

struct ApiError {
  int status;
  std::string message;
};

class Json {
 public:
  Json() : w_(buf_) {}
  JsonWriter& w() { return w_; }
  void key(const char* k) { w_.Key(k); }
  void str(std::string_view s) {
    scratch_.clear();
    common::utf8_repair_append(s, scratch_);
    w_.String(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()));
  }
  void num(int64_t v) { w_.Int64(v); }
  void dbl(double v) { w_.Double(v); }
  std::string take() { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  JsonWriter w_;
  std::string scratch_;
};

struct Params {
  TimeRange range;
  std::optional<std::string> app_id;
  int64_t limit = 10;
  std::string interval;
  std::string kind;
};

void bind_pieces(Stmt& s, const Pieces& p) {
  s.bind(1, p.h0_lo);
  s.bind(2, p.h0_hi);
  s.bind(3, p.d_lo);
  s.bind(4, p.d_hi);
  s.bind(5, p.h1_lo);
  s.bind(6, p.h1_hi);
}

void bind_app(Stmt& s, int i, const std::optional<std::string>& app) {
  if (app) {
    s.bind(i, *app);
  } else {
    s.bind_null(i);
  }
}

#define FURROW_PIECES(t)                                                                   \
  "((" t "grain = 0 AND " t "bucket >= ?1 AND " t "bucket < ?2) OR (" t "grain = 1 AND " t \
  "bucket >= ?3 AND " t "bucket < ?4) OR (" t "grain = 0 AND " t "bucket >= ?5 AND " t     \
  "bucket < ?6))"

struct Summary {
  int64_t events = 0, page_views = 0, page_pings = 0, struct_events = 0, unstruct_events = 0,
          sessions = 0, bounces = 0, engaged_s = 0, visitors = 0;
  bool visitors_exact = true;
};

Result<Summary> summary(Conn& db, const TimeRange& r, const std::optional<std::string>& app) {
  Summary out;
  const Pieces p = split_range(r);
  {
    auto st = db.prepare(
        "SELECT coalesce(sum(events), 0), coalesce(sum(page_views), 0), coalesce(sum(page_pings), "
        "0), coalesce(sum(struct_events), 0), coalesce(sum(unstruct_events), 0), "
        "coalesce(sum(sessions), 0), coalesce(sum(bounces), 0), coalesce(sum(engaged_s), 0) FROM "
        "dash_totals WHERE " FURROW_PIECES("") " AND (?7 IS NULL OR app_id = ?7)");
    if (!st) return st.error();
    Stmt& s = **st;
    bind_pieces(s, p);
    bind_app(s, 7, app);
    if (s.step() != SQLITE_ROW) return Error{"SQLite: " + db.last_error()};
    out.events = s.i64(0);
    out.page_views = s.i64(1);
    out.page_pings = s.i64(2);
    out.struct_events = s.i64(3);
    out.unstruct_events = s.i64(4);
    out.sessions = s.i64(5);
    out.bounces = s.i64(6);
    out.engaged_s = s.i64(7);
  }
  auto st = db.prepare("SELECT sketch FROM dash_visitors WHERE " FURROW_PIECES(
      "") " AND (?7 IS NULL OR app_id = ?7)");
  if (!st) return st.error();
  Stmt& s = **st;
  bind_pieces(s, p);
  bind_app(s, 7, app);
  DistinctSketch all(kQuerySparseLimit);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) all.merge_serialized(s.text(0));
  if (rc != SQLITE_DONE) return Error{"SQLite: " + db.last_error()};
  out.visitors = all.estimate();
  out.visitors_exact = all.exact();
  return out;
}

void write_summary(Json& j, const Summary& s) {
  auto& w = j.w();
  w.StartObject();
  j.key("visitors");
  j.num(s.visitors);
  j.key("visitors_exact");
  w.Bool(s.visitors_exact);
  j.key("page_views");
  j.num(s.page_views);
  j.key("sessions");
  j.num(s.sessions);
  j.key("bounce_rate");
  if (s.sessions > 0) {
    j.dbl(static_cast<double>(s.bounces) / static_cast<double>(s.sessions));
  } else {
    w.Null();
  }
  j.key("avg_engaged_s");
  if (s.sessions > 0) {
    j.dbl(static_cast<double>(s.engaged_s) / static_cast<double>(s.sessions));
  } else {
    w.Null();
  }
  j.key("events");
  j.num(s.events);
  j.key("page_pings");
  j.num(s.page_pings);
  j.key("struct_events");
  j.num(s.struct_events);
  j.key("unstruct_events");
  j.num(s.unstruct_events);
  w.EndObject();
}

void write_range(Json& j, const Params& p) {
  j.key("from");
  j.num(p.range.from_ms);
  j.key("to");
  j.num(p.range.to_ms);
  j.key("app_id");
  if (p.app_id) {
    j.str(*p.app_id);
  } else {
    j.w().Null();
  }
}

Status api_summary(Conn& db, const Params& p, Json& j) {
  auto cur = summary(db, p.range, p.app_id);
  if (!cur) return cur.error();
  const int64_t len = p.range.to_ms - p.range.from_ms;
  auto prev = summary(db, {p.range.from_ms - len, p.range.from_ms}, p.app_id);
  if (!prev) return prev.error();
  j.w().StartObject();
  write_range(j, p);
  j.key("current");
  write_summary(j, *cur);
  j.key("previous");
  write_summary(j, *prev);
  j.w().EndObject();
  return Status::Ok();
}

Status api_timeseries(Conn& db, const Params& p, Json& j) {
  const int64_t hours = (p.range.to_ms - p.range.from_ms) / kHourMs;
  bool hourly = p.interval == "hour" || (p.interval.empty() && hours <= 48);
  if (hourly && hours > kMaxHourBuckets) hourly = false;
  const int64_t unit = hourly ? kHourMs : kDayMs;
  const int64_t first = floor_div(p.range.from_ms, unit);
  const int64_t last = floor_div(p.range.to_ms - 1, unit);  // inclusive
  const std::size_t n = static_cast<std::size_t>(last - first + 1);
  std::vector<Summary> rows(n);
  std::vector<DistinctSketch> visitors(n, DistinctSketch(kQuerySparseLimit));
  const Pieces pieces = hourly ? Pieces{floor_div(p.range.from_ms, kHourMs),
                                        floor_div(p.range.to_ms, kHourMs),
                                        0,
                                        0,
                                        0,
                                        0}
                               : split_range(p.range);
  auto index = [&](int64_t grain, int64_t bucket) -> std::size_t {
    const int64_t ms = bucket * (grain == 0 ? kHourMs : kDayMs);
    return static_cast<std::size_t>(floor_div(ms, unit) - first);
  };
  {
    auto st = db.prepare(
        "SELECT grain, bucket, events, page_views, sessions, bounces, engaged_s FROM dash_totals "
        "WHERE " FURROW_PIECES("") " AND (?7 IS NULL OR app_id = ?7)");
    if (!st) return st.error();
    Stmt& s = **st;
    bind_pieces(s, pieces);
    bind_app(s, 7, p.app_id);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      const std::size_t i = index(s.i64(0), s.i64(1));
      if (i >= n) continue;
      rows[i].events += s.i64(2);
      rows[i].page_views += s.i64(3);
      rows[i].sessions += s.i64(4);
      rows[i].bounces += s.i64(5);
      rows[i].engaged_s += s.i64(6);
    }
    if (rc != SQLITE_DONE) return Error{"SQLite: " + db.last_error()};
  }
  {
    auto st = db.prepare("SELECT grain, bucket, sketch FROM dash_visitors WHERE " FURROW_PIECES(
        "") " AND (?7 IS NULL OR app_id = ?7)");
    if (!st) return st.error();
    Stmt& s = **st;
    bind_pieces(s, pieces);
    bind_app(s, 7, p.app_id);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      const std::size_t i = index(s.i64(0), s.i64(1));
      if (i < n) visitors[i].merge_serialized(s.text(2));
    }
    if (rc != SQLITE_DONE) return Error{"SQLite: " + db.last_error()};
  }
  auto& w = j.w();
  w.StartObject();
  write_range(j, p);
  j.key("interval");
  j.str(hourly ? "hour" : "day");
  j.key("buckets");
  w.StartArray();
  for (std::size_t i = 0; i < n; ++i) {
    w.StartObject();
    j.key("t");
    j.num((first + static_cast<int64_t>(i)) * unit);
    j.key("visitors");
    j.num(visitors[i].estimate());
    j.key("page_views");
    j.num(rows[i].page_views);
    j.key("sessions");
    j.num(rows[i].sessions);
    j.key("events");
    j.num(rows[i].events);
    j.key("bounces");
    j.num(rows[i].bounces);
    j.key("engaged_s");
    j.num(rows[i].engaged_s);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Status::Ok();
}

// Top values of one dimension over the range; `fields` name the \x1f-separated parts of a value.
// The rows are summed per value in C++ (a hash map) rather than by SQLite's GROUP BY, which sorts
// every row of a long range through a temporary B-tree; only the top `limit` are then ordered.
Status top_rows(Conn& db, const Params& p, Dim dim, std::initializer_list<const char*> fields,
                Json& j) {
  auto st = db.prepare(
      "SELECT value, n FROM dash_dims WHERE dim = ?8 AND grain = 0 AND bucket >= ?1 AND bucket < "
      "?2 AND (?7 IS NULL OR app_id = ?7) UNION ALL SELECT value, n FROM dash_dims WHERE dim = ?8 "
      "AND grain = 1 AND bucket >= ?3 AND bucket < ?4 AND (?7 IS NULL OR app_id = ?7) UNION ALL "
      "SELECT value, n FROM dash_dims WHERE dim = ?8 AND grain = 0 AND bucket >= ?5 AND bucket < "
      "?6 AND (?7 IS NULL OR app_id = ?7)");
  if (!st) return st.error();
  Stmt& s = **st;
  bind_pieces(s, split_range(p.range));
  bind_app(s, 7, p.app_id);
  s.bind(8, static_cast<int64_t>(dim));
  std::unordered_map<std::string, int64_t> sums;
  std::string key;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    key.assign(s.text(0));
    auto it = sums.find(key);
    if (it == sums.end()) {
      sums.emplace(key, s.i64(1));
    } else {
      it->second += s.i64(1);
    }
  }
  if (rc != SQLITE_DONE) return Error{"SQLite: " + db.last_error()};
  std::vector<std::pair<const std::string*, int64_t>> top;
  top.reserve(sums.size());
  for (const auto& [v, n] : sums) {
    if (n > 0) top.emplace_back(&v, n);
  }
  auto order = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : *a.first < *b.first;
  };
  const auto k = std::min<std::size_t>(top.size(), static_cast<std::size_t>(p.limit));
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k), top.end(), order);
  auto& w = j.w();
  w.StartArray();
  for (std::size_t r = 0; r < k; ++r) {
    std::string_view v = *top[r].first;
    w.StartObject();
    std::size_t i = 0;
    for (const char* f : fields) {
      ++i;
      std::string_view part = v;
      if (i < fields.size()) {
        const auto sep = v.find('\x1f');
        part = v.substr(0, sep);
        v = sep == std::string_view::npos ? std::string_view() : v.substr(sep + 1);
      }
      j.key(f);
      j.str(part);
    }
    j.key("count");
    j.num(top[r].second);
    w.EndObject();
  }
  w.EndArray();
  return Status::Ok();
}

Status api_top(Conn& db, const Params& p, Dim dim, std::initializer_list<const char*> fields,
               const char* counts, Json& j) {
  j.w().StartObject();
  write_range(j, p);
  j.key("counts");
  j.str(counts);
  j.key("rows");
  if (Status st = top_rows(db, p, dim, fields, j); !st) return st;
  j.w().EndObject();
  return Status::Ok();
}

Status api_events(Conn& db, const Params& p, Json& j) {
  auto sum = summary(db, p.range, p.app_id);
  if (!sum) return sum.error();
  auto& w = j.w();
  w.StartObject();
  write_range(j, p);
  j.key("by_type");
  w.StartObject();
  j.key("page_view");
  j.num(sum->page_views);
  j.key("page_ping");
  j.num(sum->page_pings);
  j.key("struct");
  j.num(sum->struct_events);
  j.key("unstruct");
  j.num(sum->unstruct_events);
  j.key("other");
  j.num(sum->events - sum->page_views - sum->page_pings - sum->struct_events -
        sum->unstruct_events);
  w.EndObject();
  j.key("structured");
  if (Status st = top_rows(db, p, Dim::kStruct, {"category", "action"}, j); !st) return st;
  j.key("self_describing");
  if (Status st = top_rows(db, p, Dim::kUnstruct, {"schema"}, j); !st) return st;
  w.EndObject();
  return Status::Ok();
}

Status api_live(Conn& db, const Params& p, int64_t now, Json& j) {
  auto st = db.prepare(
      "SELECT count(DISTINCT coalesce(domain_userid, network_userid)), count(*) FROM "
      "atomic_events WHERE collector_tstamp >= ?1 AND (?2 IS NULL OR app_id = ?2)");
  if (!st) return st.error();
  Stmt& s = **st;
  s.bind(1, format_tsv_tstamp(now - kLiveWindowMs));
  bind_app(s, 2, p.app_id);
  if (s.step() != SQLITE_ROW) return Error{"SQLite: " + db.last_error()};
  auto& w = j.w();
  w.StartObject();
  j.key("visitors");
  j.num(s.i64(0));
  j.key("events");
  j.num(s.i64(1));
  j.key("window_s");
  j.num(kLiveWindowMs / 1000);
  j.key("as_of");
  j.num(now);
  j.key("app_id");
  if (p.app_id) {
    j.str(*p.app_id);
  } else {
    w.Null();
  }
  w.EndObject();
  return Status::Ok();
}

// The failure messages of a bad row document (data.failure.messages, else data.failure), as
// strings: JSON values other than strings are given as compact JSON text.
void bad_row_messages(std::string_view document, Json& j) {
  constexpr std::size_t kMaxMessages = 20, kMaxChars = 2000;
  auto& w = j.w();
  w.StartArray();
  rapidjson::Document d;
  d.Parse(document.data(), document.size());
  const rapidjson::Value* failure = nullptr;
  if (!d.HasParseError() && d.IsObject()) {
    auto data = d.FindMember("data");
    if (data != d.MemberEnd() && data->value.IsObject()) {
      auto f = data->value.FindMember("failure");
      if (f != data->value.MemberEnd()) failure = &f->value;
    }
  }
  auto emit = [&](const rapidjson::Value& v) {
    if (v.IsString()) {
      j.str(std::string_view(v.GetString(), std::min<std::size_t>(v.GetStringLength(), kMaxChars)));
      return;
    }
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> bw(b);
    v.Accept(bw);
    j.str(std::string_view(b.GetString(), std::min<std::size_t>(b.GetSize(), kMaxChars)));
  };
  if (failure) {
    const rapidjson::Value* messages = failure;
    if (failure->IsObject()) {
      auto m = failure->FindMember("messages");
      if (m != failure->MemberEnd()) messages = &m->value;
    }
    if (messages->IsArray()) {
      std::size_t k = 0;
      for (const auto& m : messages->GetArray()) {
        if (k++ == kMaxMessages) break;
        emit(m);
      }
    } else {
      emit(*messages);
    }
  }
  w.EndArray();
}

Status api_bad_rows(Conn& db, const Params& p, Json& j) {
  auto& w = j.w();
  w.StartObject();
  write_range(j, p);
  int64_t total = 0;
  {
    auto st = db.prepare("SELECT failure_type, sum(n) AS c FROM dash_bad WHERE " FURROW_PIECES(
        "") " GROUP BY failure_type HAVING c > 0 ORDER BY c DESC, failure_type");
    if (!st) return st.error();
    Stmt& s = **st;
    bind_pieces(s, split_range(p.range));
    j.key("by_type");
    w.StartArray();
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      w.StartObject();
      j.key("failure_type");
      j.str(s.text(0));
      j.key("count");
      j.num(s.i64(1));
      total += s.i64(1);
      w.EndObject();
    }
    w.EndArray();
    if (rc != SQLITE_DONE) return Error{"SQLite: " + db.last_error()};
  }
  j.key("total");
  j.num(total);
  // The latest rows in the range: newest first by insertion, scanning a bounded number of rows.
  auto st = db.prepare(
      "SELECT failure_type, schema, processor, failure_tstamp, document FROM bad_rows ORDER BY "
      "rowid DESC LIMIT 5000");
  if (!st) return st.error();
  Stmt& s = **st;
  j.key("latest");
  w.StartArray();
  int64_t shown = 0;
  int rc;
  while (shown < p.limit && (rc = s.step()) == SQLITE_ROW) {
    int64_t ts = 0;
    if (!parse_any_tstamp(s.text(3), ts) || ts < p.range.from_ms || ts >= p.range.to_ms) continue;
    ++shown;
    w.StartObject();
    j.key("failure_type");
    j.str(s.text(0));
    j.key("schema");
    j.str(s.text(1));
    j.key("processor");
    j.str(s.text(2));
    j.key("failure_tstamp");
    j.str(s.text(3));
    j.key("messages");
    bad_row_messages(s.text(4), j);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Status::Ok();
}

Status api_apps(Conn& db, Json& j) {
  auto st = db.prepare(
      "SELECT app_id, sum(events) AS c FROM dash_totals WHERE grain = 1 GROUP BY app_id ORDER BY "
      "c DESC, app_id LIMIT 200");
  if (!st) return st.error();
  Stmt& s = **st;
  auto& w = j.w();
  w.StartObject();
  j.key("furrow_version");
  j.str(kVersion);
  j.key("apps");
  w.StartArray();
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    w.StartObject();
    j.key("app_id");
    j.str(s.text(0));
    j.key("events");
    j.num(s.i64(1));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  if (rc != SQLITE_DONE) return Error{"SQLite: " + db.last_error()};
  return Status::Ok();
}

std::optional<ApiError> parse_params(std::string_view query, int64_t now, Params& p) {
  common::QueryPairs pairs;
  common::parse_query_string(common::query_part(query), pairs);
  std::optional<int64_t> from, to;
  for (const auto& [k, v] : pairs) {
    const std::string value = v.value_or("");
    if (k == "from" || k == "to") {
      auto t = parse_time_param(value);
      if (!t) return ApiError{400, "'" + k + "' is not a time (epoch ms or ISO 8601 UTC)"};
      (k == "from" ? from : to) = *t;
    } else if (k == "app_id") {
      if (!value.empty()) p.app_id = value;
    } else if (k == "limit") {
      int64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > 1000) {
        return ApiError{400, "'limit' must be an integer from 1 to 1000"};
      }
      p.limit = n;
    } else if (k == "interval") {
      if (value != "hour" && value != "day" && !value.empty()) {
        return ApiError{400, "'interval' must be hour or day"};
      }
      p.interval = value;
    }
  }
  // Whole hours: from rounds down, to rounds up.
  int64_t t = to ? *to : now;
  t = (floor_div(t - 1, kHourMs) + 1) * kHourMs;
  int64_t f = from ? *from : t - kDefaultRangeMs;
  f = floor_div(f, kHourMs) * kHourMs;
  if (f >= t) return ApiError{400, "'from' must be before 'to'"};
  if (t - f > kMaxRangeMs) return ApiError{400, "the time range is longer than 5 years"};
  p.range = {f, t};
  return std::nullopt;
}

void error_body(Response& out, int status, std::string_view message) {
  Json j;
  j.w().StartObject();
  j.key("error");
  j.str(message);
  j.w().EndObject();
  out.status = status;
  out.content_type = "application/json; charset=utf-8";
  out.body = j.take();
}

}  // namespace

Pieces split_range(const TimeRange& r) {
  const int64_t h0 = floor_div(r.from_ms, kHourMs), h1 = floor_div(r.to_ms + kHourMs - 1, kHourMs);
  const int64_t d0 = floor_div(h0 + 23, 24), d1 = floor_div(h1, 24);
  if (d0 >= d1) return {h0, h1, 0, 0, 0, 0};
  return {h0, d0 * 24, d0, d1, d1 * 24, h1};
}

std::optional<int64_t> parse_time_param(std::string_view s) {
  if (s.empty() || s.size() > 32) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
    return v;
  }
  std::string t(s);
  if (!t.empty() && t.back() == 'Z') t.pop_back();
  if (t.size() == 10) t += "T00:00:00";
  if (t.size() == 16) t += ":00";
  if (t.size() < 19 || t[10] != 'T') return std::nullopt;
  t[10] = ' ';
  int64_t ms = 0;
  if (!parse_tsv_tstamp(t, ms)) return std::nullopt;
  return ms;
}

void handle_api(Conn& db, std::string_view path, std::string_view query, int64_t now_ms,
                Response& out) {
  Params p;
  if (auto err = parse_params(query, now_ms, p)) {
    error_body(out, err->status, err->message);
    return;
  }
  const std::string_view name = path.substr(5);  // after "/api/"
  Json j;
  Status st;
  if (name == "summary") {
    st = api_summary(db, p, j);
  } else if (name == "timeseries") {
    st = api_timeseries(db, p, j);
  } else if (name == "pages") {
    st = api_top(db, p, Dim::kPage, {"page"}, "page_views", j);
  } else if (name == "entry-pages") {
    st = api_top(db, p, Dim::kEntry, {"page"}, "sessions", j);
  } else if (name == "exit-pages") {
    st = api_top(db, p, Dim::kExit, {"page"}, "sessions", j);
  } else if (name == "referrers") {
    st = api_top(db, p, Dim::kReferrer, {"medium", "source"}, "sessions", j);
  } else if (name == "search-terms") {
    st = api_top(db, p, Dim::kSearchTerm, {"term"}, "sessions", j);
  } else if (name == "campaigns") {
    st = api_top(db, p, Dim::kCampaign, {"source", "medium", "campaign"}, "sessions", j);
  } else if (name == "countries") {
    st = api_top(db, p, Dim::kCountry, {"country"}, "sessions", j);
  } else if (name == "browsers") {
    st = api_top(db, p, Dim::kBrowser, {"browser"}, "sessions", j);
  } else if (name == "os") {
    st = api_top(db, p, Dim::kOs, {"os"}, "sessions", j);
  } else if (name == "devices") {
    st = api_top(db, p, Dim::kDevice, {"device"}, "sessions", j);
  } else if (name == "events") {
    st = api_events(db, p, j);
  } else if (name == "live") {
    st = api_live(db, p, now_ms, j);
  } else if (name == "bad-rows") {
    st = api_bad_rows(db, p, j);
  } else if (name == "apps") {
    st = api_apps(db, j);
  } else {
    error_body(out, 404, "no such API endpoint");
    return;
  }
  if (!st) {
    error_body(out, 500, st.message());
    return;
  }
  out.status = 200;
  out.content_type = "application/json; charset=utf-8";
  out.body = j.take();
}

}  // namespace furrow::dashboard
