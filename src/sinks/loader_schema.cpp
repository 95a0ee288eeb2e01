#include "sinks/loader_schema.h"

#include <array>

#include "event/enriched_event.h"

namespace furrow::sinks {
namespace {

using event::FieldKind;

// The entities the views expose as columns, by Iglu schema prefix (any 1-x-y version).
constexpr std::string_view kWebPagePrefix =
    "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-";
constexpr std::string_view kUaParserPrefix =
    "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-";

// SQLite: the first entity in `column` whose schema starts with `prefix`, field `key` of its data.
// CASE guards json_extract from array members that are not objects.
std::string sqlite_entity(std::string_view column, std::string_view prefix, std::string_view key,
                          std::string_view alias) {
  std::string s = "(SELECT json_extract(j.value, '$.data.";
  s += key;
  s += "') FROM json_each(e.";
  s += column;
  s += ", '$.data') AS j WHERE CASE WHEN j.type = 'object' THEN json_extract(j.value, '$.schema') "
       "END LIKE '";
  s += prefix;
  s += "%' LIMIT 1) AS ";
  s += alias;
  return s;
}

// PostgreSQL: the same through a lax jsonpath, which also tolerates a non-array `data`.
std::string pg_entity(std::string_view column, std::string_view prefix, std::string_view key,
                      std::string_view alias) {
  std::string s = "jsonb_path_query_first(e.";
  s += column;
  s += ", '$.data[*] ? (@.schema starts with \"";
  s += prefix;
  s += "\")') -> 'data' ->> '";
  s += key;
  s += "' AS ";
  s += alias;
  return s;
}

std::string entity_view(Dialect d) {
  auto entity = d == Dialect::kSqlite ? sqlite_entity : pg_entity;
  std::string s = "CREATE VIEW atomic_events_entities AS SELECT e.*, ";
  s += entity("contexts", kWebPagePrefix, "id", "page_view_id");
  s += ", ";
  s += entity("derived_contexts", kUaParserPrefix, "useragentFamily", "ua_family");
  s += ", ";
  s += entity("derived_contexts", kUaParserPrefix, "useragentMajor", "ua_major");
  s += ", ";
  s += entity("derived_contexts", kUaParserPrefix, "osFamily", "ua_os_family");
  s += ", ";
  s += entity("derived_contexts", kUaParserPrefix, "deviceFamily", "ua_device_family");
  s += " FROM atomic_events AS e";
  return s;
}

std::string atomic_ddl(Dialect d) {
  const auto& infos = event::field_infos();
  std::string s = "CREATE TABLE atomic_events (\n";
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    s += "  ";
    s += quote_ident(infos[i].name);
    s += ' ';
    s += column_type(d, i);
    const auto f = static_cast<event::Field>(i);
    if (f == event::Field::collector_tstamp || f == event::Field::event_id ||
        f == event::Field::v_collector || f == event::Field::v_etl) {
      s += " NOT NULL";
    }
    s += ",\n";
  }
  s += d == Dialect::kSqlite ? "  \"load_id\" INTEGER NOT NULL\n)"
                             : "  \"load_id\" bigint NOT NULL\n)";
  return s;
}

}  // namespace

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string column_type(Dialect d, std::size_t index) {
  const auto& info = event::field_infos()[index];
  const bool lite = d == Dialect::kSqlite;
  switch (info.kind) {
    case FieldKind::kString:
      if (lite) return "TEXT";
      if (static_cast<event::Field>(index) == event::Field::event_id) return "char(36)";
      return info.max_length > 0 ? "varchar(" + std::to_string(info.max_length) + ")" : "text";
    case FieldKind::kTimestamp:
      return lite ? "TEXT" : "timestamp";
    case FieldKind::kInt:
      return lite ? "INTEGER" : "integer";
    case FieldKind::kDecimal:
    case FieldKind::kFloat:
      return lite ? "REAL" : "double precision";
    case FieldKind::kBool01:
      return lite ? "INTEGER" : "boolean";
    case FieldKind::kJson:
      return lite ? "TEXT" : "jsonb";
  }
  return "TEXT";
}

std::size_t column_max_chars(std::size_t index) {
  static const std::array<std::size_t, event::kFieldCount> kMax = [] {
    std::array<std::size_t, event::kFieldCount> m{};
    for (std::size_t i = 0; i < event::kFieldCount; ++i) {
      const auto& info = event::field_infos()[i];
      m[i] = info.kind == FieldKind::kString ? info.max_length : 0;
    }
    return m;
  }();
  return kMax[index];
}

const std::string& atomic_column_list() {
  static const std::string kList = [] {
    std::string s;
    for (const auto& info : event::field_infos()) {
      s += quote_ident(info.name);
      s += ',';
    }
    s += "\"load_id\"";
    return s;
  }();
  return kList;
}

