#include "chexgen/metrics/lapack.h"

#include <algorithm>
#include <cstddef>

extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info, std::size_t jobz_len, std::size_t uplo_len);
void dpstrf_(const char* uplo, const int* n, double* a, const int* lda, int* piv, int* rank, const double* tol,
             double* work, int* info, std::size_t uplo_len);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
             const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork, int* info,
             std::size_t jobz_len);
}

namespace chexgen::metrics::lapack {

int symmetric_eigen(std::vector<double>& a, std::size_t n, std::vector<double>& eigenvalues) {
  const int ni = static_cast<int>(n);
  const int lda = std::max(1, ni);
  eigenvalues.assign(n, 0.0);
  if (n == 0) return 0;
  int info = 0;
  // Workspace query, then the call.
  double work_size = 0.0;
  int iwork_size = 0;
  const int query = -1;
  dsyevd_("V", "L", &ni, a.data(), &lda, eigenvalues.data(), &work_size, &query, &iwork_size, &query, &info, 1, 1);
  if (info != 0) return info;
  const int lwork = static_cast<int>(work_size) + 1;
  const int liwork = std::max(1, iwork_size);
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_("V", "L", &ni, a.data(), &lda, eigenvalues.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
  return info;
}

int pivoted_cholesky(std::vector<double>& a, std::size_t n, std::vector<int>& pivot, std::size_t& rank) {
  const int ni = static_cast<int>(n);
  const int lda = std::max(1, ni);
  pivot.assign(n, 0);
  rank = 0;
  if (n == 0) return 0;
  int info = 0;
  int r = 0;
  const double default_tolerance = -1.0;
  std::vector<double> work(2 * n);
  dpstrf_("L", &ni, a.data(), &lda, pivot.data(), &r, &default_tolerance, work.data(), &info, 1);
  for (int& p : pivot) --p;  // Fortran indices are 1-based
  rank = static_cast<std::size_t>(std::max(0, r));
  return info;
}

int singular_values(std::vector<double>& a, std::size_t m, std::size_t n, std::vector<double>& values) {
  const int mi = static_cast<int>(m);
  const int ni = static_cast<int>(n);
  const int lda = std::max(1, mi);
  values.assign(std::min(m, n), 0.0);
  if (m == 0 || n == 0) return 0;
  int info = 0;
  double unused = 0.0;
  const int ld_unused = 1;
  std::vector<int> iwork(8 * std::min(m, n));
  double work_size = 0.0;
  const int query = -1;
  dgesdd_("N", &mi, &ni, a.data(), &lda, values.data(), &unused, &ld_unused, &unused, &ld_unused, &work_size, &query,
          iwork.data(), &info, 1);
  if (info != 0) return info;
  const int lwork = static_cast<int>(work_size) + 1;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  dgesdd_("N", &mi, &ni, a.data(), &lda, values.data(), &unused, &ld_unused, &unused, &ld_unused, work.data(), &lwork,
          iwork.data(), &info, 1);
  return info;
}

}  // namespace chexgen::metrics::lapack
