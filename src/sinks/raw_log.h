// The durable raw log: append-only segment files of framed CollectorPayloads (format in
// raw_log_format.h), rotated by size and age, sealed segments compressed with zstd in the
// background. Opening a directory recovers it: a torn final record is truncated (everything
// before it is kept) and segments left uncompressed by a crash are sealed and compressed.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "sinks/raw_sink.h"

namespace furrow::sinks {

struct RawLogOptions {
  std::filesystem::path dir;
  std::size_t segment_max_bytes = 64u << 20;
  std::chrono::seconds segment_max_age{300};
  bool compress = true;
  int zstd_level = 3;
  // Buffered durability only (never fsync mode): the writer's thread never waits for the disk.
  // sync() starts an fdatasync of everything written so far on a helper thread (over a dup of the
  // segment's descriptor) and returns at once; sealing a full or old segment hands its fsync to
  // that helper, which queues the compression afterwards; a new segment's directory entry is
  // synced there too. A slow sync (hundreds of ms on a busy disk) then no longer stops the writer
  // while the queue fills. A deferred sync that fails is reported by the next maintain(), which
  // abandons the segment it was for if that is still the current one. close() waits for every
  // deferred sync, so it still leaves everything durable.
  bool defer_syncs = false;
  // Fault injection for tests: run by the helper before each deferred sync; a non-zero errno
  // value makes that sync fail as a disk error would (the real sync is then skipped).
  std::function<int()> deferred_sync_fault;
};

// What opening the directory found and repaired.
struct RawLogRecovery {
  uint64_t segments_found = 0;
  uint64_t torn_bytes_truncated = 0;
  uint64_t records_recovered = 0;  // records kept in the segment that had to be repaired
};

// The backend only (used by a QueuedSink, or directly in tests). Not thread-safe.
class RawLogBackend : public SinkBackend {
 public:
  static Result<std::unique_ptr<RawLogBackend>> open(const RawLogOptions& options);
  ~RawLogBackend() override;

  Status write(const std::vector<std::string_view>& records) override;
  Status sync() override;
  Status maintain(std::chrono::steady_clock::time_point now) override;
  Status close() override;

  const RawLogRecovery& recovery() const { return recovery_; }

 private:
  explicit RawLogBackend(RawLogOptions options);
  Status recover();
  Status open_segment();
  Status seal_segment();
  void compress_worker();
  void sync_worker();
  // Reports (once) a deferred sync that failed; marks the current segment failed if it was its.
  Status take_deferred_error();
  Status rotate(std::chrono::steady_clock::time_point now);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  RawLogOptions options_;
  RawLogRecovery recovery_;
};

// A RawSink writing the raw log, with the queue/group-commit machinery of QueuedSink.
Result<std::unique_ptr<RawSink>> make_raw_log_sink(const RawLogOptions& log,
                                                   const QueuedSinkOptions& queue);

// Compresses one sealed segment `<seq>.seg` into `<seq>.seg.zst` (fsync'd, renamed into place)
// and removes the original. Exposed for tests.
Status compress_segment(const std::filesystem::path& segment, int level);

}  // namespace furrow::sinks
