#include "iglu/fast_schema.h"

#include <re2/re2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "iglu/json_schema.h"

namespace furrow::iglu {

namespace {

enum TypeBit : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kNumber = 16,
  kInteger = 32,
  kString = 64,
};

std::string_view sv(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// Code points as valijson counts them for maxLength/minLength: up to the first NUL, one per lead
// byte (a continuation byte at the very start also opens a character).
uint64_t code_points(const rapidjson::Value& v) {
  const auto* s = reinterpret_cast<const unsigned char*>(v.GetString());
  const std::size_t n = v.GetStringLength();
  uint64_t count = 0;
  for (std::size_t i = 0; i < n && s[i] != 0; ++i) {
    if (i == 0 || (s[i] & 0xC0) != 0x80) ++count;
  }
  return count;
}

bool has_type(const rapidjson::Value& v, uint8_t types) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return (types & kNull) != 0;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return (types & kBoolean) != 0;
    case rapidjson::kObjectType:
      return (types & kObject) != 0;
    case rapidjson::kArrayType:
      return (types & kArray) != 0;
    case rapidjson::kStringType:
      return (types & kString) != 0;
    case rapidjson::kNumberType:
      return (types & kNumber) != 0 || ((types & kInteger) != 0 && (v.IsInt64() || v.IsUint64()));
  }
  return false;
}

// Scalar equality with strict types, numbers compared as doubles (as valijson's equalTo).
bool scalar_equal(const rapidjson::Value& a, const rapidjson::Value& b) {
  if (a.IsNull()) return b.IsNull();
  if (a.IsBool()) return b.IsBool() && a.GetBool() == b.GetBool();
  if (a.IsNumber()) return b.IsNumber() && a.GetDouble() == b.GetDouble();
  if (a.IsString()) return b.IsString() && sv(a) == sv(b);
  return false;
}

}  // namespace

struct FastSchema::Node {
  uint8_t types = 0;  // 0: any type
  // Objects.
  bool object_rules = false;  // properties / additionalProperties / required / size limits
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> properties;
  bool additional_allowed = true;
  std::unique_ptr<Node> additional;  // schema for members not in `properties`
  std::vector<std::string> required;
  std::optional<uint64_t> min_properties, max_properties;
  // Arrays.
  std::unique_ptr<Node> items;
  std::optional<uint64_t> min_items, max_items;
  // Strings.
  std::optional<uint64_t> min_length, max_length;
  std::unique_ptr<re2::RE2> pattern;
  bool (*format)(std::string_view) = nullptr;
  // Numbers.
  std::optional<double> minimum, maximum;
  bool exclusive_minimum = false, exclusive_maximum = false;
  // enum: scalar values, read from the schema document.
  const rapidjson::Value* enum_values = nullptr;

  bool valid(const rapidjson::Value& v) const;
  bool valid_object(const rapidjson::Value& v) const;
};

