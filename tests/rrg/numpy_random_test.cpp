// numpy's generators, percentile, median and statistics.mean, draw for draw and bit for bit against
// tests/fixtures/make_rrg_golden.py (Debian's numpy).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/metrics/numpy_random.h"

namespace chexgen::metrics {
namespace {

const nlohmann::json& golden() {
  static const nlohmann::json g = [] {
    std::ifstream in(std::filesystem::path(CHEXGEN_SOURCE_DIR) / "tests/golden/rrg/rrg_golden.json");
    return nlohmann::json::parse(in);
  }();
  return g;
}

TEST(NumpyGenerator, RawWordsOfDefaultRng) {
  for (const auto& [seed, words] : golden()["numpy"]["raw"].items()) {
    NumpyGenerator rng(std::stoull(seed));
    for (const auto& w : words) EXPECT_EQ(rng.next64(), std::stoull(w.get<std::string>())) << "seed " << seed;
  }
}

TEST(NumpyGenerator, IntegersAndChoiceWithReplacement) {
  for (const auto& c : golden()["numpy"]["integers"]) {
    NumpyGenerator rng(c["seed"].get<std::uint64_t>());
    const auto n = c["n"].get<std::uint64_t>();
    std::size_t i = 0;
    for (const auto& v : c["values"]) ASSERT_EQ(rng.integer_below(n), v.get<std::uint64_t>()) << "n " << n << " at " << i++;
  }
  for (const auto& c : golden()["numpy"]["choice"]) {
    NumpyGenerator rng(c["seed"].get<std::uint64_t>());
    const auto n = c["n"].get<std::uint64_t>();
    for (const auto& v : c["values"]) ASSERT_EQ(rng.integer_below(n), v.get<std::uint64_t>());
  }
}

TEST(NumpyLegacyRandom, RandintAndGlobalChoice) {
  for (const auto& c : golden()["numpy"]["legacy_randint"]) {
    NumpyLegacyRandom rng(c["seed"].get<std::uint32_t>());
    const auto n = c["n"].get<std::uint64_t>();
    for (const auto& v : c["values"]) ASSERT_EQ(rng.randint_below(n), v.get<std::uint64_t>()) << "n " << n;
  }
  const auto& c = golden()["numpy"]["legacy_choice"];
  NumpyLegacyRandom rng(c["seed"].get<std::uint32_t>());
  for (const auto& row : c["values"])
    for (const auto& v : row) ASSERT_EQ(rng.randint_below(c["n"].get<std::uint64_t>()), v.get<std::uint64_t>());
}

TEST(NumpyPercentile, EqualsNumpyBitForBit) {
  for (const auto& c : golden()["order_statistics"]["percentile_cases"]) {
    const auto values = c["values"].get<std::vector<double>>();
    const auto qs = c["q"].get<std::vector<double>>();
    for (std::size_t k = 0; k < qs.size(); ++k)
      EXPECT_EQ(numpy_percentile(values, qs[k]), c["percentile"][k].get<double>()) << "q " << qs[k];
    EXPECT_EQ(numpy_median(values), c["median"].get<double>());
  }
}

TEST(PythonExactMean, EqualsStatisticsMean) {
  for (const auto& c : golden()["order_statistics"]["exact_means"]) {
    const auto values = c["values"].get<std::vector<double>>();
    EXPECT_EQ(python_exact_mean(values), c["mean"].get<double>()) << c["values"].dump();
  }
  // A plain sum would round: 1e16 + 1 + 1 − ... is exact here.
  const std::vector<double> v = {1e16, 1.0, 1.0, 1.0};
  EXPECT_EQ(python_exact_mean(v), 2500000000000000.75);
}

}  // namespace
}  // namespace chexgen::metrics
