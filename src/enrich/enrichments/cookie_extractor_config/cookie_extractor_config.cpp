#include "enrich/enrichments/cookie_extractor_config/cookie_extractor_config.h"

#include <algorithm>

#include "common/strings.h"

namespace furrow::enrich::enrichments {

namespace {

std::string context_json(const char* schema, std::string_view name, std::string_view value) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("schema");
  w.String(schema);
  w.Key("data");
  w.StartObject();
  w.Key("name");
  write_string(w, name);
  w.Key("value");
  write_string(w, value);
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

void CookieExtractorEnrichment::apply(EventContext& ctx) const {
  for (const std::string& line : ctx.headers()) {
    std::string_view h(line);
    auto colon = h.find(':');
    if (colon == std::string_view::npos || !equals_icase(trim(h.substr(0, colon)), "cookie")) {
      continue;
    }
    std::string_view rest = h.substr(colon + 1);
    while (!rest.empty()) {
      auto semi = rest.find(';');
      std::string_view pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view name = trim(pair.substr(0, eq));
      std::string_view value = trim(pair.substr(eq + 1));
      if (std::find(cookies_.begin(), cookies_.end(), name) != cookies_.end()) {
        ctx.add_derived_context(context_json(kHttpCookieSchema, name, value));
      }
    }
  }
}

Result<std::shared_ptr<const Enrichment>> make_cookie_extractor(const EnrichmentConfig& c,
                                                                const LoadOptions&) {
  if (auto s = check_keys(c, c.parameters, {"cookies"}, "data.parameters"); !s.ok()) {
    return s.error();
  }
  auto cookies = optional_string_array(c, c.parameters, "cookies", "data.parameters.cookies");
  if (!cookies.ok()) return cookies.error();
  if (!cookies->has_value()) {
    return c.error("data.parameters.cookies", "required array is missing");
  }
  return std::shared_ptr<const Enrichment>(
      std::make_shared<CookieExtractorEnrichment>(std::move(**cookies)));
}

}  // namespace furrow::enrich::enrichments
