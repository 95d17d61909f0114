#include "chexgen/metrics/blas_info.h"

#include <fmt/format.h>

extern "C" {
char* openblas_get_config(void);
char* openblas_get_corename(void);
int blas_thread_shutdown_(void);
}

namespace chexgen::metrics {

std::string blas_description() {
  return fmt::format("{} (kernels: {})", openblas_get_config(), openblas_get_corename());
}

void park_blas_threads() { blas_thread_shutdown_(); }

}  // namespace chexgen::metrics
