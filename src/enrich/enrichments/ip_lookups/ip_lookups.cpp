#include "enrich/enrichments/ip_lookups/ip_lookups.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

namespace furrow::enrich::enrichments {

struct CityFields {
  std::string country, region, city, zipcode, latitude, longitude, region_name, timezone;
  // Empties every field, keeping the buffers (decode_city sets only the fields it finds).
  void clear() {
    for (std::string* f :
         {&country, &region, &city, &zipcode, &latitude, &longitude, &region_name, &timezone}) {
      f->clear();
    }
  }
};

namespace {

// Reads a string value at `path` into `out` (cleared when absent or not a string).
void get_string(MMDB_entry_s* entry, std::initializer_list<const char*> path, std::string& out) {
  out.clear();
  const char* p[8];
  std::size_t n = 0;
  for (const char* s : path) p[n++] = s;
  p[n] = nullptr;
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, p) != MMDB_SUCCESS || !data.has_data) return;
  if (data.type == MMDB_DATA_TYPE_UTF8_STRING) out.assign(data.utf8_string, data.data_size);
}

// A coordinate printed as a 32-bit float, shortest round-trip form (spec gotcha 10).
void get_coordinate(MMDB_entry_s* entry, const char* const* path, std::string& out) {
  out.clear();
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data) return;
  float f;
  if (data.type == MMDB_DATA_TYPE_DOUBLE) {
    f = static_cast<float>(data.double_value);
  } else if (data.type == MMDB_DATA_TYPE_FLOAT) {
    f = data.float_value;
  } else if (data.type == MMDB_DATA_TYPE_UTF8_STRING) {
    double d = 0;
    auto [end, ec] = std::from_chars(data.utf8_string, data.utf8_string + data.data_size, d);
    if (ec != std::errc() || end != data.utf8_string + data.data_size) return;
    f = static_cast<float>(d);
  } else {
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  if (ec == std::errc()) out.assign(buf, end);
}

// The map or array at `key` of `entry` as an entry of its own, so that several values below it
// are read without walking the outer map again. False when absent or not a map or array.
bool get_map(MMDB_entry_s* entry, const char* key, MMDB_entry_s& out) {
  const char* p[] = {key, nullptr};
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, p) != MMDB_SUCCESS || !data.has_data ||
      (data.type != MMDB_DATA_TYPE_MAP && data.type != MMDB_DATA_TYPE_ARRAY)) {
    return false;
  }
  out.mmdb = entry->mmdb;
  out.offset = data.offset;
  return true;
}

bool get_uint(MMDB_entry_s* entry, const char* key, uint32_t& out) {
  const char* p[] = {key, nullptr};
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, p) != MMDB_SUCCESS || !data.has_data) return false;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16:
      out = data.uint16;
      return true;
    case MMDB_DATA_TYPE_UINT32:
      out = data.uint32;
      return true;
    case MMDB_DATA_TYPE_INT32:
      if (data.int32 < 0) return false;
      out = static_cast<uint32_t>(data.int32);
      return true;
    case MMDB_DATA_TYPE_UINT64:
      if (data.uint64 > 0x7fffffffULL) return false;
      out = static_cast<uint32_t>(data.uint64);
      return true;
    default:
      return false;
  }
}

const char* role_name(GeoRole role) {
  switch (role) {
    case GeoRole::kCity:
      return "City";
    case GeoRole::kIsp:
      return "ISP";
    case GeoRole::kDomain:
      return "Domain";
    case GeoRole::kConnectionType:
      return "Connection-Type";
    case GeoRole::kAsn:
      return "ASN";
  }
  return "?";
}

// Source of GeoDatabase::id().
std::atomic<uint64_t> g_next_database_id{1};

