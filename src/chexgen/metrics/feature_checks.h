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

// FID's and KID's arithmetic (covariances, sums of squares, KID's cubic kernel) overflows to inf and then NaN long
// before float64's range is used up, so larger magnitudes are refused for them (PRDC handles any finite value
// exactly). Network activations and radiomic features (16-bit Energy of a 4096 x 4096 image included, ~7e16) stay
// below it.
inline constexpr double kMaxFeatureMagnitude = 1e18;

// Every value at most kMaxFeatureMagnitude in magnitude (call after require_finite); the first other is reported as
// `name:row: ... feature index j (0-based)`.
template <class T>
void require_moderate(MatrixView<T> x, const std::string& name);

// At least `min_rows` rows and at least one column; `why` says what needs them (e.g. "FID").
template <class T>
void require_rows(MatrixView<T> x, const std::string& name, std::size_t min_rows, const std::string& why);

// Same number of columns (feature dimension).
template <class T>
void require_same_dim(MatrixView<T> a, const std::string& name_a, MatrixView<T> b, const std::string& name_b);

// The checks every two-set metric (FID, KID, PRDC) runs: both sets have `min_rows` rows, the same
// dimension, and finite values; cheap shape checks first, then the scan of every value. FID and KID add
// require_moderate.
template <class T>
void require_feature_pair(MatrixView<T> a, const std::string& name_a, MatrixView<T> b, const std::string& name_b,
                          std::size_t min_rows, const std::string& why);

}  // namespace chexgen::metrics
