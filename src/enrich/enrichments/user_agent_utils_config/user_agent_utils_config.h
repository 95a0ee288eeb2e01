// user_agent_utils_config: the legacy br_* / os_* / dvce_* fields. Snowplow computed them with
// the (unmaintained) UserAgentUtils Java library; furrow derives the same fields from the
// uap-core parse instead, mapped to UserAgentUtils' names and groups (e.g. br_name "Firefox 12",
// br_family "Firefox", br_type "Browser (mobile)", br_renderengine "GECKO", os_name "Windows 7",
// os_manufacturer "Microsoft Corporation", dvce_type "Mobile"). See docs/enrichments.md for the
// mapping and its known differences.
#pragma once

#include <functional>
#include <memory>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"
#include "enrich/enrichments/ua_parser_config/ua_rules.h"

namespace furrow::enrich::enrichments {

struct UserAgentUtilsFields {
  std::string br_name, br_family, br_version, br_type, br_renderengine;
  std::string os_name, os_family, os_manufacturer;
  std::string dvce_type, dvce_ismobile;
};

// The UserAgentUtils-style fields for one user agent and its uap-core parse.
void user_agent_utils_fields(std::string_view ua, const ParsedUserAgent& p,
                             UserAgentUtilsFields& out);

class UserAgentUtilsEnrichment final : public Enrichment {
 public:
  explicit UserAgentUtilsEnrichment(std::shared_ptr<const UserAgentParser> parser)
      : parser_(std::move(parser)) {}
  std::string_view name() const override { return "user_agent_utils_config"; }
  Step step() const override { return Step::kUserAgentUtils; }
  void apply(EventContext& ctx) const override;

 private:
  std::shared_ptr<const UserAgentParser> parser_;
};

Result<std::shared_ptr<const Enrichment>> make_user_agent_utils(
    const EnrichmentConfig& c, const LoadOptions& options,
    const std::function<
        Result<std::shared_ptr<const UserAgentParser>>(const std::filesystem::path&)>& parser_for);

}  // namespace furrow::enrich::enrichments
