#include "furrow/tracker/self_describing_json.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace furrow::tracker {

namespace {

bool name_chars(std::string_view s, bool allow_dot) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || (allow_dot && c == '.');
    if (!ok) return false;
  }
  return true;
}

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

bool is_iglu_uri(std::string_view uri) {
  constexpr std::string_view kPrefix = "iglu:";
  if (uri.substr(0, kPrefix.size()) != kPrefix) return false;
  uri.remove_prefix(kPrefix.size());
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    const auto slash = uri.find('/');
    if (slash == std::string_view::npos) return false;
    parts[i] = uri.substr(0, slash);
    uri.remove_prefix(slash + 1);
  }
  parts[3] = uri;
  if (!name_chars(parts[0], true) || !name_chars(parts[1], false) || !name_chars(parts[2], false))
    return false;
  const auto d1 = parts[3].find('-');
  if (d1 == std::string_view::npos) return false;
  const auto d2 = parts[3].find('-', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  return digits(parts[3].substr(0, d1)) && digits(parts[3].substr(d1 + 1, d2 - d1 - 1)) &&
         digits(parts[3].substr(d2 + 1));
}

SelfDescribingJson::SelfDescribingJson(std::string schema, std::string_view data_json)
    : schema_(std::move(schema)) {
  if (!is_iglu_uri(schema_)) {
    error_ = "not an Iglu schema URI: '" + schema_ + "'";
    return;
  }
  rapidjson::Document doc;
  // Iterative: deeply nested input cannot exhaust the stack. Trailing non-space text is an error.
  doc.Parse<rapidjson::kParseIterativeFlag>(data_json.data(), data_json.size());
  if (doc.HasParseError()) {
    error_ = "data of " + schema_ +
             " is not JSON: " + rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
             std::to_string(doc.GetErrorOffset());
    return;
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  data_.assign(buf.GetString(), buf.GetSize());
}

std::string SelfDescribingJson::to_json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("schema");
  w.String(schema_.data(), static_cast<rapidjson::SizeType>(schema_.size()));
  w.Key("data");
  w.RawValue(data_.data(), data_.size(), rapidjson::kObjectType);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace furrow::tracker
