#include "sinks/sqlite_loader.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "sinks/loader.h"
#include "sinks/loader_test_events.h"
#include "support/test_support.h"

namespace furrow::sinks {
namespace {

using event::Field;
using testing::sample_event;
using testing::tsv;

class SqliteLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = furrow::test::temp_dir("furrow_sqlite_loader"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path() const { return (dir_ / "events.db").string(); }

  std::unique_ptr<Loader> open(std::size_t batch = 100) {
    LoaderOptions o;
    o.batch_size = batch;
    auto l = open_loader(DbTarget{Dialect::kSqlite, path()}, o);
    EXPECT_TRUE(l.ok()) << (l.ok() ? "" : l.error().message);
    return l.ok() ? std::move(*l) : nullptr;
  }

  // Every row of `sql` as strings (NULL as nullopt), read through a separate connection.
  std::vector<std::vector<std::optional<std::string>>> rows(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    std::vector<std::vector<std::optional<std::string>>> out;
    while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
      auto& row = out.emplace_back();
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        if (sqlite3_column_type(s, i) == SQLITE_NULL) {
          row.emplace_back();
        } else {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(s, i));
          row.emplace_back(std::string(p == nullptr ? "" : p, sqlite3_column_bytes(s, i)));
        }
      }
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }
  std::string one(const std::string& sql) {
    auto r = rows(sql);
    EXPECT_EQ(r.size(), 1u) << sql;
    return r.empty() || r[0].empty() || !r[0][0] ? "<null>" : *r[0][0];
  }

  std::filesystem::path dir_;
};

