#include "chexgen/metrics/distance.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <cblas.h>

#include "chexgen/core/error.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/progress.h"

// OpenBLAS's thread control (declared by OpenBLAS's cblas.h; repeated here in case the cblas.h
// alternative on the include path is another vendor's).
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace chexgen::metrics {
namespace {

// C (m x n, row-major, ldc = n) = A (m x d, row-major) · B (n x d, row-major)ᵀ.
void gemm_abt(const float* a, const float* b, float* c, std::size_t m, std::size_t n, std::size_t d) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(d),
              1.0f, a, static_cast<int>(d), b, static_cast<int>(d), 0.0f, c, static_cast<int>(n));
}
void gemm_abt(const double* a, const double* b, double* c, std::size_t m, std::size_t n, std::size_t d) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(d),
              1.0, a, static_cast<int>(d), b, static_cast<int>(d), 0.0, c, static_cast<int>(n));
}

// γ_n = n·u / (1 − n·u): the classic bound on the relative error of an n-term dot product
// (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1), any summation order, with or
// without FMA. Infinite when n·u is not small.
double gamma_bound(std::size_t n, double unit_roundoff) {
  const double nu = static_cast<double>(n) * unit_roundoff;
  return nu < 0.5 ? nu / (1.0 - nu) : std::numeric_limits<double>::infinity();
}

template <class T>
struct SquaredNorms {
  std::vector<double> sq;    // ‖row‖², accumulated in double
  std::vector<double> norm;  // ‖row‖
  std::vector<T> sq_t;       // ‖row‖² rounded to T, for the epilogue
};

template <class T>
SquaredNorms<T> squared_norms(MatrixView<T> m) {
  SquaredNorms<T> out;
  out.sq.resize(m.rows);
  out.norm.resize(m.rows);
  out.sq_t.resize(m.rows);
  std::vector<T> zero(m.cols, T{0});
  for (std::size_t i = 0; i < m.rows; ++i) {
    out.sq[i] = exact_squared_distance(m.row(i), zero.data(), m.cols);
    out.norm[i] = std::sqrt(out.sq[i]);
    out.sq_t[i] = static_cast<T>(out.sq[i]);
  }
  return out;
}

}  // namespace

template <class T>
DistanceErrorModel distance_error_model(std::size_t d) {
  // The tile value is fl(fl(‖x‖²) + fl(‖y‖²) − 2·g) with g the GEMM's x·y:
  //   |g − x·y| <= γ_d·Σ|x_t||y_t| <= γ_d·‖x‖‖y‖                         (Cauchy–Schwarz)
  //   rounding the norms to T and the two additions: <= 5u·(‖x‖² + ‖y‖²)   (|2g| <= ‖x‖² + ‖y‖²)
  // plus gradual underflow (<= one denormal per product and sum), and the canonical double distance's
  // own rounding, γ_{d+2}(double)·Σ(x−y)² <= γ_{d+2}(double)·2(‖x‖² + ‖y‖²). Everything is doubled
  // as a safety factor; clamping negatives to 0 only moves the value towards the truth.
  const double u = std::numeric_limits<T>::epsilon() / 2;
  const double u_double = std::numeric_limits<double>::epsilon() / 2;
  constexpr double safety = 2.0;
  DistanceErrorModel model;
  model.cross = safety * 2.0 * gamma_bound(d, u);
  model.norms = safety * (6.0 * u + 2.0 * gamma_bound(d + 2, u_double));
  model.absolute = safety * 4.0 * static_cast<double>(d + 2) * std::numeric_limits<T>::denorm_min();
  if (!std::isfinite(model.cross)) model.norms = model.cross;
  return model;
}

std::size_t distance_row_blocks(std::size_t n, const DistanceTiling& tiling) {
  CHEXGEN_ASSERT(tiling.tile_rows > 0, "distance tiling: tile_rows must be >= 1");
  return (n + tiling.tile_rows - 1) / tiling.tile_rows;
}

