// PRDC API behaviour: malformed inputs are errors that name the set and row; results do not depend
// on threads, tiles or float vs double; the package's conventions on ties and duplicates.
#include "chexgen/metrics/prdc.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"

namespace chexgen::metrics {
namespace {

using ::testing::HasSubstr;

MatrixF gaussian(std::size_t rows, std::size_t cols, double mean, double sd, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(mean, sd);
  MatrixF m(rows, cols);
  for (std::size_t i = 0; i < rows * cols; ++i) m.data()[i] = static_cast<float>(dist(rng));
  return m;
}

MatrixD to_double(const MatrixF& m) {
  MatrixD out(m.rows(), m.cols());
  for (std::size_t i = 0; i < m.rows() * m.cols(); ++i) out.data()[i] = m.data()[i];
  return out;
}

void expect_identical(const PrdcResult& a, const PrdcResult& b, const std::string& what) {
  EXPECT_EQ(a.precision_fakes, b.precision_fakes) << what;
  EXPECT_EQ(a.recall_reals, b.recall_reals) << what;
  EXPECT_EQ(a.density_memberships, b.density_memberships) << what;
  EXPECT_EQ(a.coverage_reals, b.coverage_reals) << what;
  EXPECT_EQ(a.precision, b.precision) << what;
  EXPECT_EQ(a.recall, b.recall) << what;
  EXPECT_EQ(a.density, b.density) << what;
  EXPECT_EQ(a.coverage, b.coverage) << what;
}

TEST(Prdc, SameAnswerForAnyThreadsTilesAndPrecision) {
  // Offset features (like non-negative CNN activations) in a dimension where float32 rounds.
  const MatrixF real = gaussian(611, 48, 2.0, 1.0, 1);
  const MatrixF fake = gaussian(577, 48, 2.1, 1.1, 2);
  PrdcOptions base;
  base.threads = 1;
  const PrdcResult reference = compute_prdc(real.view(), fake.view(), base);
  EXPECT_EQ(reference.real_count, 611u);
  EXPECT_EQ(reference.fake_count, 577u);
  EXPECT_EQ(reference.k, 5);
  for (int threads : {2, 3, 0}) {
    for (auto [rows, cols] : {std::pair<std::size_t, std::size_t>{256, 4096}, {1, 1000}, {37, 53}, {611, 1}}) {
      PrdcOptions o = base;
      o.threads = threads;
      o.tile_rows = rows;
      o.tile_cols = cols;
      const std::string what =
          "threads " + std::to_string(threads) + " tiles " + std::to_string(rows) + "x" + std::to_string(cols);
      expect_identical(compute_prdc(real.view(), fake.view(), o), reference, what);
    }
  }
  const MatrixD real_d = to_double(real);
  const MatrixD fake_d = to_double(fake);
  expect_identical(compute_prdc(real_d.view(), fake_d.view(), base), reference, "double input");
  // The float kernel decides almost every pair without help.
  const double pairs = 611.0 * 611 + 577.0 * 577 + 611.0 * 577;
  EXPECT_LT(static_cast<double>(reference.exact_recomputations), 0.05 * pairs);
}

TEST(Prdc, ResultsAreFractionsOfTheCounts) {
  const MatrixF real = gaussian(120, 10, 0, 1, 3);
  const MatrixF fake = gaussian(90, 10, 0.5, 1, 4);
  PrdcOptions o;
  o.k = 3;
  const PrdcResult r = compute_prdc(real.view(), fake.view(), o);
  EXPECT_EQ(r.precision, static_cast<double>(r.precision_fakes) / 90);
  EXPECT_EQ(r.recall, static_cast<double>(r.recall_reals) / 120);
  EXPECT_EQ(r.coverage, static_cast<double>(r.coverage_reals) / 120);
  EXPECT_EQ(r.density, (1.0 / 3) * (static_cast<double>(r.density_memberships) / 90));
  EXPECT_GT(r.precision, 0.0);
  EXPECT_LT(r.precision, 1.0);
}

TEST(Prdc, FarApartSetsScoreZero) {
  const MatrixF real = gaussian(40, 6, 0, 1, 5);
  const MatrixF fake = gaussian(30, 6, 100, 1, 6);
  const PrdcResult r = compute_prdc(real.view(), fake.view(), {});
  EXPECT_EQ(r.precision, 0.0);
  EXPECT_EQ(r.recall, 0.0);
  EXPECT_EQ(r.density, 0.0);
  EXPECT_EQ(r.coverage, 0.0);
}

TEST(Prdc, AllRowsEqualGivesRadiusZeroAndEmptyBalls) {
  // Every distance is 0, so every radius is 0 and the strict '<' admits nothing (prdc package).
  const MatrixF same(10, 3, 1.5f);
  const PrdcResult r = compute_prdc(same.view(), same.view(), {});
  EXPECT_EQ(r.precision, 0.0);
  EXPECT_EQ(r.recall, 0.0);
  EXPECT_EQ(r.density, 0.0);
  EXPECT_EQ(r.coverage, 0.0);
}

TEST(Prdc, ProgressAdvancesOncePerRowBlockUpToItsTotal) {
  const MatrixF real = gaussian(300, 8, 0, 1, 7);
  const MatrixF fake = gaussian(170, 8, 0, 1, 8);
  PrdcOptions o;
  o.tile_rows = 64;
  const std::size_t total = prdc_progress_total(300, 170, o);
  EXPECT_EQ(total, 5u + 5u + 3u);  // real x real, real x fake (5 blocks of 64 rows each), fake x fake (3)
  Progress progress("prdc", total, ProgressOptions{false});
  compute_prdc(real.view(), fake.view(), o, &progress);
  EXPECT_EQ(progress.done(), total);
}

TEST(Prdc, NearestNeighbourDistancesAreTheKthOtherRow) {
  // Points on a line at 0, 1, 3, 7, 7: distances to the other rows, k-th smallest.
  MatrixF x(5, 1);
  const float at[5] = {0, 1, 3, 7, 7};
  for (std::size_t i = 0; i < 5; ++i) x(i, 0) = at[i];
  const std::vector<double> k1 = nearest_neighbour_distances(x.view(), 1, {2, 2, 2});
  EXPECT_EQ(k1, (std::vector<double>{1, 1, 2, 0, 0}));  // the duplicate 7 is at distance 0
  const std::vector<double> k2 = nearest_neighbour_distances(x.view(), 2, {2, 2, 2});
  EXPECT_EQ(k2, (std::vector<double>{3, 2, 3, 4, 4}));
  EXPECT_THROW(nearest_neighbour_distances(x.view(), 5, {}), InputError);
}

// ---- malformed input ---------------------------------------------------------------------------

template <class Fn>
InputError expect_input_error(Fn fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "expected InputError";
  return InputError(Location{}, "");
}

TEST(PrdcErrors, KBelowOneIsAUsageError) {
  const MatrixF x = gaussian(10, 3, 0, 1, 1);
  PrdcOptions o;
  o.k = 0;
  EXPECT_THROW(compute_prdc(x.view(), x.view(), o), UsageError);
  o.k = -2;
  EXPECT_THROW(compute_prdc(x.view(), x.view(), o), UsageError);
  EXPECT_THROW(nearest_neighbour_distances(x.view(), 0, {}), UsageError);
}

TEST(PrdcErrors, ZeroTileIsAUsageError) {
  const MatrixF x = gaussian(10, 3, 0, 1, 1);
  PrdcOptions o;
  o.tile_rows = 0;
  EXPECT_THROW(compute_prdc(x.view(), x.view(), o), UsageError);
}

TEST(PrdcErrors, KAtLeastSetSizeNamesTheSet) {
  const MatrixF real = gaussian(6, 3, 0, 1, 1);
  const MatrixF fake = gaussian(5, 3, 0, 1, 2);
  PrdcOptions o;
  o.real_source = "real.npy";
  o.fake_source = "fake.npy";
  o.k = 5;  // real has 6 rows: fine; fake has 5: k >= N
  const InputError e = expect_input_error([&] { compute_prdc(real.view(), fake.view(), o); });
  EXPECT_EQ(e.where().file, "fake.npy");
  EXPECT_THAT(e.what(), HasSubstr("k = 5"));
  o.k = 6;
  EXPECT_EQ(expect_input_error([&] { compute_prdc(real.view(), fake.view(), o); }).where().file, "real.npy");
  o.k = 4;
  EXPECT_NO_THROW(compute_prdc(real.view(), fake.view(), o));  // k = N - 1 is well defined
}

TEST(PrdcErrors, EmptySetsAndZeroColumns) {
  const MatrixF x = gaussian(10, 3, 0, 1, 1);
  const MatrixF empty(0, 3);
  const MatrixF no_columns(10, 0);
  EXPECT_EQ(expect_input_error([&] { compute_prdc(empty.view(), x.view(), {}); }).where().file, "real features");
  EXPECT_EQ(expect_input_error([&] { compute_prdc(x.view(), empty.view(), {}); }).where().file, "fake features");
  EXPECT_EQ(expect_input_error([&] { compute_prdc(x.view(), no_columns.view(), {}); }).where().file, "fake features");
}

TEST(PrdcErrors, DimensionMismatchNamesTheFakeSet) {
  const MatrixF real = gaussian(10, 3, 0, 1, 1);
  const MatrixF fake = gaussian(10, 4, 0, 1, 2);
  const InputError e = expect_input_error([&] { compute_prdc(real.view(), fake.view(), {}); });
  EXPECT_EQ(e.where().file, "fake features");
  EXPECT_THAT(e.what(), HasSubstr("4"));
  EXPECT_THAT(e.what(), HasSubstr("3"));
}

TEST(PrdcErrors, NonFiniteValuesNameTheRow) {
  MatrixF real = gaussian(10, 3, 0, 1, 1);
  MatrixF fake = gaussian(12, 3, 0, 1, 2);
  real(6, 2) = std::numeric_limits<float>::quiet_NaN();
  InputError e = expect_input_error([&] { compute_prdc(real.view(), fake.view(), {}); });
  EXPECT_EQ(e.where().file, "real features");
  EXPECT_EQ(e.where().row, std::optional<std::size_t>(7));  // 1-based
  real(6, 2) = 0;
  fake(11, 0) = -std::numeric_limits<float>::infinity();
  e = expect_input_error([&] { compute_prdc(real.view(), fake.view(), {}); });
  EXPECT_EQ(e.where().file, "fake features");
  EXPECT_EQ(e.where().row, std::optional<std::size_t>(12));
  MatrixD real_d = to_double(real);
  real_d(0, 0) = std::numeric_limits<double>::infinity();
  const MatrixD fake_d = to_double(gaussian(12, 3, 0, 1, 2));
  e = expect_input_error([&] { compute_prdc(real_d.view(), fake_d.view(), {}); });
  EXPECT_EQ(e.where().row, std::optional<std::size_t>(1));
}

TEST(PrdcErrors, HugeButFiniteValuesStillGiveExactDecisions) {
  // float32 squared norms overflow to inf here; the engine must not trust those tile values.
  MatrixF real = gaussian(12, 4, 0, 1, 8);
  MatrixF fake = gaussian(12, 4, 0, 1, 9);
  for (std::size_t i = 0; i < 12 * 4; ++i) {
    real.data()[i] *= 1e20f;
    fake.data()[i] *= 1e20f;
  }
  const MatrixD real_d = to_double(real);
  const MatrixD fake_d = to_double(fake);
  expect_identical(compute_prdc(real.view(), fake.view(), {}), compute_prdc(real_d.view(), fake_d.view(), {}),
                   "1e20-scaled data");
}

}  // namespace
}  // namespace chexgen::metrics
