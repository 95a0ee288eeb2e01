#include "protocol/json_util.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <charconv>

namespace furrow::protocol {
namespace {

using rapidjson::SizeType;

// Forwards SAX events to a compact writer, recording where each child of the root lands.
class Capture : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Capture> {
 public:
  Capture(CompactJson& out, std::optional<std::string_view> prepend)
      : out_(out), writer_(buffer_), prepend_(prepend) {}

  bool Null() {
    return scalar([&] { return writer_.Null(); });
  }
  bool Bool(bool b) {
    return scalar([&] { return writer_.Bool(b); });
  }
  bool RawNumber(const char* s, SizeType n, bool) {
    return scalar([&] { return writer_.RawValue(s, n, rapidjson::kNumberType); });
  }
  bool String(const char* s, SizeType n, bool) {
    return scalar([&] { return writer_.String(s, n); });
  }
  bool Key(const char* s, SizeType n, bool) {
    if (depth_ == 1) key_.assign(s, n);
    return writer_.Key(s, n);
  }
  bool StartObject() {
    return open('{', [&] { return writer_.StartObject(); });
  }
  bool EndObject(SizeType n) {
    return close([&] { return writer_.EndObject(n); });
  }
  bool StartArray() {
    bool insert = prepend_ && depth_ == 1 && out_.root == '{' && key_ == "data";
    if (!open('[', [&] { return writer_.StartArray(); })) return false;
    if (insert) writer_.RawValue(prepend_->data(), prepend_->size(), rapidjson::kObjectType);
    return true;
  }
  bool EndArray(SizeType n) {
    return close([&] { return writer_.EndArray(n); });
  }

  bool too_deep() const { return too_deep_; }
  void finish() { out_.text.assign(buffer_.GetString(), buffer_.GetSize()); }

 private:
  // Before a value directly inside the root: where its text will start.
  void begin() {
    if (depth_ != 1) return;
    start_ = buffer_.GetSize();
    // The writer puts ':' before every member value, and ',' before every array element but the
    // first.
    if (out_.root == '{' || !out_.children.empty()) ++start_;
  }
  void end() {
    if (depth_ != 1) return;
    out_.children.push_back({out_.root == '{' ? key_ : std::string(), start_, buffer_.GetSize()});
  }
  template <class F>
  bool scalar(F&& write) {
    begin();
    bool ok = write();
    end();
    return ok;
  }
  template <class F>
  bool open(char kind, F&& write) {
    if (depth_ >= kMaxJsonDepth) {
      too_deep_ = true;
      return false;
    }
    begin();
    if (depth_ == 0) out_.root = kind;
    ++depth_;
    return write();
  }
  template <class F>
  bool close(F&& write) {
    --depth_;
    bool ok = write();
    end();
    return ok;
  }

  CompactJson& out_;
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
  std::optional<std::string_view> prepend_;
  std::string key_;
  int depth_ = 0;
  std::size_t start_ = 0;
  bool too_deep_ = false;
};

bool parse_int(std::string_view s, int& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool is_name_char(char c, bool allow_dot) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || (allow_dot && c == '.');
}

bool all_name_chars(std::string_view s, bool allow_dot) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_name_char(c, allow_dot)) return false;
  }
  return true;
}

// 0 or a number without leading zeros; `nonzero` additionally rejects 0.
bool version_part(std::string_view s, bool nonzero, int& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  if (s.size() > 1 && s[0] == '0') return false;
  if (!parse_int(s, out)) return false;
  return !(nonzero && out == 0);
}

}  // namespace

std::optional<std::string_view> CompactJson::member(std::string_view key) const {
  std::optional<std::string_view> found;
  if (root != '{') return found;
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (children[i].key == key) found = child(i);
  }
  return found;
}

bool compact_json(std::string_view json, CompactJson& out, std::string& error,
                  std::optional<std::string_view> prepend_to_data) {
  out = CompactJson{};
  Capture capture(out, prepend_to_data);
  rapidjson::MemoryStream stream(json.data(), json.size());
  rapidjson::Reader reader;
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
  auto result = reader.Parse<kFlags>(stream, capture);
  if (!result) {
    if (capture.too_deep()) {
      error = "invalid json: maximum allowed JSON depth of " + std::to_string(kMaxJsonDepth) +
              " exceeded";
    } else {
      error = std::string("invalid json: ") + rapidjson::GetParseError_En(result.Code()) +
              " at offset " + std::to_string(result.Offset());
    }
    return false;
  }
  capture.finish();
  return true;
}

std::string_view json_type_name(std::string_view compact) {
  if (compact.empty()) return "null";
  switch (compact[0]) {
    case '{':
      return "object";
    case '[':
      return "array";
    case '"':
      return "string";
    case 't':
    case 'f':
      return "boolean";
    case 'n':
      return "null";
    default:
      return compact.find_first_of(".eE") == std::string_view::npos ? "integer" : "number";
  }
}

const char* parse_schema_uri(std::string_view uri, SchemaKeyParts& out) {
  constexpr std::string_view kPrefix = "iglu:";
  if (uri.substr(0, kPrefix.size()) != kPrefix) return "INVALID_IGLUURI";
  std::string_view rest = uri.substr(kPrefix.size());
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return "INVALID_IGLUURI";
    parts[i] = rest.substr(0, slash);
    rest.remove_prefix(slash + 1);
  }
  parts[3] = rest;
  if (!all_name_chars(parts[0], true) || !all_name_chars(parts[1], false) ||
      !all_name_chars(parts[2], false) || parts[3].empty() ||
      parts[3].find('/') != std::string_view::npos) {
    return "INVALID_IGLUURI";
  }
  std::string_view ver = parts[3];
  auto d1 = ver.find('-');
  auto d2 = d1 == std::string_view::npos ? d1 : ver.find('-', d1 + 1);
  if (d2 == std::string_view::npos || !version_part(ver.substr(0, d1), true, out.model) ||
      !version_part(ver.substr(d1 + 1, d2 - d1 - 1), false, out.revision) ||
      !version_part(ver.substr(d2 + 1), false, out.addition)) {
    return "INVALID_SCHEMAVER";
  }
  out.vendor = parts[0];
  out.name = parts[1];
  out.format = parts[2];
  return nullptr;
}

}  // namespace furrow::protocol
