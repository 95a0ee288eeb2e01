// Iglu schema keys (iglu:vendor/name/format/MODEL-REVISION-ADDITION), SchemaVer and criteria
// (1-0-*), spec §6. Parsing never throws; bad input gives an Error naming what is wrong.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace furrow::iglu {

// Longest vendor, name or format accepted. Iglu Server stores them in VARCHAR(128); longer keys
// from untrusted input are rejected before any registry is asked (reliability S8).
inline constexpr std::size_t kMaxKeyPart = 128;

struct SchemaVer {
  int model = 1;
  int revision = 0;
  int addition = 0;

  // "1-0-2"; each part a non-negative decimal integer without sign, at most 9 digits.
  static Result<SchemaVer> parse(std::string_view text);
  std::string str() const;
  auto operator<=>(const SchemaVer&) const = default;
};

struct SchemaKey {
  std::string vendor;
  std::string name;
  std::string format;
  SchemaVer version;

  // "iglu:vendor/name/format/1-0-0".
  static Result<SchemaKey> parse(std::string_view uri);
  // Path form "vendor/name/format/1-0-0" (as in a static registry below schemas/).
  static Result<SchemaKey> parse_path(std::string_view path);
  std::string uri() const;   // iglu:vendor/name/format/1-0-0
  std::string path() const;  // vendor/name/format/1-0-0
  auto operator<=>(const SchemaKey&) const = default;
};

// A SchemaVer criterion: each part either fixed or '*'. A '*' may only be followed by '*'
// (1-*-* and 1-0-* are criteria; 1-*-0 is not).
struct SchemaCriterion {
  std::string vendor;
  std::string name;
  std::string format;
  std::optional<int> model;
  std::optional<int> revision;
  std::optional<int> addition;

  // "iglu:vendor/name/format/1-0-*".
  static Result<SchemaCriterion> parse(std::string_view uri);
  bool matches(const SchemaKey& key) const;
  std::string uri() const;
};

// True when `s` is a valid vendor (reverse DNS: [a-zA-Z0-9-_.]+) or name/format ([a-zA-Z0-9-_]+).
bool valid_vendor(std::string_view s);
bool valid_name(std::string_view s);

}  // namespace furrow::iglu
