#include "run/sqlite_handle.h"

#include <mutex>

namespace furrow::run {
namespace {

// Where the auto-extension puts the connection being opened on this thread (null: not asked).
thread_local sqlite3** t_capture = nullptr;

int capture_connection(sqlite3* db, char** /*error*/, const sqlite3_api_routines* /*api*/) {
  if (t_capture != nullptr && *t_capture == nullptr) *t_capture = db;
  return SQLITE_OK;
}

}  // namespace

Result<std::unique_ptr<storage::QueryStore>> open_store_with_handle(const std::filesystem::path& db,
                                                                    sqlite3*& handle) {
  static std::once_flag registered;
  static int reg_rc = SQLITE_OK;
  std::call_once(registered, [] {
    // SQLite's documented way to register an entry point of this signature.
    reg_rc = sqlite3_auto_extension(reinterpret_cast<void (*)()>(&capture_connection));
  });
  if (reg_rc != SQLITE_OK) return Error{"sqlite: cannot register the connection hook"};
  handle = nullptr;
  t_capture = &handle;
  auto store = storage::QueryStore::open("sqlite:" + db.string());
  t_capture = nullptr;
  if (!store.ok()) {
    handle = nullptr;
    return store.error();
  }
  if (handle == nullptr) return Error{"sqlite: the connection of " + db.string() + " was not seen"};
  return store;
}

}  // namespace furrow::run
