// The Iglu resolver: registries in lookup order, a cache of compiled schemas (and of misses), and
// the SchemaValidator the enrichment pipeline uses (spec §6). Accepts Snowplow's resolver
// configuration (iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0 .. 1-0-3).
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "iglu/json_schema.h"
#include "iglu/registry.h"
#include "iglu/schema_key.h"
#include "iglu/validator.h"

namespace furrow::iglu {

struct ResolverOptions {
  std::size_t cache_size = 500;
  // Cached entries (found or not found) are looked up again after this long; none = forever.
  std::optional<std::chrono::seconds> cache_ttl;
  // Fixed lastAttempt time in ResolutionErrors (ms since epoch), for tests; 0 = the clock.
  int64_t fixed_now_ms = 0;
  // Infrastructure failures are not cached, but a registry that just failed is not asked again
  // for this long (the pipeline retries meanwhile).
  std::chrono::milliseconds failure_backoff{0};
};

// Parses a resolver configuration document (the self-describing JSON, or its bare `data`).
// HTTP repositories get HttpRegistry, embedded ones DirectoryRegistry (path = registry root).
// The built-in registry is always added, as iglu-scala-client adds its bootstrap schemas.
struct ResolverConfig {
  ResolverOptions options;
  std::vector<std::shared_ptr<const Registry>> registries;
};
Result<ResolverConfig> parse_resolver_config(const rapidjson::Value& config,
                                             const std::string& base_dir = "");
Result<ResolverConfig> parse_resolver_config_text(std::string_view json,
                                                  const std::string& base_dir = "");

// Resolves and validates. Thread-safe.
class Resolver final : public SchemaValidator {
 public:
  Resolver(std::vector<std::shared_ptr<const Registry>> registries, ResolverOptions options = {});

  // Registries in the order they are asked for `key`: vendor-prefix matches first, then by kind
  // (in-memory, embedded, HTTP), then by priority ascending; ties keep configuration order.
  std::vector<std::shared_ptr<const Registry>> lookup_order(const SchemaKey& key) const;

  struct Resolved {
    ValidationOutcome::Status status = ValidationOutcome::Status::kValid;  // kValid = found
    CompiledSchemaPtr schema;
    std::string error_json;   // kNotFound: ResolutionError; kInvalid: schema does not compile
    std::string message;      // kInfrastructure: which registry failed and why
    bool superseded = false;  // the schema carries $supersededBy
  };
  // The compiled schema for `key` (cached).
  Resolved resolve(const SchemaKey& key);

  ValidationOutcome validate(std::string_view schema_uri, const rapidjson::Value& data) override;

 private:
  struct Entry {
    Resolved resolved;
    std::chrono::steady_clock::time_point stored;
    std::list<std::string>::iterator lru;
  };
  Resolved lookup_uncached(const SchemaKey& key);
  ValidationOutcome validate_key(const SchemaKey& key, const rapidjson::Value& data, int hops);

  std::vector<std::shared_ptr<const Registry>> registries_;
  ResolverOptions options_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> cache_;
  std::list<std::string> lru_;  // most recently used first
  std::map<std::string, std::chrono::steady_clock::time_point> failed_until_;
};

// Loads a resolver configuration file (relative embedded paths are taken from the file's folder).
// This is what `furrow enrich --resolver FILE` calls.
Result<std::shared_ptr<SchemaValidator>> load_resolver(const std::string& path);
// A resolver with only the built-in schemas.
std::shared_ptr<Resolver> builtin_resolver();

}  // namespace furrow::iglu
