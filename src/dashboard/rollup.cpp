#include "dashboard/rollup.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/time_format.h"
#include "dashboard/distinct.h"
#include "storage/models.h"

namespace furrow::dashboard {
namespace {

constexpr int kSchemaVersion = 1;

const char* const kSchema[] = {
    "CREATE TABLE IF NOT EXISTS dash_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) "
    "WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS dash_totals (grain INTEGER NOT NULL, bucket INTEGER NOT NULL, "
    "app_id TEXT NOT NULL, events INTEGER NOT NULL DEFAULT 0, page_views INTEGER NOT NULL DEFAULT "
    "0, page_pings INTEGER NOT NULL DEFAULT 0, struct_events INTEGER NOT NULL DEFAULT 0, "
    "unstruct_events INTEGER NOT NULL DEFAULT 0, sessions INTEGER NOT NULL DEFAULT 0, bounces "
    "INTEGER NOT NULL DEFAULT 0, engaged_s INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (grain, bucket, "
    "app_id)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS dash_dims (dim INTEGER NOT NULL, grain INTEGER NOT NULL, bucket "
    "INTEGER NOT NULL, app_id TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY "
    "(dim, grain, bucket, app_id, value)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS dash_visitors (grain INTEGER NOT NULL, bucket INTEGER NOT NULL, "
    "app_id TEXT NOT NULL, sketch BLOB NOT NULL, PRIMARY KEY (grain, bucket, app_id)) WITHOUT "
    "ROWID",
    "CREATE TABLE IF NOT EXISTS dash_sessions (domain_sessionid TEXT PRIMARY KEY, app_id TEXT NOT "
    "NULL, start_ms INTEGER NOT NULL, first_rank INTEGER NOT NULL, first_ms INTEGER NOT NULL, "
    "entry_page TEXT NOT NULL, exit_ms INTEGER NOT NULL, exit_page TEXT NOT NULL, page_views "
    "INTEGER NOT NULL, pings INTEGER NOT NULL, refr_medium TEXT NOT NULL, refr_source TEXT NOT "
    "NULL, refr_term TEXT NOT NULL, mkt_source TEXT NOT NULL, mkt_medium TEXT NOT NULL, "
    "mkt_campaign TEXT NOT NULL, country TEXT NOT NULL, browser TEXT NOT NULL, os TEXT NOT NULL, "
    "device TEXT NOT NULL, windows BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS dash_bad (grain INTEGER NOT NULL, bucket INTEGER NOT NULL, "
    "failure_type TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (grain, bucket, failure_type)) "
    "WITHOUT ROWID",
};

// Bounds a session's stored state (about 28 hours of engagement at the 10 s heartbeat).
constexpr std::size_t kMaxWindows = 10'000;

// The running state of one session; see rollup.h for what each part means.
struct Session {
  std::string app_id;
  int64_t start_ms = std::numeric_limits<int64_t>::max();
  // The "first" slot: the earliest page view, else the earliest event; rank 0 = page view.
  int first_rank = 2;  // 2: empty
  int64_t first_ms = 0;
  std::string entry_page;
  int64_t exit_ms = std::numeric_limits<int64_t>::min();
  std::string exit_page;
  int64_t page_views = 0;
  int64_t pings = 0;
  // Engaged windows: sorted unique hashes of (page view id, ping time / heartbeat).
  std::vector<uint64_t> windows;
  std::string refr_medium, refr_source, refr_term, mkt_source, mkt_medium, mkt_campaign, country,
      browser, os, device;

  bool first_before(int rank, int64_t ms) const {
    return first_rank < rank || (first_rank == rank && first_ms <= ms);
  }
  void merge(const Session& o) {
    if (o.start_ms < start_ms) start_ms = o.start_ms;
    page_views += o.page_views;
    pings += o.pings;
    if (!o.windows.empty()) {
      const std::size_t mid = windows.size();
      windows.insert(windows.end(), o.windows.begin(), o.windows.end());
      std::inplace_merge(windows.begin(), windows.begin() + static_cast<std::ptrdiff_t>(mid),
                         windows.end());
      windows.erase(std::unique(windows.begin(), windows.end()), windows.end());
      if (windows.size() > kMaxWindows) windows.resize(kMaxWindows);
    }
    if (o.exit_ms > exit_ms) {
      exit_ms = o.exit_ms;
      exit_page = o.exit_page;
    }
    if (o.first_rank < 2 && !first_before(o.first_rank, o.first_ms)) {
      first_rank = o.first_rank;
      first_ms = o.first_ms;
      app_id = o.app_id;
      entry_page = o.entry_page;
      refr_medium = o.refr_medium;
      refr_source = o.refr_source;
      refr_term = o.refr_term;
      mkt_source = o.mkt_source;
      mkt_medium = o.mkt_medium;
      mkt_campaign = o.mkt_campaign;
      country = o.country;
      browser = o.browser;
      os = o.os;
      device = o.device;
    }
  }
};

struct Totals {
  int64_t events = 0, page_views = 0, page_pings = 0, struct_events = 0, unstruct_events = 0,
          sessions = 0, bounces = 0, engaged_s = 0;
};

void put_i64(std::string& k, int64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  k.append(b, 8);
}
int64_t get_i64(std::string_view k, std::size_t at) {
  int64_t v;
  std::memcpy(&v, k.data() + at, 8);
  return v;
}

// The changes one chunk makes to the rollup tables, keyed by packed binary keys built in a reused
// buffer (no allocation when the key exists):
//   bucket key: grain(1) bucket(8) app_id
//   dim key:    dim(1) grain(1) bucket(8) app_id length(2) app_id value
struct Deltas {
  std::unordered_map<std::string, Totals> totals;
  std::unordered_map<std::string, int64_t> dims;
  std::unordered_map<std::string, std::vector<uint64_t>> visitors;
  std::string key;