TEST_F(SqliteLoaderTest, LoadsEventsWithTypedColumns) {
  auto l = open();
  ASSERT_NE(l, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(l->add(tsv(sample_event(i))));
  ASSERT_TRUE(l->flush());
  EXPECT_EQ(l->stats().inserted, 3u);
  EXPECT_EQ(one("SELECT count(*) FROM atomic_events"), "3");
  EXPECT_EQ(one("SELECT typeof(domain_sessionidx) || typeof(se_value) || typeof(br_cookies) || "
                "typeof(page_url) || typeof(txn_id) FROM atomic_events LIMIT 1"),
            "integerrealintegertextnull");
  EXPECT_EQ(one("SELECT se_value FROM atomic_events LIMIT 1"), "1.5");
  EXPECT_EQ(one("SELECT collector_tstamp FROM atomic_events LIMIT 1"), "2024-03-01 10:00:00.123");
  EXPECT_EQ(one("SELECT count(*) FROM pragma_table_info('atomic_events')"), "132");
  EXPECT_EQ(one("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(one("SELECT version FROM furrow_schema WHERE component = 'atomic'"), "3");
  // The unique key led by collector_tstamp and the load_id index; no domain_sessionid index
  // (schema version 2) and no separate collector_tstamp index (version 3) on SQLite.
  EXPECT_EQ(one("SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE "
                "type = 'index' AND tbl_name = 'atomic_events' ORDER BY name)"),
            "atomic_events_key atomic_events_load_id");
  EXPECT_EQ(one("SELECT group_concat(coalesce(name, 'expr'), ',') FROM (SELECT name FROM "
                "pragma_index_xinfo('atomic_events_key') WHERE key ORDER BY seqno)"),
            "collector_tstamp,event_id,expr");  // expr: coalesce(event_fingerprint, '')
}

// A database made by schema version 1 (with the domain_sessionid index) is brought to version 2
// when a loader opens it: the index goes, the rows stay, loading goes on with the same key.
TEST_F(SqliteLoaderTest, VersionOneDatabaseLosesTheSessionIndexAndKeepsItsRows) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    ASSERT_TRUE(sqlite_exec(db, schema_table_ddl()));
    const auto migrations = atomic_migrations(Dialect::kSqlite);
    ASSERT_EQ(migrations.size(), 3u);
    for (const auto& sql : migrations[0].statements) ASSERT_TRUE(sqlite_exec(db, sql));
    ASSERT_TRUE(sqlite_exec(db, "INSERT INTO furrow_schema VALUES ('atomic', 1)"));
    ASSERT_TRUE(sqlite_exec(db,
                            "INSERT INTO atomic_events (collector_tstamp, event_id, v_collector, "
                            "v_etl, domain_sessionid, load_id) VALUES ('2024-03-01 10:00:00.000', "
                            "'e-v1', 'c', 'e', 's-v1', 0)"));
    sqlite3_close(db);
  }
  ASSERT_EQ(one("SELECT count(*) FROM sqlite_master WHERE name = 'atomic_events_session'"), "1");
  auto l = open();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(one("SELECT version FROM furrow_schema WHERE component = 'atomic'"), "3");
  EXPECT_EQ(one("SELECT count(*) FROM sqlite_master WHERE name = 'atomic_events_session'"), "0");
  EXPECT_EQ(one("SELECT domain_sessionid FROM atomic_events WHERE event_id = 'e-v1'"), "s-v1");
  ASSERT_TRUE(l->add(tsv(sample_event(1))));
  ASSERT_TRUE(l->add(tsv(sample_event(1))));  // the unique key still drops a replayed event
  ASSERT_TRUE(l->flush());
  EXPECT_EQ(l->stats().inserted, 1u);
  EXPECT_EQ(one("SELECT count(*) FROM atomic_events"), "2");
}

// A version-2 database (unique key (event_id, fingerprint) and a collector_tstamp index) is brought
// to version 3 when a loader opens it: one unique key led by collector_tstamp replaces both, the
// rows stay, and the same enriched event loaded again is still dropped. A tracker re-send (same
// event id and fingerprint, a later collector_tstamp) is now a second row, as in Snowplow's own
// loaders; version 2 dropped it.
TEST_F(SqliteLoaderTest, VersionTwoDatabaseGetsTheTimeLedKeyAndKeepsItsRows) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    ASSERT_TRUE(sqlite_exec(db, schema_table_ddl()));
    const auto migrations = atomic_migrations(Dialect::kSqlite);
    ASSERT_EQ(migrations.size(), 3u);
    for (std::size_t m = 0; m < 2; ++m) {
      for (const auto& sql : migrations[m].statements) ASSERT_TRUE(sqlite_exec(db, sql));
    }
    ASSERT_TRUE(sqlite_exec(db, "INSERT INTO furrow_schema VALUES ('atomic', 2)"));
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(sqlite_exec(db,
                              "INSERT INTO atomic_events (collector_tstamp, event_id, v_collector, "
                              "v_etl, event_fingerprint, load_id) VALUES ('2024-03-01 "
                              "10:00:0" +
                                  std::to_string(i) + ".000', 'e-v2-" + std::to_string(i) +
                                  "', 'c', 'e', " + (i == 0 ? std::string("NULL") : "'fp'") +
                                  ", 0)"));
    }
    sqlite3_close(db);
  }
  const std::string indexes =
      "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index' "
      "AND tbl_name = 'atomic_events' ORDER BY name)";
  ASSERT_EQ(one(indexes),
            "atomic_events_collector_tstamp atomic_events_event_key atomic_events_load_id");
  auto l = open();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(one("SELECT version FROM furrow_schema WHERE component = 'atomic'"), "3");
  EXPECT_EQ(one(indexes), "atomic_events_key atomic_events_load_id");
  EXPECT_EQ(one("SELECT group_concat(event_id || '/' || coalesce(event_fingerprint, '-'), ' ') "
                "FROM (SELECT * FROM atomic_events ORDER BY event_id)"),
            "e-v2-0/- e-v2-1/fp e-v2-2/fp");
  event::EnrichedEvent e = sample_event(1, "fp");
  ASSERT_TRUE(l->add(tsv(e)));
  ASSERT_TRUE(l->add(tsv(e)));  // the same enriched event again (a replay): dropped
  event::EnrichedEvent resent = e;
  resent[Field::collector_tstamp] = "2024-03-01 10:05:00.000";
  ASSERT_TRUE(l->add(tsv(resent)));  // a tracker re-send, collected again later: kept
  ASSERT_TRUE(l->add(tsv(resent)));  // ...and that one replayed: dropped
  ASSERT_TRUE(l->flush());
  EXPECT_EQ(l->stats().inserted, 2u);
  EXPECT_EQ(l->stats().duplicates, 2u);
  EXPECT_EQ(one("SELECT count(*) FROM atomic_events"), "5");
  EXPECT_EQ(one("SELECT group_concat(collector_tstamp, ' ') FROM (SELECT collector_tstamp FROM "
                "atomic_events WHERE event_id = '" +
                e[Field::event_id] + "' ORDER BY collector_tstamp)"),
            e[Field::collector_tstamp] + " 2024-03-01 10:05:00.000");
}

