#include "assets/pixel.h"

#include <string_view>

#include "common/decimal.h"
#include "common/url_codec.h"
#include "furrow/version.h"

namespace furrow::assets {
namespace {

void add(std::string& url, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  url += url.back() == '?' ? "" : "&";
  url += name;
  url += '=';
  url += common::url_encode(value);
}

// The collector's scheme and authority; anything beyond a bare trailing '/' is refused because
// the pixel endpoint /i lives at the collector's root.
Result<std::string> collector_base(std::string_view in) {
  std::string_view rest;
  if (in.starts_with("https://")) {
    rest = in.substr(8);
  } else if (in.starts_with("http://")) {
    rest = in.substr(7);
  } else {
    return Error{"--collector must start with http:// or https:// (got '" + std::string(in) + "')"};
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty()) return Error{"--collector has no host"};
  for (char c : rest) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) {
      return Error{
          "--collector must be scheme://host[:port] without path, query or user info (got '" +
          std::string(in) + "')"};
    }
  }
  return std::string(in.substr(0, in.size() - (in.ends_with('/') ? 1 : 0)));
}

std::string html_attribute(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 16);
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

Result<Pixel> build_pixel(const PixelRequest& r) {
  auto base = collector_base(r.collector);
  if (!base) return base.error();
  if (r.app_id.empty()) return Error{"--app-id is required"};
  std::string value;
  if (r.structured) {
    if (r.category.empty() || r.action.empty()) {
      return Error{"a structured event (--event se) needs --category and --action"};
    }
    if (r.value) {
      std::string why;
      if (!java_decimal(*r.value, value, why)) {
        return Error{"--value '" + *r.value + "' is not a decimal number: " + why};
      }
    }
  }
  Pixel p;
  p.url = *base + "/i?";
  add(p.url, "e", r.structured ? "se" : "pv");
  add(p.url, "aid", r.app_id);
  add(p.url, "p", "web");
  add(p.url, "tv", std::string("furrow-pixel-") + kVersion);
  add(p.url, "tna", r.tracker_namespace);
  add(p.url, "uid", r.user_id);
  add(p.url, "url", r.page_url);
  add(p.url, "page", r.page_title);
  if (r.structured) {
    add(p.url, "se_ca", r.category);
    add(p.url, "se_ac", r.action);
    add(p.url, "se_la", r.label);
    add(p.url, "se_pr", r.property);
    add(p.url, "se_va", value);
  }
  p.img_tag = "<img src=\"" + html_attribute(p.url) +
              "\" width=\"1\" height=\"1\" alt=\"\" style=\"border:0;width:1px;height:1px\">";
  return p;
}

}  // namespace furrow::assets
