// The emitter's persistent queue: one SQLite table of event rows, oldest first. Not thread-safe
// (the Emitter serialises access). The database is held with an exclusive lock for the Outbox's
// lifetime, so two processes never send the same rows.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace furrow::tracker::detail {

class Outbox {
 public:
  struct Row {
    std::int64_t id = 0;
    std::string payload;
  };

  // `path` empty = an in-memory database. nullptr + *error when it cannot be opened or is in use.
  static std::unique_ptr<Outbox> open(const std::string& path, std::string* error);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  bool add(const std::string& payload, std::string* error);
  // Up to `max_rows` oldest rows (replaces *rows).
  bool peek(std::size_t max_rows, std::vector<Row>* rows, std::string* error);
  bool remove(const std::vector<std::int64_t>& ids, std::string* error);
  std::size_t size() const { return size_; }

 private:
  explicit Outbox(sqlite3* db) : db_(db) {}
  bool prepare(std::string* error);
  std::string db_error(const char* what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace furrow::tracker::detail
