// Bootstrap percentile intervals (docs/metrics.md, "Bootstrap intervals"): a statistic is recomputed
// on B resamples drawn with replacement, and the interval is the (1−c)/2 and (1+c)/2 percentiles of
// the B values, interpolated linearly as numpy.percentile does by default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

struct BootstrapOptions {
  std::size_t resamples = 0;  // B; 0 = no intervals
  double confidence = 0.95;   // central coverage of the percentile interval, in (0, 1)
};

struct Interval {
  double low = 0.0;
  double high = 0.0;
};

// numpy.percentile(values, q) with the default "linear" method: position (n−1)·q/100 between the
// sorted values. q in [0, 100]; values non-empty.
double percentile(std::vector<double> values, double q);

// [percentile((1−c)/2·100), percentile((1+c)/2·100)].
Interval percentile_interval(const std::vector<double>& values, double confidence);

// The rows x[idx[0]], x[idx[1]], ... as a new matrix (a bootstrap resample).
template <class T>
Matrix<T> take_rows(MatrixView<T> x, const std::vector<std::size_t>& idx);

}  // namespace chexgen::metrics
