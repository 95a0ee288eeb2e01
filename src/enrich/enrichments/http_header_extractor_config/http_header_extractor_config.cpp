#include "enrich/enrichments/http_header_extractor_config/http_header_extractor_config.h"

#include <atomic>
#include <functional>
#include <string>

#include "common/strings.h"
#include "enrich/enrichments/ua_parser_config/ua_rules.h"

namespace furrow::enrich::enrichments {

namespace {

std::atomic<uint64_t> g_next_id{1};

// One remembered match result: the header names of a request repeat from event to event.
struct NameMatch {
  uint64_t owner = 0;  // the enrichment's id; 0 = empty
  std::string name;
  bool match = false;
};
constexpr std::size_t kMemoSlots = 64;

}  // namespace

HttpHeaderExtractorEnrichment::HttpHeaderExtractorEnrichment(std::unique_ptr<RE2> pattern)
    : pattern_(std::move(pattern)), id_(g_next_id.fetch_add(1, std::memory_order_relaxed)) {}

bool HttpHeaderExtractorEnrichment::matches(std::string_view name) const {
  thread_local NameMatch memo[kMemoSlots];
  NameMatch& slot = memo[std::hash<std::string_view>{}(name) % kMemoSlots];
  if (slot.owner == id_ && slot.name == name) return slot.match;
  const bool match = RE2::FullMatch(re2::StringPiece(name.data(), name.size()), *pattern_);
  slot.owner = id_;
  slot.name.assign(name);
  slot.match = match;
  return match;
}

void HttpHeaderExtractorEnrichment::apply(EventContext& ctx) const {
  // Reused per thread: the buffer and the writer's nesting stack keep their memory.
  thread_local rapidjson::StringBuffer sb;
  thread_local JsonWriter w;
  for (const std::string& line : ctx.headers()) {
    std::string_view h(line);
    auto colon = h.find(':');
    // The bare content type the collector appends to POST headers has no name: skipped.
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(h.substr(0, colon));
    std::string_view value = trim(h.substr(colon + 1));
    if (name.empty() || !matches(name)) continue;
    sb.Clear();
    w.Reset(sb);
    w.StartObject();
    w.Key("schema");
    w.String(kHttpHeaderSchema);
    w.Key("data");
    w.StartObject();
    w.Key("name");
    write_string(w, name);
    w.Key("value");
    write_string(w, value);
    w.EndObject();
    w.EndObject();
    ctx.add_derived_context(std::string(sb.GetString(), sb.GetSize()));
  }
}

Result<std::shared_ptr<const Enrichment>> make_http_header_extractor(const EnrichmentConfig& c,
                                                                     const LoadOptions&) {
  if (auto s = check_keys(c, c.parameters, {"headersPattern"}, "data.parameters"); !s.ok()) {
    return s.error();
  }
  auto pattern =
      required_string(c, c.parameters, "headersPattern", "data.parameters.headersPattern");
  if (!pattern.ok()) return pattern.error();
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_unique<RE2>(translate_pcre(*pattern), opts);
  if (!re->ok()) {
    return c.error("data.parameters.headersPattern", "invalid regex: " + re->error());
  }
  return std::shared_ptr<const Enrichment>(
      std::make_shared<HttpHeaderExtractorEnrichment>(std::move(re)));
}

}  // namespace furrow::enrich::enrichments
