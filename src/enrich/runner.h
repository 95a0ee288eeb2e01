// The streaming engine behind `furrow enrich`: one reader, N workers, one writer, joined by a
// fixed ring of batches. Memory is bounded by (ring size x batch size); output keeps input order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "enrich/pipeline.h"

namespace furrow::enrich {

// Totals of one run. Every record the reader delivers is either a payload or skipped (a header or
// blank line that carries nothing). Each payload yields `good + bad` outputs: one per tracked
// event, or exactly one bad row when the payload is rejected as a whole. So, by construction,
// events() == good + bad always holds and nothing is lost silently.
struct RunCounts {
  uint64_t records = 0;   // records the reader delivered
  uint64_t payloads = 0;  // records that were payloads
  uint64_t skipped = 0;   // records that were not payloads (records = payloads + skipped)
  uint64_t good = 0;      // enriched TSV lines written
  uint64_t bad = 0;       // bad rows written
  uint64_t events() const { return good + bad; }
  void add(const RunCounts& o) {
    records += o.records;
    payloads += o.payloads;
    skipped += o.skipped;
    good += o.good;
    bad += o.bad;
  }
};

// The records' text of a batch: a growable byte buffer (like std::string) whose spare capacity a
// reader can fill in place, e.g. read(2) straight into it, without zeroing it first.
class RecordText {
 public:
  RecordText() = default;
  RecordText(RecordText&&) noexcept = default;
  RecordText& operator=(RecordText&&) noexcept = default;

  const char* data() const { return buf_.get(); }
  char* data() { return buf_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  // Keeps the first `n` bytes (n <= size()).
  void truncate(std::size_t n) { size_ = n; }
  // Capacity for at least `n` bytes; keeps the contents.
  void reserve(std::size_t n) {
    if (n > cap_) reallocate(n);
  }
  void append(std::string_view s) {
    if (s.empty()) return;
    std::memcpy(spare(s.size()), s.data(), s.size());
    size_ += s.size();
  }
  // Room for `n` more bytes past size() (capacity grows geometrically); returns where they go.
  // Bytes written there become part of the text by commit(n).
  char* spare(std::size_t n) {
    if (cap_ - size_ < n) reallocate(std::max(size_ + n, cap_ * 2));
    return buf_.get() + size_;
  }
  void commit(std::size_t n) { size_ += n; }

 private:
  void reallocate(std::size_t n);
  std::unique_ptr<char[]> buf_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

// One block of input records, moved reader → worker → writer. The reader owns it while filling;
// buffers keep their capacity from one use to the next, so a steady run does not allocate.
struct RecordBatch {
  // Input, filled by the reader: record i is data[begins[i], ends[i]), in input order (a reader
  // may leave separators between records, e.g. the line reader reads lines in place); `lines[i]`
  // is its 1-based line (or record) number in the input, for error messages; `oversized[i]` marks
  // a record the reader had to cut at its size limit.
  RecordText data;
  std::vector<std::size_t> begins;
  std::vector<std::size_t> ends;
  std::vector<uint64_t> lines;
  std::vector<bool> oversized;
  // Total input bytes consumed up to the end of this batch (for progress display).
  uint64_t input_offset = 0;

  // Output, filled by a worker: '\n'-terminated lines.
  std::string good;
  std::string bad;
  RunCounts counts;

  std::size_t size() const { return ends.size(); }
  std::string_view record(std::size_t i) const {
    return std::string_view(data.data() + begins[i], ends[i] - begins[i]);
  }
  void add_record(std::string_view rec, uint64_t line, bool cut = false) {
    begins.push_back(data.size());
    data.append(rec);
    ends.push_back(data.size());
    lines.push_back(line);
    oversized.push_back(cut);
  }
  void clear_input() {
    data.clear();
    begins.clear();
    ends.clear();
    lines.clear();
    oversized.clear();
  }
  // Before a worker writes the batch's outputs. Reserves room for the good lines, about the size
  // of the input (enriched TSV of tracker traffic is ~0.8x its base64 Thrift lines), so that the
  // first batches of each slot do not grow `good` by doubling, copying it each time; the capacity
  // is kept for the slot's next batches, and unused room is never touched.
  void clear_output() {
    good.clear();
    bad.clear();
    counts = {};
    const std::size_t want = data.size() + data.size() / 4;
    if (good.capacity() < want) good.reserve(want);
  }
};

// Turns one input record into outputs. Implementations are immutable and shared by all workers;
// they must not throw on bad input (bad input becomes a bad row).
class RecordProcessor {
 public:
  virtual ~RecordProcessor() = default;
  // Appends the record's results to `out`. Returns false when the record is not a payload (e.g. a
  // log header line) and then leaves `out` empty. `oversized` says the reader cut the record.
  virtual bool process(std::string_view record, uint64_t line, bool oversized,
                       Output& out) const = 0;
};

struct RunnerConfig {
  // Worker threads; 0 = std::thread::hardware_concurrency().
  unsigned threads = 0;
  // Batches in flight (ring size); 0 = 4 per worker + 2. Peak memory ~ ring x batch size.
  std::size_t ring_batches = 0;
  // Let each worker compute the MD5 event fingerprints of a batch's good lines together
  // at the end of the batch (Output::deferred_md5); the output is the same.
  bool defer_fingerprints = false;
};

// Fills `batch` (already cleared) with the next records. Sets `eof` at the end of the input. A
// returned error stops the run (I/O error); its message names the file.
using ReadFn = std::function<Status(RecordBatch& batch, bool& eof)>;
// Writes a processed batch's outputs, in input order; called from one thread only. An error stops
// the run (e.g. disk full).
using WriteFn = std::function<Status(const RecordBatch& batch)>;

// Runs reader, workers and writer until the input ends or an error occurs. `totals` holds what was
// written, also on error. Never throws; an exception from `processor` is reported as an error.
Status run_stream(const RunnerConfig& config, const RecordProcessor& processor, const ReadFn& read,
                  const WriteFn& write, RunCounts& totals);

}  // namespace furrow::enrich
