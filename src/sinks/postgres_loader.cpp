#include "sinks/postgres_loader.h"

#include <libpq-fe.h>

#include <cstring>

namespace furrow::sinks {
namespace {

// Arbitrary constant identifying furrow's migration lock (pg_advisory_xact_lock).
constexpr int64_t kMigrationLock = 0x66757272'6f770001;

Error pg_error(PGconn* conn, std::string_view what, PGresult* res = nullptr) {
  std::string msg = "postgres: ";
  msg += what;
  msg += ": ";
  const char* m = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  if (m == nullptr || *m == '\0') m = PQerrorMessage(conn);
  msg += m;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return Error{std::move(msg)};
}

struct Res {
  PGresult* r = nullptr;
  explicit Res(PGresult* p) : r(p) {}
  ~Res() { PQclear(r); }
  Res(const Res&) = delete;
  Res& operator=(const Res&) = delete;
};

// Runs a statement with text parameters (values never enter the SQL text).
Status exec_params(PGconn* c, const char* sql, std::initializer_list<const std::string*> params,
                   ExecStatusType want, PGresult** keep = nullptr) {
  const char* values[16];
  int lengths[16];
  int n = 0;
  for (const std::string* p : params) {
    values[n] = p == nullptr || p->empty() ? nullptr : p->c_str();
    lengths[n] = p == nullptr ? 0 : static_cast<int>(p->size());
    ++n;
  }
  PGresult* r = PQexecParams(c, sql, n, nullptr, values, lengths, nullptr, 0);
  if (PQresultStatus(r) != want) {
    Error e = pg_error(c, std::string_view(sql).substr(0, 60), r);
    PQclear(r);
    return e;
  }
  if (keep != nullptr) {
    *keep = r;
  } else {
    PQclear(r);
  }
  return Status::Ok();
}

Status migrate(PGconn* c) {
  Status st = pg_exec(c, "BEGIN");
  if (!st) return st;
  auto fail = [c](Status s) {
    PQclear(PQexec(c, "ROLLBACK"));
    return s;
  };
  st = pg_exec(c, "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
  if (st) st = pg_exec(c, schema_table_ddl());
  if (!st) return fail(st);
  const std::string component(kAtomicComponent);
  PGresult* raw = nullptr;
  st = exec_params(c, "SELECT version FROM furrow_schema WHERE component = $1", {&component},
                   PGRES_TUPLES_OK, &raw);
  if (!st) return fail(st);
  Res res(raw);
  const int version = PQntuples(raw) > 0 ? std::atoi(PQgetvalue(raw, 0, 0)) : 0;
  if (version > kAtomicVersion) {
    return fail(Error{"database schema version " + std::to_string(version) +
                      " is newer than this furrow (" + std::to_string(kAtomicVersion) + ")"});
  }
  for (const auto& m : atomic_migrations(Dialect::kPostgres)) {
    if (m.version <= version) continue;
    for (const auto& sql : m.statements) {
      st = pg_exec(c, sql);
      if (!st) return fail(st);
    }
    const std::string v = std::to_string(m.version);
    st = exec_params(c,
                     "INSERT INTO furrow_schema (component, version) VALUES ($1, $2) ON CONFLICT "
                     "(component) DO UPDATE SET version = excluded.version",
                     {&component, &v}, PGRES_COMMAND_OK);
    if (!st) return fail(st);
  }
  return pg_exec(c, "COMMIT");
}

// Appends a value in COPY text format: backslash, tab, newline and CR escaped; null as \N.
void append_copy_value(std::string& out, const std::string& v) {
  if (v.empty()) {
    out += "\\N";
    return;
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    const char* esc = c == '\\'   ? "\\\\"
                      : c == '\t' ? "\\t"
                      : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r"
                                  : nullptr;
    if (esc == nullptr) continue;
    out.append(v, start, i - start);
    out += esc;
    start = i + 1;
  }
  out.append(v, start, std::string::npos);
}

class PostgresLoader final : public Loader {
 public:
  PostgresLoader(PGconn* conn, const LoaderOptions& options)
      : Loader(Dialect::kPostgres, options), conn_(conn) {}
  ~PostgresLoader() override { PQfinish(conn_); }

  Result<bool> file_loaded(std::string_view digest) override {
    const std::string d(digest);
    PGresult* raw = nullptr;
    Status st = exec_params(conn_, "SELECT 1 FROM loaded_files WHERE digest = $1", {&d},
                            PGRES_TUPLES_OK, &raw);
    if (!st) return st.error();
    Res r(raw);
    return PQntuples(raw) > 0;
  }

 protected:
  Status write_batch(const FileRecord* file, BatchResult& result) override {
    Status st = pg_exec(conn_, "BEGIN");
    if (!st) return st;
    st = write_rows(file, result);
    if (st) st = pg_exec(conn_, "COMMIT");
    if (!st) {
      PQclear(PQexec(conn_, "ROLLBACK"));
      result = {};
    }
    return st;
  }

 private:
  // COPYs copy_ into `table`; `sqlstate` receives the error's SQLSTATE.
  Status copy_into(const char* table, std::string& sqlstate) {
    std::string sql = "COPY ";
    sql += table;
    sql += " (" + atomic_column_list() + ") FROM STDIN";
    Res start(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(start.r) != PGRES_COPY_IN) return pg_error(conn_, "start COPY", start.r);
    constexpr std::size_t kChunk = 1 << 20;
    for (std::size_t off = 0; off < copy_.size(); off += kChunk) {
      const std::size_t n = std::min(kChunk, copy_.size() - off);
      if (PQputCopyData(conn_, copy_.data() + off, static_cast<int>(n)) != 1) {
        return pg_error(conn_, "send COPY data");
      }
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) return pg_error(conn_, "end COPY");
    Status st;
    while (PGresult* r = PQgetResult(conn_)) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK && st) {
        const char* code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        sqlstate = code != nullptr ? code : "";
        st = pg_error(conn_, "COPY", r);
      }
      PQclear(r);
    }
    return st;
  }

