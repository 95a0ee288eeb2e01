// RawEvent: one tracked event as a parameter map plus the request context, produced by an adapter
// from a CollectorPayload (Snowplow's RawEvent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace furrow::event {

// One tracker-protocol parameter. `value` is absent for a query-string key without '=' (ignored by
// the field mapping); an empty value is "key=" (string fields become null, typed fields fail).
struct Param {
  std::string name;
  std::optional<std::string> value;

  bool operator==(const Param&) const = default;
};

// Parameters in first-appearance order with unique names: when a name repeats, the later value
// replaces the earlier one in place (Snowplow's "last occurrence wins"). Lookups are O(1) on
// average: beyond a handful of parameters a small open-addressing hash index is kept beside the
// vector, so building an event of n parameters costs O(n), not O(n^2).
class Params {
 public:
  // Sets or replaces `name`.
  void set(std::string name, std::optional<std::string> value);
  // The value of `name`, or nullptr when absent or valueless.
  const std::string* get(std::string_view name) const;
  bool contains(std::string_view name) const;
  void erase(std::string_view name);
  const std::vector<Param>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void clear() {
    items_.clear();
    index_.clear();
  }
  void reserve(std::size_t n) { items_.reserve(n); }
  bool operator==(const Params& other) const { return items_ == other.items_; }

 private:
  static constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);
  // Up to this many parameters a linear scan beats hashing.
  static constexpr std::size_t kLinearMax = 8;
  std::size_t find(std::string_view name) const;
  void rebuild_index(std::size_t capacity);
  void index_insert(std::size_t item);

  std::vector<Param> items_;
  // Slots hold item index + 1 (0 = empty); size is a power of two at least twice items_.size(), or
  // empty while items_.size() <= kLinearMax.
  std::vector<uint32_t> index_;
};

struct RawEvent {
  std::string vendor;   // from the path, e.g. com.snowplowanalytics.snowplow
  std::string version;  // e.g. tp2
  Params parameters;
  std::optional<std::string> content_type;
  std::string loader_name = "thrift";  // thrift | cloudfront | clj-tomcat
  std::string encoding = "UTF-8";
  std::optional<std::string> hostname;
  std::optional<int64_t> timestamp;  // collector time, ms since epoch
  std::optional<std::string> ip_address;
  std::optional<std::string> useragent;
  std::optional<std::string> referer_uri;
  std::vector<std::string> headers;
  std::optional<std::string> user_id;  // the collector's network user id
};

}  // namespace furrow::event