  static int64_t bucket_of(int grain, int64_t ts) {
    return floor_div(ts, grain == 0 ? kHourMs : kDayMs);
  }
  const std::string& bucket_key(int grain, int64_t ts, std::string_view app) {
    key.clear();
    key.push_back(static_cast<char>(grain));
    put_i64(key, bucket_of(grain, ts));
    key.append(app);
    return key;
  }
  template <class Map>
  typename Map::mapped_type& at(Map& m) {
    auto it = m.find(key);
    if (it == m.end()) it = m.emplace(key, typename Map::mapped_type{}).first;
    return it->second;
  }

  // Adds n to the dim's value made of `parts` joined by '\x1f' (nothing when all are empty).
  void dim(Dim d, int64_t ts, std::string_view app, std::initializer_list<std::string_view> parts,
           int64_t n) {
    dim(d, ts, app, parts.begin(), parts.size(), n);
  }
  void dim(Dim d, int64_t ts, std::string_view app, const std::string_view* parts_begin,
           std::size_t parts_count, int64_t n) {
    const std::string_view* const parts_end = parts_begin + parts_count;
    bool any = false;
    for (auto it = parts_begin; it != parts_end; ++it) any = any || !it->empty();
    if (!any) return;
    for (int grain = 0; grain < 2; ++grain) {
      key.clear();
      key.push_back(static_cast<char>(d));
      key.push_back(static_cast<char>(grain));
      put_i64(key, bucket_of(grain, ts));
      const auto len = static_cast<uint16_t>(std::min<std::size_t>(app.size(), 65535));
      key.push_back(static_cast<char>(len & 0xff));
      key.push_back(static_cast<char>(len >> 8));
      key.append(app.substr(0, len));
      for (auto it = parts_begin; it != parts_end; ++it) {
        if (it != parts_begin) key.push_back('\x1f');
        key.append(*it);
      }
      at(dims) += n;
    }
  }
  template <class F>
  void total(int64_t ts, std::string_view app, F&& f) {
    for (int grain = 0; grain < 2; ++grain) {
      bucket_key(grain, ts, app);
      f(at(totals));
    }
  }

  // The session-level dims of a session, in a fixed order: up to three parts each.
  struct SessionDim {
    Dim dim;
    std::array<std::string_view, 3> parts;
    std::size_t count;
    bool operator==(const SessionDim& o) const {
      for (std::size_t i = 0; i < count; ++i) {
        if (parts[i] != o.parts[i]) return false;
      }
      return true;
    }
  };
  static std::array<SessionDim, 9> session_dims(const Session& s) {
    return {{{Dim::kEntry, {s.entry_page}, 1},
             {Dim::kExit, {s.exit_page}, 1},
             {Dim::kReferrer, {s.refr_medium, s.refr_source}, 2},
             {Dim::kSearchTerm, {s.refr_term}, 1},
             {Dim::kCampaign, {s.mkt_source, s.mkt_medium, s.mkt_campaign}, 3},
             {Dim::kCountry, {s.country}, 1},
             {Dim::kBrowser, {s.browser}, 1},
             {Dim::kOs, {s.os}, 1},
             {Dim::kDevice, {s.device}, 1}}};
  }
  static bool bounce(const Session& s) { return s.page_views == 1 && s.windows.empty(); }

  // Adds (sign 1) or removes (sign -1) a session's contribution.
  void session(const Session& s, int sign) {
    const int64_t ts = s.start_ms;
    const bool b = bounce(s);
    total(ts, s.app_id, [&](Totals& t) {
      t.sessions += sign;
      t.bounces += b ? sign : 0;
      t.engaged_s += sign * static_cast<int64_t>(s.windows.size()) * kHeartbeatS;
    });
    for (const SessionDim& d : session_dims(s)) {
      dim(d.dim, ts, s.app_id, d.parts.data(), d.count, sign);
    }
  }

