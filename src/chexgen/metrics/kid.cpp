#include "chexgen/metrics/kid.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/metrics/feature_checks.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::metrics {
namespace {

// C (rows_a x rows_b, row-major) = A Bᵀ for row-major A (rows_a x d) and B (rows_b x d).
void gemm_abt(const float* a, std::size_t rows_a, const float* b, std::size_t rows_b, std::size_t d, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows_a), static_cast<blasint>(rows_b),
              static_cast<blasint>(d), 1.0f, a, static_cast<blasint>(d), b, static_cast<blasint>(d), 0.0f, c,
              static_cast<blasint>(rows_b));
}
void gemm_abt(const double* a, std::size_t rows_a, const double* b, std::size_t rows_b, std::size_t d, double* c) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows_a), static_cast<blasint>(rows_b),
              static_cast<blasint>(d), 1.0, a, static_cast<blasint>(d), b, static_cast<blasint>(d), 0.0, c,
              static_cast<blasint>(rows_b));
}

double kernel_value(double dot, const PolynomialKernel& k, double gamma) {
  const double base = gamma * dot + k.coef0;
  double v = 1.0;
  for (int p = 0; p < k.degree; ++p) v *= base;
  return v;
}

template <class T>
void gather(MatrixView<T> x, const std::vector<std::size_t>& idx, std::size_t begin, std::size_t count,
            std::vector<T>& out) {
  out.resize(count * x.cols);
  for (std::size_t i = 0; i < count; ++i) std::copy_n(x.row(idx[begin + i]), x.cols, out.data() + i * x.cols);
}

// Σ k(x_a, y_b) over all pairs (a in ia, b in ib), or over a ≠ b (positions in the index lists) when
// `same` (ia and ib are then the same list of the same matrix).
template <class T>
double kernel_sum(MatrixView<T> x, const std::vector<std::size_t>& ia, MatrixView<T> y,
                  const std::vector<std::size_t>& ib, bool same, const PolynomialKernel& kernel, double gamma,
                  std::size_t tile) {
  const std::size_t d = x.cols;
  std::vector<T> a_rows, b_rows, gram;
  double total = 0.0;
  for (std::size_t a0 = 0; a0 < ia.size(); a0 += tile) {
    const std::size_t na = std::min(tile, ia.size() - a0);
    gather(x, ia, a0, na, a_rows);
    // For a symmetric sum, only tiles on or above the diagonal; off-diagonal tiles count twice.
    for (std::size_t b0 = same ? a0 : 0; b0 < ib.size(); b0 += tile) {
      const std::size_t nb = std::min(tile, ib.size() - b0);
      gather(y, ib, b0, nb, b_rows);
      gram.resize(na * nb);
      gemm_abt(a_rows.data(), na, b_rows.data(), nb, d, gram.data());
      double tile_sum = 0.0;
      for (std::size_t i = 0; i < na; ++i) {
        for (std::size_t j = 0; j < nb; ++j) {
          if (same && a0 == b0 && i == j) continue;  // the diagonal k(xᵢ, xᵢ) is not part of the U-statistic
          tile_sum += kernel_value(static_cast<double>(gram[i * nb + j]), kernel, gamma);
        }
      }
      total += (same && a0 != b0) ? 2.0 * tile_sum : tile_sum;
    }
  }
  return total;
}

}  // namespace

std::size_t kid_subset_size(const KidOptions& options, std::size_t n_real, std::size_t n_synthetic) {
  const std::size_t largest = std::min(n_real, n_synthetic);
  if (options.subset_size == 0) return std::min<std::size_t>(1000, largest);
  if (options.subset_size > largest) {
    throw UsageError(fmt::format("KID subset size {} is larger than the smaller set ({} real, {} synthetic samples)",
                                 options.subset_size, n_real, n_synthetic));
  }
  return options.subset_size;
}