namespace {

std::optional<uint64_t> limit(const rapidjson::Value& v, bool& ok) {
  if (v.IsUint64()) return v.GetUint64();
  if (v.IsDouble() && v.GetDouble() >= 0 && v.GetDouble() < 1.8e19 &&
      v.GetDouble() == static_cast<double>(static_cast<uint64_t>(v.GetDouble()))) {
    return static_cast<uint64_t>(v.GetDouble());
  }
  ok = false;
  return std::nullopt;
}

bool type_bit(std::string_view name, uint8_t& bits) {
  static constexpr std::pair<std::string_view, uint8_t> kNames[] = {
      {"null", kNull},     {"boolean", kBoolean}, {"object", kObject}, {"array", kArray},
      {"number", kNumber}, {"integer", kInteger}, {"string", kString}};
  for (const auto& [n, b] : kNames) {
    if (n == name) {
      bits |= b;
      return true;
    }
  }
  return false;
}

// True when two members of object `o` have the same name. Such a schema is left to valijson:
// which of the two a keyword reader takes is its business, and the fast checker (which would take
// the last) must not give a different verdict (found by the iglu_validate fuzz target: two
// "pattern" keywords in one property).
bool has_duplicate_names(const rapidjson::Value& o) {
  for (auto a = o.MemberBegin(); a != o.MemberEnd(); ++a) {
    for (auto b = a + 1; b != o.MemberEnd(); ++b) {
      if (sv(a->name) == sv(b->name)) return true;
    }
  }
  return false;
}

std::unique_ptr<FastSchema::Node> compile_node(const rapidjson::Value& s, int depth) {
  using Node = FastSchema::Node;
  if (!s.IsObject() || depth > kMaxJsonDepth || has_duplicate_names(s)) return nullptr;
  auto node = std::make_unique<Node>();
  bool ok = true;
  const rapidjson::Value* exclusive_min = nullptr;
  const rapidjson::Value* exclusive_max = nullptr;
  for (auto m = s.MemberBegin(); ok && m != s.MemberEnd(); ++m) {
    const std::string_view key = sv(m->name);
    const rapidjson::Value& v = m->value;
    if (key == "type") {
      if (v.IsString()) {
        ok = type_bit(sv(v), node->types);
      } else if (v.IsArray() && !v.Empty()) {
        for (const auto& t : v.GetArray()) ok = ok && t.IsString() && type_bit(sv(t), node->types);
      } else {
        ok = false;
      }
    } else if (key == "properties") {
      node->object_rules = true;
      if (!v.IsObject() || has_duplicate_names(v)) return nullptr;
      for (auto p = v.MemberBegin(); p != v.MemberEnd(); ++p) {
        auto child = compile_node(p->value, depth + 1);
        if (!child) return nullptr;
        node->properties.emplace_back(std::string(sv(p->name)), std::move(child));
      }
    } else if (key == "additionalProperties") {
      node->object_rules = true;
      if (v.IsBool()) {
        node->additional_allowed = v.GetBool();
      } else {
        node->additional = compile_node(v, depth + 1);
        ok = node->additional != nullptr;
      }
    } else if (key == "required") {
      node->object_rules = true;
      if (!v.IsArray()) return nullptr;
      for (const auto& r : v.GetArray()) {
        if (!r.IsString()) return nullptr;
        node->required.emplace_back(sv(r));
      }
    } else if (key == "minProperties") {
      node->object_rules = true;
      node->min_properties = limit(v, ok);
    } else if (key == "maxProperties") {
      node->object_rules = true;
      node->max_properties = limit(v, ok);
    } else if (key == "items") {
      // A single schema only; the tuple form (an array) is left to valijson.
      node->items = compile_node(v, depth + 1);
      ok = node->items != nullptr;
    } else if (key == "minItems") {
      node->min_items = limit(v, ok);
    } else if (key == "maxItems") {
      node->max_items = limit(v, ok);
    } else if (key == "minLength") {
      node->min_length = limit(v, ok);
    } else if (key == "maxLength") {
      node->max_length = limit(v, ok);
    } else if (key == "pattern") {
      if (!v.IsString()) return nullptr;
      re2::RE2::Options opts;
      opts.set_log_errors(false);
      node->pattern =
          std::make_unique<re2::RE2>(re2::StringPiece(v.GetString(), v.GetStringLength()), opts);
      ok = node->pattern->ok();  // ECMA-only syntax: valijson's std::regex path
    } else if (key == "format") {
      if (!v.IsString()) return nullptr;
      const std::string_view f = sv(v);
      if (f == "date-time") {
        node->format = &is_date_time;
      } else if (f == "email") {
        node->format = &is_email;
      } else if (f == "hostname") {
        node->format = &is_hostname;
      } else if (f == "ipv4") {
        node->format = &is_ipv4;
      } else if (f == "ipv6") {
        node->format = &is_ipv6;
      } else if (f == "uri") {
        node->format = &is_uri;
      }  // other formats are annotations
    } else if (key == "minimum" || key == "maximum") {
      if (!v.IsNumber()) return nullptr;
      (key == "minimum" ? node->minimum : node->maximum) = v.GetDouble();
    } else if (key == "exclusiveMinimum") {
      exclusive_min = &v;
    } else if (key == "exclusiveMaximum") {
      exclusive_max = &v;
    } else if (key == "enum") {
      if (!v.IsArray() || v.Empty()) return nullptr;
      for (const auto& e : v.GetArray()) {
        if (e.IsObject() || e.IsArray()) return nullptr;  // structured values: valijson
      }
      node->enum_values = &v;
    } else if (key == "$schema" || key == "self" || key == "description" || key == "title" ||
               key == "default" || key == "id" || key == "definitions") {
      // Annotations. `id` only changes how $ref resolves and `definitions` is only reached
      // through $ref, which the subset excludes.
    } else {
      return nullptr;  // anything else: valijson
    }
  }
  if (!ok) return nullptr;
  if (exclusive_min != nullptr) {
    if (!exclusive_min->IsBool()) return nullptr;
    node->exclusive_minimum = exclusive_min->GetBool();
  }
  if (exclusive_max != nullptr) {
    if (!exclusive_max->IsBool()) return nullptr;
    node->exclusive_maximum = exclusive_max->GetBool();
  }
  return node;
}

}  // namespace

