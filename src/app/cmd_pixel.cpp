// `furrow pixel`: the email tracking pixel, an <img> tag and its raw tp1 URL (docs/pixel.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "app/commands.h"
#include "assets/pixel.h"

namespace furrow::app {

namespace {
struct PixelOptions {
  assets::PixelRequest request;
  std::string event = "pv";
  std::string value;
  bool url_only = false;
};

int run_pixel(PixelOptions& o) {
  if (o.event != "pv" && o.event != "se") {
    std::fprintf(stderr, "furrow pixel: --event must be pv or se (got '%s')\n", o.event.c_str());
    return kExitUsage;
  }
  o.request.structured = o.event == "se";
  if (!o.value.empty()) o.request.value = o.value;
  auto pixel = assets::build_pixel(o.request);
  if (!pixel) {
    std::fprintf(stderr, "furrow pixel: %s\n", pixel.error().message.c_str());
    return kExitUsage;
  }
  if (o.url_only) {
    std::printf("%s\n", pixel->url.c_str());
  } else {
    std::printf("%s\n%s\n", pixel->img_tag.c_str(), pixel->url.c_str());
  }
  return kExitOk;
}
}  // namespace

void register_pixel(CLI::App& root) {
  auto opts = std::make_shared<PixelOptions>();
  auto* cmd = root.add_subcommand(
      "pixel",
      "Print an email tracking pixel: an <img> tag, then its raw tp1 URL. Every load of the image "
      "records one event (no event id in the URL, see docs/pixel.md)");
  auto& r = opts->request;
  cmd->add_option("--collector", r.collector, "Collector base URL, e.g. https://c.example.com")
      ->required();
  cmd->add_option("--app-id", r.app_id, "Application id (aid)")->required();
  cmd->add_option("--event", opts->event, "pv (page view, default) or se (structured event)");
  cmd->add_option("--page", r.page_title, "Page title (page)");
  cmd->add_option("--url", r.page_url, "Page URL (url)");
  cmd->add_option("--category", r.category, "se: category (se_ca), required with --event se");
  cmd->add_option("--action", r.action, "se: action (se_ac), required with --event se");
  cmd->add_option("--label", r.label, "se: label (se_la)");
  cmd->add_option("--property", r.property, "se: property (se_pr)");
  cmd->add_option("--value", opts->value, "se: value (se_va), a decimal number");
  cmd->add_option("--user-id", r.user_id, "User id (uid)");
  cmd->add_option("--namespace", r.tracker_namespace, "Tracker namespace (tna); default pixel");
  cmd->add_flag("--url-only", opts->url_only, "Print only the URL");
  cmd->callback([opts] { exit_code() = run_pixel(*opts); });
}

}  // namespace furrow::app
