// adapt(): the CollectorPayload checks of Snowplow's loaders (collector_payload_format_violation),
// routing by path, and the RawEvent context every adapter shares (spec sections 2.7, 2.9).
#include "protocol/adapter.h"

#include <algorithm>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/url_codec.h"
#include "protocol/adapters_internal.h"
#include "protocol/ip_address.h"
#include "protocol/json_util.h"
#include "protocol/messages.h"
#include "protocol/uuid_check.h"

namespace furrow::protocol {
namespace {

using event::Params;

constexpr std::string_view kSnowplow = "com.snowplowanalytics.snowplow";

struct Route {
  std::string_view vendor;
  std::string_view version;
  detail::AdapterFn fn;
};

constexpr Route kRoutes[] = {
    {kSnowplow, "tp1", detail::tp1_adapter},
    {kSnowplow, "tp2", detail::tp2_adapter},
    {"r", "tp2", detail::redirect_adapter},
    {"com.snowplowanalytics.iglu", "v1", detail::iglu_adapter},
};

// Snowplow's ApiPathRegex ^[/]?([^/]+)/([^/]+)[/]?$, then the legacy pixel paths.
bool parse_api(std::string_view path, std::string_view& vendor, std::string_view& version) {
  std::string_view p = path;
  if (!p.empty() && p.front() == '/') p.remove_prefix(1);
  if (!p.empty() && p.back() == '/') p.remove_suffix(1);
  auto slash = p.find('/');
  if (slash != std::string_view::npos && slash > 0 && slash + 1 < p.size() &&
      p.find('/', slash + 1) == std::string_view::npos) {
    vendor = p.substr(0, slash);
    version = p.substr(slash + 1);
    return true;
  }
  if (path.substr(0, 8) == "/ice.png" || path == "/i" || path.substr(0, 3) == "/i?") {
    vendor = kSnowplow;
    version = "tp1";
    return true;
  }
  return false;
}

bool is_collector_payload_schema(std::string_view uri) {
  // What every collector writes (a text the rule below accepts): one compare instead of a parse.
  if (uri == event::kCollectorPayloadSchema) return true;
  SchemaKeyParts key;
  return parse_schema_uri(uri, key) == nullptr && key.vendor == kSnowplow &&
         key.name == "CollectorPayload" && key.format == "thrift" && key.model == 1 &&
         key.revision == 0;
}

// Decodes the query string into `out` (last occurrence of a name wins, in place).
void decode_query(std::string_view qs, Params& out) {
  std::string scratch;
  common::for_each_raw_pair(
      common::query_part(qs), [&](std::string_view name, std::optional<std::string_view> value) {
        std::string_view n = common::normalize_blanks(name, scratch);
        if (n.empty()) return;
        std::string decoded_name;
        common::url_decode_append(n, decoded_name);
        if (!value) {
          out.set(std::move(decoded_name), std::nullopt);
          return;
        }
        std::string decoded_value;
        common::url_decode_append(common::normalize_blanks(*value, scratch), decoded_value);
        out.set(std::move(decoded_name), std::move(decoded_value));
      });
}

bool fail(AdapterError& error, AdapterError::Kind kind, std::string_view vendor,
          std::string_view version, std::vector<std::string> messages) {
  error.kind = kind;
  error.vendor.assign(vendor);
  error.version.assign(version);
  error.messages_json = std::move(messages);
  return false;
}

}  // namespace

bool adapt(const event::CollectorPayload& payload, std::string_view loader_name,
           std::vector<event::RawEvent>& out, AdapterError& error) {
  // 1. What Snowplow's loader checks before any adapter runs; every violation is reported.
  std::vector<std::string> violations;
  std::string_view encoding =
      payload.encoding ? std::string_view(*payload.encoding) : std::string_view("UTF-8");
  if (payload.querystring) {
    std::string why;
    if (!common::is_valid_uri_query(*payload.querystring, &why)) {
      violations.push_back(
          msg::payload_field("querystring", *payload.querystring,
                             "could not extract name-value pairs from querystring with encoding " +
                                 std::string(encoding) + ": " + why));
    }
  }
  std::string_view vendor, version;
  if (!payload.path) {
    violations.push_back(
        msg::payload_field("path", std::nullopt, "request does not contain a path"));
  } else if (!parse_api(*payload.path, vendor, version)) {
    violations.push_back(
        msg::payload_field("path", *payload.path,
                           "path does not match (/)vendor/version(/) nor is a legacy /i(ce.png) "
                           "request"));
  }
  std::optional<std::string> user_id;
  if (payload.network_user_id) {
    user_id = canonical_uuid(*payload.network_user_id);
    if (!user_id)
      violations.push_back(
          msg::payload_field("networkUserId", *payload.network_user_id, "not valid UUID"));
  }
  if (!is_collector_payload_schema(payload.schema)) {
    violations.push_back(
        msg::fallback("verifying record as "
                      "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-* failed: "
                      "found " +
                      payload.schema));
  }
  if (!violations.empty()) {
    return fail(error, AdapterError::Kind::kCollectorPayloadFormat, vendor, version,
                std::move(violations));
  }

  // 2. Route and run the adapter.
  Params query;
  if (payload.querystring) {
    query.reserve(static_cast<std::size_t>(
                      std::count(payload.querystring->begin(), payload.querystring->end(), '&')) +
                  1);
    decode_query(*payload.querystring, query);
  }
  detail::AdapterFn fn = nullptr;
  for (const auto& r : kRoutes) {
    if (r.vendor == vendor && r.version == version) fn = r.fn;
  }
  if (fn == nullptr) {
    return fail(error, AdapterError::Kind::kAdapter, vendor, version,
                {msg::input_data("vendor/version", std::string(vendor) + "/" + std::string(version),
                                 "vendor/version combination is not supported")});
  }
  std::vector<Params> events;
  std::vector<std::string> messages;
  detail::Request request{payload, query, vendor, version};
  if (!fn(request, events, messages)) {
    bool tracker_protocol = version == "tp2" && (vendor == kSnowplow || vendor == "r");
    return fail(
        error,
        tracker_protocol ? AdapterError::Kind::kTrackerProtocol : AdapterError::Kind::kAdapter,
        vendor, version, std::move(messages));
  }

  // 3. The request context, shared by every event of the payload.
  std::optional<std::string> ip = payload.headers
                                      ? extract_ip_address(*payload.headers, payload.ip_address)
                                      : payload.ip_address;
  out.reserve(out.size() + events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    event::RawEvent& e = out.emplace_back();
    e.vendor.assign(vendor);
    e.version.assign(version);
    e.parameters = std::move(events[i]);
    e.content_type = payload.content_type;
    e.loader_name.assign(loader_name);
    e.encoding.assign(encoding);
    e.hostname = payload.hostname;
    e.timestamp = payload.timestamp;
    e.ip_address = ip;
    e.useragent = payload.user_agent;
    e.referer_uri = payload.referer_uri;
    if (payload.headers) e.headers = *payload.headers;
    e.user_id = user_id;
  }
  return true;
}

namespace {

// The first '&' or ';' (with kName also '=') in [p, end), or end: where a raw name or value ends,
// as for_each_raw_pair splits. `coded` is set when a '%', '+' or byte >= 0x80 comes before it
// (text that url_decode_append would change or check). Sixteen bytes at a time with SSE2 (part of
// x86-64: inlined, no run-time check).
template <bool kName>
const char* raw_part_end(const char* p, const char* end, bool& coded) {
#if defined(__SSE2__)
  const __m128i amp = _mm_set1_epi8('&'), semi = _mm_set1_epi8(';'), eq = _mm_set1_epi8('=');
  const __m128i pct = _mm_set1_epi8('%'), plus = _mm_set1_epi8('+');
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i delim = _mm_or_si128(_mm_cmpeq_epi8(x, amp), _mm_cmpeq_epi8(x, semi));
    if constexpr (kName) delim = _mm_or_si128(delim, _mm_cmpeq_epi8(x, eq));
    const auto stops = static_cast<unsigned>(_mm_movemask_epi8(delim));
    // (movemask takes each byte's top bit: set in a matching compare and in a byte >= 0x80.)
    const auto flags = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, pct), _mm_cmpeq_epi8(x, plus)), x)));
    if (stops != 0) {
      const unsigned at = static_cast<unsigned>(__builtin_ctz(stops));
      coded |= (flags & ((1u << at) - 1)) != 0;
      return p + at;
    }
    coded |= flags != 0;
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const char c = *p;
    if (c == '&' || c == ';' || (kName && c == '=')) return p;
    coded |= c == '%' || c == '+' || static_cast<unsigned char>(c) >= 0x80;
  }
  return end;
}

