// The LAPACK routines FID needs, from the LAPACK that OpenBLAS ships (libopenblas exports the
// Fortran symbols; Debian has no LAPACKE header for it). Column-major, Fortran calling convention,
// with the hidden string-length arguments gfortran expects. Internal to the metrics stage.
#pragma once

#include <cstddef>
#include <vector>

namespace chexgen::metrics::lapack {

// Eigenvalues (ascending) and, in `a`, the orthonormal eigenvectors (columns) of the symmetric n x n
// matrix `a` (column-major, lower triangle read): LAPACK dsyevd, divide and conquer. Returns LAPACK's
// info (0 = success).
int symmetric_eigen(std::vector<double>& a, std::size_t n, std::vector<double>& eigenvalues);

// Rank-revealing Cholesky factorisation with complete pivoting of the symmetric positive
// semi-definite n x n matrix `a` (column-major, lower triangle): P A Pᵀ = L Lᵀ, LAPACK dpstrf with its
// default tolerance n·ε·max(diag). On return the first `rank` columns of the lower triangle of `a`
// hold L, and pivot[i] is the 0-based original index of pivoted row i. Returns LAPACK's info (0, or 1
// when the matrix is rank deficient, are both successes).
int pivoted_cholesky(std::vector<double>& a, std::size_t n, std::vector<int>& pivot, std::size_t& rank);

// Singular values (descending) of the m x n column-major matrix `a` (destroyed): LAPACK dgesdd with
// jobz = 'N'. Returns LAPACK's info (0 = success).
int singular_values(std::vector<double>& a, std::size_t m, std::size_t n, std::vector<double>& values);

}  // namespace chexgen::metrics::lapack
