#include "event/raw_event.h"

#include <algorithm>

namespace furrow::event {

void Params::set(std::string name, std::optional<std::string> value) {
  for (auto& p : items_) {
    if (p.name == name) {
      p.value = std::move(value);
      return;
    }
  }
  items_.push_back(Param{std::move(name), std::move(value)});
}

const std::string* Params::get(std::string_view name) const {
  for (const auto& p : items_) {
    if (p.name == name) return p.value ? &*p.value : nullptr;
  }
  return nullptr;
}

bool Params::contains(std::string_view name) const {
  return std::any_of(items_.begin(), items_.end(), [&](const Param& p) { return p.name == name; });
}

void Params::erase(std::string_view name) {
  items_.erase(std::remove_if(items_.begin(), items_.end(), [&](const Param& p) { return p.name == name; }),
               items_.end());
}

}  // namespace furrow::event
