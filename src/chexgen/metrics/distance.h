// The one blocked pairwise-distance engine (docs/prdc.md, "The engine").
//
// Squared Euclidean distances between the rows of x (n x d) and the rows of y (m x d) are produced
// tile by tile as ‖x_i‖² + ‖y_j‖² − 2·x_i·y_j, the cross term by one BLAS GEMM per tile (faiss's
// "exhaustive L2 search" layout), negatives clamped to 0. Each tile is handed to a result handler
// (k smallest per row, ball counts, ...). Nothing n x m is ever held: memory is the inputs, their
// norms, and one tile buffer per worker.
//
// Precision: the tile values are in the input precision T and carry a rigorous rounding bound
// (DistanceTile::error_bound). A handler that must decide "is this distance below that radius"
// decides from the tile value when the bound allows it, and otherwise recomputes the distance with
// exact_squared_distance(), the canonical double-precision distance every decision refers to. So
// float input gives exactly the decisions of double input (docs/prdc.md, "Precision policy").
//
// Threading: row tiles are spread over workers with parallel_for; while the engine runs, OpenBLAS
// is switched to one thread (BlasSingleThreadScope) so that workers do not oversubscribe cores.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen {
class Progress;
}

namespace chexgen::metrics {

// How the n x m distance matrix is cut into tiles. Each worker holds one tile_rows x tile_cols
// buffer of T (default 256 x 4096 floats = 4 MiB).
struct DistanceTiling {
  std::size_t tile_rows = 256;   // rows of x per tile (the M of one GEMM call); >= 1
  std::size_t tile_cols = 4096;  // rows of y per tile (the N of one GEMM call); >= 1
  int threads = 0;               // workers over row tiles; 0 = all cores
};

// Rigorous bound on |tile value − exact squared distance| for one pair, as a function of the
// rows' norms: cross·‖x‖·‖y‖ + norms·(‖x‖² + ‖y‖²) + absolute. Infinite when the dimension is too
// large for the bound to hold (then every decision is recomputed exactly).
struct DistanceErrorModel {
  double cross = 0.0;
  double norms = 0.0;
  double absolute = 0.0;
};

// The bound for the engine's arithmetic in precision T over d features (docs/prdc.md).
template <class T>
DistanceErrorModel distance_error_model(std::size_t d);

// One tile: rows [row_begin, row_begin + rows) of x against rows [col_begin, col_begin + cols) of y.
template <class T>
struct DistanceTile {
  std::size_t row_begin = 0;
  std::size_t rows = 0;
  std::size_t col_begin = 0;
  std::size_t cols = 0;
  const T* squared = nullptr;           // rows x cols, row-major (stride cols): clamped squared distances
  const double* row_sq_norm = nullptr;  // ‖x_i‖² for the tile's rows (index 0 = row_begin)
  const double* col_sq_norm = nullptr;  // ‖y_j‖² for the tile's columns (index 0 = col_begin)
  const double* row_norm = nullptr;     // ‖x_i‖
  const double* col_norm = nullptr;     // ‖y_j‖
  DistanceErrorModel error;

