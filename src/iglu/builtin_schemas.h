// The schema files under src/iglu/schemas/, embedded into the library at build time
// (src/iglu/CMakeLists.txt generates the definition).
#pragma once

#include <string_view>
#include <vector>

namespace furrow::iglu {

struct BuiltinSchemaFile {
  std::string_view path;  // vendor/name/format/version
  std::string_view text;  // the schema JSON
};

const std::vector<BuiltinSchemaFile>& builtin_schema_files();

}  // namespace furrow::iglu
