#include "enrich/sdj.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>

#include "common/simd.h"
#include "common/url_codec.h"
#include "event/bad_row.h"

namespace furrow::enrich {
namespace {

constexpr std::string_view kContextsPrefix =
    "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-";
constexpr std::string_view kUnstructPrefix =
    "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-";
constexpr std::string_view kContextsCriterion =
    "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*";
constexpr std::string_view kUnstructCriterion =
    "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-*";
constexpr std::string_view kValidationInfoSchema =
    "iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0";

// Iglu URI character classes, one table load per character: a vendor is [a-zA-Z0-9-_.]+, a name
// and a format [a-zA-Z0-9-_]+.
constexpr uint8_t kVendorChar = 1, kNameChar = 2;
constexpr std::array<uint8_t, 256> kIgluChars = [] {
  std::array<uint8_t, 256> t{};
  auto set = [&t](int c, uint8_t bits) { t[static_cast<std::size_t>(c)] = bits; };
  for (int c = 'a'; c <= 'z'; ++c) set(c, kVendorChar | kNameChar);
  for (int c = 'A'; c <= 'Z'; ++c) set(c, kVendorChar | kNameChar);
  for (int c = '0'; c <= '9'; ++c) set(c, kVendorChar | kNameChar);
  set('-', kVendorChar | kNameChar);
  set('_', kVendorChar | kNameChar);
  set('.', kVendorChar);
  return t;
}();

// Forwards SAX events to a document under construction, refusing nesting past the limit.
struct DepthLimitedBuilder {
  rapidjson::Document* doc;
  int max_depth;
  int depth = 0;
  bool too_deep = false;
  bool Null() { return doc->Null(); }
  bool Bool(bool b) { return doc->Bool(b); }
  bool Int(int i) { return doc->Int(i); }
  bool Uint(unsigned i) { return doc->Uint(i); }
  bool Int64(int64_t i) { return doc->Int64(i); }
  bool Uint64(uint64_t i) { return doc->Uint64(i); }
  bool Double(double d) { return doc->Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return doc->RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc->String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc->Key(s, n, copy); }
  bool StartObject() { return enter() && doc->StartObject(); }
  bool EndObject(rapidjson::SizeType n) { return --depth, doc->EndObject(n); }
  bool StartArray() { return enter() && doc->StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return --depth, doc->EndArray(n); }
  bool enter() {
    if (++depth > max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  }
};

std::string_view view(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// iglu-core's SelfDescribingData.parse: an object with a string "schema" holding an Iglu URI and
// a "data" member. Returns nullptr on success, else the ParseError code.
const char* check_sdj(const rapidjson::Value& v, IgluUri& uri) {
  if (!v.IsObject()) return "INVALID_DATA_PAYLOAD";
  auto schema = v.FindMember("schema");
  if (schema == v.MemberEnd() || !schema->value.IsString()) return "INVALID_SCHEMA";
  const char* code = nullptr;
  if (!parse_iglu_uri(view(schema->value), uri, code)) return code;
  if (v.FindMember("data") == v.MemberEnd()) return "INVALID_DATA_PAYLOAD";
  return nullptr;
}

void not_json_message(std::string_view field, std::string_view value, std::string_view error,
                      std::string& out) {
  out = "{\"field\":";
  event::append_json_string(field, out);
  out += ",\"value\":";
  event::append_json_string(value, out);
  out += ",\"error\":";
  event::append_json_string(error, out);
  out += '}';
}

void not_iglu_message(const rapidjson::Value& json, std::string_view code, std::string& out) {
  out = "{\"json\":";
  append_json(json, out);
  out += ",\"error\":";
  event::append_json_string(code, out);
  out += '}';
}

void criterion_message(std::string_view key, std::string_view criterion, std::string& out) {
  out = "{\"schemaKey\":";
  event::append_json_string(key, out);
  out += ",\"schemaCriterion\":";
  event::append_json_string(criterion, out);
  out += '}';
}

void iglu_error_message(std::string_view key, std::string_view error_json, std::string& out) {
  out = "{\"schemaKey\":";
  event::append_json_string(key, out);
  out += ",\"error\":";
  out += error_json.empty() ? std::string_view("{\"error\":\"ValidationError\",\"dataReports\":[]}")
                            : error_json;
  out += '}';
}

// A ValidationError for shape problems found without a validator (e.g. contexts data not an array).
std::string shape_error(std::string_view message, std::string_view path, std::string_view keyword) {
  std::string s = "{\"error\":\"ValidationError\",\"dataReports\":[{\"message\":";
  event::append_json_string(message, s);
  s += ",\"path\":";
  event::append_json_string(path, s);
  s += ",\"keyword\":";
  event::append_json_string(keyword, s);
  s += ",\"targets\":[]}]}";
  return s;
}

// The schema URI after superseding: same vendor/name/format, version replaced.
std::string superseded_uri(const IgluUri& u, std::string_view version) {
  std::string s = "iglu:";
  s.append(u.vendor).append("/").append(u.name).append("/").append(u.format).append("/").append(
      version);
  return s;
}

void validation_info(std::string_view original, std::string_view with,
                     std::vector<std::string>& infos) {
  std::string s = "{\"schema\":\"";
  s += kValidationInfoSchema;
  s += "\",\"data\":{\"originalSchema\":";
  event::append_json_string(original, s);
  s += ",\"validatedWith\":";
  event::append_json_string(with, s);
  s += "}}";
  if (std::find(infos.begin(), infos.end(), s) == infos.end()) infos.push_back(std::move(s));
}

// Validates one entity and, when valid, appends {"schema":..,"data":..} to `out`. Returns false
// (with a message) when it is not kept. `event_schema` receives the final schema URI.
bool check_entity(const rapidjson::Value& entity, const ValidationSettings& vs,
                  std::vector<std::string>& messages, std::vector<std::string>& infos,
                  std::string& out, std::string* event_schema) {
  IgluUri uri;
  std::string msg;
  if (const char* code = check_sdj(entity, uri)) {
    not_iglu_message(entity, code, msg);
    messages.push_back(std::move(msg));
    return false;
  }
  const std::string_view schema = view(entity["schema"]);
  const rapidjson::Value& data = entity["data"];
  std::string final_schema;
  if (vs.validator != nullptr) {
    iglu::ValidationOutcome o = validate_with_retry(vs, schema, data);
    if (o.status != iglu::ValidationOutcome::Status::kValid) {
      iglu_error_message(schema, o.error_json, msg);
      messages.push_back(std::move(msg));
      return false;
    }
    if (!o.superseded_by.empty() && o.superseded_by != uri.version) {
      final_schema = superseded_uri(uri, o.superseded_by);
      validation_info(schema, o.superseded_by, infos);
    }
  }
  const std::string_view written = final_schema.empty() ? schema : std::string_view(final_schema);
  // Iglu URIs only hold [a-zA-Z0-9-_.:/], so the schema needs no JSON escaping.
  out += "{\"schema\":\"";
  out += written;
  out += "\",\"data\":";
  append_json(data, out);
  out += '}';
  if (event_schema != nullptr) event_schema->assign(written);
  return true;
}

// Shared envelope handling: parse, SDJ check, criterion, optional outer validation.
const rapidjson::Value* open_envelope(std::string_view json, std::string_view field,
                                      std::string_view prefix, std::string_view criterion,
                                      const ValidationSettings& vs, int max_depth,
                                      rapidjson::Document& doc, SdjResult& result) {
  std::string error, msg;
  if (!parse_json_limited(json, max_depth, doc, error)) {
    not_json_message(field, json, error, msg);
    result.messages.push_back(std::move(msg));
    return nullptr;
  }
  IgluUri uri;
  if (const char* code = check_sdj(doc, uri)) {
    not_iglu_message(doc, code, msg);
    result.messages.push_back(std::move(msg));
    return nullptr;
  }
  const std::string_view schema = view(doc["schema"]);
  if (schema.substr(0, prefix.size()) != prefix) {
    criterion_message(schema, criterion, msg);
    result.messages.push_back(std::move(msg));
    return nullptr;
  }
  if (vs.validator != nullptr) {
    iglu::ValidationOutcome o = validate_with_retry(vs, schema, doc["data"]);
    if (o.status != iglu::ValidationOutcome::Status::kValid) {
      iglu_error_message(schema, o.error_json, msg);
      result.messages.push_back(std::move(msg));
      return nullptr;
    }
  }
  return &doc["data"];
}

// Copies one JSON text compactly, as parse_json_limited + append_json would write it, without a
// DOM: whitespace dropped, strings without escapes copied verbatim (after the same UTF-8 check),
// integers of up to 18 digits copied, other numbers checked to come back identical through
// RapidJSON's own reader and writer. It declines (returns false) everything else — escapes, "-0",
// syntax errors, nesting near the depth limit, duplicate or missing envelope members — and the
// caller then takes the DOM path, which also words any error. So an accepted input always gives
// exactly the DOM path's output.
class CompactCopier {
 public:
  CompactCopier(std::string_view text, int max_depth)
      : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  // The self-describing envelope {"schema":S,"data":D} (other members checked, then ignored):
  // S must start with `prefix` and D be copied to `data`.
  bool envelope(std::string_view prefix, std::string_view& schema, std::string& data) {
    if (!sdj_object(schema, data, 1)) return false;
    ws();
    if (p_ != end_ || schema.substr(0, prefix.size()) != prefix) return false;
    IgluUri uri;
    const char* code = nullptr;
    return parse_iglu_uri(schema, uri, code);
  }

  // An entity {"schema":S,"data":D} read from `text`; appends {"schema":"S","data":D} to `out`.
  static bool entity(std::string_view text, int max_depth, std::string& out,
                     std::string_view* schema_out) {
    CompactCopier c(text, max_depth);
    std::string_view schema;
    thread_local std::string data;
    data.clear();
    if (!c.sdj_object(schema, data, 1)) return false;
    c.ws();
    if (c.p_ != c.end_) return false;
    IgluUri uri;
    const char* code = nullptr;
    if (!parse_iglu_uri(schema, uri, code)) return false;
    out += "{\"schema\":\"";
    out += schema;
    out += "\",\"data\":";
    out += data;
    out += '}';
    if (schema_out != nullptr) *schema_out = schema;
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
  // A string without escapes; `view` gets its content.
  bool string(std::string_view& view) {
    if (!eat('"')) return false;
    const char* start = p_;
    bool ascii = true;
    // Eight bytes at a time while none is '"', '\\', a control or a non-ASCII byte; the byte loop
    // below takes over from the first block holding one.
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    bool found = false;  // stopped at a special byte: the byte loop below decides
#if defined(__SSE2__)
    // First sixteen bytes at a time (SSE2 is part of x86-64: inline, no call): straight to the
    // first special byte; the words and AVX2 blocks then only see runs that reach the last 16
    // bytes of the text.
    while (end_ - p_ >= 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      // Signed compare: bytes >= 0x80 are negative, so this flags controls and non-ASCII.
      const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                                        _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                           _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
      const auto m = static_cast<unsigned>(_mm_movemask_epi8(special));
      if (m != 0) {
        p_ += __builtin_ctz(m);
        found = true;
        break;
      }
      p_ += 16;
    }
#endif
    for (int words = 0; !found && end_ - p_ >= 8; ++words) {
      // A run past two words: whole 32-byte blocks (AVX2), once, then words again (as in the
      // payload scanner).
      if (words == 2) {
        p_ = common::skip_json_plain_ascii(p_, end_);
        if (end_ - p_ < 8) break;
      }
      uint64_t w;
      std::memcpy(&w, p_, 8);
      const uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
      if (((((q - kOnes) & ~q) | ((b - kOnes) & ~b) | (w - kOnes * 0x20) | w) & kHigh) != 0) break;
      p_ += 8;
    }
    for (; p_ < end_; ++p_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') break;
      if (c == '\\' || c < 0x20) return false;
      ascii &= c < 0x80;
    }
    if (p_ >= end_) return false;
    view = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return ascii || common::is_valid_utf8(view);
  }
  bool number(std::string& out) {
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      return false;
    }
    bool integral = true;
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      const char* digits = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == digits) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const char* digits = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == digits) return false;
    }
    const std::string_view text(start, static_cast<std::size_t>(p_ - start));
    if (integral) {
      // Up to 18 digits always fits an int64_t, which RapidJSON writes back unchanged; "-0"
      // becomes 0.
      if (text.size() > (text[0] == '-' ? 19u : 18u) || text == "-0") return false;
      out += text;
      return true;
    }
    // A fraction or exponent: RapidJSON reads it as a double and writes the shortest form back.
    // Accept the number only if that gives the same text.
    struct DoubleHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, DoubleHandler> {
      double value = 0;
      bool is_double = false;
      bool Double(double d) {
        value = d;
        is_double = true;
        return true;
      }
    } handler;
    rapidjson::Reader reader;
    rapidjson::MemoryStream ms(text.data(), text.size());
    if (reader.Parse(ms, handler).IsError() || !handler.is_double) return false;
    thread_local rapidjson::StringBuffer sb;
    sb.Clear();
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    if (!w.Double(handler.value)) return false;
    if (std::string_view(sb.GetString(), sb.GetSize()) != text) return false;
    out += text;
    return true;
  }
  bool literal(std::string_view word, std::string& out) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    out += word;
    return true;
  }
  // Any JSON value at container depth `depth` (the root container is depth 1).
  bool value(std::string& out, int depth) {
    ws();
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{': {
        if (depth >= max_depth_) return false;  // let the DOM path judge the depth limit
        ++p_;
        out += '{';
        if (eat('}')) {
          out += '}';
          return true;
        }
        std::string_view key;
        do {
          if (!string(key) || !eat(':')) return false;
          out += '"';
          out += key;
          out += "\":";
          if (!value(out, depth + 1)) return false;
          out += ',';
        } while (eat(','));
        out.back() = '}';
        return eat('}');
      }
      case '[': {
        if (depth >= max_depth_) return false;
        ++p_;
        out += '[';
        if (eat(']')) {
          out += ']';
          return true;
        }
        do {
          if (!value(out, depth + 1)) return false;
          out += ',';
        } while (eat(','));
        out.back() = ']';
        return eat(']');
      }
      case '"': {
        std::string_view v;
        if (!string(v)) return false;
        out += '"';
        out += v;
        out += '"';
        return true;
      }
      case 't':
        return literal("true", out);
      case 'f':
        return literal("false", out);
      case 'n':
        return literal("null", out);
      default:
        return number(out);
    }
  }
  // An object at `depth` with a string "schema" and a "data" member, each exactly once; the
  // compact data goes to `data`, other members are checked and dropped.
  bool sdj_object(std::string_view& schema, std::string& data, int depth) {
    return sdj_members(schema, depth, [&] { return value(data, depth + 1); });
  }
  // The same with `read_data()` reading the "data" member's value.
  template <class ReadData>
  bool sdj_members(std::string_view& schema, int depth, ReadData&& read_data) {
    if (!eat('{') || depth >= max_depth_) return false;
    bool have_schema = false, have_data = false;
    std::string_view key;
    thread_local std::string skipped;
    do {
      if (!string(key) || !eat(':')) return false;
      if (key == "schema") {
        if (have_schema || !string(schema)) return false;
        have_schema = true;
      } else if (key == "data") {
        if (have_data || !read_data()) return false;
        have_data = true;
      } else {
        skipped.clear();
        if (!value(skipped, depth + 1)) return false;
      }
    } while (eat(','));
    return eat('}') && have_schema && have_data;
  }

 public:
  // The contexts envelope {"schema":S,"data":[entity,...]} in one pass: each entity (an object
  // with a valid Iglu "schema" and a "data") is appended to `out` as {"schema":"S","data":D},
  // comma-separated; S is the envelope's schema, still to be checked by the caller. Accepts
  // exactly what copying the envelope compactly and then reading each copied element as an
  // entity would accept (the element's depth limits are those of the first, stricter reading).
  bool contexts_envelope(std::string_view& schema, std::string& out) {
    thread_local std::string data;
    const bool ok = sdj_members(schema, 1, [&] {
      // The data array at depth 2 (as value() would check it), entities at depth 3.
      ws();
      if (p_ >= end_ || *p_ != '[' || 2 >= max_depth_) return false;
      ++p_;
      if (eat(']')) return true;
      bool first = true;
      do {
        std::string_view entity_schema;
        data.clear();
        if (!sdj_object(entity_schema, data, 3)) return false;
        IgluUri uri;
        const char* code = nullptr;
        if (!parse_iglu_uri(entity_schema, uri, code)) return false;
        if (!first) out += ',';
        first = false;
        out += "{\"schema\":\"";
        out += entity_schema;
        out += "\",\"data\":";
        out += data;
        out += '}';
      } while (eat(','));
      return eat(']');
    });
    if (!ok) return false;
    ws();
    return p_ == end_;
  }

 private:
  const char* p_;
  const char* end_;
  int max_depth_;
};

}  // namespace

