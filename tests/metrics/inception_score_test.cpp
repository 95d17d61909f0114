// Inception Score properties and input validation.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/metrics/inception_score.h"
#include "test_data.h"

namespace chexgen::metrics {
namespace {

using chexgen::testing::within;
using ::testing::HasSubstr;

TEST(InceptionScore, UniformPredictionsScoreOne) {
  const MatrixD logits(40, 7, 3.0);
  const InceptionScoreResult r = inception_score(logits.view());
  EXPECT_TRUE(within(r.mean, 1.0, 1e-15, 0.0));
  EXPECT_TRUE(within(r.std, 0.0, 1e-15, 0.0));
}

TEST(InceptionScore, ConfidentBalancedPredictionsScoreTheClassCount) {
  // Every split holds each of 5 classes twice, predicted with near certainty: IS -> 5.
  MatrixD logits(100, 5, 0.0);
  for (std::size_t i = 0; i < 100; ++i) logits(i, i % 5) = 60.0;
  const InceptionScoreResult r = inception_score(logits.view());
  EXPECT_TRUE(within(r.mean, 5.0, 1e-9, 0.0));
  EXPECT_EQ(r.split_scores.size(), 10u);
}

TEST(InceptionScore, SplitBoundariesFollowIntegerDivision) {
  // 12 rows, 5 splits: [0,2) [2,4) [4,7) [7,9) [9,12). Rows 4..6 predict class 0 and 1 evenly
  // within their split only when the split holds exactly those 3 rows.
  MatrixD logits(12, 2, 0.0);
  logits(4, 0) = 50;
  logits(5, 1) = 50;
  logits(6, 0) = 50;
  const InceptionScoreResult r = inception_score(logits.view(), InceptionScoreOptions{5});
  // Split 2: p(y) = (2/3, 1/3); KL of a one-hot row = −log p(y_row); mean = −(2/3)log(2/3) − (1/3)log(1/3).
  const double expected = std::exp(-(2.0 / 3.0) * std::log(2.0 / 3.0) - (1.0 / 3.0) * std::log(1.0 / 3.0));
  EXPECT_TRUE(within(r.split_scores[2], expected, 1e-12, 1e-12));
  EXPECT_TRUE(within(r.split_scores[0], 1.0, 1e-15, 0.0));
}

TEST(InceptionScore, FloatLogitsAreComputedInDouble) {
  auto logits = chexgen::testing::random_matrix<float>(50, 10, 3, 4.0);
  const auto as_double = chexgen::testing::cast_matrix<double>(logits);
  EXPECT_TRUE(within(inception_score(logits.view()).mean, inception_score(as_double.view()).mean, 0.0, 1e-15));
}

TEST(InceptionScore, BadInputIsAnErrorNotANumber) {
  const MatrixD few(9, 3, 0.0);
  EXPECT_THAT([&] { (void)inception_score(few.view(), {}, "s.npy"); },
              ::testing::ThrowsMessage<InputError>(
                  HasSubstr("s.npy: the Inception Score with 10 splits needs at least 10 samples")));
  MatrixD nan_rows(20, 3, 0.0);
  nan_rows(13, 1) = std::numeric_limits<double>::quiet_NaN();
  try {
    (void)inception_score(nan_rows.view(), {}, "s.npy");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().row, 14u);
  }
  EXPECT_THROW((void)inception_score(nan_rows.view(), InceptionScoreOptions{0}), UsageError);
}

}  // namespace
}  // namespace chexgen::metrics
