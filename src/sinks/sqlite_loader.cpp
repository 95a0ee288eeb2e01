#include "sinks/sqlite_loader.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <vector>

#include "sinks/pg_fields.h"

namespace furrow::sinks {
namespace {

Error sqlite_error(sqlite3* db, std::string_view what) {
  std::string msg = "sqlite: ";
  msg += what;
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return Error{std::move(msg)};
}

// A prepared statement owned for the loader's lifetime.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s); }
};

Status prepare(sqlite3* db, const std::string& sql, Stmt& out) {
  if (sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &out.s, nullptr) != SQLITE_OK) {
    return sqlite_error(db, "prepare " + sql.substr(0, 60));
  }
  return Status::Ok();
}

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  if (v.empty()) {
    sqlite3_bind_null(s, i);
  } else {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
}

// Busy handler: sleep 1 ms and retry, for up to kBusyTimeoutMs in total.
constexpr int kBusyTimeoutMs = 30'000;
int eager_busy(void*, int attempts) {
  if (attempts >= kBusyTimeoutMs) return 0;
  sqlite3_sleep(1);
  return 1;
}

Status migrate(sqlite3* db) {
  Status st = sqlite_exec(db, "BEGIN IMMEDIATE");
  if (!st) return st;
  auto fail = [db](Status s) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  };
  st = sqlite_exec(db, schema_table_ddl());
  if (!st) return fail(st);
  int version = 0;
  {
    Stmt q;
    st = prepare(db, "SELECT version FROM furrow_schema WHERE component = ?1", q);
    if (!st) return fail(st);
    bind_text(q.s, 1, kAtomicComponent);
    if (sqlite3_step(q.s) == SQLITE_ROW) version = sqlite3_column_int(q.s, 0);
  }
  if (version > kAtomicVersion) {
    return fail(Error{"database schema version " + std::to_string(version) +
                      " is newer than this furrow (" + std::to_string(kAtomicVersion) + ")"});
  }
  for (const auto& m : atomic_migrations(Dialect::kSqlite)) {
    if (m.version <= version) continue;
    for (const auto& sql : m.statements) {
      st = sqlite_exec(db, sql);
      if (!st) return fail(st);
    }
    Stmt up;
    st = prepare(db,
                 "INSERT INTO furrow_schema (component, version) VALUES (?1, ?2) ON CONFLICT "
                 "(component) DO UPDATE SET version = excluded.version",
                 up);
    if (!st) return fail(st);
    bind_text(up.s, 1, kAtomicComponent);
    sqlite3_bind_int(up.s, 2, m.version);
    if (sqlite3_step(up.s) != SQLITE_DONE) return fail(sqlite_error(db, "record schema version"));
  }
  return sqlite_exec(db, "COMMIT");
}

class SqliteLoader final : public Loader {
  // Parameters of one row of atomic_events: its 131 fields and load_id.
  static constexpr std::size_t kParamsPerRow = event::kFieldCount + 1;
  // Rows per INSERT statement, largest first, ending with 1. One statement step per row costs
  // SQLite about 7k instructions of its own (opening the table's and indexes' cursors, allocating
  // and freeing them and the record buffers, halting and resetting: this build has no lookaside
  // allocator), so consecutive rows go through a statement with many VALUES rows, which SQLite
  // inserts one after the other in one step: the same rows, in the same order, with the same OR
  // IGNORE (a row whose key an earlier row of the statement took is skipped as before).
  // (sqlite_load_bench, random ids, callgrind: add + flush 53.0k -> 44.8k instructions per row
  // with 16 rows; 45.3k with 8, 44.5k with 32.)
  static constexpr std::array<std::size_t, 3> kInsertRows = {16, 4, 1};
  struct Insert {
    Stmt stmt;
    // Which event parameters (row * kFieldCount + field) hold a value (not NULL) from the last use;
    // a fresh statement's parameters are all NULL.
    std::vector<uint8_t> bound;
  };

 public:
  SqliteLoader(sqlite3* db, const LoaderOptions& options)
      : Loader(Dialect::kSqlite, options), db_(db) {}
  // close_v2 defers the close until the statements (destroyed after this body) are finalized.
  ~SqliteLoader() override { sqlite3_close_v2(db_); }

