#include "chexgen/metrics/fid.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <Eigen/SVD>

#include "chexgen/core/error.h"
#include "chexgen/metrics/feature_checks.h"
#include "chexgen/metrics/lapack.h"

namespace chexgen::metrics {
namespace {

using ColMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// Eigenvalues at or below this fraction of the largest, times the dimension, are rounding noise of
// a rank-deficient matrix and count as 0 (the usual numerical-rank tolerance, d·ε·λmax).
double noise_floor(const Eigen::VectorXd& eigenvalues) {
  if (eigenvalues.size() == 0) return 0.0;
  const double largest = std::max(0.0, eigenvalues.maxCoeff());
  return static_cast<double>(eigenvalues.size()) * std::numeric_limits<double>::epsilon() * largest;
}

// W (d x r) with Σ = W Wᵀ, r the numerical rank of Σ.
//  - lapack: rank-revealing pivoted Cholesky, W = Pᵀ L[:, :r] (LAPACK dpstrf; stops at its default
//    tolerance d·ε·max diag, so a singular Σ — N < d, duplicated points — is handled).
//  - eigen: W = V Λ^½ over the eigenvalues above the noise floor d·ε·λmax (negative rounding noise
//    of a singular Σ is dropped, i.e. clamped to 0).
ColMatrix psd_factor(const MatrixD& sigma, FidSolver solver) {
  const std::size_t d = sigma.rows();
  const auto di = static_cast<Eigen::Index>(d);
  if (solver == FidSolver::lapack) {
    std::vector<double> a(sigma.values());  // symmetric: row-major data = column-major matrix
    std::vector<int> pivot;
    std::size_t rank = 0;
    const int info = lapack::pivoted_cholesky(a, d, pivot, rank);
    CHEXGEN_ASSERT(info == 0 || info == 1, "LAPACK dpstrf failed (info " + std::to_string(info) + ")");
    ColMatrix w = ColMatrix::Zero(di, static_cast<Eigen::Index>(rank));
    for (std::size_t c = 0; c < rank; ++c) {
      for (std::size_t i = c; i < d; ++i) w(pivot[i], static_cast<Eigen::Index>(c)) = a[c * d + i];
    }
    return w;
  }
  const Eigen::Map<const ColMatrix> s(sigma.data(), di, di);
  const Eigen::SelfAdjointEigenSolver<ColMatrix> es(s, Eigen::ComputeEigenvectors);
  CHEXGEN_ASSERT(es.info() == Eigen::Success, "eigendecomposition of a covariance matrix failed");
  const Eigen::VectorXd& lambda = es.eigenvalues();
  const double floor = noise_floor(lambda);
  std::vector<Eigen::Index> kept;
  for (Eigen::Index i = 0; i < lambda.size(); ++i) {
    if (lambda(i) > floor) kept.push_back(i);
  }
  ColMatrix w(di, static_cast<Eigen::Index>(kept.size()));
  for (std::size_t c = 0; c < kept.size(); ++c) {
    w.col(static_cast<Eigen::Index>(c)) = es.eigenvectors().col(kept[c]) * std::sqrt(lambda(kept[c]));
  }
  return w;
}

}  // namespace

MatrixD GaussianStats::covariance() const {
  CHEXGEN_ASSERT(count >= 2, "covariance needs at least 2 samples");
  MatrixD c(dim(), dim());
  const double scale = 1.0 / static_cast<double>(count - 1);
  for (std::size_t k = 0; k < c.values().size(); ++k) c.data()[k] = scatter.data()[k] * scale;
  return c;
}

template <class T>
GaussianStats gaussian_stats(MatrixView<T> x, const CovarianceOptions& options) {
  CHEXGEN_ASSERT(x.rows >= 1 && x.cols >= 1, "gaussian_stats needs a non-empty matrix");
  const std::size_t n = x.rows;
  const std::size_t d = x.cols;
  const std::size_t block = std::max<std::size_t>(1, options.block_rows);

  GaussianStats s;
  s.count = n;
  // Pass 1: the mean, summed in double.
  s.mean.assign(d, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const T* r = x.row(i);
    for (std::size_t j = 0; j < d; ++j) s.mean[j] += static_cast<double>(r[j]);
  }
  for (double& m : s.mean) m /= static_cast<double>(n);

  // Pass 2: scatter = Σ_blocks Cᵀ C over centred row blocks C (upper triangle by SYRK, then mirrored).
  s.scatter = MatrixD(d, d, 0.0);
  std::vector<double> centred(std::min(block, n) * d);
  for (std::size_t begin = 0; begin < n; begin += block) {
    const std::size_t rows = std::min(block, n - begin);
    for (std::size_t i = 0; i < rows; ++i) {
      const T* r = x.row(begin + i);
      double* c = centred.data() + i * d;
      for (std::size_t j = 0; j < d; ++j) c[j] = static_cast<double>(r[j]) - s.mean[j];
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<blasint>(d), static_cast<blasint>(rows), 1.0,
                centred.data(), static_cast<blasint>(d), 1.0, s.scatter.data(), static_cast<blasint>(d));
  }
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < i; ++j) s.scatter(i, j) = s.scatter(j, i);
  }
  return s;
}

