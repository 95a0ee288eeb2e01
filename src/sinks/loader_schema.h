// The tables furrow's loaders write, for SQLite and PostgreSQL (spec 3.1): `atomic_events` with the
// 131 enriched columns plus `load_id`, `bad_rows`, `load_batches`, `loaded_files`, the entity views
// and the schema-version table that drives migrations. Shared by the loaders (sinks) and by the
// query layer and data models (storage).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace furrow::sinks {

enum class Dialect { kSqlite, kPostgres };

// The column type of enriched field `index` (0-based) in `dialect`. PostgreSQL follows Snowplow's
// Postgres DDL with three deliberate differences, all so that every event enrich accepts loads and
// reads back unchanged: varchar lengths are enrich's limits (some DDL lengths are shorter), char(n)
// columns other than event_id are varchar(n) (char pads with spaces), and decimals are double
// precision (as the modern Snowplow Postgres loader). The JSON columns are jsonb.
std::string column_type(Dialect dialect, std::size_t index);

// `"name"` with embedded quotes doubled: the only way identifiers reach SQL text.
std::string quote_ident(std::string_view name);

// The name of the schema component the loader owns in `furrow_schema`.
inline constexpr std::string_view kAtomicComponent = "atomic";
// Current version of that component; migrations() has one entry per version 1..kAtomicVersion.
inline constexpr int kAtomicVersion = 3;

// Migration `version` brings the schema from version-1 to version; each is run in one transaction
// together with the version bump.
struct Migration {
  int version;
  std::vector<std::string> statements;
};
std::vector<Migration> atomic_migrations(Dialect dialect);

// CREATE TABLE IF NOT EXISTS furrow_schema(component, version).
std::string schema_table_ddl();

// The column list `"app_id","platform",...,"true_tstamp","load_id"` of atomic_events, in order.
const std::string& atomic_column_list();

// Maximum length (in characters) the database column of field `index` holds; 0 = unlimited.
std::size_t column_max_chars(std::size_t index);

}  // namespace furrow::sinks