// The loader leaves a parameter bound between rows when both rows have no value there, so a
// value must never leak into a later row that has none (nor across batches and commits).
TEST_F(SqliteLoaderTest, EmptyValuesAreNullWhateverTheRowBeforeHad) {
  auto l = open(4);
  ASSERT_NE(l, nullptr);
  for (int i = 0; i < 10; ++i) {
    event::EnrichedEvent e = sample_event(i);
    // Alternate columns of each kind between a value and empty, out of step with the batches.
    if (i % 2 == 0) {
      e[Field::page_title] = "title " + std::to_string(i);
      e[Field::br_viewwidth] = std::to_string(100 + i);
      e[Field::geo_latitude] = "";
    }
    if (i % 3 == 0) e[Field::se_value] = "";
    if (i % 3 == 1) e[Field::contexts] = R"({"schema":"x","data":[)" + std::to_string(i) + "]}";
    ASSERT_TRUE(l->add(tsv(e)));
  }
  ASSERT_TRUE(l->flush());
  EXPECT_EQ(l->stats().inserted, 10u);
  const auto r = rows(
      "SELECT page_title, br_viewwidth, geo_latitude, se_value, contexts FROM atomic_events "
      "ORDER BY event_id");
  ASSERT_EQ(r.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    const auto& row = r[static_cast<std::size_t>(i)];
    SCOPED_TRACE(i);
    if (i % 2 == 0) {
      EXPECT_EQ(row[0], "title " + std::to_string(i));
      EXPECT_EQ(row[1], std::to_string(100 + i));
      EXPECT_EQ(row[2], std::nullopt);
    } else {
      EXPECT_EQ(row[0], std::nullopt);
      EXPECT_EQ(row[1], std::nullopt);
      EXPECT_EQ(row[2], "47.2513");
    }
    EXPECT_EQ(row[3], i % 3 == 0 ? std::nullopt : std::optional<std::string>("1.5"));
    EXPECT_EQ(row[4], i % 3 == 1 ? std::optional<std::string>(R"({"schema":"x","data":[)" +
                                                              std::to_string(i) + "]}")
                                 : std::nullopt);
  }
}