bool fast_contexts_column(std::string_view json, int max_depth, std::string& column) {
  column.clear();
  column += "{\"schema\":\"";
  column += kContextsSchema;
  column += "\",\"data\":[";
  const std::size_t header = column.size();
  CompactCopier c(json, max_depth);
  std::string_view schema;
  IgluUri uri;
  const char* code = nullptr;
  if (!c.contexts_envelope(schema, column) ||
      schema.substr(0, kContextsPrefix.size()) != kContextsPrefix ||
      !parse_iglu_uri(schema, uri, code)) {
    column.clear();
    return false;
  }
  if (column.size() == header) {
    column.clear();  // no entity: the column stays null
  } else {
    column += "]}";
  }
  return true;
}

bool fast_unstruct_column(std::string_view json, int max_depth, std::string& column,
                          std::string& event_schema) {
  CompactCopier c(json, max_depth);
  std::string_view schema;
  thread_local std::string data;
  data.clear();
  if (!c.envelope(kUnstructPrefix, schema, data)) return false;
  thread_local std::string inner;
  inner.clear();
  std::string_view inner_schema;
  if (!CompactCopier::entity(data, max_depth, inner, &inner_schema)) return false;
  event_schema.assign(inner_schema);
  column.clear();
  column += "{\"schema\":\"";
  column += kUnstructSchema;
  column += "\",\"data\":";
  column += inner;
  column += '}';
  return true;
}

