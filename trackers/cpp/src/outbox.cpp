#include "outbox.h"

namespace furrow::tracker::detail {

namespace {

bool exec(sqlite3* db, const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    *error = std::string(sql) + ": " + (msg ? msg : "unknown error");
    sqlite3_free(msg);
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Outbox> Outbox::open(const std::string& path, std::string* error) {
  sqlite3* db = nullptr;
  const std::string name = path.empty() ? ":memory:" : path;
  const int rc = sqlite3_open_v2(
      name.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    *error = "outbox " + name + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<Outbox> box(new Outbox(db));
  sqlite3_busy_timeout(db, 200);
  // Exclusive locking: the first write takes the lock and keeps it until close, so a second
  // process on the same file fails here instead of sending the same rows. WAL + NORMAL: a commit
  // survives the process dying (not necessarily a power cut) without an fsync per event.
  std::string e;
  if (!exec(db, "PRAGMA locking_mode=EXCLUSIVE", &e) || !exec(db, "PRAGMA journal_mode=WAL", &e) ||
      !exec(db, "PRAGMA synchronous=NORMAL", &e) || !exec(db, "BEGIN IMMEDIATE", &e) ||
      !exec(db,
            "CREATE TABLE IF NOT EXISTS furrow_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "payload TEXT NOT NULL)",
            &e) ||
      !exec(db, "COMMIT", &e)) {
    *error = "outbox " + name + ": " + e;
    if (sqlite3_errcode(db) == SQLITE_BUSY || sqlite3_errcode(db) == SQLITE_LOCKED)
      *error += " (is another process using this outbox?)";
    return nullptr;
  }
  if (!box->prepare(error)) return nullptr;
  return box;
}

Outbox::~Outbox() {
  sqlite3_finalize(insert_);
  sqlite3_finalize(select_);
  sqlite3_finalize(delete_);
  sqlite3_close(db_);
}

std::string Outbox::db_error(const char* what) const {
  return std::string("outbox ") + what + ": " + sqlite3_errmsg(db_);
}

bool Outbox::prepare(std::string* error) {
  if (sqlite3_prepare_v2(db_, "INSERT INTO furrow_outbox (payload) VALUES (?)", -1, &insert_,
                         nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "SELECT id, payload FROM furrow_outbox ORDER BY id LIMIT ?", -1,
                         &select_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "DELETE FROM furrow_outbox WHERE id = ?", -1, &delete_, nullptr) !=
          SQLITE_OK) {
    *error = db_error("prepare");
    return false;
  }
  sqlite3_stmt* count = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM furrow_outbox", -1, &count, nullptr) !=
          SQLITE_OK ||
      sqlite3_step(count) != SQLITE_ROW) {
    *error = db_error("count");
    sqlite3_finalize(count);
    return false;
  }
  size_ = static_cast<std::size_t>(sqlite3_column_int64(count, 0));
  sqlite3_finalize(count);
  return true;
}

bool Outbox::add(const std::string& payload, std::string* error) {
  sqlite3_reset(insert_);
  sqlite3_bind_text(insert_, 1, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
  const bool ok = sqlite3_step(insert_) == SQLITE_DONE;
  if (!ok) *error = db_error("insert");
  sqlite3_reset(insert_);
  sqlite3_clear_bindings(insert_);
  if (ok) ++size_;
  return ok;
}

bool Outbox::peek(std::size_t max_rows, std::vector<Row>* rows, std::string* error) {
  rows->clear();
  sqlite3_reset(select_);
  sqlite3_bind_int64(select_, 1, static_cast<sqlite3_int64>(max_rows));
  int rc;
  while ((rc = sqlite3_step(select_)) == SQLITE_ROW) {
    Row r;
    r.id = sqlite3_column_int64(select_, 0);
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(select_, 1));
    r.payload.assign(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(select_, 1)));
    rows->push_back(std::move(r));
  }
  const bool ok = rc == SQLITE_DONE;
  if (!ok) *error = db_error("select");
  // An empty answer means an empty table: keep the count honest so the sender cannot spin on a
  // count that no longer matches the file.
  if (ok && rows->empty() && max_rows > 0) size_ = 0;
  sqlite3_reset(select_);
  return ok;
}

bool Outbox::remove(const std::vector<std::int64_t>& ids, std::string* error) {
  std::string e;
  if (!exec(db_, "BEGIN", &e)) {
    *error = "outbox " + e;
    return false;
  }
  std::size_t removed = 0;
  for (auto id : ids) {
    sqlite3_reset(delete_);
    sqlite3_bind_int64(delete_, 1, id);
    if (sqlite3_step(delete_) != SQLITE_DONE) {
      *error = db_error("delete");
      sqlite3_reset(delete_);
      exec(db_, "ROLLBACK", &e);
      return false;
    }
    removed += static_cast<std::size_t>(sqlite3_changes(db_));
  }
  sqlite3_reset(delete_);
  if (!exec(db_, "COMMIT", &e)) {
    *error = "outbox " + e;
    exec(db_, "ROLLBACK", &e);
    return false;
  }
  size_ -= removed;
  return true;
}

}  // namespace furrow::tracker::detail
