// FID against numpy/scipy (tests/fixtures/make_metrics_golden.py): scipy.linalg.sqrtm as pytorch-fid
// computes it, and the exact nuclear-norm identity tr (Σ₁Σ₂)^½ = ‖A₁A₂ᵀ‖_* / √((n₁−1)(n₂−1)).
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "chexgen/metrics/fid.h"
#include "test_data.h"

namespace chexgen::metrics {
namespace {

using chexgen::testing::golden;
using chexgen::testing::within;

// tr Σ₁ + tr Σ₂ + ‖μ₁ − μ₂‖²: the size of the terms FID is a difference of, so the scale of its
// rounding error (computed directly, independently of fid.cpp).
double fid_scale(const MatrixD& a, const MatrixD& b) {
  auto mean_and_trace = [](const MatrixD& x, std::vector<double>& mean) {
    mean.assign(x.cols(), 0.0);
    for (std::size_t i = 0; i < x.rows(); ++i)
      for (std::size_t j = 0; j < x.cols(); ++j) mean[j] += x(i, j) / static_cast<double>(x.rows());
    double t = 0.0;
    for (std::size_t i = 0; i < x.rows(); ++i)
      for (std::size_t j = 0; j < x.cols(); ++j) t += (x(i, j) - mean[j]) * (x(i, j) - mean[j]);
    return t / static_cast<double>(x.rows() - 1);
  };
  std::vector<double> ma, mb;
  double s = mean_and_trace(a, ma) + mean_and_trace(b, mb);
  for (std::size_t j = 0; j < ma.size(); ++j) s += (ma[j] - mb[j]) * (ma[j] - mb[j]);
  return s;
}

class FidReferenceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FidReferenceTest, MatchesScipyAndTheNuclearNormRoute) {
  const std::string name = GetParam();
  const auto& g = golden()["features"][name];
  const MatrixD real = chexgen::testing::load_f64(name + "_real.npy");
  const MatrixD synthetic = chexgen::testing::load_f64(name + "_synthetic.npy");
  ASSERT_EQ(real.rows(), g["n_real"].get<std::size_t>());
  const double scale = fid_scale(real, synthetic);
  for (const FidSolver solver : {FidSolver::lapack, FidSolver::eigen}) {
    SCOPED_TRACE(solver == FidSolver::lapack ? "lapack" : "eigen");
    const double value = fid(real.view(), synthetic.view(), FidOptions{{}, solver});
    // Exact reference: only rounding of a difference of terms of size `scale` (d ≤ 48, double).
    EXPECT_TRUE(within(value, g["fid_nuclear"].get<double>(), 1e-11 * scale, 1e-10)) << name;
    if (g["well_conditioned"].get<bool>()) {
      // pytorch-fid's route; the bound: 1e-6 relative where sqrtm is well conditioned.
      EXPECT_TRUE(within(value, g["fid_sqrtm"].get<double>(), 1e-11 * scale, 1e-6)) << name;
    } else {
      // sqrtm of a singular product is only good to ~sqrt(ε); recorded for information.
      EXPECT_TRUE(within(value, g["fid_sqrtm"].get<double>(), 0.0, 1e-6)) << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FidReferenceTest, ::testing::ValuesIn(chexgen::testing::kFeatureCases));

TEST(FidReference, Float32InputMatchesTheFloat64Reference) {
  // The f32 fixture holds float32 values; the reference used those exact values in float64, and
  // our float path accumulates in double, so only double rounding separates them.
  const auto& g = golden()["features"]["f32"];
  const MatrixF real = chexgen::testing::load_f32("f32_real.npy");
  const MatrixF synthetic = chexgen::testing::load_f32("f32_synthetic.npy");
  EXPECT_TRUE(within(fid(real.view(), synthetic.view()), g["fid_nuclear"].get<double>(), 1e-9, 1e-10));
}

TEST(FidReference, IdenticalSetsGiveZero) {
  const MatrixD x = chexgen::testing::load_f64("identical_real.npy");
  const double scale = fid_scale(x, x);
  EXPECT_TRUE(within(fid(x.view(), x.view()), 0.0, 1e-12 * scale, 0.0));
}

}  // namespace
}  // namespace chexgen::metrics
