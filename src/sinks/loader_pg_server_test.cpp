// The PostgreSQL loader against a real server (scripts/pg-test-server, about 2 s to start): the
// binary COPY stores exactly what a text COPY of the same values stores, including batches that
// switch to text mid-stream, and replays go through staging without duplicates.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "sinks/loader.h"
#include "sinks/loader_test_events.h"
#include "sinks/pg_copy.h"
#include "sinks/postgres_loader.h"
#include "support/test_support.h"

namespace furrow::sinks {
namespace {

using event::Field;

std::string run(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return {};
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Events whose typed columns take the edge values of each wire type. Event 5's timestamp has a
// fraction finer than microseconds, which the binary encoder declines: its batch goes as text.
std::vector<std::string> edge_lines(int first, int count) {
  const char* stamps[] = {"0001-01-01 00:00:00", "9999-12-31 23:59:59.999999",
                          "2024-02-29 23:59:59.9", "1969-12-31 23:59:59.999",
                          "1999-12-31 23:59:59.000001"};
  const char* ints[] = {"+42", "-2147483648", "2147483647", "0", "00012"};
  const char* floats[] = {"1e-310", "-0", "0.1", "1.7976931348623157e308", "4.9e-324"};
  const char* decimals[] = {"+1.5", "1.", ".5", "1E+5", "12345678901234567890.123456789"};
  std::vector<std::string> lines;
  for (int i = first; i < first + count; ++i) {
    auto e = testing::sample_event(i, "fp" + std::to_string(i));
    const auto k = static_cast<std::size_t>(i) % 5;
    e[Field::dvce_created_tstamp] = stamps[k];
    e[Field::derived_tstamp] = stamps[(k + 2) % 5];
    if (i == 5) e[Field::true_tstamp] = "2024-01-01 00:00:00.1234567";
    e[Field::txn_id] = ints[k];
    e[Field::geo_longitude] = floats[k];
    e[Field::tr_total] = decimals[k];
    e[Field::br_cookies] = k % 2 == 0 ? "0" : "1";
    e[Field::page_title] = "caf\xC3\xA9 \\ back\\slash \xF0\x9F\x98\x80 'q' \"dq\"";
    e[Field::contexts] = R"({"data":[{"u":"\u00e9\ud83d\ude00 \\ \" \t","n":-0.0}]})";
    lines.push_back(testing::tsv(e));
  }
  return lines;
}

class PgServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(test::temp_dir("furrow_pg_unit") / "server");
    // The server runs as the postgres user, which must be able to reach its directory.
    std::filesystem::permissions(dir_->parent_path(), std::filesystem::perms::owner_all |
                                                          std::filesystem::perms::group_exec |
                                                          std::filesystem::perms::others_exec);
    const std::string out = run("'" + (test::source_dir() / "scripts/pg-test-server").string() +
                                "' start '" + dir_->string() + "'");
    url_ = new std::string();
    if (auto at = out.rfind("postgres://"); at != std::string::npos) {
      *url_ = out.substr(at, out.find('\n', at) - at);
    } else {
      std::fprintf(stderr, "pg-test-server failed:\n%s\n", out.c_str());
    }
  }
  static void TearDownTestSuite() {
    run("'" + (test::source_dir() / "scripts/pg-test-server").string() + "' stop '" +
        dir_->string() + "'");
    std::filesystem::remove_all(dir_->parent_path());
    delete dir_;
    delete url_;
  }
  void SetUp() override {
    ASSERT_FALSE(url_->empty()) << "PostgreSQL test server did not start";
    auto c = open_postgres_database(*url_);
    ASSERT_TRUE(c.ok()) << c.error().message;
    conn_ = *c;
    ASSERT_TRUE(pg_exec(conn_,
                        "TRUNCATE atomic_events, bad_rows, loaded_files, load_batches; DROP TABLE "
                        "IF EXISTS reference"));
  }
  void TearDown() override { PQfinish(conn_); }

  std::string scalar(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                        ? PQgetvalue(r, 0, 0)
                        : std::string("error: ") + PQresultErrorMessage(r);
    PQclear(r);
    return v;
  }

  LoadStats load(const std::vector<std::string>& lines, std::size_t batch) {
    LoaderOptions o;
    o.batch_size = batch;
    auto l = open_postgres_loader(*url_, o);
    EXPECT_TRUE(l.ok()) << (l.ok() ? "" : l.error().message);
    if (!l.ok()) return {};
    for (const auto& line : lines) EXPECT_TRUE((*l)->add(line).ok());
    EXPECT_TRUE((*l)->flush().ok());
    return (*l)->stats();
  }

  static std::filesystem::path* dir_;
  static std::string* url_;
  PGconn* conn_ = nullptr;
};