GaussianStats merge(const GaussianStats& a, const GaussianStats& b) {
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  CHEXGEN_ASSERT(a.dim() == b.dim(), "merge: dimensions differ");
  const std::size_t d = a.dim();
  const double na = static_cast<double>(a.count);
  const double nb = static_cast<double>(b.count);
  const double n = na + nb;
  GaussianStats out;
  out.count = a.count + b.count;
  out.mean.resize(d);
  std::vector<double> delta(d);
  for (std::size_t j = 0; j < d; ++j) {
    delta[j] = b.mean[j] - a.mean[j];
    out.mean[j] = a.mean[j] + delta[j] * (nb / n);
  }
  // scatter = Sa + Sb + δδᵀ · na·nb/n  (Chan, Golub & LeVeque 1979, pairwise update)
  out.scatter = MatrixD(d, d);
  const double w = na * nb / n;
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      out.scatter(i, j) = a.scatter(i, j) + b.scatter(i, j) + w * delta[i] * delta[j];
    }
  }
  return out;
}

double trace_sqrt_product(const MatrixD& sigma1, const MatrixD& sigma2, FidSolver solver) {
  const std::size_t d = sigma1.rows();
  CHEXGEN_ASSERT(sigma1.cols() == d && sigma2.rows() == d && sigma2.cols() == d, "trace_sqrt_product: shapes");
  if (d == 0) return 0.0;
  // With any factors Σᵢ = Wᵢ Wᵢᵀ, the non-zero eigenvalues of Σ₁Σ₂ (and of Σ₁^½ Σ₂ Σ₁^½) are those of
  // BᵀB for B = W₂ᵀ W₁, so tr (Σ₁Σ₂)^½ = Σ σ(B), the sum of B's singular values. Taking singular values
  // of B instead of eigenvalues of BᵀB keeps the small terms accurate when the features span many
  // orders of magnitude (docs/metrics.md, "FID: numerics").
  const ColMatrix w1 = psd_factor(sigma1, solver);
  const ColMatrix w2 = psd_factor(sigma2, solver);
  if (w1.cols() == 0 || w2.cols() == 0) return 0.0;
  ColMatrix b(w2.cols(), w1.cols());
  cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, static_cast<blasint>(w2.cols()), static_cast<blasint>(w1.cols()),
              static_cast<blasint>(d), 1.0, w2.data(), static_cast<blasint>(d), w1.data(), static_cast<blasint>(d), 0.0,
              b.data(), static_cast<blasint>(w2.cols()));
  if (solver == FidSolver::lapack) {
    std::vector<double> a(b.data(), b.data() + b.size());
    std::vector<double> sv;
    const int info =
        lapack::singular_values(a, static_cast<std::size_t>(b.rows()), static_cast<std::size_t>(b.cols()), sv);
    CHEXGEN_ASSERT(info == 0, "LAPACK dgesdd failed (info " + std::to_string(info) + ")");
    double sum = 0.0;
    for (double v : sv) sum += v;
    return sum;
  }
  const Eigen::BDCSVD<ColMatrix> svd(b);  // singular values only
  CHEXGEN_ASSERT(svd.info() == Eigen::Success, "singular value decomposition failed");
  return svd.singularValues().sum();
}

double frechet_distance(const GaussianStats& a, const GaussianStats& b, FidSolver solver) {
  CHEXGEN_ASSERT(a.dim() == b.dim() && a.count >= 2 && b.count >= 2, "frechet_distance: bad statistics");
  const std::size_t d = a.dim();
  double mean_term = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    const double diff = a.mean[j] - b.mean[j];
    mean_term += diff * diff;
  }
  const MatrixD s1 = a.covariance();
  const MatrixD s2 = b.covariance();
  double trace1 = 0.0;
  double trace2 = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    trace1 += s1(j, j);
    trace2 += s2(j, j);
  }
  // pytorch-fid calculate_frechet_distance: diff·diff + tr Σ₁ + tr Σ₂ − 2 tr covmean.
  return mean_term + trace1 + trace2 - 2.0 * trace_sqrt_product(s1, s2, solver);
}

template <class T>
double fid(MatrixView<T> real, MatrixView<T> synthetic, const FidOptions& options) {
  require_feature_pair(real, "real", synthetic, "synthetic", 2, "FID");
  require_moderate(real, "real");
  require_moderate(synthetic, "synthetic");
  return frechet_distance(gaussian_stats(real, options.covariance), gaussian_stats(synthetic, options.covariance),
                          options.solver);
}

template GaussianStats gaussian_stats(MatrixView<float>, const CovarianceOptions&);
template GaussianStats gaussian_stats(MatrixView<double>, const CovarianceOptions&);
template double fid(MatrixView<float>, MatrixView<float>, const FidOptions&);
template double fid(MatrixView<double>, MatrixView<double>, const FidOptions&);

}  // namespace chexgen::metrics
