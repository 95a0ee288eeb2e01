// Tracker Protocol adapters: tp1 (GET pixel), tp2 (GET and POST payload_data batches) and the
// click redirect (/r/tp2), with Snowplow's failure messages (spec sections 1.1, 2.5, 7
// TV-14/TV-22).
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
#include "protocol/param_keys.h"

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

// The addition (1-0-<n>) that introduced `key`, or -1 when no payload_data version allows it.
int key_since(std::string_view key) {
  const int id = param_key_id(key);
  return id < 0 ? -1 : param_key_since(id);
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
// with JSON whitespace anywhere, string values (escapes decoded) and nothing else. It reads the
// events straight from the body, without a SAX handler, member copies or a second validation
// pass. It accepts only bodies that the general path (RapidJSON + validate_payload_data) would
// accept, with the same parameters in the same order; on anything else — another top-level key,
// a non-string value, an escape in a key, a surrogate escape, an unknown key, a missing tv/p/e,
// a syntax error — it fails and the general path decides and words the error. `body` must be
// valid UTF-8.
//
// Keys and values come out as views: into the body when a string has no escape, else into
// `arena`, a buffer of at least body.size() + kArenaSlack bytes (decoding only shrinks text, so
// it always fits; the slack takes the scanner's whole 16-byte stores). A sink receives them:
//   void begin_event();  bool add(std::string_view name, std::string_view value);
// (add returning false makes the scan fail).
constexpr std::size_t kArenaSlack = 16;

class PayloadScanner {
 public:
  PayloadScanner(std::string_view body, char* arena)
      : p_(body.data()), end_(body.data() + body.size()), w_(arena) {}

  // Scans the whole body; on success `addition` is N of the envelope's 1-0-N.
  template <class Sink>
  bool scan(Sink& sink, int& addition) {
    if (!scan_envelope(sink) || events_ == 0) return false;
    // Nearly every body names the same payload_data version: the last accepted schema URI text
    // and its addition are remembered per thread (the check depends on the text alone).
    struct SchemaMemo {
      std::string text;
      int addition = -1;
    };
    thread_local SchemaMemo memo;
    if (memo.addition >= 0 && schema_ == memo.text) {
      addition = memo.addition;
      return true;
    }
    SchemaKeyParts key;
    if (parse_schema_uri(schema_, key) != nullptr ||
        key.vendor != "com.snowplowanalytics.snowplow" || key.name != "payload_data" ||
        key.format != "jsonschema" || key.model != 1 || key.revision != 0 || key.addition > 4) {
      return false;
    }
    addition = key.addition;
    if (schema_.size() <= 128) {
      memo.text.assign(schema_);
      memo.addition = addition;
    }
    return true;
  }

 private:
  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  // Trackers send no whitespace between tokens: the expected byte is checked first, inline (GCC
  // -O2 otherwise leaves eat as a call, four per parameter); whitespace goes out of line.
  __attribute__((always_inline)) bool eat(char c) {
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return eat_after_space(c);
  }
  __attribute__((noinline)) bool eat_after_space(char c) {
    ws();
    if (p_ >= end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  // Moves to the next '"', '\\' or control character: 16 bytes at a time with SSE2 (part of
  // x86-64, so inlined here, without a call or a run-time check), then eight at a time; the last
  // < 8 bytes are left to the caller's byte loop.
#if defined(__SSE2__)
  // Bit k set when byte k of x is '"', '\\' or a control byte.
  static unsigned special_mask(__m128i x) {
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i below = _mm_set1_epi8(0x1F);
    // x <= 0x1F unsigned exactly when min(x, 0x1F) == x.
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                     _mm_cmpeq_epi8(_mm_min_epu8(x, below), x));
    return static_cast<unsigned>(_mm_movemask_epi8(special));
  }
#endif
  __attribute__((always_inline)) void skip_plain() {
#if defined(__SSE2__)
    while (end_ - p_ >= 16) {
      const auto mask = special_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p_)));
      if (mask != 0) {
        p_ += __builtin_ctz(mask);
        return;
      }
      p_ += 16;
    }
#endif
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    while (end_ - p_ >= 8) {
      uint64_t w;
      std::memcpy(&w, p_, 8);  // little-endian: byte k of the text is byte k of w
      const uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
      // High bit set in a byte that is zero in q or b, or below 0x20 in w (bytes >= 0x80 never
      // flag). A borrow can flag a byte above a flagged one, never below it, so the lowest flag
      // is exact: jump straight to it.
      const uint64_t special =
          (((q - kOnes) & ~q) | ((b - kOnes) & ~b) | ((w - kOnes * 0x20) & ~w)) & kHigh;
      if (special != 0) {
        p_ += __builtin_ctzll(special) >> 3;
        return;
      }
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
  // A string value with its escapes decoded as RapidJSON decodes them: a view into the body when
  // there is no escape, else into the arena.
  __attribute__((always_inline)) bool string_value(std::string_view& value) {
    if (!eat('"')) return false;
    const char* run = p_;
    skip_plain();
    // Nearly every value ends at the first special byte; anything else (an escape, a tail of
    // under 8 bytes, a control byte) goes on out of line, so this part stays inlined.
    if (p_ < end_ && *p_ == '"') {
      value = std::string_view(run, static_cast<std::size_t>(p_ - run));
      ++p_;
      return true;
    }
    return string_value_rest(run, value);
  }
  // string_value from the read position on, the value having started at `run`. Until the first
  // escape the value is a view into the body; from there on it is decoded into the arena: plain
  // bytes are copied 16 at a time (stored whole, the arena has 16 bytes to spare) up to the next
  // special byte, so an escape costs no memcpy call.
  __attribute__((noinline)) bool string_value_rest(const char* run, std::string_view& value) {
    for (;;) {
      if (p_ >= end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        value = std::string_view(run, static_cast<std::size_t>(p_ - run));
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') break;
      ++p_;
      skip_plain();
    }
    char* const mark = w_;  // where the value starts in the arena
    copy(run);
    // The read and write positions in locals (stores through `w` could alias the members, which
    // would then be stored and reloaded around every byte); written back on the way out.
    const char* p = p_;
    const char* const end = end_;
    char* w = w_;
    const auto done = [&](bool ok) {
      p_ = p;
      w_ = w;
      return ok;
    };
    for (;;) {
#if defined(__SSE2__)
      while (end - p >= 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(w), x);
        const unsigned mask = special_mask(x);
        if (mask != 0) {
          const auto n = static_cast<unsigned>(__builtin_ctz(mask));
          p += n;
          w += n;
          break;
        }
        p += 16;
        w += 16;
      }
#endif
      if (p >= end) return done(false);
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        value = std::string_view(mark, static_cast<std::size_t>(w - mark));
        ++p;
        return done(true);
      }
      if (c < 0x20) return done(false);
      if (c != '\\') {
        *w++ = static_cast<char>(c);
        ++p;
        continue;
      }
      if (++p >= end) return done(false);
      const char e = *p++;
      if (e == '"') {  // by far the most common escape (JSON inside a value: co, ue_pr)
        *w++ = '"';
        continue;
      }
      switch (e) {
        case '\\':
          *w++ = '\\';
          break;
        case '/':
          *w++ = '/';
          break;
        case 'b':
          *w++ = '\b';
          break;
        case 'f':
          *w++ = '\f';
          break;
        case 'n':
          *w++ = '\n';
          break;
        case 'r':
          *w++ = '\r';
          break;
        case 't':
          *w++ = '\t';
          break;
        case 'u': {
          if (end - p < 4) return done(false);
          uint32_t cp = 0;
          for (int i = 0; i < 4; ++i) {
            const int h = hex(p[i]);
            if (h < 0) return done(false);
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          p += 4;
          if (cp >= 0xD800 && cp <= 0xDFFF) return done(false);  // surrogates: the general path
          if (cp < 0x80) {
            *w++ = static_cast<char>(cp);
          } else if (cp < 0x800) {
            *w++ = static_cast<char>(0xC0 | (cp >> 6));
            *w++ = static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            *w++ = static_cast<char>(0xE0 | (cp >> 12));
            *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            *w++ = static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default:
          return done(false);
      }
    }
  }
  // A key that must be a known parameter name (param_keys.h; all are 1-7 bytes of letters, digits
  // and '_'): found in the eight bytes after its opening quote and looked up by its packed bytes.
  // Declines exactly when plain_string + param_key_id would: a key with an escape, a control byte
  // or eight or more bytes is never a known name. (A valid body has at least eight bytes after
  // a key's opening quote: the key, '"', ':', a string value and the closing "}]}".)
  __attribute__((always_inline)) bool known_key(std::string_view& name, int& id) {
    if (!eat('"') || end_ - p_ < 8) return false;
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
    uint64_t w;
    std::memcpy(&w, p_, 8);  // little-endian: byte k of the text is byte k of w
    const uint64_t q = w ^ (kOnes * '"');
    const uint64_t quotes = (q - kOnes) & ~q & kHigh;  // the lowest flag is exact
    if (quotes == 0) return false;
    const auto n = static_cast<std::size_t>(__builtin_ctzll(quotes)) >> 3;  // 0..7
    if (n == 0) return false;
    id = param_key_id_packed(w & ((uint64_t{1} << (8 * n)) - 1), n);
    if (id < 0) return false;
    name = std::string_view(p_, n);
    p_ += n + 1;
    return true;
  }
  // The members of an event whose keys must be known names, after its '{' (and not at an empty
  // event's '}'), through its closing '}'. Each member in the exact shape trackers send,
  // "key":"value" with a plain value ending within the body's last 16 bytes, is read with the
  // read position in a local (the sink's stores of `const char*` views could alias a member
  // variable, which GCC would then reload after every parameter); any other member is read by
  // the general member code from its start. Both accept and decline exactly the same members:
  // the fast part only takes what known_key, eat and string_value would read the same way.
  template <class Sink>
  bool known_members(Sink& sink) {
    std::string_view name, value;
    int id = -1;
    const char* p = p_;
    const char* const end = end_;
    for (;;) {
      bool done = false;
#if defined(__SSE2__)
      // '"', at least eight bytes after it (known_key), and ':"' right after the key.
      if (end - p >= 10 && p[0] == '"') {
        constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
        uint64_t w;
        std::memcpy(&w, p + 1, 8);  // little-endian: byte k of the text is byte k of w
        const uint64_t q = w ^ (kOnes * '"');
        const uint64_t quotes = (q - kOnes) & ~q & kHigh;  // the lowest flag is exact
        if (quotes == 0) return false;                     // eight or more bytes: not known
        const auto n = static_cast<std::size_t>(__builtin_ctzll(quotes)) >> 3;
        if (n == 0) return false;
        id = param_key_id_packed(w & ((uint64_t{1} << (8 * n)) - 1), n);
        if (id < 0) return false;
        const char* const colon = p + 1 + n + 1;  // at most p + 9 < end
        if (colon[0] == ':' && colon[1] == '"') {
          const char* const v = colon + 2;
          const char* e = v;
          while (end - e >= 16) {
            const unsigned mask =
                special_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(e)));
            if (mask != 0) {
              e += __builtin_ctz(mask);
              done = true;
              break;
            }
            e += 16;
          }
          if (done) {
            name = std::string_view(p + 1, n);
            if (*e == '"') {
              value = std::string_view(v, static_cast<std::size_t>(e - v));
              p = e + 1;
            } else {
              p_ = e;
              if (!string_value_rest(v, value)) return false;
              p = p_;
            }
          }
        }
      }
#endif
      if (!done) {
        p_ = p;
        if (!known_key(name, id) || !eat(':') || !string_value(value)) return false;
        p = p_;
      }
      if (!sink.add_known(name, value, id)) return false;
      if (p < end && *p == ',') {
        ++p;
        continue;
      }
      p_ = p;
      if (!eat(',')) return eat('}');
      p = p_;
    }
  }
  template <class Sink>
  bool scan_event(Sink& sink) {
    if (!eat('{')) return false;
    if (eat('}')) return true;
    std::string_view name, value;
    if constexpr (Sink::kKnownKeysOnly) {
      return known_members(sink);
    } else {
      do {
        if (!plain_string(name) || !eat(':') || !string_value(value) || !sink.add(name, value))
          return false;
      } while (eat(','));
    }
    return eat('}');
  }
  template <class Sink>
  bool scan_data(Sink& sink) {
    if (!eat('[')) return false;
    if (eat(']')) return true;
    do {
      sink.begin_event();
      ++events_;
      if (!scan_event(sink) || !sink.end_event()) return false;
    } while (eat(','));
    return eat(']');
  }
  template <class Sink>
  bool scan_envelope(Sink& sink) {
    if (!eat('{')) return false;
    bool have_schema = false, have_data = false;
    std::string_view key;
    do {
      if (!plain_string(key) || !eat(':')) return false;
      if (key == "schema" && !have_schema) {
        if (!plain_string(schema_)) return false;
        have_schema = true;
      } else if (key == "data" && !have_data) {
        if (!scan_data(sink)) return false;
        have_data = true;
      } else {
        return false;
      }
    } while (eat(','));
    if (!eat('}')) return false;
    ws();
    return p_ == end_ && have_schema && have_data;
  }

  void put(char c) {
    *w_++ = c;
  }
  // Appends the text from `run` up to the read position to the arena.
  void copy(const char* run) {
    const auto n = static_cast<std::size_t>(p_ - run);
    std::memcpy(w_, run, n);
    w_ += n;
  }

  const char* p_;
  const char* end_;
  char* w_;  // arena write position
  std::string_view schema_;
  std::size_t events_ = 0;
};

// Builds owned Params (a repeated key keeps its first place and takes the last value).
struct ParamsSink {
  static constexpr bool kKnownKeysOnly = false;
  std::vector<Params>& events;
  void begin_event() { events.emplace_back().reserve(48); }
  static bool end_event() { return true; }
  bool add(std::string_view name, std::string_view value) {
    events.back().set(std::string(name), std::string(value));
    return true;
  }
};

// The ids tv, p and e as a 128-bit set (every event needs them). Initialized before main (the key
// table it reads is constant-initialized), so the sink reads it without a guard.
std::array<uint64_t, 2> required_keys() {
  std::array<uint64_t, 2> m{};
  for (const std::string_view k : {"tv", "p", "e"}) {
    const int id = param_key_id(k);
    m[static_cast<std::size_t>(id >> 6)] |= uint64_t{1} << (id & 63);
  }
  return m;
}
const std::array<uint64_t, 2> kRequiredKeys = required_keys();

// Builds ParamViews; declines unknown and repeated keys (the general path handles those) and
// events without tv, p or e. `used` collects every event's keys, which the caller checks against
// the envelope's payload_data version once it is known.
struct ViewSink {
  static constexpr bool kKnownKeysOnly = true;  // keys come with their id (known_key)
  protocol::ViewEvents& out;
  // The sets as two words each, not arrays indexed by id: scalars can stay in registers.
  uint64_t seen0 = 0, seen1 = 0;
  uint64_t used[2] = {0, 0};
  void begin_event() {
    out.begins.push_back(static_cast<uint32_t>(out.params.size()));
    seen0 = seen1 = 0;
  }
  bool end_event() {
    used[0] |= seen0;
    used[1] |= seen1;
    return (seen0 & kRequiredKeys[0]) == kRequiredKeys[0] &&
           (seen1 & kRequiredKeys[1]) == kRequiredKeys[1];
  }
  bool add_known(std::string_view name, std::string_view value, int id) {
    static_assert(kParamKeyCount <= 128);
    const uint64_t bit = uint64_t{1} << (id & 63);
    const bool high = id >= 64;
    if (((high ? seen1 : seen0) & bit) != 0) return false;
    seen0 |= high ? 0 : bit;
    seen1 |= high ? bit : 0;
    out.params.push_back(ParamView{name, value, id});
    return true;
  }
};

// The payload_data rules the scanner leaves to its caller: every key allowed by 1-0-<addition>,
// tv, p and e present.
struct KeyCheck {
  bool tv = false, p = false, e = false;
  bool add(std::string_view name, int since, int addition) {
    if (since < 0 || since > addition) return false;
    tv |= name == "tv";
    p |= name == "p";
    e |= name == "e";
    return true;
  }
  bool complete() const { return tv && p && e; }
};

}  // namespace

