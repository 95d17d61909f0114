// IndexSampler: the documented algorithm (mt19937_64, rejection sampling, partial Fisher-Yates).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

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


// CPython's random and scikit-learn's split, against tests/fixtures/make_utility_split_golden.py.
nlohmann::json split_golden() {
  std::ifstream in(std::filesystem::path(CHEXGEN_SOURCE_DIR) / "tests/golden/utility/split_golden.json");
  return nlohmann::json::parse(in);
}

TEST(PythonRandom, WordsAreCPythonsAfterRandomSeed42) {
  const nlohmann::json g = split_golden();
  PythonRandom r(42);
  const auto words = g["seed42_words"].get<std::vector<std::uint32_t>>();
  for (std::size_t i = 0; i < words.size(); ++i) ASSERT_EQ(r.getrandbits(32), words[i]) << "word " << i;
}

TEST(PythonRandom, SampleIsRandomSampleInBothBranches) {
  const nlohmann::json g = split_golden();
  for (const auto& c : g["samples"]) {
    PythonRandom r(c["seed"].get<std::uint64_t>());
    EXPECT_EQ(r.sample(c["n"].get<std::size_t>(), c["k"].get<std::size_t>()),
              c["positions"].get<std::vector<std::size_t>>())
        << c["n"] << " " << c["k"] << " " << c["seed"];
  }
  // Another seed draws otherwise (the test can fail).
  EXPECT_NE(PythonRandom(43).sample(100, 50), PythonRandom(42).sample(100, 50));
}

TEST(SklearnTrainTestSplit, IsTrainTestSplitWithItsRounding) {
  const nlohmann::json g = split_golden();
  for (const auto& c : g["splits"]) {
    const IndexSplit s = sklearn_train_test_split(c["n"].get<std::size_t>(), c["fraction"].get<double>(),
                                                  c["seed"].get<std::uint32_t>());
    EXPECT_EQ(s.train, c["train"].get<std::vector<std::size_t>>()) << c["n"];
    EXPECT_EQ(s.test, c["test"].get<std::vector<std::size_t>>()) << c["n"];
  }
  EXPECT_EQ(sklearn_train_test_split(18575, 0.05, 42).test.size(), 929u);  // ceil(928.75)
  EXPECT_THROW(sklearn_train_test_split(1, 0.05, 42), std::invalid_argument);
}

}  // namespace
}  // namespace chexgen::metrics
