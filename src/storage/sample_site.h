// A synthetic web site's enriched events with known data-model answers, for tests and benchmarks
// of the loaders and data models. Everything is decided by integer arithmetic on a seed, and the
// expected figures are counted while generating, independently of any SQL.
//
// Shape: users have 1-3 sessions; a session has 1-4 page views (each with a web_page context) and
// sometimes a structured event; a page view has 0-5 page pings exactly one heartbeat (10 s) apart,
// sometimes with an extra ping in the same window (which must not add engaged time). A session
// bounces when it has one page view and no pings. Some sessions arrive from a campaign or a search
// engine; some users are logged in. Events come out shuffled, with some exact duplicates (same
// event_id and fingerprint) that loaders must drop.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "event/enriched_event.h"

namespace furrow::storage {

struct SampleSiteOptions {
  uint64_t seed = 42;
  int users = 40;
  // Share of events repeated as exact duplicates, in percent.
  int duplicate_percent = 5;
};

struct SampleSite {
  std::vector<event::EnrichedEvent> events;  // shuffled, duplicates included
  // Known answers (duplicates excluded).
  int64_t unique_events = 0;
  int64_t users = 0;
  int64_t sessions = 0;
  int64_t page_views = 0;
  int64_t bounces = 0;
  int64_t engaged_seconds = 0;                      // sum over page views, heartbeat 10 s
  std::map<std::string, int64_t> landing_pages;     // landing page path → sessions
  std::map<std::string, int64_t> sessions_by_user;  // domain_userid → sessions
  std::map<std::string, std::string> first_touch;   // domain_userid → first session's mkt_source
                                                    // (or refr_source, or "" when direct)
};

SampleSite make_sample_site(const SampleSiteOptions& options);

}  // namespace furrow::storage