  Status prepare_all() {
    Status st;
    for (std::size_t k = 0; k < kInsertRows.size(); ++k) {
      // INSERT OR IGNORE ... VALUES (?, ..., ?), (?, ...), ...: anonymous parameters are numbered
      // in order, so row r's field i is parameter r * kParamsPerRow + i + 1 and its load_id the
      // row's last. (Numbered ?NNN parameters cost SQLite a search per parameter when it prepares
      // the statement: 17M instructions for the 16-row statement.)
      std::string sql =
          "INSERT OR IGNORE INTO atomic_events (" + atomic_column_list() + ") VALUES ";
      for (std::size_t r = 0; r < kInsertRows[k]; ++r) {
        sql += r == 0 ? "(?" : ",(?";
        for (std::size_t i = 1; i < kParamsPerRow; ++i) sql += ",?";
        sql += ')';
      }
      st = prepare(db_, sql, inserts_[k].stmt);
      if (!st) return st;
      inserts_[k].bound.assign(kInsertRows[k] * event::kFieldCount, 0);
    }
    st = prepare(db_,
                 "INSERT INTO load_batches (started_at, source) VALUES (strftime('%Y-%m-%d "
                 "%H:%M:%f', 'now'), ?1)",
                 batch_);
    if (!st) return st;
    st = prepare(db_,
                 "INSERT OR IGNORE INTO bad_rows (row_hash, schema, failure_type, processor, "
                 "failure_tstamp, document, load_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 bad_);
    if (!st) return st;
    st = prepare(db_,
                 "INSERT OR IGNORE INTO loaded_files (digest, name, bytes, lines, load_id, "
                 "loaded_at) VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%d %H:%M:%f', 'now'))",
                 file_);
    if (!st) return st;
    return prepare(db_,
                   "UPDATE load_batches SET events = ?2, duplicates = ?3, bad_rows = ?4 WHERE "
                   "load_id = ?1",
                   done_);
  }

  Result<bool> file_loaded(std::string_view digest) override {
    Stmt q;
    Status st = prepare(db_, "SELECT 1 FROM loaded_files WHERE digest = ?1", q);
    if (!st) return st.error();
    bind_text(q.s, 1, digest);
    int rc = sqlite3_step(q.s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(db_, "look up loaded file");
    return rc == SQLITE_ROW;
  }

 protected:
  // Events are kept as their accepted lines (one append each) plus where each field lies in its
  // line, and bound from views into them when the batch is written: not as 131 owned strings per
  // event, and without splitting the line a second time.
  bool encodes_events() const override { return true; }
  Status event_parsed(std::string_view line, const EventFields& fields) override {
    lines_.append(line);
    line_ends_.push_back(lines_.size());
    // Field views point into `line` (Loader's contract), so their offsets fit the line's length,
    // which quick_accept_enriched and read_tsv bound to 32 bits.
    const std::size_t at = spans_.size();
    spans_.resize(at + event::kFieldCount);
    FieldSpan* out = spans_.data() + at;
    for (std::size_t i = 0; i < event::kFieldCount; ++i) {
      out[i].offset = static_cast<uint32_t>(fields[i].data() - line.data());
      out[i].size = static_cast<uint32_t>(fields[i].size());
    }
    return Status::Ok();
  }

  Status write_batch(const FileRecord* file, BatchResult& result) override {
    Status st = sqlite_exec(db_, "BEGIN IMMEDIATE");
    if (!st) return st;
    st = write_rows(file, result);
    if (!st) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return st;
    }
    st = sqlite_exec(db_, "COMMIT");
    if (!st) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return st;
    }
    // Committed: the lines are no longer needed (on failure they are kept for the retry).
    lines_.clear();
    line_ends_.clear();
    spans_.clear();
    return st;
  }

