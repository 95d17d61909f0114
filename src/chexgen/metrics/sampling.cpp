#include "chexgen/metrics/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_set>
#include <numeric>
#include <utility>

#include "chexgen/core/error.h"
#include "chexgen/metrics/numpy_random.h"

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
  NumpyLegacyRandom rng(seed);
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), std::size_t{0});
  for (std::size_t i = n; i-- > 1;) {
    // Uniform in [0, i]: words masked to the smallest all-ones value >= i until one is <= i.
    std::uint64_t j = 0;
    if (i <= 0xffffffffULL) {
      j = rng.randint_below(std::uint64_t{i} + 1);
    } else {  // two words per draw, high first
      std::uint64_t mask = i;
      for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
      do j = ((static_cast<std::uint64_t>(rng.next32()) << 32) | rng.next32()) & mask;
      while (j > i);
    }
    std::swap(perm[i], perm[static_cast<std::size_t>(j)]);
  }
  perm.resize(m);
  return perm;
}

PythonRandom::PythonRandom(std::uint64_t seed) {
  // init_genrand(19650218), then init_by_array with the seed's 32-bit words (one word for a seed below 2^32, as
  // CPython's random_seed makes for a non-negative int).
  std::uint32_t key[2] = {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  const std::size_t key_length = (seed >> 32) != 0 ? 2 : 1;
  constexpr std::size_t N = 624;
  std::uint32_t* mt = state_;
  mt[0] = 19650218U;
  for (std::size_t i = 1; i < N; ++i)
    mt[i] = 1812433253U * (mt[i - 1] ^ (mt[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
  std::size_t i = 1, j = 0;
  for (std::size_t k = std::max(N, key_length); k > 0; --k) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525U)) + key[j] + static_cast<std::uint32_t>(j);
    ++i;
    ++j;
    if (i >= N) {
      mt[0] = mt[N - 1];
      i = 1;
    }
    if (j >= key_length) j = 0;
  }
  for (std::size_t k = N - 1; k > 0; --k) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941U)) - static_cast<std::uint32_t>(i);
    ++i;
    if (i >= N) {
      mt[0] = mt[N - 1];
      i = 1;
    }
  }
  mt[0] = 0x80000000U;
  index_ = N;
}

std::uint32_t PythonRandom::next_u32() {
  constexpr int N = 624, M = 397;
  constexpr std::uint32_t upper = 0x80000000U, lower = 0x7fffffffU, matrix_a = 0x9908b0dfU;
  if (index_ >= N) {
    for (int k = 0; k < N; ++k) {
      const std::uint32_t y = (state_[k] & upper) | (state_[(k + 1) % N] & lower);
      state_[k] = state_[(k + M) % N] ^ (y >> 1) ^ ((y & 1U) ? matrix_a : 0U);
    }
    index_ = 0;
  }
  std::uint32_t y = state_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= y >> 18;
  return y;
}

std::uint32_t PythonRandom::getrandbits(int k) {
  CHEXGEN_ASSERT(k >= 1 && k <= 32, "getrandbits: k must be in 1..32");
  return next_u32() >> (32 - k);
}

std::uint32_t PythonRandom::randbelow(std::uint64_t n) {
  CHEXGEN_ASSERT(n >= 1 && n <= 0xffffffffULL, "randbelow: n must be in 1..2^32-1");
  int k = 0;  // n.bit_length()
  for (std::uint64_t v = n; v != 0; v >>= 1) ++k;
  std::uint32_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

std::vector<std::size_t> PythonRandom::sample(std::size_t n, std::size_t k) {
  CHEXGEN_ASSERT(k <= n, "sample: k must be <= n");
  // The size below which a list copy is cheaper than a set of taken positions: 21, plus 4^ceil(log_4(3k)) for k > 5.
  std::size_t setsize = 21;
  if (k > 5)
    setsize += static_cast<std::size_t>(
        std::pow(4.0, std::ceil(std::log(static_cast<double>(k * 3)) / std::log(4.0))));
  std::vector<std::size_t> result(k);
  if (n <= setsize) {
    std::vector<std::size_t> pool(n);
    std::iota(pool.begin(), pool.end(), std::size_t{0});
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t j = randbelow(n - i);
      result[i] = pool[j];
      pool[j] = pool[n - i - 1];
    }
  } else {
    std::unordered_set<std::size_t> selected;
    for (std::size_t i = 0; i < k; ++i) {
      std::size_t j = randbelow(n);
      while (selected.count(j) != 0) j = randbelow(n);
      selected.insert(j);
      result[i] = j;
    }
  }
  return result;
}

IndexSplit sklearn_train_test_split(std::size_t n, double fraction, std::uint32_t seed) {
  CHEXGEN_ASSERT(fraction > 0 && fraction < 1, "sklearn_train_test_split: fraction must be in (0, 1)");
  const auto n_test = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(n)));
  if (n_test == 0 || n_test >= n)
    throw std::invalid_argument("a validation fraction of " + std::to_string(fraction) + " of " + std::to_string(n) +
                                " rows leaves one side of the split empty");
  const std::vector<std::size_t> perm = numpy_legacy_choice(seed, n, n);
  IndexSplit s;
  s.test.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(n_test));
  s.train.assign(perm.begin() + static_cast<std::ptrdiff_t>(n_test), perm.end());
  return s;
}

}  // namespace chexgen::metrics
