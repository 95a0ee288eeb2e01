// The SPA's files, bundled from web/ by esbuild at build time and embedded by
// src/dashboard/CMakeLists.txt (generated web_assets.cpp). Names are relative to the base path:
// "index.html", "assets/app.js", "assets/app.css".
#pragma once

#include <span>
#include <string_view>

namespace furrow::dashboard {

struct WebAsset {
  std::string_view name;
  std::string_view content_type;
  std::string_view data;
};

std::span<const WebAsset> web_assets();

}  // namespace furrow::dashboard