// Decodes the City fields of `e` (MaxMind's nested layout unless `flat`, then the flat layout of
// @ip-location-db when no country was found).
void decode_city(MMDB_entry_s* e, bool flat, CityFields& out) {
  if (!flat) {
    // MaxMind's layout: each nested map is found once, then read from directly.
    MMDB_entry_s m;
    if (get_map(e, "country", m)) get_string(&m, {"iso_code"}, out.country);
    if (get_map(e, "subdivisions", m)) {
      get_string(&m, {"0", "iso_code"}, out.region);
      get_string(&m, {"0", "names", "en"}, out.region_name);
    }
    if (get_map(e, "city", m)) get_string(&m, {"names", "en"}, out.city);
    if (get_map(e, "postal", m)) get_string(&m, {"code"}, out.zipcode);
    if (get_map(e, "location", m)) {
      static const char* const kLat[] = {"latitude", nullptr};
      static const char* const kLon[] = {"longitude", nullptr};
      get_coordinate(&m, kLat, out.latitude);
      get_coordinate(&m, kLon, out.longitude);
      get_string(&m, {"time_zone"}, out.timezone);
    }
  }
  if (out.country.empty()) {
    // The flat layout of @ip-location-db (state1 is a name; no ISO subdivision code).
    get_string(e, {"country_code"}, out.country);
    if (!out.country.empty()) {
      get_string(e, {"state1"}, out.region_name);
      get_string(e, {"city"}, out.city);
      get_string(e, {"postcode"}, out.zipcode);
      static const char* const kLat[] = {"latitude", nullptr};
      static const char* const kLon[] = {"longitude", nullptr};
      get_coordinate(e, kLat, out.latitude);
      get_coordinate(e, kLon, out.longitude);
      get_string(e, {"timezone"}, out.timezone);
    }
  }
}

// A per-thread, direct-mapped cache of decoded City records keyed by (database id, data offset).
// Bounded (kSlots entries, strings reused in place), so a warm lookup allocates nothing.
class CityRecordCache {
 public:
  // The cached fields of the record, or nullptr.
  const CityFields* find(uint64_t db, uint64_t offset) const {
    const Slot& s = slots_[slot_of(db, offset)];
    return s.db == db && s.offset == offset ? &s.fields : nullptr;
  }
  // The slot for the record, emptied, to be filled by the caller.
  CityFields& insert(uint64_t db, uint64_t offset) {
    Slot& s = slots_[slot_of(db, offset)];
    s.db = db;
    s.offset = offset;
    s.fields.clear();
    return s.fields;
  }

 private:
  static constexpr std::size_t kSlots = 1024;
  static std::size_t slot_of(uint64_t db, uint64_t offset) {
    uint64_t h = (offset ^ (db << 40)) * 0x9E3779B97F4A7C15ULL;
    return static_cast<std::size_t>(h >> 54);  // top 10 bits: kSlots = 1024
  }
  struct Slot {
    uint64_t db = 0;  // 0 = empty (database ids start at 1)
    uint64_t offset = 0;
    CityFields fields;
  };
  Slot slots_[kSlots];
};

// A per-thread, direct-mapped memo of recent address lookups keyed by (database id, address).
// Bounded (kSlots entries); a hit costs a hash and a compare instead of a walk of up to 128
// tree nodes.
class AddressMemo {
 public:
  struct Key {
    uint64_t db = 0;  // 0 = empty slot (database ids start at 1)
    uint64_t hi = 0, lo = 0;
    bool v6 = false;
    bool operator==(const Key&) const = default;
  };
  static Key key_of(uint64_t db, const IpAddress& ip) {
    Key k;
    k.db = db;
    k.v6 = ip.is_v6;
    std::memcpy(&k.hi, ip.bytes, 8);
    if (ip.is_v6) std::memcpy(&k.lo, ip.bytes + 8, 8);
    if (!ip.is_v6) k.hi &= 0xffffffffULL;  // IPv4 uses the first four bytes only
    return k;
  }
  struct Slot {
    Key key;
    bool found = false;
    uint16_t netmask = 0;
    uint32_t offset = 0;
  };
  Slot& slot(const Key& k) {
    uint64_t h = (k.hi * 0x9E3779B97F4A7C15ULL) ^ (k.lo * 0xC2B2AE3D27D4EB4FULL) ^ (k.db << 1) ^
                 static_cast<uint64_t>(k.v6);
    h *= 0x9E3779B97F4A7C15ULL;
    return slots_[h >> 54];  // top 10 bits: kSlots = 1024
  }

