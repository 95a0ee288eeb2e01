// `furrow export`: a table or a query's result as CSV, TSV or JSON lines.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "app/commands.h"
#include "storage/export.h"
#include "storage/query_store.h"

namespace furrow::app {
namespace {

struct ExportCmdOptions {
  std::string db;
  std::string table;
  std::string sql;
  std::string format = "csv";
  std::string output = "-";
  bool no_header = false;
};

int run_export(const ExportCmdOptions& o) {
  auto format = storage::parse_export_format(o.format);
  if (!format || *format == storage::ExportFormat::kTable) {
    std::fprintf(stderr, "furrow export: --format must be csv, tsv or jsonl\n");
    return kExitUsage;
  }
  if (o.table.empty() == o.sql.empty()) {
    std::fprintf(stderr, "furrow export: name exactly one of --table and --sql\n");
    return kExitUsage;
  }
  auto store = storage::QueryStore::open(o.db);
  if (!store) {
    std::fprintf(stderr, "furrow export: %s\n", store.error().message.c_str());
    return kExitFailure;
  }
  std::FILE* out = stdout;
  if (o.output != "-") {
    out = std::fopen(o.output.c_str(), "wb");
    if (out == nullptr) {
      std::fprintf(stderr, "furrow export: %s: %s\n", o.output.c_str(), std::strerror(errno));
      return kExitFailure;
    }
  }
  storage::ExportOptions eo;
  eo.format = *format;
  eo.header = !o.no_header;
  uint64_t rows = 0;
  Status st = storage::export_query(**store, o.table.empty() ? o.sql : storage::select_all(o.table),
                                    eo, out, &rows);
  if (out != stdout && std::fclose(out) != 0 && st) st = Error{o.output + ": write failed"};
  if (!st) {
    std::fprintf(stderr, "furrow export: %s\n", st.message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void register_export(CLI::App& root) {
  auto o = std::make_shared<ExportCmdOptions>();
  auto* cmd =
      root.add_subcommand("export", "Write a table or a query's result as CSV, TSV or JSON lines");
  cmd->add_option("--db", o->db, "Database: sqlite:PATH or postgres://...")->required();
  cmd->add_option("--table", o->table, "A table or view, e.g. sessions");
  cmd->add_option("--sql", o->sql, "One SQL query");
  cmd->add_option("--format", o->format, "csv (default), tsv or jsonl");
  cmd->add_option("-o,--output", o->output, "Output file (default stdout)");
  cmd->add_flag("--no-header", o->no_header, "No header line (csv, tsv)");
  cmd->callback([o] { exit_code() = run_export(*o); });
}

}  // namespace furrow::app
