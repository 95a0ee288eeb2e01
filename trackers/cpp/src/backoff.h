// Retry delays: exponential back-off with a cap and "equal jitter".
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace furrow::tracker::detail {

// The wait before retry number `attempt` (1 = first retry): d = min(cap, base * 2^(attempt-1)),
// drawn uniformly from [d/2, d] so that many clients failing together do not retry in step.
template <class Rng>
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, Rng& rng) {
  const std::int64_t b = std::max<std::int64_t>(1, base.count());
  const std::int64_t c = std::max<std::int64_t>(b, cap.count());
  std::int64_t d = b;
  for (int i = 1; i < attempt && d < c; ++i) d *= 2;
  d = std::min(d, c);
  std::uniform_int_distribution<std::int64_t> dist(d / 2, d);
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace furrow::tracker::detail
