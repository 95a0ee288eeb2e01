#include "enrich/enrichments/cross_navigation_config/cross_navigation_config.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <vector>

#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {

namespace {

// Decodes base64url (with or without padding; '+'/'/' accepted too). nullopt when malformed.
std::optional<std::string> base64url_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      v = 62;
    } else if (c == '_' || c == '/') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

// "yyyy-MM-ddTHH:mm:ss.SSSZ"; nullopt outside years 0..9999.
std::optional<std::string> iso_timestamp(int64_t ms) {
  if (ms < -62167219200000LL || ms > 253402300799999LL) return std::nullopt;
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::nullopt;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return std::string(buf);
}

}  // namespace

std::optional<std::string> cross_navigation_context(std::string_view sp) {
  if (sp.empty()) return std::nullopt;
  std::vector<std::string_view> parts;
  while (true) {
    auto dot = sp.find('.');
    parts.push_back(sp.substr(0, dot));
    if (dot == std::string_view::npos) break;
    sp.remove_prefix(dot + 1);
  }
  auto part = [&](std::size_t i) { return i < parts.size() ? parts[i] : std::string_view(); };
  std::string_view duid = part(0);
  std::string_view ts = part(1);
  if (duid.empty() || ts.empty()) return std::nullopt;
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), ms);
  if (ec != std::errc() || end != ts.data() + ts.size()) return std::nullopt;
  auto iso = iso_timestamp(ms);
  if (!iso) return std::nullopt;

  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("schema");
  w.String(kCrossNavigationSchema);
  w.Key("data");
  w.StartObject();
  w.Key("domain_user_id");
  write_string(w, duid);
  w.Key("timestamp");
  write_string(w, *iso);
  w.Key("session_id");
  write_nullable(w, part(2));
  auto decoded = [&](std::size_t i) {
    auto d = base64url_decode(part(i));
    return d ? *d : std::string();
  };
  w.Key("user_id");
  write_nullable(w, decoded(3));
  w.Key("source_id");
  write_nullable(w, decoded(4));
  w.Key("source_platform");
  write_nullable(w, part(5));
  w.Key("reason");
  write_nullable(w, decoded(6));
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

void CrossNavigationEnrichment::apply(EventContext& ctx) const {
  const std::string* sp = nullptr;
  std::vector<std::pair<std::string, std::string>> own;
  const auto* q = &ctx.page_query();
  if (q->empty() && ctx.event().has(event::Field::page_urlquery)) {
    own = parse_query(ctx.event().text(event::Field::page_urlquery));
    q = &own;
  }
  for (const auto& [k, v] : *q) {
    if (k == "_sp") sp = &v;
  }
  if (sp == nullptr) return;
  if (auto c = cross_navigation_context(*sp)) ctx.add_derived_context(std::move(*c));
}

Result<std::shared_ptr<const Enrichment>> make_cross_navigation(const EnrichmentConfig& c,
                                                                const LoadOptions&) {
  if (auto s = check_keys(c, c.parameters, {}, "data.parameters"); !s.ok()) return s.error();
  return std::shared_ptr<const Enrichment>(std::make_shared<CrossNavigationEnrichment>());
}

}  // namespace furrow::enrich::enrichments
