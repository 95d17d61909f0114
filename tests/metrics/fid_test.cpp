// FID properties and input validation.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/metrics/bootstrap.h"
#include "chexgen/metrics/fid.h"
#include "test_data.h"

namespace chexgen::metrics {
namespace {

using chexgen::testing::random_matrix;
using chexgen::testing::within;
using ::testing::HasSubstr;

TEST(GaussianStats, MatchesTheTextbookCovarianceForEveryBlockSize) {
  const auto x = random_matrix<double>(37, 5, 1, 2.0, 10.0);
  MatrixD naive(5, 5, 0.0);
  std::vector<double> mean(5, 0.0);
  for (std::size_t i = 0; i < 37; ++i)
    for (std::size_t j = 0; j < 5; ++j) mean[j] += x(i, j) / 37.0;
  for (std::size_t i = 0; i < 37; ++i)
    for (std::size_t a = 0; a < 5; ++a)
      for (std::size_t b = 0; b < 5; ++b) naive(a, b) += (x(i, a) - mean[a]) * (x(i, b) - mean[b]) / 36.0;
  for (std::size_t block : {1u, 3u, 36u, 37u, 1000u}) {
    const GaussianStats s = gaussian_stats(x.view(), CovarianceOptions{block});
    const MatrixD c = s.covariance();
    for (std::size_t a = 0; a < 5; ++a) {
      EXPECT_TRUE(within(s.mean[a], mean[a], 1e-13, 1e-14));
      for (std::size_t b = 0; b < 5; ++b) EXPECT_TRUE(within(c(a, b), naive(a, b), 1e-13, 1e-12)) << block;
    }
  }
}

TEST(GaussianStats, MergeEqualsTheStatisticsOfTheUnion) {
  const auto x = random_matrix<double>(50, 6, 2, 1.0, 3.0);
  const MatrixD first = take_rows(x.view(), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  std::vector<std::size_t> rest;
  for (std::size_t i = 13; i < 50; ++i) rest.push_back(i);
  const MatrixD second = take_rows(x.view(), rest);
  const GaussianStats whole = gaussian_stats(x.view());
  const GaussianStats merged = merge(gaussian_stats(first.view()), gaussian_stats(second.view()));
  EXPECT_EQ(merged.count, 50u);
  for (std::size_t k = 0; k < 36; ++k) {
    EXPECT_TRUE(within(merged.scatter.data()[k], whole.scatter.data()[k], 1e-12, 1e-12));
  }
  for (std::size_t j = 0; j < 6; ++j) EXPECT_TRUE(within(merged.mean[j], whole.mean[j], 1e-14, 1e-14));
  EXPECT_EQ(merge(GaussianStats{}, whole).count, 50u);
}

TEST(TraceSqrtProduct, DiagonalAndRankDeficientMatrices) {
  // Commuting diagonal matrices: tr (Σ₁Σ₂)^½ = Σ √(aᵢbᵢ).
  MatrixD a(3, 3, 0.0), b(3, 3, 0.0);
  a(0, 0) = 4;
  a(1, 1) = 9;
  a(2, 2) = 0;  // singular
  b(0, 0) = 1;
  b(1, 1) = 4;
  b(2, 2) = 7;
  EXPECT_TRUE(within(trace_sqrt_product(a, b), 2.0 + 6.0, 1e-14, 1e-14));
  EXPECT_TRUE(within(trace_sqrt_product(b, a), 8.0, 1e-14, 1e-14));
  EXPECT_EQ(trace_sqrt_product(MatrixD(3, 3, 0.0), b), 0.0);
}

TEST(Fid, SymmetricAndNonNegative) {
  for (unsigned seed = 0; seed < 6; ++seed) {
    const std::size_t d = 3 + seed * 5;
    const auto a = random_matrix<double>(10 + seed * 7, d, seed, 1.0, 0.0);
    const auto b = random_matrix<double>(12 + seed * 3, d, seed + 100, 1.5, 0.1 * seed);
    const double ab = fid(a.view(), b.view());
    const double ba = fid(b.view(), a.view());
    EXPECT_TRUE(within(ab, ba, 1e-10, 1e-9)) << seed;  // the two eigen-routes round differently
    EXPECT_GE(ab, -1e-10) << seed;
  }
}

TEST(Fid, TranslatingOneSetChangesOnlyTheMeanTerm) {
  const auto a = random_matrix<double>(40, 4, 3);
  const auto b = random_matrix<double>(30, 4, 4, 2.0);
  MatrixD shifted = b;
  const double v[4] = {1.0, -2.0, 0.5, 3.0};
  for (std::size_t i = 0; i < 30; ++i)
    for (std::size_t j = 0; j < 4; ++j) shifted(i, j) += v[j];
  const GaussianStats sa = gaussian_stats(a.view()), sb = gaussian_stats(b.view());
  double before = 0.0, after = 0.0;
  for (std::size_t j = 0; j < 4; ++j) {
    before += (sa.mean[j] - sb.mean[j]) * (sa.mean[j] - sb.mean[j]);
    after += (sa.mean[j] - sb.mean[j] - v[j]) * (sa.mean[j] - sb.mean[j] - v[j]);
  }
  EXPECT_TRUE(within(fid(a.view(), shifted.view()) - fid(a.view(), b.view()), after - before, 1e-10, 1e-10));
}

TEST(Fid, FloatAndDoubleAgree) {
  const auto a = random_matrix<float>(200, 16, 5);
  const auto b = random_matrix<float>(150, 16, 6, 1.2, 0.2);
  const auto a64 = chexgen::testing::cast_matrix<double>(a);
  const auto b64 = chexgen::testing::cast_matrix<double>(b);
  // The same values: float input is accumulated in double, so only summation order differs.
  EXPECT_TRUE(within(fid(a.view(), b.view()), fid(a64.view(), b64.view()), 1e-12, 1e-12));
}

TEST(Fid, BadInputIsAnErrorNotANumber) {
  const auto a = random_matrix<double>(10, 4, 7);
  const auto b3 = random_matrix<double>(10, 3, 8);
  EXPECT_THAT([&] { (void)fid(a.view(), b3.view()); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("feature dimension 3 does not match real (4 features)")));
  MatrixD nan_rows = a;
  nan_rows(6, 2) = std::numeric_limits<double>::quiet_NaN();
  try {
    (void)fid(a.view(), nan_rows.view());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, "synthetic");
    EXPECT_EQ(e.where().row, 7u);  // 1-based
    EXPECT_THAT(e.what(), HasSubstr("feature index 2"));
  }
  MatrixD inf_rows = a;
  inf_rows(0, 0) = -std::numeric_limits<double>::infinity();
  EXPECT_THROW((void)fid(inf_rows.view(), a.view()), InputError);
  const MatrixD one_row(1, 4, 0.0);
  EXPECT_THAT([&] { (void)fid(one_row.view(), a.view()); },
              ::testing::ThrowsMessage<InputError>(HasSubstr("FID needs at least 2 samples, the set has 1")));
  const MatrixD empty(0, 4);
  EXPECT_THROW((void)fid(a.view(), empty.view()), InputError);
  const MatrixD no_cols(5, 0);
  EXPECT_THROW((void)fid(no_cols.view(), no_cols.view()), InputError);
}

}  // namespace
}  // namespace chexgen::metrics

namespace chexgen::metrics {
namespace {

TEST(Fid, LapackAndEigenSolversAgree) {
  // Two different factorisations (pivoted Cholesky vs eigendecomposition) and SVD codes.
  for (const auto& [n, d] : {std::pair<std::size_t, std::size_t>{50, 8}, {15, 40}, {200, 64}}) {
    const auto a = random_matrix<double>(n, d, 11, 1.0, 0.0);
    const auto b = random_matrix<double>(n + 3, d, 12, 0.7, 0.2);
    const GaussianStats sa = gaussian_stats(a.view()), sb = gaussian_stats(b.view());
    const double lapack = frechet_distance(sa, sb, FidSolver::lapack);
    const double eigen = frechet_distance(sa, sb, FidSolver::eigen);
    EXPECT_TRUE(within(lapack, eigen, 1e-10, 1e-10)) << n << " x " << d;
  }
}

}  // namespace
}  // namespace chexgen::metrics
