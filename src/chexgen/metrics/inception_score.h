// Inception Score from classifier logits (docs/metrics.md, "Inception Score"), as torch-fidelity's
// isc_features_to_metric computes it with samples_shuffle=False:
//
//   p(y|x) = softmax(logits);  split s holds rows [s·N/S, (s+1)·N/S)  (integer division)
//   IS_s = exp( mean_x KL(p(y|x) ‖ p_s(y)) ),  p_s(y) = mean of p(y|x) over the split
//
// reported as the mean and population standard deviation (np.std) of IS_s over the S splits.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

struct InceptionScoreOptions {
  std::size_t splits = 10;  // torch-fidelity isc_splits / torchmetrics splits
};

struct InceptionScoreResult {
  double mean = 0.0;
  double std = 0.0;                  // population standard deviation over splits
  std::vector<double> split_scores;  // IS_s, in split order
};

// logits: N x C (N >= splits, C >= 1), softmax computed in double with the max subtracted.
// Validates the input (InputError naming `name`).
template <class T>
InceptionScoreResult inception_score(MatrixView<T> logits, const InceptionScoreOptions& options = {},
                                     const std::string& name = "logits");

}  // namespace chexgen::metrics
