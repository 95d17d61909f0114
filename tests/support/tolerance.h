// Floating-point agreement for tests. A value computed through a library whose kernels depend on the CPU (LibTorch,
// OpenBLAS, LAPACK) agrees with a golden file made elsewhere only within a tolerance: the bound is scaled to the
// values, and each test that uses one also shows that a real mistake exceeds it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

#include <gtest/gtest.h>

namespace chexgen::testing {

// |actual − golden| ≤ abs + rel·|golden|, with both values in the failure message.
inline ::testing::AssertionResult within(double actual, double golden, double abs, double rel) {
  const double bound = abs + rel * std::abs(golden);
  if (std::abs(actual - golden) <= bound) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "|" << actual << " - " << golden << "| = " << std::abs(actual - golden)
                                       << " > " << bound << " (abs " << abs << " + rel " << rel << ")";
}

// Deep features against a golden file made on another machine, whose BLAS kernels may round convolutions otherwise:
// the largest difference of a feature vector, over its largest value. Kernel sets differ by at most 1.8e-7 on the
// test models (OpenBLAS Prescott, Haswell, SkylakeX), optimize_for_inference by 4.5e-7; each typical preprocessing
// mistake by 4.1e-4 or more (tests/deep/torch_model_test.cpp, AWrongPreprocessingStepExceedsTheBound).
inline constexpr double kDeepFeatureTolerance = 1e-5;

// Two feature matrices, row-major with `cols` columns: per row, the largest |ours − ref| over the largest |ref| of
// that row (a feature vector's scale), and the worst row.
struct RowAgreement {
  double worst_relative = 0;  // max over rows of max_j |ours − ref| / max_j |ref|
  double worst_absolute = 0;  // max over all values of |ours − ref|
};

template <class A, class B>
RowAgreement compare_rows(std::span<const A> ours, std::span<const B> ref, std::size_t cols) {
  EXPECT_EQ(ours.size(), ref.size());
  RowAgreement a;
  for (std::size_t start = 0; start + cols <= std::min(ours.size(), ref.size()); start += cols) {
    double scale = 0, diff = 0;
    for (std::size_t j = start; j < start + cols; ++j) {
      scale = std::max(scale, std::abs(static_cast<double>(ref[j])));
      diff = std::max(diff, std::abs(static_cast<double>(ours[j]) - static_cast<double>(ref[j])));
    }
    a.worst_absolute = std::max(a.worst_absolute, diff);
    a.worst_relative = std::max(a.worst_relative, scale > 0 ? diff / scale : diff);
  }
  return a;
}

}  // namespace chexgen::testing
