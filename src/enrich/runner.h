// The streaming engine behind `furrow enrich`: one reader, N workers, one writer, joined by a
// fixed ring of batches. Memory is bounded by (ring size x batch size); output keeps input order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

// One block of input records, moved reader → worker → writer. The reader owns it while filling;
// buffers keep their capacity from one use to the next, so a steady run does not allocate.
struct RecordBatch {
  // Input, filled by the reader: records back to back in `data`, record i is
  // data[begin(i), ends[i]); `lines[i]` is its 1-based line (or record) number in the input, for
  // error messages; `oversized[i]` marks a record the reader had to cut at its size limit.
  std::string data;
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
    const std::size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(data).substr(begin, ends[i] - begin);
  }
  void add_record(std::string_view rec, uint64_t line, bool cut = false) {
    data.append(rec);
    ends.push_back(data.size());
    lines.push_back(line);
    oversized.push_back(cut);
  }
  void clear_input() {
    data.clear();
    ends.clear();
    lines.clear();
    oversized.clear();
  }
  void clear_output() {
    good.clear();
    bad.clear();
    counts = {};
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
  // (s10-md5) Let each worker compute the MD5 event fingerprints of a batch's good lines together
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
