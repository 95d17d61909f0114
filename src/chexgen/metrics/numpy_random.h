// numpy's and Python's random draws and order statistics where a published evaluation used them and its intervals
// are to be reproduced draw for draw (docs/reports.md, "Exact bootstraps"):
// - np.random.default_rng(seed): PCG64 seeded through SeedSequence, and Generator.integers / Generator.choice(n, size)
//   with replacement (Lemire's bounded integers on 32-bit halves of the 64-bit output);
// - the legacy RandomState(seed) / np.random.seed(seed): MT19937 and randint / choice(n, size) with replacement
//   (masked rejection), as scipy.stats.bootstrap(random_state=seed) and rouge-score's BootstrapAggregator draw;
// - np.percentile's default "linear" method with numpy's own interpolation formula, np.median, and Python's
//   statistics.mean (the correctly rounded mean of the exact sum).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "chexgen/metrics/bootstrap.h"

namespace chexgen::metrics {

// 128-bit arithmetic (a GCC and Clang extension) for PCG64's state and exact sums.
__extension__ using uint128 = unsigned __int128;

// numpy's SeedSequence(entropy).generate_state(n_words) as 32-bit words; entropy given as its 32-bit words, least
// significant first (an int below 2^32 is one word).
std::vector<std::uint32_t> seed_sequence_state(std::span<const std::uint32_t> entropy, std::size_t n_words);

// np.random.default_rng(seed): Generator(PCG64(SeedSequence(seed))).
class NumpyGenerator {
 public:
  explicit NumpyGenerator(std::uint64_t seed);

  std::uint64_t next64();  // bit_generator.random_raw()
  std::uint32_t next32();  // the low half of a 64-bit output, then its high half

  // Generator.integers(0, n) for int64, 1 <= n <= 2^32: what Generator.choice(n, size, replace=True) draws.
  std::uint64_t integer_below(std::uint64_t n);
  // out.size() draws of integer_below(n), in order.
  void fill_below(std::uint64_t n, std::span<std::size_t> out);

 private:
  uint128 state_ = 0, increment_ = 0;
  bool has_half_ = false;
  std::uint32_t half_ = 0;
};

// numpy's legacy RandomState(seed), for the bounded integers of randint(0, n) and choice(n, size) with replacement.
class NumpyLegacyRandom {
 public:
  explicit NumpyLegacyRandom(std::uint32_t seed);
  std::uint32_t next32();                        // genrand_int32: std::mt19937's sequence
  std::uint64_t randint_below(std::uint64_t n);  // 1 <= n <= 2^32
  // out.size() draws of randint_below(n), in order.
  void fill_below(std::uint64_t n, std::span<std::size_t> out);

 private:
  void refill();  // the next 624 tempered outputs
  std::uint32_t state_[624];
  std::uint32_t out_[624];
  std::size_t pos_ = 624;
};

// np.percentile(values, q) with the default "linear" method: q / 100 as numpy divides it, the position (n − 1)·q
// and numpy's _lerp (a + (b − a)·t below t = 0.5, b − (b − a)·(1 − t) from it). values non-empty; q in [0, 100].
double numpy_percentile(std::vector<double> values, double q);

// np.median(values): the middle value, or the mean of the two middle values. values non-empty.
double numpy_median(std::vector<double> values);

// Python's statistics.mean of finite values: the exact sum divided by n, rounded once to the nearest double.
// values non-empty.
double python_exact_mean(std::span<const double> values);

}  // namespace chexgen::metrics

namespace chexgen::metrics {

// The resampled index rows of scipy.stats.bootstrap(data=(range(n),), statistic, vectorized=False,
// random_state=seed, n_resamples): one legacy RandomState(seed) draws randint(0, n, (n_resamples, n)), and the
// statistic sees each row in turn. `visit` gets each row.
template <class Visit>
void scipy_bootstrap_rows(std::size_t n, std::size_t resamples, std::uint32_t seed, Visit&& visit) {
  NumpyLegacyRandom rng(seed);
  std::vector<std::size_t> idx(n);
  for (std::size_t b = 0; b < resamples; ++b) {
    rng.fill_below(n, idx);
    visit(std::span<const std::size_t>(idx));
  }
}

// Its method="percentile" interval: np.percentile of the distribution at α·100 and (1 − α)·100, α = (1 − confidence)/2.
Interval scipy_percentile_interval(const std::vector<double>& distribution, double confidence);

}  // namespace chexgen::metrics
