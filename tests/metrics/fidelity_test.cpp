// evaluate_fidelity: point values equal the individual metrics, bootstrap intervals are seeded and
// cover every selected scalar, and the JSON carries the documented keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/metrics/fidelity.h"
#include "test_data.h"

namespace chexgen::metrics {
namespace {

using chexgen::testing::random_matrix;

FidelityOptions small_options() {
  FidelityOptions o;
  o.kid_options.subsets = 3;
  o.kid_options.subset_size = 20;
  o.prdc_options.k = 3;
  o.prdc_options.threads = 1;
  o.seed = 5;
  return o;
}

TEST(EvaluateFidelity, PointValuesAreTheIndividualMetrics) {
  const auto real = random_matrix<float>(40, 6, 1);
  const auto synthetic = random_matrix<float>(35, 6, 2, 1.2, 0.2);
  const auto logits = random_matrix<double>(30, 4, 3, 2.0);
  FidelityInputs<float> in;
  in.real = real.view();
  in.synthetic = synthetic.view();
  in.synthetic_logits = logits.view();
  const FidelityReport r = evaluate_fidelity(in, small_options());
  EXPECT_EQ(*r.values.fid, fid(real.view(), synthetic.view()));
  KidOptions k = small_options().kid_options;
  k.seed = 5;
  EXPECT_EQ(r.values.kid->subset_mmd2, kid(real.view(), synthetic.view(), k).subset_mmd2);
  const PrdcResult p = compute_prdc(real.view(), synthetic.view(), small_options().prdc_options);
  EXPECT_EQ(r.values.prdc->precision, p.precision);
  EXPECT_EQ(r.values.prdc->coverage, p.coverage);
  EXPECT_EQ(r.values.synthetic_is->mean, inception_score(logits.view()).mean);
  EXPECT_FALSE(r.values.real_is.has_value());
  EXPECT_TRUE(r.intervals.empty());

  // Every scalar of the computed metrics, and a wall time per metric.
  EXPECT_EQ(r.values.scalars().size(), 9u);  // fid, kid mean/std, 4 PRDC, IS mean/std
  for (const char* metric : {"fid", "kid", "prdc", "inception_score"}) EXPECT_TRUE(r.seconds.count(metric)) << metric;
}

TEST(EvaluateFidelity, BootstrapIntervalsAreSeededAndCoverEveryScalar) {
  const auto real = random_matrix<double>(30, 4, 4);
  const auto synthetic = random_matrix<double>(30, 4, 5, 1.0, 0.5);
  const auto logits = random_matrix<double>(20, 3, 6);
  FidelityInputs<double> in;
  in.real = real.view();
  in.synthetic = synthetic.view();
  in.real_logits = logits.view();
  FidelityOptions o = small_options();
  o.bootstrap.resamples = 8;
  const FidelityReport a = evaluate_fidelity(in, o);
  const FidelityReport b = evaluate_fidelity(in, o);
  EXPECT_EQ(a.bootstrap_resamples, 8u);
  using S = FidelityScalar;
  for (const S key : {S::fid, S::kid_mean, S::kid_std, S::precision, S::recall, S::density, S::coverage,
                      S::real_is_mean, S::real_is_std}) {
    const int k = static_cast<int>(key);
    ASSERT_TRUE(a.intervals.count(key)) << k;
    EXPECT_LE(a.intervals.at(key).low, a.intervals.at(key).high) << k;
    EXPECT_EQ(a.intervals.at(key).low, b.intervals.at(key).low) << k;
    EXPECT_EQ(a.intervals.at(key).high, b.intervals.at(key).high) << k;
  }
  EXPECT_EQ(a.intervals.size(), 9u);  // no synthetic logits: no is_mean, is_std
  // Resampling with replacement duplicates rows, and FID of a resample is still finite and >= 0.
  EXPECT_GE(a.intervals.at(S::fid).low, -1e-9);
  o.seed = 6;
  EXPECT_NE(evaluate_fidelity(in, o).intervals.at(S::fid).low, a.intervals.at(S::fid).low);
}

TEST(EvaluateFidelity, ValidatesWithTheSourceNames) {
  auto real = random_matrix<double>(30, 4, 7);
  const auto synthetic = random_matrix<double>(30, 4, 8);
  real(11, 3) = std::numeric_limits<double>::infinity();
  FidelityInputs<double> in;
  in.real = real.view();
  in.synthetic = synthetic.view();
  in.real_source = "feats/real.npy";
  EXPECT_THAT([&] { (void)evaluate_fidelity(in, small_options()); },
              ::testing::ThrowsMessage<InputError>(::testing::HasSubstr("feats/real.npy:12:")));
  FidelityOptions none = small_options();
  none.fid = none.kid = none.prdc = none.inception_score = false;
  EXPECT_THROW((void)evaluate_fidelity(in, none), UsageError);
  // k >= N is an error from PRDC, not a number.
  const auto tiny = random_matrix<double>(4, 4, 9);
  FidelityOptions prdc_only = small_options();
  prdc_only.fid = prdc_only.kid = false;
  prdc_only.prdc_options.k = 5;
  FidelityInputs<double> tiny_in;
  tiny_in.real = tiny.view();
  tiny_in.synthetic = tiny.view();
  EXPECT_THROW((void)evaluate_fidelity(tiny_in, prdc_only), InputError);
}

}  // namespace
}  // namespace chexgen::metrics
