#include "event/bad_row.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>

#include "common/time_format.h"
#include "common/uri.h"

namespace furrow::event {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view kBadRowPrefix = "iglu:com.snowplowanalytics.snowplow.badrows/";

void put_string(Writer& w, std::string_view s) {
  std::string fixed;
  if (utf8_sanitize(s, fixed)) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  } else {
    w.String(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()));
  }
}

void put_key(Writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

void put_opt(Writer& w, const std::optional<std::string>& s) {
  if (s) {
    put_string(w, *s);
  } else {
    w.Null();
  }
}

// Inserts an already serialised JSON value verbatim.
void put_raw(Writer& w, std::string_view json) {
  w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

void put_instant(Writer& w, int64_t ms) {
  std::string s;
  append_iso_instant(ms, s);
  put_string(w, s);
}

void put_opt_instant(Writer& w, const std::optional<int64_t>& ms) {
  if (ms) {
    put_instant(w, *ms);
  } else {
    w.Null();
  }
}

// Writes the envelope up to and including `"failure":{"timestamp":...`; the caller adds the rest
// of the failure object and closes it, then writes the payload and calls end_document.
void begin_document(Writer& w, std::string_view name, std::string_view version, const Processor& p,
                    int64_t now_ms) {
  w.StartObject();
  put_key(w, "schema");
  std::string schema(kBadRowPrefix);
  schema += name;
  schema += "/jsonschema/";
  schema += version;
  put_string(w, schema);
  put_key(w, "data");
  w.StartObject();
  put_key(w, "processor");
  w.StartObject();
  put_key(w, "artifact");
  put_string(w, p.artifact);
  put_key(w, "version");
  put_string(w, p.version);
  w.EndObject();
  put_key(w, "failure");
  w.StartObject();
  put_key(w, "timestamp");
  put_instant(w, now_ms);
}

std::string end_document(Writer& w, rapidjson::StringBuffer& buf) {
  w.EndObject();  // data
  w.EndObject();  // document
  return std::string(buf.GetString(), buf.GetSize());
}

void put_messages(Writer& w, const std::vector<std::string>& messages_json) {
  put_key(w, "messages");
  w.StartArray();
  for (const auto& m : messages_json) put_raw(w, m);
  w.EndArray();
}

// vendor/version of the adapter the path routes to (spec 2.7); empty when it routes nowhere.
void api_from_path(const std::optional<std::string>& path, std::string& vendor,
                   std::string& version) {
  vendor.clear();
  version.clear();
  if (!path) return;
  std::string_view p = *path;
  if (p == "/i" || p.rfind("/i?", 0) == 0 || p.rfind("/ice.png", 0) == 0) {
    vendor = "com.snowplowanalytics.snowplow";
    version = "tp1";
    return;
  }
  std::string_view s = p;
  if (!s.empty() && s.front() == '/') s.remove_prefix(1);
  if (!s.empty() && s.back() == '/') s.remove_suffix(1);
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= s.size()) return;
  if (s.find('/', slash + 1) != std::string_view::npos) return;
  vendor = s.substr(0, slash);
  version = s.substr(slash + 1);
}

void write_collector_payload(Writer& w, const CollectorPayload& cp) {
  std::string vendor, version;
  api_from_path(cp.path, vendor, version);
  w.StartObject();
  put_key(w, "vendor");
  put_string(w, vendor);
  put_key(w, "version");
  put_string(w, version);
  put_key(w, "querystring");
  w.StartArray();
  if (cp.querystring) {
    QueryPairs pairs;
    parse_query(*cp.querystring, pairs);
    for (const auto& [name, value] : pairs) {
      w.StartObject();
      put_key(w, "name");
      put_string(w, name);
      put_key(w, "value");
      put_opt(w, value);
      w.EndObject();
    }
  }
  w.EndArray();
  put_key(w, "contentType");
  put_opt(w, cp.content_type);
  put_key(w, "body");
  put_opt(w, cp.body);
  put_key(w, "collector");
  put_opt(w, cp.collector);
  put_key(w, "encoding");
  put_opt(w, cp.encoding);
  put_key(w, "hostname");
  put_opt(w, cp.hostname);
  put_key(w, "timestamp");
  put_opt_instant(w, cp.timestamp);
  put_key(w, "ipAddress");
  put_opt(w, cp.ip_address);
  put_key(w, "useragent");
  put_opt(w, cp.user_agent);
  put_key(w, "refererUri");
  put_opt(w, cp.referer_uri);
  put_key(w, "headers");
  w.StartArray();
  if (cp.headers) {
    for (const auto& h : *cp.headers) put_string(w, h);
  }
  w.EndArray();
  put_key(w, "networkUserId");
  put_opt(w, cp.network_user_id);
  w.EndObject();
}

void write_raw_event(Writer& w, const RawEvent& raw) {
  w.StartObject();
  put_key(w, "vendor");
  put_string(w, raw.vendor);
  put_key(w, "version");
  put_string(w, raw.version);
  put_key(w, "parameters");
  w.StartArray();
  for (const auto& p : raw.parameters.items()) {
    w.StartObject();
    put_key(w, "name");
    put_string(w, p.name);
    put_key(w, "value");
    put_opt(w, p.value);
    w.EndObject();
  }
  w.EndArray();
  put_key(w, "contentType");
  put_opt(w, raw.content_type);
  put_key(w, "loaderName");
  put_string(w, raw.loader_name);
  put_key(w, "encoding");
  put_string(w, raw.encoding);
  put_key(w, "hostname");
  put_opt(w, raw.hostname);
  put_key(w, "timestamp");
  put_opt_instant(w, raw.timestamp);
  put_key(w, "ipAddress");
  put_opt(w, raw.ip_address);
  put_key(w, "useragent");
  put_opt(w, raw.useragent);
  put_key(w, "refererUri");
  put_opt(w, raw.referer_uri);
  put_key(w, "headers");
  w.StartArray();
  for (const auto& h : raw.headers) put_string(w, h);
  w.EndArray();
  put_key(w, "userId");
  put_opt(w, raw.user_id);
  w.EndObject();
}

bool is_json_number(std::string_view v, bool integer) {
  if (v.empty()) return false;
  if (integer) {
    int64_t x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    return ec == std::errc() && p == v.data() + v.size();
  }
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  // JSON has no leading '+', no "inf"/"nan", no bare '.5'.
  return ec == std::errc() && p == v.data() + v.size() &&
         (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) &&
         v.find_first_of("infINF") == std::string_view::npos && v.back() != '.';
}

void write_enriched(Writer& w, const EnrichedEvent& ev) {
  const auto& infos = field_infos();
  w.StartObject();
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    put_key(w, infos[i].name);
    const std::string& v = ev.values[i];
    if (v.empty()) {
      w.Null();
      continue;
    }
    switch (infos[i].kind) {
      case FieldKind::kInt:
      case FieldKind::kBool01:
        if (is_json_number(v, true)) {
          w.RawValue(v.data(), v.size(), rapidjson::kNumberType);
        } else {
          put_string(w, v);
        }
        break;
      case FieldKind::kFloat:
        if (is_json_number(v, false)) {
          w.RawValue(v.data(), v.size(), rapidjson::kNumberType);
        } else {
          put_string(w, v);
        }
        break;
      default:
        put_string(w, v);
        break;
    }
  }
  w.EndObject();
}

