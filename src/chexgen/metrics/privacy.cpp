#include "chexgen/metrics/privacy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <boost/math/special_functions/beta.hpp>

#include "chexgen/core/error.h"

namespace chexgen::metrics {
namespace {

void require_same_size(std::size_t a, std::size_t b, const char* what) {
  if (a != b) throw std::invalid_argument(fmt::format("{}: the two have {} and {} values", what, a, b));
}

}  // namespace

MatrixD unit_rows(MatrixViewD x, const std::string& name) {
  MatrixD out(x.rows, x.cols, std::vector<double>(x.data, x.data + x.size()));
  normalise_rows_in_place(out, name);
  return out;
}

namespace {

double quantile_of(std::vector<double> v, double q) { return percentile(std::move(v), 100.0 * q); }

Rate rate_above(std::span<const double> values, double threshold, double confidence) {
  const auto above =
      static_cast<std::size_t>(std::count_if(values.begin(), values.end(), [&](double s) { return s > threshold; }));
  return binomial_rate(above, values.size(), confidence);
}
// sqrt(Σ d(a_i, b_i)²) / sqrt(N), as numpy's norm(x) / sqrt(x.size). Every square is an integer below 2¹⁶ and any
// image has far fewer than 2³⁷ samples, so every partial sum is an integer below 2⁵³: exact in any order, hence the
// same bits as numpy's dot product whatever its BLAS kernel.
template <class Difference>
double rms_of_differences(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b, Difference difference) {
  require_same_size(a.size(), b.size(), "pixel distance");
  if (a.empty()) return 0.0;
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = difference(a[i], b[i]);
    sum += d * d;
  }
  return std::sqrt(sum) / std::sqrt(static_cast<double>(a.size()));
}

}  // namespace

double pixel_rms_distance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return rms_of_differences(a, b, [](std::uint8_t x, std::uint8_t y) { return double(x) - double(y); });
}

double chexgenbench_pixel_distance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  // numpy subtracts uint8 arrays in uint8: the difference wraps modulo 256.
  return rms_of_differences(a, b, [](std::uint8_t x, std::uint8_t y) { return double(std::uint8_t(x - y)); });
}

double latent_distance(std::span<const double> a, std::span<const double> b) {
  require_same_size(a.size(), b.size(), "latent distance");
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(sum) / std::sqrt(static_cast<double>(a.size()));
}

CosineNeighbours nearest_by_cosine(MatrixViewD queries, MatrixViewD reference, std::size_t k,
                                   const DistanceTiling& tiling, const std::string& queries_name,
                                   const std::string& reference_name) {
  CHEXGEN_ASSERT(k >= 1 && reference.rows >= k && queries.cols == reference.cols,
                 "nearest_by_cosine: k and the shapes are the caller's to check");
  const MatrixD q = unit_rows(queries, queries_name);
  const MatrixD r = unit_rows(reference, reference_name);
  return nearest_unit_rows<double>(q.view(), r.view(), k, tiling);
}

template <class T>
void normalise_rows_in_place(Matrix<T>& x, const std::string& name) {
  for (std::size_t i = 0; i < x.rows(); ++i) {
    T* row = x.row(i);
    double sq = 0;
    for (std::size_t j = 0; j < x.cols(); ++j) {
      const double v = row[j];
      if (!std::isfinite(v)) throw InputError(Location{name, i + 1}, fmt::format("feature {} is {}", j, v));
      sq += v * v;
    }
    if (!(sq > 0)) throw InputError(Location{name, i + 1}, "a feature vector of length 0 has no cosine similarity");
    const double norm = std::sqrt(sq);
    for (std::size_t j = 0; j < x.cols(); ++j) row[j] = static_cast<T>(row[j] / norm);
  }
}

