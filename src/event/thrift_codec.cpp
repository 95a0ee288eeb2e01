// CollectorPayload <-> Thrift TBinaryProtocol bytes, with no generated code (the struct is small
// and its field ids are fixed by Snowplow's collectors). Encoding and error reporting use
// libthrift's protocol writer / reader; decoding valid records (once per input line in enrich) uses
// a hand-written reader of the same binary protocol that copies each string once, straight from
// the record into a reused CollectorPayload.
#include <thrift/Thrift.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <memory>

#include "event/collector_payload.h"

namespace furrow::event {
namespace {

using apache::thrift::TException;
using apache::thrift::protocol::TBinaryProtocolT;
using apache::thrift::protocol::TType;
using apache::thrift::transport::TMemoryBuffer;
using Protocol = TBinaryProtocolT<TMemoryBuffer>;

void write_string(Protocol& p, const char* name, int16_t id, const std::optional<std::string>& v) {
  if (!v) return;
  p.writeFieldBegin(name, apache::thrift::protocol::T_STRING, id);
  p.writeString(*v);
  p.writeFieldEnd();
}

constexpr int kMaxSkipDepth = 64;

[[noreturn]] void fail(const char* what) {
  throw apache::thrift::protocol::TProtocolException(
      apache::thrift::protocol::TProtocolException::INVALID_DATA, what);
}

// Type bytes are read as plain bytes and checked here before they become a TType: libthrift casts
// any byte to the enum, which is undefined behaviour for values outside it.
TType to_type(int8_t b) {
  using namespace apache::thrift::protocol;
  switch (b) {
    case T_STOP:
    case T_BOOL:
    case T_BYTE:
    case T_DOUBLE:
    case T_I16:
    case T_I32:
    case T_I64:
    case T_STRING:
    case T_STRUCT:
    case T_MAP:
    case T_SET:
    case T_LIST:
      return static_cast<TType>(b);
    default:
      fail("unknown Thrift field type");
  }
}

// Reads a container size and checks it against the bytes left (every element takes at least one).
uint32_t read_size(Protocol& p, const TMemoryBuffer& buffer) {
  int32_t n = 0;
  p.readI32(n);
  if (n < 0) fail("negative container size");
  if (static_cast<uint32_t>(n) > buffer.available_read()) fail("container size exceeds the record");
  return static_cast<uint32_t>(n);
}

void skip(Protocol& p, TMemoryBuffer& buffer, TType type, std::string& scratch, int depth) {
  using namespace apache::thrift::protocol;
  if (depth > kMaxSkipDepth) fail("nesting too deep");
  switch (type) {
    case T_BOOL: {
      bool v;
      p.readBool(v);
      return;
    }
    case T_BYTE: {
      int8_t v;
      p.readByte(v);
      return;
    }
    case T_I16: {
      int16_t v;
      p.readI16(v);
      return;
    }
    case T_I32: {
      int32_t v;
      p.readI32(v);
      return;
    }
    case T_I64: {
      int64_t v;
      p.readI64(v);
      return;
    }
    case T_DOUBLE: {
      double v;
      p.readDouble(v);
      return;
    }
    case T_STRING:
      p.readBinary(scratch);
      return;
    case T_STRUCT:
      while (true) {
        int8_t b;
        p.readByte(b);
        TType t = to_type(b);
        if (t == T_STOP) return;
        int16_t id;
        p.readI16(id);
        skip(p, buffer, t, scratch, depth + 1);
      }
    case T_MAP: {
      int8_t k, v;
      p.readByte(k);
      p.readByte(v);
      TType kt = to_type(k), vt = to_type(v);
      uint32_t n = read_size(p, buffer);
      for (uint32_t i = 0; i < n; ++i) {
        skip(p, buffer, kt, scratch, depth + 1);
        skip(p, buffer, vt, scratch, depth + 1);
      }
      return;
    }
    case T_SET:
    case T_LIST: {
      int8_t e;
      p.readByte(e);
      TType et = to_type(e);
      uint32_t n = read_size(p, buffer);
      for (uint32_t i = 0; i < n; ++i) skip(p, buffer, et, scratch, depth + 1);
      return;
    }
    default:
      fail("unexpected Thrift type");
  }
}

}  // namespace

std::string encode_thrift(const CollectorPayload& c) {
  using namespace apache::thrift::protocol;
  std::size_t estimate = 64 + c.schema.size();
  auto add = [&](const std::optional<std::string>& s) { estimate += s ? s->size() + 8 : 0; };
  add(c.ip_address), add(c.encoding), add(c.collector), add(c.user_agent), add(c.referer_uri),
      add(c.path);
  add(c.querystring), add(c.body), add(c.content_type), add(c.hostname), add(c.network_user_id);
  if (c.headers) {
    for (const auto& h : c.headers.value()) estimate += h.size() + 4;
  }
  try {
    auto buffer = std::make_shared<TMemoryBuffer>(
        static_cast<uint32_t>(std::min<std::size_t>(estimate, 1u << 30)));
    Protocol p(buffer);
    p.writeStructBegin("CollectorPayload");
    write_string(p, "ipAddress", thrift_id::kIpAddress, c.ip_address);
    if (c.timestamp) {
      p.writeFieldBegin("timestamp", T_I64, thrift_id::kTimestamp);
      p.writeI64(*c.timestamp);
      p.writeFieldEnd();
    }
    write_string(p, "encoding", thrift_id::kEncoding, c.encoding);
    write_string(p, "collector", thrift_id::kCollector, c.collector);
    write_string(p, "userAgent", thrift_id::kUserAgent, c.user_agent);
    write_string(p, "refererUri", thrift_id::kRefererUri, c.referer_uri);
    write_string(p, "path", thrift_id::kPath, c.path);
    write_string(p, "querystring", thrift_id::kQuerystring, c.querystring);
    write_string(p, "body", thrift_id::kBody, c.body);
    if (c.headers) {
      p.writeFieldBegin("headers", T_LIST, thrift_id::kHeaders);
      p.writeListBegin(T_STRING, static_cast<uint32_t>(c.headers->size()));
      for (const auto& h : *c.headers) p.writeString(h);
      p.writeListEnd();
      p.writeFieldEnd();
    }
    write_string(p, "contentType", thrift_id::kContentType, c.content_type);
    write_string(p, "hostname", thrift_id::kHostname, c.hostname);
    write_string(p, "networkUserId", thrift_id::kNetworkUserId, c.network_user_id);
    p.writeFieldBegin("schema", T_STRING, thrift_id::kSchema);
    p.writeString(c.schema);
    p.writeFieldEnd();
    p.writeFieldStop();
    p.writeStructEnd();
    uint8_t* data = nullptr;
    uint32_t size = 0;
    buffer->getBuffer(&data, &size);
    return std::string(reinterpret_cast<const char*>(data), size);
  } catch (const TException&) {
    // Only possible for strings over 2 GiB, which no collector produces.
    return {};
  }
}

namespace detail {

Result<CollectorPayload> decode_thrift_libthrift(std::string_view bytes) {
  using namespace apache::thrift::protocol;
  using apache::thrift::protocol::TType;
  if (bytes.empty()) return Error{"empty Thrift record"};
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX))
    return Error{"Thrift record larger than 2 GiB"};
  CollectorPayload c;
  c.schema.clear();  // a record without field 31337 decodes with an empty schema URI
  try {
    // OBSERVE: the buffer reads `bytes` in place and never writes to it.
    auto holder = std::make_shared<TMemoryBuffer>(
        reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data())),
        static_cast<uint32_t>(bytes.size()), TMemoryBuffer::OBSERVE);
    TMemoryBuffer& buffer = *holder;
    // No string can be longer than the record, so a hostile length cannot make libthrift allocate
    // beyond the input; container sizes are checked in read_size.
    Protocol p(holder, static_cast<int32_t>(bytes.size()), 0, false, true);
    std::string scratch;
    auto read_opt = [&](TType type, std::optional<std::string>& dst) {
      if (type != T_STRING) return skip(p, buffer, type, scratch, 1);  // Java skips mistyped fields
      dst.emplace();
      p.readString(*dst);
    };
    while (true) {
      int8_t b;
      p.readByte(b);
      TType type = to_type(b);
      if (type == T_STOP) break;
      int16_t id = 0;
      p.readI16(id);
      switch (id) {
        case thrift_id::kSchema:
          if (type == T_STRING) {
            p.readString(c.schema);
          } else {
            skip(p, buffer, type, scratch, 1);
          }
          break;
        case thrift_id::kIpAddress:
          read_opt(type, c.ip_address);
          break;
        case thrift_id::kTimestamp:
          if (type == T_I64) {
            int64_t ts = 0;
            p.readI64(ts);
            c.timestamp = ts;
          } else {
            skip(p, buffer, type, scratch, 1);
          }
          break;
        case thrift_id::kEncoding:
          read_opt(type, c.encoding);
          break;
        case thrift_id::kCollector:
          read_opt(type, c.collector);
          break;
        case thrift_id::kUserAgent:
          read_opt(type, c.user_agent);
          break;
        case thrift_id::kRefererUri:
          read_opt(type, c.referer_uri);
          break;
        case thrift_id::kPath:
          read_opt(type, c.path);
          break;
        case thrift_id::kQuerystring:
          read_opt(type, c.querystring);
          break;
        case thrift_id::kBody:
          read_opt(type, c.body);
          break;
        case thrift_id::kHeaders:
          if (type == T_LIST) {
            int8_t e;
            p.readByte(e);
            TType elem = to_type(e);
            uint32_t count = read_size(p, buffer);
            if (elem != T_STRING) {
              for (uint32_t i = 0; i < count; ++i) skip(p, buffer, elem, scratch, 2);
            } else {
              auto& headers = c.headers.emplace();
              headers.reserve(std::min<uint32_t>(count, 64));
              for (uint32_t i = 0; i < count; ++i) p.readString(headers.emplace_back());
            }
          } else {
            skip(p, buffer, type, scratch, 1);
          }
          break;
        case thrift_id::kContentType:
          read_opt(type, c.content_type);
          break;
        case thrift_id::kHostname:
          read_opt(type, c.hostname);
          break;
        case thrift_id::kNetworkUserId:
          read_opt(type, c.network_user_id);
          break;
        default:
          skip(p, buffer, type, scratch, 1);
          break;
      }
    }
  } catch (const TException& e) {
    return Error{std::string("cannot deserialize Thrift CollectorPayload: ") + e.what()};
  } catch (const std::exception& e) {
    return Error{std::string("cannot deserialize Thrift CollectorPayload: ") + e.what()};
  }
  return c;
}

}  // namespace detail

