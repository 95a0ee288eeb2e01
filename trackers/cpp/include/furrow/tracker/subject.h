// Who and where an event comes from. A Subject is a plain value: copy it, change it, hand it to
// a Tracker (Tracker::set_subject) or to one event (per-event override).
#pragma once

#include <optional>
#include <string>

namespace furrow::tracker {

struct Subject {
  std::string user_id;   // uid
  std::string platform;  // p; overrides the tracker's platform when set
  int screen_width = 0;  // res (with screen_height; both > 0 to be sent)
  int screen_height = 0;
  int viewport_width = 0;  // vp
  int viewport_height = 0;
  int color_depth = 0;          // cd
  std::string language;         // lang, e.g. "en-GB"
  std::string timezone;         // tz, e.g. "Europe/London"
  std::string ip_address;       // ip; overrides the collector's view of the client address
  std::string useragent;        // ua; overrides the User-Agent header
  std::string domain_user_id;   // duid
  std::string network_user_id;  // tnuid; overrides the collector cookie

  Subject& set_user_id(std::string v) {
    user_id = std::move(v);
    return *this;
  }
  Subject& set_platform(std::string v) {
    platform = std::move(v);
    return *this;
  }
  Subject& set_screen_resolution(int w, int h) {
    screen_width = w;
    screen_height = h;
    return *this;
  }
  Subject& set_viewport(int w, int h) {
    viewport_width = w;
    viewport_height = h;
    return *this;
  }
  Subject& set_color_depth(int v) {
    color_depth = v;
    return *this;
  }
  Subject& set_language(std::string v) {
    language = std::move(v);
    return *this;
  }
  Subject& set_timezone(std::string v) {
    timezone = std::move(v);
    return *this;
  }
  Subject& set_ip_address(std::string v) {
    ip_address = std::move(v);
    return *this;
  }
  Subject& set_useragent(std::string v) {
    useragent = std::move(v);
    return *this;
  }
  Subject& set_domain_user_id(std::string v) {
    domain_user_id = std::move(v);
    return *this;
  }
  Subject& set_network_user_id(std::string v) {
    network_user_id = std::move(v);
    return *this;
  }
};

}  // namespace furrow::tracker
