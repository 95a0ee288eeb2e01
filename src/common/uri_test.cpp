#include "common/uri.h"

#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace furrow {
namespace {

struct Split {
  std::string scheme, host;
  int port;
  std::string path, query, fragment;  // "<null>" for absent
};

Split split(std::string_view url, std::string* normalized = nullptr) {
  UriParser p;
  UriParts parts;
  std::string err;
  EXPECT_TRUE(p.parse(url, parts, err)) << url << ": " << err;
  auto s = [](const std::optional<std::string_view>& v) {
    return v ? std::string(*v) : std::string("<null>");
  };
  if (normalized) *normalized = p.normalized();
  return {s(parts.scheme), s(parts.host),  effective_port(parts),
          s(parts.path),   s(parts.query), s(parts.fragment)};
}

TEST(Uri, SplitsLikeJavaNetUri) {
  // TV-21 and spec 4.3 examples.
  Split a = split("https://snowplow.io/");
  EXPECT_EQ(a.scheme, "https");
  EXPECT_EQ(a.host, "snowplow.io");
  EXPECT_EQ(a.port, 443);
  EXPECT_EQ(a.path, "/");
  EXPECT_EQ(a.query, "<null>");
  EXPECT_EQ(a.fragment, "<null>");
  Split b = split(
      "http://www.psychicbazaar.com/2-tarot-cards/genre/native%20american/type/all/view/"
      "list?utm_source=GoogleSearch");
  EXPECT_EQ(b.path, "/2-tarot-cards/genre/native%20american/type/all/view/list");
  EXPECT_EQ(b.port, 80);
  EXPECT_EQ(b.query, "utm_source=GoogleSearch");
  std::string norm;
  Split c = split("http://example.com:8080/a b", &norm);
  EXPECT_EQ(norm, "http://example.com:8080/a%20b");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.path, "/a%20b");
  // Leading, trailing and repeated spaces, in every part.
  Split c2 = split("http://example.com/ a  b?q= x #f g ", &norm);
  EXPECT_EQ(norm, "http://example.com/%20a%20%20b?q=%20x%20#f%20g%20");
  EXPECT_EQ(c2.path, "/%20a%20%20b");
  EXPECT_EQ(c2.query, "q=%20x%20");
  EXPECT_EQ(c2.fragment, "f%20g%20");
  Split d = split(
      "http://www.psychicbazaar.com/crystals/335-howlite-tumble-stone.html?view=print#detail");
  EXPECT_EQ(d.query, "view=print");
  EXPECT_EQ(d.fragment, "detail");
  Split e = split("https://www.google.co.uk/url?sa=t&rct=j");
  EXPECT_EQ(e.port, 443);
  EXPECT_EQ(e.query, "sa=t&rct=j");
}

// Parses `url` with the authority memo holding other authorities only (a cold parse), then again (a
// memo hit when the first succeeded); both must give the same outcome, parts and error.
void expect_memo_agrees(const std::string& url) {
  auto run = [](const std::string& u, std::string& error) {
    UriParser p;
    UriParts parts;
    const bool ok = p.parse(u, parts, error);
    auto s = [](const std::optional<std::string_view>& v) {
      return v ? "[" + std::string(*v) + "]" : std::string("<null>");
    };
    return std::to_string(ok) + s(parts.scheme) + s(parts.host) + std::to_string(parts.port) +
           s(parts.path) + s(parts.query) + s(parts.fragment) + p.normalized();
  };
  std::string e0, e1, e2;
  for (int i = 0; i < 4; ++i) run("http://memo-reset" + std::to_string(i) + ".invalid:1/", e0);
  const std::string cold = run(url, e1);
  const std::string warm = run(url, e2);
  EXPECT_EQ(cold, warm) << url;
  EXPECT_EQ(e1, e2) << url;
}

