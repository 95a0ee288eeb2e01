// The SQLite loader's cost per row against SQLite's own floor, on rows shaped like
// bench/run_load.sh's page views after enrichment (about 1.3 KB: a web_page context, a
// ua_parser_context, 40-odd non-empty fields) with 20,000 sessions, as furrow run loads them.
//
//   BM_SqliteInsertFloor/<drop>      one prepared INSERT OR IGNORE per row of values split and
//                                    converted beforehand (bind + step only), 5,000 rows per
//                                    transaction: what SQLite itself costs per row. drop = 0:
//                                    the atomic schema's indexes (version 3: the unique key led
//                                    by collector_tstamp, load_id); 1: the unique key alone;
//                                    2: with version 1's domain_sessionid index; 3: with version
//                                    2's keys (unique (event_id, fingerprint) and a
//                                    collector_tstamp index) instead.
//   BM_SqliteLoaderAdd/<in_process>  furrow's Loader (sinks::open_sqlite_loader, furrow run's
//                                    tuning): add() of each TSV line (field checks, JSON check,
//                                    keeping the line) and flush() every 5,000 rows.
//                                    in_process = 0: LineKind::kEnriched (furrow load); 1:
//                                    kEnrichedInProcess (furrow run: JSON columns not parsed).
//   BM_SqliteLoaderAdd/<in_process>/<rows_per_commit>/<drop>
//                                    the same with a commit every rows_per_commit rows (furrow
//                                    run commits small batches when the loader keeps up): the
//                                    price of small commits; drop as for the floor (the price
//                                    of each index as the table grows: run with
//                                    FURROW_SQLITE_BENCH_TXNS=150 for 750,000 rows).
//                                    wal_pages_per_row = pages written to the WAL per row (index
//                                    pages rewritten by every commit).
//   BM_SqliteLoaderAdd/1/5000/<drop>/1
//                                    random v4 event ids (real trackers) instead of rising ones;
//                                    drop = 3: under version 2's key led by event_id (each row
//                                    lands on a random leaf page), the reference for drop = 0.
//   BM_SqliteRollupRefresh/<chunk_events>/<rows>
//                                    the dashboard's rollup refresh (dashboard::refresh_rollups,
//                                    which furrow run's models thread runs after each model run)
//                                    over `rows` new rows per iteration (20,000 touch every one of
//                                    the 20,000 sessions once, as run_load.sh's traffic does
//                                    in half a second at 40,000 events/s); chunk_events as
//                                    refresh_rollups takes it. Only the refresh is timed; its
//                                    instructions per row under callgrind:
//     FURROW_SQLITE_BENCH_TXNS=2 valgrind --tool=callgrind build/release/bench/sqlite_load_bench
//       --benchmark_filter=RollupRefresh/5000/20000  (refresh_rollups inclusive / 40,000)
//
// Each iteration loads 5,000 new rows (unique event ids) into the same database, so the tables
// and indexes grow as in a run. Figures: time per row (items_per_second), and, noise-free,
// instructions per row under callgrind:
//   FURROW_SQLITE_BENCH_TXNS=4 valgrind --tool=callgrind build/release/bench/sqlite_load_bench
//     --benchmark_filter=Floor/1
//   then callgrind_annotate: sqlite3_step etc. divided by 4 x 5,000 rows.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "dashboard/rollup.h"
#include "dashboard/sqlite_conn.h"
#include "event/enriched_event.h"
#include "sinks/loader.h"
#include "sinks/loader_schema.h"
#include "sinks/sqlite_loader.h"

