// Percentile intervals (numpy.percentile's default linear method) and row resampling.
#include <gtest/gtest.h>

#include "chexgen/metrics/bootstrap.h"
#include "test_data.h"

namespace chexgen::metrics {
namespace {

using chexgen::testing::within;

TEST(Percentile, LinearInterpolationLikeNumpy) {
  // numpy.percentile(v, q): position (n − 1)·q/100 in the sorted values, linear in between.
  EXPECT_DOUBLE_EQ(percentile({5, 1, 3, 2, 4}, 25.0), 2.0);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 3, 2, 4}, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 3, 2, 4}, 100.0), 5.0);
  EXPECT_DOUBLE_EQ(percentile({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 2.5), 0.225);            // position 0.225
  EXPECT_DOUBLE_EQ(percentile({0, 10, 20, 30, 40, 50, 60, 70, 80, 90}, 97.5), 87.75);  // position 8.775
  EXPECT_DOUBLE_EQ(percentile({42}, 97.5), 42.0);
  const Interval i = percentile_interval({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 0.95);
  EXPECT_TRUE(within(i.low, 0.225, 1e-15, 0.0));
  EXPECT_TRUE(within(i.high, 8.775, 1e-15, 1e-15));
}

TEST(TakeRows, CopiesTheRowsInIndexOrder) {
  const MatrixD x(3, 2, std::vector<double>{1, 2, 3, 4, 5, 6});
  const MatrixD y = take_rows(x.view(), {2, 0, 2});
  EXPECT_EQ(y.values(), (std::vector<double>{5, 6, 1, 2, 5, 6}));
}

}  // namespace
}  // namespace chexgen::metrics