// The loader inserts consecutive rows through statements of many VALUES rows (16, 4, then 1 at a
// time). Loaded in batches of 59 rows (16 + 16 + 16 + 4 + 4 + 1 + 1 + 1), the same lines must give
// exactly the rows that batches of one row give (one single-row statement each): every column's
// value and type, the rowid order, which duplicates are dropped (within one statement, across
// statements, across batches) and the counts. Each row empties or fills another pseudo-random set
// of fields of every kind, so a parameter goes from a value to NULL between uses of a statement.
TEST_F(SqliteLoaderTest, RowsInsertedManyPerStatementAreTheRowsInsertedOneByOne) {
  const Field kVarying[] = {
      Field::page_title, Field::br_viewwidth, Field::geo_latitude,   Field::se_value,
      Field::contexts,   Field::br_cookies,   Field::user_id,        Field::dvce_created_tstamp,
      Field::txn_id,     Field::tr_total,     Field::mkt_source,     Field::refr_urlhost,
      Field::se_label,   Field::page_urlport, Field::unstruct_event, Field::derived_tstamp};
  std::vector<std::string> lines;
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 118; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    // Duplicates: the event 3 rows back (same 16-row statement), 20 back (an earlier statement)
    // and 70 back (the batch before).
    const int n = i % 11 == 5 ? i - 3 : i % 17 == 9 ? i - 20 : i == 100 ? i - 70 : i;
    event::EnrichedEvent e = sample_event(n, n % 2 == 0 ? "fp" : "");
    const uint64_t bits = n == i ? x >> 20 : 0;
    for (std::size_t k = 0; k < std::size(kVarying); ++k) {
      const Field f = kVarying[k];
      if ((bits >> k & 1) == 0) {
        if (n == i) e[f] = "";
        continue;
      }
      switch (event::field_infos()[static_cast<std::size_t>(f)].kind) {
        case event::FieldKind::kInt:
          e[f] = std::to_string(100 + i);
          break;
        case event::FieldKind::kBool01:
          e[f] = i % 2 == 0 ? "1" : "0";
          break;
        case event::FieldKind::kDecimal:
        case event::FieldKind::kFloat:
          e[f] = std::to_string(i) + ".25";
          break;
        case event::FieldKind::kTimestamp:
          e[f] = "2024-03-01 10:00:" + std::to_string(10 + i % 40) + ".500";
          break;
        case event::FieldKind::kJson:
          e[f] = R"({"schema":"s","data":[)" + std::to_string(i) + "]}";
          break;
        case event::FieldKind::kString:
          e[f] = "value " + std::to_string(i);
          break;
      }
    }
    // A tracker re-send of event i - 1 (a later collector_tstamp) is a row of its own.
    if (i % 13 == 7) {
      e = sample_event(i - 1, (i - 1) % 2 == 0 ? "fp" : "");
      e[Field::collector_tstamp] = "2024-03-01 10:00:05.000";
    }
    lines.push_back(tsv(e));
  }
  // typeof and value of every event column, in rowid order.
  std::string select = "SELECT ";
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    const std::string c = quote_ident(event::field_infos()[i].name);
    select += (i > 0 ? ", typeof(" : "typeof(") + c + "), " + c;
  }
  select += " FROM atomic_events ORDER BY rowid";

  const auto load = [&](std::size_t batch) {
    auto l = open(batch);
    EXPECT_NE(l, nullptr);
    if (l == nullptr) return std::make_pair(LoadStats{}, decltype(rows(select)){});
    for (const auto& line : lines) EXPECT_TRUE(l->add(line));
    EXPECT_TRUE(l->flush());
    return std::make_pair(l->stats(), rows(select));
  };
  const auto [many, many_rows] = load(59);
  std::filesystem::remove(path());
  std::filesystem::remove(path() + "-wal");
  std::filesystem::remove(path() + "-shm");
  const auto [single, single_rows] = load(1);
  EXPECT_EQ(many.batches, 2u);
  EXPECT_EQ(single.batches, 118u);
  EXPECT_EQ(many.inserted, single.inserted);
  EXPECT_EQ(many.duplicates, single.duplicates);
  EXPECT_GT(single.duplicates, 10u);
  EXPECT_EQ(single.inserted + single.duplicates, 118u);
  ASSERT_EQ(many_rows.size(), single.inserted);
  ASSERT_EQ(single_rows.size(), single.inserted);
  for (std::size_t r = 0; r < many_rows.size(); ++r) {
    SCOPED_TRACE(r);
    EXPECT_EQ(many_rows[r], single_rows[r]);
  }
}

