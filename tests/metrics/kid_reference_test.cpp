// KID against explicit numpy sums (tests/fixtures/make_metrics_golden.py): the full-sample unbiased
// MMD² with k(x, y) = (xᵀy/d + 1)³, which KID equals when one subset covers both (equal-size) sets.
#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "chexgen/metrics/kid.h"
#include "test_data.h"

namespace chexgen::metrics {
namespace {

using chexgen::testing::golden;
using chexgen::testing::within;

// The largest kernel value magnitude, (max‖x‖² / d + 1)³: MMD² is a difference of averages of such
// values, so its rounding error scales with it (computed directly here).
double kernel_scale(const MatrixD& a, const MatrixD& b) {
  double top = 0.0;
  for (const MatrixD* m : {&a, &b}) {
    for (std::size_t i = 0; i < m->rows(); ++i) {
      double s = 0.0;
      for (std::size_t j = 0; j < m->cols(); ++j) s += (*m)(i, j) * (*m)(i, j);
      top = std::max(top, s);
    }
  }
  const double base = top / static_cast<double>(a.cols()) + 1.0;
  return base * base * base;
}

class KidReferenceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KidReferenceTest, FullSampleMmdMatchesNumpy) {
  const std::string name = GetParam();
  const auto& g = golden()["features"][name];
  const MatrixD real = chexgen::testing::load_f64(name + "_real.npy");
  const MatrixD synthetic = chexgen::testing::load_f64(name + "_synthetic.npy");
  const double scale = kernel_scale(real, synthetic);
  const double expected = g["mmd2_unbiased"].get<double>();
  // Double rounding of sums of up to 120² kernel values of size <= scale.
  EXPECT_TRUE(within(mmd2_unbiased(real.view(), synthetic.view()), expected, 1e-12 * scale, 1e-12)) << name;

  if (real.rows() == synthetic.rows()) {
    // One subset of all rows: the subset order does not change the value.
    KidOptions options;
    options.subsets = 1;
    options.subset_size = real.rows();
    for (std::size_t tile : {1u, 7u, 1024u}) {
      options.tile_rows = tile;
      const KidResult r = kid(real.view(), synthetic.view(), options);
      EXPECT_TRUE(within(r.mean, expected, 1e-12 * scale, 1e-12)) << name << " tile " << tile;
      EXPECT_EQ(r.std, 0.0);
      EXPECT_EQ(r.subset_size, real.rows());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, KidReferenceTest, ::testing::ValuesIn(chexgen::testing::kFeatureCases));

TEST(KidReference, Float32GramMatchesTheFloat64Reference) {
  // The Gram matrix is computed by SGEMM for float input (as torch-fidelity and clean-fid do with
  // float32 features); each dot product carries ~d·2⁻²⁴ relative error, amplified by the cubic kernel.
  const auto& g = golden()["features"]["f32"];
  const MatrixF real = chexgen::testing::load_f32("f32_real.npy");
  const MatrixF synthetic = chexgen::testing::load_f32("f32_synthetic.npy");
  const double scale =
      kernel_scale(chexgen::testing::cast_matrix<double>(real), chexgen::testing::cast_matrix<double>(synthetic));
  EXPECT_TRUE(
      within(mmd2_unbiased(real.view(), synthetic.view()), g["mmd2_unbiased"].get<double>(), 1e-6 * scale, 0.0));
}

}  // namespace
}  // namespace chexgen::metrics