 private:
  static constexpr std::size_t kSlots = 1024;
  Slot slots_[kSlots];
};

// A per-thread, direct-mapped memo of parsed addresses keyed by their text (inet_pton costs
// hundreds of instructions, and traffic repeats client addresses). Texts longer than any address
// parse_ip accepts are not remembered.
class ParsedAddressMemo {
 public:
  std::optional<IpAddress> parse(std::string_view text) {
    if (text.size() > kMaxText) return parse_ip(text);
    uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (char c : text) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
    Slot& s = slots_[(h * 0x9E3779B97F4A7C15ULL) >> 56];  // top 8 bits: kSlots = 256
    if (s.used && s.size == text.size() && std::memcmp(s.text, text.data(), text.size()) == 0) {
      return s.ok ? std::optional<IpAddress>(s.ip) : std::nullopt;
    }
    const std::optional<IpAddress> ip = parse_ip(text);
    s.used = true;
    s.size = static_cast<uint8_t>(text.size());
    std::memcpy(s.text, text.data(), text.size());
    s.ok = ip.has_value();
    if (ip) s.ip = *ip;
    return ip;
  }

 private:
  static constexpr std::size_t kMaxText = 47;  // "[" + 45 + "]"
  static constexpr std::size_t kSlots = 256;
  struct Slot {
    char text[kMaxText];
    uint8_t size = 0;
    bool used = false;
    bool ok = false;
    IpAddress ip;
  };
  Slot slots_[kSlots];
};

bool has_key(MMDB_entry_s* entry, const char* key) {
  const char* p[] = {key, nullptr};
  MMDB_entry_data_s data;
  return MMDB_aget_value(entry, &data, p) == MMDB_SUCCESS && data.has_data;
}

bool is_flat_city(MMDB_entry_s* entry) {
  return has_key(entry, "country_code") && !has_key(entry, "country");
}

bool has_role_layout(MMDB_entry_s* entry, GeoRole role) {
  switch (role) {
    case GeoRole::kCity:
      return has_key(entry, "country") || has_key(entry, "city") || has_key(entry, "location") ||
             has_key(entry, "continent") || has_key(entry, "registered_country") ||
             has_key(entry, "country_code");
    case GeoRole::kIsp:
      return has_key(entry, "isp") || has_key(entry, "organization") ||
             has_key(entry, "autonomous_system_number");
    case GeoRole::kDomain:
      return has_key(entry, "domain");
    case GeoRole::kConnectionType:
      return has_key(entry, "connection_type");
    case GeoRole::kAsn:
      return has_key(entry, "autonomous_system_number");
  }
  return false;
}

}  // namespace