TEST(Uri, AuthorityMemoGivesTheSamePartsAsAColdParse) {
  const std::vector<std::string> authorities = {"shop.example.com",
                                                "shop.example.com:8080",
                                                "user:pw@shop.example.com:80",
                                                "[::1]:8443",
                                                "[fe80::1%25eth0]",
                                                "10.0.0.1",
                                                "10.0.0.256",
                                                "1.2.3",
                                                "a_b.example",
                                                "-bad-.example",
                                                "example.com:",
                                                "example.com:99999999999",
                                                "example.com:8x",
                                                "@host",
                                                "ho st",
                                                "h%41st.example",
                                                "xn--bcher-kva.example",
                                                "EXAMPLE.COM.",
                                                "a..b",
                                                "[::1",
                                                "[zz::1]",
                                                "host:80:90",
                                                "",
                                                "\xC3\xA9t\xC3\xA9.example"};
  std::mt19937 rng(3);
  const std::string alphabet = "az09.-_:@[]%~!$&'()*+,;= ";
  std::vector<std::string> all = authorities;
  for (int i = 0; i < 400; ++i) {
    std::string a = authorities[rng() % authorities.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const char c = alphabet[rng() % alphabet.size()];
      if (a.empty() || rng() % 2 == 0) {
        a.insert(a.empty() ? 0 : rng() % (a.size() + 1), 1, c);
      } else {
        a[rng() % a.size()] = c;
      }
    }
    all.push_back(a);
  }
  for (const auto& a : all) {
    for (const std::string& rest :
         {std::string("/"), std::string("/p/a/t/h?q=1#f"), std::string(""), std::string("?x=y")}) {
      expect_memo_agrees("https://" + a + rest);
      if (::testing::Test::HasFailure()) return;
    }
  }
  // The memo keeps the host's place in the authority, not in the URL: one authority behind
  // schemes of different lengths.
  expect_memo_agrees("http://user@shop.example.com:81/a");
  expect_memo_agrees("https://user@shop.example.com:81/a");
  const Split a = split("http://user@shop.example.com:81/a");
  const Split b = split("https://user@shop.example.com:81/b");
  EXPECT_EQ(a.host, "shop.example.com");
  EXPECT_EQ(b.host, "shop.example.com");
  EXPECT_EQ(b.port, 81);
}

// UriParser::parse (path, query and the authority's end scanned in 16-byte blocks) against
// detail::parse_uri_bytewise (every byte through the class table): outcome, error, normalized
// text and every part.
void expect_same_as_bytewise(const std::string& url) {
  UriParser fast;
  UriParts a;
  std::string a_error;
  const bool a_ok = fast.parse(url, a, a_error);
  UriParts b;
  std::string b_text, b_error;
  const bool b_ok = detail::parse_uri_bytewise(url, b, b_text, b_error);
  auto s = [](const std::optional<std::string_view>& v) {
    return v ? "[" + std::string(*v) + "]" : std::string("<null>");
  };
  ASSERT_EQ(a_ok, b_ok) << url << ": " << a_error << " / " << b_error;
  ASSERT_EQ(a_error, b_error) << url;
  if (!a_ok) return;
  ASSERT_EQ(fast.normalized(), b_text) << url;
  ASSERT_EQ(s(a.scheme), s(b.scheme)) << url;
  ASSERT_EQ(s(a.host), s(b.host)) << url;
  ASSERT_EQ(a.port, b.port) << url;
  ASSERT_EQ(s(a.path), s(b.path)) << url;
  ASSERT_EQ(s(a.query), s(b.query)) << url;
  ASSERT_EQ(s(a.fragment), s(b.fragment)) << url;
}

