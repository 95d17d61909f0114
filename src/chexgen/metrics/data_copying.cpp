#include "chexgen/metrics/data_copying.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <cblas.h>
#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/metrics/distance.h"
#include "chexgen/metrics/fid.h"
#include "chexgen/metrics/lapack.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::metrics {
namespace {

// Each row of x's smallest canonical squared distance to a row of y (y non-empty), and which row.
void nearest_rows(MatrixViewD x, MatrixViewD y, std::vector<double>& squared, std::vector<std::size_t>& index) {
  KSmallestPerRow<double> nearest(x, y, 1, false);
  run_distance_tiles<double>(x, y, DistanceTiling{}, [&](const DistanceTile<double>& t) { nearest(t); });
  squared.resize(x.rows);
  index.resize(x.rows);
  for (std::size_t i = 0; i < x.rows; ++i) {
    squared[i] = nearest.row(i)[0];
    index[i] = nearest.neighbours(i)[0];
  }
}

// The rows of x whose label is `cell`.
MatrixD rows_of_cell(MatrixViewD x, std::span<const std::size_t> labels, std::size_t cell) {
  std::vector<double> values;
  for (std::size_t i = 0; i < x.rows; ++i)
    if (labels[i] == cell) values.insert(values.end(), x.row(i), x.row(i) + x.cols);
  const std::size_t rows = x.cols ? values.size() / x.cols : 0;
  return MatrixD(rows, x.cols, std::move(values));
}

}  // namespace

MatrixD Pca::project(MatrixViewD x) const {
  CHEXGEN_ASSERT(x.cols == mean.size(), "Pca::project: dimension differs from the fit");
  const std::size_t c = axes.rows(), d = mean.size();
  MatrixD out(x.rows, c);
  std::vector<double> centred(d);
  for (std::size_t i = 0; i < x.rows; ++i) {
    for (std::size_t j = 0; j < d; ++j) centred[j] = x(i, j) - mean[j];
    for (std::size_t a = 0; a < c; ++a) {
      double s = 0;
      for (std::size_t j = 0; j < d; ++j) s += axes(a, j) * centred[j];
      out(i, a) = s;
    }
  }
  return out;
}

Pca fit_pca(MatrixViewD x, std::size_t components) {
  const std::size_t n = x.rows, d = x.cols;
  CHEXGEN_ASSERT(n >= 2 && d >= 1 && components >= 1 && components <= std::min(n, d),
                 "fit_pca: needs 2 rows and 1 <= components <= min(rows, columns)");
  Pca pca;
  // The eigenvectors of the scatter matrix (d x d), or of the Gram matrix of the centred rows (n x n) mapped back
  // through them when that is smaller: the same axes and eigenvalues, and the same trace (the total variance).
  const bool gram = n < d;
  const std::size_t m = gram ? n : d;
  std::vector<double> a(m * m), lambda;
  MatrixD centred;
  if (gram) {  // the mean as gaussian_stats sums it, without the d x d scatter matrix
    pca.mean.assign(d, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < d; ++j) pca.mean[j] += x(i, j);
    for (double& v : pca.mean) v /= static_cast<double>(n);
    centred = MatrixD(n, d);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < d; ++j) centred(i, j) = x(i, j) - pca.mean[j];
    cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, static_cast<blasint>(n), static_cast<blasint>(d), 1.0,
                centred.data(), static_cast<blasint>(d), 0.0, a.data(), static_cast<blasint>(n));
  } else {
    const GaussianStats stats = gaussian_stats(x);
    pca.mean = stats.mean;
    std::copy(stats.scatter.values().begin(), stats.scatter.values().end(), a.begin());
  }
  double trace = 0;
  for (std::size_t i = 0; i < m; ++i) trace += a[i * m + i];
  pca.total_variance = trace / static_cast<double>(n - 1);
  const int info = lapack::symmetric_eigen(a, m, lambda);
  CHEXGEN_ASSERT(info == 0, "fit_pca: the eigendecomposition failed");
  // Eigenvalues are ascending: the largest last. Directions of (numerically) zero variance are not axes.
  const double floor = static_cast<double>(m) * std::numeric_limits<double>::epsilon() * std::max(lambda.back(), 0.0);
  std::size_t kept = 0;
  while (kept < components && lambda[m - 1 - kept] > floor) ++kept;
  pca.axes = MatrixD(kept, d);
  for (std::size_t c = 0; c < kept; ++c) {
    const std::size_t col = m - 1 - c;
    const double* v = &a[col * m];  // column-major eigenvector
    if (gram) {
      const double scale = 1.0 / std::sqrt(lambda[col]);
      for (std::size_t j = 0; j < d; ++j) {
        double s = 0;
        for (std::size_t i = 0; i < n; ++i) s += centred(i, j) * v[i];
        pca.axes(c, j) = s * scale;
      }
    } else {
      for (std::size_t j = 0; j < d; ++j) pca.axes(c, j) = v[j];
    }
    std::size_t largest = 0;
    for (std::size_t j = 1; j < d; ++j)
      if (std::abs(pca.axes(c, j)) > std::abs(pca.axes(c, largest))) largest = j;
    if (pca.axes(c, largest) < 0)
      for (std::size_t j = 0; j < d; ++j) pca.axes(c, j) = -pca.axes(c, j);
    pca.variance.push_back(lambda[col] / static_cast<double>(n - 1));
  }
  return pca;
}