namespace {

namespace fs = std::filesystem;
using furrow::event::Field;
constexpr std::size_t kRowsPerTxn = 5'000;
constexpr std::size_t kFields = furrow::event::kFieldCount;

// Transactions per benchmark (a fixed count, so that callgrind totals divide exactly):
// $FURROW_SQLITE_BENCH_TXNS, default 20 (100,000 rows, ~150 MB of database).
int64_t iterations() {
  const char* v = std::getenv("FURROW_SQLITE_BENCH_TXNS");
  const int64_t n = v != nullptr ? std::atoll(v) : 0;
  return n > 0 ? n : 20;
}

// One enriched TSV line; `n` makes the event id, the session (n % 20,000) and the page unique.
// splitmix64: a fixed, well-mixed 64-bit value per n (random-looking event ids, reproducible).
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// random_id: the event id is a random-looking version-4 UUID (as real trackers send) instead of
// one that rises with n (as run_load.sh's default traffic).
std::string make_line(uint64_t n, bool random_id = false) {
  std::array<std::string, kFields> f;
  auto set = [&f](Field k, std::string v) { f[static_cast<std::size_t>(k)] = std::move(v); };
  char buf[64];
  // Rising times, 40,000 events a second, as a live collector stamps them.
  const uint64_t sec = n / 40;
  std::snprintf(buf, sizeof buf, "2024-03-%02u %02u:%02u:%02u.%03u",
                static_cast<unsigned>(1 + sec / 86'400), static_cast<unsigned>(sec / 3600 % 24),
                static_cast<unsigned>(sec / 60 % 60), static_cast<unsigned>(sec % 60),
                static_cast<unsigned>(n % 40 * 25));
  const std::string ts = buf;
  set(Field::app_id, "bench");
  set(Field::platform, "web");
  set(Field::etl_tstamp, ts);
  set(Field::collector_tstamp, ts);
  set(Field::dvce_created_tstamp, ts);
  set(Field::event, "page_view");
  if (random_id) {
    const uint64_t a = mix(n), b = mix(~n);
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>(a >> 16 & 0xffff), static_cast<unsigned>(a & 0xfff),
                  static_cast<unsigned>(0x8000 | (b >> 48 & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
  } else {
    std::snprintf(buf, sizeof buf, "%08x-0001-4000-8000-%012llx", 0x5eedu,
                  static_cast<unsigned long long>(n));
  }
  set(Field::event_id, buf);
  set(Field::name_tracker, "sp");
  set(Field::v_tracker, "js-4.0.0");
  set(Field::v_collector, "furrow-run");
  set(Field::v_etl, "furrow-run");
  set(Field::user_ipaddress, "127.0.0.1");
  std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-000000000001",
                static_cast<unsigned>(n % 5'000));
  set(Field::domain_userid, buf);
  set(Field::domain_sessionidx, "1");
  std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-000000000002",
                static_cast<unsigned>(n % 20'000));
  set(Field::domain_sessionid, buf);
  const std::string page = std::to_string(n % 200);
  set(Field::page_url, "https://shop.example/p" + page);
  set(Field::page_title, "Bench page " + page);
  set(Field::page_urlscheme, "https");
  set(Field::page_urlhost, "shop.example");
  set(Field::page_urlport, "443");
  set(Field::page_urlpath, "/p" + page);
  std::snprintf(buf, sizeof buf, "%08x-3333-4000-8000-%012llx", 0x5eedu,
                static_cast<unsigned long long>(n));
  set(Field::contexts,
      std::string("{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\","
                  "\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/"
                  "jsonschema/1-0-0\",\"data\":{\"id\":\"") +
          buf + "\"}}]}");
  set(Field::useragent,
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
      "Safari/537.36");
  set(Field::br_lang, "en-US");
  set(Field::br_cookies, "1");
  set(Field::br_viewwidth, "1280");
  set(Field::br_viewheight, "720");
  set(Field::os_timezone, "Europe/Berlin");
  set(Field::dvce_screenwidth, "1920");
  set(Field::dvce_screenheight, "1080");
  set(Field::doc_charset, "UTF-8");
  set(Field::dvce_sent_tstamp, ts);
  set(Field::derived_contexts,
      "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\",\"data\":[{"
      "\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0\","
      "\"data\":{\"useragentFamily\":\"Chrome\",\"useragentMajor\":\"120\",\"useragentMinor\":"
      "\"0\",\"useragentPatch\":null,\"useragentVersion\":\"Chrome 120.0\",\"osFamily\":\"Linux\","
      "\"osMajor\":null,\"osMinor\":null,\"osPatch\":null,\"osPatchMinor\":null,\"osVersion\":"
      "\"Linux\",\"deviceFamily\":\"Other\"}}]}");
  set(Field::derived_tstamp, ts);
  set(Field::event_vendor, "com.snowplowanalytics.snowplow");
  set(Field::event_name, "page_view");
  set(Field::event_format, "jsonschema");
  set(Field::event_version, "1-0-0");
  std::string line;
  for (std::size_t i = 0; i < kFields; ++i) {
    if (i > 0) line += '\t';
    line += f[i];
  }
  return line;
}

// A fresh database file in a temp directory, removed at the end.
struct TempDb {
  fs::path dir;
  TempDb() {
    char tmpl[] = "/tmp/furrow_sqlite_bench.XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~TempDb() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file() const { return (dir / "events.db").string(); }
};

// A pre-split, pre-converted row for the floor benchmark.
struct Value {
  enum Kind { kNull, kInt, kReal, kText } kind = kNull;
  int64_t i = 0;
  double d = 0;
  std::string text;
};

std::vector<Value> to_values(const std::string& line) {
  std::vector<Value> out(kFields);
  std::size_t start = 0;
  for (std::size_t i = 0; i < kFields; ++i) {
    std::size_t end = line.find('\t', start);
    if (end == std::string::npos) end = line.size();
    const std::string v = line.substr(start, end - start);
    start = end + 1;
    if (v.empty()) continue;
    switch (furrow::event::field_infos()[i].kind) {
      case furrow::event::FieldKind::kInt:
      case furrow::event::FieldKind::kBool01:
        out[i].kind = Value::kInt;
        std::from_chars(v.data(), v.data() + v.size(), out[i].i);
        break;
      case furrow::event::FieldKind::kDecimal:
      case furrow::event::FieldKind::kFloat:
        out[i].kind = Value::kReal;
        std::from_chars(v.data(), v.data() + v.size(), out[i].d);
        break;
      default:
        out[i].kind = Value::kText;
        out[i].text = v;
    }
  }
  return out;
}

void exec_or_die(sqlite3* db, const std::string& sql) {
  if (!furrow::sinks::sqlite_exec(db, sql)) {
    std::fprintf(stderr, "SQL failed: %s\n", sql.c_str());
    std::abort();
  }
}

// Index changes by number, from atomic schema version 3 (the unique key led by collector_tstamp,
// the load_id index): 1 drops the load_id index (the unique key alone); 2 puts back the
// domain_sessionid index that version 2 dropped (its price); 3 puts back version 2's keys (the
// unique key led by event_id and a separate collector_tstamp index), the reference for the price
// of random event ids under the old key.
constexpr const char* const kDrop[] = {
    "", "DROP INDEX atomic_events_load_id",
    "CREATE INDEX atomic_events_session ON atomic_events (domain_sessionid)",
    "DROP INDEX atomic_events_key; CREATE UNIQUE INDEX atomic_events_event_key ON atomic_events "
    "(event_id, (coalesce(event_fingerprint, ''))); CREATE INDEX atomic_events_collector_tstamp "
    "ON atomic_events (collector_tstamp)"};

void BM_SqliteInsertFloor(benchmark::State& state) {
  TempDb tmp;
  auto opened = furrow::sinks::open_sqlite_database(tmp.file());
  if (!opened) {
    state.SkipWithError(opened.error().message.c_str());
    return;
  }
  sqlite3* db = *opened;
  // furrow run's loader connection: 8 MB page cache, WAL checkpoints left to another thread.
  exec_or_die(db, "PRAGMA cache_size=-8192; PRAGMA wal_autocheckpoint=0");
  if (state.range(0) > 0) exec_or_die(db, kDrop[state.range(0)]);

  std::string sql =
      "INSERT OR IGNORE INTO atomic_events (" + furrow::sinks::atomic_column_list() + ") VALUES (";
  for (std::size_t i = 1; i <= kFields + 1; ++i) sql += (i > 1 ? ",?" : "?") + std::to_string(i);
  sql += ')';
  sqlite3_stmt* ins = nullptr;
  if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &ins, nullptr) !=
      SQLITE_OK) {
    state.SkipWithError(sqlite3_errmsg(db));
    return;
  }
  uint64_t next = 0;
  int64_t load_id = 0;
  std::vector<std::vector<Value>> rows(kRowsPerTxn);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& r : rows) r = to_values(make_line(next++));
    state.ResumeTiming();
    exec_or_die(db, "BEGIN IMMEDIATE");
    ++load_id;
    for (const auto& r : rows) {
      for (std::size_t i = 0; i < kFields; ++i) {
        const int p = static_cast<int>(i + 1);
        switch (r[i].kind) {
          case Value::kNull:
            sqlite3_bind_null(ins, p);
            break;
          case Value::kInt:
            sqlite3_bind_int64(ins, p, r[i].i);
            break;
          case Value::kReal:
            sqlite3_bind_double(ins, p, r[i].d);
            break;
          case Value::kText:
            sqlite3_bind_text(ins, p, r[i].text.data(), static_cast<int>(r[i].text.size()),
                              SQLITE_STATIC);
            break;
        }
      }
      sqlite3_bind_int64(ins, static_cast<int>(kFields + 1), load_id);
      if (sqlite3_step(ins) != SQLITE_DONE) {
        state.SkipWithError(sqlite3_errmsg(db));
        break;
      }
      sqlite3_reset(ins);
    }
    exec_or_die(db, "COMMIT");
    // furrow run checkpoints the WAL on its own thread; here, outside the timing.
    state.PauseTiming();
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    state.ResumeTiming();
  }
  sqlite3_finalize(ins);
  furrow::sinks::close_sqlite_database(db);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRowsPerTxn));
}
BENCHMARK(BM_SqliteInsertFloor)
    ->DenseRange(0, 3)
    ->Iterations(iterations())
    ->Unit(benchmark::kMillisecond);

void BM_SqliteLoaderAdd(benchmark::State& state) {
  TempDb tmp;
  furrow::sinks::LoaderOptions lo;
  lo.batch_size = 1'000'000;  // flushed every kRowsPerTxn rows below, as furrow run commits
  lo.source = "bench";
  furrow::sinks::SqliteTuning tuning;
  tuning.cache_kib = 8 * 1024;
  tuning.wal_autocheckpoint_pages = 0;
  auto loader = furrow::sinks::open_sqlite_loader(tmp.file(), lo, tuning);
  if (!loader) {
    state.SkipWithError(loader.error().message.c_str());
    return;
  }
  auto ckpt = furrow::sinks::open_sqlite_database(tmp.file());
  if (!ckpt) {
    state.SkipWithError(ckpt.error().message.c_str());
    return;
  }
  const auto kind = state.range(0) != 0 ? furrow::sinks::LineKind::kEnrichedInProcess
                                        : furrow::sinks::LineKind::kEnriched;
  const std::size_t per_commit =
      state.range(1) > 0 ? static_cast<std::size_t>(state.range(1)) : kRowsPerTxn;
  // Secondary indexes dropped before the first row (kDrop's numbering), to price each one's
  // WAL pages per row as the table grows.
  if (state.range(2) > 0) exec_or_die(*ckpt, kDrop[state.range(2)]);
  uint64_t next = 0;
  int64_t wal_pages = 0;
  std::vector<std::string> lines(kRowsPerTxn);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& l : lines) l = make_line(next++, state.range(3) != 0);
    state.ResumeTiming();
    std::size_t n = 0;
    for (const auto& l : lines) {
      if (!(*loader)->add(l, kind)) {
        state.SkipWithError("add failed");
        break;
      }
      if (++n % per_commit == 0 && !(*loader)->flush()) state.SkipWithError("flush failed");
    }
    if (!(*loader)->flush()) state.SkipWithError("flush failed");
    state.PauseTiming();
    int wal = 0, copied = 0;
    (void)furrow::sinks::sqlite_checkpoint(*ckpt, wal, copied);
    wal_pages += wal;
    state.ResumeTiming();
  }
  state.counters["wal_pages_per_row"] =
      static_cast<double>(wal_pages) / static_cast<double>(state.iterations() * kRowsPerTxn);
  if ((*loader)->stats().inserted != next || (*loader)->stats().rejected != 0) {
    state.SkipWithError("not every row was inserted");
  }
  furrow::sinks::close_sqlite_database(*ckpt);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRowsPerTxn));
}
BENCHMARK(BM_SqliteLoaderAdd)
    ->Args({0, 5'000, 0, 0})
    ->Args({1, 5'000, 0, 0})
    ->Args({1, 1'000, 0, 0})
    ->Args({1, 250, 0, 0})
    ->Args({1, 5'000, 1, 0})
    ->Args({1, 5'000, 2, 0})
    ->Args({1, 5'000, 3, 0})
    ->Args({1, 5'000, 0, 1})
    ->Args({1, 5'000, 3, 1})
    ->Iterations(iterations())
    ->Unit(benchmark::kMillisecond);

void BM_SqliteRollupRefresh(benchmark::State& state) {
  const std::size_t kRowsPerRefresh =
      state.range(1) > 0 ? static_cast<std::size_t>(state.range(1)) : 20'000;
  TempDb tmp;
  furrow::sinks::LoaderOptions lo;
  lo.batch_size = kRowsPerTxn;
  lo.source = "bench";
  auto loader = furrow::sinks::open_sqlite_loader(tmp.file(), lo, furrow::sinks::SqliteTuning{});
  if (!loader) {
    state.SkipWithError(loader.error().message.c_str());
    return;
  }
  auto db = furrow::dashboard::Conn::open(tmp.file(), false);
  if (!db || !furrow::dashboard::ensure_rollup_schema(**db)) {
    state.SkipWithError("cannot open the rollup connection");
    return;
  }
  const auto now_ms = [] { return int64_t{1'700'000'000'000}; };
  uint64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (std::size_t i = 0; i < kRowsPerRefresh; ++i) {
      if (!(*loader)->add(make_line(next++), furrow::sinks::LineKind::kEnrichedInProcess)) {
        state.SkipWithError("add failed");
      }
    }
    if (!(*loader)->flush()) state.SkipWithError("flush failed");
    state.ResumeTiming();
    if (!furrow::dashboard::refresh_rollups(**db, now_ms, state.range(0))) {
      state.SkipWithError("refresh failed");
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRowsPerRefresh));
}
BENCHMARK(BM_SqliteRollupRefresh)
    ->Args({5'000, 20'000})
    ->Args({50'000, 20'000})
    ->Args({5'000, 60'000})
    ->Args({40'000, 60'000})
    ->Args({60'000, 60'000})
    ->Iterations(iterations())
    ->Unit(benchmark::kMillisecond);

}  // namespace