// decode_query() as views for a GET event whose query string passed is_valid_uri_query. Names and
// values with nothing to decode (no '%', '+' or non-ASCII byte) are viewed in the query string
// itself; the others are decoded into out.query_text (reserved here; a reallocation would leave
// earlier views dangling, so it declines instead). Names the field mapping does not know are left
// out (they are never mapped), and so are known names without '=' (never mapped either, but
// remembered as seen). Fails when a known name repeats (the general path keeps its first place
// with the last value) or when the query has no parameter. Pairs split as for_each_raw_pair does;
// a valid query has no blank, so normalize_blanks would return every name and value unchanged.
bool query_views(std::string_view qs, ViewEvents& out) {
  out.clear();
  std::string& arena = out.query_text;
  arena.clear();
  arena.reserve(2 * qs.size() + 16);
  const std::size_t capacity = arena.capacity();
  out.begins.push_back(0);
  uint64_t seen[2] = {0, 0};
  static_assert(kParamKeyCount <= 128);
  bool any = false;
  const std::string_view query = common::query_part(qs);
  const char* p = query.data();
  const char* const end = p + query.size();
  while (p < end) {
    bool name_coded = false, value_coded = false;
    const char* const name_end = raw_part_end<true>(p, end, name_coded);
    const std::string_view raw_name(p, static_cast<std::size_t>(name_end - p));
    std::string_view raw_value;
    bool has_value = false;
    p = name_end;
    if (p < end && *p == '=') {
      const char* const value_start = p + 1;
      p = raw_part_end<false>(value_start, end, value_coded);
      raw_value = std::string_view(value_start, static_cast<std::size_t>(p - value_start));
      has_value = true;
    }
    if (p < end) ++p;  // the separator
    if (raw_name.empty()) continue;
    any = true;
    std::string_view name = raw_name;
    const std::size_t name_at = arena.size();
    if (name_coded) {
      common::url_decode_append(raw_name, arena);
      name = std::string_view(arena).substr(name_at);
    }
    const int id = param_key_id(name);
    if (id < 0) {
      if (has_value) out.dropped_unknown = true;
      arena.resize(name_at);
      continue;
    }
    const uint64_t bit = uint64_t{1} << (id & 63);
    if ((seen[id >> 6] & bit) != 0) return false;
    seen[id >> 6] |= bit;
    if (!has_value) {
      arena.resize(name_at);
      continue;
    }
    std::string_view value = raw_value;
    if (value_coded) {
      const std::size_t value_at = arena.size();
      common::url_decode_append(raw_value, arena);
      value = std::string_view(arena).substr(value_at);
    }
    out.params.push_back(ParamView{name, value, id});
  }
  return any && arena.capacity() == capacity;
}

}  // namespace

