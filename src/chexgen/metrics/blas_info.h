// Which BLAS the metrics run on, for `chexgen --version` and results: the last bits of a float computed through it
// (GEMM, LAPACK, LibTorch's convolutions) depend on the kernel set OpenBLAS picked for this CPU, which
// OPENBLAS_CORETYPE overrides (docs/models.md, "Agreement with PyTorch").
#pragma once

#include <string>

namespace chexgen::metrics {

// "OpenBLAS 0.3.21 DYNAMIC_ARCH ... (kernels: Prescott)": the library's own configuration line and the kernel set
// in use.
std::string blas_description();

}  // namespace chexgen::metrics
