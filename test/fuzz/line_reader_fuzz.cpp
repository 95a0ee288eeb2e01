// Fuzzes the line reader of `furrow enrich`: any bytes, read with small read blocks, batches and
// record limits chosen by the first input byte, must come out as the text split at '\n' (one
// trailing '\r' dropped unless the record was cut at the limit), in order, with the right line
// numbers and cut flags, and consumed() must end at the input's size. Records are read in place
// from the batch's buffer and bytes read past a full batch are carried over, so every limit and
// read size lands in the middle of lines, separators and cut records.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sources/line_reader.h"

namespace {

struct Want {
  std::vector<std::string> records;
  std::vector<bool> cut;
};

// The records as the spec of LineReader states them, written independently of its block logic.
Want split(std::string_view text, std::size_t limit) {
  Want w;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string rec(text.substr(start, end - start));
    const bool cut = rec.size() > limit;
    if (cut) {
      rec.resize(limit);
    } else if (!rec.empty() && rec.back() == '\r') {
      rec.pop_back();
    }
    w.records.push_back(std::move(rec));
    w.cut.push_back(cut);
    start = end + 1;
  }
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using furrow::sources::LineReader;
  if (size == 0) return 0;
  const uint8_t knobs = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  LineReader::Options opt;
  opt.read_block = std::size_t{1} + (knobs & 7) * 5;           // 1..36
  opt.batch_records = std::size_t{1} + ((knobs >> 3) & 3);     // 1..4
  opt.batch_bytes = std::size_t{1} + ((knobs >> 5) & 1) * 40;  // 1 or 41
  opt.max_record_bytes = (knobs >> 6) == 0 ? 8 << 20 : std::size_t{1} + (knobs >> 6) * 7;

  const int fd = ::memfd_create("line_reader_fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) {
      ::close(fd);
      return 0;
    }
    off += static_cast<std::size_t>(n);
  }
  auto reader = LineReader::open("/proc/self/fd/" + std::to_string(fd), opt);
  ::close(fd);  // the reader has its own descriptor
  if (!reader.ok()) __builtin_trap();

  const Want want = split(text, opt.max_record_bytes);
  std::size_t got = 0;
  uint64_t line = 0;
  bool eof = false;
  furrow::enrich::RecordBatch batch;  // reused, as the runner's ring reuses its batches
  for (int fills = 0; !eof; ++fills) {
    if (fills > static_cast<int>(size) * 2 + 4) __builtin_trap();  // no progress
    batch.clear_input();
    if (!(*reader)->fill(batch, eof).ok()) __builtin_trap();
    if (batch.size() > opt.batch_records) __builtin_trap();
    for (std::size_t i = 0; i < batch.size(); ++i, ++got) {
      if (got >= want.records.size() || batch.record(i) != want.records[got] ||
          batch.oversized[i] != want.cut[got] || batch.lines[i] != ++line)
        __builtin_trap();
    }
    if (batch.input_offset != (*reader)->consumed()) __builtin_trap();
  }
  if (got != want.records.size() || (*reader)->consumed() != text.size()) __builtin_trap();
  return 0;
}
