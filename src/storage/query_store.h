// The query interface over a loaded database (SQLite or PostgreSQL) that data models, exports,
// `furrow query` and the dashboard use. Values come back as text in one canonical form for both
// databases, so the same query gives byte-identical output on either:
//   integers in decimal; floating point as the shortest text that round-trips (std::to_chars);
//   booleans as 1 / 0 (as in the enriched TSV); timestamps as `yyyy-MM-dd HH:mm:ss.SSS`;
//   everything else as stored. NULL is a separate flag, never a magic string.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sinks/loader_schema.h"

namespace furrow::storage {

using sinks::Dialect;

// How a result column is rendered where the type matters (JSON output).
enum class ValueKind { kNumber, kText };

struct Column {
  std::string name;
  ValueKind kind = ValueKind::kText;
};

struct Cell {
  bool null = true;
  std::string_view text;  // valid during the row callback only
};

// Called once with the columns, then once per row; return false from on_row to stop early.
struct RowHandler {
  std::function<void(const std::vector<Column>&)> on_columns;
  std::function<bool(const std::vector<Cell>&)> on_row;
};

class QueryStore {
 public:
  virtual ~QueryStore() = default;
  // `sqlite:PATH` or `postgres://...`. Creates or migrates the atomic schema, so a fresh database
  // can be queried (and modelled) at once.
  static Result<std::unique_ptr<QueryStore>> open(std::string_view url);

  virtual Dialect dialect() const = 0;
  // One statement; `params` bind to ?1.. (SQLite) / $1.. (PostgreSQL) as text. Rows stream to
  // `handler` (PostgreSQL in single-row mode), so result size does not bound memory.
  virtual Status query(std::string_view sql, const std::vector<std::string>& params,
                       const RowHandler& handler) = 0;
  // One or more statements without results.
  virtual Status exec(std::string_view sql) = 0;

  // Convenience: the first column of the first row (empty when no row or NULL).
  Result<std::string> scalar(std::string_view sql, const std::vector<std::string>& params = {});
};

// Shortest round-trip text of a double (std::to_chars).
std::string format_double(double v);

}  // namespace furrow::storage
