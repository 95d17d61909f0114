// The blocked distance engine against naive code: bit-for-bit on integer-valued data (where GEMM is
// exact), for awkward shapes and tilings that hit every tail path, 1 vs N threads, float vs double.
#include "chexgen/metrics/distance.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace chexgen::metrics {
namespace {

template <class T>
Matrix<T> integer_matrix(std::size_t rows, std::size_t cols, int lo, int hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  Matrix<T> m(rows, cols);
  for (std::size_t i = 0; i < rows * cols; ++i) m.data()[i] = static_cast<T>(dist(rng));
  return m;
}

template <class T>
Matrix<T> gaussian_matrix(std::size_t rows, std::size_t cols, double mean, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(mean, 1.0);
  Matrix<T> m(rows, cols);
  for (std::size_t i = 0; i < rows * cols; ++i) m.data()[i] = static_cast<T>(dist(rng));
  return m;
}

// Naive Σ (x − y)² in T, one pair at a time.
template <class T>
T naive_squared(const T* a, const T* b, std::size_t d) {
  T s = 0;
  for (std::size_t t = 0; t < d; ++t) s += (a[t] - b[t]) * (a[t] - b[t]);
  return s;
}

// Collects the engine's tiles into a full matrix (test sizes only) and counts visits per cell.
template <class T>
struct Collected {
  std::vector<T> values;
  std::vector<int> visits;
};

template <class T>
Collected<T> collect(MatrixView<T> x, MatrixView<T> y, DistanceTiling tiling) {
  Collected<T> out{std::vector<T>(x.rows * y.rows, T{-1}), std::vector<int>(x.rows * y.rows, 0)};
  std::mutex mutex;
  run_distance_tiles<T>(x, y, tiling, [&](const DistanceTile<T>& tile) {
    std::lock_guard lock(mutex);
    for (std::size_t r = 0; r < tile.rows; ++r)
      for (std::size_t c = 0; c < tile.cols; ++c) {
        const std::size_t cell = (tile.row_begin + r) * y.rows + tile.col_begin + c;
        out.values[cell] = tile.value(r, c);
        ++out.visits[cell];
      }
  });
  return out;
}

struct Shape {
  std::size_t n, m, d;
};

const std::vector<Shape> kAwkwardShapes = {{1, 1, 1},   {1, 9, 2},   {9, 1, 3},    {7, 5, 1},
                                           {13, 29, 3}, {33, 17, 9}, {64, 64, 16}, {65, 63, 31}};
const std::vector<DistanceTiling> kTilings = {{1, 1, 1}, {1, 7, 2},  {4, 5, 3},      {8, 64, 2},
                                              {3, 1, 4}, {64, 3, 1}, {256, 4096, 0}, {1000, 1000, 2}};

template <class T>
void check_bit_for_bit() {
  unsigned seed = 1;
  for (const Shape& s : kAwkwardShapes) {
    const Matrix<T> x = integer_matrix<T>(s.n, s.d, -9, 9, seed++);
    const Matrix<T> y = integer_matrix<T>(s.m, s.d, -7, 11, seed++);
    for (const DistanceTiling& tiling : kTilings) {
      const Collected<T> got = collect<T>(x.view(), y.view(), tiling);
      for (std::size_t i = 0; i < s.n; ++i)
        for (std::size_t j = 0; j < s.m; ++j) {
          const std::size_t cell = i * s.m + j;
          ASSERT_EQ(got.visits[cell], 1) << "n=" << s.n << " m=" << s.m << " tile " << tiling.tile_rows << "x"
                                         << tiling.tile_cols << " cell " << i << "," << j;
          ASSERT_EQ(got.values[cell], naive_squared(x.row(i), y.row(j), s.d))
              << "n=" << s.n << " m=" << s.m << " d=" << s.d << " tile " << tiling.tile_rows << "x" << tiling.tile_cols
              << " threads " << tiling.threads << " cell " << i << "," << j;
        }
    }
  }
}

TEST(DistanceEngine, FloatBitForBitAgainstNaiveOnIntegerData) { check_bit_for_bit<float>(); }
TEST(DistanceEngine, DoubleBitForBitAgainstNaiveOnIntegerData) { check_bit_for_bit<double>(); }

TEST(DistanceEngine, SameViewForBothSidesHasZeroDiagonal) {
  const MatrixF x = integer_matrix<float>(23, 5, -20, 20, 7);
  const Collected<float> got = collect<float>(x.view(), x.view(), {4, 6, 2});
  for (std::size_t i = 0; i < 23; ++i) {
    EXPECT_EQ(got.values[i * 23 + i], 0.0f);
    for (std::size_t j = 0; j < 23; ++j) EXPECT_EQ(got.values[i * 23 + j], got.values[j * 23 + i]);
  }
}

TEST(DistanceEngine, ClampsCancellationNegativesToZero) {
  // Identical rows far from the origin: ‖x‖² + ‖y‖² − 2x·y cancels to rounding noise, never below 0.
  MatrixF x(6, 3);
  for (std::size_t i = 0; i < 6; ++i) {
    x(i, 0) = 12345.678f;
    x(i, 1) = -9876.543f;
    x(i, 2) = 3.14159f;
  }
  const Collected<float> got = collect<float>(x.view(), x.view(), {4, 4, 1});
  for (float v : got.values) EXPECT_GE(v, 0.0f);
}

TEST(DistanceEngine, TilesOfARowBlockArriveInColumnOrderOnOneThread) {
  const MatrixF x = integer_matrix<float>(50, 4, -3, 3, 3);
  const MatrixF y = integer_matrix<float>(41, 4, -3, 3, 4);
  std::mutex mutex;
  std::map<std::size_t, std::vector<std::size_t>> columns_seen;
  std::map<std::size_t, std::thread::id> thread_of_block;
  bool one_thread_per_block = true;
  run_distance_tiles<float>(x.view(), y.view(), {7, 6, 3}, [&](const DistanceTile<float>& tile) {
    std::lock_guard lock(mutex);
    columns_seen[tile.row_begin].push_back(tile.col_begin);
    auto [it, inserted] = thread_of_block.emplace(tile.row_begin, std::this_thread::get_id());
    if (!inserted && it->second != std::this_thread::get_id()) one_thread_per_block = false;
  });
  EXPECT_TRUE(one_thread_per_block);
  EXPECT_EQ(columns_seen.size(), 8u);  // ceil(50 / 7)
  for (const auto& [row, cols] : columns_seen) {
    EXPECT_TRUE(std::is_sorted(cols.begin(), cols.end())) << "row block " << row;
    EXPECT_EQ(cols.size(), 7u);  // ceil(41 / 6)
  }
  EXPECT_EQ(distance_row_blocks(50, {7, 6, 3}), 8u);
}

TEST(DistanceEngine, ErrorBoundHoldsAndIsTight) {
  // Non-integer data with an offset (the realistic case for non-negative CNN features).
  const std::size_t d = 96;
  const MatrixF x = gaussian_matrix<float>(70, d, 3.0, 11);
  const MatrixF y = gaussian_matrix<float>(55, d, 3.2, 12);
  std::mutex mutex;
  double worst_ratio = 0;  // |error| / bound
  double loosest = 0;      // bound / distance
  run_distance_tiles<float>(x.view(), y.view(), {16, 16, 2}, [&](const DistanceTile<float>& tile) {
    std::lock_guard lock(mutex);
    for (std::size_t r = 0; r < tile.rows; ++r)
      for (std::size_t c = 0; c < tile.cols; ++c) {
        const double exact = exact_squared_distance(x.row(tile.row_begin + r), y.row(tile.col_begin + c), d);
        const double err = std::abs(static_cast<double>(tile.value(r, c)) - exact);
        worst_ratio = std::max(worst_ratio, err / tile.error_bound(r, c));
        loosest = std::max(loosest, tile.error_bound(r, c) / exact);
      }
  });
  EXPECT_LE(worst_ratio, 1.0);
  EXPECT_GT(worst_ratio, 0.0);  // float32 does round here: the check is not vacuous
  // The bound (~4·d·u·‖x‖‖y‖) stays a small fraction of the distance, so few pairs need recomputing.
  EXPECT_LT(loosest, 0.05);
}

TEST(DistanceEngine, ErrorModelIsSmallerForDoubleAndInfiniteForHugeD) {
  EXPECT_LT(distance_error_model<double>(768).cross, distance_error_model<float>(768).cross * 1e-8);
  EXPECT_TRUE(std::isinf(distance_error_model<float>(std::size_t{1} << 24).cross));
}

TEST(ExactSquaredDistance, FloatAndDoubleCopiesAgreeBitForBit) {
  const MatrixF x = gaussian_matrix<float>(2, 777, 0.5, 5);
  std::vector<double> a(x.row(0), x.row(0) + 777);
  std::vector<double> b(x.row(1), x.row(1) + 777);
  EXPECT_EQ(exact_squared_distance(x.row(0), x.row(1), 777), exact_squared_distance(a.data(), b.data(), 777));
  EXPECT_EQ(exact_squared_distance(x.row(0), x.row(0), 777), 0.0);
  const float p[3] = {1, 2, 3}, q[3] = {4, 6, 3};
  EXPECT_EQ(exact_squared_distance(p, q, 3), 25.0);
}

template <class T>
std::vector<double> naive_k_smallest(MatrixView<T> x, MatrixView<T> y, std::size_t i, std::size_t k,
                                     bool exclude_self) {
  std::vector<double> row;
  for (std::size_t j = 0; j < y.rows; ++j)
    if (!(exclude_self && i == j)) row.push_back(exact_squared_distance(x.row(i), y.row(j), x.cols));
  std::sort(row.begin(), row.end());
  row.resize(k);
  return row;
}

// The rows of y of the k smallest, ties in increasing row order.
template <class T>
std::vector<std::size_t> naive_k_nearest(MatrixView<T> x, MatrixView<T> y, std::size_t i, std::size_t k,
                                         bool exclude_self) {
  std::vector<std::pair<double, std::size_t>> row;
  for (std::size_t j = 0; j < y.rows; ++j)
    if (!(exclude_self && i == j)) row.push_back({exact_squared_distance(x.row(i), y.row(j), x.cols), j});
  std::sort(row.begin(), row.end());
  std::vector<std::size_t> out;
  for (std::size_t q = 0; q < k; ++q) out.push_back(row[q].second);
  return out;
}

TEST(KSmallestPerRow, MatchesSortingForEveryTilingAndThreadCount) {
  const MatrixF x = gaussian_matrix<float>(45, 13, 2.0, 21);
  MatrixF y = gaussian_matrix<float>(38, 13, 2.1, 22);
  for (std::size_t t = 0; t < 13; ++t) y(7, t) = y(3, t);  // a duplicated row
  for (std::size_t k : {std::size_t{1}, std::size_t{4}, std::size_t{37}}) {
    for (const DistanceTiling& tiling : kTilings) {
      KSmallestPerRow<float> cross(x.view(), y.view(), k, false);
      run_distance_tiles<float>(x.view(), y.view(), tiling, [&](const DistanceTile<float>& t) { cross(t); });
      for (std::size_t i = 0; i < x.rows(); ++i) {
        const std::vector<double> want = naive_k_smallest(x.view(), y.view(), i, k, false);
        const std::vector<std::size_t> who = naive_k_nearest(x.view(), y.view(), i, k, false);
        ASSERT_EQ(cross.filled(i), k);
        for (std::size_t q = 0; q < k; ++q) {
          ASSERT_EQ(cross.row(i)[q], want[q]) << "k=" << k << " row " << i;
          // The duplicated rows 3 and 7 tie everywhere: row 3 comes first, whatever the tiling.
          ASSERT_EQ(cross.neighbours(i)[q], who[q]) << "k=" << k << " row " << i;
        }
      }
      KSmallestPerRow<float> self(y.view(), y.view(), k, true);
      run_distance_tiles<float>(y.view(), y.view(), tiling, [&](const DistanceTile<float>& t) { self(t); });
      for (std::size_t i = 0; i < y.rows(); ++i) {
        const std::vector<double> want = naive_k_smallest(y.view(), y.view(), i, k, true);
        const std::vector<std::size_t> who = naive_k_nearest(y.view(), y.view(), i, k, true);
        for (std::size_t q = 0; q < k; ++q) {
          ASSERT_EQ(self.row(i)[q], want[q]) << "self k=" << k << " row " << i;
          ASSERT_EQ(self.neighbours(i)[q], who[q]) << "self k=" << k << " row " << i;
        }
      }
      // The duplicate is a neighbour at distance 0 of its twin.
      EXPECT_EQ(self.row(3)[0], 0.0);
      EXPECT_EQ(self.row(7)[0], 0.0);
    }
  }
}

TEST(KSmallestWithinSet, MatchesSortingForEveryTilingAndThreadCount) {
  MatrixF x = gaussian_matrix<float>(71, 9, 1.0, 31);
  for (std::size_t t = 0; t < 9; ++t) {
    x(40, t) = x(2, t);  // duplicates across row blocks
    x(41, t) = x(2, t);
    x(5, t) = x(4, t);  // and inside one
  }
  for (std::size_t k : {std::size_t{1}, std::size_t{3}, std::size_t{70}}) {
    for (const DistanceTiling& tiling : kTilings) {
      KSmallestWithinSet<float> within(x.view(), k);
      std::mutex tiles_mutex;
      std::size_t tiles = 0;
      run_distance_tiles_upper<float>(x.view(), tiling, [&](const DistanceTile<float>& t) {
        within(t);
        std::lock_guard lock(tiles_mutex);
        ++tiles;
      });
      for (std::size_t i = 0; i < x.rows(); ++i) {
        const std::vector<double> want = naive_k_smallest(x.view(), x.view(), i, k, true);
        ASSERT_EQ(within.filled(i), k) << "k=" << k << " tiles " << tiling.tile_rows << "x" << tiling.tile_cols;
        for (std::size_t q = 0; q < k; ++q)
          ASSERT_EQ(within.row(i)[q], want[q]) << "k=" << k << " row " << i << " tiles " << tiling.tile_rows << "x"
                                               << tiling.tile_cols << " threads " << tiling.threads;
      }
      EXPECT_EQ(within.row(2)[0], 0.0);
      if (k >= 2) {
        EXPECT_EQ(within.row(2)[1], 0.0);  // two copies of row 2
      }
      EXPECT_EQ(within.row(5)[0], 0.0);
    }
  }
}

TEST(DistanceEngine, UpperTilesCoverEveryUnorderedPairOnce) {
  const MatrixF x = integer_matrix<float>(29, 3, -5, 5, 41);
  for (const DistanceTiling& tiling : kTilings) {
    std::vector<int> seen(29 * 29, 0);
    std::mutex mutex;
    run_distance_tiles_upper<float>(x.view(), tiling, [&](const DistanceTile<float>& t) {
      std::lock_guard lock(mutex);
      for (std::size_t r = 0; r < t.rows; ++r)
        for (std::size_t c = 0; c < t.cols; ++c) {
          const std::size_t i = t.row_begin + r, j = t.col_begin + c;
          EXPECT_EQ(t.value(r, c), naive_squared(x.row(i), x.row(j), 3));
          ++seen[std::min(i, j) * 29 + std::max(i, j)];
        }
    });
    const std::size_t block = std::min<std::size_t>(tiling.tile_rows, 29);
    for (std::size_t i = 0; i < 29; ++i)
      for (std::size_t j = i; j < 29; ++j) {
        // Inside one row block both orders are computed (twice for i != j); across blocks once.
        const int want = i == j ? 1 : (i / block == j / block ? 2 : 1);
        ASSERT_EQ(seen[i * 29 + j], want) << i << "," << j << " tile_rows " << tiling.tile_rows;
      }
  }
}

TEST(BlasSingleThreadScope, SetsOneThreadAndRestoresThePreviousSetting) {
  openblas_set_num_threads(2);
  const int before = openblas_get_num_threads();  // 2, or less where OpenBLAS caps it
  {
    BlasSingleThreadScope outer;
    EXPECT_EQ(openblas_get_num_threads(), 1);
    {
      BlasSingleThreadScope inner;
      EXPECT_EQ(openblas_get_num_threads(), 1);
    }
    EXPECT_EQ(openblas_get_num_threads(), 1);
  }
  EXPECT_EQ(openblas_get_num_threads(), before);
  const MatrixF x = integer_matrix<float>(5, 3, -2, 2, 9);
  collect<float>(x.view(), x.view(), {2, 2, 2});
  EXPECT_EQ(openblas_get_num_threads(), before);  // the engine restores it too
}

}  // namespace
}  // namespace chexgen::metrics
