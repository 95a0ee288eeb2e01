#include "sinks/loader.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstring>

#include "event/tsv.h"
#include "furrow/version.h"
#include "sinks/postgres_loader.h"
#include "sinks/sqlite_loader.h"

namespace furrow::sinks {
namespace {

constexpr std::string_view kParsingErrorSchema =
    "iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0";

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as for PostgreSQL).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// `s` with NUL bytes and invalid UTF-8 replaced by U+FFFD, so it can travel inside a JSON string
// stored as jsonb.
std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = s[i] == '\0' ? 0 : utf8_sequence(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// True when the JSON text contains the escape \u0000 (jsonb cannot store it).
bool has_nul_escape(std::string_view json) {
  std::size_t i = 0;
  while ((i = json.find('\\', i)) != std::string_view::npos && i + 1 < json.size()) {
    if (json[i + 1] == 'u' && json.substr(i + 2, 4) == "0000") return true;
    i += 2;  // skip the escaped character (e.g. the second '\\' of "\\\\")
  }
  return false;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string_view string_member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

}  // namespace

Result<DbTarget> parse_db_target(std::string_view url) {
  DbTarget t;
  if (url.starts_with("sqlite:")) {
    t.dialect = Dialect::kSqlite;
    t.location = std::string(url.substr(7));
    if (t.location.starts_with("//")) t.location.erase(0, 2);  // sqlite://PATH
    if (t.location.empty()) return Error{"sqlite target needs a path: sqlite:PATH"};
    return t;
  }
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    t.dialect = Dialect::kPostgres;
    t.location = std::string(url);
    return t;
  }
  return Error{"unknown database '" + std::string(url) +
               "': expected sqlite:PATH or postgres://user:password@host:port/dbname"};
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(len) * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 0xF];
  }
  return out;
}

bool storable_value(std::size_t index, std::string_view value, std::string& why) {
  const auto& info = event::field_infos()[index];
  // ASCII fast path, 8 bytes at a time: no byte with the high bit set and no zero byte.
  std::size_t i = 0;
  const char* p = value.data();
  constexpr uint64_t kLow = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  while (i + 8 <= value.size()) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, 8);
    if ((w & kHigh) != 0 || ((w - kLow) & ~w & kHigh) != 0) break;
    i += 8;
  }
  std::size_t chars = i;
  while (i < value.size()) {
    if (value[i] == '\0') {
      why = "contains a NUL byte";
      return false;
    }
    const std::size_t n = utf8_sequence(value, i);
    if (n == 0) {
      why = "invalid UTF-8 at byte " + std::to_string(i);
      return false;
    }
    i += n;
    ++chars;
  }
  const std::size_t max = column_max_chars(index);
  if (max != 0 && chars > max) {
    why = std::to_string(chars) + " characters, longer than the column's " + std::to_string(max);
    return false;
  }
  if (info.kind == event::FieldKind::kJson && has_nul_escape(value)) {
    why = "JSON contains \\u0000, which PostgreSQL jsonb cannot store";
    return false;
  }
  if (info.kind == event::FieldKind::kTimestamp && value.starts_with("0000")) {
    why = "year 0000 is out of range";
    return false;
  }
  return true;
}

Loader::Loader(Dialect dialect, LoaderOptions options)
    : dialect_(dialect), options_(std::move(options)) {
  if (options_.batch_size == 0) options_.batch_size = 1;
  if (options_.version.empty()) options_.version = kVersion;
}

Loader::~Loader() = default;

Status Loader::add(std::string_view line, LineKind kind) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return Status::Ok();
  const bool bad = kind == LineKind::kBadRow || (kind == LineKind::kAuto && line.front() == '{');
  Status st = bad ? add_bad_row(line) : add_enriched(line, kind == LineKind::kEnrichedInProcess);
  if (!st) return st;
  return maybe_flush();
}

Status Loader::add_event(const event::EnrichedEvent& event) {
  scratch_.clear();
  event::write_tsv(event, scratch_);
  // add() may flush, which does not touch scratch_.
  return add(scratch_, LineKind::kEnriched);
}

