#include "payload.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "encoding.h"

namespace furrow::tracker::detail {

void Payload::add(std::string_view key, std::string value) {
  if (value.empty()) return;
  params_.emplace_back(std::string(key), std::move(value));
}

void Payload::add_json(std::string_view json, bool base64, std::string_view key_base64,
                       std::string_view key_plain) {
  if (base64) {
    add(key_base64, base64url(json));
  } else {
    add(key_plain, std::string(json));
  }
}

std::string Payload::to_json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [k, v] : params_) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

bool query_from_json(std::string_view json,
                     const std::vector<std::pair<std::string, std::string>>& extra,
                     std::string* out) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  out->clear();
  auto append = [out](std::string_view k, std::string_view v) {
    if (!out->empty()) *out += '&';
    percent_encode(k, out);
    *out += '=';
    percent_encode(v, out);
  };
  // Index loop: rapidjson's member iterators trip clang's C++20 reversed-operator check.
  for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
    const auto& m = *(doc.MemberBegin() + i);
    if (!m.value.IsString()) return false;
    append(std::string_view(m.name.GetString(), m.name.GetStringLength()),
           std::string_view(m.value.GetString(), m.value.GetStringLength()));
  }
  for (const auto& [k, v] : extra) append(k, v);
  return true;
}

}  // namespace furrow::tracker::detail