namespace {

// Index of the first byte at or after i that is not of class `bit` (kIgluChars), or s.size().
// Whole 16-byte blocks inside `s` are classified at once (SSE2: letters as (x | 0x20) in a-z,
// digits, '-', '_', and '.' for vendors); the rest byte by byte from the table. (Classifying the
// tail as the string's last 16 bytes measured no cheaper: the tails are short.)
std::size_t skip_iglu_chars(std::string_view s, std::size_t i, uint8_t bit) {
#if defined(__SSE2__)
  const __m128i dot = bit == kVendorChar ? _mm_set1_epi8('.') : _mm_set1_epi8('-');
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // (y - lo) <= (hi - lo) unsigned <=> lo <= y <= hi, as min(y - lo, hi - lo) == y - lo.
    const __m128i l = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    const __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i ok = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8('z' - 'a')), l);
    ok = _mm_or_si128(ok, _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    ok = _mm_or_si128(ok, _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
    ok = _mm_or_si128(ok, _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
    ok = _mm_or_si128(ok, _mm_cmpeq_epi8(x, dot));
    const unsigned stop = ~static_cast<unsigned>(_mm_movemask_epi8(ok)) & 0xFFFFu;
    if (stop != 0) return i + static_cast<std::size_t>(__builtin_ctz(stop));
  }
#endif
  while (i < s.size() && (kIgluChars[static_cast<unsigned char>(s[i])] & bit) != 0) ++i;
  return i;
}

// The last URIs parse_iglu_uri accepted on this thread, direct-mapped by a hash of their length
// and last 32 bytes (a stream repeats a handful of schemas: each event's contexts, its
// unstruct event, their entities). An entry holds the whole text and the lengths of vendor, name
// and format, so a hit is a compare of the text and no scan; what is accepted is a function of
// the text alone, so the verdict and the parts are the scan's. URIs of kMinText to kMaxText bytes.
struct IgluMemo {
  static constexpr std::size_t kSlots = 32;
  static constexpr std::size_t kMinText = 32;
  static constexpr std::size_t kMaxText = 120;
  struct Entry {
    uint8_t len = 0;  // 0: empty
    uint8_t vendor = 0, name = 0, format = 0;
    char text[kMaxText];
  };
  Entry entries[kSlots];

  // Of a URI of at least kMinText bytes, by its last 32 bytes: names and versions differ near the
  // end ("<name>/jsonschema/1-0-0"), the vendor is often shared.
  static std::size_t slot(std::string_view s) {
    uint64_t w[4];
    std::memcpy(w, s.data() + s.size() - 32, 32);
    const uint64_t h = ((w[0] * 0x9E3779B97F4A7C15ULL) ^ (w[1] * 0xC2B2AE3D27D4EB4FULL) ^
                        (w[2] * 0x165667B19E3779F9ULL) ^ w[3] ^ s.size()) *
                       0xD6E8FEB86659FD93ULL;
    return static_cast<std::size_t>(h >> 59);  // 32 slots
  }
};

}  // namespace

