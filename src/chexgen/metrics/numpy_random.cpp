#include "chexgen/metrics/numpy_random.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "chexgen/core/error.h"

namespace chexgen::metrics {
namespace {

// SeedSequence's hashing constants (numpy/random/bit_generator.pyx).
constexpr std::uint32_t kInitA = 0x43b0d7e5U, kMultA = 0x931e8875U, kInitB = 0x8b51f9ddU, kMultB = 0x58f38dedU;
constexpr std::uint32_t kMixMultL = 0xca01f9ddU, kMixMultR = 0x4973f715U;
constexpr int kXShift = 16;
constexpr std::size_t kPoolSize = 4;

std::uint32_t hashmix(std::uint32_t value, std::uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  value ^= value >> kXShift;
  return value;
}

std::uint32_t mix(std::uint32_t x, std::uint32_t y) {
  std::uint32_t result = kMixMultL * x - kMixMultR * y;
  result ^= result >> kXShift;
  return result;
}

// PCG64 (XSL-RR 128/64) with numpy's default multiplier.
constexpr uint128 kPcgMultiplier =
    (static_cast<uint128>(0x2360ED051FC65DA4ULL) << 64) | 0x4385DF649FCCF645ULL;

}  // namespace

std::vector<std::uint32_t> seed_sequence_state(std::span<const std::uint32_t> entropy, std::size_t n_words) {
  std::array<std::uint32_t, kPoolSize> pool{};
  std::uint32_t hash_const = kInitA;
  for (std::size_t i = 0; i < kPoolSize; ++i) pool[i] = hashmix(i < entropy.size() ? entropy[i] : 0U, hash_const);
  for (std::size_t src = 0; src < kPoolSize; ++src)
    for (std::size_t dst = 0; dst < kPoolSize; ++dst)
      if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src], hash_const));
  for (std::size_t src = kPoolSize; src < entropy.size(); ++src)
    for (std::size_t dst = 0; dst < kPoolSize; ++dst) pool[dst] = mix(pool[dst], hashmix(entropy[src], hash_const));

  std::vector<std::uint32_t> state(n_words);
  std::uint32_t out_const = kInitB;
  for (std::size_t i = 0; i < n_words; ++i) {
    std::uint32_t v = pool[i % kPoolSize];
    v ^= out_const;
    out_const *= kMultB;
    v *= out_const;
    v ^= v >> kXShift;
    state[i] = v;
  }
  return state;
}

NumpyGenerator::NumpyGenerator(std::uint64_t seed) {
  std::vector<std::uint32_t> entropy{static_cast<std::uint32_t>(seed)};
  if (seed >> 32) entropy.push_back(static_cast<std::uint32_t>(seed >> 32));
  const std::vector<std::uint32_t> w = seed_sequence_state(entropy, 8);
  auto word64 = [&](std::size_t i) { return static_cast<std::uint64_t>(w[2 * i]) | (std::uint64_t{w[2 * i + 1]} << 32); };
  const uint128 initstate = (static_cast<uint128>(word64(0)) << 64) | word64(1);
  const uint128 initseq = (static_cast<uint128>(word64(2)) << 64) | word64(3);
  // pcg_setseq_128_srandom_r
  state_ = 0;
  increment_ = (initseq << 1) | 1;
  state_ = state_ * kPcgMultiplier + increment_;
  state_ += initstate;
  state_ = state_ * kPcgMultiplier + increment_;
}

std::uint64_t NumpyGenerator::next64() {
  state_ = state_ * kPcgMultiplier + increment_;
  const auto value = static_cast<std::uint64_t>(state_ >> 64) ^ static_cast<std::uint64_t>(state_);
  const auto rot = static_cast<unsigned>(state_ >> 122);
  return (value >> rot) | (value << ((64U - rot) & 63U));
}

std::uint32_t NumpyGenerator::next32() {
  if (has_half_) {
    has_half_ = false;
    return half_;
  }
  const std::uint64_t next = next64();
  has_half_ = true;
  half_ = static_cast<std::uint32_t>(next >> 32);
  return static_cast<std::uint32_t>(next);
}

std::uint64_t NumpyGenerator::integer_below(std::uint64_t n) {
  std::size_t v = 0;
  fill_below(n, std::span<std::size_t>(&v, 1));
  return v;
}

