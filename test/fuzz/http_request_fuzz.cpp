// Fuzzes the collector's request-to-payload path (collector::Handler) without sockets: routing,
// cookies, CORS origins, nuid, query strings, redirect targets, custom paths, X-Forwarded-For,
// splitting and size limits. Input: "METHOD TARGET\n" then "Name: value\n" lines, a blank line,
// then the body. Checks that nothing crashes, that reflected headers never carry CR, LF or NUL,
// and that every stored record decodes back to a CollectorPayload with the right path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collector/handler.h"
#include "event/collector_payload.h"

namespace {

using furrow::collector::CollectorConfig;
using furrow::collector::Handler;
using furrow::collector::Header;
using furrow::collector::HttpRequest;
using furrow::collector::Outcome;

const Handler& handler(int which) {
  static const Handler plain(CollectorConfig{}, "stdout", 1'000'000'000);
  static const Handler strict = [] {
    CollectorConfig c;
    c.redirect.enabled = true;
    c.redirect.allowed_hosts = {"example.com", "[::1]"};
    c.cookie.domains = {"acme.com", "b.org"};
    c.cookie.fallback_domain = "f.net";
    c.do_not_track_cookie = {true, "dnt", "1|yes"};
    c.trusted_proxies = {"10.0.0.0/8", "::1"};
    c.paths["/com.acme/t"] = "/com.snowplowanalytics.snowplow/tp2";
    c.paths["/com.acme/r"] = "/r/tp2";
    c.limits.max_payload_bytes = 4096;
    c.limits.max_events_per_post = 4;
    c.cookie_bounce.enabled = true;
    c.cookie_bounce.forwarded_protocol_header = "X-Forwarded-Proto";
    c.root_response = {true, 302, {{"Location", "https://acme.com/"}}, "moved"};
    c.assets.push_back({"/sp.js", "text/javascript", "var x;", "public, max-age=3600"});
    return Handler(c, "rawlog", 2048);
  }();
  return which == 0 ? plain : strict;
}

bool clean(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto line_end = in.find('\n');
  std::string_view first = in.substr(0, line_end);
  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view{} : in.substr(line_end + 1);
  auto sp = first.find(' ');
  std::string_view method = first.substr(0, sp);
  std::string_view target =
      sp == std::string_view::npos ? std::string_view("/") : first.substr(sp + 1);
  std::vector<Header> headers;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.emplace_back(line.substr(0, colon), value);
  }
  for (int which = 0; which < 2; ++which) {
    HttpRequest req{method, target, headers, rest, which == 0 ? "127.0.0.1" : "10.1.1.1"};
    Outcome out;
    handler(which).handle(req, 1'700'000'000'000, out);
    const auto& r = out.response;
    if (!clean(r.set_cookie) || !clean(r.location) || !clean(r.allow_origin)) std::abort();
    if (r.status == 302 && r.location.empty() && out.route != furrow::collector::Route::kRoot)
      std::abort();
    for (char c : r.location) {
      auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f) std::abort();  // Location is printable ASCII only
    }
    if (r.status == 304 && !r.body.empty()) std::abort();
    for (const auto& rec : out.records) {
      auto p = furrow::event::decode_thrift(rec);
      if (!p.ok() || !p->path || p->path->empty() || !p->network_user_id) std::abort();
    }
  }
  return 0;
}
