#include "enrich/deferred_md5.h"

#include <algorithm>
#include <cstring>

#include "enrich/enrichment.h"

namespace furrow::enrich {

std::size_t DeferredMd5::add(std::string_view preimage) {
  char* at = reserve(preimage.size());
  if (!preimage.empty()) std::memcpy(at, preimage.data(), preimage.size());
  return commit(preimage.size());
}

char* DeferredMd5::reserve(std::size_t max) {
  if (preimages_.size() - used_ < max)
    preimages_.resize(std::max(2 * preimages_.size(), used_ + max));
  return preimages_.data() + used_;
}

std::size_t DeferredMd5::commit(std::size_t size) {
  Entry e;
  e.begin = used_;
  e.size = size;
  used_ += size;
  entries_.push_back(e);
  return entries_.size() - 1;
}

void DeferredMd5::place(std::size_t entry, std::string& text, std::size_t offset) {
  entries_[entry].text = &text;
  entries_[entry].offset = offset;
}

void DeferredMd5::resolve_now(std::size_t entry, char* out) {
  Entry& e = entries_[entry];
  common::md5_hex(common::md5(std::string_view(preimages_.data() + e.begin, e.size)), out);
  e.text = nullptr;
  if (entry + 1 == entries_.size()) truncate(entry);
}

void DeferredMd5::truncate(std::size_t n) {
  if (n >= entries_.size()) return;
  used_ = entries_[n].begin;
  entries_.resize(n);
}

void DeferredMd5::resolve_all() {
  views_.clear();
  which_.clear();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (e.text == nullptr) continue;
    views_.push_back(std::string_view(preimages_.data() + e.begin, e.size));
    which_.push_back(i);
  }
  digests_.resize(views_.size());
  common::md5_many(views_, digests_);
  for (std::size_t k = 0; k < which_.size(); ++k) {
    const Entry& e = entries_[which_[k]];
    common::md5_hex(digests_[k], e.text->data() + e.offset);
  }
  entries_.clear();
  used_ = 0;
}

bool fingerprint_deferrable(std::span<const Enrichment* const> chain) {
  static constexpr std::string_view kHarmlessAfter[] = {
      "cookie_extractor_config", "http_header_extractor_config", "ip_lookups", "anon_ip",
      "pii_enrichment_config"};
  bool after = false;
  for (const Enrichment* e : chain) {
    if (after && std::find(std::begin(kHarmlessAfter), std::end(kHarmlessAfter), e->name()) ==
                     std::end(kHarmlessAfter)) {
      return false;
    }
    if (e->step() == Step::kEventFingerprint) after = true;
  }
  return true;
}

void place_deferred_md5(EventContext& ctx, std::string& text, std::size_t line_begin) {
  const std::size_t entry = ctx.deferred_md5_entry();
  if (entry == DeferredMd5::kNone) return;
  // The last column (true_tstamp) holds no tab: the placeholder ends at the line's last tab.
  const std::size_t tab = text.rfind('\t');
  if (tab == std::string::npos || tab < line_begin + DeferredMd5::kHexSize) {
    settle_deferred_md5(ctx);  // (cannot happen: every line has all columns)
    return;
  }
  ctx.deferred_md5()->place(entry, text, tab - DeferredMd5::kHexSize);
  ctx.set_deferred_md5_entry(DeferredMd5::kNone);
}

void settle_deferred_md5(EventContext& ctx, std::string* line) {
  const std::size_t entry = ctx.deferred_md5_entry();
  if (entry == DeferredMd5::kNone) return;
  char hex[DeferredMd5::kHexSize];
  ctx.deferred_md5()->resolve_now(entry, hex);
  ctx.set_deferred_md5_entry(DeferredMd5::kNone);
  ctx.event()[event::Field::event_fingerprint].assign(hex, sizeof hex);
  if (line != nullptr) {
    const std::size_t tab = line->rfind('\t');
    if (tab != std::string::npos && tab >= DeferredMd5::kHexSize) {
      std::memcpy(line->data() + tab - DeferredMd5::kHexSize, hex, sizeof hex);
    }
  }
}

}  // namespace furrow::enrich
