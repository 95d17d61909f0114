// Fréchet Radiomics Distance (docs/radiomics.md, "FRD"): the Fréchet distance between radiomic feature sets after
// standardising both with the real set's statistics, as the frd-score package (frd_v1) that CheXGenBench copies
// computes it:
//   1. rows with a NaN anywhere are left out (and listed in the result);
//   2. optionally, the larger set is subsampled to the smaller one's size, with the subset numpy's
//      `np.random.seed(seed); np.random.choice(n, m, replace=False)` draws;
//   3. every column is z-scored with the real rows' mean and population (N) standard deviation;
//   4. columns that are NaN or infinite in either set afterwards (constant real columns, mostly) are left out;
//   5. the Fréchet distance of the two Gaussians (metrics/fid.h) — CheXGenBench reports its natural logarithm.
// Deviation from the reference, on purpose: it casts features to float32 before step 3; we keep float64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

struct FrdOptions {
  bool match_sample_count = false;
  std::uint32_t seed = 42;
  bool paper_log = false;  // report ln(distance) as CheXGenBench does, instead of the distance itself
};

struct FrdResult {
  double frechet_distance = 0;      // squared Fréchet distance of the standardised features
  double log_frechet_distance = 0;  // its natural logarithm (-inf when the distance is 0)
  double frd = 0;                   // the reported value: log_frechet_distance with paper_log, else frechet_distance
  std::size_t real_rows = 0, synthetic_rows = 0;                         // as given
  std::vector<std::size_t> real_rows_with_nan, synthetic_rows_with_nan;  // left out in step 1 (0-based)
  std::size_t real_used = 0, synthetic_used = 0;                         // after steps 1 and 2
  std::size_t columns = 0, columns_used = 0;
  std::vector<std::string> dropped_columns;  // step 4, by name
};

// Steps 3 and 4 on their own, for the given rows (no NaN among them): both sets z-scored with the real rows' column
// means and population standard deviations, keeping the columns that are finite in both afterwards. FRD uses it, and
// so do FID, KID and PRDC on radiomic features (docs/fidelity.md).
struct StandardisedFeatures {
  MatrixD real, synthetic;                // rows in the order given, columns_used.size() columns
  std::vector<std::size_t> columns_used;  // indices into the input columns
  std::vector<std::size_t> columns_dropped;
};
StandardisedFeatures standardise_with_real(MatrixViewD real, std::span<const std::size_t> real_rows,
                                           MatrixViewD synthetic, std::span<const std::size_t> synthetic_rows);

// The rows of x without a NaN; `with_nan` (when given) receives the others.
std::vector<std::size_t> rows_without_nan(MatrixViewD x, std::vector<std::size_t>* with_nan = nullptr);

// real: n1 x d, synthetic: n2 x d, column_names: d names. Throws InputError ("real" / "synthetic") when fewer than
// 2 rows remain in a set, when no column survives, or when the dimensions differ.
FrdResult compute_frd(MatrixViewD real, MatrixViewD synthetic, std::span<const std::string> column_names,
                      const FrdOptions& options = {});

}  // namespace chexgen::metrics
