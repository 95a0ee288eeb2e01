// Helpers for enrichment unit tests (included by *_test.cpp only).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"
#include "event/enriched_event.h"
#include "event/raw_event.h"

namespace furrow::enrich::enrichments::testing {

// One event as an enrichment sees it. Not copyable (the context refers to the members).
struct TestEvent {
  event::EnrichedEvent ev;
  event::RawEvent raw;
  EventContext ctx{ev, raw};
  TestEvent() = default;
  TestEvent(const TestEvent&) = delete;
  TestEvent& operator=(const TestEvent&) = delete;
};

// Parses a config document; fails the test when it does not parse.
inline EnrichmentConfig config_of(const std::string& json) {
  auto c = parse_enrichment_config(json, "test.json");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? std::move(c.value()) : EnrichmentConfig{};
}

// A config document for `name` under `vendor` with the given parameters JSON.
inline std::string config_json(const std::string& vendor, const std::string& name,
                               const std::string& version, const std::string& parameters) {
  return R"({"schema":"iglu:)" + vendor + "/" + name + "/jsonschema/" + version +
         R"(","data":{"vendor":")" + vendor + R"(","name":")" + name +
         R"(","enabled":true,"parameters":)" + parameters + "}}";
}

}  // namespace furrow::enrich::enrichments::testing