std::string schema_table_ddl() {
  return "CREATE TABLE IF NOT EXISTS furrow_schema (component varchar(64) PRIMARY KEY, version "
         "integer NOT NULL)";
}

std::vector<Migration> atomic_migrations(Dialect d) {
  const bool lite = d == Dialect::kSqlite;
  Migration v1{1, {}};
  auto& st = v1.statements;
  st.push_back(atomic_ddl(d));
  // Idempotency: one row per (event_id, event_fingerprint); a null fingerprint counts as one value.
  st.push_back(
      "CREATE UNIQUE INDEX atomic_events_event_key ON atomic_events (event_id, "
      "(coalesce(event_fingerprint, '')))");
  // Incremental models find new rows by load_id; PostgreSQL's recompute whole sessions.
  st.push_back("CREATE INDEX atomic_events_load_id ON atomic_events (load_id)");
  st.push_back("CREATE INDEX atomic_events_session ON atomic_events (domain_sessionid)");
  st.push_back("CREATE INDEX atomic_events_collector_tstamp ON atomic_events (collector_tstamp)");
  if (lite) {
    st.push_back(
        "CREATE TABLE load_batches (load_id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, source "
        "TEXT, events INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0, bad_rows "
        "INTEGER NOT NULL DEFAULT 0)");
    st.push_back(
        "CREATE TABLE bad_rows (row_hash TEXT PRIMARY KEY, schema TEXT, failure_type TEXT, "
        "processor TEXT, failure_tstamp TEXT, document TEXT NOT NULL, load_id INTEGER NOT NULL)");
    st.push_back(
        "CREATE TABLE loaded_files (digest TEXT PRIMARY KEY, name TEXT, bytes INTEGER, lines "
        "INTEGER, load_id INTEGER NOT NULL, loaded_at TEXT NOT NULL)");
  } else {
    st.push_back(
        "CREATE TABLE load_batches (load_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "started_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'), source text, events "
        "bigint NOT NULL DEFAULT 0, duplicates bigint NOT NULL DEFAULT 0, bad_rows bigint NOT NULL "
        "DEFAULT 0)");
    st.push_back(
        "CREATE TABLE bad_rows (row_hash char(64) PRIMARY KEY, schema text, failure_type text, "
        "processor text, failure_tstamp text, document jsonb NOT NULL, load_id bigint NOT NULL)");
    st.push_back(
        "CREATE TABLE loaded_files (digest char(64) PRIMARY KEY, name text, bytes bigint, lines "
        "bigint, load_id bigint NOT NULL, loaded_at timestamp NOT NULL DEFAULT (now() AT TIME "
        "ZONE 'UTC'))");
  }
  st.push_back(entity_view(d));
  // 2: SQLite drops the domain_sessionid index. Its session ids are random, so each commit of a
  // few thousand rows dirtied about as many of its leaf pages, each written whole to the WAL and
  // again by the checkpoint (sqlite_load_bench: 0.60 -> 0.36 WAL pages per row at 750k rows,
  // and a third of the loader's CPU per row); the SQLite models find a session's page views in
  // their own model_pv_events (storage/models.cpp). PostgreSQL keeps it: its models recompute
  // whole sessions from atomic_events. Version 2 exists on both so their versions stay equal.
  Migration v2{2, {}};
  if (lite) v2.statements.push_back("DROP INDEX IF EXISTS atomic_events_session");
  // 3: SQLite's unique key is led by collector_tstamp. Trackers send random v4 event ids, so a
  // key led by event_id put every insert on a random leaf page (sqlite_load_bench, random ids at
  // 500k rows: 0.84 WAL pages and 19.7 us of loader CPU per row; led by the rising timestamp:
  // 0.36 and 13.9). Its job is idempotency: a crash-restart replay of the raw log and a second
  // `furrow load` of a file bring the same enriched event again, with the same
  // collector_tstamp, and are still dropped; a tracker re-send (a new collector_tstamp) is kept as
  // a second row, as Snowplow's own loaders keep it. The key also serves the time-range queries,
  // so the separate collector_tstamp index goes. No v2 database can hold two rows with the new
  // key (the old one was stricter), so creating it cannot fail on duplicates. PostgreSQL keeps its
  // indexes; version 3 exists on both so their versions stay equal.
  Migration v3{3, {}};
  if (lite) {
    v3.statements.push_back(
        "CREATE UNIQUE INDEX atomic_events_key ON atomic_events (collector_tstamp, event_id, "
        "(coalesce(event_fingerprint, '')))");
    v3.statements.push_back("DROP INDEX IF EXISTS atomic_events_event_key");
    v3.statements.push_back("DROP INDEX IF EXISTS atomic_events_collector_tstamp");
  }
  return {v1, v2, v3};
}

}  // namespace furrow::sinks
