#include "enrich/enrichments/ip_lookups/ip_lookups.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <charconv>
#include <random>

#include "enrich/enrichments/test_helpers.h"
#include "support/test_support.h"

namespace furrow::enrich::enrichments {
namespace {

using event::Field;
namespace fs = std::filesystem;

fs::path maxmind() {
  return test::shared_dir() / "data/maxmind";
}

std::shared_ptr<const IpLookupsEnrichment> make_all() {
  std::string uri = "file://" + (maxmind() / "test-data").string();
  auto obj = [&](const char* db) {
    return R"({"uri":")" + uri + R"(","database":")" + db + R"("})";
  };
  std::string params =
      R"({"geo":)" + obj("GeoIP2-City-Test.mmdb") + R"(,"isp":)" + obj("GeoIP2-ISP-Test.mmdb") +
      R"(,"domain":)" + obj("GeoIP2-Domain-Test.mmdb") + R"(,"connectionType":)" +
      obj("GeoIP2-Connection-Type-Test.mmdb") + R"(,"asn":)" + obj("GeoLite2-ASN-Test.mmdb") + "}";
  auto e = make_ip_lookups(testing::config_of(testing::config_json("com.snowplowanalytics.snowplow",
                                                                   "ip_lookups", "2-0-1", params)),
                           {});
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? std::dynamic_pointer_cast<const IpLookupsEnrichment>(*e) : nullptr;
}

// An address inside a source-data network ("1.2.3.0/24", "::1.2.3.0/120" or IPv6): its first
// address, written as IPv4 when the network sits in the IPv4 part of the tree.
std::string first_address(const std::string& network) {
  std::string addr = network.substr(0, network.find('/'));
  if (addr.rfind("::", 0) == 0 && addr.find('.') != std::string::npos) return addr.substr(2);
  return addr;
}

std::string str_at(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* cur = &v;
  for (const char* k : path) {
    if (cur->IsArray()) {
      std::size_t i = static_cast<std::size_t>(std::atoi(k));
      if (i >= cur->Size()) return "";
      cur = &(*cur)[static_cast<rapidjson::SizeType>(i)];
      continue;
    }
    if (!cur->IsObject() || !cur->HasMember(k)) return "";
    cur = &(*cur)[k];
  }
  if (cur->IsString()) return cur->GetString();
  if (cur->IsNumber()) {
    float f = static_cast<float>(cur->GetDouble());
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
    return std::string(buf, end);
  }
  return "";
}

// Runs `check` on every record of a source-data file; returns the number of records checked.
template <class Check>
int for_each_record(const char* file, Check check) {
  rapidjson::Document doc;
  std::string text = test::read_file(maxmind() / "source-data" / file);
  doc.Parse(text.c_str());
  EXPECT_TRUE(doc.IsArray());
  int n = 0;
  for (const auto& item : doc.GetArray()) {
    for (const auto& m : item.GetObject()) {
      check(first_address(m.name.GetString()), m.value);
      ++n;
    }
  }
  return n;
}

// Acceptance 3: geo_* fields equal the City test records.
TEST(IpLookups, CityRecordsMatchSourceData) {
  auto e = make_all();
  ASSERT_NE(e, nullptr);
  int n = for_each_record(
      "GeoIP2-City-Test.json", [&](const std::string& ip, const rapidjson::Value& rec) {
        GeoResult r;
        ASSERT_TRUE(e->lookup(ip, r)) << ip;
        EXPECT_EQ(r.country, str_at(rec, {"country", "iso_code"})) << ip;
        EXPECT_EQ(r.region, str_at(rec, {"subdivisions", "0", "iso_code"})) << ip;
        EXPECT_EQ(r.city, str_at(rec, {"city", "names", "en"})) << ip;
        EXPECT_EQ(r.zipcode, str_at(rec, {"postal", "code"})) << ip;
        EXPECT_EQ(r.latitude, str_at(rec, {"location", "latitude"})) << ip;
        EXPECT_EQ(r.longitude, str_at(rec, {"location", "longitude"})) << ip;
        EXPECT_EQ(r.region_name, str_at(rec, {"subdivisions", "0", "names", "en"})) << ip;
        EXPECT_EQ(r.timezone, str_at(rec, {"location", "time_zone"})) << ip;
      });
  EXPECT_GT(n, 100);
}

TEST(IpLookups, IspDomainConnectionTypeAndAsnMatchSourceData) {
  auto e = make_all();
  ASSERT_NE(e, nullptr);
  GeoResult r;
  int n = for_each_record("GeoIP2-ISP-Test.json",
                          [&](const std::string& ip, const rapidjson::Value& rec) {
                            ASSERT_TRUE(e->lookup(ip, r));
                            EXPECT_EQ(r.isp, str_at(rec, {"isp"})) << ip;
                            EXPECT_EQ(r.organization, str_at(rec, {"organization"})) << ip;
                          });
  EXPECT_GT(n, 100);
  n = for_each_record("GeoIP2-Domain-Test.json",
                      [&](const std::string& ip, const rapidjson::Value& rec) {
                        ASSERT_TRUE(e->lookup(ip, r));
                        EXPECT_EQ(r.domain, str_at(rec, {"domain"})) << ip;
                      });
  EXPECT_GT(n, 10);
  n = for_each_record("GeoIP2-Connection-Type-Test.json",
                      [&](const std::string& ip, const rapidjson::Value& rec) {
                        ASSERT_TRUE(e->lookup(ip, r));
                        EXPECT_EQ(r.netspeed, str_at(rec, {"connection_type"})) << ip;
                      });
  EXPECT_GT(n, 10);
  n = for_each_record(
      "GeoLite2-ASN-Test.json", [&](const std::string& ip, const rapidjson::Value& rec) {
        ASSERT_TRUE(e->lookup(ip, r));
        ASSERT_TRUE(r.has_asn) << ip;
        EXPECT_EQ(r.asn, rec["autonomous_system_number"].GetUint()) << ip;
        EXPECT_EQ(r.asn_organization, str_at(rec, {"autonomous_system_organization"})) << ip;
      });
  EXPECT_GT(n, 100);
}

TEST(IpLookups, AppliesFieldsAndAsnContext) {
  auto e = make_all();
  ASSERT_NE(e, nullptr);
  testing::TestEvent t;
  t.ev[Field::user_ipaddress] = "1.128.0.1";
  e->apply(t.ctx);
  ASSERT_EQ(t.ctx.pending_contexts().size(), 1u);
  EXPECT_EQ(
      t.ctx.pending_contexts()[0],
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1","data":{"number":1221,"organization":"Telstra Pty Ltd"}})");
  EXPECT_EQ(t.ev[Field::ip_isp], "Telstra Internet");
  testing::TestEvent geo;
  geo.ev[Field::user_ipaddress] = "2.125.160.216";
  e->apply(geo.ctx);
  EXPECT_EQ(geo.ev[Field::geo_country], "GB");
  EXPECT_FALSE(geo.ev[Field::geo_latitude].empty());
  // Not found, not an address, null: nothing set, no failure.
  for (const char* ip : {"10.0.0.1", "not-an-ip", ""}) {
    testing::TestEvent n;
    n.ev[Field::user_ipaddress] = ip;
    e->apply(n.ctx);
    EXPECT_EQ(n.ev[Field::geo_country], "") << ip;
    EXPECT_TRUE(n.ctx.pending_contexts().empty()) << ip;
    EXPECT_TRUE(n.ctx.failures().empty()) << ip;
  }
}

// Acceptance 3: every corrupt database is refused when opened, with a message naming it.
TEST(IpLookups, CorruptDatabasesAreRefused) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(maxmind() / "bad-data")) {
    if (entry.path().extension() != ".mmdb") continue;
    ++n;
    auto db = GeoDatabase::open(entry.path(), GeoRole::kCity);
    EXPECT_FALSE(db.ok()) << entry.path();
    if (!db.ok()) {
      EXPECT_NE(db.error().message.find(entry.path().filename().string()), std::string::npos);
    }
  }
  EXPECT_GT(n, 10);
}

