// Storage against a real PostgreSQL 15 (started here with scripts/pg-test-server on 127.0.0.1 and
// stopped afterwards) and SQLite: same input → same rows and same data-model results; hostile
// values round-trip; kill -9 during loads never duplicates (docs/storage.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "event/tsv.h"
#include "sinks/loader.h"
#include "storage/export.h"
#include "storage/models.h"
#include "storage/query_store.h"
#include "storage/sample_site.h"
#include "support/test_support.h"

extern char** environ;

namespace furrow {
namespace {

using event::Field;

// Runs a command, returning its exit status (or -signal).
int run(const std::vector<std::string>& args, std::string* out = nullptr) {
  std::string cmd;
  for (const auto& a : args) {
    cmd += '\'';
    for (char c : a) {
      if (c == '\'')
        cmd += "'\\''";
      else
        cmd += c;
    }
    cmd += "' ";
  }
  cmd += "2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  std::string text;
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  const int st = ::pclose(p);
  if (out != nullptr) *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string one(storage::QueryStore& s, const std::string& sql) {
  auto v = s.scalar(sql);
  EXPECT_TRUE(v.ok()) << sql << ": " << (v.ok() ? "" : v.error().message);
  return v.ok() ? *v : "<error>";
}

class StorageBackends : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_dir_ = new std::filesystem::path(test::temp_dir("furrow_pg") / "server");
    // The server runs as the postgres user, which must be able to reach its directory.
    std::filesystem::permissions(pg_dir_->parent_path(), std::filesystem::perms::owner_all |
                                                             std::filesystem::perms::group_exec |
                                                             std::filesystem::perms::others_exec);
    std::string out;
    const int rc =
        run({(test::source_dir() / "scripts/pg-test-server").string(), "start", pg_dir_->string()},
            &out);
    pg_url_ = new std::string();
    if (rc == 0) {
      auto nl = out.rfind("postgres://");
      if (nl != std::string::npos) *pg_url_ = out.substr(nl, out.find('\n', nl) - nl);
    } else {
      std::fprintf(stderr, "pg-test-server failed:\n%s\n", out.c_str());
    }
  }
  static void TearDownTestSuite() {
    run({(test::source_dir() / "scripts/pg-test-server").string(), "stop", pg_dir_->string()});
    std::filesystem::remove_all(pg_dir_->parent_path());
    delete pg_dir_;
    delete pg_url_;
  }
  void SetUp() override {
    ASSERT_FALSE(pg_url_->empty()) << "PostgreSQL test server did not start";
    dir_ = test::temp_dir("furrow_storage_it");
    // A fresh PostgreSQL database per test: drop everything the loader and models created.
    auto s = storage::QueryStore::open(*pg_url_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_TRUE((*s)->exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public"));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string sqlite_url(const std::string& name = "t.db") const {
    return "sqlite:" + (dir_ / name).string();
  }

  static void load(const std::string& url, const std::vector<event::EnrichedEvent>& events,
                   std::size_t from, std::size_t to, std::size_t batch = 200) {
    auto target = sinks::parse_db_target(url);
    ASSERT_TRUE(target.ok());
    sinks::LoaderOptions o;
    o.batch_size = batch;
    auto l = sinks::open_loader(*target, o);
    ASSERT_TRUE(l.ok()) << l.error().message;
    for (std::size_t i = from; i < to; ++i) ASSERT_TRUE((*l)->add_event(events[i]));
    ASSERT_TRUE((*l)->flush());
  }
  static std::unique_ptr<storage::QueryStore> store(const std::string& url) {
    auto s = storage::QueryStore::open(url);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }
  // The query's result as CSV text.
  static std::string csv(storage::QueryStore& s, const std::string& sql) {
    char* buf = nullptr;
    std::size_t len = 0;
    FILE* f = ::open_memstream(&buf, &len);
    Status st = storage::export_query(s, sql, {}, f);
    std::fclose(f);
    std::string out(buf, len);
    std::free(buf);
    EXPECT_TRUE(st.ok()) << sql << ": " << st.message();
    return out;
  }

  static std::filesystem::path* pg_dir_;
  static std::string* pg_url_;
  std::filesystem::path dir_;
};
std::filesystem::path* StorageBackends::pg_dir_ = nullptr;
std::string* StorageBackends::pg_url_ = nullptr;

TEST_F(StorageBackends, LoaderRoleIsNotASuperuser) {
  auto s = store(*pg_url_);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(one(*s, "SELECT rolsuper::int FROM pg_roles WHERE rolname = current_user"), "0");
  load(*pg_url_, {storage::make_sample_site({.users = 1}).events[0]}, 0, 1);
  EXPECT_EQ(one(*s, "SELECT count(*) FROM atomic_events"), "1");
}

TEST_F(StorageBackends, SameInputGivesSameRowsAndSameModelsInBothDatabases) {
  const auto site = storage::make_sample_site({.seed = 11, .users = 40});
  const std::size_t n = site.events.size();
  // Two loads and two model runs each, split differently, to exercise incrementality too.
  load(sqlite_url(), site.events, 0, n / 2);
  load(*pg_url_, site.events, 0, n / 3);
  auto lite = store(sqlite_url());
  auto pg = store(*pg_url_);
  ASSERT_NE(lite, nullptr);
  ASSERT_NE(pg, nullptr);
  ASSERT_TRUE(storage::run_models(*lite, {}).ok());
  ASSERT_TRUE(storage::run_models(*pg, {}).ok());
  load(sqlite_url(), site.events, n / 2, n);
  load(*pg_url_, site.events, n / 3, n);
  auto r1 = storage::run_models(*lite, {});
  auto r2 = storage::run_models(*pg, {});
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  ASSERT_TRUE(r2.ok()) << r2.error().message;

  for (const char* table : {"atomic_events", "bad_rows", "page_views", "sessions", "users"}) {
    const std::string q = std::string("SELECT count(*) FROM ") + table;
    EXPECT_EQ(one(*lite, q), one(*pg, q)) << table;
  }
  EXPECT_EQ(one(*pg, "SELECT count(*) FROM atomic_events"), std::to_string(site.unique_events));
  // Known answers (acceptance 4) on PostgreSQL; models_test checks them on SQLite.
  EXPECT_EQ(one(*pg, "SELECT count(*) FROM sessions"), std::to_string(site.sessions));
  EXPECT_EQ(one(*pg, "SELECT count(*) FROM page_views"), std::to_string(site.page_views));
  EXPECT_EQ(one(*pg, "SELECT sum(is_bounce) FROM sessions"), std::to_string(site.bounces));
  EXPECT_EQ(one(*pg, "SELECT sum(engaged_time_in_s) FROM page_views"),
            std::to_string(site.engaged_seconds));
  EXPECT_EQ(one(*pg, "SELECT count(*) FROM users"), std::to_string(site.users));
  std::string landing;
  for (const auto& [path, count] : site.landing_pages)
    landing += path + "," + std::to_string(count) + "\r\n";
  EXPECT_EQ(csv(*pg,
                "SELECT landing_page_path AS p, count(*) AS n FROM sessions GROUP BY "
                "landing_page_path ORDER BY 1"),
            "p,n\r\n" + landing);

  // Identical model results, row by row and column by column.
  EXPECT_EQ(csv(*lite, "SELECT * FROM page_views ORDER BY page_view_id"),
            csv(*pg, "SELECT * FROM page_views ORDER BY page_view_id"));
  EXPECT_EQ(csv(*lite, "SELECT * FROM sessions ORDER BY domain_sessionid"),
            csv(*pg, "SELECT * FROM sessions ORDER BY domain_sessionid"));
  EXPECT_EQ(csv(*lite, "SELECT * FROM users ORDER BY domain_userid"),
            csv(*pg, "SELECT * FROM users ORDER BY domain_userid"));
  // And identical events, apart from the jsonb columns (PostgreSQL normalises JSON text) and
  // load_id.
  std::string cols;
  for (const auto& info : event::field_infos()) {
    if (info.kind == event::FieldKind::kJson) continue;
    cols += (cols.empty() ? "" : ", ") + std::string(info.name);
  }
  EXPECT_EQ(csv(*lite, "SELECT " + cols + " FROM atomic_events ORDER BY event_id"),
            csv(*pg, "SELECT " + cols + " FROM atomic_events ORDER BY event_id"));
  // The entity view works the same on both.
  const std::string view =
      "SELECT page_view_id, ua_family, ua_device_family FROM atomic_events_entities ORDER BY "
      "event_id";
  EXPECT_EQ(csv(*lite, view), csv(*pg, view));
}

// The DDL of everything in the database, to show that loading data never changes it.
std::string pg_schema(storage::QueryStore& s) {
  std::string out;
  auto st = s.query(
      "SELECT table_name || '.' || column_name || ':' || data_type || ':' || "
      "coalesce(character_maximum_length::text, '') FROM information_schema.columns WHERE "
      "table_schema = 'public' ORDER BY table_name, ordinal_position",
      {}, storage::RowHandler{nullptr, [&](const std::vector<storage::Cell>& r) {
                                out.append(r[0].text);
                                out += '\n';
                                return true;
                              }});
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

TEST_F(StorageBackends, HostileValuesRoundTripUnchanged) {
  const std::vector<std::string> hostile = {
      "it's \"quoted\"",
      "back\\slash \\\\ \\N \\t \\n \\r \\0 \\. \\",
      "'); DROP TABLE atomic_events; --",
      "\"; DROP TABLE \"bad_rows\"; SELECT 1; --",
      "COPY atomic_events TO PROGRAM 'touch /tmp/pwned'",
      "NULL",
      "",  // null
      "?1 $1 $$ %s :name @x E'\\x41'",
      "percent %C3%28 %FF%FE %00 escaped invalid UTF-8",
      "\xF0\x9F\x98\x80 \xE2\x80\xAE rtl \xC3\xA9",
  };
  const std::string big(10000, 'x');
  const std::string json =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"s":"tab\there\nnl \\ \" \u0001 ' -- ; DROP","big":")" +
      std::string(10000, 'y') + R"("}}]})";
  std::vector<event::EnrichedEvent> events;
  auto site = storage::make_sample_site({.users = 1, .duplicate_percent = 0});
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    auto e = site.events[i];
    e[Field::page_title] = hostile[i];
    e[Field::se_label] = hostile[i];
    e[Field::user_id] = hostile[i];
    e[Field::app_id] = hostile[i];
    e[Field::page_url] = big;
    e[Field::contexts] = json;
    events.push_back(e);
  }
  // Lines the databases cannot hold become bad rows on both, with a reason.
  {
    auto e = site.events[hostile.size()];
    e[Field::page_title] = std::string("nul\0inside", 10);
    events.push_back(e);
    e[Field::page_title] = "bad \xC3\x28 utf8";
    events.push_back(e);
    e[Field::page_title] = "raw\ttab";
    events.push_back(e);
    e[Field::page_title] = "ok";
    e[Field::contexts] = R"({"data":"\u0000"})";
    events.push_back(e);
  }
  auto pg = store(*pg_url_);
  auto lite = store(sqlite_url());
  ASSERT_NE(pg, nullptr);
  ASSERT_NE(lite, nullptr);
  const std::string schema_before = pg_schema(*pg);
  ASSERT_NE(schema_before.find("atomic_events.contexts:jsonb"), std::string::npos);
  load(*pg_url_, events, 0, events.size(), 3);
  load(sqlite_url(), events, 0, events.size(), 3);
  EXPECT_EQ(pg_schema(*pg), schema_before);
  EXPECT_EQ(one(*pg, "SELECT count(*) FROM atomic_events"), std::to_string(hostile.size()));
  EXPECT_EQ(one(*pg, "SELECT count(*) FROM bad_rows"), "4");
  EXPECT_EQ(one(*lite, "SELECT count(*) FROM bad_rows"), "4");
  EXPECT_EQ(one(*pg,
                "SELECT count(*) FROM bad_rows WHERE document->'data'->'failure'->>'type' IN "
                "('RowDecodingError', 'FieldNumberMismatch')"),
            "4");

  for (auto* s : {pg.get(), lite.get()}) {
    std::vector<std::vector<std::string>> got;
    std::vector<bool> nulls;
    auto st = s->query(
        "SELECT page_title, se_label, user_id, app_id, page_url, contexts FROM atomic_events "
        "ORDER BY event_id",
        {}, storage::RowHandler{nullptr, [&](const std::vector<storage::Cell>& r) {
                                  auto& row = got.emplace_back();
                                  for (const auto& c : r) row.emplace_back(c.text);
                                  nulls.push_back(r[0].null);
                                  return true;
                                }});
    ASSERT_TRUE(st.ok()) << st.message();
    // Events are ordered by event_id, as generated.
    std::vector<std::size_t> order(hostile.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) {
      return events[a][Field::event_id] < events[b][Field::event_id];
    });
    ASSERT_EQ(got.size(), hostile.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
      const std::string& want = hostile[order[k]];
      EXPECT_EQ(nulls[k], want.empty());
      for (int c = 0; c < 4; ++c)
        EXPECT_EQ(got[k][c], want) << "dialect " << static_cast<int>(s->dialect());
      EXPECT_EQ(got[k][4], big);
      rapidjson::Document a, b;
      a.Parse(got[k][5].data(), got[k][5].size());
      b.Parse(json.data(), json.size());
      EXPECT_TRUE(!a.HasParseError() && a == b) << got[k][5].substr(0, 200);
    }
  }
}

