// Writing a query's result as CSV, TSV, JSON lines or a readable table (`furrow export`,
// `furrow query`). Output streams row by row (except the table, which needs column widths and
// keeps at most `max_rows`).
//
//   csv    RFC 4180: a header line; a field is quoted when it holds ',', '"', CR or LF (quotes
//          doubled); NULL is an empty field, an empty string is "".
//   tsv    a header line unless disabled; NULL is an empty field; '\\', TAB, LF and CR are written
//          as \\ \t \n \r, so every row is one line.
//   jsonl  one object per row, keys in column order; NULL is null; numeric columns are numbers.
//   table  aligned columns with a header, for people; long values are cut at 80 characters.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/query_store.h"

namespace furrow::storage {

enum class ExportFormat { kCsv, kTsv, kJsonl, kTable };
Result<ExportFormat> parse_export_format(std::string_view name);

struct ExportOptions {
  ExportFormat format = ExportFormat::kCsv;
  bool header = true;           // csv / tsv
  std::size_t max_rows = 1000;  // table only
};

// Runs `sql` and writes its result to `out`; `rows` receives the number of rows written.
Status export_query(QueryStore& store, std::string_view sql, const ExportOptions& options,
                    std::FILE* out, uint64_t* rows = nullptr);

// SELECT * FROM "table" (the name is quoted, never spliced).
std::string select_all(std::string_view table);

}  // namespace furrow::storage
