// Deferred event fingerprints (event_fingerprint_config with MD5): instead of hashing each event's
// preimage on its own, the enrichment keeps the preimage here and writes 32 placeholder characters
// into the column; the pipeline records where the event's good line put them; at the end of a
// batch resolve_all() hashes every kept preimage together (common::md5_many: eight per AVX2 pass)
// and writes the hex over the placeholders. An event that becomes a bad row instead gets its
// fingerprint on the spot (resolve_now), so every output carries the real digest.
//
// Opt-in per Output (Output::deferred_md5, set by the streaming runner); one per worker thread.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/md5_lanes.h"

namespace furrow::enrich {

class Enrichment;
class EventContext;

class DeferredMd5 {
 public:
  static constexpr std::size_t kHexSize = 32;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // For the enrichment: keeps a copy of `preimage`; returns the entry's number.
  std::size_t add(std::string_view preimage);
  // The same without the copy: room for `max` bytes after the kept preimages (valid until the next
  // call), into which the preimage is written; then commit(its size) returns the entry's number.
  char* reserve(std::size_t max);
  std::size_t commit(std::size_t size);
  // The entry's hex goes to text[offset, offset + 32) at resolve_all().
  void place(std::size_t entry, std::string& text, std::size_t offset);
  // Computes the entry's hex now into out[0..32) and drops the entry.
  void resolve_now(std::size_t entry, char* out);
  // Drops entries [n, size()): the output they were placed in was taken back.
  void truncate(std::size_t n);
  std::size_t size() const { return entries_.size(); }
  // Hashes every placed entry and writes its hex where it was placed; then empty. (An entry that
  // was neither placed nor resolved has no output to go to: it is dropped.)
  void resolve_all();

 private:
  struct Entry {
    std::size_t begin = 0, size = 0;  // the preimage in preimages_
    std::string* text = nullptr;      // where the hex goes (null: not placed, or resolved)
    std::size_t offset = 0;
  };
  std::vector<char> preimages_;  // [0, used_) kept; only grows, so reserve() costs no clearing
  std::size_t used_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::string_view> views_;  // resolve_all's working memory
  std::vector<std::size_t> which_;
  std::vector<common::Md5Digest> digests_;
};

// Whether a pipeline running `chain` (sorted by step) may defer fingerprints: no enrichment after
// event_fingerprint_config could read the column. Only those known not to (cookie and header
// extractors, IP lookups, IP anonymisation, PII pseudonymisation, whose fields exclude
// event_fingerprint) may follow it; any other later enrichment keeps deferral off.
bool fingerprint_deferrable(std::span<const Enrichment* const> chain);

// The pipeline's hooks, all no-ops unless the event's fingerprint was deferred:
// after the event's good line was appended to `text` from `line_begin` (no '\n' yet), records
// where its placeholder sits: event_fingerprint is the second-to-last column.
void place_deferred_md5(EventContext& ctx, std::string& text, std::size_t line_begin);
// Before a bad row of an event that got past the fingerprint step: writes the real fingerprint
// into the event's column and, when given, over the placeholder in `line` (its TSV line).
void settle_deferred_md5(EventContext& ctx, std::string* line = nullptr);

}  // namespace furrow::enrich
