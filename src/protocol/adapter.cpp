// adapt(): the CollectorPayload checks of Snowplow's loaders (collector_payload_format_violation),
// routing by path, and the RawEvent context every adapter shares (spec sections 2.7, 2.9).
#include "protocol/adapter.h"

#include <algorithm>
#include <utility>

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

// decode_query() as views for a GET event: the decoded names and values go into out.query_text
// (reserved here; a reallocation would leave earlier views dangling, so it declines instead). Names
// the field mapping does not know are left out (they are never mapped), and so are known names
// without '=' (never mapped either, but remembered as seen). Fails when a known name repeats (the
// general path keeps its first place with the last value) or when the query has no parameter.
bool query_views(std::string_view qs, ViewEvents& out) {
  out.clear();
  std::string& arena = out.query_text;
  arena.clear();
  arena.reserve(2 * qs.size() + 16);
  const std::size_t capacity = arena.capacity();
  out.begins.push_back(0);
  uint64_t seen[2] = {0, 0};
  static_assert(kParamKeyCount <= 128);
  bool ok = true, any = false;
  std::string scratch;
  common::for_each_raw_pair(
      common::query_part(qs), [&](std::string_view name, std::optional<std::string_view> value) {
        if (!ok) return;
        const std::string_view n = common::normalize_blanks(name, scratch);
        if (n.empty()) return;
        any = true;
        const std::size_t name_at = arena.size();
        common::url_decode_append(n, arena);
        const int id = param_key_id(std::string_view(arena).substr(name_at));
        if (id < 0) {
          if (value) out.dropped_unknown = true;
          arena.resize(name_at);
          return;
        }
        const uint64_t bit = uint64_t{1} << (id & 63);
        if ((seen[id >> 6] & bit) != 0) {
          ok = false;
          return;
        }
        seen[id >> 6] |= bit;
        if (!value) {
          arena.resize(name_at);
          return;
        }
        const std::size_t value_at = arena.size();
        common::url_decode_append(common::normalize_blanks(*value, scratch), arena);
        out.params.push_back(ParamView{std::string_view(arena).substr(name_at, value_at - name_at),
                                       std::string_view(arena).substr(value_at), id});
      });
  return ok && any && arena.capacity() == capacity;
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
  ctx.user_id.reset();
  if (payload.network_user_id) {
    ctx.user_id = canonical_uuid(*payload.network_user_id);
    if (!ctx.user_id) return false;
  }
  if (payload.headers) {
    ctx.ip_address = extract_ip_address(*payload.headers, payload.ip_address);
  } else {
    ctx.ip_address = payload.ip_address;
  }
  return true;
}

}  // namespace furrow::protocol
