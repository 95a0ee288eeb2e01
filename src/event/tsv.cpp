#include "event/tsv.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/short_copy.h"
#include "common/time_format.h"
#include "common/uuid.h"

namespace furrow::event {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

void fail(std::string& error, std::size_t index, std::string_view what, std::string_view value) {
  error = "field ";
  error += std::to_string(index + 1);
  error += " (";
  error += field_infos()[index].name;
  error += "): ";
  error += what;
  if (!value.empty()) {
    error += ": '";
    error.append(value.substr(0, 100));
    if (value.size() > 100) error += "...";
    error += "'";
  }
}

}  // namespace

bool valid_tsv_int(std::string_view s) {
  int32_t v = 0;
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  return ec == std::errc() && p == e && b != e;
}

bool valid_tsv_decimal(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

bool valid_tsv_float(std::string_view s) {
  double v = 0;
  const char* b = s.data();
  const char* e = b + s.size();
  auto [p, ec] = std::from_chars(b, e, v);
  return ec == std::errc() && p == e && std::isfinite(v);
}

bool valid_tsv_json(std::string_view s, std::string& why) {
  rapidjson::MemoryStream ms(s.data(), s.size());
  rapidjson::BaseReaderHandler<> handler;
  rapidjson::Reader reader;
  auto r = reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseStopWhenDoneFlag>(
      ms, handler);
  if (r.IsError()) {
    why = rapidjson::GetParseError_En(r.Code());
    why += " at offset " + std::to_string(r.Offset());
    return false;
  }
  if (ms.Tell() != s.size()) {
    // Only whitespace may follow the value.
    for (std::size_t i = ms.Tell(); i < s.size(); ++i) {
      if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
        why = "trailing characters after the JSON value";
        return false;
      }
    }
  }
  return true;
}

namespace {

constexpr std::size_t kBlock = 16;

// Only the marked values (see FieldValues) are visited: every other column is empty, so the line is
// the marked values, each after as many tabs as its column index. The line is built in a
// per-thread buffer that only grows, with room for every tab and a block of overhang kept beyond
// each value (one compare per column), then appended to `out` with one copy. (No ASan
// instrumentation: short values are copied as whole 16-byte blocks that may read past their
// text, never past its page.)
template <bool kLimits>
[[gnu::no_sanitize_address]] bool write_line(const EnrichedEvent& event, std::string& out,
                                             const std::size_t* limits) {
  // Every tab, and overhang for the short copies and tab blocks.
  constexpr std::size_t kRoom = kFieldCount + 3 * kBlock;
  const FieldValues& values = event.values;
  thread_local std::vector<char> buf(16384);
  char* base = buf.data();
  char* end = base + buf.size();
  char* p = base;
  std::size_t tabs = 0;  // tabs written so far (column i's value follows i tabs)
  auto put_tabs = [&p](std::size_t n) { p = common::put_tabs_with_overhang(p, n); };
  for (std::size_t w = 0; w < FieldValues::kWords; ++w) {
    for (uint64_t m = values.marked_word(w); m != 0; m &= m - 1) {
      const std::size_t i = w * 64 + static_cast<std::size_t>(__builtin_ctzll(m));
      const std::string_view v = values.text(i);
      if constexpr (kLimits) {
        if (__builtin_expect(v.size() > limits[i], 0)) return false;
      }
      if (__builtin_expect(static_cast<std::size_t>(end - p) < v.size() + kRoom, 0)) {
        const std::size_t used = static_cast<std::size_t>(p - base);
        buf.resize(std::max(buf.size() * 2, used + v.size() + kRoom));
        base = buf.data();
        end = base + buf.size();
        p = base + used;
      }
      put_tabs(i - tabs);
      tabs = i;
      common::copy_with_overhang(p, v.data(), v.size());
      p += v.size();
    }
  }
  put_tabs(kFieldCount - 1 - tabs);
  out.append(base, static_cast<std::size_t>(p - base));
  return true;
}

}  // namespace

void write_tsv(const EnrichedEvent& event, std::string& out) {
  write_line<false>(event, out, nullptr);
}

bool write_tsv(const EnrichedEvent& event, std::string& out, const std::size_t* byte_limits) {
  return byte_limits == nullptr ? write_line<false>(event, out, nullptr)
                                : write_line<true>(event, out, byte_limits);
}

bool read_tsv(std::string_view line, EnrichedEvent& out, std::string& error) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  std::size_t tabs = 0;
  for (char c : line) {
    if (c == '\t') ++tabs;
    if (c == '\n' || c == '\r') {
      error = "line contains a line break inside a field";
      return false;
    }
  }
  if (tabs + 1 != kFieldCount) {
    error = "expected " + std::to_string(kFieldCount) + " tab-separated fields, found " +
            std::to_string(tabs + 1);
    return false;
  }

  const auto& infos = field_infos();
  std::size_t start = 0;
  std::string why;
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    std::size_t end = line.find('\t', start);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view v = line.substr(start, end - start);
    start = end + 1;
    if (!v.empty()) {
      switch (infos[i].kind) {
        case FieldKind::kString:
          break;
        case FieldKind::kTimestamp: {
          int64_t ms = 0;
          if (!parse_tsv_tstamp(v, ms)) {
            fail(error, i, "not a timestamp 'yyyy-MM-dd HH:mm:ss.SSS'", v);
            return false;
          }
          break;
        }
        case FieldKind::kInt:
          if (!valid_tsv_int(v)) {
            fail(error, i, "not a 32-bit integer", v);
            return false;
          }
          break;
        case FieldKind::kDecimal:
          if (!valid_tsv_decimal(v)) {
            fail(error, i, "not a decimal number", v);
            return false;
          }
          break;
        case FieldKind::kFloat:
          if (!valid_tsv_float(v)) {
            fail(error, i, "not a floating-point number", v);
            return false;
          }
          break;
        case FieldKind::kBool01:
          if (v != "0" && v != "1") {
            fail(error, i, "not 0 or 1", v);
            return false;
          }
          break;
        case FieldKind::kJson:
          if (!valid_tsv_json(v, why)) {
            fail(error, i, "not valid JSON (" + why + ")", {});
            return false;
          }
          break;
      }
    }
    out.values[i].assign(v);
  }

  // Columns the analytics SDKs require (spec 3.3).
  if (out[Field::collector_tstamp].empty()) {
    fail(error, static_cast<std::size_t>(Field::collector_tstamp), "must not be empty", {});
    return false;
  }
  if (!is_uuid(out[Field::event_id])) {
    fail(error, static_cast<std::size_t>(Field::event_id), "not a UUID", out[Field::event_id]);
    return false;
  }
  if (out[Field::v_collector].empty()) {
    fail(error, static_cast<std::size_t>(Field::v_collector), "must not be empty", {});
    return false;
  }
  if (out[Field::v_etl].empty()) {
    fail(error, static_cast<std::size_t>(Field::v_etl), "must not be empty", {});
    return false;
  }
  return true;
}

}  // namespace furrow::event
