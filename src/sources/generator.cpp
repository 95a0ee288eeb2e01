#include "sources/generator.h"

#include <array>
#include <cstdio>

#include "common/base64.h"

namespace furrow::sources {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(MalformedKind::kCount)> kKindNames =
    {"none",
     "invalid_base64",
     "truncated_thrift",
     "bad_querystring",
     "bad_network_userid",
     "unknown_path",
     "wrong_content_type",
     "invalid_json_body",
     "empty_body",
     "bad_event_type",
     "bad_event_id",
     "bad_timestamp",
     "bad_unstruct_json"};

// Real-world user agents (desktop, mobile, tablet, a crawler), as browsers send them.
constexpr std::string_view kUserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.6045.163 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:105.0) Gecko/20100101 Firefox/105.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
};

// Client addresses: IPv4 and IPv6, from the ranges MaxMind's test databases know.
constexpr std::string_view kIps[] = {
    "81.2.69.142",      "216.160.83.56", "2.125.160.216",  "175.16.199.17",
    "89.160.20.112",    "67.43.156.14",  "202.196.224.9",  "149.101.100.3",
    "2001:218:85a3::1", "2a02:cf40::7",  "2001:480:10::5", "2a02:d280::42",
};

constexpr std::string_view kLangs[] = {"en-GB", "en-US", "de-DE", "fr-FR", "es-ES", "ja-JP"};
constexpr std::string_view kTimezones[] = {"Europe/London", "America/New_York", "Europe/Berlin",
                                           "Europe/Paris",  "Asia/Tokyo",       "Australia/Sydney"};
constexpr std::string_view kResolutions[] = {"1920x1080", "1440x900",  "390x844",
                                             "412x915",   "2560x1440", "1280x720"};
constexpr std::string_view kTrackers[] = {"js-4.6.8", "js-3.24.6", "js-4.10.1"};

struct Page {
  std::string_view path;
  std::string_view title;
};
constexpr Page kPages[] = {
    {"/", "Furrow Shop – Home"},
    {"/products/tarot-cards", "Tarot Cards | Furrow Shop"},
    {"/products/crystal-ball", "Crystal Ball \"Deluxe\" | Furrow Shop"},
    {"/products/incense?colour=blue&size=L", "Incense – blue, large"},
    {"/cart", "Your cart"},
    {"/checkout", "Checkout"},
    {"/blog/how-to-read-tea-leaves", "How to read tea leaves"},
    {"/blog/%C3%BCber-uns", "Über uns"},
    {"/search?q=moon+calendar", "Search results"},
};

// Referers: search engines with terms, social, email, internal, none.
constexpr std::string_view kSearchTerms[] = {"tarot cards",        "crystal ball price",
                                             "moon calendar 2026", "incense sticks",
                                             "tea leaves reading", "über uns"};
constexpr std::string_view kSearchEngines[] = {
    "https://www.google.com/search?q=", "https://www.bing.com/search?q=",
    "https://duckduckgo.com/?q=", "https://search.yahoo.com/search?p=",
    "https://www.google.co.uk/search?hl=en&q="};
constexpr std::string_view kOtherReferers[] = {
    "https://t.co/xyz123", "https://www.facebook.com/", "https://mail.google.com/mail/u/0/",
    "https://www.reddit.com/r/tarot/", "https://news.ycombinator.com/"};

struct Campaign {
  std::string_view source, medium, campaign, term, content;
};
constexpr Campaign kCampaigns[] = {
    {"google", "cpc", "spring_sale", "tarot cards", ""},
    {"newsletter", "email", "nov_digest", "", "header_link"},
    {"facebook", "social", "launch", "", "video"},
    {"bing", "cpc", "brand", "furrow shop", "ad_2"},
};

constexpr std::string_view kProducts[] = {"tarot-cards", "crystal-ball", "incense", "tea-set",
                                          "moon-calendar"};

inline void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
  out.append(buf, static_cast<std::size_t>(n));
}

// encodeURIComponent: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is %XX-encoded (UTF-8 bytes).
void percent_encode(std::string_view in, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : in) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' || c == '(' ||
        c == ')') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

// A JSON string literal (with quotes); non-ASCII is written raw as UTF-8.
void json_string(std::string_view in, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : in) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void format_uuid(uint64_t hi, uint64_t lo, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  hi = (hi & ~0xF000ull) | 0x4000ull;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  char buf[36];
  int p = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) buf[p++] = '-';
    const uint64_t word = i < 8 ? hi : lo;
    const unsigned byte = static_cast<unsigned>((word >> (56 - 8 * (i % 8))) & 0xFF);
    buf[p++] = kHex[byte >> 4];
    buf[p++] = kHex[byte & 15];
  }
  out.assign(buf, 36);
}