bool FastSchema::Node::valid_object(const rapidjson::Value& v) const {
  const uint64_t size = v.MemberCount();
  if (min_properties && size < *min_properties) return false;
  if (max_properties && size > *max_properties) return false;
  for (const auto& name : required) {
    if (v.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size()))) ==
        v.MemberEnd()) {
      return false;
    }
  }
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string_view name = sv(m->name);
    const Node* schema = nullptr;
    bool declared = false;
    for (const auto& [p, child] : properties) {
      if (p.size() == name.size() && p == name) {
        schema = child.get();
        declared = true;
        break;
      }
    }
    if (!declared) {
      if (!additional_allowed) return false;
      schema = additional.get();
    }
    if (schema != nullptr && !schema->valid(m->value)) return false;
  }
  return true;
}

bool FastSchema::Node::valid(const rapidjson::Value& v) const {
  if (types != 0 && !has_type(v, types)) return false;
  if (enum_values != nullptr) {
    bool found = false;
    for (const auto& e : enum_values->GetArray()) {
      if (scalar_equal(e, v)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  switch (v.GetType()) {
    case rapidjson::kObjectType:
      return !object_rules || valid_object(v);
    case rapidjson::kArrayType: {
      const uint64_t size = v.Size();
      if (min_items && size < *min_items) return false;
      if (max_items && size > *max_items) return false;
      if (items) {
        for (const auto& item : v.GetArray()) {
          if (!items->valid(item)) return false;
        }
      }
      return true;
    }
    case rapidjson::kStringType: {
      if (min_length || max_length) {
        const uint64_t n = code_points(v);
        if (min_length && n < *min_length) return false;
        if (max_length && n > *max_length) return false;
      }
      if (format != nullptr && !format(sv(v))) return false;
      if (pattern &&
          !re2::RE2::PartialMatch(re2::StringPiece(v.GetString(), v.GetStringLength()), *pattern)) {
        return false;
      }
      return true;
    }
    case rapidjson::kNumberType: {
      const double d = v.GetDouble();
      if (minimum && (exclusive_minimum ? d <= *minimum : d < *minimum)) return false;
      if (maximum && (exclusive_maximum ? d >= *maximum : d > *maximum)) return false;
      return true;
    }
    default:
      return true;
  }
}

FastSchema::FastSchema() = default;
FastSchema::~FastSchema() = default;

std::unique_ptr<const FastSchema> FastSchema::compile(const rapidjson::Value& schema) {
  auto root = compile_node(schema, 0);
  if (!root) return nullptr;
  std::unique_ptr<FastSchema> out(new FastSchema());
  out->root_ = std::move(root);
  return out;
}

bool FastSchema::is_valid(const rapidjson::Value& data) const {
  return root_->valid(data);
}

}  // namespace furrow::iglu