bool parse_iglu_uri(std::string_view s, IgluUri& out, const char*& code) {
  if (s.size() < IgluMemo::kMinText || s.size() > IgluMemo::kMaxText)
    return detail::parse_iglu_uri_scan(s, out, code);
  thread_local IgluMemo memo;
  IgluMemo::Entry& e = memo.entries[IgluMemo::slot(s)];
  if (e.len == s.size() && std::memcmp(e.text, s.data(), s.size()) == 0) {
    const std::size_t name = 5 + e.vendor + 1u, format = name + e.name + 1u;
    const std::size_t version = format + e.format + 1u;
    out = IgluUri{s.substr(5, e.vendor), s.substr(name, e.name), s.substr(format, e.format),
                  s.substr(version)};
    code = nullptr;
    return true;
  }
  if (!detail::parse_iglu_uri_scan(s, out, code)) return false;
  e.len = static_cast<uint8_t>(s.size());
  e.vendor = static_cast<uint8_t>(out.vendor.size());
  e.name = static_cast<uint8_t>(out.name.size());
  e.format = static_cast<uint8_t>(out.format.size());
  std::memcpy(e.text, s.data(), s.size());
  return true;
}

bool detail::parse_iglu_uri_scan(std::string_view s, IgluUri& out, const char*& code) {
  code = "INVALID_IGLUURI";
  if (s.substr(0, 5) != "iglu:") return false;
  // vendor/name/format, each non-empty, of its own characters and ended by '/'; the rest is the
  // version. (A part that stops at any other character fails, as splitting at the first three
  // slashes and checking each part would.)
  std::string_view parts[4];
  std::size_t i = 5;
  for (int k = 0; k < 3; ++k) {
    const uint8_t bit = k == 0 ? kVendorChar : kNameChar;
    const std::size_t start = i;
    i = skip_iglu_chars(s, i, bit);
    if (i == start || i >= s.size() || s[i] != '/') return false;
    parts[k] = s.substr(start, i - start);
    ++i;
  }
  parts[3] = s.substr(i);
  // SchemaVer: three non-negative integers separated by '-'.
  code = "INVALID_SCHEMAVER";
  int groups = 0;
  std::size_t digits = 0;
  for (char c : parts[3]) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '-' && digits > 0 && groups < 2) {
      ++groups;
      digits = 0;
    } else {
      return false;
    }
  }
  if (groups != 2 || digits == 0) return false;
  out = IgluUri{parts[0], parts[1], parts[2], parts[3]};
  code = nullptr;
  return true;
}

