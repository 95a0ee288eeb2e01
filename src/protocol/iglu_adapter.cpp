// The Iglu webhook adapter (com.snowplowanalytics.iglu/v1): any self-describing event sent as
// GET ?schema=iglu:...&k=v, as a POSTed JSON or form body with ?schema=..., or as a POSTed
// self-describing JSON. Each becomes an unstructured event (e=ue,
// tv=com.snowplowanalytics.iglu-v1).
#include <rapidjson/document.h>

#include "common/url_codec.h"
#include "protocol/adapters_internal.h"
#include "protocol/json_util.h"
#include "protocol/messages.h"

namespace furrow::protocol::detail {
namespace {

using event::Params;

constexpr std::string_view kTrackerVersion = "com.snowplowanalytics.iglu-v1";
constexpr std::string_view kAllContentTypes =
    "expected one of application/json, application/json; charset=utf-8, "
    "application/x-www-form-urlencoded";
constexpr std::string_view kJsonContentTypes =
    "expected one of application/json, application/json; charset=utf-8";

bool is_json_type(std::string_view ct) {
  return ct == "application/json" || ct == "application/json; charset=utf-8";
}

// The parameters of an unstructured event wrapping `data_json` under `schema` (Snowplow's
// buildUnstructEventParams): tv, e, p (from `params` or the default), ue_pr, then the few
// query-string parameters webhooks pass through.
Params unstruct_params(const Params& params, std::string_view schema, std::string_view data_json,
                       std::string_view platform) {
  Params out;
  out.reserve(8);
  out.set("tv", std::string(kTrackerVersion));
  out.set("e", "ue");
  if (params.contains("p")) {
    const std::string* p = params.get("p");
    out.set("p", p ? std::optional<std::string>(*p) : std::nullopt);
  } else {
    out.set("p", std::string(platform));
  }
  out.set("ue_pr", unstruct_event_json(schema, data_json));
  for (const auto& item : params.items()) {
    const auto& n = item.name;
    if (n == "nuid" || n == "aid" || n == "cv" || n == "eid" || n == "ttm" || n == "url")
      out.set(n, item.value);
  }
  return out;
}

// The query parameters as a JSON object of strings (null when valueless), without `schema` and
// without nuid, aid, cv and p (Snowplow's default formatter).
std::string params_object(const Params& params) {
  JsonText j;
  j.begin_object();
  for (const auto& item : params.items()) {
    const auto& n = item.name;
    if (n == "schema" || n == "nuid" || n == "aid" || n == "cv" || n == "p") continue;
    j.key(n);
    if (item.value) {
      j.str(*item.value);
    } else {
      j.w().Null();
    }
  }
  j.end_object();
  return j.take();
}

Params without_schema(const Params& params) {
  Params out = params;
  out.erase("schema");
  return out;
}

std::string_view repaired(std::string_view in, std::string& storage) {
  return common::utf8_repair_append(in, storage) ? in : std::string_view(storage);
}

bool json_body(const Request& req, std::string_view body, std::string_view schema,
               std::vector<Params>& events, std::vector<std::string>& messages) {
  std::string storage;
  std::string_view text = repaired(body, storage);
  CompactJson c;
  std::string error;
  if (!compact_json(text, c, error)) {
    messages.push_back(msg::not_json("body", body, error));
    return false;
  }
  Params qs = without_schema(req.query);
  if (c.root == '[') {
    if (c.children.empty()) {
      messages.push_back(msg::input_data("body", body, "empty array of events"));
      return false;
    }
    for (std::size_t i = 0; i < c.children.size(); ++i) {
      events.push_back(unstruct_params(qs, schema, c.child(i), "app"));
    }
    return true;
  }
  if (c.root != '{' || c.children.empty()) {
    messages.push_back(msg::input_data("body", body, "has no key-value pairs"));
    return false;
  }
  events.push_back(unstruct_params(qs, schema, c.text, "app"));
  return true;
}

bool form_body(const Request& req, std::string_view body, std::string_view schema,
               std::vector<Params>& events) {
  common::QueryPairs pairs;
  common::parse_query_string(body, pairs);
  Params form;
  for (auto& [name, value] : pairs) form.set(std::move(name), std::move(value));
  JsonText j;
  j.begin_object();
  for (const auto& item : form.items()) {
    j.key(item.name);
    if (item.value) {
      j.str(*item.value);
    } else {
      j.w().Null();
    }
  }
  j.end_object();
  events.push_back(unstruct_params(without_schema(req.query), schema, j.take(), "srv"));
  return true;
}

// POSTed self-describing JSON without ?schema=.
bool sd_json_body(const Request& req, std::string_view body, std::string_view ct,
                  std::vector<Params>& events, std::vector<std::string>& messages) {
  if (!is_json_type(ct)) {
    messages.push_back(msg::input_data("contentType", ct, kJsonContentTypes));
    return false;
  }
  std::string storage;
  std::string_view text = repaired(body, storage);
  CompactJson c;
  std::string error;
  if (!compact_json(text, c, error)) {
    messages.push_back(msg::not_json("body", body, error));
    return false;
  }
  auto schema = c.member("schema");
  auto data = c.member("data");
  SchemaKeyParts key;
  const char* code = nullptr;
  std::string schema_uri;
  if (!schema || schema->empty() || (*schema)[0] != '"') {
    code = "INVALID_DATA_PAYLOAD";
  } else {
    // The member is compact JSON text; decode it back to the string it holds.
    rapidjson::Document d;
    d.Parse(schema->data(), schema->size());
    if (d.IsString()) schema_uri.assign(d.GetString(), d.GetStringLength());
    if ((code = parse_schema_uri(schema_uri, key)) == nullptr && !data) {
      code = "INVALID_DATA_PAYLOAD";
    }
  }
  if (code != nullptr) {
    messages.push_back(msg::not_iglu(c.text, code));
    return false;
  }
  events.push_back(unstruct_params(req.query, schema_uri, *data, "app"));
  return true;
}

}  // namespace

bool iglu_adapter(const Request& req, std::vector<Params>& events,
                  std::vector<std::string>& messages) {
  const auto& body = req.payload.body;
  const auto& ct = req.payload.content_type;
  bool has_schema = req.query.contains("schema");
  if (body && !ct) {
    messages.push_back(msg::input_data("contentType", std::nullopt, kAllContentTypes));
    return false;
  }
  if (!has_schema) {
    if (body) return sd_json_body(req, *body, *ct, events, messages);
    messages.push_back(msg::input_data("schema", std::nullopt, "empty `schema` field"));
    messages.push_back(msg::input_data("body", std::nullopt, "empty body"));
    return false;
  }
  const std::string* schema_value = req.query.get("schema");
  std::string schema = schema_value ? *schema_value : std::string();
  SchemaKeyParts key;
  if (const char* code = parse_schema_uri(schema, key)) {
    messages.push_back(msg::input_data("schema", schema, code));
    return false;
  }
  if (!body) {
    events.push_back(
        unstruct_params(without_schema(req.query), schema, params_object(req.query), "app"));
    return true;
  }
  if (is_json_type(*ct)) return json_body(req, *body, schema, events, messages);
  if (*ct == "application/x-www-form-urlencoded") return form_body(req, *body, schema, events);
  messages.push_back(msg::input_data("contentType", *ct, kAllContentTypes));
  return false;
}

}  // namespace furrow::protocol::detail