template <class T>
CosineNeighbours nearest_unit_rows(MatrixView<T> queries, MatrixView<T> reference, std::size_t k,
                                   const DistanceTiling& tiling) {
  CHEXGEN_ASSERT(k >= 1 && reference.rows >= k && queries.cols == reference.cols,
                 "nearest_unit_rows: k and the shapes are the caller's to check");
  KSmallestPerRow<T> nearest(queries, reference, k, false);
  run_distance_tiles<T>(queries, reference, tiling, [&](const DistanceTile<T>& t) { nearest(t); });
  CosineNeighbours out;
  out.k = k;
  out.similarity.resize(queries.rows * k);
  out.index.resize(queries.rows * k);
  for (std::size_t i = 0; i < queries.rows; ++i)
    for (std::size_t j = 0; j < k; ++j) {
      out.similarity[i * k + j] = 1.0 - nearest.row(i)[j] / 2.0;
      out.index[i * k + j] = nearest.neighbours(i)[j];
    }
  return out;
}

template void normalise_rows_in_place<float>(Matrix<float>&, const std::string&);
template void normalise_rows_in_place<double>(Matrix<double>&, const std::string&);
template CosineNeighbours nearest_unit_rows<float>(MatrixView<float>, MatrixView<float>, std::size_t,
                                                   const DistanceTiling&);
template CosineNeighbours nearest_unit_rows<double>(MatrixView<double>, MatrixView<double>, std::size_t,
                                                    const DistanceTiling&);

std::vector<double> patient_aware_nndr(MatrixViewD queries, MatrixViewD reference,
                                       std::span<const std::size_t> reference_patient, const DistanceTiling& tiling,
                                       const std::string& queries_name, const std::string& reference_name) {
  CHEXGEN_ASSERT(reference_patient.size() == reference.rows && queries.cols == reference.cols,
                 "patient_aware_nndr: shapes are the caller's to check");
  std::map<std::size_t, std::size_t> images_of;
  for (std::size_t p : reference_patient) ++images_of[p];
  CHEXGEN_ASSERT(images_of.size() >= 2, "patient_aware_nndr: needs two patients");
  std::size_t largest = 0;
  for (const auto& [patient, n] : images_of) largest = std::max(largest, n);
  // Among the largest + 1 nearest rows there is always another patient than the nearest one's.
  const std::size_t k = std::min(reference.rows, largest + 1);
  const MatrixD q = unit_rows(queries, queries_name);
  const MatrixD r = unit_rows(reference, reference_name);
  KSmallestPerRow<double> nearest(q.view(), r.view(), k, false);
  run_distance_tiles<double>(q.view(), r.view(), tiling, [&](const DistanceTile<double>& t) { nearest(t); });
  std::vector<double> ratio(q.rows());
  for (std::size_t i = 0; i < q.rows(); ++i) {
    const auto d = nearest.row(i);
    const auto j = nearest.neighbours(i);
    const std::size_t own = reference_patient[j[0]];
    std::size_t other = 1;
    while (reference_patient[j[other]] == own) ++other;
    const double d1 = std::sqrt(d[0]), d2 = std::sqrt(d[other]);
    ratio[i] = d1 == 0 ? 0.0 : d1 / d2;
  }
  return ratio;
}

Rate binomial_rate(std::size_t above, std::size_t n, double confidence) {
  Rate r;
  r.above = above;
  r.n = n;
  r.rate = static_cast<double>(above) / static_cast<double>(n);
  r.interval = clopper_pearson(above, n, confidence);
  return r;
}

Interval clopper_pearson(std::size_t k, std::size_t n, double confidence) {
  CHEXGEN_ASSERT(n >= 1 && k <= n && confidence > 0 && confidence < 1, "clopper_pearson: bad arguments");
  const double alpha = 1.0 - confidence;
  const double kd = static_cast<double>(k), nd = static_cast<double>(n);
  Interval i;
  i.low = k == 0 ? 0.0 : boost::math::ibeta_inv(kd, nd - kd + 1.0, alpha / 2.0);
  i.high = k == n ? 1.0 : boost::math::ibeta_inv(kd + 1.0, nd - kd, 1.0 - alpha / 2.0);
  return i;
}

