// iab_spiders_and_robots_enrichment: classifies the event's user agent and IP as browser or
// spider/robot and adds com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0 (spec 4.6, 4.7).
//
// Snowplow uses the licensed IAB/ABC lists. furrow implements the same semantics and output from
// its own sources: the configured files (one entry per line, first '|'-separated field, '#'
// comments; ipFile entries are IPs or CIDR ranges, user-agent files hold case-insensitive
// substrings), the inline includeUseragents / excludeUseragents lists, and the uap-core parse
// (device family "Spider" = a known bot family). Checks, first failure wins: IP exclude → UA
// include (when any include patterns exist, the UA must match one) → UA exclude.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"
#include "enrich/enrichments/ua_parser_config/ua_rules.h"
#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {

inline constexpr const char* kSpidersAndRobotsSchema =
    "iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0";

struct IpRange {
  IpAddress network;
  int prefix = 0;
  bool contains(const IpAddress& ip) const;
};

struct IabLists {
  std::vector<IpRange> ip_exclude;
  std::vector<std::string> ua_include;  // lower case
  std::vector<std::string> ua_exclude;  // lower case
};

struct IabResult {
  bool spider = false;
  const char* category = "BROWSER";
  const char* reason = "PASSED_ALL";
  const char* primary_impact = "NONE";
};

class IabSpidersAndRobotsEnrichment final : public Enrichment {
 public:
  IabSpidersAndRobotsEnrichment(IabLists lists, std::shared_ptr<const UserAgentParser> parser)
      : lists_(std::move(lists)), parser_(std::move(parser)) {}
  std::string_view name() const override { return "iab_spiders_and_robots_enrichment"; }
  Step step() const override { return Step::kIabSpidersAndRobots; }
  // Runs only when derived_tstamp is set and there is a non-blank user agent or a valid IP.
  void apply(EventContext& ctx) const override;
  IabResult classify(std::string_view useragent, std::string_view ip) const;

 private:
  // classify() with the user agent's parse from parse() (called only when the lists pass it).
  template <class Parse>
  IabResult classify_with(std::string_view useragent, std::string_view ip, Parse&& parse) const;

  IabLists lists_;
  std::shared_ptr<const UserAgentParser> parser_;
};

// Parses "1.2.3.4", "1.2.3.0/24", "2001:db8::/32".
std::optional<IpRange> parse_ip_range(std::string_view text);

Result<std::shared_ptr<const Enrichment>> make_iab_spiders_and_robots(
    const EnrichmentConfig& c, const LoadOptions& options,
    const std::function<
        Result<std::shared_ptr<const UserAgentParser>>(const std::filesystem::path&)>& parser_for);

}  // namespace furrow::enrich::enrichments