void NumpyGenerator::fill_below(std::uint64_t n, std::span<std::size_t> out) {
  CHEXGEN_ASSERT(n >= 1 && n <= (std::uint64_t{1} << 32), "fill_below: n must be in [1, 2^32]");
  if (n == 1) {  // numpy draws nothing
    std::fill(out.begin(), out.end(), std::size_t{0});
    return;
  }
  if (n == (std::uint64_t{1} << 32)) {  // every 32-bit word is a value
    for (auto& v : out) v = next32();
    return;
  }
  // buffered_bounded_lemire_uint32
  const auto rng_excl = static_cast<std::uint32_t>(n);
  const std::uint32_t threshold = (0xffffffffU - (rng_excl - 1)) % rng_excl;
  for (auto& v : out) {
    std::uint64_t m = std::uint64_t{next32()} * rng_excl;
    while (static_cast<std::uint32_t>(m) < threshold) m = std::uint64_t{next32()} * rng_excl;
    v = static_cast<std::size_t>(m >> 32);
  }
}

NumpyLegacyRandom::NumpyLegacyRandom(std::uint32_t seed) {
  // init_genrand, as numpy's legacy mt19937_seed and std::mt19937 seed it.
  state_[0] = seed;
  for (std::uint32_t i = 1; i < 624; ++i) state_[i] = 1812433253U * (state_[i - 1] ^ (state_[i - 1] >> 30)) + i;
}

void NumpyLegacyRandom::refill() {
  constexpr std::size_t N = 624, M = 397;
  constexpr std::uint32_t upper = 0x80000000U, lower = 0x7fffffffU, matrix_a = 0x9908b0dfU;
  auto twist = [&](std::size_t k, std::size_t k1, std::size_t km) {
    const std::uint32_t y = (state_[k] & upper) | (state_[k1] & lower);
    state_[k] = state_[km] ^ (y >> 1) ^ ((y & 1U) ? matrix_a : 0U);
  };
  for (std::size_t k = 0; k < N - M; ++k) twist(k, k + 1, k + M);
  for (std::size_t k = N - M; k < N - 1; ++k) twist(k, k + 1, k + M - N);
  twist(N - 1, 0, M - 1);
  for (std::size_t k = 0; k < N; ++k) {
    std::uint32_t y = state_[k];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    out_[k] = y;
  }
  pos_ = 0;
}

std::uint32_t NumpyLegacyRandom::next32() {
  if (pos_ == 624) refill();
  return out_[pos_++];
}

void NumpyLegacyRandom::fill_below(std::uint64_t n, std::span<std::size_t> out) {
  CHEXGEN_ASSERT(n >= 1 && n <= (std::uint64_t{1} << 32), "fill_below: n must be in [1, 2^32]");
  if (n == 1) {  // numpy draws nothing
    std::fill(out.begin(), out.end(), std::size_t{0});
    return;
  }
  if (n == (std::uint64_t{1} << 32)) {  // every word is a value
    for (auto& v : out) v = next32();
    return;
  }
  const auto rng = static_cast<std::uint32_t>(n - 1);
  std::uint32_t mask = rng;
  for (int shift = 1; shift <= 16; shift *= 2) mask |= mask >> shift;
  // Masked rejection without a branch per word: every word's candidate is written, and the position advances only
  // when it is accepted, so the accepted values come out in draw order.
  std::size_t k = 0;
  const std::size_t size = out.size();
  while (k < size) {
    if (pos_ == 624) refill();
    while (pos_ < 624 && k < size) {
      const std::uint32_t v = out_[pos_++] & mask;
      out[k] = v;
      k += v <= rng;
    }
  }
}

std::uint64_t NumpyLegacyRandom::randint_below(std::uint64_t n) {
  std::size_t v = 0;
  fill_below(n, std::span<std::size_t>(&v, 1));
  return v;
}

double numpy_percentile(std::vector<double> values, double q) {
  CHEXGEN_ASSERT(!values.empty(), "percentile of an empty list");
  CHEXGEN_ASSERT(q >= 0.0 && q <= 100.0, "percentile: q must be in [0, 100]");
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double quantile = q / 100.0;
  const double virtual_index = static_cast<double>(n - 1) * quantile;
  if (virtual_index >= static_cast<double>(n - 1)) return values[n - 1];
  const double previous = std::floor(virtual_index);
  const auto lo = static_cast<std::size_t>(previous);
  const double gamma = virtual_index - previous;
  const double a = values[lo], b = values[lo + 1];
  const double diff = b - a;
  return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
}