CopyRate calibrated_copy_rate(std::span<const double> generated, std::span<const double> calibration,
                              std::span<const double> null, double quantile, double confidence) {
  CHEXGEN_ASSERT(!generated.empty() && !calibration.empty() && !null.empty() && quantile > 0 && quantile < 1,
                 "calibrated_copy_rate: every part needs a value");
  CopyRate c;
  c.quantile = quantile;
  c.calibration_size = calibration.size();
  c.threshold = quantile_of({calibration.begin(), calibration.end()}, quantile);
  c.generated = rate_above(generated, c.threshold, confidence);
  c.null = rate_above(null, c.threshold, confidence);
  const auto m = static_cast<double>(calibration.size());
  const auto j = static_cast<double>(
      std::count_if(calibration.begin(), calibration.end(), [&](double s) { return s <= c.threshold; }));
  c.exchangeable = {(m - j) / (m + 1.0), (m + 1.0 - j) / (m + 1.0)};
  c.excess = c.generated.rate - c.exchangeable.high;
  c.median_generated = quantile_of({generated.begin(), generated.end()}, 0.5);
  c.p95_generated = quantile_of({generated.begin(), generated.end()}, 0.95);
  c.median_null = quantile_of({null.begin(), null.end()}, 0.5);
  c.p95_null = quantile_of({null.begin(), null.end()}, 0.95);
  return c;
}

double tiled_pixel_distance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b, int width, int height,
                            int channels, int tiles) {
  require_same_size(a.size(), b.size(), "tiled distance");
  CHEXGEN_ASSERT(tiles >= 1 && width >= tiles && height >= tiles && channels >= 1 &&
                     a.size() == static_cast<std::size_t>(width) * height * channels,
                 "tiled_pixel_distance: the shape is the caller's to check");
  double worst = 0;
  for (int ty = 0; ty < tiles; ++ty)
    for (int tx = 0; tx < tiles; ++tx) {
      const int x0 = tx * width / tiles, x1 = (tx + 1) * width / tiles;
      const int y0 = ty * height / tiles, y1 = (ty + 1) * height / tiles;
      double sum = 0;  // of squared differences in gray levels: integers, exact in any order
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x)
          for (int c = 0; c < channels; ++c) {
            const std::size_t i = (static_cast<std::size_t>(y) * width + x) * channels + c;
            const double d = double(a[i]) - double(b[i]);
            sum += d * d;
          }
      const double n = static_cast<double>(x1 - x0) * (y1 - y0) * channels;
      worst = std::max(worst, std::sqrt(sum / n) / 255.0);
    }
  return worst;
}

double roc_auc(std::span<const double> members, std::span<const double> non_members) {
  CHEXGEN_ASSERT(!members.empty() && !non_members.empty(), "roc_auc: both sets need a score");
  // Mann–Whitney: for each member, the non-members below it plus half of those equal, by binary search.
  std::vector<double> sorted(non_members.begin(), non_members.end());
  std::sort(sorted.begin(), sorted.end());
  double wins = 0;
  for (double m : members) {
    const auto lo = std::lower_bound(sorted.begin(), sorted.end(), m);
    const auto hi = std::upper_bound(lo, sorted.end(), m);
    wins += static_cast<double>(lo - sorted.begin()) + 0.5 * static_cast<double>(hi - lo);
  }
  return wins / (static_cast<double>(members.size()) * static_cast<double>(non_members.size()));
}

double tpr_at_fpr(std::span<const double> members, std::span<const double> non_members, double fpr) {
  CHEXGEN_ASSERT(!members.empty() && !non_members.empty(), "tpr_at_fpr: both sets need a score");
  std::vector<double> m(members.begin(), members.end()), h(non_members.begin(), non_members.end());
  std::sort(m.begin(), m.end());
  std::sort(h.begin(), h.end());
  const auto at_or_above = [](const std::vector<double>& v, double t) {
    return static_cast<double>(v.end() - std::lower_bound(v.begin(), v.end(), t)) / static_cast<double>(v.size());
  };
  double best = 0;  // the point (0, 0): no threshold passes anything
  std::vector<double> thresholds = m;
  thresholds.insert(thresholds.end(), h.begin(), h.end());
  for (double t : thresholds)
    if (at_or_above(h, t) <= fpr) best = std::max(best, at_or_above(m, t));
  return best;
}

}  // namespace chexgen::metrics
