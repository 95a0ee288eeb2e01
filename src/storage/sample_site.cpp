#include "storage/sample_site.h"

#include <cstdio>

#include "common/time_format.h"

namespace furrow::storage {
namespace {

using event::Field;

// splitmix64: tiny, portable, fully specified.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
};

std::string uuid(uint32_t kind, uint64_t n) {
  char b[40];
  std::snprintf(b, sizeof b, "%08x-%04x-4%03x-8%03x-%012llx", kind,
                static_cast<unsigned>(n >> 48 & 0xFFFF), static_cast<unsigned>(n >> 36 & 0xFFF),
                static_cast<unsigned>(n >> 24 & 0xFFF),
                static_cast<unsigned long long>(n & 0xFFFFFFFFFFFFull));
  return b;
}

constexpr const char* kPaths[] = {"/", "/pricing", "/blog/launch", "/docs/start", "/about"};
constexpr const char* kTitles[] = {"Home", "Pricing", "We launched", "Getting started", "About us"};
constexpr const char* kDevices[] = {"Other", "iPhone", "Samsung SM-G991B"};
constexpr const char* kBrowsers[] = {"Firefox", "Chrome", "Mobile Safari"};

}  // namespace

SampleSite make_sample_site(const SampleSiteOptions& options) {
  SampleSite site;
  Rng rng{options.seed};
  uint64_t next_event = 1, next_pv = 1, next_session = 1;
  // 2024-03-01 00:00:03 UTC: every timestamp below is ≡ 3 (mod 10) seconds, so pings 10 s apart
  // fall in distinct heartbeat windows and a ping 2 s later in the same one.
  const int64_t base_ms = 1709251203000;
  std::vector<event::EnrichedEvent> unique;

  for (int u = 0; u < options.users; ++u) {
    const std::string duid = uuid(0xd0, static_cast<uint64_t>(u) + 1);
    const std::string user_id =
        rng.below(3) == 0 ? "user" + std::to_string(u) + "@example.com" : "";
    const int device = rng.below(3);
    const int n_sessions = 1 + rng.below(3);
    ++site.users;
    site.sessions_by_user[duid] = n_sessions;
    for (int s = 0; s < n_sessions; ++s) {
      const std::string sid = uuid(0x5e, next_session++);
      ++site.sessions;
      int64_t t = base_ms + (static_cast<int64_t>(u) * 7 + s * 3) * 3600'000;
      const int source = rng.below(4);  // 0 direct, 1 campaign, 2 search, 3 direct
      if (s == 0) {
        site.first_touch[duid] = source == 1 ? "newsletter" : source == 2 ? "Google" : "";
      }
      const int n_pv = 1 + rng.below(4);
      site.page_views += n_pv;
      bool any_ping = false;
      auto make = [&](std::string_view type, int64_t at) {
        event::EnrichedEvent e;
        e[Field::app_id] = "site";
        e[Field::platform] = "web";
        e[Field::collector_tstamp] = format_tsv_tstamp(at + 250);
        e[Field::dvce_created_tstamp] = format_tsv_tstamp(at - 1000);
        e[Field::derived_tstamp] = format_tsv_tstamp(at);
        e[Field::etl_tstamp] = format_tsv_tstamp(at + 60'000);
        e[Field::event] = std::string(type);
        e[Field::event_id] = uuid(0xe0, next_event);
        e[Field::event_fingerprint] = "fp" + std::to_string(next_event);
        ++next_event;
        e[Field::v_collector] = "furrow-collector-0.1.0";
        e[Field::v_etl] = "furrow-enrich-0.1.0";
        e[Field::v_tracker] = "js-3.24.0";
        e[Field::name_tracker] = "sp";
        e[Field::domain_userid] = duid;
        e[Field::domain_sessionid] = sid;
        e[Field::domain_sessionidx] = std::to_string(s + 1);
        e[Field::user_id] = user_id;
        e[Field::geo_country] = device == 1 ? "FR" : "US";
        e[Field::geo_city] = device == 1 ? "Paris" : "Seattle";
        e[Field::br_viewheight] = "800";
        e[Field::doc_height] = "4000";
        e[Field::dvce_ismobile] = device == 0 ? "0" : "1";
        e[Field::derived_contexts] =
            R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0","data":{"useragentFamily":")" +
            std::string(kBrowsers[device]) +
            R"(","useragentMajor":"120","osFamily":"Linux","deviceFamily":")" + kDevices[device] +
            R"("}}]})";
        return e;
      };
      for (int p = 0; p < n_pv; ++p) {
        const std::string pvid = uuid(0x70, next_pv++);
        const int page = rng.below(5);
        if (p == 0) ++site.landing_pages[kPaths[page]];
        const std::string ctx =
            R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/other/jsonschema/1-0-0","data":{"id":"not-a-page-view"}},{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":")" +
            pvid + R"("}}]})";
        auto pv = make("page_view", t);
        pv[Field::contexts] = ctx;
        pv[Field::page_url] = std::string("https://shop.example.com") + kPaths[page];
        pv[Field::page_urlhost] = "shop.example.com";
        pv[Field::page_urlpath] = kPaths[page];
        pv[Field::page_title] = kTitles[page];
        if (p == 0 && source == 1) {
          pv[Field::mkt_source] = "newsletter";
          pv[Field::mkt_medium] = "email";
          pv[Field::mkt_campaign] = "spring";
        } else if (p == 0 && source == 2) {
          pv[Field::page_referrer] = "https://www.google.com/search?q=shop";
          pv[Field::refr_urlhost] = "www.google.com";
          pv[Field::refr_medium] = "search";
          pv[Field::refr_source] = "Google";
        }
        unique.push_back(pv);
        const int pings = rng.below(6);
        any_ping = any_ping || pings > 0;
        site.engaged_seconds += 10 * pings;
        for (int k = 0; k < pings; ++k) {
          const int64_t at = t + 10'000 * (k + 1);
          auto ping = make("page_ping", at);
          ping[Field::contexts] = ctx;
          ping[Field::pp_yoffset_max] = std::to_string(300 * (k + 1));
          ping[Field::pp_yoffset_min] = "0";
          unique.push_back(ping);
          if (rng.below(4) == 0) {  // a second ping in the same heartbeat window
            auto extra = make("page_ping", at + 2000);
            extra[Field::contexts] = ctx;
            extra[Field::pp_yoffset_max] = std::to_string(300 * (k + 1) + 50);
            unique.push_back(extra);
          }
        }
        if (rng.below(3) == 0) {  // a structured event on the page
          auto se = make("struct", t + 5000);
          se[Field::contexts] = ctx;
          se[Field::se_category] = "ui";
          se[Field::se_action] = "click";
          unique.push_back(se);
        }
        t += 10'000 * (pings + 1) + 60'000;
      }
      if (n_pv == 1 && !any_ping) ++site.bounces;
    }
  }
  site.unique_events = static_cast<int64_t>(unique.size());
  site.events = unique;
  for (const auto& e : unique) {
    if (rng.below(100) < options.duplicate_percent) site.events.push_back(e);
  }
  // Fisher-Yates with the same generator.
  for (std::size_t i = site.events.size(); i > 1; --i) {
    std::swap(site.events[i - 1], site.events[static_cast<std::size_t>(rng.next() % i)]);
  }
  return site;
}

}  // namespace furrow::storage
