#include "sinks/pg_fields.h"

#include <cstdint>
#include <cstring>

#include "common/time_format.h"
#include "common/uuid.h"
#include "event/tsv.h"
#include "sinks/loader.h"
#include "sinks/loader_schema.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace furrow::sinks {
namespace {

using event::Field;
using event::FieldKind;

// The value checks are event::read_tsv's own (event/tsv.h); the equivalence test in
// loader_pg_fields_test.cpp holds the whole quick path to read_tsv + storable_value.

bool valid_json(std::string_view s) {
  std::string why;
  return event::valid_tsv_json(s, why);
}

// What the quick path checks per field, in one small table (not FieldInfo's names and limits).
struct FieldCheck {
  FieldKind kind;
  uint32_t max_chars;  // column_max_chars(): 0 = unlimited
};
const std::array<FieldCheck, event::kFieldCount>& field_checks() {
  static const std::array<FieldCheck, event::kFieldCount> kChecks = [] {
    std::array<FieldCheck, event::kFieldCount> c{};
    for (std::size_t i = 0; i < event::kFieldCount; ++i) {
      c[i] = {event::field_infos()[i].kind, static_cast<uint32_t>(column_max_chars(i))};
    }
    return c;
  }();
  return kChecks;
}

// Finds the tabs of `line` (into tabs[0 .. kFieldCount - 2]): true when there are exactly
// kFieldCount - 1 of them and no other byte below 0x20; `non_ascii` tells whether any byte has the
// high bit set.
bool find_tabs(std::string_view line, std::array<uint32_t, event::kFieldCount>& tabs,
               bool& non_ascii) {
  constexpr std::size_t kMaxTabs = event::kFieldCount - 1;
  const char* p = line.data();
  const std::size_t n = line.size();
  std::size_t count = 0;
  std::size_t i = 0;
  bool high = false;
#if defined(__SSE2__)
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i space = _mm_set1_epi8(0x20);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const unsigned hi = static_cast<unsigned>(_mm_movemask_epi8(v));
    unsigned t = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tab)));
    // Signed compare: bytes >= 0x80 are negative, so they are masked out with `hi`.
    const unsigned low = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(v, space)));
    if ((low & ~hi & ~t) != 0) return false;
    high |= hi != 0;
    while (t != 0) {
      if (count == kMaxTabs) return false;
      tabs[count++] = static_cast<uint32_t>(i + static_cast<std::size_t>(__builtin_ctz(t)));
      t &= t - 1;
    }
  }
#endif
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == '\t') {
      if (count == kMaxTabs) return false;
      tabs[count++] = static_cast<uint32_t>(i);
    } else if (c < 0x20) {
      return false;
    }
    high |= c >= 0x80;
  }
  non_ascii = high;
  return count == kMaxTabs;
}

}  // namespace

bool quick_accept_enriched(std::string_view line, EventFields& f, bool trusted_json) {
  if (line.size() > UINT32_MAX) return false;
  // The tabs, then the line's end as the last field's end.
  std::array<uint32_t, event::kFieldCount> ends;
  bool non_ascii = false;
  if (!find_tabs(line, ends, non_ascii)) return false;
  ends[event::kFieldCount - 1] = static_cast<uint32_t>(line.size());

  const auto& checks = field_checks();
  const char* const base = line.data();
  std::string why;
  uint32_t start = 0;
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    const std::string_view v(base + start, ends[i] - start);
    f[i] = v;
    start = ends[i] + 1;
    if (v.empty()) continue;
    const FieldCheck check = checks[i];
    switch (check.kind) {
      case FieldKind::kString:
        // ASCII: one byte per character; otherwise the exact check below.
        if (!non_ascii && check.max_chars != 0 && v.size() > check.max_chars) return false;
        break;
      case FieldKind::kTimestamp: {
        int64_t ms = 0;
        if (!parse_tsv_tstamp(v, ms) || v.starts_with("0000")) return false;
        break;
      }
      case FieldKind::kInt:
        if (!event::valid_tsv_int(v)) return false;
        break;
      case FieldKind::kDecimal:
        if (!event::valid_tsv_decimal(v)) return false;
        break;
      case FieldKind::kFloat:
        if (!event::valid_tsv_float(v)) return false;
        break;
      case FieldKind::kBool01:
        if (v != "0" && v != "1") return false;
        break;
      case FieldKind::kJson:
        if (trusted_json ? v.front() != '{' || v.back() != '}' : !valid_json(v)) return false;
        // May hold \u0000 (ASCII lines; the exact check below covers the others).
        if (!non_ascii && v.find('\\') != std::string_view::npos && !storable_value(i, v, why)) {
          return false;
        }
        break;
    }
    // UTF-8 and lengths in characters: the exact check.
    if (non_ascii && !storable_value(i, v, why)) return false;
  }
  return !f[static_cast<std::size_t>(Field::collector_tstamp)].empty() &&
         is_uuid(f[static_cast<std::size_t>(Field::event_id)]) &&
         !f[static_cast<std::size_t>(Field::v_collector)].empty() &&
         !f[static_cast<std::size_t>(Field::v_etl)].empty();
}

void split_enriched(std::string_view line, EventFields& f) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    std::size_t end = line.find('\t', start);
    if (end == std::string_view::npos || i + 1 == event::kFieldCount) end = line.size();
    f[i] = line.substr(std::min(start, line.size()), end - std::min(start, line.size()));
    start = end + 1;
  }
}

void fields_of(const event::EnrichedEvent& event, EventFields& f) {
  for (std::size_t i = 0; i < event::kFieldCount; ++i) f[i] = event.values[i];
}

}  // namespace furrow::sinks
