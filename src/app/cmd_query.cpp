// `furrow query`: ad-hoc SQL against a loaded database, printed as an aligned table.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "app/commands.h"
#include "storage/export.h"
#include "storage/query_store.h"

namespace furrow::app {
namespace {

struct QueryCmdOptions {
  std::string db;
  std::string sql;
  std::string format = "table";
  std::size_t max_rows = 1000;
};

int run_query(const QueryCmdOptions& o) {
  auto format = storage::parse_export_format(o.format);
  if (!format) {
    std::fprintf(stderr, "furrow query: %s\n", format.error().message.c_str());
    return kExitUsage;
  }
  auto store = storage::QueryStore::open(o.db);
  if (!store) {
    std::fprintf(stderr, "furrow query: %s\n", store.error().message.c_str());
    return kExitFailure;
  }
  storage::ExportOptions eo;
  eo.format = *format;
  eo.max_rows = o.max_rows;
  Status st = storage::export_query(**store, o.sql, eo, stdout);
  if (!st) {
    std::fprintf(stderr, "furrow query: %s\n", st.message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void register_query(CLI::App& root) {
  auto o = std::make_shared<QueryCmdOptions>();
  auto* cmd = root.add_subcommand("query", "Run one SQL statement and print the result as a table");
  cmd->add_option("--db", o->db, "Database: sqlite:PATH or postgres://...")->required();
  cmd->add_option("sql", o->sql, "The SQL statement")->required();
  cmd->add_option("--format", o->format, "table (default), csv, tsv or jsonl");
  cmd->add_option("--max-rows", o->max_rows, "Rows shown in table format");
  cmd->callback([o] { exit_code() = run_query(*o); });
}

}  // namespace furrow::app