TEST_F(SqliteLoaderTest, SameEventTwiceIsOneRowAcrossBatchesAndRuns) {
  {
    auto l = open(2);
    ASSERT_NE(l, nullptr);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(l->add(tsv(sample_event(i, "fp"))));
    ASSERT_TRUE(l->add(tsv(sample_event(1, "fp"))));  // duplicate within the run
    ASSERT_TRUE(l->flush());
    EXPECT_EQ(l->stats().inserted, 5u);
    EXPECT_EQ(l->stats().duplicates, 1u);
  }
  auto l = open(3);
  ASSERT_NE(l, nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(l->add(tsv(sample_event(i, "fp"))));
  ASSERT_TRUE(l->add(tsv(sample_event(1, "other-fp"))));  // same id, other fingerprint: kept
  ASSERT_TRUE(l->add(tsv(sample_event(7))));              // null fingerprint...
  ASSERT_TRUE(l->add(tsv(sample_event(7))));              // ...counts as one value
  ASSERT_TRUE(l->flush());
  EXPECT_EQ(l->stats().inserted, 2u);
  EXPECT_EQ(l->stats().duplicates, 6u);
  EXPECT_EQ(one("SELECT count(*) FROM atomic_events"), "7");
  // Batches of the first run: {0,1} {2,3} {4,dup}; of the second: {dup x3} {dup,dup,1'} {7,7}.
  EXPECT_EQ(one("SELECT count(DISTINCT load_id) FROM atomic_events"), "5");
}

TEST_F(SqliteLoaderTest, HostileValuesRoundTripAndLeaveTheSchemaAlone) {
  auto l = open();
  ASSERT_NE(l, nullptr);
  const std::string schema_before = one("SELECT group_concat(sql, ';') FROM sqlite_master");
  const std::vector<std::string> hostile = {
      "it's \"quoted\"",
      "back\\slash \\\\ \\N \\t \\n \\0 \\",
      "'); DROP TABLE atomic_events; --",
      "SELECT * FROM bad_rows WHERE 1=1; DELETE FROM furrow_schema",
      "NULL",
      "?1 $1 %s :name @x",
      "percent %C3%28 %FF%FE escaped invalid UTF-8",
      "\xF0\x9F\x98\x80 \xE2\x80\xAE rtl",
  };
  const std::string big(10000, 'x');
  const std::string json =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"s":"tab\there\nnl \\ \" \u0001 ')" +
      std::string(10000, 'y') + R"("}}]})";
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    auto e = sample_event(static_cast<int>(i));
    e[Field::page_title] = hostile[i];
    e[Field::se_label] = hostile[i];
    e[Field::user_id] = hostile[i];
    e[Field::page_url] = big;
    e[Field::contexts] = json;
    ASSERT_TRUE(l->add(tsv(e)));
  }
  ASSERT_TRUE(l->flush());
  EXPECT_EQ(l->stats().inserted, hostile.size());
  EXPECT_EQ(l->stats().rejected, 0u);
  auto r = rows(
      "SELECT page_title, se_label, user_id, page_url, contexts FROM atomic_events ORDER BY "
      "event_id");
  ASSERT_EQ(r.size(), hostile.size());
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(r[i][c].value_or("<null>"), hostile[i]);
    EXPECT_EQ(r[i][3].value_or(""), big);
    EXPECT_EQ(r[i][4].value_or(""), json);
  }
  EXPECT_EQ(one("SELECT group_concat(sql, ';') FROM sqlite_master"), schema_before);
}

TEST_F(SqliteLoaderTest, UnstorableLinesBecomeBadRowsWithTheirReason) {
  auto l = open();
  ASSERT_NE(l, nullptr);
  auto with = [](Field f, std::string v) {
    auto e = sample_event(1);
    e[f] = std::move(v);
    return tsv(e);
  };
  std::string nul_line = with(Field::page_title, std::string("a\0b", 3));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"just some text", "NotTSV"},
      {"a\tb\tc", "FieldNumberMismatch"},
      {with(Field::txn_id, "12x"), "not a 32-bit integer"},
      {with(Field::page_title, "bad \xC3\x28 utf8"), "invalid UTF-8"},
      {nul_line, "NUL"},
      {with(Field::geo_country, "USA"), "longer than the column"},
      {with(Field::contexts, R"({"data":"\u0000"})"), "jsonb"},
      {with(Field::page_title, "tab\there"), "FieldNumberMismatch"},
      {"{not json", "not a JSON document"},
  };
  for (const auto& c : cases) ASSERT_TRUE(l->add(c.first));
  ASSERT_TRUE(l->add(tsv(sample_event(2))));
  ASSERT_TRUE(l->flush());
  EXPECT_EQ(l->stats().inserted, 1u);
  EXPECT_EQ(l->stats().rejected, cases.size());
  auto r = rows("SELECT document, failure_type FROM bad_rows");
  ASSERT_EQ(r.size(), cases.size());
  for (const auto& c : cases) {
    bool found = false;
    for (const auto& row : r) found = found || row[0]->find(c.second) != std::string::npos;
    EXPECT_TRUE(found) << c.second;
  }
  for (const auto& row : r) EXPECT_EQ(*row[1], "loader_parsing_error");
  EXPECT_EQ(one("SELECT min(json_valid(document)) FROM bad_rows"), "1");
}