std::filesystem::path* PgServer::dir_ = nullptr;
std::string* PgServer::url_ = nullptr;

TEST_F(PgServer, BinaryCopyStoresWhatTheServerParsesFromText) {
  const auto lines = edge_lines(1, 23);
  const LoadStats s = load(lines, 8);
  EXPECT_EQ(s.inserted, lines.size());
  EXPECT_EQ(s.rejected, 0u);

  // The reference: the same values through a text COPY, parsed by the server.
  ASSERT_TRUE(pg_exec(conn_, "CREATE TABLE reference (LIKE atomic_events)"));
  PGresult* r = PQexec(conn_, ("COPY reference (" + atomic_column_list() + ") FROM STDIN").c_str());
  ASSERT_EQ(PQresultStatus(r), PGRES_COPY_IN) << PQresultErrorMessage(r);
  PQclear(r);
  std::string text;
  EventFields f;
  for (const auto& line : lines) {
    split_enriched(line, f);
    append_pg_text_row(text, f, "0");
  }
  ASSERT_EQ(PQputCopyData(conn_, text.data(), static_cast<int>(text.size())), 1);
  ASSERT_EQ(PQputCopyEnd(conn_, nullptr), 1);
  while (PGresult* res = PQgetResult(conn_)) {
    EXPECT_EQ(PQresultStatus(res), PGRES_COMMAND_OK) << PQresultErrorMessage(res);
    PQclear(res);
  }
  std::string cols;
  for (const auto& info : event::field_infos()) {
    if (!cols.empty()) cols += ',';
    cols += quote_ident(info.name);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM reference"), std::to_string(lines.size()));
  EXPECT_EQ(scalar("SELECT count(*) FROM (SELECT " + cols + " FROM atomic_events EXCEPT SELECT " +
                   cols + " FROM reference) d"),
            "0");
  EXPECT_EQ(scalar("SELECT count(*) FROM (SELECT " + cols + " FROM reference EXCEPT SELECT " +
                   cols + " FROM atomic_events) d"),
            "0");
  // EXCEPT compares jsonb and doubles by value; the text forms must match too.
  EXPECT_EQ(scalar("SELECT count(*) FROM atomic_events a JOIN reference b USING (event_id) WHERE "
                   "a.contexts::text = b.contexts::text AND a.geo_longitude::text = "
                   "b.geo_longitude::text AND a.true_tstamp IS NOT DISTINCT FROM b.true_tstamp"),
            std::to_string(lines.size()));
  // Every batch has its load_batches row and its rows carry its id.
  EXPECT_EQ(scalar("SELECT count(DISTINCT load_id) FROM atomic_events"), "3");
  EXPECT_EQ(scalar("SELECT sum(events) FROM load_batches"), std::to_string(lines.size()));
}

TEST_F(PgServer, ReplaysGoThroughStagingWithoutDuplicates) {
  const auto all = edge_lines(1, 20);
  const std::vector<std::string> first(all.begin(), all.begin() + 12);
  EXPECT_EQ(load(first, 5).inserted, 12u);
  // Batches of 7: the first two meet loaded events (one with the text-only timestamp), the
  // last does not.
  const LoadStats s = load(all, 7);
  EXPECT_EQ(s.inserted, 8u);
  EXPECT_EQ(s.duplicates, 12u);
  EXPECT_EQ(scalar("SELECT count(*) FROM atomic_events"), "20");
  EXPECT_EQ(scalar("SELECT count(DISTINCT event_id) FROM atomic_events"), "20");
  EXPECT_EQ(scalar("SELECT sum(duplicates) FROM load_batches"), "12");
}

}  // namespace
}  // namespace furrow::sinks
