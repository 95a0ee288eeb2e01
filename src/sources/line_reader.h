// Reads newline-separated input records (lines) for `furrow enrich` into runner batches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "enrich/runner.h"

namespace furrow::sources {

// Reads '\n'-separated records from a file descriptor in large blocks, straight into batches. A
// trailing '\r' is removed. A record longer than `max_record_bytes` is cut there (the rest of its
// line is skipped) and flagged oversized, so one huge line cannot exhaust memory.
class LineReader {
 public:
  struct Options {
    std::size_t batch_records = 512;
    std::size_t batch_bytes = 1 << 20;
    std::size_t max_record_bytes = 8 << 20;
    std::size_t read_block = 1 << 20;
  };
  // "-" is standard input. Errors name the file.
  static Result<std::unique_ptr<LineReader>> open(const std::string& path, Options options);
  static Result<std::unique_ptr<LineReader>> open(const std::string& path) {
    return open(path, Options{});
  }
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Appends the next records to `batch`; sets eof after the last one. Not thread-safe.
  Status fill(enrich::RecordBatch& batch, bool& eof);

  const std::string& name() const { return name_; }
  // Size of the input when it is a regular file, else 0.
  uint64_t size() const { return size_; }
  // Bytes consumed so far (records handed out).
  uint64_t consumed() const { return consumed_; }

 private:
  LineReader(int fd, bool owned, std::string name, uint64_t size, Options options);
  void finish_record(enrich::RecordBatch& batch);
  // Room reserved in a batch's text beyond batch_bytes (see fill).
  static constexpr std::size_t kLineRoom = 64 << 10;

  int fd_;
  bool owned_;
  std::string name_;
  uint64_t size_;
  Options opt_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  uint64_t line_ = 0;
  uint64_t consumed_ = 0;
  bool input_done_ = false;
  // The record being assembled at the end of batch.data.
  bool in_record_ = false;
  std::size_t record_len_ = 0;
  bool cut_ = false;
};

}  // namespace furrow::sources