std::vector<std::size_t> nearest_centre(MatrixViewD x, MatrixViewD centres) {
  std::vector<double> squared;
  std::vector<std::size_t> index;
  nearest_rows(x, centres, squared, index);
  return index;
}

KMeans lloyd(MatrixViewD x, MatrixD centres, std::size_t max_iterations) {
  CHEXGEN_ASSERT(centres.rows() >= 1 && centres.cols() == x.cols && x.rows >= 1, "lloyd: shapes differ");
  KMeans out;
  out.centres = std::move(centres);
  const std::size_t k = out.centres.rows(), d = x.cols;
  for (std::size_t it = 0; it < max_iterations; ++it) {
    std::vector<std::size_t> labels = nearest_centre(x, out.centres.view());
    ++out.iterations;
    if (it > 0 && labels == out.labels) {
      out.converged = true;
      break;
    }
    out.labels = std::move(labels);
    MatrixD sums(k, d, 0.0);
    std::vector<std::size_t> count(k, 0);
    for (std::size_t i = 0; i < x.rows; ++i) {
      const std::size_t c = out.labels[i];
      ++count[c];
      for (std::size_t j = 0; j < d; ++j) sums(c, j) += x(i, j);
    }
    for (std::size_t c = 0; c < k; ++c)
      if (count[c])
        for (std::size_t j = 0; j < d; ++j) out.centres(c, j) = sums(c, j) / static_cast<double>(count[c]);
  }
  // With max_iterations passes and no convergence, the labels are those of the centres before the last move: give
  // the labels of the final centres.
  if (!out.converged) out.labels = nearest_centre(x, out.centres.view());
  return out;
}

KMeans fit_kmeans(MatrixViewD x, std::size_t k, std::uint64_t seed, std::size_t max_iterations) {
  const std::size_t n = x.rows, d = x.cols;
  CHEXGEN_ASSERT(k >= 1 && k <= n, "fit_kmeans: needs 1 <= k <= rows");
  IndexSampler rng(seed);
  MatrixD centres(k, d);
  std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
  std::size_t chosen = rng.uniform_below(n);
  for (std::size_t c = 0; c < k; ++c) {
    std::copy(x.row(chosen), x.row(chosen) + d, centres.row(c));
    if (c + 1 == k) break;
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      nearest[i] = std::min(nearest[i], exact_squared_distance(x.row(i), centres.row(c), d));
      total += nearest[i];
    }
    if (!(total > 0)) {  // every row is a centre already: any row
      chosen = rng.uniform_below(n);
      continue;
    }
    const double target = static_cast<double>(rng.next_word() >> 11) * 0x1p-53 * total;
    double running = 0;
    chosen = n - 1;
    for (std::size_t i = 0; i < n; ++i) {
      running += nearest[i];
      if (running > target && nearest[i] > 0) {
        chosen = i;
        break;
      }
    }
  }
  return lloyd(x, std::move(centres), max_iterations);
}

double mann_whitney_u(std::span<const double> x, std::span<const double> y) {
  std::vector<double> sorted(y.begin(), y.end());
  std::sort(sorted.begin(), sorted.end());
  double u = 0;
  for (double v : x) {
    const auto below = std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin();
    const auto at_or_below = std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin();
    u += static_cast<double>(below) + 0.5 * static_cast<double>(at_or_below - below);
  }
  return u;
}

double meehan_zu(std::span<const double> generated, std::span<const double> test) {
  CHEXGEN_ASSERT(!generated.empty() && !test.empty(), "meehan_zu: both sets need values");
  const double m = static_cast<double>(generated.size()), n = static_cast<double>(test.size());
  const double u = mann_whitney_u(generated, test);
  const double mean = n * m / 2.0 - 0.5;
  const double sd = std::sqrt(n * m * (n + m + 1.0) / 12.0);
  return (u - mean) / sd;
}