// Lines from furrow run's own enrich (LineKind::kEnrichedInProcess) are stored exactly as the same
// lines of another kind, and refused for the same reasons, except that their JSON columns are not
// parsed: a malformed object (which enrich's JSON writers cannot produce) is stored as it is.
TEST_F(SqliteLoaderTest, InProcessLinesKeepEveryCheckButTheJsonParse) {
  auto l = open();
  ASSERT_NE(l, nullptr);
  auto with = [](int n, Field f, std::string v) {
    auto e = sample_event(n);
    e[f] = std::move(v);
    return tsv(e);
  };
  const std::string ctx = R"({"schema":"iglu:c/contexts/jsonschema/1-0-1","data":[{"a":"é"}]})";
  ASSERT_TRUE(l->add(with(1, Field::contexts, ctx), LineKind::kEnrichedInProcess));
  ASSERT_TRUE(l->add(with(2, Field::contexts, ctx), LineKind::kEnriched));
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"a\tb\tc", "FieldNumberMismatch"},
      {with(3, Field::txn_id, "12x"), "not a 32-bit integer"},
      {with(4, Field::derived_contexts, "{\"a\":\"bad \xC3\x28 utf8\"}"), "derived_contexts"},
      {with(5, Field::contexts, R"({"data":"\u0000"})"), "jsonb"},
      {with(6, Field::geo_country, "USA"), "longer than the column"},
      {with(8, Field::contexts, R"({"a":)"), "RowDecodingError"},
  };
  for (const auto& c : refused) ASSERT_TRUE(l->add(c.first, LineKind::kEnrichedInProcess));
  // Not an object: the quick check declines it and the full checks (valid JSON) decide.
  ASSERT_TRUE(l->add(with(7, Field::unstruct_event, "[1,2]"), LineKind::kEnrichedInProcess));
  // Malformed but between braces: only the full check (any other kind) finds it.
  const std::string malformed = with(9, Field::contexts, "{'a':1}");
  ASSERT_TRUE(l->add(malformed, LineKind::kEnrichedInProcess));
  ASSERT_TRUE(l->add(with(10, Field::contexts, "{'a':1}"), LineKind::kEnriched));
  ASSERT_TRUE(l->flush());
  EXPECT_EQ(l->stats().inserted, 4u);
  EXPECT_EQ(l->stats().rejected, refused.size() + 1);
  const auto stored =
      rows("SELECT coalesce(contexts, unstruct_event) FROM atomic_events ORDER BY event_id");
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[0][0], ctx);
  EXPECT_EQ(stored[1][0], ctx);
  EXPECT_EQ(stored[2][0], "[1,2]");
  EXPECT_EQ(stored[3][0], "{'a':1}");
  const auto docs = rows("SELECT document FROM bad_rows");
  ASSERT_EQ(docs.size(), refused.size() + 1);
  for (const auto& c : refused) {
    bool found = false;
    for (const auto& row : docs) found = found || row[0]->find(c.second) != std::string::npos;
    EXPECT_TRUE(found) << c.second;
  }
}

TEST_F(SqliteLoaderTest, BadRowLinesAreDetectedAndDeduplicated) {
  const std::string bad =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1","data":{"processor":{"artifact":"furrow-enrich","version":"0.1.0"},"failure":{"timestamp":"2024-03-01T10:00:00.000Z","messages":[]},"payload":{}}})";
  for (int run = 0; run < 2; ++run) {
    auto l = open();
    ASSERT_NE(l, nullptr);
    ASSERT_TRUE(l->add(bad + "\n"));
    ASSERT_TRUE(l->add(tsv(sample_event(1))));
    ASSERT_TRUE(l->flush());
    EXPECT_EQ(l->stats().bad_rows, run == 0 ? 1u : 0u);
  }
  auto r = rows("SELECT schema, failure_type, processor, failure_tstamp, document FROM bad_rows");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(*r[0][1], "schema_violations");
  EXPECT_EQ(*r[0][2], "furrow-enrich/0.1.0");
  EXPECT_EQ(*r[0][3], "2024-03-01T10:00:00.000Z");
  EXPECT_EQ(*r[0][4], bad);
}

TEST_F(SqliteLoaderTest, FinishedFilesAreRecordedWithTheirLastBatch) {
  auto l = open();
  ASSERT_NE(l, nullptr);
  const std::string digest = sha256_hex("file bytes");
  EXPECT_EQ(digest.size(), 64u);
  auto before = l->file_loaded(digest);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(*before);
  ASSERT_TRUE(l->add(tsv(sample_event(1))));
  ASSERT_TRUE(l->finish_file(FileRecord{digest, "a.tsv", 10, 1}));
  auto after = l->file_loaded(digest);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(*after);
  EXPECT_EQ(one("SELECT f.load_id = e.load_id FROM loaded_files f, atomic_events e"), "1");
}

