#include "enrich/enrichments/ua_parser_config/ua_parser_config.h"

#include <atomic>
#include <functional>
#include <memory>

namespace furrow::enrich::enrichments {

namespace {

// Appends `s` as a JSON string, escaped exactly as rapidjson's Writer does with its default
// flags (the rest of furrow's JSON): '"' and '\\' backslash-escaped, control characters as \b
// \t \n \f \r or \u00XX (upper-case hex), every other byte copied (no UTF-8 validation).
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '"';
  std::size_t plain = 0;  // start of the run of bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    out += '\\';
    switch (c) {
      case '"':
      case '\\':
        out += static_cast<char>(c);
        break;
      case '\b':
        out += 'b';
        break;
      case '\t':
        out += 't';
        break;
      case '\n':
        out += 'n';
        break;
      case '\f':
        out += 'f';
        break;
      case '\r':
        out += 'r';
        break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

// `"key":` then the value: a string, or null when `nullable` and empty (the event's null).
void append_member(std::string& out, std::string_view key, std::string_view value, bool nullable) {
  out += '"';
  out += key;
  out += "\":";
  if (nullable && value.empty()) {
    out += "null";
  } else {
    append_json_string(out, value);
  }
  out += ',';
}

// "family", then " major", ".minor", ... up to the first empty part.
void append_version(std::string& out, std::string_view key, const std::string& family,
                    std::initializer_list<const std::string*> parts) {
  thread_local std::string version;
  version = family;
  bool first = true;
  for (const std::string* p : parts) {
    if (p->empty()) break;
    version += first ? ' ' : '.';
    version += *p;
    first = false;
  }
  append_member(out, key, version, false);
}

}  // namespace

std::string ua_parser_context_json(const ParsedUserAgent& p) {
  // Written directly (the member names and order are fixed): a third of the instructions of the
  // rapidjson Writer it replaces, with the same bytes (UaParser.ContextJsonSameAsRapidjson).
  std::string out;
  out.reserve(512);
  out += "{\"schema\":\"";
  out += kUaParserContextSchema;
  out += "\",\"data\":{";
  append_member(out, "useragentFamily", p.ua.family, false);
  append_member(out, "useragentMajor", p.ua.major, true);
  append_member(out, "useragentMinor", p.ua.minor, true);
  append_member(out, "useragentPatch", p.ua.patch, true);
  append_version(out, "useragentVersion", p.ua.family, {&p.ua.major, &p.ua.minor, &p.ua.patch});
  append_member(out, "osFamily", p.os.family, false);
  append_member(out, "osMajor", p.os.major, true);
  append_member(out, "osMinor", p.os.minor, true);
  append_member(out, "osPatch", p.os.patch, true);
  append_member(out, "osPatchMinor", p.os.patch_minor, true);
  append_version(out, "osVersion", p.os.family,
                 {&p.os.major, &p.os.minor, &p.os.patch, &p.os.patch_minor});
  append_member(out, "deviceFamily", p.device.family, false);
  out.back() = '}';  // the last member's ','
  out += '}';
  return out;
}

namespace {

std::atomic<uint64_t> g_next_ua_enrichment_id{1};

// Per-thread memo of finished contexts: kSlots direct-mapped entries, plus the slot the thread's
// previous lookup ended on (the events of one tracker request share its User-Agent header, so
// most events find their user agent there without hashing it).
struct ContextMemo {
  static constexpr std::size_t kSlots = 256;
  struct Slot {
    uint64_t owner = 0;  // 0 = empty (ids start at 1)
    std::string ua, json;
  };
  Slot slots[kSlots];
  Slot* last = &slots[0];
};

}  // namespace

UaParserEnrichment::UaParserEnrichment(std::shared_ptr<const UserAgentParser> parser)
    : parser_(std::move(parser)),
      id_(g_next_ua_enrichment_id.fetch_add(1, std::memory_order_relaxed)) {}

void UaParserEnrichment::apply(EventContext& ctx) const {
  const std::string& ua = ctx.event()[event::Field::useragent];
  if (ua.empty()) return;
  if (!parser_->cached()) {
    // The event's one parse (iab_spiders_and_robots / user_agent_utils may have made it).
    ctx.add_derived_context(ua_parser_context_json(parser_->parse_for_event(ctx, ua)));
    return;
  }
  thread_local std::unique_ptr<ContextMemo> memo;  // on the heap: too big for static TLS
  if (!memo) memo = std::make_unique<ContextMemo>();
  // The last slot is used only when it holds this enrichment's entry for exactly this user agent,
  // the same condition as for the hashed slot: both give what parsing would.
  ContextMemo::Slot* slot = memo->last;
  if (slot->owner != id_ || slot->ua != ua) {
    slot = &memo->slots[(std::hash<std::string_view>{}(ua) ^ id_) % ContextMemo::kSlots];
    if (slot->owner != id_ || slot->ua != ua) {
      slot->json = ua_parser_context_json(parser_->parse_for_event(ctx, ua));
      slot->ua.assign(ua);
      slot->owner = id_;
    }
    memo->last = slot;
  }
  ctx.add_derived_context(std::string_view(slot->json));  // one copy, into the pending list
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
