#include "enrich/enrichments/user_agent_utils_config/user_agent_utils_config.h"

#include <algorithm>

#include "enrich/enrichments/ua_parser_config/ua_parser_config.h"

namespace furrow::enrich::enrichments {

namespace {

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

bool starts(std::string_view s, std::string_view prefix) {
  return s.rfind(prefix, 0) == 0;
}

// UserAgentUtils browser group for a uap-core family.
std::string browser_group(std::string_view family) {
  if (starts(family, "Chrome") || family == "Chromium") return "Chrome";
  if (starts(family, "Firefox")) return "Firefox";
  if (family == "Mobile Safari" || family == "Safari" || family == "Mobile Safari UI/WKWebView") {
    return "Safari";
  }
  if (family == "IE" || family == "IE Mobile") return "Internet Explorer";
  if (starts(family, "Edge")) return "Microsoft Edge";
  if (starts(family, "Opera")) return "Opera";
  if (family == "Samsung Internet") return "Samsung Browser";
  return std::string(family);
}

std::string render_engine(std::string_view group, std::string_view family, int major,
                          std::string_view ua) {
  if (group == "Firefox" || contains(ua, "Gecko/")) {
    if (group != "Chrome" && group != "Safari" && !contains(ua, "like Gecko")) return "GECKO";
  }
  if (group == "Internet Explorer" || contains(ua, "Trident/")) return "TRIDENT";
  if (group == "Microsoft Edge" && family == "Edge" && major > 0 && major < 79) return "EDGE_HTML";
  if (group == "Opera" && major > 0 && major < 15) return "PRESTO";
  if (contains(ua, "AppleWebKit")) return "WEBKIT";
  if (group == "Firefox") return "GECKO";
  return "OTHER";
}

int to_int(const std::string& s) {
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
    if (v > 100000) return v;
  }
  return v;
}

}  // namespace

void user_agent_utils_fields(std::string_view ua, const ParsedUserAgent& p,
                             UserAgentUtilsFields& out) {
  out = UserAgentUtilsFields{};
  const std::string& family = p.ua.family;
  const bool robot = p.device.family == "Spider";
  const std::string& os = p.os.family;
  const std::string& dev = p.device.family;

  // Device type first: it decides br_type.
  bool tablet = dev == "iPad" || contains(dev, "Tablet") || contains(dev, "Kindle") ||
                (os == "Android" && !contains(ua, "Mobile") && dev != "Other");
  bool mobile = !tablet &&
                (os == "iOS" || os == "Android" || os == "Windows Phone" || os == "BlackBerry OS" ||
                 contains(ua, "Mobile") || dev == "iPhone" || dev == "iPod");
  bool wearable = os == "watchOS" || os == "WatchOS" || contains(dev, "Watch");
  if (robot) {
    out.dvce_type = "Unknown";
  } else if (wearable) {
    out.dvce_type = "Wearable computer";
  } else if (tablet) {
    out.dvce_type = "Tablet";
  } else if (mobile) {
    out.dvce_type = "Mobile";
  } else if (os == "Other" && family == "Other") {
    out.dvce_type = "Unknown";
  } else {
    out.dvce_type = "Computer";
  }
  out.dvce_ismobile = (out.dvce_type == "Mobile" || out.dvce_type == "Tablet" ||
                       out.dvce_type == "Wearable computer")
                          ? "1"
                          : "0";

  if (family == "Other") {
    out.br_name = "Unknown";
    out.br_family = "Unknown";
    out.br_type = "unknown";
    out.br_renderengine = "OTHER";
  } else {
    out.br_family = robot ? "Robot/Spider" : browser_group(family);
    // UserAgentUtils names most browsers "<group> <major>", but its mobile Safari has no version.
    if (family == "Mobile Safari" || robot) {
      out.br_name = robot ? "Robot/Spider" : "Mobile Safari";
    } else {
      out.br_name = out.br_family;
      if (!p.ua.major.empty()) out.br_name += " " + p.ua.major;
    }
    if (!p.ua.major.empty()) {
      out.br_version = p.ua.major + "." + (p.ua.minor.empty() ? "0" : p.ua.minor);
    }
    out.br_type = robot ? "Robot" : (out.dvce_ismobile == "1" ? "Browser (mobile)" : "Browser");
    out.br_renderengine =
        robot ? "OTHER" : render_engine(out.br_family, family, to_int(p.ua.major), ua);
  }

  if (os == "Other") {
    out.os_name = "Unknown";
    out.os_family = "Unknown";
    out.os_manufacturer = "Other";
    return;
  }
  if (os == "Windows") {
    out.os_family = "Windows";
    out.os_name = p.os.major.empty() ? "Windows" : "Windows " + p.os.major;
    out.os_manufacturer = "Microsoft Corporation";
  } else if (os == "Windows Phone") {
    out.os_family = "Windows";
    out.os_name = "Windows Phone" + (p.os.major.empty() ? "" : " " + p.os.major);
    out.os_manufacturer = "Microsoft Corporation";
  } else if (os == "iOS") {
    out.os_family = "iOS";
    out.os_name = "iOS";
    if (!p.os.major.empty()) out.os_name += " " + p.os.major;
    if (dev == "iPhone" || dev == "iPad" || dev == "iPod") out.os_name += " (" + dev + ")";
    out.os_manufacturer = "Apple Inc.";
  } else if (os == "Mac OS X" || os == "macOS") {
    out.os_family = "Mac OS X";
    out.os_name = "Mac OS X";
    out.os_manufacturer = "Apple Inc.";
  } else if (os == "Android") {
    out.os_family = "Android";
    out.os_name = p.os.major.empty() ? "Android" : "Android " + p.os.major + ".x";
    out.os_manufacturer = "Google Inc.";
  } else if (os == "Chrome OS") {
    out.os_family = "Chrome OS";
    out.os_name = "Chrome OS";
    out.os_manufacturer = "Google Inc.";
  } else if (os == "BlackBerry OS") {
    out.os_family = "BlackBerryOS";
    out.os_name = "BlackBerryOS";
    out.os_manufacturer = "BlackBerry";
  } else if (os == "Linux" || os == "Ubuntu" || os == "Fedora" || os == "Debian") {
    out.os_family = "Linux";
    out.os_name = "Linux";
    out.os_manufacturer = "Other";
  } else {
    out.os_family = os;
    out.os_name = p.os.major.empty() ? os : os + " " + p.os.major;
    out.os_manufacturer = "Other";
  }
}

