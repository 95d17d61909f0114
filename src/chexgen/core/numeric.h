// Small numeric helpers that several stages need written exactly one way: numpy's summation order, scipy's
// 'reflect' boundary index, and the SplitMix64 mixer. Header-only, so that the stages that compile optimised even in
// the sanitizer build (radiomics) inline them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace chexgen {

// numpy's pairwise_sum for one block of at most 128 terms: a plain loop below 8 terms, else 8 interleaved partial
// sums combined as ((0+1)+(2+3))+((4+5)+(6+7)), then the tail.
inline double numpy_block_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double res = 0.;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  double r[8];
  for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
  std::size_t i = 8;
  for (; i < n - n % 8; i += 8)
    for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
  double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < n; ++i) res += a[i];
  return res;
}

inline constexpr std::size_t kNumpyPairwiseBlock = 128;  // numpy's PW_BLOCKSIZE

// numpy's pairwise summation of a contiguous array (np.sum, np.nansum, np.mean along a contiguous axis): halves
// split at multiples of 8 down to blocks of at most 128 terms.
inline double numpy_pairwise_sum(const double* a, std::size_t n) {
  if (n <= kNumpyPairwiseBlock) return numpy_block_sum(a, n);
  std::size_t half = n / 2;
  half -= half % 8;
  return numpy_pairwise_sum(a, half) + numpy_pairwise_sum(a + half, n - half);
}

// K sums over elements [begin, begin + n) at once, each in numpy's pairwise order, without materialising the terms:
// fill(first, count, block) writes the K terms of elements first .. first + count - 1 into block[k][0 .. count).
template <std::size_t K>
using NumpyTermBlock = std::array<std::array<double, kNumpyPairwiseBlock>, K>;

template <std::size_t K, class Fill>
std::array<double, K> numpy_pairwise_sums(std::size_t begin, std::size_t n, const Fill& fill) {
  std::array<double, K> res{};
  if (n <= kNumpyPairwiseBlock) {
    NumpyTermBlock<K> block;
    fill(begin, n, block);
    for (std::size_t k = 0; k < K; ++k) res[k] = numpy_block_sum(block[k].data(), n);
    return res;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  res = numpy_pairwise_sums<K>(begin, half, fill);
  const std::array<double, K> rest = numpy_pairwise_sums<K>(begin + half, n - half, fill);
  for (std::size_t k = 0; k < K; ++k) res[k] += rest[k];
  return res;
}

// scipy.ndimage's 'reflect' extension of index i into [0, n): half-sample symmetric about the outer pixel edges
// (d c b a | a b c d | d c b a), period 2n, so a kernel wider than the line keeps reflecting.
inline int reflect_index(long i, int n) {
  const long period = 2L * n;
  long m = i % period;
  if (m < 0) m += period;
  return static_cast<int>(m < n ? m : period - 1 - m);
}

// SplitMix64 (Steele, Lea & Flood 2014): the golden-ratio increment and the finaliser. Spreads related inputs
// (seed and stream, a counter) over unrelated 64-bit values.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace chexgen
