#include "assets/pixel.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/url_codec.h"
#include "furrow/version.h"

namespace furrow::assets {
namespace {

// The decoded query parameters of a pixel URL, checking the URL shape on the way.
std::map<std::string, std::string> params_of(const std::string& url, const std::string& base) {
  EXPECT_TRUE(url.starts_with(base + "/i?")) << url;
  common::QueryPairs pairs;
  common::parse_query_string(std::string_view(url).substr(base.size() + 3), pairs);
  std::map<std::string, std::string> out;
  for (auto& [k, v] : pairs) {
    EXPECT_TRUE(v.has_value()) << k;
    EXPECT_TRUE(out.emplace(k, v.value_or("")).second) << "duplicate " << k;
  }
  return out;
}

TEST(Pixel, PageViewCarriesTheTp1Parameters) {
  PixelRequest r;
  r.collector = "https://c.example.com/";
  r.app_id = "newsletter";
  r.page_title = "Spring issue";
  auto p = build_pixel(r);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto q = params_of(p->url, "https://c.example.com");
  EXPECT_EQ(q.at("e"), "pv");
  EXPECT_EQ(q.at("aid"), "newsletter");
  EXPECT_EQ(q.at("p"), "web");
  EXPECT_EQ(q.at("tv"), std::string("furrow-pixel-") + kVersion);
  EXPECT_EQ(q.at("tna"), "pixel");
  EXPECT_EQ(q.at("page"), "Spring issue");
  // Fetched once per open: no event id and no device timestamps baked into the URL.
  EXPECT_EQ(q.count("eid"), 0u);
  EXPECT_EQ(q.count("dtm"), 0u);
  EXPECT_EQ(q.count("stm"), 0u);
  EXPECT_EQ(q.count("se_ca"), 0u);
  EXPECT_EQ(p->url.find(' '), std::string::npos);
}

TEST(Pixel, EncodesLikeEncodeURIComponent) {
  PixelRequest r;
  r.collector = "http://127.0.0.1:8080";
  r.app_id = "a&b=c";
  r.page_title = "1+1 = 2 Grüße \"<x>\" #5 / 100%";
  auto p = build_pixel(r);
  ASSERT_TRUE(p.ok()) << p.error().message;
  // '+' must be %2B (enrich decodes '+' as a space), space %20, UTF-8 bytes as upper-case %XX.
  EXPECT_NE(p->url.find("&aid=a%26b%3Dc&"), std::string::npos) << p->url;
  EXPECT_NE(
      p->url.find("page=1%2B1%20%3D%202%20Gr%C3%BC%C3%9Fe%20%22%3Cx%3E%22%20%235%20%2F%20100%25"),
      std::string::npos)
      << p->url;
  auto q = params_of(p->url, "http://127.0.0.1:8080");
  EXPECT_EQ(q.at("aid"), "a&b=c");
  EXPECT_EQ(q.at("page"), r.page_title);
  // Only unreserved characters and the separators remain raw, so the whole query is a valid URI
  // query for enrich (spec §1.1).
  for (char c : p->url.substr(p->url.find('?') + 1)) {
    const bool raw_ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                        c == '.' || c == '~' || c == '%' || c == '&' || c == '=';
    EXPECT_TRUE(raw_ok) << "raw '" << c << "' in " << p->url;
  }
}

TEST(Pixel, StructuredEvent) {
  PixelRequest r;
  r.collector = "https://c.example.com";
  r.app_id = "mail";
  r.structured = true;
  r.category = "email";
  r.action = "open";
  r.label = "campaign 7";
  r.property = "variant-b";
  r.value = "1E+3";
  r.user_id = "user@example.com";
  r.tracker_namespace = "";
  auto p = build_pixel(r);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto q = params_of(p->url, "https://c.example.com");
  EXPECT_EQ(q.at("e"), "se");
  EXPECT_EQ(q.at("se_ca"), "email");
  EXPECT_EQ(q.at("se_ac"), "open");
  EXPECT_EQ(q.at("se_la"), "campaign 7");
  EXPECT_EQ(q.at("se_pr"), "variant-b");
  EXPECT_EQ(q.at("se_va"), "1000");  // as enrich's BigDecimal would store it
  EXPECT_EQ(q.at("uid"), "user@example.com");
  EXPECT_EQ(q.count("tna"), 0u);
  EXPECT_EQ(q.count("page"), 0u);
}

TEST(Pixel, ImgTagEscapesTheUrl) {
  PixelRequest r;
  r.collector = "https://c.example.com";
  r.app_id = "mail";
  r.page_title = "x";
  auto p = build_pixel(r);
  ASSERT_TRUE(p.ok());
  std::string escaped = p->url;
  for (std::size_t i = 0; (i = escaped.find('&', i)) != std::string::npos; i += 5) {
    escaped.replace(i, 1, "&amp;");
  }
  EXPECT_EQ(p->img_tag,
            "<img src=\"" + escaped +
                "\" width=\"1\" height=\"1\" alt=\"\" style=\"border:0;width:1px;height:1px\">");
  EXPECT_EQ(p->img_tag.find("&e="), std::string::npos);
}

TEST(Pixel, RefusesBadInput) {
  auto error_of = [](PixelRequest r) {
    auto p = build_pixel(r);
    EXPECT_FALSE(p.ok());
    return p.ok() ? std::string() : p.error().message;
  };
  PixelRequest r;
  r.app_id = "a";
  for (const char* bad :
       {"", "c.example.com", "ftp://c.example.com", "https://", "https://c/i",
        "https://u:p@c.example.com", "https://c.example.com?x=1", "https://c.example.com/ x"}) {
    r.collector = bad;
    EXPECT_NE(error_of(r).find("--collector"), std::string::npos) << bad;
  }
  r.collector = "https://c.example.com";
  r.app_id = "";
  EXPECT_NE(error_of(r).find("--app-id"), std::string::npos);
  r.app_id = "a";
  r.structured = true;
  r.category = "c";
  EXPECT_NE(error_of(r).find("--action"), std::string::npos);
  r.action = "a";
  r.value = "12,5";
  EXPECT_NE(error_of(r).find("--value"), std::string::npos);
  r.value = "12.50";
  auto p = build_pixel(r);
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->url.find("&se_va=12.50"), std::string::npos);
}

}  // namespace
}  // namespace furrow::assets
