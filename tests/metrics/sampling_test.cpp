// IndexSampler: the documented algorithm (mt19937_64, rejection sampling, partial Fisher-Yates).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "chexgen/metrics/sampling.h"

namespace chexgen::metrics {
namespace {

TEST(IndexSampler, TheEngineIsTheStandardMt19937_64) {
  // The C++ standard fixes the 10000th output of a default-seeded mt19937_64 ([rand.predef]).
  std::mt19937_64 reference;
  reference.discard(9999);
  EXPECT_EQ(reference(), 9981545732273789042ULL);
  IndexSampler sampler(5489);  // the default seed
  for (int i = 0; i < 9999; ++i) (void)sampler.next_word();
  EXPECT_EQ(sampler.next_word(), 9981545732273789042ULL);
}

TEST(IndexSampler, UniformBelowIsTheDocumentedRejectionSampler) {
  for (std::uint64_t bound : {1ULL, 2ULL, 3ULL, 10ULL, 1000ULL, (1ULL << 63) + 1, ~0ULL}) {
    IndexSampler sampler(99);
    std::mt19937_64 engine(99);
    const std::uint64_t limit = ~0ULL - (~0ULL - bound + 1) % bound;
    for (int i = 0; i < 200; ++i) {
      std::uint64_t x = engine();
      while (x > limit) x = engine();
      ASSERT_EQ(sampler.uniform_below(bound), x % bound) << bound;
    }
  }
}

TEST(IndexSampler, UniformBelowIsUnbiasedEnough) {
  IndexSampler sampler(7);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) ++counts[sampler.uniform_below(6)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);  // ~5 standard deviations
}

TEST(IndexSampler, WithoutReplacementIsAPartialFisherYates) {
  IndexSampler sampler(3);
  std::mt19937_64 engine(3);
  IndexSampler mirror(3);
  std::vector<std::size_t> pool(20);
  for (std::size_t i = 0; i < 20; ++i) pool[i] = i;
  for (std::size_t i = 0; i < 8; ++i) std::swap(pool[i], pool[i + mirror.uniform_below(20 - i)]);
  pool.resize(8);
  const auto drawn = sampler.without_replacement(20, 8);
  EXPECT_EQ(drawn, pool);
  const std::set<std::size_t> distinct(drawn.begin(), drawn.end());
  EXPECT_EQ(distinct.size(), 8u);

  auto all = IndexSampler(4).without_replacement(50, 50);
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(all[i], i);
  EXPECT_TRUE(IndexSampler(4).without_replacement(5, 0).empty());
}

TEST(IndexSampler, WithReplacementStaysInRange) {
  IndexSampler sampler(11);
  const auto idx = sampler.with_replacement(7, 1000);
  EXPECT_EQ(idx.size(), 1000u);
  EXPECT_LT(*std::max_element(idx.begin(), idx.end()), 7u);
  const std::set<std::size_t> distinct(idx.begin(), idx.end());
  EXPECT_EQ(distinct.size(), 7u);
}

}  // namespace
}  // namespace chexgen::metrics
