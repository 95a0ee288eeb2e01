// Shared pieces of enrichment configuration: a parsed Snowplow enrichment config (self-describing
// JSON), typed accessors whose errors name the file and the key, lookup-file resolution, and small
// JSON output helpers used by several enrichments.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace furrow::enrich::enrichments {

// Start-up options that are not part of Snowplow's config files.
struct LoadOptions {
  // Rules used by ua_parser_config / user_agent_utils_config when the config names no database:
  // uap-core's regexes.yaml. Empty = <cwd>/node_modules/uap-core/regexes.yaml.
  std::filesystem::path default_ua_regexes;
  // Entries in the user-agent LRU cache (shared by ua_parser and user_agent_utils); 0 = no cache.
  std::size_t ua_cache_size = 10'000;
  // Where downloaded (http/https) lookup files are kept; empty = a "furrow-assets" directory in
  // the system temp dir.
  std::filesystem::path asset_cache_dir;
};

// One enrichment config file, parsed and checked for the envelope ("schema", "data.vendor",
// "data.name", "data.enabled").
struct EnrichmentConfig {
  std::string file;  // for messages
  std::string schema;
  std::string vendor;
  std::string name;
  int model = 0;  // SchemaVer MODEL of `schema`
  bool enabled = false;
  std::shared_ptr<rapidjson::Document> doc;
  const rapidjson::Value* data = nullptr;
  // data.parameters; nullptr when absent.
  const rapidjson::Value* parameters = nullptr;

  // "file: key 'path': message"
  Error error(std::string_view key, std::string_view message) const;
};

// Parses one config document (no enrichment-specific checks).
Result<EnrichmentConfig> parse_enrichment_config(std::string_view json, std::string file);

// Typed access to a member of an object; `key_path` is the dotted path used in messages.
// A missing member gives nullopt for the optional forms and an error for the required ones.
Result<std::string> required_string(const EnrichmentConfig& c, const rapidjson::Value* obj,
                                    const char* key, std::string_view key_path);
Result<std::optional<std::string>> optional_string(const EnrichmentConfig& c,
                                                   const rapidjson::Value* obj, const char* key,
                                                   std::string_view key_path);
Result<std::optional<int64_t>> optional_int(const EnrichmentConfig& c, const rapidjson::Value* obj,
                                            const char* key, std::string_view key_path);
Result<std::optional<bool>> optional_bool(const EnrichmentConfig& c, const rapidjson::Value* obj,
                                          const char* key, std::string_view key_path);
Result<std::optional<std::vector<std::string>>> optional_string_array(const EnrichmentConfig& c,
                                                                      const rapidjson::Value* obj,
                                                                      const char* key,
                                                                      std::string_view key_path);
// The member as an object (nullptr when absent); an error when present but not an object.
Result<const rapidjson::Value*> optional_object(const EnrichmentConfig& c,
                                                const rapidjson::Value* obj, const char* key,
                                                std::string_view key_path);
// Errors for members of `obj` not in `allowed` (Snowplow's schemas are closed).
Status check_keys(const EnrichmentConfig& c, const rapidjson::Value* obj,
                  std::initializer_list<std::string_view> allowed, std::string_view key_path);

// Resolves a Snowplow lookup file ({"uri": ..., "database": ...}) to a local path: `file:///dir`
// or a plain directory → dir/database; http(s) → downloaded once into the asset cache. The file
// must exist and be readable.
Result<std::filesystem::path> resolve_lookup(const EnrichmentConfig& c, std::string_view uri,
                                             std::string_view database, std::string_view key_path,
                                             const LoadOptions& options);
// Where an http(s) lookup file is kept once downloaded: a file in the asset cache directory named
// after the whole URL (uri + "/" + database). A file already there is used without downloading,
// which is also how offline installs and tests provide remote assets.
std::filesystem::path asset_cache_path(const LoadOptions& options, std::string_view uri,
                                       std::string_view database);

// Reads {uri, database} from `obj` (both required strings) and resolves it.
Result<std::filesystem::path> resolve_lookup_object(const EnrichmentConfig& c,
                                                    const rapidjson::Value* obj,
                                                    std::string_view key_path,
                                                    const LoadOptions& options);

// Whole file as bytes, or an error naming it.
Result<std::string> read_whole_file(const std::filesystem::path& path);

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
// Writes a string or JSON null when `s` is empty (the enriched event's null).
inline void write_nullable(JsonWriter& w, std::string_view s) {
  if (s.empty()) {
    w.Null();
  } else {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
}
inline void write_string(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
// {"error": message} as a compact JSON string (a bad-row failure message).
std::string error_message_json(std::string_view message);
// {"field":..,"value":..,"expectation":..}
std::string input_message_json(std::string_view field, std::string_view value,
                               std::string_view expectation);

}  // namespace furrow::enrich::enrichments
