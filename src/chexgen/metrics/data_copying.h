// Meehan, Chaudhuri & Dasgupta 2020's data-copying test (docs/privacy.md, "Data copying: C_T"): the space is cut
// into cells by k-means on the training set (after PCA); in each cell the distances of test images (real, unseen)
// and of generations to their nearest training image of the cell are compared by a Mann–Whitney U test, Z-scored;
// C_T is the average of the cells' Z weighted by their share of test images, over the cells holding more than a
// fraction τ of the generations. C_T far below 0: generations nearer the training images than unseen images are
// (copying); far above 0: farther (underfitting); near 0: neither. Pure functions of matrices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

// Principal components of the rows of x (n >= 2): the mean, and the `components` directions of largest variance
// (rows of `axes`, unit length, each signed so that its largest-magnitude entry is positive) with their variances
// (divisor n − 1, descending). Exact: the eigenvectors of the d x d scatter matrix, or of the n x n Gram matrix of
// the centred rows when n < d (LAPACK dsyevd). components <= min(n, d).
struct Pca {
  std::vector<double> mean;
  MatrixD axes;  // components x d
  std::vector<double> variance;
  double total_variance = 0;  // of all d columns (the trace of the covariance): what `variance` is a share of
  // (x − mean) projected on the axes: rows x components.
  MatrixD project(MatrixViewD x) const;
};
Pca fit_pca(MatrixViewD x, std::size_t components);

// Each row's nearest centre by squared Euclidean distance (the blocked engine's exact canonical distances; ties: the
// lower centre).
std::vector<std::size_t> nearest_centre(MatrixViewD x, MatrixViewD centres);

// Lloyd's k-means from given centres: assign every row to its nearest centre, move each centre to the mean of its
// rows (summed in row order; a centre left without rows stays where it is), until no assignment changes or
// `max_iterations` passes. The same iterations as scikit-learn's KMeans(init=centres, n_init=1, algorithm="lloyd",
// tol=0).
struct KMeans {
  MatrixD centres;                  // k x d
  std::vector<std::size_t> labels;  // per row of x
  std::size_t iterations = 0;
  bool converged = false;
};
KMeans lloyd(MatrixViewD x, MatrixD centres, std::size_t max_iterations = 300);

// k-means++ seeding (Arthur & Vassilvitskii: the first centre uniform, each next drawn with probability
// proportional to the squared distance to the nearest chosen centre) from `seed`, then lloyd(). Deterministic for
// a seed and the row order; 1 <= k <= n.
KMeans fit_kmeans(MatrixViewD x, std::size_t k, std::uint64_t seed, std::size_t max_iterations = 300);

// The Mann–Whitney U statistic of x against y: pairs with x_i > y_j, ties counting one half (scipy's
// mannwhitneyu(x, y).statistic).
double mann_whitney_u(std::span<const double> x, std::span<const double> y);

// Meehan et al.'s Z-scored U of one cell: U of the generations' distances against the test images' distances,
// (U − (n·m/2 − 1/2)) / √(n·m·(n + m + 1)/12) with m generations and n test images (their continuity convention,
// no tie correction). Both sets non-empty.
double meehan_zu(std::span<const double> generated, std::span<const double> test);

// One cell of the partition.
struct DataCopyingCell {
  std::size_t train = 0, test = 0, generated = 0;  // images in the cell
  double test_share = 0, generated_share = 0;      // Pn(π) = test / n, Qm(π) = generated / m
  std::optional<double> zu;                        // with generations in the cell
  bool counted = false;                            // generated_share > τ: in C_T
};
struct DataCopying {
  std::optional<double> c_t;  // absent when no cell holds more than τ of the generations
  double tau = 0;
  std::vector<DataCopyingCell> cells;
};

// C_T from rows already given their cells (0 .. cells − 1): each cell's distances to its nearest training row of
// the same cell (Euclidean), Zu per cell with generations, and Σ Pn(π)·Zu(π) / Σ Pn(π) over the cells with
// Qm(π) > τ. Every cell needs at least one training row and one test row (an InputError otherwise: fewer cells).
DataCopying data_copying(MatrixViewD train, std::span<const std::size_t> train_cells, MatrixViewD test,
                         std::span<const std::size_t> test_cells, MatrixViewD generated,
                         std::span<const std::size_t> generated_cells, std::size_t cells, double tau);

// The whole test as chexgen runs it: PCA of the training rows to `components` dimensions (fewer when the rank is
// lower), k-means cells on the projected training rows (seeded), k the largest number, from ⌊test/min_test⌋ down,
// that leaves every cell at least `min_test` test rows and one training row (k = 1 always qualifies), and C_T with
// τ = min_generated / m: a cell counts when it holds more than `min_generated` of the m generations (Meehan et al.'s
// τ = 20/m). `null`, when given, is a second generated set (real unseen images) tested against the same cells. The
// training rows are put in lexicographic order first: the result does not depend on the order of any set's rows.
struct DataCopyingOptions {
  std::size_t components = 64;
  std::size_t min_test = 20;
  std::size_t min_generated = 20;
  std::uint64_t seed = 42;
};
struct DataCopyingTest {
  std::size_t components = 0;
  double explained = 0;  // the share of the training rows' variance the components keep
  std::size_t cells = 0;
  DataCopying generated;
  std::optional<DataCopying> null;
};
DataCopyingTest data_copying_test(MatrixViewD train, MatrixViewD test, MatrixViewD generated, const MatrixViewD* null,
                                  const DataCopyingOptions& options = {});

}  // namespace chexgen::metrics
