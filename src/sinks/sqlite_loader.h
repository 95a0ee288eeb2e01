// The SQLite loader: WAL mode (readers are never blocked by a loading transaction), prepared
// INSERT OR IGNORE statements of up to 16 events each, one IMMEDIATE transaction per batch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "sinks/loader.h"

struct sqlite3;

namespace furrow::sinks {

Result<std::unique_ptr<Loader>> open_sqlite_loader(const std::string& path,
                                                   const LoaderOptions& options);

// Connection settings for a long-running loader (furrow run). The defaults are SQLite's.
struct SqliteTuning {
  // Page cache of the loader's connection, in KiB (SQLite's default is 2000). The unique event-id
  // index takes inserts at random places, so its inner pages should stay cached.
  int cache_kib = 2000;
  // WAL pages after which a commit also checkpoints (SQLite's default 1000); 0: never from the
  // loader, so another connection must checkpoint (sqlite_checkpoint) or the WAL grows.
  int wal_autocheckpoint_pages = 1000;
  // When another connection holds the write lock, retry every millisecond (up to the 30 s busy
  // timeout) instead of SQLite's backoff, whose sleeps grow to 100 ms: a loader waiting behind a
  // short model or rollup transaction then starts within a millisecond of its end.
  bool eager_busy_retry = false;
};
Result<std::unique_ptr<Loader>> open_sqlite_loader(const std::string& path,
                                                   const LoaderOptions& options,
                                                   const SqliteTuning& tuning);

// A PASSIVE checkpoint on `db` (never blocks the writer or readers; copies what it can from the
// WAL into the database, and the next writer restarts the WAL when all of it was copied).
// `wal_pages` gets the WAL's size in pages, `copied` how many of them are in the database now.
Status sqlite_checkpoint(sqlite3* db, int& wal_pages, int& copied);
void close_sqlite_database(sqlite3* db);

// Bounds the memory all SQLite connections of the process use together (page caches are
// recycled above it; sqlite3_soft_heap_limit64). 0: no limit.
void limit_sqlite_memory(int64_t bytes);
// Bytes SQLite has allocated at most so far in this process (sqlite3_memory_highwater).
int64_t sqlite_memory_highwater();

// Opens (creating if needed) a database for loading or querying: WAL journal, synchronous=NORMAL
// (a committed batch survives a process crash; an OS crash may lose the last batches, which a
// replay restores), a 30 s busy timeout. Then creates or migrates the atomic schema.
Result<sqlite3*> open_sqlite_database(const std::string& path);

// Runs `sql` (one or more statements without results); the error names the statement.
Status sqlite_exec(sqlite3* db, const std::string& sql);

}  // namespace furrow::sinks
