// Fuzz target for the referer parser: the first byte chooses what the rest is.
//   even: a page_referrer URL, classified against a small built-in database (the enrichment
//         splits the URL itself);
//   odd:  a referer database (YAML or JSON), loaded (must fail cleanly or answer a lookup).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "enrich/enrichment.h"
#include "enrich/enrichments/referer_parser/referer_parser.h"

namespace {

using namespace furrow::enrich;
using namespace furrow::enrich::enrichments;

constexpr const char* kDatabase = R"({
  "search": {"Google": {"domains": ["google.com", "google.co.uk", "google.com/products"],
                        "parameters": ["q", "query"]}},
  "social": {"Twitter": {"domains": ["t.co", "twitter.com"]}},
  "email": {"Webmail": {"domains": ["mail.example.org/inbox"]}},
  "unknown": {"Google": {"domains": ["support.google.com"]}}
})";

const RefererParserEnrichment& enrichment() {
  static auto db = RefererDatabase::from_text(kDatabase, "fuzz-db");
  if (!db.ok()) __builtin_trap();
  static RefererParserEnrichment e(*db, {"intranet.example"});
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    furrow::event::EnrichedEvent ev;
    furrow::event::RawEvent raw;
    ev[furrow::event::Field::page_referrer] = rest;
    ev[furrow::event::Field::page_urlhost] = "www.example.com";
    EventContext ctx(ev, raw);
    enrichment().apply(ctx);
    if (!ctx.failures().empty()) __builtin_trap();  // classification never fails
    return 0;
  }
  auto db = RefererDatabase::from_text(rest, "fuzz-input");
  if (db.ok()) (void)(*db)->lookup("www.google.com", "/search");
  return 0;
}
