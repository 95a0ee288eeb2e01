// Reads newline-separated input records (lines) for `furrow enrich` into runner batches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "enrich/runner.h"

namespace furrow::sources {

// Reads '\n'-separated records from a file descriptor in large blocks, straight into batches: each
// read(2) goes into the batch's own text, where the records stay in place (no copy of each line);
// only the bytes read past a full batch's last record are carried over to the next batch. A
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
  // Adds the record text[begin, end) as the next line's record.
  void add(enrich::RecordBatch& batch, std::size_t begin, std::size_t end, bool cut);
  // Hands out the line text[begin, end) ('\n' not included), cut at max_record_bytes or without
  // one trailing '\r'.
  void finish_line(enrich::RecordBatch& batch, std::size_t begin, std::size_t end);
  // How many bytes to ask read(2) for next (see fill).
  std::size_t read_size(const enrich::RecordBatch& batch, std::size_t begin) const;
  // read(2) of up to `n` bytes into the text's spare room; false on a read error.
  bool read_more(enrich::RecordText& text, std::size_t n, std::size_t& got);
  // Room reserved in a batch's text beyond batch_bytes (see fill).
  static constexpr std::size_t kLineRoom = 64 << 10;
  // Smallest read(2) asked for when the block size allows it.
  static constexpr std::size_t kMinRead = 8 << 10;

  int fd_;
  bool owned_;
  std::string name_;
  uint64_t size_;
  Options opt_;
  // Bytes read past the last record handed out (the start of the next line, or more): the next
  // fill begins its batch's text with them.
  std::string carry_;
  uint64_t line_ = 0;
  uint64_t consumed_ = 0;
  bool input_done_ = false;
};

}  // namespace furrow::sources