Status Loader::add_enriched(std::string_view line, bool trusted_json) {
  const bool encodes = encodes_events();
  // A line the quick check declines gets the exact checks below, JSON parse included, whatever
  // its kind.
  if (encodes && quick_accept_enriched(line, fields_, trusted_json)) {
    ++n_events_;
    ++stats_.events;
    return event_parsed(line, fields_);
  }
  if (!encodes && events_.size() <= n_events_) events_.resize(n_events_ + 1);
  event::EnrichedEvent& ev = encodes ? parsed_ : events_[n_events_];
  // read_tsv checks the field count too; only when it fails is the line scanned again to tell a
  // wrong field count (reported as such) from a bad value.
  if (!event::read_tsv(line, ev, error_)) {
    std::size_t tabs = 0;
    for (char c : line) tabs += c == '\t';
    if (tabs + 1 != event::kFieldCount) {
      reject(line, tabs == 0 ? "NotTSV" : "FieldNumberMismatch", {}, tabs + 1);
    } else {
      reject(line, "RowDecodingError", error_, 0);
    }
    return Status::Ok();
  }
  for (std::size_t i = 0; i < event::kFieldCount; ++i) {
    if (!ev.values[i].empty() && !storable_value(i, ev.values[i], error_)) {
      std::string msg = "field ";
      msg += std::to_string(i + 1);
      msg += " (";
      msg += event::field_infos()[i].name;
      msg += "): ";
      msg += error_;
      reject(line, "RowDecodingError", msg, 0);
      return Status::Ok();
    }
  }
  ++n_events_;
  ++stats_.events;
  if (!encodes) return event_added(n_events_ - 1);
  // The exact checks accepted what the quick ones were not sure of; the values are the line's.
  split_enriched(line, fields_);
  return event_parsed(line, fields_);
}

void Loader::reject(std::string_view line, std::string_view failure_type, std::string_view message,
                    std::size_t field_count) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("schema");
  put(w, kParsingErrorSchema);
  w.Key("data");
  w.StartObject();
  w.Key("processor");
  w.StartObject();
  w.Key("artifact");
  put(w, options_.artifact);
  w.Key("version");
  put(w, options_.version);
  w.EndObject();
  w.Key("failure");
  w.StartObject();
  w.Key("type");
  put(w, failure_type);
  if (failure_type == "FieldNumberMismatch") {
    w.Key("fieldCount");
    w.Uint64(field_count);
  } else if (failure_type == "RowDecodingError") {
    w.Key("errors");
    w.StartArray();
    w.StartObject();
    w.Key("type");
    w.String("UnhandledRowDecodingError");
    w.Key("message");
    put(w, sanitize(message));
    w.EndObject();
    w.EndArray();
  }
  w.EndObject();
  w.Key("payload");
  put(w, sanitize(line));
  w.EndObject();
  w.EndObject();
  BadRow row;
  row.document.assign(sb.GetString(), sb.GetSize());
  row.hash = sha256_hex(row.document);
  row.schema = kParsingErrorSchema;
  row.failure_type = "loader_parsing_error";
  row.processor = options_.artifact + "/" + options_.version;
  bad_.push_back(std::move(row));
  ++stats_.rejected;
}

Status Loader::add_bad_row(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  std::string_view schema = doc.HasParseError() ? std::string_view{} : string_member(doc, "schema");
  if (doc.HasParseError() || !doc.IsObject() || schema.empty() || has_nul_escape(line)) {
    reject(line, "RowDecodingError",
           doc.HasParseError() ? "not a JSON document and not an enriched event"
           : schema.empty()    ? "bad row without a \"schema\" string"
                               : "bad row contains \\u0000, which PostgreSQL jsonb cannot store",
           0);
    return Status::Ok();
  }
  BadRow row;
  row.document.assign(line);
  row.hash = sha256_hex(row.document);
  row.schema.assign(schema);
  // iglu:com.snowplowanalytics.snowplow.badrows/<name>/jsonschema/<version>
  if (auto slash = schema.find('/'); slash != std::string_view::npos) {
    auto rest = schema.substr(slash + 1);
    row.failure_type.assign(rest.substr(0, rest.find('/')));
  }
  auto data = doc.FindMember("data");
  if (data != doc.MemberEnd() && data->value.IsObject()) {
    auto proc = data->value.FindMember("processor");
    if (proc != data->value.MemberEnd()) {
      row.processor.assign(string_member(proc->value, "artifact"));
      row.processor += '/';
      row.processor.append(string_member(proc->value, "version"));
    }
    auto failure = data->value.FindMember("failure");
    if (failure != data->value.MemberEnd()) {
      row.failure_tstamp.assign(string_member(failure->value, "timestamp"));
    }
  }
  bad_.push_back(std::move(row));
  return Status::Ok();
}

Status Loader::maybe_flush() {
  if (n_events_ >= options_.batch_size || bad_.size() >= options_.batch_size) return write(nullptr);
  return Status::Ok();
}

Status Loader::flush() {
  if (n_events_ == 0 && bad_.empty()) return Status::Ok();
  return write(nullptr);
}

Status Loader::finish_file(const FileRecord& file) {
  return write(&file);
}

Status Loader::write(const FileRecord* file) {
  BatchResult r;
  Status st = write_batch(file, r);
  if (!st) return st;
  stats_.inserted += r.inserted;
  stats_.duplicates += n_events_ - r.inserted;
  stats_.bad_rows += r.bad_rows;
  ++stats_.batches;
  n_events_ = 0;
  bad_.clear();
  return Status::Ok();
}

Result<std::unique_ptr<Loader>> open_loader(const DbTarget& target, const LoaderOptions& options) {
  if (target.dialect == Dialect::kSqlite) return open_sqlite_loader(target.location, options);
  return open_postgres_loader(target.location, options);
}

}  // namespace furrow::sinks