TEST_F(SqliteLoaderTest, ReadersAreNotBlockedByALoadingTransaction) {
  auto l = open(1000);
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->add(tsv(sample_event(0))));
  ASSERT_TRUE(l->flush());
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path().c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(reader, 0);  // any lock wait would fail immediately
  ASSERT_EQ(
      sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM atomic_events;", nullptr, nullptr, nullptr),
      SQLITE_OK);
  for (int i = 1; i <= 500; ++i) ASSERT_TRUE(l->add(tsv(sample_event(i))));
  ASSERT_TRUE(l->flush());  // commits while the reader holds its snapshot
  auto count = [&] {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(reader, "SELECT count(*) FROM atomic_events", -1, &s, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    const int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
  };
  EXPECT_EQ(count(), 1);  // its snapshot
  ASSERT_EQ(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(count(), 501);
  sqlite3_close(reader);
}

// furrow run's tuning: the connection settings apply, and a loader that finds the write lock held
// by another connection (a model run's short write) waits for it and then commits.
TEST_F(SqliteLoaderTest, TunedLoaderWaitsForAnotherWriterThenCommits) {
  SqliteTuning t;
  t.cache_kib = 4096;
  t.wal_autocheckpoint_pages = 0;
  t.eager_busy_retry = true;
  LoaderOptions o;
  o.batch_size = 1000;
  auto opened = open_sqlite_loader(path(), o, t);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto& l = *opened;
  auto other = open_sqlite_database(path());
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_TRUE(sqlite_exec(*other, "BEGIN IMMEDIATE"));
  std::thread release([db = *other] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_TRUE(sqlite_exec(db, "COMMIT"));
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(l->add(tsv(sample_event(i))));
  const auto t0 = std::chrono::steady_clock::now();
  Status st = l->flush();
  const auto waited = std::chrono::steady_clock::now() - t0;
  release.join();
  ASSERT_TRUE(st) << st.message();
  EXPECT_GE(waited, std::chrono::milliseconds(150));  // it did wait for the other writer
  EXPECT_EQ(one("SELECT count(*) FROM atomic_events"), "20");
  // A PASSIVE checkpoint from another connection copies the whole WAL once no one writes.
  int wal = 0, copied = 0;
  ASSERT_TRUE(sqlite_checkpoint(*other, wal, copied));
  EXPECT_GT(wal, 0);
  EXPECT_EQ(copied, wal);
  close_sqlite_database(*other);
}

TEST_F(SqliteLoaderTest, RefusesADatabaseFromANewerFurrow) {
  { ASSERT_NE(open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE furrow_schema SET version = 99", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto l = open_loader(DbTarget{Dialect::kSqlite, path()}, {});
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find("newer"), std::string::npos);
}

TEST(DbTarget, ParsesUrls) {
  auto s = parse_db_target("sqlite:data/x.db");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->dialect, Dialect::kSqlite);
  EXPECT_EQ(s->location, "data/x.db");
  auto p = parse_db_target("postgres://u:p@127.0.0.1:5432/db");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->dialect, Dialect::kPostgres);
  EXPECT_FALSE(parse_db_target("mysql://x").ok());
  EXPECT_FALSE(parse_db_target("sqlite:").ok());
}

TEST(LoaderSchema, QuotesIdentifiersAndMapsTypes) {
  EXPECT_EQ(quote_ident("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(column_type(Dialect::kPostgres, static_cast<std::size_t>(Field::contexts)), "jsonb");
  EXPECT_EQ(column_type(Dialect::kPostgres, static_cast<std::size_t>(Field::event_id)), "char(36)");
  EXPECT_EQ(column_type(Dialect::kPostgres, static_cast<std::size_t>(Field::br_cookies)),
            "boolean");
  EXPECT_EQ(column_type(Dialect::kPostgres, static_cast<std::size_t>(Field::collector_tstamp)),
            "timestamp");
  EXPECT_EQ(column_type(Dialect::kPostgres, static_cast<std::size_t>(Field::page_title)),
            "varchar(2000)");
  EXPECT_EQ(column_type(Dialect::kSqlite, static_cast<std::size_t>(Field::geo_latitude)), "REAL");
}

}  // namespace
}  // namespace furrow::sinks
