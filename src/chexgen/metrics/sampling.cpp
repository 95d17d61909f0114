#include "chexgen/metrics/sampling.h"

#include <limits>
#include <numeric>
#include <utility>

#include "chexgen/core/error.h"

namespace chexgen::metrics {

std::uint64_t IndexSampler::uniform_below(std::uint64_t bound) {
  CHEXGEN_ASSERT(bound >= 1, "uniform_below: bound must be >= 1");
  // 2^64 mod bound, computed without 128-bit arithmetic: (2^64 - bound) mod bound.
  const std::uint64_t rejected = (std::numeric_limits<std::uint64_t>::max() - bound + 1) % bound;
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - rejected;  // accept x <= limit
  std::uint64_t x = engine_();
  while (x > limit) x = engine_();
  return x % bound;
}

std::vector<std::size_t> IndexSampler::without_replacement(std::size_t n, std::size_t m) {
  CHEXGEN_ASSERT(m <= n, "without_replacement: m must be <= n");
  std::vector<std::size_t> pool(n);
  std::iota(pool.begin(), pool.end(), std::size_t{0});
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(uniform_below(n - i));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(m);
  return pool;
}

std::vector<std::size_t> IndexSampler::with_replacement(std::size_t n, std::size_t m) {
  CHEXGEN_ASSERT(n >= 1 || m == 0, "with_replacement: n must be >= 1");
  std::vector<std::size_t> out(m);
  for (auto& v : out) v = static_cast<std::size_t>(uniform_below(n));
  return out;
}

}  // namespace chexgen::metrics