Interval scipy_percentile_interval(const std::vector<double>& distribution, double confidence) {
  const double alpha = (1 - confidence) / 2;
  return {numpy_percentile(distribution, alpha * 100), numpy_percentile(distribution, (1 - alpha) * 100)};
}

double numpy_median(std::vector<double> values) {
  CHEXGEN_ASSERT(!values.empty(), "median of an empty list");
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  if (n % 2 == 1) return values[n / 2];
  return (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

double python_exact_mean(std::span<const double> values) {
  CHEXGEN_ASSERT(!values.empty(), "mean of an empty list");
  // The exact sum in fixed point: every finite double is an integer multiple of 2^-1074, and 1024 + 1074 bits plus
  // room for the carries of 2^32 terms hold any sum of them.
  constexpr int kScale = 1074;
  constexpr std::size_t kLimbs = (1024 + kScale + 64) / 64 + 1;
  std::array<std::uint64_t, kLimbs> acc{};
  bool negative = false, positive = false;
  for (double v : values) {
    CHEXGEN_ASSERT(std::isfinite(v), "mean of a value that is not finite");
    if (v == 0.0) continue;
    (v < 0 ? negative : positive) = true;
    int exp = 0;
    const double frac = std::frexp(std::fabs(v), &exp);  // |v| = frac * 2^exp, frac in [0.5, 1)
    const auto mantissa = static_cast<std::uint64_t>(std::ldexp(frac, 53));
    const int shift = exp - 53 + kScale;  // |v| = mantissa * 2^(shift - kScale)
    std::uint64_t lo = 0, hi = 0;
    int at = shift;
    if (at < 0) {  // subnormal: frexp normalised it, the low bits are zero
      lo = mantissa >> (-at);
      at = 0;
    } else {
      lo = mantissa << (at % 64);
      hi = (at % 64) ? mantissa >> (64 - at % 64) : 0;
    }
    std::size_t limb = static_cast<std::size_t>(at / 64);
    uint128 carry = static_cast<uint128>(acc[limb]) + lo;
    acc[limb] = static_cast<std::uint64_t>(carry);
    carry >>= 64;
    carry += hi;
    for (std::size_t i = limb + 1; i < kLimbs && carry; ++i) {
      carry += acc[i];
      acc[i] = static_cast<std::uint64_t>(carry);
      carry >>= 64;
    }
  }
  CHEXGEN_ASSERT(!(negative && positive), "python_exact_mean: values of both signs are not supported");
  // Divide by n, keeping the remainder for the rounding.
  const std::uint64_t n = values.size();
  uint128 rem = 0;
  for (std::size_t i = kLimbs; i-- > 0;) {
    const uint128 cur = (rem << 64) | acc[i];
    acc[i] = static_cast<std::uint64_t>(cur / n);
    rem = cur % n;
  }
  int top = -1;
  for (std::size_t i = kLimbs; i-- > 0;)
    if (acc[i]) {
      top = static_cast<int>(i * 64) + 63 - __builtin_clzll(acc[i]);
      break;
    }
  auto bit = [&](int k) { return k >= 0 && ((acc[static_cast<std::size_t>(k / 64)] >> (k % 64)) & 1U); };
  auto any_below = [&](int k) {  // any bit of the quotient below position k
    for (int i = 0; i < k; ++i)
      if (bit(i)) return true;
    return false;
  };
  std::uint64_t mantissa = 0;
  int shift = 0;
  bool round_up = false;
  if (top < 53) {  // the quotient's last bit is the result's last bit (2^-1074)
    for (int i = 0; i <= top; ++i) mantissa |= static_cast<std::uint64_t>(bit(i)) << i;
    const uint128 twice = rem * 2;
    round_up = twice > n || (twice == n && (mantissa & 1U));
  } else {
    shift = top - 52;
    for (int i = 0; i < 53; ++i) mantissa |= static_cast<std::uint64_t>(bit(shift + i)) << i;
    const bool half = bit(shift - 1);
    const bool sticky = rem != 0 || any_below(shift - 1);
    round_up = half && (sticky || (mantissa & 1U));
  }
  if (round_up) ++mantissa;
  const double magnitude = std::ldexp(static_cast<double>(mantissa), shift - kScale);
  return negative ? -magnitude : magnitude;
}

}  // namespace chexgen::metrics