void write_event_payload(Writer& w, const EnrichedEvent& enriched, const RawEvent& raw) {
  put_key(w, "payload");
  w.StartObject();
  put_key(w, "enriched");
  write_enriched(w, enriched);
  put_key(w, "raw");
  write_raw_event(w, raw);
  w.EndObject();
}

std::string adapter_like(std::string_view name, std::string_view version, const Processor& p,
                         int64_t now_ms, std::string_view vendor, std::string_view api_version,
                         const std::vector<std::string>& messages_json,
                         const CollectorPayload& payload) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  begin_document(w, name, version, p, now_ms);
  put_key(w, "vendor");
  put_string(w, vendor);
  put_key(w, "version");
  put_string(w, api_version);
  put_messages(w, messages_json);
  w.EndObject();  // failure
  put_key(w, "payload");
  write_collector_payload(w, payload);
  return end_document(w, buf);
}

std::string event_like(std::string_view name, const Processor& p, int64_t now_ms,
                       const std::vector<std::string>& messages_json, const EnrichedEvent& enriched,
                       const RawEvent& raw) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  begin_document(w, name, "2-0-1", p, now_ms);
  put_messages(w, messages_json);
  w.EndObject();  // failure
  write_event_payload(w, enriched, raw);
  return end_document(w, buf);
}

}  // namespace