iglu::ValidationOutcome validate_with_retry(const ValidationSettings& vs,
                                            std::string_view schema_uri,
                                            const rapidjson::Value& data) {
  if (vs.validator == nullptr) return {};
  int sleep_ms = std::max(1, vs.retry_initial_ms);
  for (;;) {
    iglu::ValidationOutcome o = vs.validator->validate(schema_uri, data);
    if (o.status != iglu::ValidationOutcome::Status::kInfrastructure) return o;
    // A registry outage is not the event's fault: wait and ask again, however long it takes.
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    sleep_ms = std::min(sleep_ms * 2, std::max(vs.retry_max_ms, 1));
  }
}

bool parse_json_limited(std::string_view text, int max_depth, rapidjson::Document& doc,
                        std::string& error) {
  // One pass: the reader feeds the document through a wrapper that counts nesting.
  DepthLimitedBuilder builder{&doc, max_depth};
  rapidjson::ParseResult result;
  auto generator = [&](rapidjson::Document& d) {
    builder.doc = &d;
    rapidjson::Reader reader;
    rapidjson::MemoryStream ms(text.data(), text.size());
    result = reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(
        ms, builder);
    return !result.IsError();
  };
  doc.Populate(generator);
  if (builder.too_deep) {
    error = "JSON is nested deeper than " + std::to_string(max_depth) + " levels";
    return false;
  }
  if (result.IsError()) {
    error = std::string(rapidjson::GetParseError_En(result.Code())) + " (offset " +
            std::to_string(result.Offset()) + ")";
    return false;
  }
  return true;
}