Result<std::shared_ptr<const GeoDatabase>> GeoDatabase::open(const std::filesystem::path& path,
                                                             GeoRole role) {
  std::shared_ptr<GeoDatabase> db(new GeoDatabase());
  int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->mmdb_);
  if (rc != MMDB_SUCCESS) {
    return Error{path.string() + ": not a readable MaxMind database: " + MMDB_strerror(rc)};
  }
  db->open_ = true;
  db->id_ = g_next_database_id.fetch_add(1, std::memory_order_relaxed);
  if (db->mmdb_.metadata.database_type != nullptr) db->type_ = db->mmdb_.metadata.database_type;
  // Verify the whole tree and every distinct data record once, so a corrupt file is refused now
  // rather than failing lookups later.
  MMDB_entry_data_list_s* meta = nullptr;
  rc = MMDB_get_metadata_as_entry_data_list(&db->mmdb_, &meta);
  MMDB_free_entry_data_list(meta);
  if (rc != MMDB_SUCCESS) {
    return Error{path.string() + ": corrupt metadata: " + MMDB_strerror(rc)};
  }
  constexpr uint64_t kMaxEpoch = 253402300799ULL;  // 9999-12-31T23:59:59Z
  if (db->mmdb_.metadata.build_epoch > kMaxEpoch) {
    return Error{path.string() + ": corrupt metadata: build_epoch " +
                 std::to_string(db->mmdb_.metadata.build_epoch) + " is not a date"};
  }
  const uint32_t nodes = db->mmdb_.metadata.node_count;
  // Data records already checked, one bit per possible record offset (many networks share one
  // record): about 1 bit per byte of file, where a hash set of the offsets took tens of bytes per
  // record and set the start-up peak of the process's memory with a multi-million-record file.
  std::vector<bool> seen(db->mmdb_.file_size + 1, false);
  bool layout_seen = false;
  bool flat_seen = false;
  bool nested_seen = false;
  for (uint32_t n = 0; n < nodes; ++n) {
    MMDB_search_node_s node;
    rc = MMDB_read_node(&db->mmdb_, n, &node);
    if (rc != MMDB_SUCCESS) {
      return Error{path.string() + ": corrupt search tree at node " + std::to_string(n) + ": " +
                   MMDB_strerror(rc)};
    }
    const uint8_t types[2] = {node.left_record_type, node.right_record_type};
    const uint64_t records[2] = {node.left_record, node.right_record};
    MMDB_entry_s entries[2] = {node.left_record_entry, node.right_record_entry};
    for (int side = 0; side < 2; ++side) {
      if (types[side] == MMDB_RECORD_TYPE_INVALID) {
        return Error{path.string() + ": corrupt search tree: invalid record at node " +
                     std::to_string(n)};
      }
      if (types[side] == MMDB_RECORD_TYPE_SEARCH_NODE && records[side] >= nodes) {
        return Error{path.string() + ": corrupt search tree at node " + std::to_string(n)};
      }
      if (types[side] != MMDB_RECORD_TYPE_DATA) continue;
      const uint64_t at = records[side] - nodes;  // past the tree: nodes < record for data
      if (at < seen.size()) {
        if (seen[at]) continue;
        seen[at] = true;
      }
      MMDB_entry_data_list_s* list = nullptr;
      rc = MMDB_get_entry_data_list(&entries[side], &list);
      MMDB_free_entry_data_list(list);
      if (rc != MMDB_SUCCESS) {
        return Error{path.string() + ": corrupt data record (node " + std::to_string(n) +
                     "): " + MMDB_strerror(rc)};
      }
      if (!layout_seen) layout_seen = has_role_layout(&entries[side], role);
      if (role == GeoRole::kCity && !(flat_seen && nested_seen)) {
        (is_flat_city(&entries[side]) ? flat_seen : nested_seen) = true;
      }
    }
  }
  if (!layout_seen) {
    return Error{path.string() + ": no record has the layout of a " + role_name(role) +
                 " database (wrong or corrupt file)"};
  }
  db->flat_city_ = flat_seen && !nested_seen;
  // The check touched every page of the mapping; give them back (lookups fault in only the pages
  // they read, from the page cache). Without this a 130 MB database stays resident in full.
  if (db->mmdb_.file_content != nullptr && db->mmdb_.file_size > 0) {
    (void)::madvise(const_cast<uint8_t*>(db->mmdb_.file_content),
                    static_cast<std::size_t>(db->mmdb_.file_size), MADV_DONTNEED);
  }
  return std::shared_ptr<const GeoDatabase>(std::move(db));
}

GeoDatabase::~GeoDatabase() {
  if (open_) MMDB_close(&mmdb_);
}

