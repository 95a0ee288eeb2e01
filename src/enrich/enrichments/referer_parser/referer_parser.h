// referer_parser: refr_medium / refr_source / refr_term from the referrer URL and the
// referer-parser database (spec 4.7, TV-17).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"

namespace furrow::enrich::enrichments {

struct RefererSource {
  std::string medium;  // unknown | email | social | search | paid | chatbot
  std::string source;
  std::vector<std::string> parameters;  // search-term parameter names
};

// The referer database: "host[/path]" → source. Immutable after loading; thread-safe.
class RefererDatabase {
 public:
  // YAML (referers.yml) or JSON (referers-latest.json): {medium: {source: {domains, parameters}}}.
  static Result<std::shared_ptr<RefererDatabase>> from_text(std::string_view text,
                                                            const std::string& origin);
  static Result<std::shared_ptr<RefererDatabase>> from_file(const std::filesystem::path& path);
  // Adds the sources of a JSON object in the database's structure (inline `referrers`).
  Status add_json(const rapidjson::Value& root, const std::string& origin);

  // Snowplow's candidate order: paths (full, "/" + first segment, none) outer, hosts (full, then
  // without leading labels) inner. nullptr when nothing matches.
  const RefererSource* lookup(std::string_view host, std::string_view path) const;
  // The same through a per-thread memo of recent (host, path) pairs, keyed by version_ (so a
  // database changed by add_json, or a later database at the same address, never sees another's
  // entries). For traffic that repeats referrers.
  const RefererSource* lookup_memoized(std::string_view host, std::string_view path) const;
  std::size_t size() const { return by_key_.size(); }

 private:
  Status add(std::string medium, std::string source, std::vector<std::string> domains,
             std::vector<std::string> parameters, const std::string& origin);
  std::vector<std::unique_ptr<RefererSource>> sources_;
  std::unordered_map<std::string, const RefererSource*> by_key_;
  uint64_t version_ = 0;  // process-unique, renewed by every add (0 = never added to)
};

struct RefererResult {
  std::string medium, source, term;
};

// Classifies one referrer URL (already split). `page_host` and `internal_domains` make a
// referrer internal. Returns false when the URL is not classifiable (scheme other than
// http/https/android-app, or no host): nothing is set then.
bool classify_referer(const RefererDatabase& db, std::string_view scheme, std::string_view host,
                      std::string_view path, std::string_view query, std::string_view page_host,
                      const std::vector<std::string>& internal_domains, RefererResult& out);

class RefererParserEnrichment final : public Enrichment {
 public:
  RefererParserEnrichment(std::shared_ptr<const RefererDatabase> db,
                          std::vector<std::string> internal_domains)
      : db_(std::move(db)), internal_(std::move(internal_domains)) {}
  std::string_view name() const override { return "referer_parser"; }
  Step step() const override { return Step::kRefererParser; }
  // Uses refr_urlscheme/host/path/query when the pipeline has split page_referrer; otherwise
  // splits page_referrer itself.
  void apply(EventContext& ctx) const override;

 private:
  std::shared_ptr<const RefererDatabase> db_;
  std::vector<std::string> internal_;
};

Result<std::shared_ptr<const Enrichment>> make_referer_parser(const EnrichmentConfig& c,
                                                              const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