  // Replaces a session's contribution `before` by `after`: the same deltas as session(before,
  // -1) then session(after, 1), without the pairs that cancel out (a session that stays in its
  // buckets usually changes only its exit page, page count or engaged time).
  void session_change(const Session& before, const Session& after) {
    if (before.app_id != after.app_id ||
        bucket_of(0, before.start_ms) != bucket_of(0, after.start_ms) ||
        bucket_of(1, before.start_ms) != bucket_of(1, after.start_ms)) {
      session(before, -1);
      session(after, 1);
      return;
    }
    const int64_t ts = after.start_ms;
    const int64_t bounces = int64_t{bounce(after)} - int64_t{bounce(before)};
    const int64_t engaged =
        (static_cast<int64_t>(after.windows.size()) - static_cast<int64_t>(before.windows.size())) *
        kHeartbeatS;
    if (bounces != 0 || engaged != 0) {
      total(ts, after.app_id, [&](Totals& t) {
        t.bounces += bounces;
        t.engaged_s += engaged;
      });
    }
    const auto old_dims = session_dims(before), new_dims = session_dims(after);
    for (std::size_t i = 0; i < old_dims.size(); ++i) {
      if (old_dims[i] == new_dims[i]) continue;
      dim(old_dims[i].dim, ts, after.app_id, old_dims[i].parts.data(), old_dims[i].count, -1);
      dim(new_dims[i].dim, ts, after.app_id, new_dims[i].parts.data(), new_dims[i].count, 1);
    }
  }
};

// The JSON columns are written by enrich in compact form, so the few values the rollups need are
// found by scanning: the entity is located by its schema, its fields are searched up to the next
// entity's "iglu:" schema. A value with an escape (never seen in these fields in practice) is
// reported as not scannable and the caller falls back to a full parse.
enum class Scan { kFound, kAbsent, kNeedsParse };

// json.find(needle, from) by memmem, which skips ahead far faster than find's first-character
// probing when that character ('"', '/') is everywhere in the text.
std::size_t find_in(std::string_view json, std::string_view needle, std::size_t from = 0) {
  if (from > json.size()) return std::string_view::npos;
  const void* at = ::memmem(json.data() + from, json.size() - from, needle.data(), needle.size());
  return at == nullptr ? std::string_view::npos
                       : static_cast<std::size_t>(static_cast<const char*>(at) - json.data());
}

Scan scan_field(std::string_view json, std::size_t from, std::size_t to, std::string_view name,
                std::string& out) {
  std::size_t k = from;
  for (;;) {
    // A match must start before `to` (it may end after it).
    k = find_in(json.substr(0, to + name.size() - 1), name, k);
    if (k == std::string_view::npos || k >= to) return Scan::kAbsent;
    // name includes its quotes: "id" must not match "pageid"
    if (k > 0 && json[k - 1] != '{' && json[k - 1] != ',' && json[k - 1] != ' ') {
      k += name.size();
      continue;
    }
    break;
  }
  std::size_t p = k + name.size();
  while (p < json.size() && (json[p] == ' ' || json[p] == ':')) ++p;
  if (p >= json.size() || json[p] != '"') return Scan::kAbsent;
  const std::size_t start = ++p;
  while (p < json.size() && json[p] != '"') {
    if (json[p] == '\\') return Scan::kNeedsParse;
    ++p;
  }
  if (p >= json.size()) return Scan::kNeedsParse;
  out.assign(json.substr(start, p - start));
  return Scan::kFound;
}

// [start, end) of the entity whose schema contains `marker`, or npos.
std::pair<std::size_t, std::size_t> entity_span(std::string_view json, std::string_view marker) {
  const std::size_t at = find_in(json, marker);
  if (at == std::string_view::npos) return {std::string_view::npos, 0};
  std::size_t end = find_in(json, "\"iglu:", at);
  if (end == std::string_view::npos) end = json.size();
  return {at, end};
}

// A full parse: `key` of the data of the first entity whose schema contains `marker`.
void parse_fields(std::string_view json, std::string_view marker,
                  std::initializer_list<std::pair<const char*, std::string*>> fields) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseStopWhenDoneFlag>(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return;
  auto data = d.FindMember("data");
  if (data == d.MemberEnd() || !data->value.IsArray()) return;
  for (const auto& e : data->value.GetArray()) {
    if (!e.IsObject()) continue;
    auto schema = e.FindMember("schema");
    auto inner = e.FindMember("data");
    if (schema == e.MemberEnd() || !schema->value.IsString() || inner == e.MemberEnd() ||
        !inner->value.IsObject()) {
      continue;
    }
    std::string_view sv(schema->value.GetString(), schema->value.GetStringLength());
    if (sv.find(marker) == std::string_view::npos) continue;
    for (const auto& [key, out] : fields) {
      auto m = inner->value.FindMember(key);
      if (m != inner->value.MemberEnd() && m->value.IsString()) {
        out->assign(m->value.GetString(), m->value.GetStringLength());
      }
    }
    return;
  }
}

// The id of the web_page entity in `contexts` (left empty when there is none).
void web_page_id(std::string_view json, std::string& id) {
  auto [from, to] = entity_span(json, "/web_page/jsonschema/");
  if (from == std::string_view::npos) return;
  if (scan_field(json, from, to, "\"id\"", id) == Scan::kNeedsParse) {
    parse_fields(json, "/web_page/", {{"id", &id}});
  }
}

// useragentFamily, osFamily, deviceFamily of the ua_parser_context in derived_contexts.
void ua_parser_fields(std::string_view json, std::string& browser, std::string& os,
                      std::string& device) {
  auto [from, to] = entity_span(json, "/ua_parser_context/jsonschema/");
  if (from == std::string_view::npos) return;
  if (scan_field(json, from, to, "\"useragentFamily\"", browser) == Scan::kNeedsParse ||
      scan_field(json, from, to, "\"osFamily\"", os) == Scan::kNeedsParse ||
      scan_field(json, from, to, "\"deviceFamily\"", device) == Scan::kNeedsParse) {
    parse_fields(json, "/ua_parser_context/",
                 {{"useragentFamily", &browser}, {"osFamily", &os}, {"deviceFamily", &device}});
  }
}

Result<int64_t> state_value(Conn& db, std::string_view key) {
  auto st = db.prepare("SELECT value FROM dash_state WHERE key = ?1");
  if (!st) return st.error();
  (*st)->bind(1, key);
  int rc = (*st)->step();
  if (rc == SQLITE_ROW) return (*st)->i64(0);
  if (rc == SQLITE_DONE) return int64_t{0};
  return Error{"SQLite: " + db.last_error()};
}

Status set_state(Conn& db, std::string_view key, int64_t value) {
  auto st = db.prepare("INSERT OR REPLACE INTO dash_state (key, value) VALUES (?1, ?2)");
  if (!st) return st.error();
  (*st)->bind(1, key);
  (*st)->bind(2, value);
  if ((*st)->step() != SQLITE_DONE) return Error{"SQLite: " + db.last_error()};
  return Status::Ok();
}

Status step_done(Conn& db, Stmt& s) {
  if (s.step() != SQLITE_DONE) return Error{"SQLite: " + db.last_error()};
  return Status::Ok();
}

// Binds text that stays valid and unchanged until the statement is reset (SQLITE_STATIC: SQLite
// reads it in place instead of copying it, as Stmt::bind does).
void bind_static(Stmt& s, int i, std::string_view v) {
  sqlite3_bind_text(s.raw(), i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void bind_static_blob(Stmt& s, int i, std::string_view v) {
  sqlite3_bind_blob(s.raw(), i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                    SQLITE_STATIC);
}

std::string_view blob_of(const std::vector<uint64_t>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(uint64_t)};
}

void windows_from_blob(std::string_view b, std::vector<uint64_t>& out) {
  out.resize(b.size() / sizeof(uint64_t));
  if (!out.empty()) std::memcpy(out.data(), b.data(), out.size() * sizeof(uint64_t));
}

// Per event, only what every event contributes: its time, app, type, visitor, session, page,
// the structured/self-describing event fields, and the contexts of page pings (for the page view
// id of engaged windows). The session attributes (referrer, campaign, country, user agent) are
// read only for the event that ends up in a session's "first" slot, by rowid (kFirstSql): they
// are a dozen columns, one of them a JSON document, that SQLite would otherwise copy out of every
// row, and the user agent fields would be scanned out of that JSON for every candidate.
constexpr std::string_view kEventsSql =
    "SELECT app_id, collector_tstamp, derived_tstamp, event, domain_userid, network_userid, "
    "domain_sessionid, page_urlhost, page_urlpath, se_category, se_action, event_vendor, "
    "event_name, event_format, event_version, CASE WHEN event = 'page_ping' THEN contexts END, "
    "rowid FROM atomic_events WHERE load_id > ?1 AND load_id <= ?2";
enum EventCol : int {
  kApp,
  kCollectorTs,
  kDerivedTs,
  kEvent,
  kDuid,
  kNuid,
  kSid,
  kHost,
  kPath,
  kSeCategory,
  kSeAction,
  kVendor,
  kName,
  kFormat,
  kVersion,
  kPingContexts,
  kRowid
};
constexpr std::string_view kFirstSql =
    "SELECT refr_medium, refr_source, refr_urlhost, refr_term, mkt_source, mkt_medium, "
    "mkt_campaign, geo_country, br_family, os_family, dvce_type, derived_contexts FROM "
    "atomic_events WHERE rowid = ?1";

// Lets maps keyed by std::string be searched with a string_view (no copy of the key).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The stored states of up to kSessionBatch sessions (unused parameters bound to NULL).
constexpr int kSessionBatch = 64;
const std::string& session_batch_sql() {
  static const std::string sql = [] {
    std::string q =
        "SELECT domain_sessionid, app_id, start_ms, first_rank, first_ms, entry_page, exit_ms, "
        "exit_page, page_views, pings, refr_medium, refr_source, refr_term, mkt_source, "
        "mkt_medium, mkt_campaign, country, browser, os, device, windows FROM dash_sessions "
        "WHERE domain_sessionid IN (";
    for (int i = 1; i <= kSessionBatch; ++i) q += (i > 1 ? ", ?" : "?") + std::to_string(i);
    return q + ")";
  }();
  return sql;
}

// Fills the session attributes of the "first" slot of `s` from a kFirstSql row.
void fill_first_attributes(Session& s, const Stmt& r) {
  s.refr_medium.assign(r.text(0));
  s.refr_source.assign(r.is_null(1) ? r.text(2) : r.text(1));
  s.refr_term.assign(r.text(3));
  s.mkt_source.assign(r.text(4));
  s.mkt_medium.assign(r.text(5));
  s.mkt_campaign.assign(r.text(6));
  s.country.assign(r.text(7));
  s.browser.clear();
  s.os.clear();
  s.device.clear();
  if (!r.is_null(11)) ua_parser_fields(r.text(11), s.browser, s.os, s.device);
  if (s.browser.empty()) s.browser.assign(r.text(8));
  if (s.os.empty()) s.os.assign(r.text(9));
  if (s.device.empty()) s.device.assign(r.text(10));
}

// What one chunk of events changes in the rollup tables: computed by read_chunk inside a read
// transaction (a WAL snapshot, which never blocks the loader), then written by write_chunk in a
// short write transaction. Reading the old session states and sketches outside the write
// transaction is safe because the write transaction first checks that the watermark has not
// moved (every refresh moves it in the same transaction as its writes).
struct Chunk {
  Deltas deltas;
  std::vector<std::pair<std::string, Session>> sessions;      // new state of each touched session
  std::vector<std::pair<std::string, std::string>> sketches;  // bucket key, merged sketch
};

// Aggregates the events of load_ids (lo, hi] with the stored state they change, into `chunk`.
// Reads only.
Status read_chunk(Conn& db, int64_t lo, int64_t hi, Chunk& chunk) {
  Deltas& deltas = chunk.deltas;
  // Per touched session: what the chunk's events add and its stored state (read after the scan).
  struct Touched {
    Session stored;
    bool has_stored = false;
    Session fresh;
    int64_t first_rowid = 0;  // the atomic_events row of fresh's "first" slot, when filled
  };
  std::unordered_map<std::string, Touched, StringHash, std::equal_to<>> touched;
  {
    auto st = db.prepare(kEventsSql);
    if (!st) return st.error();
    Stmt& s = **st;
    s.bind(1, lo);
    s.bind(2, hi);
    std::string app, page, scratch, window_key;
    // The totals and visitor entries of the last event's (hour, app).
    struct {
      bool valid = false;
      int64_t hour = 0;
      Totals* totals[2] = {nullptr, nullptr};
      std::vector<uint64_t>* visitors[2] = {nullptr, nullptr};
    } bucket;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      int64_t ts = 0;
      if (s.is_null(kDerivedTs) || !parse_any_tstamp(s.text(kDerivedTs), ts)) {
        // collector_tstamp is NOT NULL
        if (!parse_any_tstamp(s.text(kCollectorTs), ts)) continue;
      }
      const std::string_view app_text = s.text(kApp);
      const std::string_view event = s.text(kEvent);
      const bool pv = event == "page_view", ping = event == "page_ping";
      const bool se = event == "struct", ue = event == "unstruct";
      // Consecutive events mostly share their hour and app: their totals and visitor hashes go
      // to the same two entries, found once (unordered_map entries never move).
      const int64_t hour = floor_div(ts, kHourMs);
      if (!bucket.valid || hour != bucket.hour || app_text != app) {
        app.assign(app_text);
        bucket.valid = true;
        bucket.hour = hour;
        for (int grain = 0; grain < 2; ++grain) {
          deltas.bucket_key(grain, ts, app);
          bucket.totals[grain] = &deltas.at(deltas.totals);
          bucket.visitors[grain] = nullptr;  // created with the bucket's first visitor
        }
      }
      for (Totals* t : bucket.totals) {
        ++t->events;
        t->page_views += pv;
        t->page_pings += ping;
        t->struct_events += se;
        t->unstruct_events += ue;
      }
      std::string_view visitor = s.text(kDuid);
      if (visitor.empty()) visitor = s.text(kNuid);
      if (!visitor.empty()) {
        const uint64_t h = distinct_hash(visitor);
        for (int grain = 0; grain < 2; ++grain) {
          if (bucket.visitors[grain] == nullptr) {
            deltas.bucket_key(grain, ts, app);
            bucket.visitors[grain] = &deltas.at(deltas.visitors);
          }
          bucket.visitors[grain]->push_back(h);
        }
      }
      page.assign(s.text(kHost));
      page.append(s.text(kPath));
      if (pv) deltas.dim(Dim::kPage, ts, app, {page}, 1);
      if (se) deltas.dim(Dim::kStruct, ts, app, {s.text(kSeCategory), s.text(kSeAction)}, 1);
      if (ue && !s.is_null(kVendor)) {
        scratch = "iglu:";
        scratch.append(s.text(kVendor));
        scratch += '/';
        scratch.append(s.text(kName));
        scratch += '/';
        scratch.append(s.text(kFormat));
        scratch += '/';
        scratch.append(s.text(kVersion));
        deltas.dim(Dim::kUnstruct, ts, app, {scratch}, 1);
      }
      const std::string_view sid_text = s.text(kSid);
      if (sid_text.empty()) continue;  // NULL or empty: no session
      auto it = touched.find(sid_text);
      if (it == touched.end()) it = touched.emplace(std::string(sid_text), Touched{}).first;
      Touched& t = it->second;
      Session& ses = t.fresh;
      if (ts < ses.start_ms) ses.start_ms = ts;
      // The first slot takes the chunk's earliest event (page views first; the first one read
      // on a tie). It is dropped after the scan when the stored first event is not later, as
      // merge() would drop it; its attributes are read only for the sessions where it stays.
      const int rank = pv ? 0 : 1;
      if (ses.first_rank == 2 || !ses.first_before(rank, ts)) {
        ses.first_rank = rank;
        ses.first_ms = ts;
        ses.app_id.assign(app);
        if (pv) {
          ses.entry_page.assign(page);
        } else {
          ses.entry_page.clear();
        }
        t.first_rowid = s.i64(kRowid);
      }
      if (pv) {
        ++ses.page_views;
        if (ts > ses.exit_ms) {
          ses.exit_ms = ts;
          ses.exit_page.assign(page);
        }
      }
      if (ping) {
        ++ses.pings;
        window_key.clear();
        if (!s.is_null(kPingContexts)) web_page_id(s.text(kPingContexts), window_key);
        window_key += '\x1f';
        char digits[24];
        const auto [end, ec] = std::to_chars(digits, digits + sizeof digits,
                                             floor_div(ts, int64_t{kHeartbeatS} * 1000));
        window_key.append(digits, end);
        ses.windows.push_back(distinct_hash(window_key));
      }
    }
    if (rc != SQLITE_DONE) return Error{"SQLite reading atomic_events: " + db.last_error()};
  }

  // The stored state of the touched sessions, kSessionBatch at a time (one statement execution
  // per batch instead of one per session).
  {
    auto get = db.prepare(session_batch_sql());
    if (!get) return get.error();
    Stmt& g = **get;
    auto next = touched.begin();
    while (next != touched.end()) {
      for (int i = 1; i <= kSessionBatch; ++i) {
        if (next != touched.end()) {
          bind_static(g, i, next->first);
          ++next;
        } else {
          g.bind_null(i);  // matches nothing
        }
      }
      int rc;
      while ((rc = g.step()) == SQLITE_ROW) {
        auto it = touched.find(g.text(0));
        if (it == touched.end()) continue;  // cannot happen: the key is one of the bound ids
        Touched& t = it->second;
        Session& state = t.stored;
        state.app_id.assign(g.text(1));
        state.start_ms = g.i64(2);
        state.first_rank = static_cast<int>(g.i64(3));
        state.first_ms = g.i64(4);
        state.entry_page.assign(g.text(5));
        state.exit_ms = g.i64(6);
        state.exit_page.assign(g.text(7));
        state.page_views = g.i64(8);
        state.pings = g.i64(9);
        std::string* fields[] = {&state.refr_medium, &state.refr_source, &state.refr_term,
                                 &state.mkt_source,  &state.mkt_medium,  &state.mkt_campaign,
                                 &state.country,     &state.browser,     &state.os,
                                 &state.device};
        for (int i = 0; i < 10; ++i) fields[i]->assign(g.text(10 + i));
        windows_from_blob(g.text(20), state.windows);
        t.has_stored = true;
      }
      sqlite3_reset(g.raw());
      if (rc != SQLITE_DONE) return Error{"SQLite reading dash_sessions: " + db.last_error()};
    }
  }

  // Sessions: the attributes of each new first event, then the old contribution out and the
  // merged state in (only the parts that change).
  auto first = db.prepare(kFirstSql);
  if (!first) return first.error();
  chunk.sessions.reserve(touched.size());
  for (auto& [sid, t] : touched) {
    Session& fresh = t.fresh;
    if (t.has_stored && t.stored.first_before(fresh.first_rank, fresh.first_ms)) {
      fresh.first_rank = 2;  // the stored first event stays first
    }
    if (fresh.first_rank < 2) {
      Stmt& f = **first;
      f.bind(1, t.first_rowid);
      if (f.step() != SQLITE_ROW) return Error{"SQLite reading atomic_events: " + db.last_error()};
      fill_first_attributes(fresh, f);
      sqlite3_reset(f.raw());
    }
    std::sort(fresh.windows.begin(), fresh.windows.end());
    fresh.windows.erase(std::unique(fresh.windows.begin(), fresh.windows.end()),
                        fresh.windows.end());
    if (t.has_stored) {
      Session merged = t.stored;
      merged.merge(fresh);
      deltas.session_change(t.stored, merged);
      chunk.sessions.emplace_back(sid, std::move(merged));
    } else {
      deltas.session(fresh, 1);
      chunk.sessions.emplace_back(sid, std::move(fresh));
    }
  }

  // Visitors: the stored sketch of each bucket with the chunk's hashes added.
  auto vget = db.prepare(
      "SELECT sketch FROM dash_visitors WHERE grain = ?1 AND bucket = ?2 AND app_id = ?3");
  if (!vget) return vget.error();
  chunk.sketches.reserve(deltas.visitors.size());
  for (const auto& [k, hashes] : deltas.visitors) {
    DistinctSketch sketch;
    Stmt& g = **vget;
    g.bind(1, static_cast<int64_t>(k[0]));
    g.bind(2, get_i64(k, 1));
    bind_static(g, 3, std::string_view(k).substr(9));
    const int rc = g.step();
    if (rc == SQLITE_ROW) {
      sketch.merge_serialized(g.text(0));
    } else if (rc != SQLITE_DONE) {
      return Error{"SQLite reading dash_visitors: " + db.last_error()};
    }
    sqlite3_reset(g.raw());
    for (uint64_t h : hashes) sketch.add_hash(h);
    chunk.sketches.emplace_back(k, sketch.serialize());
  }
  return Status::Ok();
}

// Writes a chunk's changes, inside the caller's write transaction.
Status write_chunk(Conn& db, const Chunk& chunk) {
  const Deltas& deltas = chunk.deltas;
  auto put = db.prepare(
      "INSERT OR REPLACE INTO dash_sessions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
      "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)");
  if (!put) return put.error();
  for (const auto& [sid, state] : chunk.sessions) {
    Stmt& p = **put;
    bind_static(p, 1, sid);
    bind_static(p, 2, state.app_id);
    p.bind(3, state.start_ms);
    p.bind(4, static_cast<int64_t>(state.first_rank));
    p.bind(5, state.first_ms);
    bind_static(p, 6, state.entry_page);
    p.bind(7, state.exit_ms);
    bind_static(p, 8, state.exit_page);
    p.bind(9, state.page_views);
    p.bind(10, state.pings);
    const std::string* fields[] = {&state.refr_medium, &state.refr_source, &state.refr_term,
                                   &state.mkt_source,  &state.mkt_medium,  &state.mkt_campaign,
                                   &state.country,     &state.browser,     &state.os,
                                   &state.device};
    for (int i = 0; i < 10; ++i) bind_static(p, 11 + i, *fields[i]);
    bind_static_blob(p, 21, blob_of(state.windows));
    if (p.step() != SQLITE_DONE) return Error{"SQLite writing dash_sessions: " + db.last_error()};
    sqlite3_reset(p.raw());
  }

  auto tot = db.prepare(
      "INSERT INTO dash_totals (grain, bucket, app_id, events, page_views, page_pings, "
      "struct_events, unstruct_events, sessions, bounces, engaged_s) VALUES (?1, ?2, ?3, ?4, ?5, "
      "?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (grain, bucket, app_id) DO UPDATE SET events = "
      "events + excluded.events, page_views = page_views + excluded.page_views, page_pings = "
      "page_pings + excluded.page_pings, struct_events = struct_events + excluded.struct_events, "
      "unstruct_events = unstruct_events + excluded.unstruct_events, sessions = sessions + "
      "excluded.sessions, bounces = bounces + excluded.bounces, engaged_s = engaged_s + "
      "excluded.engaged_s");
  if (!tot) return tot.error();
  for (const auto& [k, t] : deltas.totals) {
    Stmt& p = **tot;
    p.bind(1, static_cast<int64_t>(k[0]));
    p.bind(2, get_i64(k, 1));
    bind_static(p, 3, std::string_view(k).substr(9));
    const int64_t v[] = {t.events,          t.page_views, t.page_pings, t.struct_events,
                         t.unstruct_events, t.sessions,   t.bounces,    t.engaged_s};
    for (int i = 0; i < 8; ++i) p.bind(4 + i, v[i]);
    if (Status st = step_done(db, p); !st) return st;
    sqlite3_reset(p.raw());
  }
  auto dim = db.prepare(
      "INSERT INTO dash_dims (dim, grain, bucket, app_id, value, n) VALUES (?1, ?2, ?3, ?4, ?5, "
      "?6) ON CONFLICT (dim, grain, bucket, app_id, value) DO UPDATE SET n = n + excluded.n");
  auto dim_gone = db.prepare(
      "DELETE FROM dash_dims WHERE dim = ?1 AND grain = ?2 AND bucket = ?3 AND app_id = ?4 AND "
      "value = ?5 AND n = 0");
  if (!dim) return dim.error();
  if (!dim_gone) return dim_gone.error();
  for (const auto& [k, n] : deltas.dims) {
    if (n == 0) continue;
    const std::size_t app_len =
        static_cast<uint8_t>(k[10]) | (static_cast<std::size_t>(static_cast<uint8_t>(k[11])) << 8);
    const std::string_view kv(k);
    for (Stmt* p : {dim->get(), dim_gone->get()}) {
      p->bind(1, static_cast<int64_t>(k[0]));
      p->bind(2, static_cast<int64_t>(k[1]));
      p->bind(3, get_i64(k, 2));
      bind_static(*p, 4, kv.substr(12, app_len));
      bind_static(*p, 5, kv.substr(12 + app_len));
      if (p == dim->get()) p->bind(6, n);
      if (Status st = step_done(db, *p); !st) return st;
      sqlite3_reset(p->raw());
      if (n > 0) break;  // only a decrement can leave a zero
    }
  }
  auto vput = db.prepare(
      "INSERT OR REPLACE INTO dash_visitors (grain, bucket, app_id, sketch) VALUES (?1, ?2, ?3, "
      "?4)");
  if (!vput) return vput.error();
  for (const auto& [k, sketch] : chunk.sketches) {
    Stmt& p = **vput;
    p.bind(1, static_cast<int64_t>(k[0]));
    p.bind(2, get_i64(k, 1));
    bind_static(p, 3, std::string_view(k).substr(9));
    bind_static_blob(p, 4, sketch);
    if (Status st = step_done(db, p); !st) return st;
    sqlite3_reset(p.raw());
  }
  return Status::Ok();
}

// Runs `chunk` between `begin` and COMMIT, rolling back on any error; passes on the chunk's
// answer.
Result<bool> in_transaction(Conn& db, const char* begin,
                            const std::function<Result<bool>()>& chunk) {
  std::optional<storage::WriteLockPriority> priority;
  if (std::string_view(begin) == "BEGIN IMMEDIATE") priority.emplace();
  if (Status st = db.exec(begin); !st) return st.error();
  auto more = chunk();
  if (!more) {
    (void)db.exec("ROLLBACK");
    return more.error();
  }
  if (Status st = db.exec("COMMIT"); !st) {
    (void)db.exec("ROLLBACK");
    return st.error();
  }
  return *more;
}

// Bad rows with rowid above the watermark, in one transaction per chunk.
Status refresh_bad_rows(Conn& db, const std::function<int64_t()>& now_ms, int64_t chunk) {
  for (;;) {
    auto more = in_transaction(db, "BEGIN IMMEDIATE", [&]() -> Result<bool> {
      auto lo = state_value(db, "bad_rowid");
      if (!lo) return lo.error();
      auto sel = db.prepare(
          "SELECT rowid, failure_type, failure_tstamp FROM bad_rows WHERE rowid > ?1 ORDER BY "
          "rowid LIMIT ?2");
      if (!sel) return sel.error();
      std::map<std::tuple<int, int64_t, std::string>, int64_t> counts;
      int64_t last = *lo, rows = 0;
      {
        Stmt& s = **sel;
        s.bind(1, *lo);
        s.bind(2, chunk);
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) {
          last = s.i64(0);
          ++rows;
          int64_t ts = 0;
          if (!parse_any_tstamp(s.text(2), ts)) ts = now_ms();
          std::string type(s.is_null(1) ? std::string_view("unknown") : s.text(1));
          ++counts[{0, floor_div(ts, kHourMs), type}];
          ++counts[{1, floor_div(ts, kDayMs), std::move(type)}];
        }
        if (rc != SQLITE_DONE) return Error{"SQLite reading bad_rows: " + db.last_error()};
      }
      auto put = db.prepare(
          "INSERT INTO dash_bad (grain, bucket, failure_type, n) VALUES (?1, ?2, ?3, ?4) ON "
          "CONFLICT (grain, bucket, failure_type) DO UPDATE SET n = n + excluded.n");
      if (!put) return put.error();
      for (const auto& [k, n] : counts) {
        Stmt& p = **put;
        p.bind(1, static_cast<int64_t>(std::get<0>(k)));
        p.bind(2, std::get<1>(k));
        p.bind(3, std::get<2>(k));
        p.bind(4, n);
        if (Status st = step_done(db, p); !st) return st.error();
        sqlite3_reset(p.raw());
      }
      if (Status st = set_state(db, "bad_rowid", last); !st) return st.error();
      return rows == chunk;
    });
    if (!more) return more.error();
    if (!*more) return Status::Ok();
  }
}

}  // namespace

