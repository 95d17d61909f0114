// L2-regularised logistic regression, one binary model per label: scikit-learn's LogisticRegression(C=C,
// solver="lbfgs") fitted to its optimum. The objective of each label is
//     sum_i [log(1 + exp(z_i)) - y_i z_i] + ||w||^2 / (2C),   z_i = x_i . w + b
// (scikit-learn 1.2's for lbfgs; the intercept b is not penalised). The labels are fitted together by L-BFGS in
// lockstep, so each step is two matrix products over all labels (OpenBLAS), and stop each when the largest component
// of its gradient is below `gradient_tolerance` (scikit-learn's default tol=1e-4 stops earlier: its answer differs
// from the optimum by more than ours, docs/utility.md). Deterministic for a given BLAS and thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

struct LogisticOptions {
  double C = 1.0;                    // inverse regularisation strength, > 0
  double gradient_tolerance = 1e-6;  // on the summed objective's gradient (max norm)
  int max_iterations = 5000;
  int memory = 10;  // L-BFGS correction pairs
};

struct LogisticModel {
  std::vector<double> coef;  // d weights
  double intercept = 0;
  int iterations = 0;
  bool converged = false;  // the gradient criterion was met (else: max_iterations, or no step lowered the objective)
  double objective = 0;
  double gradient_max = 0;  // the largest |gradient component| at the end
};

// x: n x d (scaled by the caller, e.g. standardised on these rows); y: n x labels, row-major, 0/1; every label must
// have both classes (std::invalid_argument naming its column otherwise).
std::vector<LogisticModel> fit_logistic_l2(MatrixViewD x, std::span<const std::uint8_t> y, std::size_t labels,
                                           const LogisticOptions& options);

// P(y = 1 | x) for each row and model: n x models.size().
MatrixD logistic_probabilities(MatrixViewD x, const std::vector<LogisticModel>& models);

}  // namespace chexgen::metrics
