// Test-only helpers for the loader tests: minimal valid enriched events.
#pragma once

#include <cstdio>
#include <string>

#include "event/enriched_event.h"
#include "event/tsv.h"

namespace furrow::sinks::testing {

// A valid page_view with event_id number `n` (a UUID derived from n) and the given fingerprint.
inline event::EnrichedEvent sample_event(int n, std::string fingerprint = "") {
  using event::Field;
  event::EnrichedEvent e;
  char id[40];
  std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", static_cast<unsigned>(n),
                static_cast<unsigned>(n));
  e[Field::app_id] = "shop";
  e[Field::platform] = "web";
  e[Field::etl_tstamp] = "2024-03-01 10:00:01.000";
  e[Field::collector_tstamp] = "2024-03-01 10:00:00.123";
  e[Field::event] = "page_view";
  e[Field::event_id] = id;
  e[Field::v_collector] = "furrow-collector-0.1.0";
  e[Field::v_etl] = "furrow-enrich-0.1.0";
  e[Field::domain_userid] = "u1";
  e[Field::domain_sessionidx] = "1";
  e[Field::geo_latitude] = "47.2513";
  e[Field::page_url] = "https://example.com/a";
  e[Field::se_value] = "1.50";
  e[Field::br_cookies] = "1";
  e[Field::event_fingerprint] = std::move(fingerprint);
  return e;
}

inline std::string tsv(const event::EnrichedEvent& e) {
  std::string s;
  event::write_tsv(e, s);
  return s;
}

}  // namespace furrow::sinks::testing