// Writes the sample site as an enriched TSV file; returns the number of unique events.
int64_t write_tsv_file(const std::filesystem::path& path, uint64_t seed, int users) {
  auto site = storage::make_sample_site({.seed = seed, .users = users});
  std::ofstream out(path, std::ios::binary);
  std::string line;
  for (const auto& e : site.events) {
    line.clear();
    event::write_tsv(e, line);
    line += '\n';
    out << line;
  }
  return site.unique_events;
}

void kill_replay(const std::string& url, const std::filesystem::path& file, int64_t unique,
                 storage::QueryStore& s) {
  std::mt19937 rng(12345);
  int killed_mid_load = 0;
  for (int i = 0; i < 10; ++i) {
    pid_t pid = 0;
    std::vector<std::string> args = {test::furrow_bin().string(),
                                     "load",
                                     "--to",
                                     url,
                                     "--batch-size",
                                     "300",
                                     "-q",
                                     "--force",
                                     file.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    ASSERT_EQ(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    killed_mid_load += WIFSIGNALED(status) ? 1 : 0;
    // Never more rows than events, never a duplicate, whatever the moment of the kill.
    EXPECT_EQ(one(s, "SELECT count(*) - count(DISTINCT event_id) FROM atomic_events"), "0");
    auto rows = std::stoll(one(s, "SELECT count(*) FROM atomic_events"));
    EXPECT_LE(rows, unique);
  }
  EXPECT_GE(killed_mid_load, 1) << "every load finished before the kill: the test proved nothing";
  std::string out;
  ASSERT_EQ(
      run({test::furrow_bin().string(), "load", "--to", url, "--batch-size", "300", file.string()},
          &out),
      0)
      << out;
  EXPECT_EQ(one(s, "SELECT count(*) FROM atomic_events"), std::to_string(unique));
  EXPECT_EQ(one(s, "SELECT count(DISTINCT event_id) FROM atomic_events"), std::to_string(unique));
  // The file is now recorded: loading it again reads nothing.
  ASSERT_EQ(run({test::furrow_bin().string(), "load", "--to", url, file.string()}, &out), 0) << out;
  EXPECT_NE(out.find("already loaded"), std::string::npos) << out;
  EXPECT_EQ(one(s, "SELECT count(*) FROM loaded_files"), "1");
  EXPECT_EQ(one(s, "SELECT count(*) FROM atomic_events"), std::to_string(unique));
}

TEST_F(StorageBackends, KillNineDuringLoadsNeverDuplicatesSqlite) {
  const auto file = dir_ / "events.tsv";
  const int64_t unique = write_tsv_file(file, 5, 400);
  ASSERT_TRUE(store(sqlite_url()) != nullptr);  // create the schema up front
  auto s = store(sqlite_url());
  kill_replay(sqlite_url(), file, unique, *s);
}

TEST_F(StorageBackends, KillNineDuringLoadsNeverDuplicatesPostgres) {
  const auto file = dir_ / "events.tsv";
  const int64_t unique = write_tsv_file(file, 6, 400);
  auto s = store(*pg_url_);
  ASSERT_NE(s, nullptr);
  kill_replay(*pg_url_, file, unique, *s);
}

TEST_F(StorageBackends, CliLoadModelQueryExport) {
  const auto file = dir_ / "events.tsv";
  const int64_t unique = write_tsv_file(file, 9, 20);
  // zstd input through stdin.
  std::string out;
  ASSERT_EQ(run({"sh", "-c",
                 "zstd -q -c '" + file.string() + "' | '" + test::furrow_bin().string() +
                     "' load --to '" + *pg_url_ + "'"},
                &out),
            0)
      << out;
  ASSERT_EQ(run({test::furrow_bin().string(), "model", "run", "--db", *pg_url_}, &out), 0) << out;
  ASSERT_EQ(run({test::furrow_bin().string(), "query", "--db", *pg_url_,
                 "SELECT count(*) AS n FROM atomic_events"},
                &out),
            0);
  EXPECT_NE(out.find(std::to_string(unique)), std::string::npos) << out;
  EXPECT_NE(out.find("(1 row)"), std::string::npos) << out;
  ASSERT_EQ(run({test::furrow_bin().string(), "export", "--db", *pg_url_, "--table", "sessions",
                 "--format", "jsonl", "-o", (dir_ / "s.jsonl").string()},
                &out),
            0)
      << out;
  auto lines = test::read_lines(dir_ / "s.jsonl");
  auto s = store(*pg_url_);
  EXPECT_EQ(std::to_string(lines.size()), one(*s, "SELECT count(*) FROM sessions"));
  ASSERT_FALSE(lines.empty());
  rapidjson::Document d;
  d.Parse(lines[0].c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_TRUE(d["page_views"].IsInt());
  EXPECT_TRUE(d["domain_sessionid"].IsString());
  // Bad usage is a usage error, an unknown table a clear failure.
  EXPECT_EQ(run({test::furrow_bin().string(), "load", "--to", "mysql://x", file.string()}, &out),
            2);
  EXPECT_EQ(
      run({test::furrow_bin().string(), "export", "--db", *pg_url_, "--table", "no\"such"}, &out),
      1);
  EXPECT_NE(out.find("does not exist"), std::string::npos) << out;
}

}  // namespace
}  // namespace furrow
