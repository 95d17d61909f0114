// PRDC against golden values from tests/fixtures/make_prdc_golden.py, a numpy reimplementation of
// the prdc package's algorithm with full distance matrices (cross-checked there against
// sklearn.metrics.pairwise_distances, the function the package calls).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/metrics/prdc.h"
#include "support/tolerance.h"

namespace chexgen::metrics {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(CHEXGEN_SOURCE_DIR) / "tests" / "golden" / "prdc";

struct GoldenCase {
  std::string name;
  MatrixF real;
  MatrixF fake;
  nlohmann::json results;
};

MatrixF to_matrix(const nlohmann::json& rows) {
  const std::size_t n = rows.size();
  const std::size_t d = rows.at(0).size();
  MatrixF m(n, d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      // The file stores the exact double value of each float32 input, so this cast is exact.
      const double v = rows.at(i).at(j).get<double>();
      m(i, j) = static_cast<float>(v);
      EXPECT_EQ(static_cast<double>(m(i, j)), v) << "golden input is not a float32 value";
    }
  return m;
}

std::vector<GoldenCase> load_cases() {
  std::vector<GoldenCase> cases;
  for (const auto& entry : fs::directory_iterator(kGoldenDir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const nlohmann::json j = nlohmann::json::parse(in);
    cases.push_back(
        {j.at("name").get<std::string>(), to_matrix(j.at("real")), to_matrix(j.at("fake")), j.at("results")});
  }
  std::sort(cases.begin(), cases.end(), [](const GoldenCase& a, const GoldenCase& b) { return a.name < b.name; });
  return cases;
}

MatrixD to_double(const MatrixF& m) {
  MatrixD out(m.rows(), m.cols());
  for (std::size_t i = 0; i < m.rows() * m.cols(); ++i) out.data()[i] = m.data()[i];
  return out;
}

void expect_close(double a, double g, double abs, double rel, const std::string& what) {
  EXPECT_TRUE(testing::within(a, g, abs, rel)) << what;
}

void expect_matches(const PrdcResult& got, const nlohmann::json& want, const std::string& what) {
  // Counts are integers: exact.
  EXPECT_EQ(got.precision_fakes, want.at("precision_fakes").get<std::size_t>()) << what;
  EXPECT_EQ(got.recall_reals, want.at("recall_reals").get<std::size_t>()) << what;
  EXPECT_EQ(got.density_memberships, want.at("density_memberships").get<std::size_t>()) << what;
  EXPECT_EQ(got.coverage_reals, want.at("coverage_reals").get<std::size_t>()) << what;
  // The same exact count divided by the same N in the same order as numpy: bit-identical expected;
  // 1e-15 relative only tolerates a last-bit difference in numpy's mean.
  expect_close(got.precision, want.at("precision").get<double>(), 0, 1e-15, what + " precision");
  expect_close(got.recall, want.at("recall").get<double>(), 0, 1e-15, what + " recall");
  expect_close(got.density, want.at("density").get<double>(), 0, 1e-15, what + " density");
  expect_close(got.coverage, want.at("coverage").get<double>(), 0, 1e-15, what + " coverage");
}

TEST(PrdcReference, AllGoldenCasesArePresent) { EXPECT_GE(load_cases().size(), 9u); }

TEST(PrdcReference, FloatInputMatchesGoldenForEveryTilingAndThreadCount) {
  const std::vector<PrdcOptions> variants = [] {
    std::vector<PrdcOptions> v;
    for (auto [rows, cols, threads] :
         {std::tuple<std::size_t, std::size_t, int>{256, 4096, 1}, {256, 4096, 0}, {1, 1, 2}, {3, 7, 3}, {16, 5, 2}}) {
      PrdcOptions o;
      o.tile_rows = rows;
      o.tile_cols = cols;
      o.threads = threads;
      v.push_back(o);
    }
    return v;
  }();
  for (const GoldenCase& c : load_cases()) {
    for (const nlohmann::json& want : c.results) {
      for (PrdcOptions options : variants) {
        options.k = want.at("k").get<int>();
        const std::string what = c.name + " k=" + std::to_string(options.k) + " tiles " +
                                 std::to_string(options.tile_rows) + "x" + std::to_string(options.tile_cols) +
                                 " threads " + std::to_string(options.threads);
        expect_matches(compute_prdc(c.real.view(), c.fake.view(), options), want, what);
      }
    }
  }
}

TEST(PrdcReference, DoubleInputMatchesGolden) {
  for (const GoldenCase& c : load_cases()) {
    const MatrixD real = to_double(c.real);
    const MatrixD fake = to_double(c.fake);
    for (const nlohmann::json& want : c.results) {
      PrdcOptions options;
      options.k = want.at("k").get<int>();
      options.tile_rows = 8;
      options.tile_cols = 9;
      expect_matches(compute_prdc(real.view(), fake.view(), options), want,
                     c.name + " (double) k=" + std::to_string(options.k));
    }
  }
}

TEST(PrdcReference, RadiiMatchGolden) {
  for (const GoldenCase& c : load_cases()) {
    for (const nlohmann::json& want : c.results) {
      const int k = want.at("k").get<int>();
      const std::vector<double> real = nearest_neighbour_distances(c.real.view(), k, {5, 6, 2});
      const std::vector<double> fake = nearest_neighbour_distances(c.fake.view(), k, {5, 6, 2});
      const auto real_want = want.at("real_radii").get<std::vector<double>>();
      const auto fake_want = want.at("fake_radii").get<std::vector<double>>();
      ASSERT_EQ(real.size(), real_want.size());
      ASSERT_EQ(fake.size(), fake_want.size());
      // sqrt of a double sum taken in a different order than numpy's: a few ulps.
      for (std::size_t i = 0; i < real.size(); ++i)
        expect_close(real[i], real_want[i], 0, 1e-13, c.name + " real radius " + std::to_string(i));
      for (std::size_t i = 0; i < fake.size(); ++i)
        expect_close(fake[i], fake_want[i], 0, 1e-13, c.name + " fake radius " + std::to_string(i));
    }
  }
}

TEST(PrdcReference, LargeOffsetCaseNeedsTheExactRecomputation) {
  // Values 3000 ± 4: float32 GEMM error (~4·d·u·‖x‖‖y‖ ≈ 100) exceeds the gaps between squared
  // distances (~1), so matching the golden values proves the double re-check is doing the work.
  for (const GoldenCase& c : load_cases()) {
    if (c.name != "large_offset") continue;
    PrdcOptions options;
    const PrdcResult r = compute_prdc(c.real.view(), c.fake.view(), options);
    const std::size_t pairs =
        c.real.rows() * c.real.rows() + c.fake.rows() * c.fake.rows() + c.real.rows() * c.fake.rows();
    EXPECT_GT(r.exact_recomputations, pairs / 2);
    return;
  }
  FAIL() << "large_offset golden case missing";
}

}  // namespace
}  // namespace chexgen::metrics
