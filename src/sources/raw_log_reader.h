// Reads the collector's durable raw log (format: sinks/raw_log_format.h): every record of one
// segment file (`.seg` or `.seg.zst`) or of a whole directory, segments in sequence order.
//
// A torn final record (a write cut short by a crash, or the segment still being written) ends
// that segment quietly. A corrupt record (bad checksum or length) ends that segment too and is
// reported through errors(); reading continues with the next segment. Never throws.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace furrow::sources {

class RawLogReader {
 public:
  // `path` is a raw log directory or one segment file. Fails when it does not exist, or when a
  // file is not a segment.
  static Result<std::unique_ptr<RawLogReader>> open(const std::filesystem::path& path);

  // The next record (a serialised CollectorPayload), valid until the next call; false at the end.
  bool next(std::string_view& record);

  // Problems met so far, one message each ("<file>: checksum mismatch at byte N", ...).
  const std::vector<std::string>& errors() const { return errors_; }
  uint64_t records_read() const { return records_; }
  // Segments whose last record was torn (normal for the newest segment of a live log).
  uint64_t torn_tails() const { return torn_; }

 private:
  RawLogReader() = default;
  bool load_next_segment();

  std::vector<std::filesystem::path> files_;
  std::size_t file_index_ = 0;
  std::string data_;
  std::string_view body_;
  std::size_t pos_ = 0;
  bool loaded_ = false;
  std::string current_;
  std::vector<std::string> errors_;
  uint64_t records_ = 0;
  uint64_t torn_ = 0;
};

}  // namespace furrow::sources
