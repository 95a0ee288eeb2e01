// Files furrow serves, embedded in the binary at build time (src/assets/CMakeLists.txt).
#pragma once

#include <string_view>

namespace furrow::assets {

// The minified sp.js browser tracker (trackers/js), as served at /sp.js.
std::string_view sp_js();

// Its Subresource Integrity value, "sha384-<base64>", for <script integrity="...">.
std::string_view sp_js_integrity();

}  // namespace furrow::assets
