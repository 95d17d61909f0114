// Which BLAS the metrics run on, for `chexgen --version` and results: the last bits of a float computed through it
// (GEMM, LAPACK, LibTorch's convolutions) depend on the kernel set OpenBLAS picked for this CPU, which
// OPENBLAS_CORETYPE overrides (docs/models.md, "Agreement with PyTorch").
#pragma once

#include <string>

namespace chexgen::metrics {

// "OpenBLAS 0.3.21 DYNAMIC_ARCH ... (kernels: Prescott)": the library's own configuration line and the kernel set
// in use.
std::string blas_description();

// Stops OpenBLAS's worker threads until its next threaded call. OpenBLAS starts them when the library loads and lets
// them spin (sched_yield) for ~2^28 cycles before they sleep, so on a 2-core machine every command would lose most of
// a core for its first tenth of a second, whether or not it uses BLAS; OpenBLAS starts them again by itself on its
// first call that uses threads (blas_thread_shutdown_, the same call OpenBLAS makes around fork()). Called once by
// the chexgen programs at start-up (docs/benchmarks.md, "Report scoring").
void park_blas_threads();

}  // namespace chexgen::metrics
