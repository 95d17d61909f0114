// Fréchet Inception Distance between two feature sets (docs/metrics.md, "FID").
//
//   FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^½
//
// as pytorch-fid's calculate_frechet_distance and torchmetrics' FrechetInceptionDistance define it,
// with sample covariances (divisor N − 1). The trace term is Σ √λ over the eigenvalues λ of the
// symmetric matrix Σ₁^½ Σ₂ Σ₁^½, computed stably as the sum of the singular values of W₂ᵀW₁ for
// factors Σᵢ = WᵢWᵢᵀ of numerical rank rᵢ (docs/metrics.md, "FID: numerics"). It equals scipy's sqrtm
// route where that is well conditioned, and also works when N < d (singular covariances).
#pragma once

#include <cstddef>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

// Mean and scatter matrix of a set of samples, mergeable across batches (Chan et al.'s update).
struct GaussianStats {
  std::size_t count = 0;
  std::vector<double> mean;  // d
  MatrixD scatter;           // d x d, Σ (x − μ)(x − μ)ᵀ, both triangles filled

  std::size_t dim() const { return mean.size(); }
  // Sample covariance scatter / (count − 1); requires count >= 2.
  MatrixD covariance() const;
};

struct CovarianceOptions {
  std::size_t block_rows = 512;  // centred rows per BLAS SYRK call (memory: block_rows x d doubles)
};

// How the covariances are factored and B = W₂ᵀW₁ decomposed:
//  - lapack (default): rank-revealing pivoted Cholesky (dpstrf) + singular values (dgesdd), from the
//    LAPACK inside OpenBLAS; blocked and multi-threaded, ~3x less work than eigendecompositions;
//  - eigen: symmetric eigendecomposition (Eigen SelfAdjointEigenSolver, eigenvalues below d·ε·λmax
//    count as 0) + Eigen BDCSVD; single-threaded, kept as an independent cross-check.
enum class FidSolver { lapack, eigen };

struct FidOptions {
  CovarianceOptions covariance;
  FidSolver solver = FidSolver::lapack;
};

// Two-pass mean and scatter, accumulated in double: the mean first, then centred row blocks through
// SYRK. x is n x d, n >= 1 (finite values: callers validate user input).
template <class T>
GaussianStats gaussian_stats(MatrixView<T> x, const CovarianceOptions& options = {});

// Statistics of the union of two disjoint batches (Chan, Golub & LeVeque's pairwise update).
GaussianStats merge(const GaussianStats& a, const GaussianStats& b);

// The Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂) from the sample statistics (count >= 2 each,
// equal dimensions).
double frechet_distance(const GaussianStats& a, const GaussianStats& b, FidSolver solver = FidSolver::lapack);

// tr (Σ₁ Σ₂)^½ for symmetric positive semi-definite d x d matrices (row-major, both triangles).
double trace_sqrt_product(const MatrixD& sigma1, const MatrixD& sigma2, FidSolver solver = FidSolver::lapack);

// FID of two feature sets (n₁ x d and n₂ x d, n >= 2 each). Validates the input: non-finite values,
// too few rows and a dimension mismatch are InputErrors naming "real" / "synthetic".
template <class T>
double fid(MatrixView<T> real, MatrixView<T> synthetic, const FidOptions& options = {});

}  // namespace chexgen::metrics
