#include "sinks/pg_copy.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "common/time_format.h"

namespace furrow::sinks {
namespace {

using event::FieldKind;

// Days from 1970-01-01 to 2000-01-01, PostgreSQL's timestamp epoch.
constexpr int64_t kPgEpochMicros = 10'957LL * 86'400LL * 1'000'000LL;

char* put_be32(char* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
  return p + 4;
}

char* put_be64(char* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
  return p + 8;
}

bool two_digits(const char* p, int& v) {
  const unsigned a = static_cast<unsigned char>(p[0]) - '0';
  const unsigned b = static_cast<unsigned char>(p[1]) - '0';
  if (a > 9 || b > 9) return false;
  v = static_cast<int>(a * 10 + b);
  return true;
}

bool leap_year(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// std::from_chars takes no leading '+'; PostgreSQL's parsers take one (not "+-"), and read_tsv
// allows it. An empty result means "decline".
std::string_view strip_plus(std::string_view v) {
  if (!v.empty() && v.front() == '+') {
    v.remove_prefix(1);
    if (!v.empty() && v.front() == '-') return {};
  }
  return v;
}

}  // namespace

std::string_view pg_binary_copy_header() {
  static constexpr char kHeader[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
  return {kHeader, sizeof(kHeader) - 1};  // 11-byte signature, flags 0, no extension
}

std::string_view pg_binary_copy_trailer() {
  static constexpr char kTrailer[] = "\377\377";
  return {kTrailer, 2};  // field count -1
}

bool pg_timestamp_micros(std::string_view s, int64_t& micros) {
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
    return false;
  int y_hi = 0, y_lo = 0;
  CivilTime t{};
  if (!two_digits(s.data(), y_hi) || !two_digits(s.data() + 2, y_lo) ||
      !two_digits(s.data() + 5, t.month) || !two_digits(s.data() + 8, t.day) ||
      !two_digits(s.data() + 11, t.hour) || !two_digits(s.data() + 14, t.minute) ||
      !two_digits(s.data() + 17, t.second)) {
    return false;
  }
  t.year = y_hi * 100 + y_lo;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1 || t.hour > 23 || t.minute > 59 ||
      t.second > 59) {
    return false;
  }
  const int month_days = kDays[t.month - 1] + (t.month == 2 && leap_year(t.year) ? 1 : 0);
  if (t.day > month_days) return false;
  int64_t frac = 0;
  if (s.size() > 19) {
    // Up to microseconds, which PostgreSQL stores exactly; longer fractions it would round.
    const std::size_t digits = s.size() - 20;
    if (s[19] != '.' || digits < 1 || digits > 6) return false;
    for (std::size_t i = 0; i < 6; ++i) {
      int d = 0;
      if (i < digits) {
        d = static_cast<unsigned char>(s[20 + i]) - '0';
        if (d < 0 || d > 9) return false;
      }
      frac = frac * 10 + d;
    }
  }
  micros = ms_from_civil(t) * 1000 + frac - kPgEpochMicros;
  return true;
}

bool append_pg_binary_row(std::string& out, const EventFields& values, int64_t load_id) {
  const auto& infos = event::field_infos();
  // Worst case: every field a 4-byte length plus max(value + 1, 8) bytes.
  std::size_t bound = 2 + 4 + 8;
  for (const std::string_view v : values) bound += 4 + 8 + v.size() + 1;
  const std::size_t at = out.size();
  out.resize(at + bound);
  char* const start = out.data() + at;
  char* p = start;
  *p++ = 0;
  *p++ = static_cast<char>(event::kFieldCount + 1);  // 132 columns, big-endian int16
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    const std::string_view v = values[i];
    if (v.empty()) {
      p = put_be32(p, 0xFFFFFFFFu);  // NULL
      continue;
    }
    bool ok = true;
    switch (infos[i].kind) {
      case FieldKind::kString:
        p = put_be32(p, static_cast<uint32_t>(v.size()));
        std::memcpy(p, v.data(), v.size());
        p += v.size();
        break;
      case FieldKind::kJson:
        p = put_be32(p, static_cast<uint32_t>(v.size() + 1));
        *p++ = 1;  // jsonb binary format version 1: the JSON text follows
        std::memcpy(p, v.data(), v.size());
        p += v.size();
        break;
      case FieldKind::kTimestamp: {
        int64_t micros = 0;
        ok = pg_timestamp_micros(v, micros);
        p = put_be32(p, 8);
        p = put_be64(p, static_cast<uint64_t>(micros));
        break;
      }
      case FieldKind::kInt: {
        const std::string_view s = strip_plus(v);
        int32_t n = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        ok = ec == std::errc() && end == s.data() + s.size() && !s.empty();
        p = put_be32(p, 4);
        p = put_be32(p, static_cast<uint32_t>(n));
        break;
      }
      case FieldKind::kDecimal:
      case FieldKind::kFloat: {
        const std::string_view s = strip_plus(v);
        double d = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        // Both this and PostgreSQL's strtod round correctly, so the doubles are identical.
        ok = ec == std::errc() && end == s.data() + s.size() && !s.empty() && std::isfinite(d);
        uint64_t bits = 0;
        std::memcpy(&bits, &d, 8);
        p = put_be32(p, 8);
        p = put_be64(p, bits);
        break;
      }
      case FieldKind::kBool01:
        ok = v.size() == 1 && (v[0] == '0' || v[0] == '1');
        p = put_be32(p, 1);
        *p++ = static_cast<char>(v[0] == '1');
        break;
    }
    if (!ok) {
      out.resize(at);
      return false;
    }
  }
  p = put_be32(p, 8);
  p = put_be64(p, static_cast<uint64_t>(load_id));
  out.resize(at + static_cast<std::size_t>(p - start));
  return true;
}

void append_pg_text_row(std::string& out, const EventFields& values, std::string_view load_id) {
  for (const std::string_view v : values) {
    if (v.empty()) {
      out += "\\N\t";
      continue;
    }
    // Usually there is nothing to escape. No early exit, so the compiler can vectorise the scan.
    bool special = false;
    for (char c : v) special |= (c == '\\') | (static_cast<unsigned char>(c) < 0x20);
    if (!special) {
      out += v;
    } else {
      for (char c : v) {
        switch (c) {
          case '\\':
            out += "\\\\";
            break;
          case '\t':
            out += "\\t";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\r':
            out += "\\r";
            break;
          default:
            out += c;
        }
      }
    }
    out += '\t';
  }
  out += load_id;
  out += '\n';
}

}  // namespace furrow::sinks
