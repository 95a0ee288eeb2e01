// Minimal RAII over the SQLite C API for the dashboard: a connection with a cache of prepared
// statements (keyed by the SQL text, which callers pass as string constants) and a cursor that
// resets its statement when it goes out of scope, so a cached statement is always reusable.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace furrow::dashboard {

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binding: indexes are 1-based as in SQLite; strings are copied (SQLITE_TRANSIENT).
  void bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  // An empty blob binds as a zero-length blob, never as NULL.
  void bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void bind_null(int i) { sqlite3_bind_null(s_, i); }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  double dbl(int col) const { return sqlite3_column_double(s_, col); }
  // Text or blob bytes of a column, valid until the next step() (empty for NULL).
  std::string_view text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(s_, col));
    const int n = sqlite3_column_bytes(s_, col);
    return p ? std::string_view(p, static_cast<std::size_t>(n)) : std::string_view();
  }
  sqlite3_stmt* raw() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

class Conn {
 public:
  // Opens `path` read-only (readers of a WAL database) or read-write (creating it).
  static Result<std::unique_ptr<Conn>> open(const std::filesystem::path& path, bool read_only);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // The cached statement for `sql`, or an error naming the SQLite message.
  Result<std::unique_ptr<Stmt>> prepare(std::string_view sql);
  Status exec(const char* sql);
  std::string last_error() const { return sqlite3_errmsg(db_); }
  sqlite3* raw() const { return db_; }

 private:
  explicit Conn(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace furrow::dashboard
