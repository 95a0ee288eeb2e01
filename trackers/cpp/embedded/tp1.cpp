// The embedded core: byte sinks chained writer → (JSON) → base64 → percent-encoded query string,
// all on the stack. See tp1.h for the contract (no heap, no exceptions, caller buffers only).
#include "furrow/tracker/embedded/tp1.h"

namespace furrow::tracker::embedded {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr const char* kUnstructSchema =
    "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0";

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

bool empty(const char* s) {
  return s == nullptr || *s == '\0';
}

// The query string being written. Overflow is sticky: once a byte does not fit (keeping one byte
// for the NUL), everything after is dropped and finish() reports kBufferTooSmall.
class QueryWriter {
 public:
  QueryWriter(char* out, size_t capacity) : out_(out), capacity_(capacity) {}

  void raw(char c) {
    if (overflow_ || len_ + 1 >= capacity_) {
      overflow_ = true;
      return;
    }
    out_[len_++] = c;
  }
  void encoded(char c) {
    if (unreserved(c)) {
      raw(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      raw('%');
      raw(kHex[b >> 4]);
      raw(kHex[b & 0xF]);
    }
  }
  void encoded(const char* s) {
    for (; *s != '\0'; ++s) encoded(*s);
  }
  // Starts "&key=" (no '&' for the first parameter).
  void key(const char* k) {
    if (len_ > 0) raw('&');
    encoded(k);
    raw('=');
  }
  // Adds key=value, skipping empty values (trackers never send "").
  void param(const char* k, const char* v) {
    if (empty(v)) return;
    key(k);
    encoded(v);
  }
  Status finish(size_t* length) {
    if (overflow_ || capacity_ == 0) {
      if (capacity_ > 0) out_[0] = '\0';
      if (length != nullptr) *length = 0;
      return Status::kBufferTooSmall;
    }
    out_[len_] = '\0';
    if (length != nullptr) *length = len_;
    return Status::kOk;
  }

 private:
  char* out_;
  size_t capacity_;
  size_t len_ = 0;
  bool overflow_ = false;
};

// Base64url without padding, streamed: bytes in, characters out to the query writer (base64url
// characters are all unreserved, so they need no percent-encoding).
class Base64Stream {
 public:
  explicit Base64Stream(QueryWriter& out) : out_(out) {}
  void put(uint8_t b) {
    group_ = (group_ << 8) | b;
    if (++count_ == 3) {
      out_.raw(kBase64Url[(group_ >> 18) & 0x3F]);
      out_.raw(kBase64Url[(group_ >> 12) & 0x3F]);
      out_.raw(kBase64Url[(group_ >> 6) & 0x3F]);
      out_.raw(kBase64Url[group_ & 0x3F]);
      group_ = 0;
      count_ = 0;
    }
  }
  void put(const char* s) {
    for (; *s != '\0'; ++s) put(static_cast<uint8_t>(*s));
  }
  void finish() {
    if (count_ == 1) {
      out_.raw(kBase64Url[(group_ >> 2) & 0x3F]);
      out_.raw(kBase64Url[(group_ << 4) & 0x3F]);
    } else if (count_ == 2) {
      out_.raw(kBase64Url[(group_ >> 10) & 0x3F]);
      out_.raw(kBase64Url[(group_ >> 4) & 0x3F]);
      out_.raw(kBase64Url[(group_ << 2) & 0x3F]);
    }
    group_ = 0;
    count_ = 0;
  }

 private:
  QueryWriter& out_;
  uint32_t group_ = 0;
  int count_ = 0;
};

// A JSON string literal: quotes, backslash and control characters escaped; other bytes (UTF-8)
// are copied as they are.
void json_string(Base64Stream& out, const char* s) {
  out.put('"');
  for (; *s != '\0'; ++s) {
    const auto c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      out.put('\\');
      out.put(c);
    } else if (c < 0x20) {
      out.put("\\u00");
      out.put(static_cast<uint8_t>(kHexLower[c >> 4]));
      out.put(static_cast<uint8_t>(kHexLower[c & 0xF]));
    } else {
      out.put(c);
    }
  }
  out.put('"');
}

// Decimal digits of v into buf (no NUL); returns the count. buf needs 20 bytes.
size_t unsigned_digits(uint64_t v, char* buf) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
  return n;
}

uint64_t magnitude(int64_t v) {
  // Two's complement magnitude without overflowing on INT64_MIN.
  return v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
}

void json_fixed(Base64Stream& out, int64_t scaled, uint8_t decimals) {
  char digits[20];
  size_t n = unsigned_digits(magnitude(scaled), digits);
  if (scaled < 0) out.put('-');
  if (n <= decimals) {  // 0.00ddd
    out.put('0');
    out.put('.');
    for (size_t i = n; i < decimals; ++i) out.put('0');
    for (size_t i = 0; i < n; ++i) out.put(static_cast<uint8_t>(digits[i]));
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (decimals > 0 && i == n - decimals) out.put('.');
    out.put(static_cast<uint8_t>(digits[i]));
  }
}

