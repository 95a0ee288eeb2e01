#include "common/time_format.h"

#include <charconv>
#include <chrono>
#include <climits>
#include <cstring>

namespace furrow {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

// Floor division for possibly negative dividends.
constexpr int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Days since 1970-01-01 -> proleptic Gregorian y/m/d, using 400-year eras (146097 days each).
void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;  // shift the epoch to 0000-03-01
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;                                       // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;  // [0, 11], March-based
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = m > 2 ? m - 3 : m + 9;
  const int64_t doy = (153 * mp + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void append_padded(int64_t v, int width, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  const int len = static_cast<int>(end - buf);
  for (int i = len; i < width; ++i) out.push_back('0');
  out.append(buf, end);
}

void append_year(int64_t year, std::string& out) {
  if (year < 0) {
    out.push_back('-');
    // -year cannot overflow: years from int64 ms are far inside int64 range.
    append_padded(-year, 4, out);
  } else {
    append_padded(year, 4, out);
  }
}

void put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// 0000-01-01 00:00:00.000 and 9999-12-31 23:59:59.999 UTC: the instants whose year has four
// digits, formatted through the per-thread cache below.
constexpr int64_t kFourDigitMin = -62'167'219'200'000LL;
constexpr int64_t kFourDigitMax = 253'402'300'799'999LL;

// `yyyy-MM-dd HH:mm:ss` of the last few seconds formatted on this thread, direct-mapped by the
// second: the timestamps of one event, and of consecutive events, mostly share seconds.
struct SecondText {
  int64_t second = INT64_MIN;
  char text[19];
};
constexpr std::size_t kSecondSlots = 8;

void append_civil(int64_t ms, char date_time_sep, std::string& out) {
  if (ms >= kFourDigitMin && ms <= kFourDigitMax) {
    // The common case, written in one go: yyyy-MM-dd?HH:mm:ss.SSS
    thread_local SecondText cache[kSecondSlots];
    const int64_t second = floor_div(ms, 1000);
    const int millis = static_cast<int>(ms - second * 1000);
    SecondText& slot = cache[static_cast<uint64_t>(second) % kSecondSlots];
    if (slot.second != second) {
      const CivilTime t = civil_from_ms(ms);
      char* buf = slot.text;
      const int y = static_cast<int>(t.year);
      put2(buf, y / 100);
      put2(buf + 2, y % 100);
      buf[4] = '-';
      put2(buf + 5, t.month);
      buf[7] = '-';
      put2(buf + 8, t.day);
      buf[10] = ' ';
      put2(buf + 11, t.hour);
      buf[13] = ':';
      put2(buf + 14, t.minute);
      buf[16] = ':';
      put2(buf + 17, t.second);
      slot.second = second;
    }
    char buf[23];
    std::memcpy(buf, slot.text, sizeof slot.text);
    buf[10] = date_time_sep;
    buf[19] = '.';
    buf[20] = static_cast<char>('0' + millis / 100);
    put2(buf + 21, millis % 100);
    out.append(buf, sizeof buf);
    return;
  }
  const CivilTime t = civil_from_ms(ms);
  append_year(t.year, out);
  out.push_back('-');
  append_padded(t.month, 2, out);
  out.push_back('-');
  append_padded(t.day, 2, out);
  out.push_back(date_time_sep);
  append_padded(t.hour, 2, out);
  out.push_back(':');
  append_padded(t.minute, 2, out);
  out.push_back(':');
  append_padded(t.second, 2, out);
  out.push_back('.');
  append_padded(t.millis, 3, out);
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

}  // namespace

CivilTime civil_from_ms(int64_t ms) {
  const int64_t days = floor_div(ms, kMsPerDay);
  const int64_t rem = ms - days * kMsPerDay;  // [0, kMsPerDay)
  CivilTime t{};
  civil_from_days(days, t.year, t.month, t.day);
  t.hour = static_cast<int>(rem / 3'600'000);
  t.minute = static_cast<int>(rem / 60'000 % 60);
  t.second = static_cast<int>(rem / 1000 % 60);
  t.millis = static_cast<int>(rem % 1000);
  return t;
}

int64_t ms_from_civil(const CivilTime& t) {
  return days_from_civil(t.year, t.month, t.day) * kMsPerDay + t.hour * 3'600'000LL +
         t.minute * 60'000LL + t.second * 1000LL + t.millis;
}

void append_tsv_tstamp(int64_t ms, std::string& out) {
  append_civil(ms, ' ', out);
}

std::string format_tsv_tstamp(int64_t ms) {
  std::string s;
  append_tsv_tstamp(ms, s);
  return s;
}

bool tstamp_year_ok(int64_t ms) {
  // 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
  constexpr int64_t kMin = -62'167'219'200'000LL;
  constexpr int64_t kMax = 253'402'300'799'999LL;
  return ms >= kMin && ms <= kMax;
}

void append_iso_instant(int64_t ms, std::string& out) {
  append_civil(ms, 'T', out);
  out.push_back('Z');
}

std::string format_iso_instant(int64_t ms) {
  std::string s;
  append_iso_instant(ms, s);
  return s;
}

bool parse_tsv_tstamp(std::string_view s, int64_t& ms) {
  // yyyy-MM-dd HH:mm:ss
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
    return false;
  CivilTime t{};
  int year = 0;
  if (!digits(s, 0, 4, year) || !digits(s, 5, 2, t.month) || !digits(s, 8, 2, t.day) ||
      !digits(s, 11, 2, t.hour) || !digits(s, 14, 2, t.minute) || !digits(s, 17, 2, t.second)) {
    return false;
  }
  t.year = year;
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month) ||
      t.hour > 23 || t.minute > 59 || t.second > 59) {
    return false;
  }
  if (s.size() > 19) {
    const std::size_t frac = s.size() - 20;
    if (s[19] != '.' || frac < 1 || frac > 9) return false;
    int ms_part = 0;
    for (std::size_t i = 0; i < frac; ++i) {
      const char c = s[20 + i];
      if (c < '0' || c > '9') return false;
      if (i < 3) ms_part = ms_part * 10 + (c - '0');
    }
    for (std::size_t i = frac; i < 3; ++i) ms_part *= 10;
    t.millis = ms_part;
  }
  ms = ms_from_civil(t);
  return true;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace furrow
