#include "iglu/registry.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "iglu/builtin_schemas.h"

namespace furrow::iglu {

bool Registry::vendor_matches(const std::string& vendor) const {
  for (const auto& p : vendor_prefixes_) {
    if (vendor.compare(0, p.size(), p) == 0) return true;
  }
  return false;
}

DirectoryRegistry::DirectoryRegistry(std::string name, std::string root, int priority,
                                     std::vector<std::string> prefixes)
    : Registry(std::move(name), priority, std::move(prefixes), Kind::kEmbedded),
      root_(std::move(root)) {}

LookupResult DirectoryRegistry::lookup(const SchemaKey& key) const {
  namespace fs = std::filesystem;
  LookupResult r;
  fs::path p = fs::path(root_) / "schemas" / key.vendor / key.name / key.format / key.version.str();
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) {
    r.status = LookupResult::Status::kNotFound;
    return r;
  }
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) {
    r.status = LookupResult::Status::kFailure;
    r.message = "cannot read " + p.string();
    return r;
  }
  r.status = LookupResult::Status::kFound;
  r.body = ss.str();
  return r;
}

HttpRegistry::HttpRegistry(std::string name, std::string uri, std::string apikey, int priority,
                           std::vector<std::string> prefixes)
    : HttpRegistry(std::move(name), std::move(uri), std::move(apikey), priority,
                   std::move(prefixes), Options{}) {}

HttpRegistry::HttpRegistry(std::string name, std::string uri, std::string apikey, int priority,
                           std::vector<std::string> prefixes, Options options)
    : Registry(std::move(name), priority, std::move(prefixes), Kind::kHttp),
      uri_(std::move(uri)),
      apikey_(std::move(apikey)),
      options_(options) {
  while (!uri_.empty() && uri_.back() == '/') uri_.pop_back();
}

LookupResult HttpRegistry::lookup(const SchemaKey& key) const {
  HttpOptions http;
  http.connect_timeout_ms = options_.connect_timeout_ms;
  http.timeout_ms = options_.timeout_ms;
  if (!apikey_.empty()) http.headers.push_back("apikey: " + apikey_);
  std::string url = uri_ + "/schemas/" + key.path();
  LookupResult r;
  long backoff = options_.backoff_ms;
  for (int attempt = 1;; ++attempt) {
    r.attempts = attempt;
    auto resp = http_get(url, http);
    if (resp) {
      if (resp->status >= 200 && resp->status < 300) {
        r.status = LookupResult::Status::kFound;
        r.body = std::move(resp->body);
      } else {
        r.status = LookupResult::Status::kNotFound;
      }
      return r;
    }
    if (attempt > options_.retries) {
      r.status = LookupResult::Status::kFailure;
      r.message = resp.error().message;
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff *= 2;
  }
}

InMemoryRegistry::InMemoryRegistry(std::string name,
                                   std::map<std::string, std::string, std::less<>> schemas,
                                   int priority, Kind kind)
    : Registry(std::move(name), priority, {}, kind), schemas_(std::move(schemas)) {}

LookupResult InMemoryRegistry::lookup(const SchemaKey& key) const {
  LookupResult r;
  auto it = schemas_.find(key.path());
  if (it == schemas_.end()) return r;
  r.status = LookupResult::Status::kFound;
  r.body = it->second;
  return r;
}

std::shared_ptr<const InMemoryRegistry> builtin_registry() {
  static const auto registry = [] {
    std::map<std::string, std::string, std::less<>> m;
    for (const auto& s : builtin_schema_files())
      m.emplace(std::string(s.path), std::string(s.text));
    return std::make_shared<const InMemoryRegistry>("Iglu Client Embedded", std::move(m), 0,
                                                    Registry::Kind::kEmbedded);
  }();
  return registry;
}

}  // namespace furrow::iglu