// True for an optionally signed decimal number: digits with at most one '.', at least one digit.
bool plain_decimal(const char* s) {
  if (*s == '-' || *s == '+') ++s;
  bool digit = false;
  bool point = false;
  for (; *s != '\0'; ++s) {
    if (*s >= '0' && *s <= '9') {
      digit = true;
    } else if (*s == '.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  return digit;
}

// The parameters every event carries, in a fixed order: e, eid, dtm, tv, p, aid, tna.
void common(QueryWriter& w, const Config& config, const char* event_type, uint64_t dtm_ms) {
  w.param("e", event_type);
  uint8_t random[16];
  config.random(config.random_context, random, sizeof random);
  char eid[37];
  format_uuid_v4(random, eid);
  w.param("eid", eid);
  char dtm[21];
  dtm[unsigned_digits(dtm_ms, dtm)] = '\0';
  w.param("dtm", dtm);
  w.param("tv", empty(config.tracker_version) ? kTrackerVersion : config.tracker_version);
  w.param("p", empty(config.platform) ? "iot" : config.platform);
  w.param("aid", config.app_id);
  w.param("tna", config.tracker_namespace);
}

Status invalid(char* out, size_t capacity, size_t* length) {
  if (capacity > 0) out[0] = '\0';
  if (length != nullptr) *length = 0;
  return Status::kInvalidArgument;
}

}  // namespace

size_t base64url_encode(const uint8_t* in, size_t n, char* out, size_t capacity) {
  QueryWriter w(out, capacity);
  Base64Stream b(w);
  for (size_t i = 0; i < n; ++i) b.put(in[i]);
  b.finish();
  size_t length = 0;
  return w.finish(&length) == Status::kOk ? length : 0;
}

void format_uuid_v4(const uint8_t random[16], char out[37]) {
  uint8_t b[16];
  for (int i = 0; i < 16; ++i) b[i] = random[i];
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  size_t pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
    out[pos++] = kHexLower[b[i] >> 4];
    out[pos++] = kHexLower[b[i] & 0xF];
  }
  out[pos] = '\0';
}

Status build_structured(const Config& config, const StructuredEvent& event, uint64_t dtm_ms,
                        char* out, size_t capacity, size_t* length) {
  if (out == nullptr) return Status::kBufferTooSmall;
  if (config.random == nullptr || empty(event.category) || empty(event.action) ||
      (!empty(event.value) && !plain_decimal(event.value))) {
    return invalid(out, capacity, length);
  }
  QueryWriter w(out, capacity);
  common(w, config, "se", dtm_ms);
  w.param("se_ca", event.category);
  w.param("se_ac", event.action);
  w.param("se_la", event.label);
  w.param("se_pr", event.property);
  w.param("se_va", event.value);
  return w.finish(length);
}

Status build_self_describing(const Config& config, const char* schema, const Field* fields,
                             size_t field_count, uint64_t dtm_ms, char* out, size_t capacity,
                             size_t* length) {
  if (out == nullptr) return Status::kBufferTooSmall;
  if (config.random == nullptr || schema == nullptr || schema[0] != 'i' || schema[1] != 'g' ||
      schema[2] != 'l' || schema[3] != 'u' || schema[4] != ':' || schema[5] == '\0' ||
      (field_count > 0 && fields == nullptr)) {
    return invalid(out, capacity, length);
  }
  for (size_t i = 0; i < field_count; ++i) {
    const Field& f = fields[i];
    if (empty(f.name) || (f.type == FieldType::kString && f.string_value == nullptr) ||
        (f.type == FieldType::kFixed && f.decimals > 18)) {
      return invalid(out, capacity, length);
    }
  }
  QueryWriter w(out, capacity);
  common(w, config, "ue", dtm_ms);
  w.key("ue_px");
  Base64Stream b(w);
  b.put("{\"schema\":\"");
  b.put(kUnstructSchema);
  b.put("\",\"data\":{\"schema\":");
  json_string(b, schema);
  b.put(",\"data\":{");
  for (size_t i = 0; i < field_count; ++i) {
    const Field& f = fields[i];
    if (i > 0) b.put(',');
    json_string(b, f.name);
    b.put(':');
    switch (f.type) {
      case FieldType::kInt: {
        char digits[20];
        size_t n = unsigned_digits(magnitude(f.int_value), digits);
        if (f.int_value < 0) b.put('-');
        for (size_t k = 0; k < n; ++k) b.put(static_cast<uint8_t>(digits[k]));
        break;
      }
      case FieldType::kFixed:
        json_fixed(b, f.int_value, f.decimals);
        break;
      case FieldType::kString:
        json_string(b, f.string_value);
        break;
      case FieldType::kBool:
        b.put(f.bool_value ? "true" : "false");
        break;
    }
  }
  b.put("}}}");
  b.finish();
  return w.finish(length);
}

}  // namespace furrow::tracker::embedded
