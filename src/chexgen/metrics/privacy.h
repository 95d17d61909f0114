// Privacy measures (docs/privacy.md): distances between a generation and a training image as CheXGenBench computes
// them (corrected, and its exact form), nearest training neighbours by cosine similarity over a whole training set,
// and the held-out-calibrated rate of generations closer to a training image than real unseen images are. Pure
// functions of arrays and matrices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "chexgen/core/matrix.h"
#include "chexgen/metrics/bootstrap.h"
#include "chexgen/metrics/distance.h"

namespace chexgen::metrics {

// Root-mean-square difference of two images of the same shape (all samples, in floating point):
// sqrt(Σ (a − b)² / N). The pixel distance CheXGenBench meant to compute.
double pixel_rms_distance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// CheXGenBench's pixelwise_distance exactly: np.linalg.norm(a − b) / sqrt(a.size) on uint8 arrays, where a − b
// wraps modulo 256 (pixels 10 and 20 are 246 apart, not 10).
double chexgenbench_pixel_distance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// The rows scaled to unit length. A row with a non-finite value or of length 0 is an InputError naming `name` and the
// 1-based row.
MatrixD unit_rows(MatrixViewD x, const std::string& name);

// CheXGenBench's latent_vector_distance: ‖a − b‖₂ / √d, summed in double in index order.
double latent_distance(std::span<const double> a, std::span<const double> b);

// For every row of `queries` (n x d), the k most similar rows of `reference` (m x d, m >= k) by cosine similarity,
// most similar first (ties: the lower row first). Computed exactly through the blocked distance engine on
// L2-normalised rows (cos = 1 − ‖q̂ − r̂‖²/2), never an n x m matrix. A row of norm 0 or with a non-finite value is
// an InputError naming `queries_name` or `reference_name` and the 1-based row.
struct CosineNeighbours {
  std::size_t k = 0;
  std::vector<double> similarity;  // n x k
  std::vector<std::size_t> index;  // n x k: rows of reference
  double best(std::size_t i) const { return similarity[i * k]; }
  std::size_t best_index(std::size_t i) const { return index[i * k]; }
};
CosineNeighbours nearest_by_cosine(MatrixViewD queries, MatrixViewD reference, std::size_t k,
                                   const DistanceTiling& tiling = {}, const std::string& queries_name = "queries",
                                   const std::string& reference_name = "reference");

// The search at full scale: the rows scaled to unit length where they are (each norm summed in double; a row with a
// non-finite value or of length 0 is an InputError naming `name` and the 1-based row), then nearest_unit_rows, in
// float32 or float64, with no copy of either set. In float32 the engine still decides every rank from the canonical
// double distance of the float rows (docs/prdc.md, "Precision policy"): the answers are those of the same float rows
// searched in double.
template <class T>
void normalise_rows_in_place(Matrix<T>& x, const std::string& name);
template <class T>
CosineNeighbours nearest_unit_rows(MatrixView<T> queries, MatrixView<T> reference, std::size_t k,
                                   const DistanceTiling& tiling = {});

// The patient-aware nearest-neighbour distance ratio of every query row (the memorisation ratio of sail-sg's
// DiffMemorize, made patient-aware): on L2-normalised rows, d1 = the Euclidean distance to the nearest reference row
// and d2 = the distance to the nearest reference row of *another patient* than that row's (a plain second
// neighbour is often a second image of the same patient); the ratio d1/d2, 0 when d1 = 0. `reference_patient`
// gives each reference row's patient as a number (a row without a patient id gets one of its own); at least two
// patients. Exact (canonical squared distances of the blocked engine; ties: the lower row first).
std::vector<double> patient_aware_nndr(MatrixViewD queries, MatrixViewD reference,
                                       std::span<const std::size_t> reference_patient,
                                       const DistanceTiling& tiling = {}, const std::string& queries_name = "queries",
                                       const std::string& reference_name = "reference");

// The Clopper–Pearson ("exact") interval of a binomial proportion: k successes in n trials (n >= 1) at the given
// central confidence: [B⁻¹(α/2; k, n−k+1), B⁻¹(1−α/2; k+1, n−k)], 0 and 1 at the ends (scipy's beta.ppf).
Interval clopper_pearson(std::size_t k, std::size_t n, double confidence = 0.95);

// A proportion with its interval.
struct Rate {
  std::size_t above = 0, n = 0;
  double rate = 0;    // above / n
  Interval interval;  // Clopper–Pearson
};
// above / n (n >= 1) with its Clopper–Pearson interval.
Rate binomial_rate(std::size_t above, std::size_t n, double confidence = 0.95);

// The calibrated nearest-training-neighbour rate (docs/privacy.md): each generation's similarity to its nearest
// training image, s(g), against the same for real images the model never saw, s(h). The held-out similarities come
// in two disjoint parts (the caller splits them, seeded): the calibration part's q-quantile (numpy's linear method)
// is the threshold τ; the null part is what an unseen real image scores. Reported: the fraction of generations
// strictly above τ and the same fraction of the null part, each with its Clopper–Pearson interval, and medians and
// 95th percentiles. Keeping the null out of its own threshold makes its rate a fair check.
//
// With m calibration values an unseen image does not exceed τ with probability 1 − q but, by its rank among the m + 1
// (exchangeable, no ties), with a probability in [(m − j)/(m + 1), (m + 1 − j)/(m + 1)], j the calibration values
// ≤ τ: 1/21 rather than 1/100 for m = 20 and q = 0.99. `exchangeable` is that range and `excess` is the generations'
// rate above its upper end: what no unseen image explains. Every part needs at least one value.
struct CopyRate {
  double quantile = 0.99;
  double threshold = 0;  // τ
  Rate generated, null;
  Interval exchangeable;  // an unseen image's probability of exceeding τ
  double excess = 0;      // generated.rate − exchangeable.high
  double median_generated = 0, p95_generated = 0, median_null = 0, p95_null = 0;
  std::size_t calibration_size = 0;
};
CopyRate calibrated_copy_rate(std::span<const double> generated, std::span<const double> calibration,
                              std::span<const double> null, double quantile, double confidence = 0.95);

// Carlini et al. 2023's tiled distance between two images of the same shape (row-major, interleaved channels,
// values 0..255 taken as 0..1): the image cut into tiles x tiles blocks (block i spans [⌊i·W/tiles⌋, ⌊(i+1)·W/tiles⌋)
// columns, the same for rows), the RMS difference over each block's samples, and the largest of them. A copy that
// differs from its source only in one region still has one small block... and a large one: unlike the whole-image
// RMS, a local change is not averaged away.
double tiled_pixel_distance(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b, int width, int height,
                            int channels, int tiles = 4);

// Membership inference from scores, higher meaning "more likely a training image". The ROC AUC as
// sklearn.metrics.roc_auc_score (a tie counts one half), and the true-positive rate at a false-positive rate: the
// largest TPR among the ROC points (every distinct score a threshold, members and non-members at or above it) whose
// FPR is at most `fpr`. Both sets need at least one score.
double roc_auc(std::span<const double> members, std::span<const double> non_members);
double tpr_at_fpr(std::span<const double> members, std::span<const double> non_members, double fpr);

}  // namespace chexgen::metrics