bool parse_any_tstamp(std::string_view s, int64_t& ms) {
  if (s.size() >= 19 && s[10] == 'T') {
    char buf[40];
    if (s.size() > sizeof(buf)) return false;
    std::size_t n = s.size();
    if (s.back() == 'Z') --n;
    for (std::size_t i = 0; i < n; ++i) buf[i] = s[i];
    buf[10] = ' ';
    return parse_tsv_tstamp(std::string_view(buf, n), ms);
  }
  return parse_tsv_tstamp(s, ms);
}

Status ensure_rollup_schema(Conn& db) {
  for (const char* sql : kSchema) {
    if (Status st = db.exec(sql); !st) return st;
  }
  auto v = state_value(db, "schema_version");
  if (!v) return v.error();
  if (*v > kSchemaVersion) {
    return Error{"dashboard rollups have version " + std::to_string(*v) +
                 ", newer than this furrow"};
  }
  return set_state(db, "schema_version", kSchemaVersion);
}

Status refresh_rollups(Conn& db, const std::function<int64_t()>& now_ms, int64_t chunk_events) {
  // atomic_events may not exist yet when the loader has not started; nothing to do then.
  {
    auto t = db.prepare(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('atomic_events', "
        "'bad_rows', 'load_batches')");
    if (!t) return t.error();
    if ((*t)->step() != SQLITE_ROW || (*t)->i64(0) != 3) return Status::Ok();
  }
  for (;;) {
    // Read phase, in a read transaction: the next chunk and everything it changes.
    Chunk chunk;
    int64_t lo = 0, hi = 0;
    bool cut = false;
    auto planned = in_transaction(db, "BEGIN", [&]() -> Result<bool> {
      auto from = state_value(db, "events_load_id");
      if (!from) return from.error();
      lo = *from;
      auto mx = db.prepare("SELECT coalesce(max(load_id), 0) FROM atomic_events");
      if (!mx) return mx.error();
      if ((*mx)->step() != SQLITE_ROW) return Error{"SQLite: " + db.last_error()};
      const int64_t hi_all = (*mx)->i64(0);
      if (hi_all <= lo) return false;
      // Chunk boundaries from the loader's batch sizes, so one chunk stays bounded.
      auto b = db.prepare(
          "SELECT load_id, events FROM load_batches WHERE load_id > ?1 AND load_id <= ?2 ORDER BY "
          "load_id");
      if (!b) return b.error();
      hi = lo;
      int64_t sum = 0;
      {
        Stmt& s = **b;
        s.bind(1, lo);
        s.bind(2, hi_all);
        while (s.step() == SQLITE_ROW) {
          const int64_t n = s.i64(1);
          if (hi > lo && sum + n > chunk_events) {
            cut = true;
            break;
          }
          sum += n;
          hi = s.i64(0);
        }
      }
      if (!cut) hi = hi_all;
      if (Status st = read_chunk(db, lo, hi, chunk); !st) return st.error();
      return true;
    });
    if (!planned) return planned.error();
    if (!*planned) break;
    // Write phase: only writes, so the write lock is held briefly.
    auto wrote = in_transaction(db, "BEGIN IMMEDIATE", [&]() -> Result<bool> {
      auto now = state_value(db, "events_load_id");
      if (!now) return now.error();
      if (*now != lo) return false;  // another refresh applied these events meanwhile
      if (Status st = write_chunk(db, chunk); !st) return st.error();
      if (Status st = set_state(db, "events_load_id", hi); !st) return st.error();
      return true;
    });
    if (!wrote) return wrote.error();
    if (*wrote && !cut) break;
  }
  return refresh_bad_rows(db, now_ms, chunk_events);
}

}  // namespace furrow::dashboard
