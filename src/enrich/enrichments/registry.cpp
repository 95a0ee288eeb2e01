#include "enrich/enrichments/registry.h"

#include <algorithm>
#include <set>

#include "enrich/enrichments/anon_ip/anon_ip.h"
#include "enrich/enrichments/campaign_attribution/campaign_attribution.h"
#include "enrich/enrichments/cookie_extractor_config/cookie_extractor_config.h"
#include "enrich/enrichments/cross_navigation_config/cross_navigation_config.h"
#include "enrich/enrichments/event_fingerprint_config/event_fingerprint_config.h"
#include "enrich/enrichments/http_header_extractor_config/http_header_extractor_config.h"
#include "enrich/enrichments/iab_spiders_and_robots_enrichment/iab_spiders_and_robots_enrichment.h"
#include "enrich/enrichments/ip_lookups/ip_lookups.h"
#include "enrich/enrichments/pii_enrichment_config/pii_enrichment_config.h"
#include "enrich/enrichments/referer_parser/referer_parser.h"
#include "enrich/enrichments/ua_parser_config/ua_parser_config.h"
#include "enrich/enrichments/user_agent_utils_config/user_agent_utils_config.h"

namespace furrow::enrich::enrichments {

namespace {

constexpr std::string_view kSnowplow = "com.snowplowanalytics.snowplow";
constexpr std::string_view kSnowplowEnrichments = "com.snowplowanalytics.snowplow.enrichments";

// Adapters from the per-enrichment factories to one signature.
template <Result<std::shared_ptr<const Enrichment>> (*F)(const EnrichmentConfig&,
                                                         const LoadOptions&)>
Result<std::shared_ptr<const Enrichment>> plain(const EnrichmentConfig& c, const LoadOptions& o,
                                                LoadShared&) {
  return F(c, o);
}

Result<std::shared_ptr<const Enrichment>> ua_parser(const EnrichmentConfig& c, const LoadOptions& o,
                                                    LoadShared& shared) {
  return make_ua_parser(c, o,
                        [&](const std::filesystem::path& p) { return shared.ua_parser(p, o); });
}

Result<std::shared_ptr<const Enrichment>> user_agent_utils(const EnrichmentConfig& c,
                                                           const LoadOptions& o,
                                                           LoadShared& shared) {
  return make_user_agent_utils(
      c, o, [&](const std::filesystem::path& p) { return shared.ua_parser(p, o); });
}

Result<std::shared_ptr<const Enrichment>> iab(const EnrichmentConfig& c, const LoadOptions& o,
                                              LoadShared& shared) {
  return make_iab_spiders_and_robots(
      c, o, [&](const std::filesystem::path& p) { return shared.ua_parser(p, o); });
}

}  // namespace

const std::vector<EnrichmentKind>& enrichment_kinds() {
  static const std::vector<EnrichmentKind> kinds = {
      {"ip_lookups", kSnowplow, 2, plain<make_ip_lookups>},
      {"anon_ip", kSnowplow, 1, plain<make_anon_ip>},
      {"ua_parser_config", kSnowplow, 1, ua_parser},
      {"user_agent_utils_config", kSnowplow, 1, user_agent_utils},
      {"referer_parser", kSnowplow, 2, plain<make_referer_parser>},
      {"campaign_attribution", kSnowplow, 1, plain<make_campaign_attribution>},
      {"event_fingerprint_config", kSnowplow, 1, plain<make_event_fingerprint>},
      {"cookie_extractor_config", kSnowplow, 1, plain<make_cookie_extractor>},
      {"http_header_extractor_config", kSnowplowEnrichments, 1, plain<make_http_header_extractor>},
      {"cross_navigation_config", kSnowplowEnrichments, 1, plain<make_cross_navigation>},
      {"pii_enrichment_config", kSnowplowEnrichments, 2, plain<make_pii_enrichment>},
      {"iab_spiders_and_robots_enrichment", kSnowplowEnrichments, 1, iab},
      // Snowplow enrichments furrow does not implement: accepted when disabled.
      {"currency_conversion_config", kSnowplow, 1, nullptr},
      {"javascript_script_config", kSnowplow, 1, nullptr},
      {"weather_enrichment_config", kSnowplowEnrichments, 1, nullptr},
      {"yauaa_enrichment_config", kSnowplowEnrichments, 1, nullptr},
      {"sql_query_enrichment_config", kSnowplowEnrichments, 1, nullptr},
      {"api_request_enrichment_config", kSnowplowEnrichments, 1, nullptr},
      {"asn_lookups", kSnowplowEnrichments, 1, nullptr},
      {"bot_detection_enrichment_config", kSnowplowEnrichments, 1, nullptr},
  };
  return kinds;
}

Result<std::shared_ptr<const UserAgentParser>> LoadShared::ua_parser(
    const std::filesystem::path& rules, const LoadOptions& options) {
  for (const auto& [p, parser] : ua_parsers) {
    if (p == rules) return parser;
  }
  auto loaded = UserAgentRules::from_file(rules);
  if (!loaded.ok()) return loaded.error();
  auto parser = std::make_shared<const UserAgentParser>(*loaded, options.ua_cache_size);
  ua_parsers.emplace_back(rules, parser);
  return std::shared_ptr<const UserAgentParser>(parser);
}

namespace {

Result<std::shared_ptr<const Enrichment>> load_parsed(const EnrichmentConfig& c,
                                                      const LoadOptions& options,
                                                      LoadShared& shared) {
  const auto& kinds = enrichment_kinds();
  auto kind = std::find_if(kinds.begin(), kinds.end(),
                           [&](const EnrichmentKind& k) { return k.name == c.name; });
  if (kind == kinds.end()) {
    return c.error("data.name", "unknown enrichment '" + c.name + "'");
  }
  std::string expected_prefix = "iglu:" + std::string(kind->vendor) + "/" + c.name + "/jsonschema/";
  if (c.schema.rfind(expected_prefix, 0) != 0 || c.model != kind->model) {
    return c.error("schema", "'" + c.schema + "' does not match the criterion iglu:" +
                                 std::string(kind->vendor) + "/" + c.name + "/jsonschema/" +
                                 std::to_string(kind->model) + "-*-*");
  }
  if (c.vendor != kind->vendor) {
    return c.error("data.vendor",
                   "expected '" + std::string(kind->vendor) + "', got '" + c.vendor + "'");
  }
  if (auto s = check_keys(c, c.data,
                          {"vendor", "name", "enabled", "parameters", "emitEvent", "anonymousOnly"},
                          "data");
      !s.ok()) {
    return s.error();
  }
  if (!c.enabled) return std::shared_ptr<const Enrichment>();
  if (kind->factory == nullptr) {
    return c.error("data.enabled",
                   "the " + c.name + " enrichment is not supported by furrow; disable it");
  }
  return kind->factory(c, options, shared);
}

}  // namespace

Result<std::shared_ptr<const Enrichment>> load_enrichment(std::string_view json,
                                                          const std::string& file,
                                                          const LoadOptions& options,
                                                          LoadShared& shared) {
  auto c = parse_enrichment_config(json, file);
  if (!c.ok()) return c.error();
  return load_parsed(*c, options, shared);
}

Result<std::vector<std::shared_ptr<const Enrichment>>> load_enrichments(
    const std::filesystem::path& dir, const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Error{dir.string() + ": enrichment config directory does not exist"};
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json" && entry.path().filename().string()[0] != '.') {
      files.push_back(entry.path());
    }
  }
  if (ec) return Error{dir.string() + ": cannot list: " + ec.message()};
  std::sort(files.begin(), files.end());
  LoadShared shared;
  std::vector<std::shared_ptr<const Enrichment>> out;
  std::set<std::string, std::less<>> names;
  auto add = [&](std::shared_ptr<const Enrichment> e, const std::string& file) -> Status {
    if (!e) return Status::Ok();
    if (!names.insert(std::string(e->name())).second) {
      return Error{file + ": enrichment '" + std::string(e->name()) +
                   "' is enabled more than once"};
    }
    out.push_back(std::move(e));
    return Status::Ok();
  };
  for (const auto& path : files) {
    auto text = read_whole_file(path);
    if (!text.ok()) return text.error();
    // Snowplow's wrapper format: {"schema": ".../enrichments/jsonschema/1-0-0", "data": [..]}.
    rapidjson::Document doc;
    doc.Parse(text->data(), text->size());
    if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("schema") &&
        doc["schema"].IsString() &&
        std::string_view(doc["schema"].GetString())
                .rfind("iglu:com.snowplowanalytics.snowplow/enrichments/jsonschema/1-", 0) == 0) {
      if (!doc.HasMember("data") || !doc["data"].IsArray()) {
        return Error{path.string() + ": key 'data': expected an array of enrichment configs"};
      }
      int i = 0;
      for (const auto& item : doc["data"].GetArray()) {
        rapidjson::StringBuffer sb;
        JsonWriter w(sb);
        item.Accept(w);
        std::string label = path.string() + " [data." + std::to_string(i++) + "]";
        auto e =
            load_enrichment(std::string_view(sb.GetString(), sb.GetSize()), label, options, shared);
        if (!e.ok()) return e.error();
        if (auto s = add(*e, label); !s.ok()) return s.error();
      }
      continue;
    }
    auto e = load_enrichment(*text, path.string(), options, shared);
    if (!e.ok()) return e.error();
    if (auto s = add(*e, path.string()); !s.ok()) return s.error();
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return static_cast<int>(a->step()) < static_cast<int>(b->step());
  });
  return out;
}

}  // namespace furrow::enrich::enrichments
