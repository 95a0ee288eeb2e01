// CollectorPayload <-> Thrift TBinaryProtocol bytes, with libthrift's protocol reader/writer and no
// generated code (the struct is small and its field ids are fixed by Snowplow's collectors).
#include <thrift/Thrift.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <algorithm>
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

Result<CollectorPayload> decode_thrift(std::string_view bytes) {
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

}  // namespace furrow::event
