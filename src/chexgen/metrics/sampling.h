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

// CPython's `random` module as CheXGenBench's scripts use it: the Mersenne Twister (MT19937) seeded as
// `random.seed(seed)` seeds it for an int (the reference init_by_array with the integer's 32-bit words, least
// significant first), getrandbits, _randbelow's rejection sampler and random.sample's two algorithms. Only what
// chexgen reproduces: bounds below 2^32.
class PythonRandom {
 public:
  explicit PythonRandom(std::uint64_t seed);

  std::uint32_t next_u32();              // genrand_uint32
  std::uint32_t getrandbits(int k);      // 1 <= k <= 32: the top k bits of one word
  std::uint32_t randbelow(std::uint64_t n);  // _randbelow_with_getrandbits, 1 <= n < 2^32

  // The positions random.sample(population, k) picks from a population of n (population[result[i]] is its i-th
  // element): a partial shuffle of a copy when n is at most its set-size threshold, else repeated draws skipping
  // positions already taken. k <= n.
  std::vector<std::size_t> sample(std::size_t n, std::size_t k);

 private:
  std::uint32_t state_[624];
  int index_ = 624;
};

// scikit-learn's train_test_split(rows, test_size=fraction, random_state=seed) on n rows, shuffled (its default):
// n_test = ceil(fraction * n), n_train = n - n_test, and numpy's legacy RandomState(seed).permutation(n) cut into
// the test rows (the first n_test) and the training rows (the rest), each in permutation order. 0 < fraction < 1; a
// split that leaves either side empty is a std::invalid_argument, as scikit-learn's ValueError.
struct IndexSplit {
  std::vector<std::size_t> train, test;
};
IndexSplit sklearn_train_test_split(std::size_t n, double fraction, std::uint32_t seed);

}  // namespace chexgen::metrics