void append_json(const rapidjson::Value& v, std::string& out) {
  thread_local rapidjson::StringBuffer buf;  // reused: keeps its capacity between calls
  buf.Clear();
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  out.append(buf.GetString(), buf.GetSize());
}

void process_contexts(std::string_view json, const ValidationSettings& vs, int max_depth,
                      SdjResult& result, bool allow_fast) {
  // Without a validator the column is the input re-serialised; the copier does that directly.
  if (allow_fast && vs.validator == nullptr && fast_contexts_column(json, max_depth, result.column))
    return;
  result.column.clear();
  rapidjson::Document doc;
  const rapidjson::Value* data = open_envelope(json, "contexts", kContextsPrefix,
                                               kContextsCriterion, vs, max_depth, doc, result);
  if (data == nullptr) return;
  if (!data->IsArray()) {
    std::string msg;
    iglu_error_message(view(doc["schema"]), shape_error("$.data: array expected", "$.data", "type"),
                       msg);
    result.messages.push_back(std::move(msg));
    return;
  }
  std::string entities;
  bool first = true;
  for (const auto& entity : data->GetArray()) {
    const std::size_t mark = entities.size();
    if (!first) entities += ',';
    if (check_entity(entity, vs, result.messages, result.validation_infos, entities, nullptr)) {
      first = false;
    } else {
      entities.resize(mark);
    }
  }
  if (first) return;  // nothing valid: the column stays null
  result.column = "{\"schema\":\"";
  result.column += kContextsSchema;
  result.column += "\",\"data\":[";
  result.column += entities;
  result.column += "]}";
}