template <class T>
double exact_squared_distance(const T* a, const T* b, std::size_t d) {
  constexpr std::size_t lanes = 8;
  double acc[lanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t t = 0;
  for (; t + lanes <= d; t += lanes) {
    for (std::size_t l = 0; l < lanes; ++l) {
      const double diff = static_cast<double>(a[t + l]) - static_cast<double>(b[t + l]);
      acc[l] += diff * diff;
    }
  }
  for (std::size_t l = 0; t < d; ++t, ++l) {
    const double diff = static_cast<double>(a[t]) - static_cast<double>(b[t]);
    acc[l] += diff * diff;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <class T>
T round_up_to(double v) {
  if (!(v < static_cast<double>(std::numeric_limits<T>::max()))) return std::numeric_limits<T>::infinity();
  T t = static_cast<T>(v);
  if (static_cast<double>(t) < v) t = std::nextafter(t, std::numeric_limits<T>::infinity());
  return t;
}

template <class T>
TileNormMaxima tile_norm_maxima(const DistanceTile<T>& tile) {
  TileNormMaxima m;
  for (std::size_t r = 0; r < tile.rows; ++r) {
    m.row_norm = std::max(m.row_norm, tile.row_norm[r]);
    m.row_sq_norm = std::max(m.row_sq_norm, tile.row_sq_norm[r]);
  }
  for (std::size_t c = 0; c < tile.cols; ++c) {
    m.col_norm = std::max(m.col_norm, tile.col_norm[c]);
    m.col_sq_norm = std::max(m.col_sq_norm, tile.col_sq_norm[c]);
  }
  const double limit = static_cast<double>(std::numeric_limits<T>::max()) / 16;
  m.finite_values = m.row_sq_norm + m.col_sq_norm < limit && std::isfinite(tile.error.cross);
  return m;
}

namespace {

// The engine. With `upper` (x and y the same set), row block b only gets the columns from its own
// first row on: the diagonal block and everything to its right.
template <class T>
void run_tiles(MatrixView<T> x, MatrixView<T> y, const DistanceTiling& tiling, const DistanceTileHandler<T>& handler,
               Progress* progress, bool upper) {
  CHEXGEN_ASSERT(x.cols == y.cols && x.cols > 0, "run_distance_tiles: x and y need the same d >= 1");
  CHEXGEN_ASSERT(tiling.tile_rows > 0 && tiling.tile_cols > 0, "distance tiling: tiles must be >= 1");
  if (x.rows == 0 || y.rows == 0) return;
  const std::size_t d = x.cols;

  const SquaredNorms<T> x_norms = squared_norms(x);
  const bool same = x.data == y.data && x.rows == y.rows;
  const SquaredNorms<T> y_norms_own = same ? SquaredNorms<T>{} : squared_norms(y);
  const SquaredNorms<T>& y_norms = same ? x_norms : y_norms_own;
  const DistanceErrorModel error = distance_error_model<T>(d);

  const std::size_t tile_rows = std::min(tiling.tile_rows, x.rows);
  const std::size_t tile_cols = std::min(tiling.tile_cols, y.rows);
  const std::size_t blocks = distance_row_blocks(x.rows, tiling);

  BlasSingleThreadScope single_threaded_blas;
  parallel_for(
      blocks, tiling.threads,
      [&](std::size_t block) {
        std::vector<T> buffer(tile_rows * tile_cols);
        const std::size_t r0 = block * tiling.tile_rows;
        const std::size_t rows = std::min(tiling.tile_rows, x.rows - r0);
        for (std::size_t c0 = upper ? r0 : 0; c0 < y.rows; c0 += tile_cols) {
          const std::size_t cols = std::min(tile_cols, y.rows - c0);
          T* out = buffer.data();
          gemm_abt(x.row(r0), y.row(c0), out, rows, cols, d);
          // Epilogue: ‖x‖² + ‖y‖² − 2·x·y, clamped at 0 (faiss: fvec_L2sqr_ny / exhaustive_L2sqr_blas).
          for (std::size_t r = 0; r < rows; ++r) {
            const T xr = x_norms.sq_t[r0 + r];
            const T* yc = y_norms.sq_t.data() + c0;
            T* o = out + r * cols;
            for (std::size_t c = 0; c < cols; ++c) {
              const T v = xr + yc[c] - T{2} * o[c];
              o[c] = v < T{0} ? T{0} : v;
            }
          }
          DistanceTile<T> tile;
          tile.row_begin = r0;
          tile.rows = rows;
          tile.col_begin = c0;
          tile.cols = cols;
          tile.squared = out;
          tile.row_sq_norm = x_norms.sq.data() + r0;
          tile.col_sq_norm = y_norms.sq.data() + c0;
          tile.row_norm = x_norms.norm.data() + r0;
          tile.col_norm = y_norms.norm.data() + c0;
          tile.error = error;
          handler(tile);
        }
      },
      progress);
}

}  // namespace

template <class T>
void run_distance_tiles(MatrixView<T> x, MatrixView<T> y, const DistanceTiling& tiling,
                        const DistanceTileHandler<T>& handler, Progress* progress) {
  run_tiles(x, y, tiling, handler, progress, /*upper=*/false);
}

template <class T>
void run_distance_tiles_upper(MatrixView<T> x, const DistanceTiling& tiling, const DistanceTileHandler<T>& handler,
                              Progress* progress) {
  run_tiles(x, x, tiling, handler, progress, /*upper=*/true);
}

// ---- KSmallestPerRow ------------------------------------------------------------------------

template <class T>
KSmallestPerRow<T>::KSmallestPerRow(MatrixView<T> x, MatrixView<T> y, std::size_t k, bool exclude_self)
    : x_(x),
      y_(y),
      k_(k),
      exclude_self_(exclude_self),
      values_(x.rows * k, std::numeric_limits<double>::infinity()),
      indices_(x.rows * k, 0),
      filled_(x.rows, 0),
      recomputed_(x.rows, 0) {
  CHEXGEN_ASSERT(k >= 1, "KSmallestPerRow: k must be >= 1");
}

namespace {

// Inserts (v, j) into the arrays best[0..filled) and index[0..filled) of capacity k, ascending by value and then
// by index, dropping the largest if full: the same k pairs in the same order whatever order they come in.
void insert_sorted(double* best, std::size_t* index, std::size_t& filled, std::size_t k, double v, std::size_t j) {
  const auto before = [&](std::size_t p) { return best[p] > v || (best[p] == v && index[p] > j); };
  std::size_t p;
  if (filled < k) {
    p = filled++;
  } else if (before(k - 1)) {
    p = k - 1;
  } else {
    return;
  }
  while (p > 0 && before(p - 1)) {
    best[p] = best[p - 1];
    index[p] = index[p - 1];
    --p;
  }
  best[p] = v;
  index[p] = j;
}

// Inserts `v` into the ascending array best[0..filled) of capacity k, dropping the largest if full.
void insert_sorted(double* best, std::size_t& filled, std::size_t k, double v) {
  std::size_t p;
  if (filled < k) {
    p = filled++;
  } else if (v < best[k - 1]) {
    p = k - 1;
  } else {
    return;
  }
  while (p > 0 && best[p - 1] > v) {
    best[p] = best[p - 1];
    --p;
  }
  best[p] = v;
}

// The `want` smallest entries of a strided sequence values[first + t·stride], t in [0, count), that
// pass `eligible`, as positions t ascending; non-finite values rank as +inf, ties keep the lower t.
template <class T, class Eligible>
void smallest_positions(const T* values, std::size_t count, std::size_t stride, std::size_t want,
                        const Eligible& eligible, std::vector<std::size_t>& out, std::vector<T>& keys) {
  out.clear();
  keys.clear();
  if (want == 0) return;
  for (std::size_t t = 0; t < count; ++t) {
    if (!eligible(t)) continue;
    const T v = values[t * stride];
    const T key = std::isfinite(v) ? v : std::numeric_limits<T>::infinity();
    std::size_t p = out.size();
    if (p < want) {
      out.push_back(t);
      keys.push_back(key);
    } else if (key < keys[want - 1]) {
      p = want - 1;
    } else {
      continue;
    }
    while (p > 0 && keys[p - 1] > key) {
      out[p] = out[p - 1];
      keys[p] = keys[p - 1];
      --p;
    }
    out[p] = t;
    keys[p] = key;
  }
  std::sort(out.begin(), out.end());
}

}  // namespace

template <class T>
void KSmallestPerRow<T>::operator()(const DistanceTile<T>& tile) {
  std::vector<std::size_t> seeds;
  std::vector<T> seed_keys;
  const TileNormMaxima screen = tile_norm_maxima(tile);
  for (std::size_t r = 0; r < tile.rows; ++r) {
    const std::size_t i = tile.row_begin + r;
    double* best = values_.data() + i * k_;
    std::size_t* index = indices_.data() + i * k_;
    std::size_t& filled = filled_[i];
    const T* values = tile.squared + r * tile.cols;
    const auto eligible = [&](std::size_t c) { return !(exclude_self_ && i == tile.col_begin + c); };

    // Seeding: while the row has fewer than k values, take the tile's smallest values as the first
    // candidates, so that the threshold below is tight from the start and only near-ties are
    // recomputed (instead of every improvement of a running minimum).
    seeds.clear();
    if (filled < k_) {
      smallest_positions(values, tile.cols, 1, k_ - filled, eligible, seeds, seed_keys);
      for (std::size_t c : seeds) {
        const std::size_t j = tile.col_begin + c;
        insert_sorted(best, index, filled, k_, exact_squared_distance(x_.row(i), y_.row(j), x_.cols), j);
        ++recomputed_[i];
      }
    }

    // A pair can only enter the k smallest if its lower bound is below the current k-th value.
    double threshold = filled == k_ ? best[k_ - 1] : std::numeric_limits<double>::infinity();
    const double row_cross = tile.error.cross * tile.row_norm[r];
    const double row_rest = tile.error.norms * tile.row_sq_norm[r] + tile.error.absolute;
    // The screen's cutoff: the threshold plus the largest bound of this row in this tile.
    const double row_max_bound = row_cross * screen.col_norm + tile.error.norms * screen.col_sq_norm + row_rest;
    T cutoff = round_up_to<T>(threshold + row_max_bound);
    std::size_t next_seed = 0;
    constexpr std::size_t chunk = 64;
    for (std::size_t c0 = 0; c0 < tile.cols; c0 += chunk) {
      const std::size_t c1 = std::min(c0 + chunk, tile.cols);
      if (filled == k_ && screen.finite_values) {
        // Vectorised screen of the chunk in T: a value > cutoff is a sure loser (its lower bound is
        // above the k-th value even with the largest bound of the tile; at the k-th value a tie may win).
        int candidates = 0;
        for (std::size_t c = c0; c < c1; ++c) candidates += values[c] <= cutoff ? 1 : 0;
        if (candidates == 0) continue;
      }
      for (std::size_t c = c0; c < c1; ++c) {
        while (next_seed < seeds.size() && seeds[next_seed] < c) ++next_seed;
        if (next_seed < seeds.size() && seeds[next_seed] == c) continue;  // already inserted
        const double bound = row_cross * tile.col_norm[c] + tile.error.norms * tile.col_sq_norm[c] + row_rest;
        const double value = static_cast<double>(values[c]);
        // Skip only a sure loser (a tie with the k-th value may still win on its index); a non-finite tile value
        // is never trusted.
        if (filled == k_ && std::isfinite(value) && value - bound > threshold) continue;
        if (!eligible(c)) continue;
        const std::size_t j = tile.col_begin + c;
        const double exact = exact_squared_distance(x_.row(i), y_.row(j), x_.cols);
        ++recomputed_[i];
        insert_sorted(best, index, filled, k_, exact, j);
        if (filled == k_) {
          threshold = best[k_ - 1];
          cutoff = round_up_to<T>(threshold + row_max_bound);
        }
      }
    }
  }
}

template <class T>
std::size_t KSmallestPerRow<T>::exact_recomputations() const {
  return std::accumulate(recomputed_.begin(), recomputed_.end(), std::size_t{0});
}

// ---- KSmallestWithinSet -----------------------------------------------------------------------

template <class T>
KSmallestWithinSet<T>::KSmallestWithinSet(MatrixView<T> x, std::size_t k)
    : x_(x),
      k_(k),
      values_(x.rows * k, std::numeric_limits<double>::infinity()),
      filled_(x.rows, 0),
      threshold_(x.rows),
      lock_count_(std::max<std::size_t>(1, std::min<std::size_t>(x.rows, 4096))),
      locks_(std::make_unique<std::mutex[]>(lock_count_)) {
  CHEXGEN_ASSERT(k >= 1, "KSmallestWithinSet: k must be >= 1");
  for (auto& t : threshold_) t.store(std::numeric_limits<double>::infinity(), std::memory_order_relaxed);
}

template <class T>
double KSmallestWithinSet<T>::insert(std::size_t i, double exact) {
  std::lock_guard lock(lock_for(i));
  double* best = values_.data() + i * k_;
  insert_sorted(best, filled_[i], k_, exact);
  if (filled_[i] < k_) return std::numeric_limits<double>::infinity();
  threshold_[i].store(best[k_ - 1], std::memory_order_relaxed);
  return best[k_ - 1];
}

template <class T>
std::size_t KSmallestWithinSet<T>::missing(std::size_t i) {
  std::lock_guard lock(lock_for(i));
  return k_ - filled_[i];
}

template <class T>
void KSmallestWithinSet<T>::operator()(const DistanceTile<T>& tile) {
  std::size_t recomputed = 0;
  row_side(tile, recomputed);
  column_side(tile, recomputed);
  recomputed_.fetch_add(recomputed, std::memory_order_relaxed);
}

// Pairs (i, j) for the tile's rows i and every column j != i: what KSmallestPerRow does, with the
// row's list shared.
template <class T>
void KSmallestWithinSet<T>::row_side(const DistanceTile<T>& tile, std::size_t& recomputed) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const TileNormMaxima screen = tile_norm_maxima(tile);
  std::vector<std::size_t> seeds;
  std::vector<T> seed_keys;
  for (std::size_t r = 0; r < tile.rows; ++r) {
    const std::size_t i = tile.row_begin + r;
    const T* values = tile.squared + r * tile.cols;
    const auto eligible = [&](std::size_t c) { return i != tile.col_begin + c; };
    double threshold = threshold_[i].load(std::memory_order_relaxed);
    seeds.clear();
    if (threshold == inf) {  // fewer than k values known: seed with the tile's smallest values
      smallest_positions(values, tile.cols, 1, missing(i), eligible, seeds, seed_keys);
      for (std::size_t c : seeds) {
        threshold = insert(i, exact_squared_distance(x_.row(i), x_.row(tile.col_begin + c), x_.cols));
        ++recomputed;
      }
    }
    const double row_cross = tile.error.cross * tile.row_norm[r];
    const double row_rest = tile.error.norms * tile.row_sq_norm[r] + tile.error.absolute;
    const double row_max_bound = row_cross * screen.col_norm + tile.error.norms * screen.col_sq_norm + row_rest;
    std::size_t next_seed = 0;
    constexpr std::size_t chunk = 64;
    for (std::size_t c0 = 0; c0 < tile.cols; c0 += chunk) {
      const std::size_t c1 = std::min(c0 + chunk, tile.cols);
      threshold = std::min(threshold, threshold_[i].load(std::memory_order_relaxed));
      if (threshold != inf && screen.finite_values) {
        const T cutoff = round_up_to<T>(threshold + row_max_bound);
        int candidates = 0;
        for (std::size_t c = c0; c < c1; ++c) candidates += values[c] < cutoff ? 1 : 0;
        if (candidates == 0) continue;
      }
      for (std::size_t c = c0; c < c1; ++c) {
        while (next_seed < seeds.size() && seeds[next_seed] < c) ++next_seed;
        if (next_seed < seeds.size() && seeds[next_seed] == c) continue;  // already inserted
        if (!eligible(c)) continue;
        const double bound = row_cross * tile.col_norm[c] + tile.error.norms * tile.col_sq_norm[c] + row_rest;
        const double value = static_cast<double>(values[c]);
        if (threshold != inf && std::isfinite(value) && value - bound >= threshold) continue;
        threshold = insert(i, exact_squared_distance(x_.row(i), x_.row(tile.col_begin + c), x_.cols));
        ++recomputed;
      }
    }
  }
}

// Pairs (i, j) for the tile's rows i and the columns j of later row blocks, into j's list: row j's
// own tiles start at its block, so they never see these rows i.
template <class T>
void KSmallestWithinSet<T>::column_side(const DistanceTile<T>& tile, std::size_t& recomputed) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const std::size_t block_end = tile.row_begin + tile.rows;
  const std::size_t c_first = block_end > tile.col_begin ? block_end - tile.col_begin : 0;
  if (c_first >= tile.cols) return;

  const TileNormMaxima screen = tile_norm_maxima(tile);
  const double max_row_norm = screen.row_norm;
  const double max_row_sq_norm = screen.row_sq_norm;

  // Columns that still miss values are seeded with their smallest entries in this tile.
  std::vector<std::size_t> seeded_cells;  // r * cols + c, sorted
  std::vector<std::size_t> seeds;
  std::vector<T> seed_keys;
  std::vector<double> col_threshold(tile.cols, inf);
  std::vector<T> col_cutoff(tile.cols, std::numeric_limits<T>::infinity());
  for (std::size_t c = c_first; c < tile.cols; ++c) {
    const std::size_t j = tile.col_begin + c;
    double threshold = threshold_[j].load(std::memory_order_relaxed);
    if (threshold == inf) {
      smallest_positions(
          tile.squared + c, tile.rows, tile.cols, missing(j), [](std::size_t) { return true; }, seeds, seed_keys);
      for (std::size_t r : seeds) {
        threshold = insert(j, exact_squared_distance(x_.row(tile.row_begin + r), x_.row(j), x_.cols));
        ++recomputed;
        seeded_cells.push_back(r * tile.cols + c);
      }
    }
    col_threshold[c] = threshold;
  }
  std::sort(seeded_cells.begin(), seeded_cells.end());
  const auto col_max_bound = [&](std::size_t c) {
    return tile.error.cross * max_row_norm * tile.col_norm[c] +
           tile.error.norms * (max_row_sq_norm + tile.col_sq_norm[c]) + tile.error.absolute;
  };
  if (screen.finite_values) {
    for (std::size_t c = c_first; c < tile.cols; ++c)
      if (col_threshold[c] != inf) col_cutoff[c] = round_up_to<T>(col_threshold[c] + col_max_bound(c));
  }

  constexpr std::size_t chunk = 64;
  for (std::size_t r = 0; r < tile.rows; ++r) {
    const std::size_t i = tile.row_begin + r;
    const T* values = tile.squared + r * tile.cols;
    const double row_cross = tile.error.cross * tile.row_norm[r];
    const double row_rest = tile.error.norms * tile.row_sq_norm[r] + tile.error.absolute;
    for (std::size_t c0 = c_first; c0 < tile.cols; c0 += chunk) {
      const std::size_t c1 = std::min(c0 + chunk, tile.cols);
      if (screen.finite_values) {
        int candidates = 0;
        for (std::size_t c = c0; c < c1; ++c) candidates += values[c] < col_cutoff[c] ? 1 : 0;
        if (candidates == 0) continue;
      }
      for (std::size_t c = c0; c < c1; ++c) {
        const double threshold = col_threshold[c];
        const double bound = row_cross * tile.col_norm[c] + tile.error.norms * tile.col_sq_norm[c] + row_rest;
        const double value = static_cast<double>(values[c]);
        if (threshold != inf && std::isfinite(value) && value - bound >= threshold) continue;
        if (!seeded_cells.empty() && std::binary_search(seeded_cells.begin(), seeded_cells.end(), r * tile.cols + c))
          continue;  // already inserted
        const std::size_t j = tile.col_begin + c;
        const double kth = insert(j, exact_squared_distance(x_.row(i), x_.row(j), x_.cols));
        ++recomputed;
        col_threshold[c] = kth;
        if (screen.finite_values && kth != inf) col_cutoff[c] = round_up_to<T>(kth + col_max_bound(c));
      }
    }
  }
}

// ---- BLAS threading ---------------------------------------------------------------------------

BlasSingleThreadScope::BlasSingleThreadScope() : previous_(openblas_get_num_threads()) { openblas_set_num_threads(1); }

BlasSingleThreadScope::~BlasSingleThreadScope() { openblas_set_num_threads(previous_); }

// ---- instantiations ---------------------------------------------------------------------------

template DistanceErrorModel distance_error_model<float>(std::size_t);
template DistanceErrorModel distance_error_model<double>(std::size_t);
template double exact_squared_distance<float>(const float*, const float*, std::size_t);
template double exact_squared_distance<double>(const double*, const double*, std::size_t);
template float round_up_to<float>(double);
template double round_up_to<double>(double);
template TileNormMaxima tile_norm_maxima<float>(const DistanceTile<float>&);
template TileNormMaxima tile_norm_maxima<double>(const DistanceTile<double>&);
template void run_distance_tiles<float>(MatrixView<float>, MatrixView<float>, const DistanceTiling&,
                                        const DistanceTileHandler<float>&, Progress*);
template void run_distance_tiles<double>(MatrixView<double>, MatrixView<double>, const DistanceTiling&,
                                         const DistanceTileHandler<double>&, Progress*);
template void run_distance_tiles_upper<float>(MatrixView<float>, const DistanceTiling&,
                                              const DistanceTileHandler<float>&, Progress*);
template void run_distance_tiles_upper<double>(MatrixView<double>, const DistanceTiling&,
                                               const DistanceTileHandler<double>&, Progress*);
template class KSmallestPerRow<float>;
template class KSmallestPerRow<double>;
template class KSmallestWithinSet<float>;
template class KSmallestWithinSet<double>;

}  // namespace chexgen::metrics
