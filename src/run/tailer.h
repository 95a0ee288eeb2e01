// Follows the collector's raw log (format: sinks/raw_log_format.h) while it is being written, from
// a position (segment sequence + byte offset in that segment file) that a checkpoint can record.
//
// Contract: records are returned in log order, each exactly once per tailer; position() after a
// record is the position just past it, so a checkpoint holding that position resumes with the
// next record. Segments are read with plain reads (no whole-file load), so memory stays at one
// read buffer however large the segment. A torn tail of the newest segment is "not yet written":
// the tailer waits for it; a torn or corrupt frame in a segment that has a successor ends that
// segment (reported through errors()). Compressed (.seg.zst) segments are not followed: the raw
// log that `furrow run` writes keeps segments uncompressed and deletes them once consumed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace furrow::run {

struct LogPosition {
  uint64_t segment = 0;  // 0: before the first segment present
  uint64_t offset = 0;   // byte offset inside the segment file (the magic included)
  friend bool operator==(const LogPosition&, const LogPosition&) = default;
};

class RawLogTailer {
 public:
  // `dir` must exist. Reading starts at `from` (a position returned by position() earlier); a
  // position whose segment is gone starts at the oldest segment after it.
  RawLogTailer(std::filesystem::path dir, LogPosition from);
  ~RawLogTailer();
  RawLogTailer(const RawLogTailer&) = delete;
  RawLogTailer& operator=(const RawLogTailer&) = delete;

  enum class Next {
    kRecord,   // `record` holds one payload, valid until the next call
    kWait,     // nothing more has been written yet
    kProblem,  // a problem was recorded in errors(); call again to continue
  };
  Next next(std::string_view& record);

  LogPosition position() const { return pos_; }
  // Bytes of records consumed by this tailer (framing included), for lag accounting.
  uint64_t bytes_consumed() const { return consumed_; }
  const std::vector<std::string>& errors() const { return errors_; }

  // Total size of the log from `from` to its current end (what is still to read), in bytes.
  static uint64_t backlog_bytes(const std::filesystem::path& dir, LogPosition from);
  // Removes every segment file (plain or compressed) whose sequence is below `segment`.
  static void remove_segments_before(const std::filesystem::path& dir, uint64_t segment);

 private:
  bool open_segment(uint64_t seq);
  void close_segment();
  bool find_next_segment(uint64_t after, uint64_t& seq) const;
  bool fill();  // reads more of the open segment into buf_; false when nothing was added

  std::filesystem::path dir_;
  LogPosition pos_;
  int fd_ = -1;
  bool magic_checked_ = false;
  std::string buf_;  // bytes from file offset buf_start_
  uint64_t buf_start_ = 0;
  std::size_t buf_pos_ = 0;  // parse position inside buf_
  uint64_t consumed_ = 0;
  uint64_t skip_segment_ = 0;  // a segment without a valid header, passed over
  std::vector<std::string> errors_;
};

}  // namespace furrow::run
