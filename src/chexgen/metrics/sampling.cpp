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

std::vector<std::size_t> numpy_legacy_choice(std::uint32_t seed, std::size_t n, std::size_t m) {
  CHEXGEN_ASSERT(m <= n, "numpy_legacy_choice: m must be <= n");
  std::mt19937 engine(seed);  // numpy's legacy mt19937_seed is the reference init_genrand, as std::mt19937's
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), std::size_t{0});
  for (std::size_t i = n; i-- > 1;) {
    // Uniform in [0, i]: draw words masked to the smallest all-ones value >= i until one is <= i.
    std::uint64_t mask = i;
    for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
    std::uint64_t j = 0;
    if (i <= 0xffffffffULL) {
      do j = engine() & mask;
      while (j > i);
    } else {
      do j = ((static_cast<std::uint64_t>(engine()) << 32) | engine()) & mask;
      while (j > i);
    }
    std::swap(perm[i], perm[static_cast<std::size_t>(j)]);
  }
  perm.resize(m);
  return perm;
}

}  // namespace chexgen::metrics