TEST(IpLookups, WrongLayoutIsRefused) {
  auto asn_as_city =
      GeoDatabase::open(maxmind() / "test-data/GeoLite2-ASN-Test.mmdb", GeoRole::kCity);
  ASSERT_FALSE(asn_as_city.ok());
  EXPECT_NE(asn_as_city.error().message.find("City"), std::string::npos);
  EXPECT_TRUE(
      GeoDatabase::open(maxmind() / "test-data/GeoLite2-ASN-Test.mmdb", GeoRole::kAsn).ok());
  EXPECT_TRUE(
      GeoDatabase::open(maxmind() / "test-data/GeoLite2-City-Test.mmdb", GeoRole::kCity).ok());
}

TEST(IpLookups, MissingDatabaseIsAStartupError) {
  auto e = make_ip_lookups(
      testing::config_of(testing::config_json(
          "com.snowplowanalytics.snowplow", "ip_lookups", "2-0-1",
          R"({"geo":{"uri":"file:///nonexistent/dir","database":"GeoLite2-City.mmdb"}})")),
      {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("data.parameters.geo.database"), std::string::npos)
      << e.error().message;
}

// The per-thread cache of decoded City records gives the same fields as decoding every time,
// across two databases looked up alternately (the cache key includes the database), with
// repeated addresses and addresses sharing records, and after the cache's slots were recycled.
TEST(IpLookups, RecordCacheGivesTheSameResultsAsDecoding) {
  std::vector<std::string> ips;
  for_each_record("GeoIP2-City-Test.json",
                  [&](const std::string& ip, const rapidjson::Value&) { ips.push_back(ip); });
  ASSERT_GT(ips.size(), 100u);
  for (int i = 0; i < 4000; ++i) ips.push_back("81.2." + std::to_string(i % 251) + ".1");
  ips.push_back("not an ip");
  ips.push_back("10.0.0.1");
  std::vector<IpLookupsEnrichment> cached, uncached;
  for (const char* db : {"GeoIP2-City-Test.mmdb", "GeoLite2-City-Test.mmdb"}) {
    auto geo = GeoDatabase::open(maxmind() / "test-data" / db, GeoRole::kCity);
    ASSERT_TRUE(geo.ok()) << geo.error().message;
    IpLookupsEnrichment::Databases dbs;
    dbs.geo = *geo;
    cached.emplace_back(dbs, true);
    uncached.emplace_back(dbs, false);
  }
  int found = 0;
  for (int round = 0; round < 2; ++round) {
    for (const auto& ip : ips) {
      for (std::size_t d = 0; d < cached.size(); ++d) {
        GeoResult a, b;
        bool ok_a = cached[d].lookup(ip, a);
        bool ok_b = uncached[d].lookup(ip, b);
        ASSERT_EQ(ok_a, ok_b) << ip;
        EXPECT_EQ(a.country, b.country) << ip;
        EXPECT_EQ(a.region, b.region) << ip;
        EXPECT_EQ(a.city, b.city) << ip;
        EXPECT_EQ(a.zipcode, b.zipcode) << ip;
        EXPECT_EQ(a.latitude, b.latitude) << ip;
        EXPECT_EQ(a.longitude, b.longitude) << ip;
        EXPECT_EQ(a.region_name, b.region_name) << ip;
        EXPECT_EQ(a.timezone, b.timezone) << ip;
        if (!a.country.empty()) ++found;
      }
    }
  }
  EXPECT_GT(found, 200);
}

// Addresses for the memo tests: every City test network's first address, random IPv4 and IPv6
// addresses (most in no network), repeats, and more distinct addresses than the memo has slots.
std::vector<std::string> memo_test_addresses() {
  std::vector<std::string> ips;
  for_each_record("GeoIP2-City-Test.json",
                  [&](const std::string& ip, const rapidjson::Value&) { ips.push_back(ip); });
  std::mt19937 rng(4);
  for (int i = 0; i < 3000; ++i) {
    const uint32_t v = rng();
    if (i % 5 == 0) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "2001:%x:%x::%x", v & 0xffff, v >> 16, (v >> 8) & 0xff);
      ips.emplace_back(buf);
    } else if (i % 3 == 0) {
      ips.push_back("81.2." + std::to_string(v % 251) + "." + std::to_string((v >> 8) % 256));
    } else {
      ips.push_back(std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." +
                    std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255));
    }
  }
  const std::size_t distinct = ips.size();
  for (std::size_t i = 0; i < distinct; i += 3) ips.push_back(ips[i]);
  for (const char* odd : {"not an ip", "", "1.2.3", "[::1]", "[81.2.69.142]", "81.2.69.142 ",
                          "::ffff:81.2.69.142", "2001:db8::1%eth0", "1.2.3.4.5"}) {
    ips.emplace_back(odd);
  }
  ips.push_back(std::string(46, '1'));
  ips.push_back("[" + std::string(60, ':') + "]");
  // The odd texts again (memo hits for them too).
  const std::size_t n = ips.size();
  for (std::size_t i = n - 11; i < n; ++i) ips.push_back(ips[i]);
  return ips;
}

