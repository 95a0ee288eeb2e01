// CloudFront and Clojure-collector (Tomcat) access-log lines to CollectorPayloads, as Snowplow's
// CloudfrontLoader and CljTomcatLoader read them (spec section 2.10).
#include "protocol/log_lines.h"

#include <array>
#include <charconv>

#include "common/base64.h"
#include "common/strings.h"
#include "common/url_codec.h"
#include "protocol/ip_address.h"

namespace furrow::protocol {
namespace {

constexpr std::size_t kMaxFields = 64;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Splits on whitespace runs. Returns the number of fields (at most kMaxFields are stored; the count
// keeps going so callers can tell a long line from a short one).
std::size_t split_fields(std::string_view line, std::array<std::string_view, kMaxFields>& fields) {
  std::size_t n = 0, i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size()) break;
    std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (n < kMaxFields) fields[n] = line.substr(start, i - start);
    ++n;
  }
  return n;
}

// Loader.toOption: "-" and "" are absent.
std::optional<std::string> to_option(std::string_view s) {
  if (s.empty() || s == "-") return std::nullopt;
  return std::string(s);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// CloudFront encodes '%' once more: "%25XX" becomes "%XX" (one pass, like Snowplow's
// singleEncodePcts).
std::string single_encode_pcts(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 4 < s.size() && s[i + 1] == '2' && s[i + 2] == '5' &&
        hex(s[i + 3]) >= 0 && hex(s[i + 4]) >= 0) {
      out.push_back('%');
      out.push_back(s[i + 3]);
      out.push_back(s[i + 4]);
      i += 4;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool digits(std::string_view s, std::size_t n, int& out) {
  if (s.size() != n) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "<date>T<time>+00:00" as Joda's ISO parser reads it: yyyy-MM-dd and HH:mm:ss with an optional
// fraction. Milliseconds since the epoch, UTC.
bool parse_timestamp(std::string_view date, std::string_view time, int64_t& ms,
                     std::string& error) {
  int y, mo, d, h, mi, s;
  bool ok = date.size() == 10 && date[4] == '-' && date[7] == '-' &&
            digits(date.substr(0, 4), 4, y) && digits(date.substr(5, 2), 2, mo) &&
            digits(date.substr(8, 2), 2, d);
  int frac_ms = 0;
  if (ok) {
    ok = time.size() >= 8 && time[2] == ':' && time[5] == ':' && digits(time.substr(0, 2), 2, h) &&
         digits(time.substr(3, 2), 2, mi) && digits(time.substr(6, 2), 2, s);
  }
  if (ok && time.size() > 8) {
    std::string_view frac = time.substr(9);
    ok = time[8] == '.' && !frac.empty() && frac.size() <= 9;
    int scale = 100;
    for (char c : frac) {
      if (c < '0' || c > '9') ok = false;
      if (ok) {
        frac_ms += (c - '0') * scale;
        scale /= 10;
      }
    }
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (ok)
    ok = mo >= 1 && mo <= 12 && d >= 1 && d <= kDays[mo - 1] && h <= 23 && mi <= 59 && s <= 59;
  if (ok && mo == 2 && d == 29) ok = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (!ok) {
    error = "could not convert timestamp: Invalid format: \"" + std::string(date) + "T" +
            std::string(time) + "+00:00\" (dateTime: " + std::string(date) + " " +
            std::string(time) + ")";
    return false;
  }
  ms = ((days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 24 + h) * 60 +
        mi) *
           60000 +
       int64_t{s} * 1000 + frac_ms;
  return true;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string_view strip_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

}  // namespace

LineResult parse_cloudfront_line(std::string_view line, event::CollectorPayload& out,
                                 std::string& error) {
  line = strip_line_end(line);
  if (line.substr(0, 9) == "#Version:" || line.substr(0, 8) == "#Fields:") return LineResult::kSkip;
  std::size_t start = 0;
  while (start < line.size() && is_space(line[start])) ++start;
  if (start == line.size()) return LineResult::kSkip;

  std::array<std::string_view, kMaxFields> f;
  std::size_t n = split_fields(line, f);
  // Eras: 12 fields (original), 15 (12 Sep 2012), 18 (21 Oct 2013), 19 (29 Apr 2014), 23 or more
  // (01 Jul 2014, later fields ignored).
  bool known_era = start == 0 && (n == 12 || n == 15 || n == 18 || n == 19 || n >= 23);
  if (n >= 12 && start == 0 && upper(f[5]) != "GET") {
    error = "operation must be GET (verb: " + upper(f[5]) + ")";
    return LineResult::kInvalid;
  }
  if (!known_era) {
    error = "does not match header or data row formats";
    return LineResult::kInvalid;
  }
  int64_t ts = 0;
  if (!parse_timestamp(f[0], f[1], ts, error)) return LineResult::kInvalid;

  out = event::CollectorPayload{};
  out.timestamp = ts;
  out.encoding = "UTF-8";
  out.collector = "cloudfront";
  out.path = std::string(f[7]);
  std::string qs = single_encode_pcts(f[11]);
  out.querystring = to_option(qs);
  std::string_view forwarded_for = n >= 23 ? f[19] : std::string_view("-");
  out.ip_address = to_option(extract_ip_address(forwarded_for, f[4]));
  out.user_agent = to_option(single_encode_pcts(f[10]));
  out.referer_uri = to_option(single_encode_pcts(f[9]));
  // CloudFront sometimes ends a referer with a stray '%'.
  if (out.referer_uri && out.referer_uri->back() == '%') out.referer_uri->pop_back();
  return LineResult::kPayload;
}

LineResult parse_tomcat_line(std::string_view line, event::CollectorPayload& out,
                             std::string& error) {
  line = strip_line_end(line);
  std::size_t start = 0;
  while (start < line.size() && is_space(line[start])) ++start;
  if (start == line.size() || line[start] == '#') return LineResult::kSkip;

  std::array<std::string_view, kMaxFields> f;
  std::size_t n = split_fields(line, f);
  auto dashes = [&] { return f[12] == "-" && f[13] == "-" && f[14] == "-"; };
  std::optional<std::string_view> ct, body;
  bool matches = start == 0 && n >= 12 && f[2] == "-";
  if (matches) {
    if (n == 12 || (n == 15 && dashes())) {
      // Collector up to 0.6.0: no content type or body.
    } else if (n == 14) {
      ct = f[12];
      body = f[13];
    } else if (n == 17 && dashes()) {
      ct = f[15];
      body = f[16];
    } else {
      matches = false;
    }
  }
  if (!matches) {
    error = "does not match the raw event format";
    return LineResult::kInvalid;
  }
  if (ct && *ct == "-" && *body == "-") {
    ct.reset();
    body.reset();
  } else if (ct && *body == "-") {
    body.reset();
  } else if (ct && upper(f[5]) != "POST") {
    error =
        "operation must be POST if content type and/or body are provided (verb: " + upper(f[5]) +
        ")";
    return LineResult::kInvalid;
  }
  int64_t ts = 0;
  if (!parse_timestamp(f[0], f[1], ts, error)) return LineResult::kInvalid;

  out = event::CollectorPayload{};
  out.timestamp = ts;
  out.encoding = "UTF-8";
  out.collector = "clj-tomcat";
  out.path = std::string(f[7]);
  out.querystring = to_option(f[11]);
  out.ip_address = to_option(f[4]);
  out.user_agent = to_option(f[10]);
  out.referer_uri = to_option(f[9]);
  if (ct) {
    // The valve logs the content type URL-encoded.
    for (std::size_t i = 0; i < ct->size(); ++i) {
      if ((*ct)[i] == '%' &&
          (i + 2 >= ct->size() || hex((*ct)[i + 1]) < 0 || hex((*ct)[i + 2]) < 0)) {
        error = "contentType " + std::string(*ct) +
                ": URLDecoder: Illegal hex characters in escape (%) pattern";
        return LineResult::kInvalid;
      }
    }
    out.content_type = common::url_decode(*ct);
  }
  if (body) {
    std::string decoded;
    if (!common::base64_decode(*body, decoded)) {
      error = "body " + std::string(*body) + ": could not base64 decode";
      return LineResult::kInvalid;
    }
    out.body = std::move(decoded);
  }
  return LineResult::kPayload;
}

}  // namespace furrow::protocol
