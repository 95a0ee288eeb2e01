#include "enrich/enrichments/ua_parser_config/ua_parser_config.h"

#include <atomic>
#include <functional>
#include <memory>

namespace furrow::enrich::enrichments {

namespace {

void append_version(std::string& out, const std::string& family,
                    std::initializer_list<const std::string*> parts) {
  out = family;
  bool first = true;
  for (const std::string* p : parts) {
    if (p->empty()) break;
    out += first ? ' ' : '.';
    out += *p;
    first = false;
  }
}

}  // namespace

std::string ua_parser_context_json(const ParsedUserAgent& p) {
  // Per-thread buffer, writer (its level stack) and version string keep their memory between
  // calls: only the returned string is allocated.
  thread_local rapidjson::StringBuffer sb;
  thread_local JsonWriter w(sb);
  thread_local std::string version;
  sb.Clear();
  w.Reset(sb);
  w.StartObject();
  w.Key("schema");
  w.String(kUaParserContextSchema);
  w.Key("data");
  w.StartObject();
  w.Key("useragentFamily");
  write_string(w, p.ua.family);
  w.Key("useragentMajor");
  write_nullable(w, p.ua.major);
  w.Key("useragentMinor");
  write_nullable(w, p.ua.minor);
  w.Key("useragentPatch");
  write_nullable(w, p.ua.patch);
  w.Key("useragentVersion");
  append_version(version, p.ua.family, {&p.ua.major, &p.ua.minor, &p.ua.patch});
  write_string(w, version);
  w.Key("osFamily");
  write_string(w, p.os.family);
  w.Key("osMajor");
  write_nullable(w, p.os.major);
  w.Key("osMinor");
  write_nullable(w, p.os.minor);
  w.Key("osPatch");
  write_nullable(w, p.os.patch);
  w.Key("osPatchMinor");
  write_nullable(w, p.os.patch_minor);
  w.Key("osVersion");
  append_version(version, p.os.family, {&p.os.major, &p.os.minor, &p.os.patch, &p.os.patch_minor});
  write_string(w, version);
  w.Key("deviceFamily");
  write_string(w, p.device.family);
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

namespace {

std::atomic<uint64_t> g_next_ua_enrichment_id{1};

// Per-thread memo of finished contexts: kSlots direct-mapped entries.
struct ContextMemo {
  static constexpr std::size_t kSlots = 256;
  struct Slot {
    uint64_t owner = 0;  // 0 = empty (ids start at 1)
    std::string ua, json;
  };
  Slot slots[kSlots];
};

}  // namespace

UaParserEnrichment::UaParserEnrichment(std::shared_ptr<const UserAgentParser> parser)
    : parser_(std::move(parser)),
      id_(g_next_ua_enrichment_id.fetch_add(1, std::memory_order_relaxed)) {}

void UaParserEnrichment::apply(EventContext& ctx) const {
  const std::string& ua = ctx.event()[event::Field::useragent];
  if (ua.empty()) return;
  thread_local ParsedUserAgent parsed;
  if (!parser_->cached()) {
    parser_->parse(ua, parsed);
    ctx.add_derived_context(ua_parser_context_json(parsed));
    return;
  }
  thread_local std::unique_ptr<ContextMemo> memo;  // on the heap: too big for static TLS
  if (!memo) memo = std::make_unique<ContextMemo>();
  ContextMemo::Slot& slot =
      memo->slots[(std::hash<std::string_view>{}(ua) ^ id_) % ContextMemo::kSlots];
  if (slot.owner != id_ || slot.ua != ua) {
    parser_->parse(ua, parsed);
    slot.json = ua_parser_context_json(parsed);
    slot.ua.assign(ua);
    slot.owner = id_;
  }
  ctx.add_derived_context(slot.json);
}

Result<std::filesystem::path> ua_rules_path(const EnrichmentConfig& c, const LoadOptions& options) {
  auto uri = optional_string(c, c.parameters, "uri", "data.parameters.uri");
  if (!uri.ok()) return uri.error();
  auto db = optional_string(c, c.parameters, "database", "data.parameters.database");
  if (!db.ok()) return db.error();
  if (uri->has_value() != db->has_value()) {
    return c.error("data.parameters", "'uri' and 'database' must be given together");
  }
  if (uri->has_value()) {
    return resolve_lookup(c, **uri, **db, "data.parameters", options);
  }
  std::filesystem::path p = options.default_ua_regexes.empty()
                                ? std::filesystem::path("node_modules/uap-core/regexes.yaml")
                                : options.default_ua_regexes;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) {
    return c.error("data.parameters.database",
                   "no rules file configured and the default " + p.string() +
                       " does not exist (install the npm package uap-core)");
  }
  return p;
}

Result<std::shared_ptr<const Enrichment>> make_ua_parser(
    const EnrichmentConfig& c, const LoadOptions& options,
    const std::function<
        Result<std::shared_ptr<const UserAgentParser>>(const std::filesystem::path&)>& parser_for) {
  if (auto s = check_keys(c, c.parameters, {"uri", "database"}, "data.parameters"); !s.ok()) {
    return s.error();
  }
  auto path = ua_rules_path(c, options);
  if (!path.ok()) return path.error();
  auto parser = parser_for(*path);
  if (!parser.ok()) return c.error("data.parameters.database", parser.error().message);
  return std::shared_ptr<const Enrichment>(std::make_shared<UaParserEnrichment>(*parser));
}

}  // namespace furrow::enrich::enrichments
