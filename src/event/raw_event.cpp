#include "event/raw_event.h"

#include <algorithm>

namespace furrow::event {
namespace {

uint32_t hash_name(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace

std::size_t Params::find(std::string_view name) const {
  if (index_.empty()) {
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].name == name) return i;
    }
    return kNotFound;
  }
  const std::size_t mask = index_.size() - 1;
  for (std::size_t slot = hash_name(name) & mask;; slot = (slot + 1) & mask) {
    uint32_t v = index_[slot];
    if (v == 0) return kNotFound;
    if (items_[v - 1].name == name) return v - 1;
  }
}

void Params::index_insert(std::size_t item) {
  const std::size_t mask = index_.size() - 1;
  std::size_t slot = hash_name(items_[item].name) & mask;
  while (index_[slot] != 0) slot = (slot + 1) & mask;
  index_[slot] = static_cast<uint32_t>(item + 1);
}

void Params::rebuild_index(std::size_t capacity) {
  index_.assign(capacity, 0);
  for (std::size_t i = 0; i < items_.size(); ++i) index_insert(i);
}

void Params::set(std::string name, std::optional<std::string> value) {
  std::size_t at = find(name);
  if (at != kNotFound) {
    items_[at].value = std::move(value);
    return;
  }
  items_.push_back(Param{std::move(name), std::move(value)});
  if (items_.size() <= kLinearMax) return;
  if (index_.size() < items_.size() * 2) {
    rebuild_index(std::max<std::size_t>(32, index_.size() * 2));
  } else {
    index_insert(items_.size() - 1);
  }
}

const std::string* Params::get(std::string_view name) const {
  std::size_t at = find(name);
  if (at == kNotFound) return nullptr;
  const auto& v = items_[at].value;
  return v ? &*v : nullptr;
}

bool Params::contains(std::string_view name) const {
  return find(name) != kNotFound;
}

void Params::erase(std::string_view name) {
  std::size_t at = find(name);
  if (at == kNotFound) return;
  items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(at));
  if (items_.size() <= kLinearMax) {
    index_.clear();
  } else {
    rebuild_index(index_.size());
  }
}

}  // namespace furrow::event