// GeoDatabase::lookup_memoized gives the tree walk's result (found, record, netmask) for every
// address, with two databases looked up alternately (the memo key includes the database) and
// slots recycled.
TEST(IpLookups, AddressMemoGivesTheTreeWalksResults) {
  std::vector<std::shared_ptr<const GeoDatabase>> dbs;
  for (const char* db :
       {"GeoIP2-City-Test.mmdb", "GeoLite2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb"}) {
    auto geo = GeoDatabase::open(maxmind() / "test-data" / db,
                                 std::string_view(db).find("ASN") != std::string_view::npos
                                     ? GeoRole::kAsn
                                     : GeoRole::kCity);
    ASSERT_TRUE(geo.ok()) << geo.error().message;
    dbs.push_back(*geo);
  }
  int found = 0;
  for (int round = 0; round < 2; ++round) {
    for (const auto& text : memo_test_addresses()) {
      auto ip = parse_ip(text);
      if (!ip) continue;
      for (const auto& db : dbs) {
        MMDB_lookup_result_s a = db->lookup_memoized(*ip);
        MMDB_lookup_result_s b = db->lookup(*ip);
        ASSERT_EQ(a.found_entry, b.found_entry) << text;
        EXPECT_EQ(a.netmask, b.netmask) << text;
        if (!b.found_entry) continue;
        EXPECT_EQ(a.entry.offset, b.entry.offset) << text;
        EXPECT_EQ(a.entry.mmdb, b.entry.mmdb) << text;
        ++found;
      }
    }
  }
  EXPECT_GT(found, 500);
}

