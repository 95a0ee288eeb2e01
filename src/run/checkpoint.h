// The enrich-and-load checkpoint of `furrow run`: the raw-log position up to which every record
// is committed in SQLite. Written only after the SQLite commit (write to a temporary file, fsync,
// rename, fsync the directory), so after a crash the checkpoint is never ahead of the database;
// records between it and the crash are replayed and the loader's idempotence drops the repeats.
#pragma once

#include <filesystem>

#include "common/result.h"
#include "run/tailer.h"

namespace furrow::run {

// Missing file: {0, 0} (start of the log). A file that is not a checkpoint is an error.
Result<LogPosition> read_checkpoint(const std::filesystem::path& file);
Status write_checkpoint(const std::filesystem::path& file, LogPosition pos);

}  // namespace furrow::run
