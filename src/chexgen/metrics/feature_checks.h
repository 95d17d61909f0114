// Validation of user-supplied feature matrices before a metric runs. Bad input is an InputError
// naming the set (a file path, or a label such as "real") and, for bad values, the 1-based row.
#pragma once

#include <cstddef>
#include <string>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

// Every value finite; the first NaN/Inf is reported as `name:row: column j (0-based feature index)`.
template <class T>
void require_finite(MatrixView<T> x, const std::string& name);

// At least `min_rows` rows and at least one column; `why` says what needs them (e.g. "FID").
template <class T>
void require_rows(MatrixView<T> x, const std::string& name, std::size_t min_rows, const std::string& why);

// Same number of columns (feature dimension).
template <class T>
void require_same_dim(MatrixView<T> a, const std::string& name_a, MatrixView<T> b, const std::string& name_b);

// The checks every two-set metric (FID, KID, PRDC) runs: both sets have `min_rows` rows, the same
// dimension, and finite values; cheap shape checks first, then the scan of every value.
template <class T>
void require_feature_pair(MatrixView<T> a, const std::string& name_a, MatrixView<T> b, const std::string& name_b,
                          std::size_t min_rows, const std::string& why);

}  // namespace chexgen::metrics
