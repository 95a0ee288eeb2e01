#include "enrich/enrichments/anon_ip/anon_ip.h"

#include <cstdio>
#include <vector>

#include "common/strings.h"
#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {

namespace {

// Java's String.split: trailing empty parts are dropped (an empty input gives one empty part).
std::vector<std::string_view> java_split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  if (s.empty()) return parts;
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts;
}

// Keeps part i while total − i > masked; the others become "x".
std::string mask_parts(std::string_view s, char sep, int total, int masked) {
  std::string out;
  auto parts = java_split(s, sep);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    if (total - static_cast<int>(i) <= masked) {
      out += 'x';
    } else {
      out.append(parts[i]);
    }
  }
  return out;
}

std::string v6_full_form(const uint8_t* b) {
  std::string out;
  char buf[8];
  for (int g = 0; g < 8; ++g) {
    if (g > 0) out += ':';
    std::snprintf(buf, sizeof buf, "%x", (b[2 * g] << 8) | b[2 * g + 1]);
    out += buf;
  }
  return out;
}

}  // namespace

std::string anonymize_ip(std::string_view ip, int octets, int segments) {
  // IPv4-mapped IPv6 keeps the textual prefix (Java turns such an address into an Inet4Address).
  if (starts_with_icase(ip, "::ffff:")) {
    std::string_view v4 = ip.substr(7);
    if (auto a = parse_ip(v4); a && !a->is_v6) {
      return std::string(ip.substr(0, 7)) + mask_parts(v4, '.', 4, octets);
    }
  }
  if (auto a = parse_ip(ip)) {
    if (!a->is_v6) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2],
                    a->bytes[3]);
      return mask_parts(buf, '.', 4, octets);
    }
    return mask_parts(v6_full_form(a->bytes), ':', 8, segments);
  }
  if (ip.empty() || ip.find('.') != std::string_view::npos) return mask_parts(ip, '.', 4, octets);
  if (ip.find(':') != std::string_view::npos) return mask_parts(ip, ':', 8, segments);
  return std::string(ip);
}

void AnonIpEnrichment::apply(EventContext& ctx) const {
  std::string& ip = ctx.event()[event::Field::user_ipaddress];
  // A null user_ipaddress stays null (Snowplow maps over an Option).
  if (ip.empty()) return;
  ip = anonymize_ip(ip, octets_, segments_);
}

Result<std::shared_ptr<const Enrichment>> make_anon_ip(const EnrichmentConfig& c,
                                                       const LoadOptions&) {
  if (c.parameters == nullptr) return c.error("data.parameters", "required object is missing");
  if (auto s = check_keys(c, c.parameters, {"anonOctets", "anonSegments"}, "data.parameters");
      !s.ok()) {
    return s.error();
  }
  auto octets = optional_int(c, c.parameters, "anonOctets", "data.parameters.anonOctets");
  if (!octets.ok()) return octets.error();
  if (!octets->has_value()) {
    return c.error("data.parameters.anonOctets", "required integer is missing");
  }
  if (**octets < 1 || **octets > 4) {
    return c.error("data.parameters.anonOctets", "expected an integer from 1 to 4");
  }
  auto segments = optional_int(c, c.parameters, "anonSegments", "data.parameters.anonSegments");
  if (!segments.ok()) return segments.error();
  int seg = static_cast<int>(segments->value_or(**octets));
  if (seg < 1 || seg > 8) {
    return c.error("data.parameters.anonSegments", "expected an integer from 1 to 8");
  }
  return std::shared_ptr<const Enrichment>(
      std::make_shared<AnonIpEnrichment>(static_cast<int>(**octets), seg));
}

}  // namespace furrow::enrich::enrichments
