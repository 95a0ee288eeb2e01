#include "collector/handler.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <re2/re2.h>

#include <cstdio>
#include <cstring>

#include "collector/post_count.h"
#include "collector/redirect.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "common/uuid.h"
#include "event/bad_row.h"
#include "furrow/version.h"

namespace furrow::collector {
namespace {

constexpr unsigned char kPixel[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0xf0, 0x00, 0x00, 0xff, 0xff,
    0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
constexpr std::string_view kAnonymousNuid = "00000000-0000-0000-0000-000000000000";
constexpr std::string_view kRobots =
    "User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\nUser-agent: "
    "AdsBot-Google\nDisallow: /";

std::string_view header(const HttpRequest& req, std::string_view name) {
  for (const auto& [n, v] : req.headers) {
    if (equals_icase(n, name)) return v;
  }
  return {};
}

bool has_header(const HttpRequest& req, std::string_view name) {
  for (const auto& h : req.headers) {
    if (equals_icase(h.first, name)) return true;
  }
  return false;
}

// Value of cookie `name` in a Cookie header ("a=b; c=d"); empty view when absent.
bool cookie_value(std::string_view cookies, std::string_view name, std::string_view& value) {
  while (!cookies.empty()) {
    auto semi = cookies.find(';');
    std::string_view part = trim(cookies.substr(0, semi));
    cookies = semi == std::string_view::npos ? std::string_view{} : cookies.substr(semi + 1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(part.substr(0, eq)) == name) {
      std::string_view v = trim(part.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      value = v;
      return true;
    }
  }
  return false;
}

bool is_cookie_octet(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2b) || (u >= 0x2d && u <= 0x3a) ||
         (u >= 0x3c && u <= 0x5b) || (u >= 0x5d && u <= 0x7e);
}

// The Cookie header as stored (spec 2.4): only ';'-separated parts made of cookie-octets, spaces
// removed.
std::string clean_cookie_header(std::string_view cookies) {
  std::string out;
  while (!cookies.empty()) {
    auto semi = cookies.find(';');
    std::string_view part = cookies.substr(0, semi);
    cookies = semi == std::string_view::npos ? std::string_view{} : cookies.substr(semi + 1);
    std::string cleaned;
    bool ok = true;
    for (char c : part) {
      if (c == ' ') continue;
      if (!is_cookie_octet(c)) {
        ok = false;
        break;
      }
      cleaned += c;
    }
    if (!ok || cleaned.empty()) continue;
    if (!out.empty()) out += "; ";
    out += cleaned;
  }
  return out;
}

// An origin we are willing to echo: scheme "://" host [":" port], from a safe character set, so
// nothing the client sends can inject into our headers.
bool valid_origin(std::string_view o) {
  auto sep = o.find("://");
  if (sep == std::string_view::npos || sep == 0 || o.size() > 2048) return false;
  for (std::size_t i = 0; i < sep; ++i) {
    char c = o[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '-' || c == '.')) {
      return false;
    }
  }
  std::string_view rest = o.substr(sep + 3);
  if (rest.empty()) return false;
  for (char c : rest) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == ':' || c == '[' || c == ']' || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string_view first_origin(std::string_view origin_header) {
  origin_header = trim(origin_header);
  auto sp = origin_header.find(' ');
  return origin_header.substr(0, sp);
}

// Lower-case host of an origin "scheme://host[:port]".
std::string origin_host(std::string_view origin) {
  auto sep = origin.find("://");
  if (sep == std::string_view::npos) return {};
  std::string_view rest = origin.substr(sep + 3);
  if (!rest.empty() && rest.front() == '[') return to_lower(rest.substr(0, rest.find(']') + 1));
  return to_lower(rest.substr(0, rest.find(':')));
}

void append_2(std::string& out, int v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

// Appends the RFC 7231 IMF-fixdate of `seconds`, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". The
// last text is cached per thread: every cookie set within one second carries the same date.
void append_http_date(std::string& out, int64_t seconds) {
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct Cache {
    int64_t seconds = 0;
    std::size_t size = 0;
    char text[48];
  };
  static thread_local Cache cache;
  if (cache.size == 0 || cache.seconds != seconds) {
    CivilTime t = civil_from_ms(seconds * 1000);
    int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
    int64_t wd = ((days % 7) + 7) % 7;
    std::string s = kDays[wd];
    s += ", ";
    append_2(s, t.day);
    s += ' ';
    s += kMonths[t.month - 1];
    s += ' ';
    s += std::to_string(t.year);
    s += ' ';
    append_2(s, t.hour);
    s += ':';
    append_2(s, t.minute);
    s += ':';
    append_2(s, t.second);
    s += " GMT";
    if (s.size() > sizeof cache.text) {  // years beyond any cookie expiry: not cached
      out += s;
      return;
    }
    std::memcpy(cache.text, s.data(), s.size());
    cache.size = s.size();
    cache.seconds = seconds;
  }
  out.append(cache.text, cache.size);
}

// Request headers the payload treats specially, recognised by length first so that most names
// cost one comparison.
enum class HeaderKind : uint8_t {
  kOther,
  kHost,
  kCookie,
  kReferer,
  kForwarded,
  kXRealIp,
  kUserAgent,
  kContentType,
  kXForwardedFor,
};

HeaderKind classify(std::string_view n) {
  switch (n.size()) {
    case 4:
      return equals_icase(n, "Host") ? HeaderKind::kHost : HeaderKind::kOther;
    case 6:
      return equals_icase(n, "Cookie") ? HeaderKind::kCookie : HeaderKind::kOther;
    case 7:
      return equals_icase(n, "Referer") ? HeaderKind::kReferer : HeaderKind::kOther;
    case 9:
      if (equals_icase(n, "Forwarded")) return HeaderKind::kForwarded;
      return equals_icase(n, "X-Real-Ip") ? HeaderKind::kXRealIp : HeaderKind::kOther;
    case 10:
      return equals_icase(n, "User-Agent") ? HeaderKind::kUserAgent : HeaderKind::kOther;
    case 12:
      return equals_icase(n, "Content-Type") ? HeaderKind::kContentType : HeaderKind::kOther;
    case 15:
      return equals_icase(n, "X-Forwarded-For") ? HeaderKind::kXForwardedFor : HeaderKind::kOther;
    default:
      return HeaderKind::kOther;
  }
}

// Writes Thrift TBinaryProtocol (big-endian), the subset encode_thrift produces, through a raw
// cursor into a buffer sized beforehand for the worst case, so no write checks capacity.
constexpr char kThriftStop = 0;
constexpr char kThriftI64 = 10;
constexpr char kThriftString = 11;
constexpr char kThriftList = 15;

struct ThriftCursor {
  char* p;

  void bytes(std::string_view v) {
    std::memcpy(p, v.data(), v.size());
    p += v.size();
  }
  void byte(char c) { *p++ = c; }
  void u32(uint32_t v) {
    p[0] = static_cast<char>(v >> 24);
    p[1] = static_cast<char>(v >> 16);
    p[2] = static_cast<char>(v >> 8);
    p[3] = static_cast<char>(v);
    p += 4;
  }
  static void patch_u32(char* at, uint32_t v) {
    ThriftCursor c{at};
    c.u32(v);
  }
  void field(char type, int16_t id) {
    p[0] = type;
    p[1] = static_cast<char>(static_cast<uint16_t>(id) >> 8);
    p[2] = static_cast<char>(id & 0xff);
    p += 3;
  }
  void string_field(int16_t id, std::string_view v) {
    field(kThriftString, id);
    u32(static_cast<uint32_t>(v.size()));
    bytes(v);
  }
  // The cleaned Cookie header (the rule of clean_cookie_header): each ';'-separated part is
  // checked first, then copied in runs between spaces. Writes at most 2 * cookies.size() bytes.
  void clean_cookie(std::string_view cookies) {
    bool first = true;
    while (!cookies.empty()) {
      auto semi = cookies.find(';');
      std::string_view part = cookies.substr(0, semi);
      cookies = semi == std::string_view::npos ? std::string_view{} : cookies.substr(semi + 1);
      bool ok = true, any = false;
      for (char c : part) {
        if (c == ' ') continue;
        if (!is_cookie_octet(c)) {
          ok = false;
          break;
        }
        any = true;
      }
      if (!ok || !any) continue;
      if (!first) bytes("; ");
      first = false;
      while (!part.empty()) {
        auto space = part.find(' ');
        bytes(part.substr(0, space));
        part = space == std::string_view::npos ? std::string_view{} : part.substr(space + 1);
      }
    }
  }
};

// Path segments check: "/a/b" with non-empty a and b.
bool two_segments(std::string_view path, std::string_view& vendor) {
  if (path.size() < 4 || path[0] != '/') return false;
  auto slash = path.find('/', 1);
  if (slash == std::string_view::npos || slash == 1 || slash + 1 >= path.size()) return false;
  if (path.find('/', slash + 1) != std::string_view::npos) return false;
  vendor = path.substr(1, slash - 1);
  return true;
}

std::string_view host_of(std::string_view host_header) {
  host_header = trim(host_header);
  if (!host_header.empty() && host_header.front() == '[') {
    auto close = host_header.find(']');
    return close == std::string_view::npos ? host_header : host_header.substr(0, close + 1);
  }
  return host_header.substr(0, host_header.find(':'));
}

// A strong ETag: the first 128 bits of the body's SHA-256, hex, quoted.
std::string strong_etag(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(body.data(), body.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned i = 0; i < 16 && i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  out += '"';
  return out;
}

// If-None-Match (RFC 9110 13.1.2): "*" or a list of entity tags, compared weakly.
bool none_match(std::string_view header_value, std::string_view etag) {
  while (!header_value.empty()) {
    auto comma = header_value.find(',');
    std::string_view tag = trim(header_value.substr(0, comma));
    header_value =
        comma == std::string_view::npos ? std::string_view{} : header_value.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

// A Host header we are willing to put into a Location: host name or IP literal and a port.
bool safe_host(std::string_view h) {
  if (h.empty() || h.size() > 255) return false;
  for (char c : h) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == ':' || c == '[' || c == ']')) {
      return false;
    }
  }
  return true;
}

bool printable_ascii(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

event::Processor processor() {
  return event::Processor{"furrow-collector", kVersion};
}

}  // namespace

std::string_view route_name(Route r) {
  static constexpr std::string_view kNames[] = {
      "pixel",  "get_tracking", "post_tracking", "redirect", "options", "health", "sink_health",
      "robots", "crossdomain",  "not_found",     "rejected", "asset",   "root",   "app"};
  auto i = static_cast<std::size_t>(r);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::string_view pixel_gif() {
  return {reinterpret_cast<const char*>(kPixel), sizeof kPixel};
}

std::string collector_name(std::string_view sink_kind) {
  std::string s = "furrow-";
  s += kVersion;
  s += '-';
  s += sink_kind;
  return s;
}

Handler::Handler(CollectorConfig config, std::string sink_kind, std::size_t max_record_bytes)
    : config_(std::move(config)),
      collector_(collector_name(sink_kind)),
      max_record_bytes_(max_record_bytes),
      proxies_(config_.trusted_proxies) {
  if (config_.do_not_track_cookie.enabled) {
    dnt_value_ = std::make_unique<re2::RE2>(config_.do_not_track_cookie.value, re2::RE2::Quiet);
  }
  asset_etags_.reserve(config_.assets.size());
  for (const auto& a : config_.assets) asset_etags_.push_back(strong_etag(a.body));
  cross_domain_xml_ = "<?xml version=\"1.0\"?>\n<cross-domain-policy>\n";
  for (const auto& d : config_.cross_domain.domains) {
    cross_domain_xml_ += "  <allow-access-from domain=\"" + d + "\" secure=\"" +
                         (config_.cross_domain.secure ? "true" : "false") + "\" />\n";
  }
  cross_domain_xml_ += "</cross-domain-policy>";
}

Handler::~Handler() = default;

void Handler::cors(const HttpRequest& req, HttpResponse& resp) const {
  std::string_view origin = first_origin(header(req, "Origin"));
  resp.allow_origin = valid_origin(origin) ? std::string(origin) : std::string("*");
  resp.allow_credentials = true;
}

void Handler::set_cookie_value(std::string_view value, int64_t now_ms, const HttpRequest& req,
                               bool expire, std::string& out) const {
  const CookieConfig& c = config_.cookie;
  out.clear();
  out += c.name;
  out += '=';
  out += value;
  out += "; Expires=";
  append_http_date(out, expire ? 0 : now_ms / 1000 + c.expiration_seconds);
  std::string domain;
  if (!c.domains.empty()) {
    std::string_view origins = header(req, "Origin");
    while (domain.empty() && !origins.empty()) {
      origins = trim(origins);
      auto sp = origins.find(' ');
      std::string_view o = origins.substr(0, sp);
      origins = sp == std::string_view::npos ? std::string_view{} : origins.substr(sp + 1);
      if (!valid_origin(o)) continue;
      std::string host = origin_host(o);
      for (const auto& d : c.domains) {
        if (host == d || (host.size() > d.size() && host.ends_with(d) &&
                          host[host.size() - d.size() - 1] == '.')) {
          domain = d;
          break;
        }
      }
    }
    if (domain.empty()) domain = c.fallback_domain;
  }
  if (!domain.empty()) {
    out += "; Domain=";
    out += domain;
  }
  out += "; Path=/";
  switch (c.same_site) {
    case SameSite::kNone:
      out += "; SameSite=None";
      break;
    case SameSite::kLax:
      out += "; SameSite=Lax";
      break;
    case SameSite::kStrict:
      out += "; SameSite=Strict";
      break;
    case SameSite::kUnset:
      break;
  }
  if (c.secure) out += "; Secure";
  if (c.http_only) out += "; HttpOnly";
}

event::CollectorPayload Handler::build_payload(const HttpRequest& req, std::string_view path,
                                               std::string_view query, int64_t now_ms,
                                               std::string_view nuid, bool anonymous) const {
  event::CollectorPayload p;
  std::vector<std::string_view> xff;
  for (const auto& [n, v] : req.headers) {
    if (equals_icase(n, "X-Forwarded-For")) xff.push_back(v);
  }
  std::string_view client = proxies_.resolve(req.peer_ip, xff);
  if (anonymous || client.empty()) {
    p.ip_address = "unknown";
  } else {
    p.ip_address = std::string(client);
  }
  p.timestamp = now_ms;
  p.encoding = "UTF-8";
  p.collector = collector_;
  std::vector<std::string> headers;
  headers.reserve(req.headers.size() + 2);
  std::string_view content_type;
  bool have_ua = false, have_ref = false;
  for (const auto& [n, v] : req.headers) {
    if (equals_icase(n, "User-Agent") && !have_ua) {
      p.user_agent = std::string(v);
      have_ua = true;
    } else if (equals_icase(n, "Referer") && !have_ref) {
      p.referer_uri = std::string(v);
      have_ref = true;
    } else if (equals_icase(n, "Content-Type") && content_type.empty()) {
      content_type = v;
    } else if (equals_icase(n, "Host") && !p.hostname) {
      p.hostname = std::string(host_of(v));
    }
    if (anonymous && (equals_icase(n, "X-Forwarded-For") || equals_icase(n, "X-Real-Ip") ||
                      equals_icase(n, "Cookie"))) {
      continue;
    }
    // Enrich believes the first X-Forwarded-For; store only what we resolved ourselves.
    if (equals_icase(n, "X-Forwarded-For") || equals_icase(n, "Forwarded")) continue;
    std::string line(n);
    line += ": ";
    if (equals_icase(n, "Cookie")) {
      line += clean_cookie_header(v);
    } else {
      line += v;
    }
    headers.push_back(std::move(line));
  }
  if (!anonymous && !xff.empty() && client != req.peer_ip) {
    headers.push_back("X-Forwarded-For: " + std::string(client));
  }
  if (!content_type.empty()) {
    headers.emplace_back(content_type);
    p.content_type = to_lower(content_type);
  }
  p.headers = std::move(headers);
  p.path = std::string(path);
  if (!query.empty()) p.querystring = std::string(query);
  if (req.method == "POST" && !req.body.empty()) p.body = std::string(req.body);
  p.network_user_id = std::string(nuid);
  return p;
}

bool Handler::encode_payload(const HttpRequest& req, std::string_view path, std::string_view query,
                             int64_t now_ms, std::string_view nuid, bool anonymous,
                             std::string& out) const {
  // First pass: the headers that become their own fields, the X-Forwarded-For values, and a
  // bound on the header list's size (a cleaned Cookie can grow: "a;b" -> "a; b").
  std::string_view user_agent, referer, content_type, host;
  bool have_ua = false, have_ref = false, have_host = false;
  std::size_t header_bound = 0;
  std::vector<std::string_view> xff;  // allocates only when the request has X-Forwarded-For
  for (const auto& [n, v] : req.headers) {
    header_bound += n.size() + 2 * v.size() + 8;
    switch (classify(n)) {
      case HeaderKind::kUserAgent:
        if (!have_ua) user_agent = v, have_ua = true;
        break;
      case HeaderKind::kReferer:
        if (!have_ref) referer = v, have_ref = true;
        break;
      case HeaderKind::kContentType:
        if (content_type.empty()) content_type = v;
        break;
      case HeaderKind::kHost:
        if (!have_host) host = host_of(v), have_host = true;
        break;
      case HeaderKind::kXForwardedFor:
        xff.push_back(v);
        break;
      default:
        break;
    }
  }
  const std::string_view client = proxies_.resolve(req.peer_ip, xff);
  const bool is_post = req.method == "POST";
  const std::string_view body = is_post ? req.body : std::string_view{};
  // libthrift refuses strings over 2 GiB (encode_thrift then yields nothing); requests are far
  // below that (max_body_bytes), so such input is simply not encoded here.
  if (body.size() > static_cast<std::size_t>(INT32_MAX) ||
      query.size() > static_cast<std::size_t>(INT32_MAX)) {
    return false;
  }
  const std::string_view ip = anonymous || client.empty() ? std::string_view("unknown") : client;
  constexpr std::size_t kPerField = 7;  // type, id, length
  const std::size_t bound = 16 * kPerField + 8 + 1 + ip.size() + 5 + collector_.size() +
                            user_agent.size() + referer.size() + path.size() + query.size() +
                            body.size() + header_bound + 17 + client.size() +
                            2 * (content_type.size() + 4) + host.size() + nuid.size() +
                            event::kCollectorPayloadSchema.size() + 64;  // + slack
  out.resize(bound);
  ThriftCursor w{out.data()};
  w.string_field(event::thrift_id::kIpAddress, ip);
  w.field(kThriftI64, event::thrift_id::kTimestamp);
  const auto ts = static_cast<uint64_t>(now_ms);
  w.u32(static_cast<uint32_t>(ts >> 32));
  w.u32(static_cast<uint32_t>(ts));
  w.string_field(event::thrift_id::kEncoding, "UTF-8");
  w.string_field(event::thrift_id::kCollector, collector_);
  if (have_ua) w.string_field(event::thrift_id::kUserAgent, user_agent);
  if (have_ref) w.string_field(event::thrift_id::kRefererUri, referer);
  w.string_field(event::thrift_id::kPath, path);
  if (!query.empty()) w.string_field(event::thrift_id::kQuerystring, query);
  if (!body.empty()) w.string_field(event::thrift_id::kBody, body);
  // The header list, as build_payload makes it; its count and each line's length are patched
  // in once known.
  w.field(kThriftList, event::thrift_id::kHeaders);
  w.byte(kThriftString);
  char* count_at = w.p;
  w.u32(0);
  uint32_t count = 0;
  for (const auto& [n, v] : req.headers) {
    const HeaderKind kind = classify(n);
    if (anonymous && (kind == HeaderKind::kXForwardedFor || kind == HeaderKind::kXRealIp ||
                      kind == HeaderKind::kCookie)) {
      continue;
    }
    // Enrich believes the first X-Forwarded-For; store only what we resolved ourselves.
    if (kind == HeaderKind::kXForwardedFor || kind == HeaderKind::kForwarded) continue;
    char* len_at = w.p;
    w.u32(0);
    w.bytes(n);
    w.bytes(": ");
    if (kind == HeaderKind::kCookie) {
      w.clean_cookie(v);
    } else {
      w.bytes(v);
    }
    ThriftCursor::patch_u32(len_at, static_cast<uint32_t>(w.p - len_at - 4));
    ++count;
  }
  if (!anonymous && !xff.empty() && client != req.peer_ip) {
    w.u32(static_cast<uint32_t>(client.size() + 17));
    w.bytes("X-Forwarded-For: ");
    w.bytes(client);
    ++count;
  }
  if (!content_type.empty()) {
    w.u32(static_cast<uint32_t>(content_type.size()));
    w.bytes(content_type);
    ++count;
  }
  ThriftCursor::patch_u32(count_at, count);
  if (!content_type.empty()) {
    w.field(kThriftString, event::thrift_id::kContentType);
    w.u32(static_cast<uint32_t>(content_type.size()));
    for (char c : content_type) w.byte((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
  }
  if (have_host) w.string_field(event::thrift_id::kHostname, host);
  w.string_field(event::thrift_id::kNetworkUserId, nuid);
  w.string_field(event::thrift_id::kSchema, event::kCollectorPayloadSchema);
  w.byte(kThriftStop);
  out.resize(static_cast<std::size_t>(w.p - out.data()));
  return true;
}

std::string Handler::oversized_request_bad_row(std::string_view method, std::string_view target,
                                               std::size_t actual_bytes, int64_t now_ms) const {
  std::string sample(method);
  sample += ' ';
  sample += target;
  return event::size_violation(processor(), now_ms, config_.limits.max_body_bytes, actual_bytes,
                               "request body exceeds the collector's maximum of " +
                                   std::to_string(config_.limits.max_body_bytes) +
                                   " bytes; answered 413",
                               sample);
}

void Handler::store(const event::CollectorPayload& payload, bool is_post, int64_t now_ms,
                    Outcome& out) const {
  std::string bytes = event::encode_thrift(payload);
  const std::size_t n = bytes.size();
  const std::size_t max_payload = config_.limits.max_payload_bytes;
  if (n > max_payload) {
    out.bad_rows.push_back(event::size_violation(
        processor(), now_ms, max_payload, n,
        "oversized collector payload: Payload exceeds max size of " + std::to_string(max_payload) +
            ". Actual length: " + std::to_string(n),
        event::collector_payload_json(payload)));
    return;
  }
  if (n < max_record_bytes_) {
    out.records.push_back(std::move(bytes));
    return;
  }
  if (!is_post) {
    out.bad_rows.push_back(
        event::size_violation(processor(), now_ms, max_record_bytes_, n,
                              "oversized collector payload: GET requests cannot be split",
                              event::collector_payload_json(payload)));
    return;
  }
  // Spec 2.8: re-pack the event array greedily into payloads that each fit one record.
  rapidjson::Document doc;
  doc.Parse(payload.body ? payload.body->c_str() : "");
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("schema") ||
      !doc["schema"].IsString() || !doc.HasMember("data") || !doc["data"].IsArray()) {
    out.bad_rows.push_back(
        event::size_violation(processor(), now_ms, max_record_bytes_, n,
                              "oversized collector payload: cannot split POST payload because it "
                              "is not a self-describing JSON array",
                              event::collector_payload_json(payload)));
    return;
  }
  rapidjson::StringBuffer schema_json;
  {
    rapidjson::Writer<rapidjson::StringBuffer> w(schema_json);
    doc["schema"].Accept(w);
  }
  std::string prefix = "{\"schema\":";
  prefix += schema_json.GetString();
  prefix += ",\"data\":[";
  const std::string suffix = "]}";
  event::CollectorPayload part = payload;
  part.body = std::string();
  const std::size_t base = event::encode_thrift(part).size() + prefix.size() + suffix.size();
  if (base >= max_record_bytes_) {
    out.bad_rows.push_back(
        event::size_violation(processor(), now_ms, max_record_bytes_, n,
                              "oversized collector payload: headers alone exceed the record size",
                              event::collector_payload_json(payload)));
    return;
  }
  std::string chunk;
  auto flush = [&] {
    if (chunk.empty()) return;
    part.body = prefix + chunk + suffix;
    out.records.push_back(event::encode_thrift(part));
    chunk.clear();
  };
  for (const auto& element : doc["data"].GetArray()) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    element.Accept(w);
    std::string_view json(sb.GetString(), sb.GetSize());
    if (base + json.size() >= max_record_bytes_) {
      out.bad_rows.push_back(event::size_violation(
          processor(), now_ms, max_record_bytes_, base + json.size(),
          "oversized collector payload: event in POST payload exceeds the record size", json));
      continue;
    }
    std::size_t cost = json.size() + (chunk.empty() ? 0 : 1);
    if (base + chunk.size() + cost >= max_record_bytes_) {
      flush();
      cost = json.size();
    }
    if (!chunk.empty()) chunk += ',';
    chunk += json;
  }
  flush();
}

bool Handler::bounce(const HttpRequest& req, std::string_view query, int64_t now_ms,
                     HttpResponse& resp) const {
  std::string_view host = trim(header(req, "Host"));
  if (!safe_host(host) || req.target.empty() || req.target[0] != '/' ||
      !printable_ascii(req.target)) {
    return false;  // no safe Location can be built: track without the bounce
  }
  std::string_view scheme = "http";
  if (!config_.cookie_bounce.forwarded_protocol_header.empty()) {
    std::string_view proto = trim(header(req, config_.cookie_bounce.forwarded_protocol_header));
    if (equals_icase(proto, "https")) scheme = "https";
  }
  std::string location(scheme);
  location += "://";
  location += host;
  location += req.target;
  location += query.empty() ? (req.target.back() == '?' ? "" : "?") : "&";
  location += config_.cookie_bounce.name;
  location += "=true";
  std::string fresh;
  random_uuid_v4(fresh);
  resp.status = 302;
  resp.content_type = {};
  resp.body.clear();
  resp.location = std::move(location);
  set_cookie_value(fresh, now_ms, req, false, resp.set_cookie);
  return true;
}

void Handler::track(const HttpRequest& req, std::string_view path, std::string_view query,
                    int64_t now_ms, Outcome& out, bool is_redirect) const {
  HttpResponse& resp = out.response;
  const bool is_post = req.method == "POST";
  const bool anonymous = has_header(req, "SP-Anonymous");
  std::string_view cookies = header(req, "Cookie");

  if (is_redirect) {
    if (!config_.redirect.enabled) {
      resp.status = 404;
      resp.content_type = "text/plain; charset=UTF-8";
      resp.body = "redirects disabled";
      return;
    }
    std::string_view raw_u;
    int n = find_query_param(query, "u", raw_u);
    std::string reason;
    std::string target = url_decode(raw_u);
    if (n != 1) {
      reason = n == 0 ? "missing u parameter" : "u parameter given more than once";
    } else if (redirect_target_allowed(target, config_.redirect.allowed_hosts, reason)) {
      resp.status = 302;
      resp.location = std::move(target);
    }
    if (resp.status != 302) {
      resp.status = 400;
      resp.content_type = "text/plain; charset=UTF-8";
      resp.body = "redirect refused: " + reason;
      return;
    }
  } else if (is_post) {
    resp.content_type = "text/plain; charset=UTF-8";
    resp.body = "ok";
  } else {
    resp.content_type = "image/gif";
    resp.body.assign(pixel_gif());
    resp.no_cache = true;
  }
  cors(req, resp);

  // Do-not-track cookie: answer normally, store nothing, set no cookie.
  if (dnt_value_) {
    std::string_view v;
    if (cookie_value(cookies, config_.do_not_track_cookie.name, v) &&
        re2::RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *dnt_value_)) {
      return;
    }
  }

  // Network user id (spec 2.3), only UUID-shaped values accepted from the client.
  std::string nuid;
  bool had_cookie = false;
  bool fallback_nuid = false;
  std::string_view cookie_v;
  had_cookie = cookie_value(cookies, config_.cookie.name, cookie_v);
  if (anonymous) {
    nuid = kAnonymousNuid;
  } else {
    std::string_view q;
    if (find_query_param(query, "nuid", q) > 0 && is_uuid(q)) {
      nuid = q;
    } else if (had_cookie && is_uuid(cookie_v)) {
      nuid = cookie_v;
    } else if (config_.cookie_bounce.enabled && config_.cookie.enabled && !is_post &&
               !is_redirect) {
      std::string_view bounced;
      if (find_query_param(query, config_.cookie_bounce.name, bounced) > 0) {
        // The cookie set by the bounce did not come back: third-party cookies are blocked.
        nuid = config_.cookie_bounce.fallback_network_user_id;
        fallback_nuid = true;
      } else if (bounce(req, query, now_ms, resp)) {
        return;  // nothing stored: the event comes back with the bounced request
      } else {
        random_uuid_v4(nuid);
      }
    } else {
      random_uuid_v4(nuid);
    }
  }
  if (config_.cookie.enabled && !fallback_nuid) {
    if (!anonymous) {
      set_cookie_value(nuid, now_ms, req, false, resp.set_cookie);
    } else if (had_cookie) {
      set_cookie_value("", now_ms, req, true, resp.set_cookie);
    }
  }

  if (is_post && config_.limits.max_events_per_post > 0 &&
      req.body.size() >= 3 * config_.limits.max_events_per_post &&
      may_exceed_post_events(req.body, config_.limits.max_events_per_post)) {
    const std::optional<std::size_t> events = count_post_data_events(req.body);
    if (events && *events > config_.limits.max_events_per_post) {
      event::CollectorPayload p = build_payload(req, path, query, now_ms, nuid, anonymous);
      out.bad_rows.push_back(event::size_violation(
          processor(), now_ms, config_.limits.max_events_per_post, *events,
          "too many events in one POST: " + std::to_string(*events) + ", at most " +
              std::to_string(config_.limits.max_events_per_post) + " allowed",
          event::collector_payload_json(p)));
      return;
    }
  }
  // Fast path: the record is encoded straight from the request. Anything that needs the payload
  // as a value (bad rows, splitting) takes the general path, which encodes the same bytes.
  std::string record;
  if (encode_payload(req, path, query, now_ms, nuid, anonymous, record) &&
      record.size() <= config_.limits.max_payload_bytes && record.size() < max_record_bytes_) {
    out.records.push_back(std::move(record));
    return;
  }
  store(build_payload(req, path, query, now_ms, nuid, anonymous), is_post, now_ms, out);
}

void Handler::handle(const HttpRequest& req, int64_t now_ms, Outcome& out) const {
  out.clear();
  HttpResponse& resp = out.response;
  std::string_view target = req.target;
  auto qpos = target.find('?');
  std::string_view path = target.substr(0, qpos);
  std::string_view query =
      qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
  const std::string_view m = req.method;
  const bool get_like = m == "GET" || m == "HEAD";

  if (m == "OPTIONS") {
    out.route = Route::kOptions;
    cors(req, resp);
    resp.preflight = true;
    resp.cors_max_age = config_.cors_max_age_seconds;
    return;
  }
  auto text = [&](int status, std::string_view body) {
    resp.status = status;
    resp.content_type = "text/plain; charset=UTF-8";
    resp.body.assign(body);
  };
  if (path == "/health") {
    out.route = Route::kHealth;
    if (get_like) return text(200, "ok");
    return text(405, "method not allowed");
  }
  if (path == "/sink-health") {
    out.route = Route::kSinkHealth;
    if (!get_like) return text(405, "method not allowed");
    out.wants_sink_health = true;
    return text(200, "ok");
  }
  if (path == "/robots.txt") {
    out.route = Route::kRobots;
    if (!get_like) return text(405, "method not allowed");
    return text(200, kRobots);
  }
  for (std::size_t i = 0; i < config_.assets.size(); ++i) {
    const StaticAsset& a = config_.assets[i];
    if (path != a.path) continue;
    out.route = Route::kAsset;
    if (!get_like) return text(405, "method not allowed");
    resp.cache_control = a.cache_control;
    // Public files: any site may load them with Subresource Integrity, which for a cross-origin
    // script needs a CORS grant (no credentials).
    resp.allow_origin = "*";
    resp.etag = asset_etags_[i];
    std::string_view inm = header(req, "If-None-Match");
    if (!inm.empty() && none_match(inm, asset_etags_[i])) {
      resp.status = 304;
      return;
    }
    resp.content_type = a.content_type;
    resp.body.assign(a.body);
    return;
  }
  if (path == "/") {
    out.route = Route::kRoot;
    const RootResponseConfig& root = config_.root_response;
    if (!root.enabled || !get_like) return text(404, "not found");
    resp.status = root.status;
    resp.body.assign(root.body);
    resp.extra_headers = root.headers;
    return;
  }
  if (path == "/crossdomain.xml") {
    out.route = Route::kCrossDomain;
    if (!config_.cross_domain.enabled || !get_like) return text(404, "not found");
    resp.content_type = "text/xml";
    resp.body = cross_domain_xml_;
    return;
  }
  // Custom paths map onto canonical ones before routing (spec 2.6).
  if (!config_.paths.empty()) {
    auto it = config_.paths.find(std::string(path));
    if (it != config_.paths.end()) path = it->second;
  }
  if (path == "/i" || path == "/ice.png") {
    out.route = Route::kPixel;
    if (!get_like) return text(404, "not found");
    return track(req, path, query, now_ms, out, false);
  }
  if (path.size() > 3 && path.substr(0, 3) == "/r/") {
    out.route = Route::kRedirect;
    if (m != "GET") return text(404, "not found");
    return track(req, path, query, now_ms, out, true);
  }
  std::string_view vendor;
  if (two_segments(path, vendor)) {
    if (get_like) {
      out.route = Route::kGetTracking;
      return track(req, path, query, now_ms, out, false);
    }
    if (m == "POST") {
      out.route = Route::kPostTracking;
      return track(req, path, query, now_ms, out, false);
    }
  }
  out.route = Route::kNotFound;
  text(404, "not found");
}

}  // namespace furrow::collector
