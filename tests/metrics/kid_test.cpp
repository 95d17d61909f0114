// KID: subsets, seeds, the self-comparison identity and input validation.
#include <cmath>
#include <limits>
#include <numeric>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/metrics/kid.h"
#include "chexgen/metrics/sampling.h"
#include "test_data.h"

namespace chexgen::metrics {
namespace {

using chexgen::testing::random_matrix;
using chexgen::testing::within;
using ::testing::HasSubstr;

double cubic(const MatrixD& x, std::size_t i, std::size_t j) {
  double dot = 0.0;
  for (std::size_t t = 0; t < x.cols(); ++t) dot += x(i, t) * x(j, t);
  const double b = dot / static_cast<double>(x.cols()) + 1.0;
  return b * b * b;
}

TEST(Kid, SubsetsFollowTheDocumentedDrawOrder) {
  const auto real = random_matrix<double>(30, 5, 1);
  const auto synthetic = random_matrix<double>(25, 5, 2, 1.0, 0.3);
  KidOptions options;
  options.subsets = 4;
  options.subset_size = 10;
  options.seed = 1234;
  const KidResult r = kid(real.view(), synthetic.view(), options);
  ASSERT_EQ(r.subset_mmd2.size(), 4u);
  // Subset s draws its real rows and then its synthetic rows from one IndexSampler(seed).
  IndexSampler sampler(1234);
  double sum = 0.0;
  for (std::size_t s = 0; s < 4; ++s) {
    const auto ir = sampler.without_replacement(30, 10);
    const auto is = sampler.without_replacement(25, 10);
    const double v = mmd2_unbiased(real.view(), ir, synthetic.view(), is, PolynomialKernel{});
    EXPECT_DOUBLE_EQ(r.subset_mmd2[s], v);
    sum += v;
  }
  const double mean = sum / 4.0;
  double var = 0.0;
  for (double v : r.subset_mmd2) var += (v - mean) * (v - mean);
  EXPECT_TRUE(within(r.mean, mean, 1e-15, 1e-13));
  EXPECT_TRUE(within(r.std, std::sqrt(var / 4.0), 1e-15, 1e-12));  // population std (np.std)
  EXPECT_GT(r.std, 0.0);
}

TEST(Kid, SameSeedSameResultOtherSeedOtherSubsets) {
  const auto real = random_matrix<float>(40, 6, 3);
  const auto synthetic = random_matrix<float>(40, 6, 4, 1.3);
  KidOptions options;
  options.subsets = 5;
  options.subset_size = 12;
  const KidResult a = kid(real.view(), synthetic.view(), options);
  const KidResult b = kid(real.view(), synthetic.view(), options);
  EXPECT_EQ(a.subset_mmd2, b.subset_mmd2);
  options.seed = 43;
  const KidResult c = kid(real.view(), synthetic.view(), options);
  EXPECT_NE(a.subset_mmd2, c.subset_mmd2);
}

TEST(Kid, ASetAgainstItselfIsTheDiagonalCorrection) {
  // With X = Y, MMD²_u = 2/m · (mean off-diagonal k − mean diagonal k): close to 0, slightly
  // negative, shrinking like 1/m (docs/metrics.md).
  const auto x = random_matrix<double>(60, 8, 5);
  double diag = 0.0, off = 0.0;
  for (std::size_t i = 0; i < 60; ++i)
    for (std::size_t j = 0; j < 60; ++j) (i == j ? diag : off) += cubic(x, i, j);
  const double expected = 2.0 / 60.0 * (off / (60.0 * 59.0) - diag / 60.0);
  KidOptions options;
  options.subsets = 1;
  options.subset_size = 60;
  const KidResult r = kid(x.view(), x.view(), options);
  EXPECT_TRUE(within(r.mean, expected, 1e-13, 1e-11));
  EXPECT_LT(r.mean, 0.0);
  EXPECT_LT(std::fabs(r.mean), 2.0 / 60.0 * diag / 60.0);
}

TEST(Kid, TwoSamplesOfOneDistributionAverageNearZero) {
  const auto a = random_matrix<double>(400, 8, 6);
  const auto b = random_matrix<double>(400, 8, 7);
  KidOptions options;
  options.subsets = 20;
  options.subset_size = 100;
  const KidResult r = kid(a.view(), b.view(), options);
  EXPECT_LT(std::fabs(r.mean), 3.0 * r.std / std::sqrt(20.0) + 1e-3);
  // A shifted set is clearly farther away.
  const auto c = random_matrix<double>(400, 8, 8, 1.0, 1.0);
  EXPECT_GT(kid(a.view(), c.view(), options).mean, 10.0 * std::fabs(r.mean));
}

TEST(Kid, DefaultSubsetSizeIsMin1000AndTheSetSizes) {
  KidOptions options;
  EXPECT_EQ(kid_subset_size(options, 5000, 3000), 1000u);
  EXPECT_EQ(kid_subset_size(options, 500, 700), 500u);
  options.subset_size = 700;
  EXPECT_THAT([&] { (void)kid_subset_size(options, 500, 800); },
              ::testing::ThrowsMessage<UsageError>(HasSubstr("KID subset size 700 is larger than the smaller set")));
}

TEST(Kid, BadInputIsAnErrorNotANumber) {
  const auto a = random_matrix<double>(10, 4, 9);
  const auto b = random_matrix<double>(10, 5, 10);
  EXPECT_THROW((void)kid(a.view(), b.view()), InputError);
  MatrixD nan_rows = a;
  nan_rows(9, 0) = std::numeric_limits<double>::quiet_NaN();
  try {
    (void)kid(nan_rows.view(), a.view());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, "real");
    EXPECT_EQ(e.where().row, 10u);
  }
  KidOptions one;
  one.subset_size = 1;
  EXPECT_THROW((void)kid(a.view(), a.view(), one), UsageError);
  KidOptions none;
  none.subsets = 0;
  EXPECT_THROW((void)kid(a.view(), a.view(), none), UsageError);
  const MatrixD single(1, 4, 0.0);
  EXPECT_THROW((void)kid(single.view(), a.view()), InputError);
}

}  // namespace
}  // namespace chexgen::metrics