constexpr std::string_view kWebPageContext =
    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[{"
    "\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/"
    "1-0-0\",\"data\":{\"id\":";

}  // namespace

std::string_view malformed_kind_name(MalformedKind k) {
  const auto i = static_cast<std::size_t>(k);
  return i < kKindNames.size() ? kKindNames[i] : "unknown";
}

struct Generator::Visitor {
  uint32_t index = 0;
  std::string duid, nuid, sid, uid;
  std::string_view ua, ip, lang, tz, res, tracker;
  uint32_t visit = 1;
  bool mobile = false;
};

Generator::Generator(GeneratorConfig config)
    : config_(config), state_(config.seed * 0x2545F4914F6CDD1Dull + 1), now_ms_(config.start_ms) {
  double share = config_.malformed_share < 0   ? 0
                 : config_.malformed_share > 1 ? 1
                                               : config_.malformed_share;
  // Compare against a fixed-point threshold so the decision never depends on FP rounding modes.
  threshold_ = share >= 1.0 ? ~0ull : static_cast<uint64_t>(share * 18446744073709551616.0);
  if (config_.visitors == 0) config_.visitors = 1;
}

uint64_t Generator::rand() {
  return splitmix(state_);
}
uint32_t Generator::below(uint32_t n) {
  return static_cast<uint32_t>(((rand() >> 32) * n) >> 32);
}
bool Generator::chance(uint32_t per_mille) {
  return below(1000) < per_mille;
}
void Generator::uuid(std::string& out) {
  uint64_t hi = rand();
  format_uuid(hi, rand(), out);
}

// A visitor's stable traits derive from (seed, index) alone; the session id from the half-hour.
void Generator::visitor(uint32_t index, Visitor& v) {
  uint64_t s = config_.seed ^ (0xA0761D6478BD642Full * (index + 1));
  v.index = index;
  uint64_t a = splitmix(s), b = splitmix(s);
  format_uuid(a, b, v.duid);
  a = splitmix(s), b = splitmix(s);
  format_uuid(a, b, v.nuid);
  const uint64_t traits = splitmix(s);
  v.ua = kUserAgents[traits % std::size(kUserAgents)];
  v.ip = kIps[(traits >> 8) % std::size(kIps)];
  v.lang = kLangs[(traits >> 16) % std::size(kLangs)];
  v.tz = kTimezones[(traits >> 24) % std::size(kTimezones)];
  v.res = kResolutions[(traits >> 32) % std::size(kResolutions)];
  v.tracker = kTrackers[(traits >> 40) % std::size(kTrackers)];
  v.mobile = v.ua.find("Mobile") != std::string_view::npos;
  v.uid.clear();
  if ((traits >> 48) % 4 == 0) {
    v.uid = "user-";
    append_uint(v.uid, index);
    v.uid += "@example.com";
  }
  const uint64_t half_hours = static_cast<uint64_t>(now_ms_) / 1800000;
  v.visit = static_cast<uint32_t>(1 + (half_hours + index) % 40);
  uint64_t ss = s ^ (half_hours * 0x9FB21C651E98DF25ull);
  a = splitmix(ss), b = splitmix(ss);
  format_uuid(a, b, v.sid);
}

void Generator::add_param(std::string_view name, std::string_view value) {
  std::string& out = scratch_;
  if (post_mode_) {
    if (!first_param_) out.push_back(',');
    json_string(name, out);
    out.push_back(':');
    json_string(value, out);
  } else {
    if (!first_param_) out.push_back('&');
    out.append(name);
    out.push_back('=');
    percent_encode(value, out);
  }
  first_param_ = false;
}

// Appends one tracked event (query pairs for GET, a JSON object for POST) to scratch_.
void Generator::build_event(const Visitor& v, bool post, std::string& tmp, bool page_view) {
  post_mode_ = post;
  first_param_ = true;
  if (post) scratch_.push_back('{');
  std::string id;
  const uint32_t kind = page_view ? 0 : below(100);  // pv 35, pp 28, se 12, ue 12, tr 6, ti 7
  const char* e = kind < 35   ? "pv"
                  : kind < 63 ? "pp"
                  : kind < 75 ? "se"
                  : kind < 87 ? "ue"
                  : kind < 93 ? "tr"
                              : "ti";
  add_param("e", e);
  const Page& page = kPages[below(std::size(kPages))];
  tmp = "https://shop.example.com";
  tmp += page.path;
  if (chance(150)) {
    const Campaign& c = kCampaigns[below(std::size(kCampaigns))];
    tmp += tmp.find('?') == std::string::npos ? '?' : '&';
    tmp += "utm_source=";
    percent_encode(c.source, tmp);
    tmp += "&utm_medium=";
    percent_encode(c.medium, tmp);
    tmp += "&utm_campaign=";
    percent_encode(c.campaign, tmp);
    if (!c.term.empty()) {
      tmp += "&utm_term=";
      percent_encode(c.term, tmp);
    }
    if (!c.content.empty()) {
      tmp += "&utm_content=";
      percent_encode(c.content, tmp);
    }
    if (c.medium == "cpc" && chance(500))
      tmp += "&gclid=EAIaIQobChMI8vX" + std::to_string(below(99999));
  }
  add_param("url", tmp);
  add_param("page", page.title);
  const uint32_t r = below(100);
  if (r < 30) {
    tmp = kSearchEngines[below(std::size(kSearchEngines))];
    percent_encode(kSearchTerms[below(std::size(kSearchTerms))], tmp);
    add_param("refr", tmp);
  } else if (r < 45) {
    add_param("refr", kOtherReferers[below(std::size(kOtherReferers))]);
  } else if (r < 80) {
    tmp = "https://shop.example.com";
    tmp += kPages[below(std::size(kPages))].path;
    add_param("refr", tmp);
  }
  uuid(id);
  add_param("eid", id);
  add_param("tv", v.tracker);
  add_param("tna", "sp");
  add_param("aid", v.mobile ? "shop-mobile" : "shop");
  add_param("p", "web");
  tmp.clear();
  append_uint(tmp, static_cast<uint64_t>(now_ms_ - below(3000)));
  add_param("dtm", tmp);
  tmp.clear();
  append_uint(tmp, static_cast<uint64_t>(now_ms_ - below(50)));
  add_param("stm", tmp);
  add_param("duid", v.duid);
  add_param("sid", v.sid);
  tmp.clear();
  append_uint(tmp, v.visit);
  add_param("vid", tmp);
  if (!v.uid.empty()) add_param("uid", v.uid);
  add_param("lang", v.lang);
  add_param("tz", v.tz);
  add_param("res", v.res);
  add_param("cs", "UTF-8");
  add_param("cd", "24");
  add_param("cookie", "1");
  add_param("vp", v.mobile ? "390x664" : "1280x649");
  add_param("ds", v.mobile ? "390x3120" : "1265x4180");
  // A web_page entity on most events: plain JSON (co) or base64url (cx), as trackers choose.
  if (chance(800)) {
    uuid(id);
    tmp = kWebPageContext;
    json_string(id, tmp);
    tmp += "}}]}";
    if (chance(500)) {
      add_param("cx", common::base64url_encode(tmp));
    } else {
      add_param("co", tmp);
    }
  }
  switch (e[0] == 'p'   ? (e[1] == 'v' ? 0 : 1)
          : e[0] == 's' ? 2
          : e[0] == 'u' ? 3
          : e[1] == 'r' ? 4
                        : 5) {
    case 1: {  // page ping
      const uint32_t x = below(200), y = below(4000);
      tmp.clear();
      append_uint(tmp, x);
      add_param("pp_mix", tmp);
      tmp.clear();
      append_uint(tmp, x + below(100));
      add_param("pp_max", tmp);
      tmp.clear();
      append_uint(tmp, y);
      add_param("pp_miy", tmp);
      tmp.clear();
      append_uint(tmp, y + below(900));
      add_param("pp_may", tmp);
      break;
    }
    case 2: {  // structured
      static constexpr std::string_view kCats[] = {"video", "newsletter", "product", "search"};
      static constexpr std::string_view kActs[] = {"play", "subscribe", "zoom", "filter"};
      const uint32_t i = below(4);
      add_param("se_ca", kCats[i]);
      add_param("se_ac", kActs[i]);
      if (chance(600)) add_param("se_la", kProducts[below(std::size(kProducts))]);
      if (chance(300)) add_param("se_pr", "autoplay");
      if (chance(500)) {
        tmp.clear();
        append_uint(tmp, below(1000));
        tmp += '.';
        append_uint(tmp, below(10));
        add_param("se_va", tmp);
      }
      break;
    }
    case 3: {  // self-describing: link click or add to cart
      tmp =
          "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
          "\"data\":";
      if (chance(600)) {
        tmp +=
            "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1\","
            "\"data\":{\"targetUrl\":\"https://shop.example.com/products/";
        tmp += kProducts[below(std::size(kProducts))];
        tmp += "\",\"elementId\":\"link-";
        append_uint(tmp, below(50));
        tmp += "\",\"elementClasses\":[\"nav\",\"product-link\"]}}}";
      } else {
        tmp +=
            "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0\","
            "\"data\":{\"sku\":\"";
        tmp += kProducts[below(std::size(kProducts))];
        tmp += "\",\"quantity\":";
        append_uint(tmp, 1 + below(3));
        tmp += ",\"unitPrice\":";
        append_uint(tmp, 5 + below(95));
        tmp += ".99,\"currency\":\"GBP\"}}}";
      }
      if (chance(500)) {
        add_param("ue_px", common::base64url_encode(tmp));
      } else {
        add_param("ue_pr", tmp);
      }
      break;
    }
    case 4:
    case 5: {  // transaction / item
      tmp = "order-";
      append_uint(tmp, ++order_seq_);
      if (e[1] == 'r') {
        add_param("tr_id", tmp);
        add_param("tr_af", "web-shop");
        tmp.clear();
        append_uint(tmp, 10 + below(490));
        tmp += ".00";
        add_param("tr_tt", tmp);
        add_param("tr_tx", "4.17");
        add_param("tr_sh", "3.50");
        add_param("tr_ci", "London");
        add_param("tr_st", "England");
        add_param("tr_co", "UK");
        add_param("tr_cu", "GBP");
      } else {
        add_param("ti_id", tmp);
        const std::string_view sku = kProducts[below(std::size(kProducts))];
        add_param("ti_sk", sku);
        add_param("ti_nm", sku);
        add_param("ti_ca", "mystic");
        tmp.clear();
        append_uint(tmp, 1 + below(99));
        tmp += ".99";
        add_param("ti_pr", tmp);
        tmp.clear();
        append_uint(tmp, 1 + below(4));
        add_param("ti_qu", tmp);
        add_param("ti_cu", "GBP");
      }
      break;
    }
    default:
      break;
  }
  if (post) scratch_.push_back('}');
}

// Request metadata as a stream collector records it (spec 2.4): peer address of the load balancer,
// client address in X-Forwarded-For, the sp cookie rebuilt, the raw content type last.
void Generator::fill_request(const Visitor& v) {
  auto& p = payload_;
  p = event::CollectorPayload{};
  p.ip_address = chance(500) ? std::string(v.ip) : "10.0.3." + std::to_string(1 + below(250));
  p.timestamp = now_ms_;
  p.encoding = "UTF-8";
  p.collector = "ssc-3.4.0-stdout";
  p.user_agent = std::string(v.ua);
  p.hostname = "collector.example.com";
  p.network_user_id = v.nuid;
  std::vector<std::string> h;
  h.reserve(8);
  h.emplace_back("Host: collector.example.com");
  h.emplace_back("User-Agent: " + std::string(v.ua));
  h.emplace_back("Accept: */*");
  h.emplace_back("Accept-Language: " + std::string(v.lang) + ",en;q=0.8");
  if (*p.ip_address != v.ip) h.emplace_back("X-Forwarded-For: " + std::string(v.ip) + ", 10.0.0.1");
  h.emplace_back("Cookie: sp=" + v.nuid);
  p.headers = std::move(h);
}

void Generator::encode_line(GeneratedPayload& out) {
  out.line = common::base64_encode(event::encode_thrift(payload_));
}

void Generator::next(uint32_t max_events, GeneratedPayload& out) {
  if (max_events == 0) max_events = 1;
  now_ms_ += below(120);
  out.malformed = MalformedKind::kNone;
  Visitor v;
  visitor(below(config_.visitors), v);
  fill_request(v);
  std::string tmp;
  if (threshold_ != 0 && (rand() < threshold_ || threshold_ == ~0ull)) {
    malformed(
        static_cast<MalformedKind>(1 + below(static_cast<uint32_t>(MalformedKind::kCount) - 1)), v,
        out);
    out.events = 1;
    return;
  }
  const bool post = chance(550);
  out.post = post;
  scratch_.clear();
  if (post) {
    // A batch as the JS tracker's buffer sends it: 1..10 events in a payload_data envelope.
    uint32_t n = 1 + below(10);
    if (n > max_events) n = max_events;
    scratch_ =
        "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\","
        "\"data\":[";
    for (uint32_t i = 0; i < n; ++i) {
      if (i != 0) scratch_.push_back(',');
      build_event(v, true, tmp, false);
    }
    scratch_ += "]}";
    payload_.path = "/com.snowplowanalytics.snowplow/tp2";
    payload_.body = scratch_;
    payload_.content_type = "application/json; charset=utf-8";
    payload_.headers->emplace_back("Origin: https://shop.example.com");
    payload_.headers->emplace_back("application/json; charset=UTF-8");
    out.events = n;
  } else {
    build_event(v, false, tmp, false);
    payload_.path = chance(700) ? "/i" : "/com.snowplowanalytics.snowplow/tp2";
    payload_.querystring = scratch_;
    out.events = 1;
  }
  // Browsers send the page as Referer; enrich uses it only when `url` is absent.
  payload_.referer_uri = "https://shop.example.com/";
  payload_.headers->insert(payload_.headers->begin() + 2, "Referer: https://shop.example.com/");
  encode_line(out);
}

// Breaks a page view in one way. The base event is always a page view so that the damage is the
// only thing wrong with it (no ue_px that could shadow a broken ue_pr, and so on).
void Generator::malformed(MalformedKind kind, const Visitor& v, GeneratedPayload& out) {
  out.malformed = kind;
  out.post = false;
  std::string tmp;
  scratch_.clear();
  auto get_event = [&] {
    payload_.path = "/i";
    build_event(v, false, tmp, true);
  };
  switch (kind) {
    case MalformedKind::kInvalidBase64: {
      get_event();
      payload_.querystring = scratch_;
      encode_line(out);
      out.line.insert(out.line.size() / 2, "*!");
      return;
    }
    case MalformedKind::kTruncatedThrift: {
      get_event();
      payload_.querystring = scratch_;
      const std::string bytes = event::encode_thrift(payload_);
      out.line = common::base64_encode(
          std::string_view(bytes).substr(0, below(static_cast<uint32_t>(bytes.size()))));
      return;
    }
    case MalformedKind::kBadQuerystring:
      get_event();
      scratch_ += "&se_la=two words{x}";
      payload_.querystring = scratch_;
      break;
    case MalformedKind::kBadNetworkUserId:
      get_event();
      payload_.querystring = scratch_;
      payload_.network_user_id = "not-a-uuid-" + std::to_string(below(100000));
      break;
    case MalformedKind::kUnknownPath:
      get_event();
      payload_.path = "/com.acme/v9";
      payload_.querystring = scratch_;
      break;
    case MalformedKind::kWrongContentType:
    case MalformedKind::kInvalidJsonBody:
    case MalformedKind::kEmptyBody: {
      post_mode_ = true;
      scratch_ =
          "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\","
          "\"data\":[";
      build_event(v, true, tmp, true);
      scratch_ += "]}";
      payload_.path = "/com.snowplowanalytics.snowplow/tp2";
      payload_.content_type = "application/json; charset=utf-8";
      if (kind == MalformedKind::kWrongContentType) {
        payload_.content_type = "text/plain";
        payload_.body = scratch_;
      } else if (kind == MalformedKind::kInvalidJsonBody) {
        payload_.body = scratch_.substr(0, scratch_.size() / 2);
      }
      payload_.headers->emplace_back(*payload_.content_type);
      break;
    }
    case MalformedKind::kBadEventType:
      get_event();
      scratch_.replace(0, 4, "e=xx");  // every event starts with e=pv / e=pp / ...
      payload_.querystring = scratch_;
      break;
    case MalformedKind::kBadEventId:
      get_event();
      scratch_ += "&eid=12345";  // last occurrence wins
      payload_.querystring = scratch_;
      break;
    case MalformedKind::kBadTimestamp:
      get_event();
      scratch_ += "&dtm=yesterday";
      payload_.querystring = scratch_;
      break;
    case MalformedKind::kBadUnstructJson:
      get_event();
      scratch_.replace(0, 4, "e=ue");
      scratch_ += "&ue_pr=%7B%22schema%22%3A%22iglu%3Acom.acme%2Fx%2Fjsonschema%2F1-0-0";
      payload_.querystring = scratch_;
      break;
    default:
      break;
  }
  encode_line(out);
}

}  // namespace furrow::sources
