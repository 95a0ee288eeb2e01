// Iglu registries: where schemas come from (spec §6). A lookup answers found (the schema text),
// not found, or failure (the registry could not be asked: an infrastructure problem).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "iglu/http_client.h"
#include "iglu/schema_key.h"

namespace furrow::iglu {

struct LookupResult {
  enum class Status { kFound, kNotFound, kFailure };
  Status status = Status::kNotFound;
  std::string body;     // kFound: the schema JSON text
  std::string message;  // kFailure: what went wrong
  int attempts = 1;     // requests made (HTTP retries count)
};

// Base of all registries. Thread-safe: lookup may be called from many threads.
class Registry {
 public:
  // Lookup order class (iglu-scala-client): in-memory 1, embedded 2, HTTP 100.
  enum class Kind { kInMemory = 1, kEmbedded = 2, kHttp = 100 };

  Registry(std::string name, int priority, std::vector<std::string> vendor_prefixes, Kind kind)
      : name_(std::move(name)),
        priority_(priority),
        vendor_prefixes_(std::move(vendor_prefixes)),
        kind_(kind) {}
  virtual ~Registry() = default;
  virtual LookupResult lookup(const SchemaKey& key) const = 0;

  const std::string& name() const { return name_; }
  int priority() const { return priority_; }
  const std::vector<std::string>& vendor_prefixes() const { return vendor_prefixes_; }
  Kind kind() const { return kind_; }
  // True when one of vendor_prefixes is a prefix of `vendor`.
  bool vendor_matches(const std::string& vendor) const;

 private:
  std::string name_;
  int priority_;
  std::vector<std::string> vendor_prefixes_;
  Kind kind_;
};

// A static registry on disk: <root>/schemas/<vendor>/<name>/<format>/<version>.
class DirectoryRegistry : public Registry {
 public:
  DirectoryRegistry(std::string name, std::string root, int priority = 0,
                    std::vector<std::string> prefixes = {});
  LookupResult lookup(const SchemaKey& key) const override;

 private:
  std::string root_;
};

// A static HTTP registry (Iglu Central layout, or Iglu Server with uri ending in /api):
// GET <uri>/schemas/<vendor>/<name>/<format>/<version>. 2xx = found, other statuses = not found,
// transport errors are retried `retries` times with a short backoff, then a failure.
class HttpRegistry : public Registry {
 public:
  struct Options {
    long connect_timeout_ms = 1000;
    long timeout_ms = 3000;
    int retries = 2;
    long backoff_ms = 50;  // doubled after each retry
  };
  HttpRegistry(std::string name, std::string uri, std::string apikey, int priority = 0,
               std::vector<std::string> prefixes = {});
  HttpRegistry(std::string name, std::string uri, std::string apikey, int priority,
               std::vector<std::string> prefixes, Options options);
  LookupResult lookup(const SchemaKey& key) const override;

 private:
  std::string uri_;
  std::string apikey_;
  Options options_;
};

// Schemas held in memory, keyed by path (vendor/name/format/version). Used for the schemas furrow
// ships (builtin_registry()) and by tests.
class InMemoryRegistry : public Registry {
 public:
  InMemoryRegistry(std::string name, std::map<std::string, std::string, std::less<>> schemas,
                   int priority = 0, Kind kind = Kind::kInMemory);
  LookupResult lookup(const SchemaKey& key) const override;
  const std::map<std::string, std::string, std::less<>>& schemas() const { return schemas_; }

 private:
  std::map<std::string, std::string, std::less<>> schemas_;
};

// The schemas furrow ships (src/iglu/schemas), as the implicit embedded registry
// "Iglu Client Embedded" that every resolver consults.
std::shared_ptr<const InMemoryRegistry> builtin_registry();

}  // namespace furrow::iglu