template <class T>
double mmd2_unbiased(MatrixView<T> x, const std::vector<std::size_t>& ix, MatrixView<T> y,
                     const std::vector<std::size_t>& iy, const PolynomialKernel& kernel, std::size_t tile_rows) {
  CHEXGEN_ASSERT(ix.size() >= 2 && iy.size() >= 2, "mmd2_unbiased needs at least 2 rows per set");
  CHEXGEN_ASSERT(x.cols == y.cols && x.cols >= 1, "mmd2_unbiased: dimension mismatch");
  const double gamma = kernel.gamma > 0.0 ? kernel.gamma : 1.0 / static_cast<double>(x.cols);
  const std::size_t tile = std::max<std::size_t>(1, tile_rows);
  const double m = static_cast<double>(ix.size());
  const double n = static_cast<double>(iy.size());
  const double xx = kernel_sum(x, ix, x, ix, true, kernel, gamma, tile);
  const double yy = kernel_sum(y, iy, y, iy, true, kernel, gamma, tile);
  const double xy = kernel_sum(x, ix, y, iy, false, kernel, gamma, tile);
  // torch-fidelity mmd2(..., mmd_est="unbiased"): (Kt_XX_sum + Kt_YY_sum)/(m(m−1)) − 2 K_XY_sum/m² for m = n.
  return xx / (m * (m - 1.0)) + yy / (n * (n - 1.0)) - 2.0 * xy / (m * n);
}

template <class T>
double mmd2_unbiased(MatrixView<T> x, MatrixView<T> y, const PolynomialKernel& kernel) {
  std::vector<std::size_t> ix(x.rows), iy(y.rows);
  std::iota(ix.begin(), ix.end(), std::size_t{0});
  std::iota(iy.begin(), iy.end(), std::size_t{0});
  return mmd2_unbiased(x, ix, y, iy, kernel);
}

template <class T>
KidResult kid(MatrixView<T> real, MatrixView<T> synthetic, const KidOptions& options) {
  require_feature_pair(real, "real", synthetic, "synthetic", 2, "KID");
  require_moderate(real, "real");
  require_moderate(synthetic, "synthetic");
  if (options.subsets == 0) throw UsageError("KID needs at least one subset");
  if (options.kernel.degree < 1) throw UsageError("KID kernel degree must be >= 1");

  KidResult result;
  result.subset_size = kid_subset_size(options, real.rows, synthetic.rows);
  if (result.subset_size < 2) throw UsageError("KID subset size must be at least 2");
  IndexSampler sampler(options.seed);
  result.subset_mmd2.reserve(options.subsets);
  for (std::size_t s = 0; s < options.subsets; ++s) {
    const auto ir = sampler.without_replacement(real.rows, result.subset_size);
    const auto is = sampler.without_replacement(synthetic.rows, result.subset_size);
    result.subset_mmd2.push_back(mmd2_unbiased(real, ir, synthetic, is, options.kernel, options.tile_rows));
  }
  const double count = static_cast<double>(result.subset_mmd2.size());
  result.mean = std::accumulate(result.subset_mmd2.begin(), result.subset_mmd2.end(), 0.0) / count;
  double var = 0.0;
  for (double v : result.subset_mmd2) var += (v - result.mean) * (v - result.mean);
  result.std = std::sqrt(var / count);  // np.std: divisor N (population)
  return result;
}

template double mmd2_unbiased(MatrixView<float>, const std::vector<std::size_t>&, MatrixView<float>,
                              const std::vector<std::size_t>&, const PolynomialKernel&, std::size_t);
template double mmd2_unbiased(MatrixView<double>, const std::vector<std::size_t>&, MatrixView<double>,
                              const std::vector<std::size_t>&, const PolynomialKernel&, std::size_t);
template double mmd2_unbiased(MatrixView<float>, MatrixView<float>, const PolynomialKernel&);
template double mmd2_unbiased(MatrixView<double>, MatrixView<double>, const PolynomialKernel&);
template KidResult kid(MatrixView<float>, MatrixView<float>, const KidOptions&);
template KidResult kid(MatrixView<double>, MatrixView<double>, const KidOptions&);

}  // namespace chexgen::metrics
