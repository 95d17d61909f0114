// The weight-free report-generation baseline (docs/reports.md, "A baseline on a CPU"): each real test image gets the
// report of its nearest training image in a feature space. Trained on a generator's synthetic images (whose prompts
// are reports), it asks whether the images carry their report's findings well enough to be found again; trained on
// real images it is the reference. Scored with `reports score` like any generator's reports.
#pragma once

#include <cstddef>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::rrg {

struct NearestRows {
  std::vector<std::size_t> nearest;  // per test row: its nearest training row
  std::vector<double> distance;      // the Euclidean distance to it, in z-scored units
  std::vector<std::size_t> kept_columns;     // the columns compared
  std::vector<std::size_t> dropped_columns;  // constant over the training set, or not finite somewhere
};

// Z-scores both with the training rows' mean and standard deviation (ddof 0) over the columns that are finite in
// every row of both and not constant over the training rows, then finds each test row's nearest training row (exact
// squared Euclidean distances; a tie goes to the earlier training row). train and test have the same columns, at
// least one row each; when no column is left, a UsageError.
NearestRows nearest_training_rows(const MatrixD& train, const MatrixD& test, int threads);

}  // namespace chexgen::rrg
