// Kernel Inception Distance (docs/metrics.md, "KID"): the unbiased estimate of MMD² with the cubic
// polynomial kernel k(x, y) = (γ xᵀy + c₀)^degree, γ = 1/d, c₀ = 1, degree 3, averaged over random
// subsets, as torch-fidelity's kid_features_to_metric and clean-fid's kernel_distance define it:
//
//   MMD²_u(X, Y) = Σ_{i≠j} k(xᵢ,xⱼ) / (m(m−1)) + Σ_{i≠j} k(yᵢ,yⱼ) / (n(n−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ) / (mn)
//
// (torch-fidelity's mmd_est="unbiased"; with m = n as KID always uses). KID reports the mean and
// the population standard deviation (numpy's np.std) of MMD² over the subsets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

struct PolynomialKernel {
  int degree = 3;
  double gamma = 0.0;  // 0 = 1 / d (torch-fidelity's kid_gamma=None)
  double coef0 = 1.0;
};

struct KidOptions {
  std::size_t subsets = 100;    // torch-fidelity / clean-fid default
  std::size_t subset_size = 0;  // 0 = min(1000, n_real, n_synthetic); else <= min(n_real, n_synthetic)
  std::uint64_t seed = 42;      // IndexSampler seed (sampling.h)
  PolynomialKernel kernel;
  std::size_t tile_rows = 1024;  // rows per Gram tile (memory: tile_rows² kernel values per tile)
};

struct KidResult {
  double mean = 0.0;
  double std = 0.0;                 // population standard deviation over subsets (np.std)
  std::size_t subset_size = 0;      // the size actually used
  std::vector<double> subset_mmd2;  // one value per subset, in draw order
};

// The effective subset size for these set sizes (validates options.subset_size; UsageError if it
// is larger than either set or smaller than 2).
std::size_t kid_subset_size(const KidOptions& options, std::size_t n_real, std::size_t n_synthetic);

// Unbiased MMD² of the rows x[ix] against y[iy] (m = |ix| >= 2, n = |iy| >= 2); the Gram matrix is
// computed in tiles by BLAS GEMM in precision T, the kernel values and all sums in double.
template <class T>
double mmd2_unbiased(MatrixView<T> x, const std::vector<std::size_t>& ix, MatrixView<T> y,
                     const std::vector<std::size_t>& iy, const PolynomialKernel& kernel, std::size_t tile_rows = 1024);

// The full-sample unbiased MMD² (every row of x against every row of y).
template <class T>
double mmd2_unbiased(MatrixView<T> x, MatrixView<T> y, const PolynomialKernel& kernel = {});

// KID over `options.subsets` subsets; each subset draws subset_size real rows and then subset_size
// synthetic rows without replacement from one IndexSampler(options.seed). Validates the input
// (InputError naming "real" / "synthetic").
template <class T>
KidResult kid(MatrixView<T> real, MatrixView<T> synthetic, const KidOptions& options = {});

}  // namespace chexgen::metrics