DataCopying data_copying(MatrixViewD train, std::span<const std::size_t> train_cells, MatrixViewD test,
                         std::span<const std::size_t> test_cells, MatrixViewD generated,
                         std::span<const std::size_t> generated_cells, std::size_t cells, double tau) {
  CHEXGEN_ASSERT(train_cells.size() == train.rows && test_cells.size() == test.rows &&
                     generated_cells.size() == generated.rows && cells >= 1 && test.rows >= 1 &&
                     generated.rows >= 1,
                 "data_copying: shapes differ");
  DataCopying out;
  out.tau = tau;
  out.cells.resize(cells);
  const auto count = [&](std::span<const std::size_t> labels, std::size_t DataCopyingCell::*field) {
    for (std::size_t c : labels) {
      CHEXGEN_ASSERT(c < cells, "data_copying: a cell label out of range");
      ++(out.cells[c].*field);
    }
  };
  count(train_cells, &DataCopyingCell::train);
  count(test_cells, &DataCopyingCell::test);
  count(generated_cells, &DataCopyingCell::generated);
  double weighted = 0, weight = 0;
  for (std::size_t c = 0; c < cells; ++c) {
    DataCopyingCell& cell = out.cells[c];
    if (cell.train == 0 || cell.test == 0)
      throw UsageError(fmt::format("data-copying test: cell {} of {} has {} training and {} test images; every cell "
                                   "needs both (use fewer cells)",
                                   c, cells, cell.train, cell.test));
    cell.test_share = static_cast<double>(cell.test) / static_cast<double>(test.rows);
    cell.generated_share = static_cast<double>(cell.generated) / static_cast<double>(generated.rows);
    if (cell.generated == 0) continue;
    const MatrixD t = rows_of_cell(train, train_cells, c);
    std::vector<double> test_distance, generated_distance;
    std::vector<std::size_t> unused;
    nearest_rows(rows_of_cell(test, test_cells, c).view(), t.view(), test_distance, unused);
    nearest_rows(rows_of_cell(generated, generated_cells, c).view(), t.view(), generated_distance, unused);
    for (double& v : test_distance) v = std::sqrt(v);
    for (double& v : generated_distance) v = std::sqrt(v);
    cell.zu = meehan_zu(generated_distance, test_distance);
    cell.counted = cell.generated_share > tau;
    if (cell.counted) {
      weighted += cell.test_share * *cell.zu;
      weight += cell.test_share;
    }
  }
  if (weight > 0) out.c_t = weighted / weight;
  return out;
}

DataCopyingTest data_copying_test(MatrixViewD train, MatrixViewD test, MatrixViewD generated, const MatrixViewD* null,
                                  const DataCopyingOptions& o) {
  CHEXGEN_ASSERT(train.rows >= 2 && test.rows >= 1 && generated.rows >= 1 && o.min_test >= 1,
                 "data_copying_test: needs 2 training rows, a test row and a generation");
  // The training rows in lexicographic order: the PCA's sums and k-means++'s draws then do not depend on the order
  // the rows came in.
  std::vector<std::size_t> order(train.rows);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::lexicographical_compare(train.row(a), train.row(a) + train.cols, train.row(b),
                                        train.row(b) + train.cols);
  });
  MatrixD sorted(train.rows, train.cols);
  for (std::size_t i = 0; i < order.size(); ++i)
    std::copy(train.row(order[i]), train.row(order[i]) + train.cols, sorted.row(i));
  train = sorted.view();
  const std::size_t components = std::min({o.components, train.rows, train.cols});
  const Pca pca = fit_pca(train, components);
  DataCopyingTest out;
  out.components = pca.axes.rows();
  double kept = 0;
  for (double v : pca.variance) kept += v;
  out.explained = pca.total_variance > 0 ? kept / pca.total_variance : 0;
  const MatrixD t = pca.project(train), p = pca.project(test);
  std::size_t k = std::max<std::size_t>(1, std::min(test.rows / o.min_test, train.rows));
  KMeans cells;
  std::vector<std::size_t> test_cells;
  for (;;) {
    cells = fit_kmeans(t.view(), k, o.seed);
    test_cells = nearest_centre(p.view(), cells.centres.view());
    std::vector<std::size_t> n_test(k, 0), n_train(k, 0);
    for (std::size_t c : test_cells) ++n_test[c];
    for (std::size_t c : cells.labels) ++n_train[c];
    bool enough = true;
    for (std::size_t c = 0; c < k; ++c) enough = enough && n_test[c] >= o.min_test && n_train[c] >= 1;
    if (enough || k == 1) break;
    k = std::min(k - 1, k * 3 / 4 + 1);
  }
  out.cells = k;
  const auto run = [&](MatrixViewD q) {
    const MatrixD projected = pca.project(q);
    const std::vector<std::size_t> q_cells = nearest_centre(projected.view(), cells.centres.view());
    return data_copying(t.view(), cells.labels, p.view(), test_cells, projected.view(), q_cells, k,
                        static_cast<double>(o.min_generated) / static_cast<double>(q.rows));
  };
  out.generated = run(generated);
  if (null) out.null = run(*null);
  return out;
}

}  // namespace chexgen::metrics
