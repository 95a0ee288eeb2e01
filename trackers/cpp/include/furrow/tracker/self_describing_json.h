// A self-describing JSON (Iglu schema URI + data), the unit of self-describing events and of
// context entities.
#pragma once

#include <string>
#include <string_view>

namespace furrow::tracker {

class SelfDescribingJson {
 public:
  // `schema` must be an Iglu URI (iglu:vendor/name/format/M-R-A) and `data_json` a JSON text
  // (usually an object). Invalid input does not throw: valid() is false and error() says why;
  // tracking an event that carries an invalid one fails with that message.
  SelfDescribingJson(std::string schema, std::string_view data_json);

  bool valid() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& schema() const { return schema_; }
  // The data re-serialised as compact JSON (empty when invalid).
  const std::string& data() const { return data_; }
  // {"schema":"...","data":...} as compact JSON.
  std::string to_json() const;

 private:
  std::string schema_;
  std::string data_;
  std::string error_;
};

// True for iglu:<vendor>/<name>/<format>/<model>-<revision>-<addition> with the character sets of
// Snowplow's envelope schemas.
bool is_iglu_uri(std::string_view uri);

}  // namespace furrow::tracker