namespace {

// TBinaryProtocol's field type bytes.
enum : uint8_t {
  kStop = 0,
  kBool = 2,
  kByte = 3,
  kDouble = 4,
  kI16 = 6,
  kI32 = 8,
  kI64 = 10,
  kString = 11,
  kStruct = 12,
  kMap = 13,
  kSet = 14,
  kList = 15,
};

// The type bytes the libthrift decoder accepts (to_type above); any other fails the record.
constexpr bool known_type(uint8_t t) {
  return t == kStop || t == kBool || t == kByte || t == kDouble || t == kI16 || t == kI32 ||
         t == kI64 || t == kString || t == kStruct || t == kMap || t == kSet || t == kList;
}

// Reads TBinaryProtocol values (big-endian integers, strings as an i32 length and the bytes) from
// one record in place. Every read fails (returns false) instead of reading past the end; a record
// it fails on goes to the libthrift decoder, which words the error. It accepts exactly what that
// decoder accepts, with the same values (ThriftCodec.FastReaderAgreesWithLibthrift*).
class Reader {
 public:
  Reader(const char* p, const char* end) : p_(p), end_(end) {}

  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
  bool u8(uint8_t& v) {
    if (p_ == end_) return false;
    v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool bytes(std::size_t n) {
    if (left() < n) return false;
    p_ += n;
    return true;
  }
  bool i16(int16_t& v) {
    if (left() < 2) return false;
    v = static_cast<int16_t>((static_cast<uint8_t>(p_[0]) << 8) | static_cast<uint8_t>(p_[1]));
    p_ += 2;
    return true;
  }
  bool i32(int32_t& v) {
    if (left() < 4) return false;
    uint32_t u;
    std::memcpy(&u, p_, 4);
    v = static_cast<int32_t>(__builtin_bswap32(u));
    p_ += 4;
    return true;
  }
  bool i64(int64_t& v) {
    if (left() < 8) return false;
    uint64_t u;
    std::memcpy(&u, p_, 8);
    v = static_cast<int64_t>(__builtin_bswap64(u));
    p_ += 8;
    return true;
  }
  // A string: libthrift rejects a negative length, and one over the record's size (its string
  // limit) or over what is left cannot be read.
  bool string(std::string_view& s) {
    int32_t n;
    if (!i32(n) || n < 0 || static_cast<std::size_t>(n) > left()) return false;
    s = std::string_view(p_, static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }
  // A container's element count, checked as read_size does: not negative, not above the bytes
  // left after it.
  bool size(uint32_t& n) {
    int32_t v;
    if (!i32(v) || v < 0 || static_cast<std::size_t>(v) > left()) return false;
    n = static_cast<uint32_t>(v);
    return true;
  }
  // skip() above, with the same depth limit.
  bool skip(uint8_t type, int depth) {
    if (depth > kMaxSkipDepth) return false;
    switch (type) {
      case kBool:
      case kByte:
        return bytes(1);
      case kI16:
        return bytes(2);
      case kI32:
        return bytes(4);
      case kI64:
      case kDouble:
        return bytes(8);
      case kString: {
        std::string_view s;
        return string(s);
      }
      case kStruct:
        while (true) {
          uint8_t t;
          if (!u8(t) || !known_type(t)) return false;
          if (t == kStop) return true;
          if (!bytes(2) || !skip(t, depth + 1)) return false;
        }
      case kMap: {
        uint8_t k, v;
        uint32_t n;
        if (!u8(k) || !u8(v) || !known_type(k) || !known_type(v) || !size(n)) return false;
        for (uint32_t i = 0; i < n; ++i) {
          if (!skip(k, depth + 1) || !skip(v, depth + 1)) return false;
        }
        return true;
      }
      case kSet:
      case kList: {
        uint8_t e;
        uint32_t n;
        if (!u8(e) || !known_type(e) || !size(n)) return false;
        for (uint32_t i = 0; i < n; ++i) {
          if (!skip(e, depth + 1)) return false;
        }
        return true;
      }
      default:  // kStop
        return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

// The optional string fields by field id, with a bit each for "set by this record".
struct StringField {
  int16_t id;
  std::optional<std::string> CollectorPayload::*member;
};
constexpr StringField kStringFields[] = {
    {thrift_id::kIpAddress, &CollectorPayload::ip_address},
    {thrift_id::kEncoding, &CollectorPayload::encoding},
    {thrift_id::kCollector, &CollectorPayload::collector},
    {thrift_id::kUserAgent, &CollectorPayload::user_agent},
    {thrift_id::kRefererUri, &CollectorPayload::referer_uri},
    {thrift_id::kPath, &CollectorPayload::path},
    {thrift_id::kQuerystring, &CollectorPayload::querystring},
    {thrift_id::kBody, &CollectorPayload::body},
    {thrift_id::kContentType, &CollectorPayload::content_type},
    {thrift_id::kHostname, &CollectorPayload::hostname},
    {thrift_id::kNetworkUserId, &CollectorPayload::network_user_id},
};
constexpr int kStringFieldCount = static_cast<int>(std::size(kStringFields));
constexpr uint32_t kTimestampBit = 1u << kStringFieldCount;
constexpr uint32_t kHeadersBit = 1u << (kStringFieldCount + 1);

// The index in kStringFields of a string field id, or -1.
int string_field(int16_t id) {
  switch (id) {
    case thrift_id::kIpAddress:
      return 0;
    case thrift_id::kEncoding:
      return 1;
    case thrift_id::kCollector:
      return 2;
    case thrift_id::kUserAgent:
      return 3;
    case thrift_id::kRefererUri:
      return 4;
    case thrift_id::kPath:
      return 5;
    case thrift_id::kQuerystring:
      return 6;
    case thrift_id::kBody:
      return 7;
    case thrift_id::kContentType:
      return 8;
    case thrift_id::kHostname:
      return 9;
    case thrift_id::kNetworkUserId:
      return 10;
    default:
      return -1;
  }
}

// Storage of the string fields a record left unset, per field and thread: a GET record unsets the
// body and a POST record the query string, and std::optional::reset would free their buffers, so
// payloads that alternate would allocate and free them again and again. An unset field's string
// is parked here instead and taken back when a record sets the field again (the values are
// unspecified: assign overwrites them).
struct SpareStrings {
  std::string strings[std::size(kStringFields)];
  std::vector<std::string> headers;  // header strings beyond the last record's count
};
SpareStrings& spare_strings() {
  thread_local SpareStrings spares;
  return spares;
}

// s = value for a value that never overlaps s: clear + append is libstdc++'s plain copy into the
// string's own buffer (assign goes through _M_replace, which allows for overlap: ~100
// instructions per field, 17 fields per record).
void copy_into(std::string& s, std::string_view value) {
  s.clear();
  s.append(value.data(), value.size());
}

void assign(std::optional<std::string>& field, std::string& spare, std::string_view value) {
  if (!field) field.emplace(std::move(spare));
  copy_into(*field, value);
}

void unset(std::optional<std::string>& field, std::string& spare) {
  if (!field) return;
  if (field->capacity() > spare.capacity()) spare.swap(*field);
  field.reset();
}

}  // namespace

namespace detail {

bool decode_thrift_fast(std::string_view bytes, CollectorPayload& out) {
  if (bytes.empty() || bytes.size() > static_cast<std::size_t>(INT32_MAX)) return false;
  Reader r(bytes.data(), bytes.data() + bytes.size());
  uint32_t seen = 0;
  out.schema.clear();  // a record without field 31337 decodes with an empty schema URI
  while (true) {
    uint8_t type;
    if (!r.u8(type) || !known_type(type)) return false;
    if (type == kStop) break;
    int16_t id;
    if (!r.i16(id)) return false;
    const int field = string_field(id);
    if (field >= 0) {
      if (type != kString) {
        if (!r.skip(type, 1)) return false;  // Java skips mistyped fields
        continue;
      }
      std::string_view value;
      if (!r.string(value)) return false;
      assign(out.*kStringFields[field].member, spare_strings().strings[field], value);
      seen |= 1u << field;
    } else if (id == thrift_id::kSchema && type == kString) {
      std::string_view value;
      if (!r.string(value)) return false;
      copy_into(out.schema, value);
    } else if (id == thrift_id::kTimestamp && type == kI64) {
      int64_t ts;
      if (!r.i64(ts)) return false;
      out.timestamp = ts;
      seen |= kTimestampBit;
    } else if (id == thrift_id::kHeaders && type == kList) {
      uint8_t elem;
      uint32_t count;
      if (!r.u8(elem) || !known_type(elem) || !r.size(count)) return false;
      if (elem != kString) {
        for (uint32_t i = 0; i < count; ++i) {
          if (!r.skip(elem, 2)) return false;
        }
        continue;
      }
      // A second headers field replaces the first, as in the libthrift decoder.
      std::vector<std::string>& headers = out.headers ? *out.headers : out.headers.emplace();
      // (resize would free the strings past count and start new ones empty: they are parked.)
      std::vector<std::string>& pool = spare_strings().headers;
      while (headers.size() > count) {
        pool.push_back(std::move(headers.back()));
        headers.pop_back();
      }
      while (headers.size() < count && !pool.empty()) {
        headers.push_back(std::move(pool.back()));
        pool.pop_back();
      }
      headers.resize(count);
      for (uint32_t i = 0; i < count; ++i) {
        std::string_view value;
        if (!r.string(value)) return false;
        copy_into(headers[i], value);
      }
      seen |= kHeadersBit;
    } else {
      if (!r.skip(type, 1)) return false;
    }
  }
  for (int i = 0; i < kStringFieldCount; ++i) {
    if ((seen & (1u << i)) == 0) unset(out.*kStringFields[i].member, spare_strings().strings[i]);
  }
  if ((seen & kTimestampBit) == 0) out.timestamp.reset();
  if ((seen & kHeadersBit) == 0) out.headers.reset();
  return true;
}

}  // namespace detail

bool decode_thrift(std::string_view bytes, CollectorPayload& out, std::string& error) {
  if (detail::decode_thrift_fast(bytes, out)) return true;
  // Malformed (or, were the fast reader ever wrong to refuse, valid): libthrift decides and words.
  Result<CollectorPayload> r = detail::decode_thrift_libthrift(bytes);
  if (!r.ok()) {
    error = r.error().message;
    return false;
  }
  out = std::move(*r);
  return true;
}

Result<CollectorPayload> decode_thrift(std::string_view bytes) {
  CollectorPayload c;
  std::string error;
  if (!decode_thrift(bytes, c, error)) return Error{std::move(error)};
  return c;
}

}  // namespace furrow::event
