#include "assets/assets.h"

#include <cstddef>

namespace furrow::assets {
namespace detail {
// Defined in the generated sp_js_data.cpp (trackers/js/build.mjs).
extern const unsigned char kSpJs[];
extern const std::size_t kSpJsSize;
extern const char kSpJsIntegrity[];
}  // namespace detail

std::string_view sp_js() {
  return {reinterpret_cast<const char*>(detail::kSpJs), detail::kSpJsSize};
}

std::string_view sp_js_integrity() {
  return detail::kSpJsIntegrity;
}

}  // namespace furrow::assets
