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

// Whether `body` can hold more than `limit` events: false when it has fewer than `limit` commas,
// since JSON separates the n elements of an array by n - 1 commas, so such a body's "data" array
// has at most `limit` elements (and count_post_data_events need not run: the collector only
// rejects a body it counts above the limit). A scan for one byte, without decoding the JSON
// (tracker batches are ~100 times smaller than what the count would have to reach).
bool may_exceed_post_events(std::string_view body, std::size_t limit);

}  // namespace furrow::collector