 private:
  // Steps a statement that returns no rows, then resets it and clears its bindings.
  Status run(sqlite3_stmt* s, std::string_view what) {
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) return sqlite_error(db_, what);
    return Status::Ok();
  }

  // Binds field `field` of row `row` of insert statement `ins`. An empty value is NULL: a
  // parameter keeps its binding across sqlite3_reset, so it is only unbound when the statement's
  // previous use bound a value there (about 90 of the 131 fields of a typical event are empty, and
  // a bind_null costs as much as a bind_text). Every non-empty value is bound afresh, so after a
  // row's binds each of its parameters holds that row's value whatever was bound before.
  static void bind_value(Insert& ins, std::size_t row, std::size_t field, std::string_view v) {
    sqlite3_stmt* s = ins.stmt.s;
    const int param = static_cast<int>(row * kParamsPerRow + field + 1);
    const std::size_t slot = row * event::kFieldCount + field;
    if (v.empty()) {
      if (ins.bound[slot]) {
        sqlite3_bind_null(s, param);
        ins.bound[slot] = 0;
      }
      return;
    }
    ins.bound[slot] = 1;
    const char* b = v.data();
    const char* e = b + v.size();
    if (*b == '+') ++b;
    switch (event::field_infos()[field].kind) {
      case event::FieldKind::kInt:
      case event::FieldKind::kBool01: {
        int64_t n = 0;
        auto [p, ec] = std::from_chars(b, e, n);
        if (ec == std::errc() && p == e) {
          sqlite3_bind_int64(s, param, n);
          return;
        }
        break;
      }
      case event::FieldKind::kDecimal:
      case event::FieldKind::kFloat: {
        double d = 0;
        auto [p, ec] = std::from_chars(b, e, d);
        if (ec == std::errc() && p == e) {
          sqlite3_bind_double(s, param, d);
          return;
        }
        break;
      }
      default:
        break;
    }
    sqlite3_bind_text(s, param, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }

  // Inserts pending events [first, first + rows) with one step of the statement for `rows` rows.
  Status insert_rows(std::size_t k, std::size_t first, int64_t load_id, BatchResult& result) {
    Insert& ins = inserts_[k];
    const std::size_t rows = kInsertRows[k];
    for (std::size_t j = 0; j < rows; ++j) {
      const std::size_t r = first + j;
      const char* line = lines_.data() + (r == 0 ? 0 : line_ends_[r - 1]);
      const FieldSpan* spans = spans_.data() + r * event::kFieldCount;
      for (std::size_t i = 0; i < event::kFieldCount; ++i) {
        bind_value(ins, j, i, std::string_view(line + spans[i].offset, spans[i].size));
      }
      sqlite3_bind_int64(ins.stmt.s, static_cast<int>((j + 1) * kParamsPerRow), load_id);
    }
    const int rc = sqlite3_step(ins.stmt.s);
    sqlite3_reset(ins.stmt.s);
    if (rc != SQLITE_DONE) {
      const char* line = lines_.data() + (first == 0 ? 0 : line_ends_[first - 1]);
      const FieldSpan& id =
          spans_[first * event::kFieldCount + static_cast<std::size_t>(event::Field::event_id)];
      std::string what = "insert event " + std::string(line + id.offset, id.size);
      if (rows > 1) what += " and the " + std::to_string(rows - 1) + " after it";
      return sqlite_error(db_, what);
    }
    // Rows the OR IGNORE skipped (already loaded, or a duplicate earlier in the statement) are
    // not counted.
    result.inserted += static_cast<uint64_t>(sqlite3_changes(db_));
    return Status::Ok();
  }

  Status write_rows(const FileRecord* file, BatchResult& result) {
    bind_text(batch_.s, 1, options().source);
    Status st = run(batch_.s, "start load batch");
    if (!st) return st;
    const int64_t load_id = sqlite3_last_insert_rowid(db_);
    const std::size_t n = pending_events();
    // As many rows per statement as fit: the largest statement first, the rest by smaller ones.
    for (std::size_t r = 0, k = 0; r < n;) {
      while (n - r < kInsertRows[k]) ++k;
      st = insert_rows(k, r, load_id, result);
      if (!st) return st;
      r += kInsertRows[k];
    }
    for (const auto& b : pending_bad_rows()) {
      bind_text(bad_.s, 1, b.hash);
      bind_text(bad_.s, 2, b.schema);
      bind_text(bad_.s, 3, b.failure_type);
      bind_text(bad_.s, 4, b.processor);
      bind_text(bad_.s, 5, b.failure_tstamp);
      bind_text(bad_.s, 6, b.document);
      sqlite3_bind_int64(bad_.s, 7, load_id);
      const int rc = sqlite3_step(bad_.s);
      sqlite3_reset(bad_.s);
      sqlite3_clear_bindings(bad_.s);
      if (rc != SQLITE_DONE) return sqlite_error(db_, "insert bad row");
      result.bad_rows += static_cast<uint64_t>(sqlite3_changes(db_));
    }
    if (file != nullptr) {
      bind_text(file_.s, 1, file->digest);
      bind_text(file_.s, 2, file->name);
      sqlite3_bind_int64(file_.s, 3, static_cast<int64_t>(file->bytes));
      sqlite3_bind_int64(file_.s, 4, static_cast<int64_t>(file->lines));
      sqlite3_bind_int64(file_.s, 5, load_id);
      st = run(file_.s, "record loaded file");
      if (!st) return st;
    }
    sqlite3_bind_int64(done_.s, 1, load_id);
    sqlite3_bind_int64(done_.s, 2, static_cast<int64_t>(result.inserted));
    sqlite3_bind_int64(done_.s, 3, static_cast<int64_t>(n - result.inserted));
    sqlite3_bind_int64(done_.s, 4, static_cast<int64_t>(result.bad_rows));
    return run(done_.s, "finish load batch");
  }

  sqlite3* db_;
  std::array<Insert, kInsertRows.size()> inserts_;
  Stmt batch_, bad_, file_, done_;
  // Where a field lies in its line.
  struct FieldSpan {
    uint32_t offset;
    uint32_t size;
  };
  std::string lines_;                   // the pending batch's event lines, back to back
  std::vector<std::size_t> line_ends_;  // where each line ends in lines_
  std::vector<FieldSpan> spans_;        // kFieldCount per pending line, in order
};

}  // namespace

