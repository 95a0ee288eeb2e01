// The email pixel: a tp1 GET URL (spec §1.1, §2.1 `/i`) and an <img> tag that records one event
// each time a mail client loads the image.
//
// The URL deliberately carries no event id (eid) and no device timestamps: it is fixed when the
// mail is sent but fetched once per open (and again by forwards and image proxies). A fixed eid
// would give every open the same event_id, so deduplicating loaders would keep only the first;
// without it, enrich assigns a fresh id per request and collector_tstamp times each open.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"

namespace furrow::assets {

struct PixelRequest {
  std::string collector;  // base URL: http(s)://host[:port] with an optional trailing '/'
  std::string app_id;     // aid (required)
  std::string tracker_namespace = "pixel";  // tna; empty leaves it out
  // Page view (e=pv) unless `structured` is set.
  std::string page_title;  // page
  std::string page_url;    // url
  // Structured event (e=se): category and action are required.
  bool structured = false;
  std::string category;
  std::string action;
  std::string label;
  std::string property;
  std::optional<std::string> value;  // se_va; must be a decimal number
  std::string user_id;               // uid
};

struct Pixel {
  std::string url;      // the full tp1 URL
  std::string img_tag;  // an HTML <img> element loading it, attribute-escaped
};

// Builds the pixel, or an error naming the bad field (collector URL, missing app id, missing
// category/action, non-decimal value). Parameter values are percent-encoded like
// encodeURIComponent (so '+' is %2B and space %20, spec §1.1), empty values are left out.
Result<Pixel> build_pixel(const PixelRequest& request);

}  // namespace furrow::assets
