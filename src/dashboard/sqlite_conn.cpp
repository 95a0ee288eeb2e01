#include "dashboard/sqlite_conn.h"

namespace furrow::dashboard {

Result<std::unique_ptr<Conn>> Conn::open(const std::filesystem::path& path, bool read_only) {
  sqlite3* db = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error{"cannot open " + path.string() + ": " + msg};
  }
  // The loader holds the write lock for a batch at a time; wait for it rather than fail.
  sqlite3_busy_timeout(db, 10000);
  return std::unique_ptr<Conn>(new Conn(db));
}

Conn::~Conn() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close(db_);
}

Result<std::unique_ptr<Stmt>> Conn::prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &s, nullptr) != SQLITE_OK) {
      return Error{std::string("SQLite: ") + sqlite3_errmsg(db_)};
    }
    it = cache_.emplace(std::string(sql), s).first;
  }
  return std::make_unique<Stmt>(it->second);
}

Status Conn::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Error{"SQLite: " + msg};
  }
  return Status::Ok();
}

}  // namespace furrow::dashboard
