// Fuzz target for the enriched-TSV reader (event::read_tsv). Properties: never crashes; a line it
// accepts is written back byte-identically by write_tsv and read again to the same event.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "event/tsv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  furrow::event::EnrichedEvent ev;
  std::string error;
  if (!furrow::event::read_tsv(line, ev, error)) {
    if (error.empty()) std::abort();  // a rejection must say why
    return 0;
  }
  std::string written;
  furrow::event::write_tsv(ev, written);
  std::string_view trimmed = line;
  if (!trimmed.empty() && trimmed.back() == '\n') trimmed.remove_suffix(1);
  if (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
  if (written != trimmed) std::abort();
  furrow::event::EnrichedEvent again;
  if (!furrow::event::read_tsv(written, again, error) || again.values != ev.values) std::abort();
  return 0;
}
