// Tracker Protocol adapters: tp1 (GET pixel), tp2 (GET and POST payload_data batches) and the
// click redirect (/r/tp2), with Snowplow's failure messages (spec sections 1.1, 2.5, 7
// TV-14/TV-22).
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/base64.h"
#include "common/url_codec.h"
#include "protocol/adapters_internal.h"
#include "protocol/json_util.h"
#include "protocol/messages.h"

namespace furrow::protocol::detail {
namespace {

using event::Params;
using rapidjson::SizeType;

constexpr std::string_view kContentTypes[] = {"application/json", "application/json; charset=utf-8",
                                              "application/json; charset=UTF-8"};
constexpr std::string_view kContentTypesText =
    "expected one of application/json, application/json; charset=utf-8, application/json; "
    "charset=UTF-8";
constexpr std::string_view kPayloadDataCriterion =
    "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-*";

// payload_data 1-0-0 keys; later versions add ua (1-0-1), tnuid (1-0-2), stm and sid (1-0-3), ttm
// (1-0-4).
constexpr std::array<std::string_view, 75> kPayloadKeys100 = {
    "tna",    "aid",    "p",       "dtm",    "tz",    "e",     "tid",     "eid",    "tv",
    "duid",   "nuid",   "uid",     "vid",    "ip",    "res",   "url",     "page",   "refr",
    "fp",     "ctype",  "cookie",  "lang",   "f_pdf", "f_qt",  "f_realp", "f_wma",  "f_dir",
    "f_fla",  "f_java", "f_gears", "f_ag",   "cd",    "ds",    "cs",      "vp",     "mac",
    "pp_mix", "pp_max", "pp_miy",  "pp_may", "ad_ba", "ad_ca", "ad_ad",   "ad_uid", "tr_id",
    "tr_af",  "tr_tt",  "tr_tx",   "tr_sh",  "tr_ci", "tr_st", "tr_co",   "tr_cu",  "ti_id",
    "ti_sk",  "ti_nm",  "ti_na",   "ti_ca",  "ti_pr", "ti_qu", "ti_cu",   "sa",     "sn",
    "st",     "sp",     "se_ca",   "se_ac",  "se_la", "se_pr", "se_va",   "ue_na",  "ue_pr",
    "ue_px",  "co",     "cx"};

// Keys of at most eight bytes packed into an integer (little end first, zero padded), so that
// a key lookup is a binary search over integers rather than string comparisons.
constexpr uint64_t pack_key(std::string_view k) {
  uint64_t v = 0;
  for (std::size_t i = 0; i < k.size(); ++i) v |= uint64_t{static_cast<uint8_t>(k[i])} << (8 * i);
  return v;
}

constexpr std::array<uint64_t, kPayloadKeys100.size()> sorted_packed_keys() {
  std::array<uint64_t, kPayloadKeys100.size()> a{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = pack_key(kPayloadKeys100[i]);
  std::sort(a.begin(), a.end());
  return a;
}
constexpr auto kPackedKeys100 = sorted_packed_keys();

// The addition (1-0-<n>) that introduced `key`, or -1 when no payload_data version allows it.
int key_since(std::string_view key) {
  if (!key.empty() && key.size() <= 8 && key.find('\0') == std::string_view::npos &&
      std::binary_search(kPackedKeys100.begin(), kPackedKeys100.end(), pack_key(key))) {
    return 0;
  }
  if (key == "ua") return 1;
  if (key == "tnuid") return 2;
  if (key == "stm" || key == "sid") return 3;
  if (key == "ttm") return 4;
  return -1;
}

// One failed JSON-schema check, reported as networknt's validator words it.
struct DataReport {
  std::string message;
  std::string path;
  std::string keyword;
  std::vector<std::string> targets;
};

// SAX reader for a payload_data body: collects the envelope's schema and every event's members,
// noting non-string values, without building a DOM.
class PayloadHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, PayloadHandler> {
 public:
  struct Member {
    std::string key;
    std::string value;      // the string value
    std::string_view type;  // "string" or the JSON type found
  };
  struct Element {
    std::string_view type;  // "object" or the JSON type found
    std::vector<Member> members;
  };

  bool root_is_object = false;
  bool schema_seen = false, schema_is_string = false, data_seen = false;
  std::string schema;
  std::string_view data_type;
  std::vector<Element> elements;
  bool too_deep = false;

  bool Null() { return value("null", {}); }
  bool Bool(bool b) { return value("boolean", b ? "true" : "false"); }
  bool RawNumber(const char* s, SizeType n, bool) {
    std::string_view text(s, n);
    return value(json_type_name(text), text);
  }
  bool String(const char* s, SizeType n, bool) { return value("string", std::string_view(s, n)); }
  bool Key(const char* s, SizeType n, bool) {
    if (depth_ == 1) top_key_.assign(s, n);
    if (depth_ == 3 && in_data_) member_key_.assign(s, n);
    return true;
  }
  bool StartObject() { return open("object"); }
  bool EndObject(SizeType) { return close(); }
  bool StartArray() { return open("array"); }
  bool EndArray(SizeType) { return close(); }

 private:
  // A value (scalar, or the start of a container) at the current depth.
  void place(std::string_view type, std::string_view text) {
    if (depth_ == 1 && root_is_object) {
      if (top_key_ == "schema") {
        schema_seen = true;
        schema_is_string = type == "string";
        if (schema_is_string) schema.assign(text);
      } else if (top_key_ == "data") {
        data_seen = true;
        data_type = type;
        elements.clear();
      }
    } else if (depth_ == 2 && in_data_) {
      elements.push_back(Element{type, {}});
    } else if (depth_ == 3 && in_data_ && !elements.empty() && elements.back().type == "object") {
      auto& members = elements.back().members;
      // A repeated key keeps its first position and the last value, as a JSON object map does.
      for (auto& m : members) {
        if (m.key == member_key_) {
          m.value.assign(text);
          m.type = type;
          return;
        }
      }
      members.push_back(Member{member_key_, std::string(text), type});
    }
  }
  bool value(std::string_view type, std::string_view text) {
    if (depth_ == 0) return true;  // a scalar root: handled as "not an object" by the caller
    place(type, text);
    return true;
  }
  bool open(std::string_view type) {
    if (depth_ >= kMaxJsonDepth) {
      too_deep = true;
      return false;
    }
    if (depth_ == 0) {
      root_is_object = type == "object";
    } else {
      place(type, {});
    }
    if (depth_ == 1 && root_is_object && top_key_ == "data" && type == "array") in_data_ = true;
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    if (depth_ == 1) in_data_ = false;
    return true;
  }

  int depth_ = 0;
  bool in_data_ = false;
  std::string top_key_;
  std::string member_key_;
};

std::string now_iso8601() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string resolution_error() {
  JsonText j;
  j.begin_object();
  j.key("error");
  j.str("ResolutionError");
  j.key("lookupHistory");
  j.begin_array();
  j.begin_object();
  j.key("repository");
  j.str("Iglu Central");
  j.key("errors");
  j.begin_array();
  j.begin_object();
  j.key("error");
  j.str("NotFound");
  j.end_object();
  j.end_array();
  j.key("attempts");
  j.w().Int(1);
  j.key("lastAttempt");
  j.str(now_iso8601());
  j.end_object();
  j.end_array();
  j.end_object();
  return j.take();
}

std::string validation_error(const std::vector<DataReport>& reports) {
  JsonText j;
  j.begin_object();
  j.key("error");
  j.str("ValidationError");
  j.key("dataReports");
  j.begin_array();
  for (const auto& r : reports) {
    j.begin_object();
    j.key("message");
    j.str(r.message);
    j.key("path");
    j.str(r.path);
    j.key("keyword");
    j.str(r.keyword);
    j.key("targets");
    j.begin_array();
    for (const auto& t : r.targets) j.str(t);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.take();
}

// Validates the events against payload_data 1-0-<addition>: an array (minItems 1) of objects whose
// keys all belong to that version, whose values are all strings and that have tv, p and e.
std::vector<DataReport> validate_payload_data(const PayloadHandler& h, int addition) {
  std::vector<DataReport> reports;
  if (h.data_type != "array") {
    reports.push_back({"$: " + std::string(h.data_type) + " found, array expected",
                       "$",
                       "type",
                       {std::string(h.data_type), "array"}});
    return reports;
  }
  for (std::size_t i = 0; i < h.elements.size(); ++i) {
    const auto& el = h.elements[i];
    std::string at = "$[" + std::to_string(i) + "]";
    if (el.type != "object") {
      reports.push_back({at + ": " + std::string(el.type) + " found, object expected",
                         at,
                         "type",
                         {std::string(el.type), "object"}});
      continue;
    }
    for (const auto& m : el.members) {
      int since = key_since(m.key);
      if (since < 0 || since > addition) {
        reports.push_back(
            {at + "." + m.key +
                 ": is not defined in the schema and the schema does not allow additional "
                 "properties",
             at,
             "additionalProperties",
             {m.key}});
      } else if (m.type != "string") {
        reports.push_back(
            {at + "." + m.key + ": " + std::string(m.type) + " found, string expected",
             at + "." + m.key,
             "type",
             {std::string(m.type), "string"}});
      }
    }
    for (std::string_view req : {"tv", "p", "e"}) {
      bool present = false;
      for (const auto& m : el.members) present |= m.key == req;
      if (!present) {
        reports.push_back({at + "." + std::string(req) + ": is missing but it is required",
                           at,
                           "required",
                           {std::string(req)}});
      }
    }
  }
  if (h.elements.empty()) {
    reports.push_back(
        {"$: there must be a minimum of 1 items in the array", "$", "minItems", {"1"}});
  }
  return reports;
}

// The compact text of `body` for messages that embed the parsed JSON (NotIglu).
std::string compact_or_raw(std::string_view body) {
  CompactJson c;
  std::string error;
  if (compact_json(body, c, error)) return c.text;
  return std::string(body);
}

// A scanner for the shape nearly every tracker sends:
//   {"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-N",
//    "data":[{"k":"v",...},...]}
// with JSON whitespace anywhere, string values (escapes decoded) and nothing else. It builds the
// events straight from the body, without a SAX handler, member copies or a second validation
// pass. It accepts only bodies that the general path (RapidJSON + validate_payload_data) would
// accept, with the same parameters in the same order; on anything else — another top-level key,
// a non-string value, an escape in a key, a surrogate escape, an unknown key, a missing tv/p/e,
// a syntax error — it returns false having appended nothing, and the general path decides and
// words the error. `body` must be valid UTF-8.
class PayloadScanner {
 public:
  explicit PayloadScanner(std::string_view body)
      : p_(body.data()), end_(body.data() + body.size()) {}

  bool scan(const Params& query, std::vector<Params>& events) {
    const std::size_t first = events.size();
    if (!scan_envelope(events)) {
      events.resize(first);
      return false;
    }
    SchemaKeyParts key;
    if (parse_schema_uri(schema_, key) != nullptr ||
        key.vendor != "com.snowplowanalytics.snowplow" || key.name != "payload_data" ||
        key.format != "jsonschema" || key.model != 1 || key.revision != 0 || key.addition > 4 ||
        events.size() == first) {
      events.resize(first);
      return false;
    }
    for (std::size_t e = first; e < events.size(); ++e) {
      Params& p = events[e];
      bool tv = false, pl = false, ev = false;
      for (const auto& m : p.items()) {
        const int since = key_since(m.name);
        if (since < 0 || since > key.addition) {
          events.resize(first);
          return false;
        }
        const std::string_view name = m.name;
        tv |= name == "tv";
        pl |= name == "p";
        ev |= name == "e";
      }
      if (!tv || !pl || !ev) {
        events.resize(first);
        return false;
      }
      // Query-string parameters are merged into every event and win on a clash.
      for (const auto& q : query.items()) p.set(q.name, q.value);
    }
    return true;
  }

 private:
  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) {
    ws();
    if (p_ >= end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  // Skips eight bytes at a time while none of them is '"', '\\' or a control character.
  void skip_plain() {
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    while (end_ - p_ >= 8) {
      uint64_t w;
      std::memcpy(&w, p_, 8);
      const uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
      // High bit set in a byte that is zero in q or b, or below 0x20 in w (ASCII bytes only;
      // bytes >= 0x80 never flag, and a false flag only ends the fast skip early).
      const uint64_t special = ((q - kOnes) & ~q) | ((b - kOnes) & ~b) | ((w - kOnes * 0x20) & ~w);
      if ((special & kHigh) != 0) return;
      p_ += 8;
    }
  }
  // A string with no escapes, as a view into the body (keys, the schema URI).
  bool plain_string(std::string_view& out) {
    if (!eat('"')) return false;
    const char* start = p_;
    skip_plain();
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20) return false;
      ++p_;
    }
    return false;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  // A string value with its escapes decoded into `out`, as RapidJSON decodes them.
  bool string_value(std::string& out) {
    if (!eat('"')) return false;
    out.clear();
    const char* run = p_;
    skip_plain();
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out.append(run, static_cast<std::size_t>(p_ - run));
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') {
        ++p_;
        skip_plain();
        continue;
      }
      out.append(run, static_cast<std::size_t>(p_ - run));
      if (++p_ >= end_) return false;
      switch (*p_++) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          if (end_ - p_ < 4) return false;
          uint32_t cp = 0;
          for (int i = 0; i < 4; ++i) {
            const int h = hex(p_[i]);
            if (h < 0) return false;
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          p_ += 4;
          if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // surrogates: the general path
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default:
          return false;
      }
      run = p_;
    }
    return false;
  }
  bool scan_event(Params& params) {
    if (!eat('{')) return false;
    if (eat('}')) return true;
    std::string_view name;
    std::string value;
    do {
      if (!plain_string(name) || !eat(':') || !string_value(value)) return false;
      params.set(std::string(name), std::move(value));
      value = std::string();
    } while (eat(','));
    return eat('}');
  }
  bool scan_data(std::vector<Params>& events) {
    if (!eat('[')) return false;
    if (eat(']')) return true;
    do {
      Params& params = events.emplace_back();
      params.reserve(48);
      if (!scan_event(params)) return false;
    } while (eat(','));
    return eat(']');
  }
  bool scan_envelope(std::vector<Params>& events) {
    if (!eat('{')) return false;
    bool have_schema = false, have_data = false;
    std::string_view key;
    do {
      if (!plain_string(key) || !eat(':')) return false;
      if (key == "schema" && !have_schema) {
        if (!plain_string(schema_)) return false;
        have_schema = true;
      } else if (key == "data" && !have_data) {
        if (!scan_data(events)) return false;
        have_data = true;
      } else {
        return false;
      }
    } while (eat(','));
    if (!eat('}')) return false;
    ws();
    return p_ == end_ && have_schema && have_data;
  }

  const char* p_;
  const char* end_;
  std::string_view schema_;
};

}  // namespace

bool scan_payload_data(std::string_view body, const Params& query, std::vector<Params>& events) {
  return PayloadScanner(body).scan(query, events);
}

bool parse_payload_data(std::string_view body, const Params& query, std::vector<Params>& events,
                        std::vector<std::string>& messages) {
  PayloadHandler h;
  rapidjson::MemoryStream stream(body.data(), body.size());
  rapidjson::Reader reader;
  auto result =
      reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(stream,
                                                                                           h);
  if (!result) {
    std::string error;
    CompactJson ignored;
    if (!compact_json(body, ignored, error)) {
      messages.push_back(msg::not_json("body", body, error));
      return false;
    }
    messages.push_back(msg::not_json("body", body, "invalid json"));
    return false;
  }
  // Self-describing envelope (iglu-core SelfDescribingData.parse).
  SchemaKeyParts key;
  const char* code = nullptr;
  if (!h.root_is_object || !h.schema_seen || !h.schema_is_string) {
    code = "INVALID_DATA_PAYLOAD";
  } else if ((code = parse_schema_uri(h.schema, key)) == nullptr && !h.data_seen) {
    code = "INVALID_DATA_PAYLOAD";
  }
  if (code != nullptr) {
    messages.push_back(msg::not_iglu(compact_or_raw(body), code));
    return false;
  }
  bool is_payload_data = key.vendor == "com.snowplowanalytics.snowplow" &&
                         key.name == "payload_data" && key.format == "jsonschema";
  if (!is_payload_data) {
    messages.push_back(msg::criterion_mismatch(h.schema, kPayloadDataCriterion));
    return false;
  }
  if (key.model != 1 || key.revision != 0 || key.addition > 4) {
    // Iglu lookup of a payload_data version that does not exist.
    messages.push_back(msg::iglu_error(h.schema, resolution_error()));
    return false;
  }
  auto reports = validate_payload_data(h, key.addition);
  if (!reports.empty()) {
    messages.push_back(msg::iglu_error(h.schema, validation_error(reports)));
    return false;
  }
  std::size_t first = events.size();
  events.reserve(first + h.elements.size());
  for (auto& el : h.elements) {
    Params& p = events.emplace_back();
    p.reserve(el.members.size() + query.size());
    for (auto& m : el.members) p.set(std::move(m.key), std::move(m.value));
    // Query-string parameters are merged into every event and win on a clash.
    for (const auto& q : query.items()) p.set(q.name, q.value);
  }
  return true;
}

namespace {

bool tp2_post(const Request& req, std::string_view body, std::vector<Params>& events,
              std::vector<std::string>& messages) {
  // Java sees the body as a String: invalid UTF-8 has already become U+FFFD.
  std::string repaired;
  if (!common::is_valid_utf8(body)) {
    common::utf8_repair_append(body, repaired);
    body = repaired;
  }
  return scan_payload_data(body, req.query, events) ||
         parse_payload_data(body, req.query, events, messages);
}

bool is_allowed_content_type(std::string_view ct) {
  for (auto allowed : kContentTypes) {
    if (ct == allowed) return true;
  }
  return false;
}

// Adds the uri_redirect entity to an existing contexts JSON (plain), prepending it to "data".
bool add_to_co(std::string_view entity, std::string_view field, std::string_view existing,
               std::string& out, std::vector<std::string>& messages) {
  std::string repaired;
  std::string_view text = existing;
  if (!common::utf8_repair_append(existing, repaired)) text = repaired;
  CompactJson c;
  std::string error;
  if (!compact_json(text, c, error, entity)) {
    messages.push_back(msg::not_json(field, existing, error));
    return false;
  }
  out = std::move(c.text);
  return true;
}

}  // namespace

std::string unstruct_event_json(std::string_view schema, std::string_view data_json) {
  JsonText j;
  j.begin_object();
  j.key("schema");
  j.str(kUnstructEventSchema);
  j.key("data");
  j.begin_object();
  j.key("schema");
  j.str(schema);
  j.key("data");
  j.raw(data_json);
  j.end_object();
  j.end_object();
  return j.take();
}

bool tp1_adapter(const Request& req, std::vector<Params>& events,
                 std::vector<std::string>& messages) {
  if (req.query.empty()) {
    messages.push_back(msg::input_data("querystring", std::nullopt,
                                       "empty querystring: not a valid URI redirect"));
    return false;
  }
  events.push_back(std::move(req.query));
  return true;
}

bool tp2_adapter(const Request& req, std::vector<Params>& events,
                 std::vector<std::string>& messages) {
  const auto& body = req.payload.body;
  const auto& ct = req.payload.content_type;
  if (!body && req.query.empty()) {
    messages.push_back(
        msg::input_data("body", std::nullopt, "empty body: not a valid tracker protocol event"));
    messages.push_back(msg::input_data("querystring", std::nullopt,
                                       "empty querystring: not a valid tracker protocol event"));
    return false;
  }
  if (ct && !is_allowed_content_type(*ct)) {
    messages.push_back(msg::input_data("contentType", *ct, kContentTypesText));
    return false;
  }
  if (body && !ct) {
    messages.push_back(msg::input_data("contentType", std::nullopt, kContentTypesText));
    return false;
  }
  if (!body && ct) {
    // Snowplow's wording, "track" included.
    messages.push_back(
        msg::input_data("body", std::nullopt, "empty body: not a valid track protocol event"));
    return false;
  }
  if (!body) {
    events.push_back(std::move(req.query));
    return true;
  }
  return tp2_post(req, *body, events, messages);
}

bool redirect_adapter(const Request& req, std::vector<Params>& events,
                      std::vector<std::string>& messages) {
  const Params& q = req.query;
  if (q.empty()) {
    messages.push_back(msg::input_data("querystring", std::nullopt,
                                       "empty querystring: not a valid URI redirect"));
    return false;
  }
  const std::string* u = q.get("u");
  if (u == nullptr) {
    std::string qs;
    for (const auto& p : q.items()) {
      if (!qs.empty()) qs.push_back('&');
      qs += p.name;
      qs.push_back('=');
      qs += p.value ? *p.value : std::string("null");
    }
    messages.push_back(
        msg::input_data("querystring", qs, "missing `u` parameter: not a valid URI redirect"));
    return false;
  }
  // {"schema":"iglu:.../uri_redirect/jsonschema/1-0-0","data":{"uri":<u>}}
  JsonText entity_json;
  entity_json.begin_object();
  entity_json.key("schema");
  entity_json.str("iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0");
  entity_json.key("data");
  entity_json.begin_object();
  entity_json.key("uri");
  entity_json.str(*u);
  entity_json.end_object();
  entity_json.end_object();
  std::string entity = entity_json.take();

  Params p;
  p.reserve(q.size() + 4);
  for (const auto& item : q.items()) {
    if (item.name != "u") p.set(item.name, item.value);
  }
  if (q.contains("e")) {
    const std::string* cx = q.get("cx");
    const std::string* co = q.get("co");
    if (cx != nullptr) {
      std::string decoded;
      if (!common::base64_decode(*cx, decoded)) {
        messages.push_back(
            msg::input_data("cx", *cx, "could not base64 decode: invalid base64 input"));
        return false;
      }
      std::string merged;
      if (!add_to_co(entity, "co|cx", decoded, merged, messages)) return false;
      p.set("cx", common::base64url_encode(merged));
    } else if (co != nullptr && !co->empty()) {
      std::string merged;
      if (!add_to_co(entity, "co|cx", *co, merged, messages)) return false;
      p.set("co", std::move(merged));
    } else {
      JsonText contexts;
      contexts.begin_object();
      contexts.key("schema");
      contexts.str(kContextsSchema);
      contexts.key("data");
      contexts.begin_array();
      contexts.raw(entity);
      contexts.end_array();
      contexts.end_object();
      p.set("co", contexts.take());
    }
  } else {
    p.set("e", "ue");
    JsonText ue;
    ue.begin_object();
    ue.key("schema");
    ue.str(kUnstructEventSchema);
    ue.key("data");
    ue.raw(entity);
    ue.end_object();
    p.set("ue_pr", ue.take());
  }
  p.set("tv", "r-tp2");
  const std::string* platform = q.get("p");
  if (platform != nullptr) {
    p.set("p", *platform);
  } else if (!q.contains("p")) {
    p.set("p", "web");
  }
  events.push_back(std::move(p));
  return true;
}

}  // namespace furrow::protocol::detail