bool adapt_views(const event::CollectorPayload& payload, std::string& arena, ViewEvents& out,
                 ViewContext& ctx) {
  // The same checks as adapt(), tp1_adapter() and tp2_adapter(), in the cases where all pass.
  if (!payload.path) return false;
  std::string_view vendor, version;
  if (!parse_api(*payload.path, vendor, version) || vendor != kSnowplow) return false;
  if (!is_collector_payload_schema(payload.schema)) return false;
  if (payload.body) {
    // tp2 POST: a payload_data body and no query string to merge into its events.
    if (version != "tp2" || payload.querystring || !payload.content_type ||
        !detail::is_allowed_content_type(*payload.content_type)) {
      return false;
    }
    // Invalid UTF-8 is repaired by the general path first.
    if (!common::is_valid_utf8(*payload.body)) return false;
    if (!detail::scan_payload_views(*payload.body, arena, out)) return false;
  } else {
    // tp1 or tp2 GET: one event, the query string.
    if ((version != "tp2" && version != "tp1") || !payload.querystring || payload.content_type ||
        !common::is_valid_uri_query(*payload.querystring)) {
      return false;
    }
    if (!query_views(*payload.querystring, out)) return false;
  }
  if (payload.network_user_id) {
    // (Written into the previous payload's string: no allocation per payload.)
    std::string& user_id = ctx.user_id ? *ctx.user_id : ctx.user_id.emplace();
    if (!canonical_uuid(*payload.network_user_id, user_id)) {
      ctx.user_id.reset();
      return false;
    }
  } else {
    ctx.user_id.reset();
  }
  if (payload.headers) {
    ctx.ip_address = extract_ip_address(*payload.headers, payload.ip_address);
  } else {
    ctx.ip_address = payload.ip_address;
  }
  return true;
}

}  // namespace furrow::protocol
