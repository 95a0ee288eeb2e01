#include "dashboard/distinct.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace furrow::dashboard {

uint64_t distinct_hash(std::string_view value) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : value) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

void DistinctSketch::add_register(uint64_t h) {
  const std::size_t idx = static_cast<std::size_t>(h >> (64 - kPrecision));
  const uint64_t rest = (h << kPrecision) | (uint64_t{1} << (kPrecision - 1));
  const auto rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
  if (registers_[idx] < rank) registers_[idx] = rank;
}

void DistinctSketch::add_hash(uint64_t h) {
  if (!registers_.empty()) {
    add_register(h);
    return;
  }
  hashes_.push_back(h);
  // Bound the pending tail so memory stays proportional to the limit.
  if (hashes_.size() > 2 * sparse_limit_ + 64) normalize();
}

void DistinctSketch::normalize() {
  if (!registers_.empty() || sorted_ == hashes_.size()) return;
  auto mid = hashes_.begin() + static_cast<std::ptrdiff_t>(sorted_);
  std::sort(mid, hashes_.end());
  std::inplace_merge(hashes_.begin(), mid, hashes_.end());
  hashes_.erase(std::unique(hashes_.begin(), hashes_.end()), hashes_.end());
  sorted_ = hashes_.size();
  if (hashes_.size() > sparse_limit_) to_registers();
}

void DistinctSketch::to_registers() {
  registers_.assign(kRegisters, 0);
  for (uint64_t h : hashes_) add_register(h);
  hashes_.clear();
  hashes_.shrink_to_fit();
  sorted_ = 0;
}

void DistinctSketch::merge(const DistinctSketch& other) {
  if (!other.registers_.empty()) {
    if (registers_.empty()) {
      normalize();
      if (registers_.empty()) to_registers();
    }
    for (std::size_t i = 0; i < kRegisters; ++i) {
      registers_[i] = std::max(registers_[i], other.registers_[i]);
    }
    return;
  }
  for (uint64_t h : other.hashes_) add_hash(h);
}

bool DistinctSketch::merge_serialized(std::string_view bytes) {
  if (bytes.empty()) return false;
  const auto kind = static_cast<uint8_t>(bytes[0]);
  bytes.remove_prefix(1);
  if (kind == 1) {
    if (bytes.size() % 8 != 0) return false;
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
      uint64_t h = 0;
      for (int b = 7; b >= 0; --b) h = (h << 8) | static_cast<uint8_t>(bytes[i + b]);
      add_hash(h);
    }
    return true;
  }
  if (kind == 2 && bytes.size() == kRegisters) {
    if (registers_.empty()) {
      normalize();
      if (registers_.empty()) to_registers();
    }
    for (std::size_t i = 0; i < kRegisters; ++i) {
      registers_[i] = std::max(registers_[i], static_cast<uint8_t>(bytes[i]));
    }
    return true;
  }
  return false;
}

int64_t DistinctSketch::estimate() {
  normalize();
  if (registers_.empty()) return static_cast<int64_t>(hashes_.size());
  const double m = static_cast<double>(kRegisters);
  double sum = 0;
  int zeros = 0;
  for (uint8_t r : registers_) {
    sum += std::ldexp(1.0, -static_cast<int>(r));
    if (r == 0) ++zeros;
  }
  const double alpha = 0.7213 / (1.0 + 1.079 / m);
  double e = alpha * m * m / sum;
  // Small-range correction (linear counting); 64-bit hashes need no large-range correction.
  if (e <= 2.5 * m && zeros > 0) e = m * std::log(m / zeros);
  return static_cast<int64_t>(std::llround(e));
}

std::string DistinctSketch::serialize() {
  normalize();
  std::string out;
  if (registers_.empty()) {
    out.resize(1 + 8 * hashes_.size());
    out[0] = 1;
    for (std::size_t i = 0; i < hashes_.size(); ++i) {
      for (int b = 0; b < 8; ++b) out[1 + 8 * i + b] = static_cast<char>(hashes_[i] >> (8 * b));
    }
  } else {
    out.resize(1 + kRegisters);
    out[0] = 2;
    std::memcpy(out.data() + 1, registers_.data(), kRegisters);
  }
  return out;
}

}  // namespace furrow::dashboard
