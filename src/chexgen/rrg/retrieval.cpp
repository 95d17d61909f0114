#include "chexgen/rrg/retrieval.h"

#include <cmath>

#include "chexgen/core/error.h"
#include "chexgen/metrics/distance.h"

namespace chexgen::rrg {

NearestRows nearest_training_rows(const MatrixD& train, const MatrixD& test, int threads) {
  CHEXGEN_ASSERT(train.cols() == test.cols() && train.rows() >= 1 && test.rows() >= 1,
                 "nearest_training_rows: same columns, at least one row each");
  const std::size_t d = train.cols();
  NearestRows out;
  std::vector<double> mean(d, 0.0), sd(d, 0.0);
  for (std::size_t j = 0; j < d; ++j) {
    bool finite = true;
    double sum = 0;
    for (std::size_t i = 0; i < train.rows(); ++i) {
      finite &= std::isfinite(train(i, j));
      sum += train(i, j);
    }
    for (std::size_t i = 0; i < test.rows(); ++i) finite &= std::isfinite(test(i, j));
    if (finite) {
      mean[j] = sum / static_cast<double>(train.rows());
      double ss = 0;
      for (std::size_t i = 0; i < train.rows(); ++i) ss += (train(i, j) - mean[j]) * (train(i, j) - mean[j]);
      sd[j] = std::sqrt(ss / static_cast<double>(train.rows()));
    }
    (finite && sd[j] > 0 ? out.kept_columns : out.dropped_columns).push_back(j);
  }
  if (out.kept_columns.empty())
    throw UsageError("no feature is finite in every image and varies over the training images: nothing to compare");
  auto zscore = [&](const MatrixD& m) {
    MatrixD z(m.rows(), out.kept_columns.size());
    for (std::size_t i = 0; i < m.rows(); ++i)
      for (std::size_t k = 0; k < out.kept_columns.size(); ++k) {
        const std::size_t j = out.kept_columns[k];
        z(i, k) = (m(i, j) - mean[j]) / sd[j];
      }
    return z;
  };
  const MatrixD ztrain = zscore(train), ztest = zscore(test);
  metrics::KSmallestPerRow<double> nearest(ztest.view(), ztrain.view(), 1, false);
  metrics::DistanceTiling tiling;
  tiling.threads = threads;
  metrics::run_distance_tiles<double>(ztest.view(), ztrain.view(), tiling,
                                      [&](const metrics::DistanceTile<double>& t) { nearest(t); });
  out.nearest.resize(test.rows());
  out.distance.resize(test.rows());
  for (std::size_t i = 0; i < test.rows(); ++i) {
    out.nearest[i] = nearest.neighbours(i)[0];
    out.distance[i] = std::sqrt(nearest.row(i)[0]);
  }
  return out;
}

}  // namespace chexgen::rrg