std::string collector_payload_format_violation(const Processor& p, int64_t now_ms,
                                               std::string_view loader,
                                               std::string_view message_json,
                                               std::string_view payload) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  begin_document(w, "collector_payload_format_violation", "1-0-0", p, now_ms);
  put_key(w, "loader");
  put_string(w, loader);
  put_key(w, "message");
  put_raw(w, message_json);
  w.EndObject();  // failure
  put_key(w, "payload");
  put_string(w, payload);
  return end_document(w, buf);
}

std::string adapter_failures(const Processor& p, int64_t now_ms, std::string_view vendor,
                             std::string_view version,
                             const std::vector<std::string>& messages_json,
                             const CollectorPayload& payload) {
  return adapter_like("adapter_failures", "1-0-0", p, now_ms, vendor, version, messages_json,
                      payload);
}

std::string tracker_protocol_violations(const Processor& p, int64_t now_ms, std::string_view vendor,
                                        std::string_view version,
                                        const std::vector<std::string>& messages_json,
                                        const CollectorPayload& payload) {
  return adapter_like("tracker_protocol_violations", "1-0-1", p, now_ms, vendor, version,
                      messages_json, payload);
}

std::string schema_violations(const Processor& p, int64_t now_ms,
                              const std::vector<std::string>& messages_json,
                              const EnrichedEvent& enriched, const RawEvent& raw) {
  return event_like("schema_violations", p, now_ms, messages_json, enriched, raw);
}

std::string enrichment_failures(const Processor& p, int64_t now_ms,
                                const std::vector<std::string>& messages_json,
                                const EnrichedEvent& enriched, const RawEvent& raw) {
  return event_like("enrichment_failures", p, now_ms, messages_json, enriched, raw);
}

std::string size_violation(const Processor& p, int64_t now_ms, std::size_t max_bytes,
                           std::size_t actual_bytes, std::string_view expectation,
                           std::string_view payload) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  begin_document(w, "size_violation", "1-0-0", p, now_ms);
  put_key(w, "maximumAllowedSizeBytes");
  w.Uint64(max_bytes);
  put_key(w, "actualSizeBytes");
  w.Uint64(actual_bytes);
  put_key(w, "expectation");
  put_string(w, expectation);
  w.EndObject();  // failure
  put_key(w, "payload");
  std::size_t keep = std::min(payload.size(), max_bytes / 10);
  // Do not cut a UTF-8 sequence in half.
  while (keep > 0 && keep < payload.size() &&
         (static_cast<unsigned char>(payload[keep]) & 0xC0) == 0x80)
    --keep;
  put_string(w, payload.substr(0, keep));
  return end_document(w, buf);
}

std::string collector_payload_json(const CollectorPayload& payload) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  write_collector_payload(w, payload);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string raw_event_json(const RawEvent& raw) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  write_raw_event(w, raw);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string enriched_event_json(const EnrichedEvent& event) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  write_enriched(w, event);
  return std::string(buf.GetString(), buf.GetSize());
}

void append_json_string(std::string_view s, std::string& out) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  put_string(w, s);
  out.append(buf.GetString(), buf.GetSize());
}

}  // namespace furrow::event