bool scan_payload_data(std::string_view body, const Params& query, std::vector<Params>& events) {
  const std::size_t first = events.size();
  std::string arena(body.size() + kArenaSlack, '\0');
  ParamsSink sink{events};
  int addition = 0;
  bool ok = PayloadScanner(body, arena.data()).scan(sink, addition);
  for (std::size_t e = first; ok && e < events.size(); ++e) {
    Params& p = events[e];
    KeyCheck check;
    for (const auto& m : p.items()) {
      if (!(ok = check.add(m.name, key_since(m.name), addition))) break;
    }
    ok = ok && check.complete();
    // Query-string parameters are merged into every event and win on a clash.
    if (ok) {
      for (const auto& q : query.items()) p.set(q.name, q.value);
    }
  }
  if (!ok) events.resize(first);
  return ok;
}

bool scan_payload_views(std::string_view body, std::string& arena, protocol::ViewEvents& out) {
  out.clear();
  if (arena.size() < body.size() + kArenaSlack) arena.resize(body.size() + kArenaSlack);
  ViewSink sink{out};
  int addition = 0;
  if (!PayloadScanner(body, arena.data()).scan(sink, addition)) return false;
  // KeyCheck's rules by id (every view has a known id): tv, p and e present (checked per event
  // by the sink), every key allowed by 1-0-<addition>.
  const std::array<uint64_t, 2>& allowed = param_keys_allowed_by(addition);
  return (sink.used[0] & ~allowed[0]) == 0 && (sink.used[1] & ~allowed[1]) == 0;
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

bool is_allowed_content_type(std::string_view ct) {
  for (auto allowed : kContentTypes) {
    if (ct == allowed) return true;
  }
  return false;
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
