#include "iglu/schema_key.h"

#include <vector>

namespace furrow::iglu {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// A part of a SchemaVer: digits only, no sign, at most 9 digits (fits an int).
std::optional<int> parse_part(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Splits "a/b/c/d" into exactly four parts.
bool split4(std::string_view s, std::string_view (&out)[4]) {
  for (int i = 0; i < 3; ++i) {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return false;
    out[i] = s.substr(0, slash);
    s.remove_prefix(slash + 1);
  }
  if (s.find('/') != std::string_view::npos) return false;
  out[3] = s;
  return true;
}

Status check_parts(std::string_view vendor, std::string_view name, std::string_view format) {
  if (!valid_vendor(vendor)) return Error{"invalid schema vendor '" + std::string(vendor) + "'"};
  if (!valid_name(name)) return Error{"invalid schema name '" + std::string(name) + "'"};
  if (!valid_name(format)) return Error{"invalid schema format '" + std::string(format) + "'"};
  return Status::Ok();
}

constexpr std::string_view kIgluPrefix = "iglu:";

}  // namespace

bool valid_vendor(std::string_view s) {
  if (s.empty() || s.size() > kMaxKeyPart) return false;
  for (char c : s) {
    if (!name_char(c) && c != '.') return false;
  }
  return true;
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxKeyPart) return false;
  for (char c : s) {
    if (!name_char(c)) return false;
  }
  return true;
}

Result<SchemaVer> SchemaVer::parse(std::string_view text) {
  std::string_view parts[3];
  for (int i = 0; i < 2; ++i) {
    auto dash = text.find('-');
    if (dash == std::string_view::npos) {
      return Error{"invalid SchemaVer '" + std::string(text) +
                   "' (expected MODEL-REVISION-ADDITION)"};
    }
    parts[i] = text.substr(0, dash);
    text.remove_prefix(dash + 1);
  }
  parts[2] = text;
  SchemaVer v;
  int* out[3] = {&v.model, &v.revision, &v.addition};
  for (int i = 0; i < 3; ++i) {
    auto p = parse_part(parts[i]);
    if (!p) {
      return Error{"invalid SchemaVer part '" + std::string(parts[i]) +
                   "' (expected a non-negative integer)"};
    }
    *out[i] = *p;
  }
  return v;
}

std::string SchemaVer::str() const {
  return std::to_string(model) + "-" + std::to_string(revision) + "-" + std::to_string(addition);
}

Result<SchemaKey> SchemaKey::parse_path(std::string_view path) {
  std::string_view p[4];
  if (!split4(path, p)) {
    return Error{"invalid schema key '" + std::string(path) +
                 "' (expected vendor/name/format/version)"};
  }
  if (auto st = check_parts(p[0], p[1], p[2]); !st) return st.error();
  auto ver = SchemaVer::parse(p[3]);
  if (!ver) return ver.error();
  return SchemaKey{std::string(p[0]), std::string(p[1]), std::string(p[2]), *ver};
}

Result<SchemaKey> SchemaKey::parse(std::string_view uri) {
  if (uri.substr(0, kIgluPrefix.size()) != kIgluPrefix) {
    return Error{"invalid Iglu URI '" + std::string(uri.substr(0, 200)) +
                 "' (must start with iglu:)"};
  }
  return parse_path(uri.substr(kIgluPrefix.size()));
}

std::string SchemaKey::uri() const {
  return "iglu:" + path();
}

std::string SchemaKey::path() const {
  return vendor + "/" + name + "/" + format + "/" + version.str();
}

Result<SchemaCriterion> SchemaCriterion::parse(std::string_view uri) {
  if (uri.substr(0, kIgluPrefix.size()) != kIgluPrefix) {
    return Error{"invalid schema criterion '" + std::string(uri.substr(0, 200)) +
                 "' (must start with iglu:)"};
  }
  std::string_view p[4];
  if (!split4(uri.substr(kIgluPrefix.size()), p)) {
    return Error{"invalid schema criterion '" + std::string(uri) +
                 "' (expected vendor/name/format/version)"};
  }
  if (auto st = check_parts(p[0], p[1], p[2]); !st) return st.error();
  SchemaCriterion c{std::string(p[0]), std::string(p[1]), std::string(p[2]), {}, {}, {}};
  std::string_view ver = p[3];
  std::optional<int>* out[3] = {&c.model, &c.revision, &c.addition};
  bool wildcard_seen = false;
  for (int i = 0; i < 3; ++i) {
    std::string_view part;
    if (i < 2) {
      auto dash = ver.find('-');
      if (dash == std::string_view::npos)
        return Error{"invalid criterion version '" + std::string(p[3]) + "'"};
      part = ver.substr(0, dash);
      ver.remove_prefix(dash + 1);
    } else {
      part = ver;
    }
    if (part == "*") {
      wildcard_seen = true;
      continue;
    }
    if (wildcard_seen) {
      return Error{"invalid criterion version '" + std::string(p[3]) +
                   "' (a fixed part after '*')"};
    }
    auto v = parse_part(part);
    if (!v) return Error{"invalid criterion version '" + std::string(p[3]) + "'"};
    *out[i] = *v;
  }
  return c;
}

bool SchemaCriterion::matches(const SchemaKey& key) const {
  return key.vendor == vendor && key.name == name && key.format == format &&
         (!model || *model == key.version.model) &&
         (!revision || *revision == key.version.revision) &&
         (!addition || *addition == key.version.addition);
}

std::string SchemaCriterion::uri() const {
  auto part = [](const std::optional<int>& v) { return v ? std::to_string(*v) : std::string("*"); };
  return "iglu:" + vendor + "/" + name + "/" + format + "/" + part(model) + "-" + part(revision) +
         "-" + part(addition);
}

}  // namespace furrow::iglu
