#include "chexgen/metrics/bootstrap.h"

#include <algorithm>
#include <cmath>

#include "chexgen/core/error.h"

namespace chexgen::metrics {

double percentile(std::vector<double> values, double q) {
  CHEXGEN_ASSERT(!values.empty(), "percentile of an empty list");
  CHEXGEN_ASSERT(q >= 0.0 && q <= 100.0, "percentile: q must be in [0, 100]");
  std::sort(values.begin(), values.end());
  const double pos = (static_cast<double>(values.size()) - 1.0) * q / 100.0;
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return values[lo] + (values[hi] - values[lo]) * frac;
}

Interval percentile_interval(const std::vector<double>& values, double confidence) {
  CHEXGEN_ASSERT(confidence > 0.0 && confidence < 1.0, "confidence must be in (0, 1)");
  return {percentile(values, (1.0 - confidence) / 2.0 * 100.0), percentile(values, (1.0 + confidence) / 2.0 * 100.0)};
}

template <class T>
Matrix<T> take_rows(MatrixView<T> x, const std::vector<std::size_t>& idx) {
  Matrix<T> out(idx.size(), x.cols);
  for (std::size_t i = 0; i < idx.size(); ++i) {
    CHEXGEN_ASSERT(idx[i] < x.rows, "take_rows: index out of range");
    std::copy_n(x.row(idx[i]), x.cols, out.row(i));
  }
  return out;
}

template Matrix<float> take_rows(MatrixView<float>, const std::vector<std::size_t>&);
template Matrix<double> take_rows(MatrixView<double>, const std::vector<std::size_t>&);

}  // namespace chexgen::metrics
