#include "protocol/messages.h"

#include "protocol/json_util.h"

namespace furrow::protocol::msg {

std::string input_data(std::string_view field, std::optional<std::string_view> value,
                       std::string_view expectation) {
  JsonText j;
  j.begin_object();
  j.key("field");
  j.str(field);
  j.key("value");
  j.opt_str(value);
  j.key("expectation");
  j.str(expectation);
  j.end_object();
  return j.take();
}

std::string not_json(std::string_view field, std::optional<std::string_view> value,
                     std::string_view error) {
  JsonText j;
  j.begin_object();
  j.key("field");
  j.str(field);
  j.key("value");
  j.opt_str(value);
  j.key("error");
  j.str(error);
  j.end_object();
  return j.take();
}

std::string not_iglu(std::string_view json, std::string_view code) {
  JsonText j;
  j.begin_object();
  j.key("json");
  j.raw(json);
  j.key("error");
  j.str(code);
  j.end_object();
  return j.take();
}

std::string criterion_mismatch(std::string_view schema_key, std::string_view criterion) {
  JsonText j;
  j.begin_object();
  j.key("schemaKey");
  j.str(schema_key);
  j.key("schemaCriterion");
  j.str(criterion);
  j.end_object();
  return j.take();
}

std::string iglu_error(std::string_view schema_key, std::string_view error_json) {
  JsonText j;
  j.begin_object();
  j.key("schemaKey");
  j.str(schema_key);
  j.key("error");
  j.raw(error_json);
  j.end_object();
  return j.take();
}

std::string payload_field(std::string_view field, std::optional<std::string_view> value,
                          std::string_view expectation) {
  JsonText j;
  j.begin_object();
  j.key("payloadField");
  j.str(field);
  j.key("value");
  j.opt_str(value);
  j.key("expectation");
  j.str(expectation);
  j.end_object();
  return j.take();
}

std::string fallback(std::string_view error) {
  JsonText j;
  j.begin_object();
  j.key("error");
  j.str(error);
  j.end_object();
  return j.take();
}

}  // namespace furrow::protocol::msg
