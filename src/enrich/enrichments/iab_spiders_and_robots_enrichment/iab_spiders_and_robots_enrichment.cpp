#include "enrich/enrichments/iab_spiders_and_robots_enrichment/iab_spiders_and_robots_enrichment.h"

#include <charconv>
#include <sstream>

#include "common/strings.h"
#include "enrich/enrichments/ua_parser_config/ua_parser_config.h"

namespace furrow::enrich::enrichments {

bool IpRange::contains(const IpAddress& ip) const {
  if (ip.is_v6 != network.is_v6) return false;
  int full = prefix / 8;
  for (int i = 0; i < full; ++i) {
    if (ip.bytes[i] != network.bytes[i]) return false;
  }
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip.bytes[full] & mask) == (network.bytes[full] & mask);
}

std::optional<IpRange> parse_ip_range(std::string_view text) {
  text = trim(text);
  auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  IpRange r;
  r.network = *ip;
  int max = ip->is_v6 ? 128 : 32;
  r.prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), r.prefix);
    if (ec != std::errc() || end != p.data() + p.size() || r.prefix < 0 || r.prefix > max) {
      return std::nullopt;
    }
  }
  return r;
}

IabResult IabSpidersAndRobotsEnrichment::classify(std::string_view useragent,
                                                  std::string_view ip_text) const {
  return classify_with(useragent, ip_text, [&]() -> const ParsedUserAgent& {
    thread_local ParsedUserAgent parsed;
    parser_->parse(useragent, parsed);
    return parsed;
  });
}

template <class Parse>
IabResult IabSpidersAndRobotsEnrichment::classify_with(std::string_view useragent,
                                                       std::string_view ip_text,
                                                       Parse&& parse) const {
  IabResult r;
  auto fail = [&](const char* reason) {
    r.spider = true;
    r.category = "SPIDER_OR_ROBOT";
    r.reason = reason;
    r.primary_impact = "UNKNOWN";
    return r;
  };
  if (auto ip = parse_ip(ip_text)) {
    for (const auto& range : lists_.ip_exclude) {
      if (range.contains(*ip)) return fail("FAILED_IP_EXCLUDE");
    }
  }
  if (trim(useragent).empty()) return r;
  std::string lower = to_lower(useragent);
  if (!lists_.ua_include.empty()) {
    bool included = false;
    for (const auto& p : lists_.ua_include)
      included = included || lower.find(p) != std::string::npos;
    if (!included) return fail("FAILED_UA_INCLUDE");
  }
  for (const auto& p : lists_.ua_exclude) {
    if (lower.find(p) != std::string::npos) return fail("FAILED_UA_EXCLUDE");
  }
  if (parse().device.family == "Spider") return fail("FAILED_UA_EXCLUDE");
  return r;
}

void IabSpidersAndRobotsEnrichment::apply(EventContext& ctx) const {
  const auto& ev = ctx.event();
  if (!ev.has(event::Field::derived_tstamp)) return;
  const std::string_view ua = ev.text(event::Field::useragent);
  const std::string_view ip = ev.text(event::Field::user_ipaddress);
  if (trim(ua).empty() && !parse_ip(ip)) return;
  // The event's one parse, shared with user_agent_utils / ua_parser_config.
  IabResult r = classify_with(
      ua, ip, [&]() -> const ParsedUserAgent& { return parser_->parse_for_event(ctx, ua); });
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("schema");
  w.String(kSpidersAndRobotsSchema);
  w.Key("data");
  w.StartObject();
  w.Key("spiderOrRobot");
  w.Bool(r.spider);
  w.Key("category");
  w.String(r.category);
  w.Key("reason");
  w.String(r.reason);
  w.Key("primaryImpact");
  w.String(r.primary_impact);
  w.EndObject();
  w.EndObject();
  ctx.add_derived_context(std::string(sb.GetString(), sb.GetSize()));
}

namespace {

// Lines of a list file: first '|'-separated field, trimmed; blank lines and '#' comments skipped.
Result<std::vector<std::string>> read_list(const EnrichmentConfig& c, const rapidjson::Value* obj,
                                           const std::string& kp, const LoadOptions& options) {
  if (auto s = check_keys(c, obj, {"uri", "database"}, kp); !s.ok()) return s.error();
  auto path = resolve_lookup_object(c, obj, kp, options);
  if (!path.ok()) return path.error();
  auto text = read_whole_file(*path);
  if (!text.ok()) return c.error(kp + ".database", text.error().message);
  std::vector<std::string> out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::string_view l = trim(line);
    if (!l.empty() && l.back() == '\r') l = trim(l.substr(0, l.size() - 1));
    if (l.empty() || l.front() == '#') continue;
    out.emplace_back(trim(l.substr(0, l.find('|'))));
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const Enrichment>> make_iab_spiders_and_robots(
    const EnrichmentConfig& c, const LoadOptions& options,
    const std::function<
        Result<std::shared_ptr<const UserAgentParser>>(const std::filesystem::path&)>& parser_for) {
  if (c.parameters == nullptr) return c.error("data.parameters", "required object is missing");
  if (auto s = check_keys(c, c.parameters,
                          {"ipFile", "excludeUseragentFile", "includeUseragentFile",
                           "includeUseragents", "excludeUseragents"},
                          "data.parameters");
      !s.ok()) {
    return s.error();
  }
  IabLists lists;
  const char* files[] = {"ipFile", "excludeUseragentFile", "includeUseragentFile"};
  for (const char* key : files) {
    std::string kp = std::string("data.parameters.") + key;
    auto obj = optional_object(c, c.parameters, key, kp);
    if (!obj.ok()) return obj.error();
    if (*obj == nullptr) return c.error(kp, "required object is missing");
    auto lines = read_list(c, *obj, kp, options);
    if (!lines.ok()) return lines.error();
    int n = 0;
    for (auto& l : *lines) {
      ++n;
      if (key == files[0]) {
        auto range = parse_ip_range(l);
        if (!range) {
          return c.error(kp + ".database", "entry " + std::to_string(n) + " '" + l +
                                               "' is not an IP address or CIDR range");
        }
        lists.ip_exclude.push_back(*range);
      } else if (key == files[1]) {
        lists.ua_exclude.push_back(to_lower(l));
      } else {
        lists.ua_include.push_back(to_lower(l));
      }
    }
  }
  for (const char* key : {"includeUseragents", "excludeUseragents"}) {
    std::string kp = std::string("data.parameters.") + key;
    auto v = optional_string_array(c, c.parameters, key, kp);
    if (!v.ok()) return v.error();
    if (!v->has_value()) continue;
    auto& target =
        std::string_view(key) == "includeUseragents" ? lists.ua_include : lists.ua_exclude;
    for (const auto& s : **v) target.push_back(to_lower(s));
  }
  auto rules = ua_rules_path(c, options);
  if (!rules.ok()) return rules.error();
  auto parser = parser_for(*rules);
  if (!parser.ok()) return c.error("data.parameters", parser.error().message);
  return std::shared_ptr<const Enrichment>(
      std::make_shared<IabSpidersAndRobotsEnrichment>(std::move(lists), *parser));
}

}  // namespace furrow::enrich::enrichments
