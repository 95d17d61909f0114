// Inception Score against scipy (softmax, scipy.stats.entropy KL, np.std), from
// tests/fixtures/make_metrics_golden.py.
#include <string>

#include <gtest/gtest.h>

#include "chexgen/metrics/inception_score.h"
#include "test_data.h"

namespace chexgen::metrics {
namespace {

using chexgen::testing::golden;
using chexgen::testing::within;

class InceptionScoreReferenceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InceptionScoreReferenceTest, MatchesScipy) {
  const std::string name = GetParam();
  const auto& g = golden()["inception_score"][name];
  const MatrixD logits = chexgen::testing::load_f64(name + "_logits.npy");
  const InceptionScoreResult r = inception_score(logits.view());
  // Sums of at most 100 x 20 terms in double; exp() of the mean KL.
  EXPECT_TRUE(within(r.mean, g["is_mean"].get<double>(), 0.0, 1e-12)) << name;
  EXPECT_TRUE(within(r.std, g["is_std"].get<double>(), 1e-13, 1e-10)) << name;
  const auto& splits = g["split_scores"];
  ASSERT_EQ(r.split_scores.size(), splits.size());
  for (std::size_t s = 0; s < splits.size(); ++s) {
    EXPECT_TRUE(within(r.split_scores[s], splits[s].get<double>(), 0.0, 1e-12)) << name << " split " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, InceptionScoreReferenceTest,
                         ::testing::Values("basic", "uneven", "extreme", "confident"));

}  // namespace
}  // namespace chexgen::metrics