// apply() with the caches (address memo, record cache, fields written straight into the event)
// sets exactly what it sets without them, with all five databases.
TEST(IpLookups, ApplyWithCachesEqualsApplyWithout) {
  IpLookupsEnrichment::Databases dbs;
  struct Db {
    const char* file;
    GeoRole role;
    std::shared_ptr<const GeoDatabase>* target;
  };
  for (const Db& d :
       {Db{"GeoIP2-City-Test.mmdb", GeoRole::kCity, &dbs.geo},
        Db{"GeoIP2-ISP-Test.mmdb", GeoRole::kIsp, &dbs.isp},
        Db{"GeoIP2-Domain-Test.mmdb", GeoRole::kDomain, &dbs.domain},
        Db{"GeoIP2-Connection-Type-Test.mmdb", GeoRole::kConnectionType, &dbs.connection_type},
        Db{"GeoLite2-ASN-Test.mmdb", GeoRole::kAsn, &dbs.asn}}) {
    auto db = GeoDatabase::open(maxmind() / "test-data" / d.file, d.role);
    ASSERT_TRUE(db.ok()) << db.error().message;
    *d.target = *db;
  }
  const IpLookupsEnrichment cached(dbs, true), plain(dbs, false);
  const Field fields[] = {Field::geo_country,     Field::geo_region,   Field::geo_city,
                          Field::geo_zipcode,     Field::geo_latitude, Field::geo_longitude,
                          Field::geo_region_name, Field::geo_timezone, Field::ip_isp,
                          Field::ip_organization, Field::ip_domain,    Field::ip_netspeed};
  int set = 0;
  for (const auto& ip : memo_test_addresses()) {
    testing::TestEvent a, b;
    a.ev[Field::user_ipaddress] = ip;
    b.ev[Field::user_ipaddress] = ip;
    cached.apply(a.ctx);
    plain.apply(b.ctx);
    for (Field f : fields) {
      EXPECT_EQ(a.ev[f], b.ev[f]) << ip << " field " << static_cast<int>(f);
      if (!a.ev[f].empty()) ++set;
    }
    EXPECT_EQ(a.ctx.pending_contexts(), b.ctx.pending_contexts()) << ip;
  }
  EXPECT_GT(set, 1000);
}

}  // namespace
}  // namespace furrow::enrich::enrichments
