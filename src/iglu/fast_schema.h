// Private to furrow_iglu: an allocation-free draft-4 checker for the keyword subset Iglu schemas
// use almost exclusively (type, properties, additionalProperties, required, enum, string, number,
// array and object limits, pattern, format). It walks the schema as written, straight on the
// RapidJSON instance, where valijson's adapter copies every property name and context path.
//
// A schema that uses anything else anywhere ($ref, allOf/anyOf/oneOf/not, patternProperties,
// dependencies, multipleOf, uniqueItems, tuple items, unknown type names, or a keyword value of an
// unexpected type) gets no FastSchema, and CompiledSchema::is_valid uses valijson. The verdicts
// equal valijson's for the subset (the draft-4 suite runs both, see json_schema_conformance_test);
// the one known difference is an instance object with duplicate member names, which valijson
// treats as an additional property and this checker checks member by member.
#pragma once

#include <rapidjson/document.h>

#include <memory>

namespace furrow::iglu {

class FastSchema {
 public:
  // nullptr when `schema` uses a keyword outside the subset. `schema` must outlive the result
  // (enum values are read from it).
  static std::unique_ptr<const FastSchema> compile(const rapidjson::Value& schema);

  // Whether `data` is valid. The caller has checked the nesting depth.
  bool is_valid(const rapidjson::Value& data) const;

  ~FastSchema();
  FastSchema(const FastSchema&) = delete;
  FastSchema& operator=(const FastSchema&) = delete;

  struct Node;

 private:
  FastSchema();
  std::unique_ptr<Node> root_;
};

}  // namespace furrow::iglu