TEST(Uri, BlockScansAgreeWithTheByteLoopsForEveryByteAtEveryOffset) {
  // Runs of bytes of both classes (every printable byte each class has, '?' '[' ']' only in the
  // query), so that blocks of only class bytes are skipped whole.
  const std::string path_bytes = "azAZ09-_.!~*'();:@&=+$,/";
  const std::string query_bytes = path_bytes + "?[]";
  auto run = [](const std::string& bytes, std::size_t n, std::size_t shift) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(bytes[(i + shift) % bytes.size()]);
    return out;
  };
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    for (std::size_t at = 0; at < 40; ++at) {
      std::string path = run(path_bytes, 40, at);
      path[at] = one[0];
      expect_same_as_bytewise("http://a.example.com/" + path + "?" + run(query_bytes, 20, at) +
                              "#f");
      std::string query = run(query_bytes, 40, at);
      query[at] = one[0];
      expect_same_as_bytewise("http://a.example.com/" + run(path_bytes, 20, at) + "?" + query +
                              "#f");
      // The authority's end: the byte inside a long host.
      std::string host = run("abcdefghij.", 40, at);
      host[at] = one[0];
      expect_same_as_bytewise("https://" + host + "/x?y");
      if (::testing::Test::HasFailure()) return;
    }
  }
  // Escapes, broken escapes and UTF-8 (visible, invisible, invalid) straddling every block
  // boundary of both components.
  const std::vector<std::string> pieces = {"%41",
                                           "%4",
                                           "%",
                                           "%zz",
                                           "%%41",
                                           "\xC3\xA9",
                                           "\xE2\x82\xAC",
                                           "\xC2\xA0",
                                           "\xE2\x80\xA8",
                                           "\xF0\x9F\x98\x80",
                                           "\xC3",
                                           "\xA9",
                                           "\xED\xA0\x80",
                                           " ",
                                           "#",
                                           "?",
                                           "\x7F",
                                           "|",
                                           "[",
                                           "]"};
  for (const auto& piece : pieces) {
    for (std::size_t at = 0; at < 40; ++at) {
      std::string path = run(path_bytes, 40, 0);
      path.insert(at, piece);
      expect_same_as_bytewise("http://a.example.com/" + path + "?" + run(query_bytes, 40, 0));
      std::string query = run(query_bytes, 40, 0);
      query.insert(at, piece);
      expect_same_as_bytewise("http://a.example.com/" + run(path_bytes, 40, 0) + "?" + query + "#" +
                              piece);
      expect_same_as_bytewise("/" + path + "?" + query);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(Uri, BlockScansAgreeWithTheByteLoopsOnRandomUrls) {
  std::mt19937 rng(11);
  const std::vector<std::string> pieces = {"a",        "Z",    "7",    "-",
                                           "_",        ".",    "~",    "!",
                                           "*",        "'",    "(",    ")",
                                           ";",        ":",    "@",    "&",
                                           "=",        "+",    "$",    ",",
                                           "/",        "?",    "#",    "[",
                                           "]",        "%41",  "%",    "%g1",
                                           " ",        "\"",   "<",    ">",
                                           "\\",       "^",    "`",    "{",
                                           "|",        "}",    "\x7F", "\x01",
                                           "\xC3\xA9", "\xC3", "\xA0", "\xE2\x80\xA8",
                                           "abcdefgh", "/p/",  "?q",   "=v&",
                                           "%E2%82%AC"};
  const std::vector<std::string> starts = {"http://shop.example.com",
                                           "https://u@h.example:8080",
                                           "http://[::1]",
                                           "",
                                           "mailto:",
                                           "http://"};
  for (int i = 0; i < 6000; ++i) {
    std::string url = starts[rng() % starts.size()];
    const int n = static_cast<int>(rng() % 60);
    for (int k = 0; k < n; ++k) url += pieces[rng() % pieces.size()];
    expect_same_as_bytewise(url);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(Uri, PortDefaultsAndOddHosts) {
  EXPECT_EQ(split("HTTPS://a.example/").port, 80);  // only the exact lower-case "https" gets 443
  EXPECT_EQ(split("android-app://com.example.app/path").port, 80);
  EXPECT_EQ(split("file:///Users/x/a.html").host, "<null>");
  EXPECT_EQ(split("file:///Users/x/a.html").path, "/Users/x/a.html");
  // An underscore makes the authority registry-based: no host, as java.net.URI.
  EXPECT_EQ(split("http://exa_mple.com/x").host, "<null>");
  EXPECT_EQ(split("http://[::1]:8080/x").host, "[::1]");
  EXPECT_EQ(split("http://[::1]:8080/x").port, 8080);
  EXPECT_EQ(split("http://user@1.2.3.4:81/").host, "1.2.3.4");
  EXPECT_EQ(split("http://host:/p").port, 80);
  Split opaque = split("mailto:someone@example.com");
  EXPECT_EQ(opaque.scheme, "mailto");
  EXPECT_EQ(opaque.path, "<null>");
  Split rel = split("/just/a/path?q=1");
  EXPECT_EQ(rel.scheme, "<null>");
  EXPECT_EQ(rel.path, "/just/a/path");
  EXPECT_EQ(split("http://example.com/caf\xC3\xA9").path,
            "/caf\xC3\xA9");  // visible non-ASCII kept
}

TEST(Uri, FallsBackToReencodingIllegalCharacters) {
  std::string norm;
  Split a = split("http://example.com/a|b?x={1}&y=\"z\"#f#g", &norm);
  EXPECT_EQ(norm, "http://example.com/a%7Cb?x=%7B1%7D&y=%22z%22#f%23g");
  EXPECT_EQ(a.query, "x=%7B1%7D&y=%22z%22");
  Split b = split("http://example.com/100%", &norm);
  EXPECT_EQ(b.path, "/100%25");
  Split c = split("http://example.com/a+b%2", &norm);
  EXPECT_EQ(norm, "http://example.com/a+b%252");
}

// Illegal characters and malformed escapes next to the '?' and '#' that end the path and the
// query: the first parse must fail (or not) exactly where java.net.URI does, which shows in
// whether the lenient re-encoding ran (the normalized text) and in the error when both fail.
TEST(Uri, PathAndQueryEndAtTheirDelimitersOnly) {
  struct Case {
    const char* url;
    const char* normalized;  // "" when the parse fails
  };
  const Case cases[] = {
      {"http://a.com/p%4?q", "http://a.com/p%254?q"},
      {"http://a.com/p%41?q%4#f", "http://a.com/p%41?q%254#f"},
      {"http://a.com/p|?q", "http://a.com/p%7C?q"},
      {"http://a.com/p?q|#f", "http://a.com/p?q%7C#f"},
      {"http://a.com/p?q?r/s:t#f?#", "http://a.com/p?q?r/s:t#f?%23"},
      {"http://a.com/p#?x", "http://a.com/p#?x"},
      {"http://a.com/\xC3\xA9?\xE2\x82\xAC#\xC3\xA9",
       "http://a.com/\xC3\xA9?\xE2\x82\xAC#\xC3\xA9"},
      {"http://a.com/a%zz?b", "http://a.com/a%25zz?b"},
      {"http://a.com/?", "http://a.com/?"},
      {"http://a.com/%", "http://a.com/%25"},
      {"http://a.com?%#", "http://a.com?%25#"},
      {"/rel%2?x#y", "/rel%252?x#y"},
      {"http://[::1/x?y%", ""},
  };
  for (const auto& c : cases) {
    UriParser p;
    UriParts parts;
    std::string err;
    const bool ok = p.parse(c.url, parts, err);
    EXPECT_EQ(ok ? p.normalized() : std::string(), c.normalized) << c.url << ": " << err;
  }
  UriParser p;
  UriParts parts;
  std::string err;
  ASSERT_FALSE(p.parse("http://[::1/x?y%", parts, err));
  EXPECT_EQ(err, "Expected closing bracket for IPv6 address at index 11: http://[::1/x?y%");
}

TEST(Uri, RejectsWhatCannotBeRepaired) {
  UriParser p;
  UriParts parts;
  std::string err;
  EXPECT_FALSE(p.parse("http://[::1/x", parts, err));
  EXPECT_NE(err.find("index"), std::string::npos) << err;
  // A bad port makes the authority registry-based (no host) rather than an error, as in Java.
  EXPECT_TRUE(p.parse("http://a.com:80x/", parts, err));
  EXPECT_FALSE(parts.host.has_value());
  EXPECT_FALSE(p.parse(":nothing", parts, err));
  EXPECT_FALSE(p.parse("http://", parts, err));
}

// The last pair of a name, against the full parse (last occurrence wins, as a map would), on
// random queries of names that decode to it in different ways.
TEST(Uri, FindsTheLastQueryValueLikeTheFullParse) {
  const char* const names[] = {"_sp",  "%5Fsp", "%5fsp",    "_s%70", " _sp", "_sp\t",
                               "+_sp", "_sp+",  "_SP",      "sp",    "_sp_", "a",
                               "",     "%",     "\xC3\x28", "_s"};
  const char* const values[] = {"", "=", "=abc.123", "= x+y ", "=%41%zz", "==1", "=\xFF", "=a;b"};
  const char* const seps[] = {"&", ";", "&&", "&;"};
  std::mt19937 rng(7);
  int found = 0, missing = 0;
  for (int n = 0; n < 5000; ++n) {
    std::string q;
    const int pairs = static_cast<int>(rng() % 5);
    for (int k = 0; k < pairs; ++k) {
      if (k) q += seps[rng() % std::size(seps)];
      q += names[rng() % std::size(names)];
      q += values[rng() % std::size(values)];
    }
    QueryPairs all;
    parse_query(q, all);
    const std::optional<std::string>* want = nullptr;
    for (const auto& [name, value] : all) {
      if (name == "_sp") want = &value;
    }
    std::optional<std::string> got = "untouched";
    const bool ok = find_last_query_value(q, "_sp", got);
    ASSERT_EQ(ok, want != nullptr) << q;
    if (ok) {
      ASSERT_EQ(got, *want) << q;
      ++found;
    } else {
      ASSERT_EQ(got, std::optional<std::string>("untouched")) << q;
      ++missing;
    }
  }
  EXPECT_GT(found, 1000);
  EXPECT_GT(missing, 1000);
}

TEST(Uri, ParsesQueryStringsLikeUrlEncodedUtils) {
  QueryPairs q;
  parse_query("a=1&b=x+y%20z;c&&=v&d=%E2%82%AC&e=%zz&a=2", q);
  ASSERT_EQ(q.size(), 6u);
  EXPECT_EQ(q[0].first, "a");
  EXPECT_EQ(*q[0].second, "1");
  EXPECT_EQ(*q[1].second, "x y z");
  EXPECT_EQ(q[2].first, "c");
  EXPECT_FALSE(q[2].second.has_value());
  EXPECT_EQ(*q[3].second, "\xE2\x82\xAC");
  EXPECT_EQ(*q[4].second, "%zz");
  EXPECT_EQ(*q[5].second, "2");
  std::string out;
  form_decode("%FF", out);
  EXPECT_EQ(out, "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace furrow
