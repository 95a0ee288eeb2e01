#include "enrich/enrichments/ua_parser_config/ua_parser_config.h"

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>

namespace furrow::enrich::enrichments {

namespace {

// The context is written into a per-thread buffer sized for the worst case (every value byte
// escaped as \u00XX), through a raw pointer, then copied out once: the keys are constant copies
// and the values plain copies unless they hold a byte JSON escapes. (The std::string appends this
// replaces re-checked the capacity on every piece: ~3.5k instructions per context, paid on every
// event with --ua-cache 0.)
class ContextWriter {
 public:
  explicit ContextWriter(char* p) : p_(p) {}
  char* end() const { return p_; }

  template <std::size_t N>
  void lit(const char (&s)[N]) {
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  // `s` as a JSON string, escaped exactly as rapidjson's Writer does with its default flags (the
  // rest of furrow's JSON): '"' and '\\' backslash-escaped, control characters as \b \t \n \f \r
  // or \u00XX (upper-case hex), every other byte copied (no UTF-8 validation).
  void string(std::string_view s) {
    *p_++ = '"';
    raw_escaped(s);
    *p_++ = '"';
  }
  // A member's value: the string, or null when `nullable` and empty (the event's null).
  void value(std::string_view v, bool nullable) {
    if (nullable && v.empty()) {
      lit("null");
    } else {
      string(v);
    }
  }
  // "family", then " major", ".minor", ... up to the first empty part, as one JSON string (the
  // parts are escaped one after the other: escaping works byte by byte).
  void version(const std::string& family, std::initializer_list<const std::string*> parts) {
    *p_++ = '"';
    raw_escaped(family);
    bool first = true;
    for (const std::string* part : parts) {
      if (part->empty()) break;
      *p_++ = first ? ' ' : '.';
      raw_escaped(*part);
      first = false;
    }
    *p_++ = '"';
  }
  // The most bytes string(s) or a part of version() can take: every byte escaped as \u00XX.
  static std::size_t bound(std::size_t n) { return 6 * n + 2; }

 private:
  void copy(const char* s, std::size_t n) {
    std::memcpy(p_, s, n);
    p_ += n;
  }
  void raw_escaped(std::string_view s) {
    std::size_t plain = 0;  // start of the run of bytes not yet copied
    for (std::size_t i = 0; i < s.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      copy(s.data() + plain, i - plain);
      plain = i + 1;
      escape(c);
    }
    copy(s.data() + plain, s.size() - plain);
  }
  void escape(unsigned char c) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    *p_++ = '\\';
    switch (c) {
      case '"':
      case '\\':
        *p_++ = static_cast<char>(c);
        break;
      case '\b':
        *p_++ = 'b';
        break;
      case '\t':
        *p_++ = 't';
        break;
      case '\n':
        *p_++ = 'n';
        break;
      case '\f':
        *p_++ = 'f';
        break;
      case '\r':
        *p_++ = 'r';
        break;
      default:
        lit("u00");
        *p_++ = kHex[c >> 4];
        *p_++ = kHex[c & 0xF];
    }
  }
  char* p_;
};

constexpr char kContextHead[] =
    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0\","
    "\"data\":{";

}  // namespace

std::string ua_parser_context_json(const ParsedUserAgent& p) {
  static_assert(std::string_view(kContextHead).find(kUaParserContextSchema) ==
                std::string_view("{\"schema\":\"").size());
  // Written directly (the member names and order are fixed), with the same bytes as the
  // rapidjson Writer it replaced (UaParser.ContextJsonSameAsRapidjson).
  const std::string* values[] = {&p.ua.family,      &p.ua.major,     &p.ua.minor, &p.ua.patch,
                                 &p.os.family,      &p.os.major,     &p.os.minor, &p.os.patch,
                                 &p.os.patch_minor, &p.device.family};
  std::size_t bound = sizeof kContextHead + 512;  // head, keys (~190 bytes), nulls, braces
  for (const std::string* v : values) bound += ContextWriter::bound(v->size());
  // The two version strings repeat their family and parts (each part + its separator).
  bound += ContextWriter::bound(p.ua.family.size() + p.ua.major.size() + p.ua.minor.size() +
                                p.ua.patch.size() + 3);
  bound += ContextWriter::bound(p.os.family.size() + p.os.major.size() + p.os.minor.size() +
                                p.os.patch.size() + p.os.patch_minor.size() + 4);
  thread_local std::string buffer;
  if (buffer.size() < bound) buffer.resize(bound);
  ContextWriter w(buffer.data());
  w.lit(kContextHead);
  w.lit("\"useragentFamily\":");
  w.value(p.ua.family, false);
  w.lit(",\"useragentMajor\":");
  w.value(p.ua.major, true);
  w.lit(",\"useragentMinor\":");
  w.value(p.ua.minor, true);
  w.lit(",\"useragentPatch\":");
  w.value(p.ua.patch, true);
  w.lit(",\"useragentVersion\":");
  w.version(p.ua.family, {&p.ua.major, &p.ua.minor, &p.ua.patch});
  w.lit(",\"osFamily\":");
  w.value(p.os.family, false);
  w.lit(",\"osMajor\":");
  w.value(p.os.major, true);
  w.lit(",\"osMinor\":");
  w.value(p.os.minor, true);
  w.lit(",\"osPatch\":");
  w.value(p.os.patch, true);
  w.lit(",\"osPatchMinor\":");
  w.value(p.os.patch_minor, true);
  w.lit(",\"osVersion\":");
  w.version(p.os.family, {&p.os.major, &p.os.minor, &p.os.patch, &p.os.patch_minor});
  w.lit(",\"deviceFamily\":");
  w.value(p.device.family, false);
  w.lit("}}");
  return std::string(buffer.data(), static_cast<std::size_t>(w.end() - buffer.data()));
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
  // text(), not operator[]: the pipeline keeps the user agent as a view of the request, which
  // operator[] would copy into the event's string.
  const std::string_view ua = ctx.event().text(event::Field::useragent);
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