void UserAgentUtilsEnrichment::apply(EventContext& ctx) const {
  auto& ev = ctx.event();
  const std::string_view ua = ev.text(event::Field::useragent);
  if (ua.empty()) return;
  thread_local UserAgentUtilsFields f;
  // The event's one parse, shared with iab_spiders_and_robots / ua_parser_config.
  user_agent_utils_fields(ua, parser_->parse_for_event(ctx, ua), f);
  using event::Field;
  ev[Field::br_name] = f.br_name;
  ev[Field::br_family] = f.br_family;
  ev[Field::br_version] = f.br_version;
  ev[Field::br_type] = f.br_type;
  ev[Field::br_renderengine] = f.br_renderengine;
  ev[Field::os_name] = f.os_name;
  ev[Field::os_family] = f.os_family;
  ev[Field::os_manufacturer] = f.os_manufacturer;
  ev[Field::dvce_type] = f.dvce_type;
  ev[Field::dvce_ismobile] = f.dvce_ismobile;
}

Result<std::shared_ptr<const Enrichment>> make_user_agent_utils(
    const EnrichmentConfig& c, const LoadOptions& options,
    const std::function<
        Result<std::shared_ptr<const UserAgentParser>>(const std::filesystem::path&)>& parser_for) {
  // Snowplow's config has no parameters; furrow accepts an optional rules file like
  // ua_parser_config's.
  if (auto s = check_keys(c, c.parameters, {"uri", "database"}, "data.parameters"); !s.ok()) {
    return s.error();
  }
  auto path = ua_rules_path(c, options);
  if (!path.ok()) return path.error();
  auto parser = parser_for(*path);
  if (!parser.ok()) return c.error("data.parameters.database", parser.error().message);
  return std::shared_ptr<const Enrichment>(std::make_shared<UserAgentUtilsEnrichment>(*parser));
}

}  // namespace furrow::enrich::enrichments
