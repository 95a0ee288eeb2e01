// The SQLite connection under a storage::QueryStore, for the one thing the query interface does
// not offer: a progress handler, through which furrow run's models thread gives its read
// snapshot back when it is starved (engine.h).
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "common/result.h"
#include "storage/query_store.h"

namespace furrow::run {

// Opens `sqlite:<db>` as QueryStore::open does and sets `handle` to its connection (valid while
// the store lives; the store still owns and closes it). Works by an SQLite auto-extension,
// registered once per process, that hands each connection opened on the calling thread during
// this call to it; connections opened meanwhile on other threads are left alone.
Result<std::unique_ptr<storage::QueryStore>> open_store_with_handle(const std::filesystem::path& db,
                                                                    sqlite3*& handle);

}  // namespace furrow::run
