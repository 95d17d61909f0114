// Precision, recall, density and coverage of a generated feature set against a real one
// (Naeem et al., "Reliable Fidelity and Diversity Metrics for Generative Models", ICML 2020), as the
// `prdc` package (clovaai/generative-evaluation-prdc, prdc/prdc.py: compute_prdc) defines them.
// Definitions, the package's conventions and our deviations: docs/prdc.md.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "chexgen/core/matrix.h"
#include "chexgen/metrics/distance.h"

namespace chexgen {
class Progress;
}

namespace chexgen::metrics {

struct PrdcOptions {
  int k = 5;                                  // nearest_k: a ball's radius is the distance to the k-th neighbour
  int threads = 0;                            // workers over row tiles; 0 = all cores
  std::size_t tile_rows = 256;                // distance tile: rows per GEMM call
  std::size_t tile_cols = 4096;               // distance tile: columns per GEMM call
  std::string real_source = "real features";  // how error messages name the real set (e.g. a path)
  std::string fake_source = "fake features";  // how error messages name the fake set

  DistanceTiling tiling() const { return {tile_rows, tile_cols, threads}; }
};

struct PrdcResult {
  double precision = 0;  // fraction of fakes inside at least one real ball
  double recall = 0;     // fraction of reals inside at least one fake ball
  double density = 0;    // (1/k) · mean over fakes of the number of real balls containing it
  double coverage = 0;   // fraction of reals whose ball contains at least one fake

  // The exact counts behind the four numbers.
  std::size_t real_count = 0;
  std::size_t fake_count = 0;
  int k = 0;
  std::size_t precision_fakes = 0;      // fakes inside >= 1 real ball
  std::size_t recall_reals = 0;         // reals inside >= 1 fake ball
  std::size_t density_memberships = 0;  // Σ over fakes of the number of real balls containing it
  std::size_t coverage_reals = 0;       // reals whose ball holds >= 1 fake
  // Pair distances recomputed in double because the fast kernel could not decide (diagnostics).
  std::size_t exact_recomputations = 0;
};

// real: n x d, fake: m x d, row-major, one sample per row. Requires 1 <= k < n and k < m, the same
// d >= 1 and finite values; otherwise throws UsageError (k < 1) or InputError naming the set
// (options.real_source / fake_source) and the 1-based row. `progress`, when given, is advanced once
// per distance row block; its total should be prdc_progress_total(n, m, options).
PrdcResult compute_prdc(MatrixViewF real, MatrixViewF fake, const PrdcOptions& options = {},
                        Progress* progress = nullptr);
PrdcResult compute_prdc(MatrixViewD real, MatrixViewD fake, const PrdcOptions& options = {},
                        Progress* progress = nullptr);

std::size_t prdc_progress_total(std::size_t real_rows, std::size_t fake_rows, const PrdcOptions& options);

// The package's compute_nearest_neighbour_distances: for every row, the Euclidean distance to its
// k-th nearest other row of the same set (a duplicate row counts, at distance 0). Validates like
// compute_prdc (`source` names the set in errors).
std::vector<double> nearest_neighbour_distances(MatrixViewF features, int k, const DistanceTiling& tiling,
                                                const std::string& source = "features");
std::vector<double> nearest_neighbour_distances(MatrixViewD features, int k, const DistanceTiling& tiling,
                                                const std::string& source = "features");

}  // namespace chexgen::metrics
