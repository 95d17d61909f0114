// Multi-label classification scores as scikit-learn 1.2 computes them (CheXGenBench's downstream_classification.py
// calculate_metrics, and what chexgen utility adds): ROC curves and their area with ties counted one half, average
// precision, precision / recall / F1 per label, micro and macro, with zero_division=0. Pure functions; truth is 0/1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

// roc_curve(truth, score) with drop_intermediate=True: one point per distinct score (highest first) except points
// on a straight segment, after a first point (0, 0) whose threshold is the highest score + 1 (scikit-learn 1.2).
// Both classes must be present (else std::invalid_argument). truth.size() == score.size().
struct RocCurve {
  std::vector<double> fpr, tpr, thresholds;
};
RocCurve roc_curve(std::span<const std::uint8_t> truth, std::span<const double> score);

// roc_auc_score: the trapezoidal area under roc_curve (numpy's trapz); equals the Mann-Whitney probability that a
// positive outscores a negative, ties counting one half.
double roc_auc(std::span<const std::uint8_t> truth, std::span<const double> score);

// average_precision_score: sum over distinct thresholds of (R_k - R_{k-1}) P_k. Both classes must be present.
double average_precision(std::span<const std::uint8_t> truth, std::span<const double> score);

struct PrecisionRecallF1 {
  double precision = 0, recall = 0, f1 = 0;  // 0 where the denominator is 0 (zero_division=0)
  std::size_t support = 0;                   // positives in truth
};

struct MultilabelScores {
  double accuracy = 0;  // accuracy_score of the flattened n x L matrices
  PrecisionRecallF1 micro, macro;
  std::vector<PrecisionRecallF1> per_label;
  std::vector<std::optional<double>> auroc, average_precision;  // absent for a label with one class in truth
  std::optional<double> macro_auroc, macro_average_precision;  // mean over the labels that have one (np.mean)
};

// truth: n x L, row-major, 0/1; scores: n x L probabilities; predicted positive where score >= threshold.
MultilabelScores multilabel_scores(std::span<const std::uint8_t> truth, MatrixViewD scores, double threshold);

}  // namespace chexgen::metrics