Status sqlite_exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = "sqlite: ";
    msg += err != nullptr ? err : "error";
    msg += " in: ";
    msg += sql.substr(0, 80);
    sqlite3_free(err);
    return Error{std::move(msg)};
  }
  return Status::Ok();
}

Result<sqlite3*> open_sqlite_database(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(db, "open " + path);
    sqlite3_close_v2(db);
    return e;
  }
  sqlite3_busy_timeout(db, 30000);
  Status st = sqlite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  if (st) st = migrate(db);
  if (!st) {
    sqlite3_close_v2(db);
    return Error{path + ": " + st.message()};
  }
  return db;
}

Result<std::unique_ptr<Loader>> open_sqlite_loader(const std::string& path,
                                                   const LoaderOptions& options) {
  return open_sqlite_loader(path, options, SqliteTuning{});
}

Result<std::unique_ptr<Loader>> open_sqlite_loader(const std::string& path,
                                                   const LoaderOptions& options,
                                                   const SqliteTuning& tuning) {
  auto db = open_sqlite_database(path);
  if (!db) return db.error();
  const std::string pragmas =
      "PRAGMA cache_size=-" + std::to_string(std::max(tuning.cache_kib, 1)) +
      "; PRAGMA wal_autocheckpoint=" +
      std::to_string(std::max(tuning.wal_autocheckpoint_pages, 0)) +
      // Debian builds SQLite with SECURE_DELETE on, which among other things zeroes each new
      // page a second time (the pager already zeroed it): 1.5k instructions per row. This
      // connection never deletes a row (INSERT OR IGNORE, UPDATE of its own load_batches row), so
      // no deleted content is left behind because of it; connections that delete keep the default.
      "; PRAGMA secure_delete=OFF";
  if (Status st = sqlite_exec(*db, pragmas); !st) {
    sqlite3_close_v2(*db);
    return st.error();
  }
  if (tuning.eager_busy_retry) sqlite3_busy_handler(*db, eager_busy, nullptr);
  auto loader = std::make_unique<SqliteLoader>(*db, options);
  Status st = loader->prepare_all();
  if (!st) return st.error();
  return std::unique_ptr<Loader>(std::move(loader));
}

Status sqlite_checkpoint(sqlite3* db, int& wal_pages, int& copied) {
  wal_pages = copied = 0;
  const int rc =
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) return sqlite_error(db, "checkpoint");
  return Status::Ok();
}

void close_sqlite_database(sqlite3* db) {
  sqlite3_close_v2(db);
}

void limit_sqlite_memory(int64_t bytes) {
  sqlite3_soft_heap_limit64(bytes);
}

int64_t sqlite_memory_highwater() {
  return sqlite3_memory_highwater(0);
}

}  // namespace furrow::sinks
