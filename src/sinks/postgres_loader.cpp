#include "sinks/postgres_loader.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>

#include "sinks/pg_copy.h"

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
  bool encodes_events() const override { return true; }

  // Streams each event into an open COPY as soon as it is parsed, so the server works while the
  // rest of the batch is read; the line is kept to write the batch again if need be. The COPY is
  // binary until an event declines the binary encoding; then it starts over in text format for
  // the rest of the batch (pg_copy.h).
  Status event_parsed(std::string_view line, const EventFields& ev) override {
    lines_.append(line);
    line_ends_.push_back(lines_.size());
    if (broken_) return Status::Ok();  // write_batch starts over
    Status st;
    if (!copy_open_) {
      st = begin_batch();
      if (st) st = start_copy("atomic_events");
      if (!st) {
        broken_ = true;
        return st;
      }
    }
    if (!append_row(ev)) {
      st = restart_as_text(line_ends_.size());
    } else if (copy_.size() >= kSendChunk) {
      st = send_copy();
    }
    if (!st) {
      broken_ = true;
      return st;
    }
    ++streamed_;
    return st;
  }

  Status write_batch(const FileRecord* file, BatchResult& result) override {
    Status st = write_rows(file, result);
    if (st) st = pg_exec(conn_, "COMMIT");
    if (!st) {
      abort_batch();
      result = {};
    } else {
      // The batch is committed: its lines are no longer needed.
      lines_.clear();
      line_ends_.clear();
    }
    reset();
    return st;
  }

 private:
  static constexpr std::size_t kSendChunk = 256 << 10;

  void reset() {
    in_txn_ = copy_open_ = broken_ = false;
    binary_ = true;
    streamed_ = 0;
    copy_.clear();
  }

  // Ends an open COPY with an error, so the server discards what it received.
  void abandon_copy() {
    if (!copy_open_) return;
    copy_open_ = false;
    PQputCopyEnd(conn_, "batch abandoned");
    while (PGresult* r = PQgetResult(conn_)) PQclear(r);
  }

  // Leaves whatever is open (COPY, transaction) without committing anything.
  void abort_batch() {
    abandon_copy();
    if (in_txn_) PQclear(PQexec(conn_, "ROLLBACK"));
    reset();
  }

  // BEGIN, a load_batches row (its id goes into every event row), and a savepoint to return to
  // when the direct COPY meets an event that is already loaded.
  Status begin_batch() {
    Status st = pg_exec(conn_, "BEGIN");
    if (!st) return st;
    in_txn_ = true;
    PGresult* raw = nullptr;
    st = exec_params(conn_, "INSERT INTO load_batches (source) VALUES ($1) RETURNING load_id",
                     {&options().source}, PGRES_TUPLES_OK, &raw);
    if (!st) return st;
    load_id_.assign(PQgetvalue(raw, 0, 0));
    PQclear(raw);
    load_id_num_ = std::strtoll(load_id_.c_str(), nullptr, 10);
    return pg_exec(conn_, "SAVEPOINT furrow_copy");
  }

  // Starts COPY into `table` in the batch's format (binary_); copy_ must be empty.
  Status start_copy(const char* table) {
    std::string sql = "COPY ";
    sql += table;
    sql += " (" + atomic_column_list() + ") FROM STDIN";
    if (binary_) sql += " (FORMAT binary)";
    Res start(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(start.r) != PGRES_COPY_IN) return pg_error(conn_, "start COPY", start.r);
    copy_open_ = true;
    if (binary_) copy_ += pg_binary_copy_header();
    return Status::Ok();
  }

  // The streamed binary COPY into atomic_events met an event the binary encoding declines: drop
  // it (back to the savepoint) and COPY events [0, upto) again in text format.
  Status restart_as_text(std::size_t upto) {
    abandon_copy();
    copy_.clear();
    binary_ = false;
    Status st = pg_exec(conn_, "ROLLBACK TO SAVEPOINT furrow_copy");
    if (st) st = start_copy("atomic_events");
    for (std::size_t r = 0; st && r < upto; ++r) {
      append_row(stored_event(r));
      if (copy_.size() >= kSendChunk) st = send_copy();
    }
    return st;
  }

  Status send_copy() {
    if (!copy_.empty() && PQputCopyData(conn_, copy_.data(), static_cast<int>(copy_.size())) != 1) {
      return pg_error(conn_, "send COPY data");
    }
    copy_.clear();
    return Status::Ok();
  }

  // Sends the rest and ends the COPY; `sqlstate` receives the error's SQLSTATE.
  Status end_copy(std::string& sqlstate) {
    if (binary_) copy_ += pg_binary_copy_trailer();
    Status st = send_copy();
    if (!st) return st;
    copy_open_ = false;
    if (PQputCopyEnd(conn_, nullptr) != 1) return pg_error(conn_, "end COPY");
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

  // The fields of pending event `r`, from its stored line.
  const EventFields& stored_event(std::size_t r) {
    const std::size_t begin = r == 0 ? 0 : line_ends_[r - 1];
    split_enriched(std::string_view(lines_.data() + begin, line_ends_[r] - begin), stored_);
    return stored_;
  }

  // Appends `ev` to copy_ in the batch's format; false when the binary encoding declines it.
  bool append_row(const EventFields& ev) {
    if (binary_) return append_pg_binary_row(copy_, ev, load_id_num_);
    append_pg_text_row(copy_, ev, load_id_);
    return true;
  }

  // COPYs every pending event into `table` (COPY must not be open). The format is chosen before
  // the COPY starts: binary unless some event declines it.
  Status copy_all(const char* table, std::string& sqlstate) {
    copy_.clear();
    const std::size_t n = pending_events();
    if (binary_) {
      std::string probe;
      for (std::size_t r = 0; r < n && binary_; ++r) {
        probe.clear();
        binary_ = append_pg_binary_row(probe, stored_event(r), load_id_num_);
      }
    }
    Status st = start_copy(table);
    if (!st) return st;
    for (std::size_t r = 0; r < n; ++r) {
      append_row(stored_event(r));
      if (copy_.size() >= kSendChunk) {
        st = send_copy();
        if (!st) return st;
      }
    }
    return end_copy(sqlstate);
  }

  Status write_rows(const FileRecord* file, BatchResult& result) {
    const std::size_t n = pending_events();
    if (broken_ || (copy_open_ && streamed_ != n)) abort_batch();  // start the batch over
    Status st;
    if (!in_txn_) {
      st = begin_batch();
      if (!st) return st;
    }
    if (n > 0) {
      std::string sqlstate;
      st = copy_open_ ? end_copy(sqlstate) : copy_all("atomic_events", sqlstate);
      if (st) {
        result.inserted = n;
      } else if (sqlstate == "23505") {
        // Some events are loaded already (a replay): move the batch through staging instead.
        copy_.clear();
        st = pg_exec(conn_, "ROLLBACK TO SAVEPOINT furrow_copy");
        if (st) {
          st = pg_exec(conn_,
                       "CREATE TEMP TABLE IF NOT EXISTS furrow_stage (LIKE atomic_events) ON "
                       "COMMIT DELETE ROWS");
        }
        if (st) st = copy_all("furrow_stage", sqlstate);
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
                        &b.document, &load_id_},
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
                       {&file->digest, &file->name, &bytes, &lines, &load_id_}, PGRES_COMMAND_OK);
      if (!st) return st;
    }
    const std::string events = std::to_string(result.inserted);
    const std::string dups = std::to_string(n - result.inserted);
    const std::string bad = std::to_string(result.bad_rows);
    return exec_params(conn_,
                       "UPDATE load_batches SET events = $2, duplicates = $3, bad_rows = $4 WHERE "
                       "load_id = $1",
                       {&load_id_, &events, &dups, &bad}, PGRES_COMMAND_OK);
  }

  bool in_txn_ = false;     // BEGIN sent, batch row inserted, savepoint set
  bool copy_open_ = false;  // COPY atomic_events in progress
  bool broken_ = false;     // streaming failed; write_batch redoes the batch from scratch
  bool binary_ = true;      // this batch's COPYs use the binary format
  std::size_t streamed_ = 0;
  std::string load_id_;
  int64_t load_id_num_ = 0;
  PGconn* conn_;
  std::string copy_;  // COPY text not yet sent, reused
  // The pending batch's accepted lines, back to back; line_ends_[r] is where line r ends.
  std::string lines_;
  std::vector<std::size_t> line_ends_;
  EventFields stored_;
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
