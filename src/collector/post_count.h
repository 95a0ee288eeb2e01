// Counting the events of a tp2 POST body for the collector's `max_events_per_post` limit without
// building a JSON document: a SAX pass over the body that allocates nothing per call.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace furrow::collector {

// The number of elements of the top-level object's first "data" member when `body` is one valid
// JSON document (RapidJSON's default grammar) whose root is an object with an array "data";
// nullopt otherwise. Equal to rapidjson::Document's doc["data"].Size() on the same body.
std::optional<std::size_t> count_post_data_events(std::string_view body);

}  // namespace furrow::collector
