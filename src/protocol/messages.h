// Builders for the failure messages of Snowplow's bad rows (spec section 5), each one compact JSON
// object.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace furrow::protocol::msg {

// {"field":..,"value":..|null,"expectation":..} (FailureDetails InputData).
std::string input_data(std::string_view field, std::optional<std::string_view> value,
                       std::string_view expectation);
// {"field":..,"value":..,"error":..} (NotJson).
std::string not_json(std::string_view field, std::optional<std::string_view> value,
                     std::string_view error);
// {"json":<json>,"error":<code>} (NotIglu); `json` is compact JSON text.
std::string not_iglu(std::string_view json, std::string_view code);
// {"schemaKey":..,"schemaCriterion":..} (CriterionMismatch).
std::string criterion_mismatch(std::string_view schema_key, std::string_view criterion);
// {"schemaKey":..,"error":<iglu error JSON>} (IgluError).
std::string iglu_error(std::string_view schema_key, std::string_view error_json);
// {"payloadField":..,"value":..|null,"expectation":..} (collector_payload_format_violation
// InputData).
std::string payload_field(std::string_view field, std::optional<std::string_view> value,
                          std::string_view expectation);
// {"error":..} (collector_payload_format_violation Fallback).
std::string fallback(std::string_view error);

}  // namespace furrow::protocol::msg