void process_unstruct(std::string_view json, const ValidationSettings& vs, int max_depth,
                      SdjResult& result, bool allow_fast) {
  if (allow_fast && vs.validator == nullptr &&
      fast_unstruct_column(json, max_depth, result.column, result.event_schema))
    return;
  result.column.clear();
  result.event_schema.clear();
  rapidjson::Document doc;
  const rapidjson::Value* data = open_envelope(json, "unstruct", kUnstructPrefix,
                                               kUnstructCriterion, vs, max_depth, doc, result);
  if (data == nullptr) return;
  std::string inner;
  if (!check_entity(*data, vs, result.messages, result.validation_infos, inner,
                    &result.event_schema))
    return;
  result.column = "{\"schema\":\"";
  result.column += kUnstructSchema;
  result.column += "\",\"data\":";
  result.column += inner;
  result.column += '}';
}

bool check_derived_context(std::string& entity, const ValidationSettings& vs, int max_depth,
                           std::vector<std::string>& messages,
                           std::vector<std::string>& validation_infos) {
  if (vs.validator == nullptr) return true;
  rapidjson::Document doc;
  std::string error, msg;
  if (!parse_json_limited(entity, max_depth, doc, error)) {
    not_json_message("derived_contexts", entity, error, msg);
    messages.push_back(std::move(msg));
    return false;
  }
  std::string out;
  if (!check_entity(doc, vs, messages, validation_infos, out, nullptr)) return false;
  entity = std::move(out);
  return true;
}

}  // namespace furrow::enrich
