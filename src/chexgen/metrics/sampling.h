// Seeded, platform-independent random sampling of row indices (KID subsets, bootstrap resamples).
//
// The generator is std::mt19937_64, whose output sequence the C++ standard fixes exactly. Bounded
// integers come from our own rejection sampler (uniform_below), not std::uniform_int_distribution,
// whose algorithm differs between standard libraries. So a seed gives the same indices with
// libstdc++, libc++ and MSVC (docs/metrics.md, "Random sampling").
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace chexgen::metrics {

class IndexSampler {
 public:
  explicit IndexSampler(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, bound), bound >= 1: draws 64-bit words until one falls below the largest
  // multiple of bound that fits in 2^64, then takes it modulo bound (no bias).
  std::uint64_t uniform_below(std::uint64_t bound);

  // m distinct indices out of [0, n), m <= n, in draw order: a partial Fisher-Yates shuffle of the
  // identity 0..n-1 (position i swaps with i + uniform_below(n - i), for i = 0..m-1).
  std::vector<std::size_t> without_replacement(std::size_t n, std::size_t m);

  // m indices drawn independently and uniformly from [0, n) (bootstrap), n >= 1.
  std::vector<std::size_t> with_replacement(std::size_t n, std::size_t m);

  // A raw 64-bit word (e.g. to seed a nested computation).
  std::uint64_t next_word() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// What `numpy.random.seed(seed); numpy.random.choice(n, m, replace=False)` returns: the first m entries of the
// legacy RandomState.permutation(n) (MT19937 seeded like std::mt19937, a Fisher-Yates shuffle from the end with
// numpy's masked rejection sampler). Used where a reference script draws a subset this way (FRD's
// match_sample_count), so that a user can reproduce its subset for the same row order. m <= n.
std::vector<std::size_t> numpy_legacy_choice(std::uint32_t seed, std::size_t n, std::size_t m);

}  // namespace chexgen::metrics