  T value(std::size_t r, std::size_t c) const { return squared[r * cols + c]; }
  // |value(r, c) − exact squared distance| <= error_bound(r, c).
  double error_bound(std::size_t r, std::size_t c) const {
    return error.cross * row_norm[r] * col_norm[c] + error.norms * (row_sq_norm[r] + col_sq_norm[c]) + error.absolute;
  }
};

// Screening helpers for handlers that compare raw tile values in bulk (vectorised) before looking at
// single pairs with their own bounds.
// The largest norms in a tile, and whether no tile value can have overflowed: |x·y| <= (‖x‖² + ‖y‖²)/2,
// so ‖x‖² + ‖y‖² well inside T's range keeps every value finite (then a raw compare is trustworthy).
struct TileNormMaxima {
  bool finite_values = false;
  double row_norm = 0, row_sq_norm = 0, col_norm = 0, col_sq_norm = 0;
};
template <class T>
TileNormMaxima tile_norm_maxima(const DistanceTile<T>& tile);

// The smallest T that is >= v (+inf when v is beyond T's range): a value below this cutoff may be
// below v, a value at or above it cannot.
template <class T>
T round_up_to(double v);

// Called once per tile. All tiles of one row block are delivered in increasing column order on one
// thread; different row blocks may be processed concurrently, so per-row state needs no lock and
// per-column state must be atomic.
template <class T>
using DistanceTileHandler = std::function<void(const DistanceTile<T>&)>;

// Number of row blocks run_distance_tiles() will process (its progress total).
std::size_t distance_row_blocks(std::size_t n, const DistanceTiling& tiling);

// Runs the engine over all tiles of x against y (x and y may be the same view). x and y must have
// the same number of columns, >= 1; this is an internal invariant (callers validate user input).
// `progress`, when given, advances once per finished row block.
template <class T>
void run_distance_tiles(MatrixView<T> x, MatrixView<T> y, const DistanceTiling& tiling,
                        const DistanceTileHandler<T>& handler, Progress* progress = nullptr);

// The same over x against itself, for symmetric handlers: row block b (rows [b·tile_rows, ...)) gets
// only the columns from its own first row on, so each unordered pair {i, j} in different row blocks
// is seen once, in the tile of the earlier block; pairs inside one row block are seen both ways
// (the diagonal block is computed whole). About half the work of run_distance_tiles(x, x, ...).
template <class T>
void run_distance_tiles_upper(MatrixView<T> x, const DistanceTiling& tiling, const DistanceTileHandler<T>& handler,
                              Progress* progress = nullptr);

// The canonical squared distance Σ_t (a_t − b_t)², accumulated in double in a fixed order (eight
// interleaved partial sums combined pairwise), so it is the same on every thread and for float or
// double copies of the same values. Every PRDC decision refers to this value.
template <class T>
double exact_squared_distance(const T* a, const T* b, std::size_t d);

// Result handler: the exact k smallest canonical squared distances of every row of x, in
// increasing order, and which rows of y they are (equal distances in increasing row order, so the
// answer does not depend on the tiling or the threads); with exclude_self, the pair (i, i) is skipped
// (x and y are the same set). A duplicate of row i elsewhere in the set is *not* skipped: it is a
// neighbour at distance 0.
template <class T>
class KSmallestPerRow {
 public:
  KSmallestPerRow(MatrixView<T> x, MatrixView<T> y, std::size_t k, bool exclude_self);
  void operator()(const DistanceTile<T>& tile);
  // Row i's k smallest squared distances, ascending. Requires at least k candidates per row.
  const double* row(std::size_t i) const { return values_.data() + i * k_; }
  // The rows of y they belong to, in the same order.
  const std::size_t* neighbours(std::size_t i) const { return indices_.data() + i * k_; }
  double kth(std::size_t i) const { return values_[i * k_ + k_ - 1]; }
  std::size_t filled(std::size_t i) const { return filled_[i]; }
  std::size_t k() const { return k_; }
  std::size_t exact_recomputations() const;

 private:
  MatrixView<T> x_;
  MatrixView<T> y_;
  std::size_t k_;
  bool exclude_self_;
  std::vector<double> values_;           // n x k, each row sorted ascending over its filled prefix
  std::vector<std::size_t> indices_;     // n x k: the row of y of each value
  std::vector<std::size_t> filled_;      // per row: how many of its k slots hold a value
  std::vector<std::size_t> recomputed_;  // per row: exact recomputations (diagnostics)
};

// Result handler for run_distance_tiles_upper: the exact k smallest canonical squared distances from
// every row of x to the *other* rows of x, ascending (a duplicate row counts, at distance 0) — the
// same numbers as KSmallestPerRow(x, x, k, true) with about half the GEMM work. A row's list is
// updated from two sides, as a tile row and (for pairs with an earlier row block) as a tile column,
// possibly by two workers at once, so each list is guarded by a striped mutex; an atomic copy of its
// k-th value lets workers screen pairs without locking (a stale value is larger, so it only lets more
// pairs through, never fewer).
template <class T>
class KSmallestWithinSet {
 public:
  KSmallestWithinSet(MatrixView<T> x, std::size_t k);
  void operator()(const DistanceTile<T>& tile);
  const double* row(std::size_t i) const { return values_.data() + i * k_; }
  double kth(std::size_t i) const { return values_[i * k_ + k_ - 1]; }
  std::size_t filled(std::size_t i) const { return filled_[i]; }
  std::size_t k() const { return k_; }
  std::size_t exact_recomputations() const { return recomputed_.load(); }

 private:
  // Inserts one exact value into row i's list under its lock; returns the row's k-th value (+inf
  // while fewer than k values are known).
  double insert(std::size_t i, double exact);
  std::size_t missing(std::size_t i);  // k − filled, read under the row's lock
  std::mutex& lock_for(std::size_t i) { return locks_[i % lock_count_]; }
  void row_side(const DistanceTile<T>& tile, std::size_t& recomputed);
  void column_side(const DistanceTile<T>& tile, std::size_t& recomputed);

  MatrixView<T> x_;
  std::size_t k_;
  std::vector<double> values_;  // n x k, each row ascending over its filled prefix
  std::vector<std::size_t> filled_;
  std::vector<std::atomic<double>> threshold_;  // the row's k-th value once filled, +inf before
  std::size_t lock_count_;
  std::unique_ptr<std::mutex[]> locks_;
  std::atomic<std::size_t> recomputed_{0};
};

// While alive, OpenBLAS runs single-threaded (openblas_set_num_threads(1)); the previous setting is
// restored on destruction. The setting is process-wide: see docs/prdc.md, "Threading".
class BlasSingleThreadScope {
 public:
  BlasSingleThreadScope();
  ~BlasSingleThreadScope();
  BlasSingleThreadScope(const BlasSingleThreadScope&) = delete;
  BlasSingleThreadScope& operator=(const BlasSingleThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace chexgen::metrics
