// The SQLite loader: WAL mode (readers are never blocked by a loading transaction), one prepared
// INSERT OR IGNORE per event, one IMMEDIATE transaction per batch.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "sinks/loader.h"

struct sqlite3;

namespace furrow::sinks {

Result<std::unique_ptr<Loader>> open_sqlite_loader(const std::string& path,
                                                   const LoaderOptions& options);

// Opens (creating if needed) a database for loading or querying: WAL journal, synchronous=NORMAL
// (a committed batch survives a process crash; an OS crash may lose the last batches, which a
// replay restores), a 30 s busy timeout. Then creates or migrates the atomic schema.
Result<sqlite3*> open_sqlite_database(const std::string& path);

// Runs `sql` (one or more statements without results); the error names the statement.
Status sqlite_exec(sqlite3* db, const std::string& sql);

}  // namespace furrow::sinks