MMDB_lookup_result_s GeoDatabase::lookup(const IpAddress& ip) const {
  int err = 0;
  if (ip.is_v6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    std::memcpy(&sa.sin6_addr, ip.bytes, 16);
    auto r = MMDB_lookup_sockaddr(&mmdb_, reinterpret_cast<const sockaddr*>(&sa), &err);
    if (err != MMDB_SUCCESS) r.found_entry = false;
    return r;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  std::memcpy(&sa.sin_addr, ip.bytes, 4);
  auto r = MMDB_lookup_sockaddr(&mmdb_, reinterpret_cast<const sockaddr*>(&sa), &err);
  if (err != MMDB_SUCCESS) r.found_entry = false;
  return r;
}

void GeoResult::clear() {
  for (std::string* s : {&country, &region, &city, &zipcode, &latitude, &longitude, &region_name,
                         &timezone, &isp, &organization, &domain, &netspeed, &asn_organization}) {
    s->clear();
  }
  has_asn = false;
  asn = 0;
}

MMDB_lookup_result_s GeoDatabase::lookup_memoized(const IpAddress& ip) const {
  thread_local std::unique_ptr<AddressMemo> memo;  // on the heap: 40 KB
  if (!memo) memo = std::make_unique<AddressMemo>();
  const AddressMemo::Key key = AddressMemo::key_of(id_, ip);
  AddressMemo::Slot& slot = memo->slot(key);
  MMDB_lookup_result_s r{};
  if (slot.key == key) {
    r.found_entry = slot.found;
    r.netmask = slot.netmask;
    r.entry.mmdb = &mmdb_;
    r.entry.offset = slot.offset;
    return r;
  }
  r = lookup(ip);
  slot.key = key;
  slot.found = r.found_entry;
  slot.netmask = r.netmask;
  slot.offset = r.entry.offset;
  return r;
}

const CityFields* IpLookupsEnrichment::city_fields(const IpAddress& ip, CityFields& scratch) const {
  const GeoDatabase* geo = ip.is_v6 && dbs_.geo_v6 ? dbs_.geo_v6.get() : dbs_.geo.get();
  if (geo == nullptr) return nullptr;
  auto r = find(*geo, ip);
  if (!r.found_entry) return nullptr;
  if (!cache_records_) {
    scratch.clear();
    decode_city(&r.entry, geo->flat_city(), scratch);
    return &scratch;
  }
  // On the heap: ~300 KB is too much for static thread-local storage.
  thread_local std::unique_ptr<CityRecordCache> cache;
  if (!cache) cache = std::make_unique<CityRecordCache>();
  if (const CityFields* f = cache->find(geo->id(), r.entry.offset)) return f;
  CityFields& slot = cache->insert(geo->id(), r.entry.offset);
  decode_city(&r.entry, geo->flat_city(), slot);
  return &slot;
}

void IpLookupsEnrichment::lookup_others(const IpAddress& ip, GeoResult& out) const {
  if (dbs_.isp) {
    auto r = find(*dbs_.isp, ip);
    if (r.found_entry) {
      get_string(&r.entry, {"isp"}, out.isp);
      get_string(&r.entry, {"organization"}, out.organization);
    }
  }
  if (dbs_.domain) {
    auto r = find(*dbs_.domain, ip);
    if (r.found_entry) get_string(&r.entry, {"domain"}, out.domain);
  }
  if (dbs_.connection_type) {
    auto r = find(*dbs_.connection_type, ip);
    if (r.found_entry) get_string(&r.entry, {"connection_type"}, out.netspeed);
  }
  if (dbs_.asn) {
    auto r = find(*dbs_.asn, ip);
    if (r.found_entry && get_uint(&r.entry, "autonomous_system_number", out.asn)) {
      out.has_asn = true;
      get_string(&r.entry, {"autonomous_system_organization"}, out.asn_organization);
    }
  }
}

bool IpLookupsEnrichment::lookup(std::string_view ip_text, GeoResult& out) const {
  out.clear();  // keeps the strings' capacity: no allocation per lookup once warm
  auto ip = parse(ip_text);
  if (!ip) return false;
  CityFields decoded;
  if (const CityFields* f = city_fields(*ip, decoded)) {
    out.country = f->country;
    out.region = f->region;
    out.city = f->city;
    out.zipcode = f->zipcode;
    out.latitude = f->latitude;
    out.longitude = f->longitude;
    out.region_name = f->region_name;
    out.timezone = f->timezone;
  }
  lookup_others(*ip, out);
  return true;
}

std::string asn_context_json(uint32_t number, std::string_view organization) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("schema");
  w.String(kAsnContextSchema);
  w.Key("data");
  w.StartObject();
  w.Key("number");
  w.Uint(number);
  w.Key("organization");
  write_nullable(w, organization);
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::optional<IpAddress> IpLookupsEnrichment::parse(std::string_view text) const {
  if (!cache_records_) return parse_ip(text);
  thread_local std::unique_ptr<ParsedAddressMemo> memo;  // on the heap: 18 KB
  if (!memo) memo = std::make_unique<ParsedAddressMemo>();
  return memo->parse(text);
}

void IpLookupsEnrichment::apply(EventContext& ctx) const {
  auto& ev = ctx.event();
  // text(), not operator[]: the pipeline keeps the address as a view (no copy into the event).
  const std::string_view ip_text = ev.text(event::Field::user_ipaddress);
  if (ip_text.empty()) return;
  auto ip = parse(ip_text);
  if (!ip) return;
  using event::Field;
  auto set = [&](Field f, const std::string& v) {
    if (!v.empty()) ev[f] = v;
  };
  // The City fields go from the record cache straight into the event (no GeoResult between).
  thread_local CityFields decoded;
  if (const CityFields* f = city_fields(*ip, decoded)) {
    set(Field::geo_country, f->country);
    set(Field::geo_region, f->region);
    set(Field::geo_city, f->city);
    set(Field::geo_zipcode, f->zipcode);
    set(Field::geo_latitude, f->latitude);
    set(Field::geo_longitude, f->longitude);
    set(Field::geo_region_name, f->region_name);
    set(Field::geo_timezone, f->timezone);
  }
  if (!dbs_.isp && !dbs_.domain && !dbs_.connection_type && !dbs_.asn) return;
  thread_local GeoResult r;
  r.clear();
  lookup_others(*ip, r);
  set(Field::ip_isp, r.isp);
  set(Field::ip_organization, r.organization);
  set(Field::ip_domain, r.domain);
  set(Field::ip_netspeed, r.netspeed);
  if (r.has_asn) ctx.add_derived_context(asn_context_json(r.asn, r.asn_organization));
}

Result<std::shared_ptr<const Enrichment>> make_ip_lookups(const EnrichmentConfig& c,
                                                          const LoadOptions& options) {
  if (c.parameters == nullptr) return c.error("data.parameters", "required object is missing");
  if (auto s = check_keys(c, c.parameters, {"geo", "isp", "domain", "connectionType", "asn"},
                          "data.parameters");
      !s.ok()) {
    return s.error();
  }
  IpLookupsEnrichment::Databases dbs;
  struct Slot {
    const char* key;
    GeoRole role;
    std::shared_ptr<const GeoDatabase>* target;
  };
  const Slot slots[] = {{"geo", GeoRole::kCity, &dbs.geo},
                        {"isp", GeoRole::kIsp, &dbs.isp},
                        {"domain", GeoRole::kDomain, &dbs.domain},
                        {"connectionType", GeoRole::kConnectionType, &dbs.connection_type},
                        {"asn", GeoRole::kAsn, &dbs.asn}};
  bool any = false;
  for (const auto& slot : slots) {
    std::string kp = std::string("data.parameters.") + slot.key;
    auto obj = optional_object(c, c.parameters, slot.key, kp);
    if (!obj.ok()) return obj.error();
    if (*obj == nullptr) continue;
    if (auto s = check_keys(c, *obj, {"uri", "database"}, kp); !s.ok()) return s.error();
    auto path = resolve_lookup_object(c, *obj, kp, options);
    if (!path.ok()) return path.error();
    auto db = GeoDatabase::open(*path, slot.role);
    if (!db.ok()) return c.error(kp + ".database", db.error().message);
    *slot.target = *db;
    any = true;
  }
  if (!any) {
    return c.error("data.parameters",
                   "expected at least one of geo, isp, domain, connectionType, asn");
  }
  return std::shared_ptr<const Enrichment>(std::make_shared<IpLookupsEnrichment>(std::move(dbs)));
}

}  // namespace furrow::enrich::enrichments
