// JSON helpers for the adapters: compact writing of Snowplow's message shapes, and a SAX-based
// re-serialiser that keeps numbers exactly as sent (circe's noSpaces does the same), bounded in
// depth.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace furrow::protocol {

// Nesting limit for JSON from the wire (Snowplow enrich's validation.maxJsonDepth).
inline constexpr int kMaxJsonDepth = 50;

// A compact JSON document under construction.
class JsonText {
 public:
  JsonText() : writer_(buffer_) {}
  rapidjson::Writer<rapidjson::StringBuffer>& w() { return writer_; }
  void key(std::string_view k) {
    writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  }
  void str(std::string_view s) {
    writer_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
  void opt_str(const std::optional<std::string_view>& s) {
    if (s) {
      str(*s);
    } else {
      writer_.Null();
    }
  }
  // Inserts already-serialised JSON as one value.
  void raw(std::string_view json, rapidjson::Type type = rapidjson::kObjectType) {
    writer_.RawValue(json.data(), json.size(), type);
  }
  void begin_object() { writer_.StartObject(); }
  void end_object() { writer_.EndObject(); }
  void begin_array() { writer_.StartArray(); }
  void end_array() { writer_.EndArray(); }
  std::string take() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

// The result of re-serialising a JSON text compactly.
struct CompactJson {
  struct Span {
    std::string key;  // member name when the root is an object; empty for array elements
    std::size_t begin = 0;
    std::size_t end = 0;
  };
  std::string text;            // the whole document, compact
  char root = 0;               // '{', '[' or 0 for a scalar root
  std::vector<Span> children;  // each direct child of the root, in order
  std::string_view child(std::size_t i) const {
    return std::string_view(text).substr(children[i].begin, children[i].end - children[i].begin);
  }
  // The last member named `key` of an object root (circe keeps the last duplicate), if any.
  std::optional<std::string_view> member(std::string_view key) const;
};

// Parses `json` (which must be valid UTF-8) and re-serialises it compactly, keeping numbers as
// written. When `prepend_to_data` is given and the root object has a "data" array, that JSON value
// is inserted as the array's first element. Returns false with `error` set ("invalid json: ...") on
// a syntax error or when nesting exceeds kMaxJsonDepth.
bool compact_json(std::string_view json, CompactJson& out, std::string& error,
                  std::optional<std::string_view> prepend_to_data = std::nullopt);

// The networknt-style JSON type name of the value starting at `compact[0]`: object, array, string,
// boolean, null, integer or number.
std::string_view json_type_name(std::string_view compact);

// Iglu schema URI parsing as iglu-core's SchemaKey.fromUri.
struct SchemaKeyParts {
  std::string_view vendor, name, format;
  int model = 0, revision = 0, addition = 0;
};
// Returns nullptr on success, else the iglu-core ParseError code (INVALID_IGLUURI or
// INVALID_SCHEMAVER).
const char* parse_schema_uri(std::string_view uri, SchemaKeyParts& out);

}  // namespace furrow::protocol