  void build_copy(const std::string& load_id) {
    copy_.clear();
    const std::size_t n = pending_events();
    for (std::size_t r = 0; r < n; ++r) {
      const auto& ev = pending_event(r);
      for (std::size_t i = 0; i < event::kFieldCount; ++i) {
        append_copy_value(copy_, ev.values[i]);
        copy_ += '\t';
      }
      copy_ += load_id;
      copy_ += '\n';
    }
  }

  Status write_rows(const FileRecord* file, BatchResult& result) {
    PGresult* raw = nullptr;
    Status st =
        exec_params(conn_, "INSERT INTO load_batches (source) VALUES ($1) RETURNING load_id",
                    {&options().source}, PGRES_TUPLES_OK, &raw);
    if (!st) return st;
    const std::string load_id = [&] {
      Res r(raw);
      return std::string(PQgetvalue(raw, 0, 0));
    }();
    const std::size_t n = pending_events();
    if (n > 0) {
      build_copy(load_id);
      std::string sqlstate;
      st = pg_exec(conn_, "SAVEPOINT furrow_copy");
      if (!st) return st;
      st = copy_into("atomic_events", sqlstate);
      if (st) {
        result.inserted = n;
      } else if (sqlstate == "23505") {
        // Some events are loaded already (a replay): move the batch through staging instead.
        st = pg_exec(conn_, "ROLLBACK TO SAVEPOINT furrow_copy");
        if (st) {
          st = pg_exec(conn_,
                       "CREATE TEMP TABLE IF NOT EXISTS furrow_stage (LIKE atomic_events) ON "
                       "COMMIT DELETE ROWS");
        }
        if (st) st = copy_into("furrow_stage", sqlstate);
        if (!st) return st;
        const std::string move = "INSERT INTO atomic_events (" + atomic_column_list() +
                                 ") SELECT " + atomic_column_list() +
                                 " FROM furrow_stage ON CONFLICT DO NOTHING";
        Res ins(PQexec(conn_, move.c_str()));
        if (PQresultStatus(ins.r) != PGRES_COMMAND_OK)
          return pg_error(conn_, "move staged events", ins.r);
        result.inserted = std::strtoull(PQcmdTuples(ins.r), nullptr, 10);
        st = pg_exec(conn_, "TRUNCATE furrow_stage");
        if (!st) return st;
      } else {
        return st;
      }
    }
    for (const auto& b : pending_bad_rows()) {
      PGresult* r = nullptr;
      st = exec_params(conn_,
                       "INSERT INTO bad_rows (row_hash, schema, failure_type, processor, "
                       "failure_tstamp, document, load_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON "
                       "CONFLICT DO NOTHING",
                       {&b.hash, &b.schema, &b.failure_type, &b.processor, &b.failure_tstamp,
                        &b.document, &load_id},
                       PGRES_COMMAND_OK, &r);
      if (!st) return st;
      result.bad_rows += std::strtoull(PQcmdTuples(r), nullptr, 10);
      PQclear(r);
    }
    if (file != nullptr) {
      const std::string bytes = std::to_string(file->bytes);
      const std::string lines = std::to_string(file->lines);
      st = exec_params(conn_,
                       "INSERT INTO loaded_files (digest, name, bytes, lines, load_id) VALUES ($1, "
                       "$2, $3, $4, $5) ON CONFLICT DO NOTHING",
                       {&file->digest, &file->name, &bytes, &lines, &load_id}, PGRES_COMMAND_OK);
      if (!st) return st;
    }
    const std::string events = std::to_string(result.inserted);
    const std::string dups = std::to_string(n - result.inserted);
    const std::string bad = std::to_string(result.bad_rows);
    return exec_params(conn_,
                       "UPDATE load_batches SET events = $2, duplicates = $3, bad_rows = $4 WHERE "
                       "load_id = $1",
                       {&load_id, &events, &dups, &bad}, PGRES_COMMAND_OK);
  }

  PGconn* conn_;
  std::string copy_;  // COPY text of the batch, reused
};

}  // namespace

Status pg_exec(PGconn* conn, const std::string& sql) {
  Res r(PQexec(conn, sql.c_str()));
  const auto s = PQresultStatus(r.r);
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) return pg_error(conn, sql.substr(0, 60), r.r);
  return Status::Ok();
}

Result<PGconn*> open_postgres_database(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    Error e = pg_error(c, "connect");
    PQfinish(c);
    return e;
  }
  Status st =
      PQsetClientEncoding(c, "UTF8") == 0 ? Status::Ok() : pg_error(c, "set client encoding");
  if (st) st = pg_exec(c, "SET TIME ZONE 'UTC'; SET client_min_messages = warning");
  if (st) st = migrate(c);
  if (!st) {
    PQfinish(c);
    return st.error();
  }
  return c;
}

Result<std::unique_ptr<Loader>> open_postgres_loader(const std::string& url,
                                                     const LoaderOptions& options) {
  auto c = open_postgres_database(url);
  if (!c) return c.error();
  return std::unique_ptr<Loader>(std::make_unique<PostgresLoader>(*c, options));
}

}  // namespace furrow::sinks
