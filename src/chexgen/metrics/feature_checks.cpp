#include "chexgen/metrics/feature_checks.h"

#include <cmath>

#include <fmt/format.h>

#include "chexgen/core/error.h"

namespace chexgen::metrics {

template <class T>
void require_finite(MatrixView<T> x, const std::string& name) {
  for (std::size_t i = 0; i < x.rows; ++i) {
    const T* r = x.row(i);
    for (std::size_t j = 0; j < x.cols; ++j) {
      if (!std::isfinite(r[j])) {
        throw InputError(Location{name, i + 1, {}},
                         fmt::format("non-finite feature value {} at feature index {} (row {} of {}, 1-based)",
                                     static_cast<double>(r[j]), j, i + 1, x.rows));
      }
    }
  }
}

template <class T>
void require_moderate(MatrixView<T> x, const std::string& name) {
  for (std::size_t i = 0; i < x.rows; ++i) {
    const T* r = x.row(i);
    for (std::size_t j = 0; j < x.cols; ++j) {
      if (std::abs(static_cast<double>(r[j])) > kMaxFeatureMagnitude) {
        throw InputError(Location{name, i + 1, {}},
                         fmt::format("feature value {} at feature index {} (row {} of {}, 1-based) is larger in "
                                     "magnitude than {:g}, beyond what FID's and KID's arithmetic can hold without "
                                     "overflow: check how the features were made (or rescale them)",
                                     static_cast<double>(r[j]), j, i + 1, x.rows, kMaxFeatureMagnitude));
      }
    }
  }
}

template <class T>
void require_rows(MatrixView<T> x, const std::string& name, std::size_t min_rows, const std::string& why) {
  if (x.cols == 0) throw InputError(Location{name, std::nullopt, {}}, "the feature matrix has no columns");
  if (x.rows < min_rows) {
    throw InputError(Location{name, std::nullopt, {}},
                     fmt::format("{} needs at least {} samples, the set has {}", why, min_rows, x.rows));
  }
}

template <class T>
void require_same_dim(MatrixView<T> a, const std::string& name_a, MatrixView<T> b, const std::string& name_b) {
  if (a.cols != b.cols) {
    throw InputError(Location{name_b, std::nullopt, {}},
                     fmt::format("feature dimension {} does not match {} ({} features)", b.cols, name_a, a.cols));
  }
}

template <class T>
void require_feature_pair(MatrixView<T> a, const std::string& name_a, MatrixView<T> b, const std::string& name_b,
                          std::size_t min_rows, const std::string& why) {
  require_rows(a, name_a, min_rows, why);
  require_rows(b, name_b, min_rows, why);
  require_same_dim(a, name_a, b, name_b);
  require_finite(a, name_a);
  require_finite(b, name_b);
}

template void require_finite(MatrixView<float>, const std::string&);
template void require_finite(MatrixView<double>, const std::string&);
template void require_moderate(MatrixView<float>, const std::string&);
template void require_moderate(MatrixView<double>, const std::string&);
template void require_rows(MatrixView<float>, const std::string&, std::size_t, const std::string&);
template void require_rows(MatrixView<double>, const std::string&, std::size_t, const std::string&);
template void require_same_dim(MatrixView<float>, const std::string&, MatrixView<float>, const std::string&);
template void require_same_dim(MatrixView<double>, const std::string&, MatrixView<double>, const std::string&);
template void require_feature_pair(MatrixView<float>, const std::string&, MatrixView<float>, const std::string&,
                                   std::size_t, const std::string&);
template void require_feature_pair(MatrixView<double>, const std::string&, MatrixView<double>, const std::string&,
                                   std::size_t, const std::string&);

}  // namespace chexgen::metrics
