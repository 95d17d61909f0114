#include "chexgen/metrics/prdc.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"
#include "chexgen/metrics/feature_checks.h"

namespace chexgen::metrics {
namespace {

// ---- validation -------------------------------------------------------------------------------

void check_k(int k) {
  if (k < 1) throw UsageError(fmt::format("PRDC: k (nearest_k) must be >= 1, got {}", k));
}

template <class T>
void check_set(MatrixView<T> m, int k, const std::string& source) {
  // k neighbours besides each row itself (the package's argpartition needs one more; docs/prdc.md).
  require_rows(m, source, static_cast<std::size_t>(k) + 1, fmt::format("PRDC with k = {}", k));
  require_finite(m, source);
}

template <class T>
void check_inputs(MatrixView<T> real, MatrixView<T> fake, const PrdcOptions& options) {
  check_k(options.k);
  if (options.tile_rows == 0 || options.tile_cols == 0) {
    throw UsageError(fmt::format("PRDC: tile sizes must be >= 1, got {} x {}", options.tile_rows, options.tile_cols));
  }
  require_feature_pair(real, options.real_source, fake, options.fake_source, static_cast<std::size_t>(options.k) + 1,
                       fmt::format("PRDC with k = {}", options.k));
}

// ---- radii ------------------------------------------------------------------------------------

// Squared radius of every row's ball: the k-th smallest canonical squared distance to the *other*
// rows of its set. The package takes the (k+1)-th smallest of the full row, the self-distance 0
// included (prdc.py: compute_nearest_neighbour_distances, get_kth_value(k = nearest_k + 1)), which is
// the same order statistic; duplicates of a row count as neighbours at distance 0.
template <class T>
std::vector<double> squared_radii(MatrixView<T> set, int k, const DistanceTiling& tiling, Progress* progress,
                                  std::size_t& recomputations) {
  // Symmetric: each pair's distance is computed once and offered to both rows.
  KSmallestWithinSet<T> nearest(set, static_cast<std::size_t>(k));
  run_distance_tiles_upper<T>(
      set, tiling, [&](const DistanceTile<T>& tile) { nearest(tile); }, progress);
  std::vector<double> radii(set.rows);
  for (std::size_t i = 0; i < set.rows; ++i) {
    CHEXGEN_ASSERT(nearest.filled(i) == static_cast<std::size_t>(k), "PRDC: a row has fewer than k neighbours");
    radii[i] = nearest.kth(i);
  }
  recomputations += nearest.exact_recomputations();
  return radii;
}

// ---- the real x fake pass ---------------------------------------------------------------------

// Per real row (owned by one worker at a time) and per fake column (shared: atomic) state.
struct CrossCounts {
  explicit CrossCounts(std::size_t reals, std::size_t fakes)
      : real_in_fake_ball(reals, 0), real_ball_has_fake(reals, 0), fake_in_real_balls(fakes) {}
  std::vector<std::uint8_t> real_in_fake_ball;                 // recall
  std::vector<std::uint8_t> real_ball_has_fake;                // coverage
  std::vector<std::atomic<std::uint32_t>> fake_in_real_balls;  // precision (> 0), density (sum)
  std::atomic<std::size_t> recomputations{0};
};

enum class Side { inside, outside, unsure };

// Is the pair's canonical squared distance strictly below `radius2` (the package's `<`)? Decided
// from the tile value v when its rounding bound leaves no doubt.
inline Side classify(double v, double bound, double radius2) {
  if (!std::isfinite(v)) return Side::unsure;
  if (v + bound < radius2) return Side::inside;
  if (v - bound >= radius2) return Side::outside;
  return Side::unsure;
}

template <class T>
void count_cross_tile(const DistanceTile<T>& tile, MatrixView<T> real, MatrixView<T> fake,
                      const std::vector<double>& real_r2, const std::vector<double>& fake_r2, CrossCounts& counts) {
  std::size_t recomputed = 0;
  // Screen: a raw value at or above both cutoffs (its real ball's radius, its fake ball's radius, each
  // plus the largest error bound of the tile) is surely outside both balls.
  const TileNormMaxima screen = tile_norm_maxima(tile);
  std::vector<T> fake_cutoff(tile.cols, std::numeric_limits<T>::infinity());
  if (screen.finite_values) {
    for (std::size_t c = 0; c < tile.cols; ++c) {
      const double col_max_bound = tile.error.cross * screen.row_norm * tile.col_norm[c] +
                                   tile.error.norms * (screen.row_sq_norm + tile.col_sq_norm[c]) + tile.error.absolute;
      fake_cutoff[c] = round_up_to<T>(fake_r2[tile.col_begin + c] + col_max_bound);
    }
  }
  constexpr std::size_t chunk = 64;
  for (std::size_t r = 0; r < tile.rows; ++r) {
    const std::size_t i = tile.row_begin + r;
    const double real_radius2 = real_r2[i];
    bool recalled = counts.real_in_fake_ball[i] != 0;
    bool covered = counts.real_ball_has_fake[i] != 0;
    const double row_cross = tile.error.cross * tile.row_norm[r];
    const double row_rest = tile.error.norms * tile.row_sq_norm[r] + tile.error.absolute;
    const T real_cutoff =
        round_up_to<T>(real_radius2 + row_cross * screen.col_norm + tile.error.norms * screen.col_sq_norm + row_rest);
    const T* values = tile.squared + r * tile.cols;
    for (std::size_t c0 = 0; c0 < tile.cols; c0 += chunk) {
      const std::size_t c1 = std::min(c0 + chunk, tile.cols);
      if (screen.finite_values) {
        int candidates = 0;
        for (std::size_t c = c0; c < c1; ++c) {
          candidates += (values[c] < real_cutoff ? 1 : 0) + (!recalled && values[c] < fake_cutoff[c] ? 1 : 0);
        }
        if (candidates == 0) continue;
      }
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t j = tile.col_begin + c;
        const double v = static_cast<double>(values[c]);
        const double bound = row_cross * tile.col_norm[c] + tile.error.norms * tile.col_sq_norm[c] + row_rest;
        Side in_real_ball = classify(v, bound, real_radius2);
        // Recall only needs one fake ball per real: once found, stop asking.
        Side in_fake_ball = recalled ? Side::outside : classify(v, bound, fake_r2[j]);
        if (in_real_ball == Side::unsure || in_fake_ball == Side::unsure) {
          const double exact = exact_squared_distance(real.row(i), fake.row(j), real.cols);
          ++recomputed;
          if (in_real_ball == Side::unsure) in_real_ball = exact < real_radius2 ? Side::inside : Side::outside;
          if (in_fake_ball == Side::unsure) in_fake_ball = exact < fake_r2[j] ? Side::inside : Side::outside;
        }
        if (in_real_ball == Side::inside) {
          counts.fake_in_real_balls[j].fetch_add(1, std::memory_order_relaxed);
          covered = true;
        }
        if (in_fake_ball == Side::inside) recalled = true;
      }
    }
    counts.real_in_fake_ball[i] = recalled ? 1 : 0;
    counts.real_ball_has_fake[i] = covered ? 1 : 0;
  }
  counts.recomputations.fetch_add(recomputed, std::memory_order_relaxed);
}

template <class T>
PrdcResult prdc_impl(MatrixView<T> real, MatrixView<T> fake, const PrdcOptions& options, Progress* progress) {
  check_inputs(real, fake, options);
  const DistanceTiling tiling = options.tiling();
  const int k = options.k;

  PrdcResult result;
  result.real_count = real.rows;
  result.fake_count = fake.rows;
  result.k = k;

  std::size_t recomputations = 0;
  const std::vector<double> real_r2 = squared_radii(real, k, tiling, progress, recomputations);
  const std::vector<double> fake_r2 = squared_radii(fake, k, tiling, progress, recomputations);

  CrossCounts counts(real.rows, fake.rows);
  run_distance_tiles<T>(
      real, fake, tiling,
      [&](const DistanceTile<T>& tile) { count_cross_tile(tile, real, fake, real_r2, fake_r2, counts); }, progress);

  // prdc.py: compute_prdc. Every mean is an exact count divided by the set size, as numpy does.
  for (std::size_t j = 0; j < fake.rows; ++j) {
    const std::uint32_t n = counts.fake_in_real_balls[j].load();
    result.density_memberships += n;
    if (n > 0) ++result.precision_fakes;
  }
  for (std::size_t i = 0; i < real.rows; ++i) {
    result.recall_reals += counts.real_in_fake_ball[i];
    result.coverage_reals += counts.real_ball_has_fake[i];
  }
  const double n_real = static_cast<double>(real.rows);
  const double n_fake = static_cast<double>(fake.rows);
  result.precision = static_cast<double>(result.precision_fakes) / n_fake;
  result.recall = static_cast<double>(result.recall_reals) / n_real;
  result.density = (1.0 / static_cast<double>(k)) * (static_cast<double>(result.density_memberships) / n_fake);
  result.coverage = static_cast<double>(result.coverage_reals) / n_real;
  result.exact_recomputations = recomputations + counts.recomputations.load();
  return result;
}

template <class T>
std::vector<double> radii_impl(MatrixView<T> features, int k, const DistanceTiling& tiling, const std::string& source) {
  check_k(k);
  if (tiling.tile_rows == 0 || tiling.tile_cols == 0) throw UsageError("distance tile sizes must be >= 1");
  check_set(features, k, source);
  std::size_t recomputations = 0;
  std::vector<double> radii = squared_radii(features, k, tiling, nullptr, recomputations);
  for (double& r : radii) r = std::sqrt(r);
  return radii;
}

}  // namespace

PrdcResult compute_prdc(MatrixViewF real, MatrixViewF fake, const PrdcOptions& options, Progress* progress) {
  return prdc_impl(real, fake, options, progress);
}

PrdcResult compute_prdc(MatrixViewD real, MatrixViewD fake, const PrdcOptions& options, Progress* progress) {
  return prdc_impl(real, fake, options, progress);
}

std::size_t prdc_progress_total(std::size_t real_rows, std::size_t fake_rows, const PrdcOptions& options) {
  const DistanceTiling tiling = options.tiling();
  if (tiling.tile_rows == 0) return 0;
  // real x real, fake x fake, real x fake.
  return 2 * distance_row_blocks(real_rows, tiling) + distance_row_blocks(fake_rows, tiling);
}

std::vector<double> nearest_neighbour_distances(MatrixViewF features, int k, const DistanceTiling& tiling,
                                                const std::string& source) {
  return radii_impl(features, k, tiling, source);
}

std::vector<double> nearest_neighbour_distances(MatrixViewD features, int k, const DistanceTiling& tiling,
                                                const std::string& source) {
  return radii_impl(features, k, tiling, source);
}

}  // namespace chexgen::metrics
