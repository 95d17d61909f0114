#include "chexgen/metrics/classification.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "chexgen/core/error.h"
#include "chexgen/core/numeric.h"

namespace chexgen::metrics {
namespace {

// scikit-learn's _binary_clf_curve: rows sorted by decreasing score (the reverse of a stable ascending sort), the
// last row of each run of equal scores a threshold, with the true and false positives at or above it.
struct ClfCurve {
  std::vector<double> tps, fps, thresholds;
};

ClfCurve binary_clf_curve(std::span<const std::uint8_t> truth, std::span<const double> score) {
  CHEXGEN_ASSERT(truth.size() == score.size(), "classification: truth and scores differ in length");
  const std::size_t n = truth.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] < score[b]; });
  std::reverse(order.begin(), order.end());
  ClfCurve c;
  double tp = 0;
  for (std::size_t i = 0; i < n; ++i) {
    tp += truth[order[i]] != 0 ? 1.0 : 0.0;
    if (i + 1 == n || score[order[i + 1]] != score[order[i]]) {
      c.tps.push_back(tp);
      c.fps.push_back(static_cast<double>(i + 1) - tp);
      c.thresholds.push_back(score[order[i]]);
    }
  }
  if (c.tps.empty() || c.tps.back() == 0 || c.fps.back() == 0)
    throw std::invalid_argument("only one class is present in the labels");
  return c;
}

}  // namespace

RocCurve roc_curve(std::span<const std::uint8_t> truth, std::span<const double> score) {
  ClfCurve c = binary_clf_curve(truth, score);
  if (c.fps.size() > 2) {  // drop_intermediate: keep the ends and every point where the slope changes
    ClfCurve kept;
    for (std::size_t i = 0; i < c.fps.size(); ++i) {
      const bool end = i == 0 || i + 1 == c.fps.size();
      const bool bend = !end && (c.fps[i + 1] - 2 * c.fps[i] + c.fps[i - 1] != 0 ||
                                 c.tps[i + 1] - 2 * c.tps[i] + c.tps[i - 1] != 0);
      if (end || bend) {
        kept.tps.push_back(c.tps[i]);
        kept.fps.push_back(c.fps[i]);
        kept.thresholds.push_back(c.thresholds[i]);
      }
    }
    c = std::move(kept);
  }
  RocCurve r;
  const double p = c.tps.back(), f = c.fps.back();
  r.fpr.push_back(0);
  r.tpr.push_back(0);
  r.thresholds.push_back(c.thresholds.front() + 1);
  for (std::size_t i = 0; i < c.tps.size(); ++i) {
    r.fpr.push_back(c.fps[i] / f);
    r.tpr.push_back(c.tps[i] / p);
    r.thresholds.push_back(c.thresholds[i]);
  }
  return r;
}

double roc_auc(std::span<const std::uint8_t> truth, std::span<const double> score) {
  const RocCurve r = roc_curve(truth, score);
  std::vector<double> terms(r.fpr.size() - 1);  // np.trapz: add.reduce(diff(x) * (y[1:] + y[:-1]) / 2.0)
  for (std::size_t i = 0; i + 1 < r.fpr.size(); ++i)
    terms[i] = (r.fpr[i + 1] - r.fpr[i]) * (r.tpr[i + 1] + r.tpr[i]) / 2.0;
  return numpy_pairwise_sum(terms.data(), terms.size());
}

double average_precision(std::span<const std::uint8_t> truth, std::span<const double> score) {
  const ClfCurve c = binary_clf_curve(truth, score);
  // precision_recall_curve reversed (recall decreasing), with the point (recall 0, precision 1) appended; the
  // integral -sum(diff(recall) * precision[:-1]).
  const std::size_t m = c.tps.size();
  std::vector<double> precision(m + 1), recall(m + 1);
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t k = m - 1 - i;
    precision[i] = c.tps[k] / (c.tps[k] + c.fps[k]);
    recall[i] = c.tps[k] / c.tps.back();
  }
  precision[m] = 1;
  recall[m] = 0;
  std::vector<double> terms(m);
  for (std::size_t i = 0; i < m; ++i) terms[i] = (recall[i + 1] - recall[i]) * precision[i];
  return -numpy_pairwise_sum(terms.data(), terms.size());
}

namespace {

// precision_recall_fscore_support's arithmetic for one set of counts, zero_division=0.
PrecisionRecallF1 prf(double tp, double fp, double fn) {
  PrecisionRecallF1 s;
  s.precision = tp + fp > 0 ? tp / (tp + fp) : 0.0;
  s.recall = tp + fn > 0 ? tp / (tp + fn) : 0.0;
  const double denom = s.precision + s.recall;
  s.f1 = denom > 0 ? 2.0 * s.precision * s.recall / denom : 0.0;
  s.support = static_cast<std::size_t>(tp + fn);
  return s;
}

double numpy_mean(const std::vector<double>& v) {
  return numpy_pairwise_sum(v.data(), v.size()) / static_cast<double>(v.size());
}

}  // namespace

MultilabelScores multilabel_scores(std::span<const std::uint8_t> truth, MatrixViewD scores, double threshold) {
  const std::size_t n = scores.rows, labels = scores.cols;
  CHEXGEN_ASSERT(truth.size() == n * labels, "multilabel_scores: truth is not n x L");
  CHEXGEN_ASSERT(n > 0 && labels > 0, "multilabel_scores: no rows or no labels");
  MultilabelScores s;
  std::size_t equal = 0;
  double tp_all = 0, fp_all = 0, fn_all = 0;
  std::vector<double> precisions, recalls, f1s, aurocs, aps;
  std::vector<std::uint8_t> column_truth(n);
  std::vector<double> column_score(n);
  for (std::size_t l = 0; l < labels; ++l) {
    double tp = 0, fp = 0, fn = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool t = truth[i * labels + l] != 0, p = scores(i, l) >= threshold;
      equal += t == p ? 1 : 0;
      tp += t && p ? 1 : 0;
      fp += !t && p ? 1 : 0;
      fn += t && !p ? 1 : 0;
      column_truth[i] = t ? 1 : 0;
      column_score[i] = scores(i, l);
    }
    tp_all += tp;
    fp_all += fp;
    fn_all += fn;
    s.per_label.push_back(prf(tp, fp, fn));
    precisions.push_back(s.per_label.back().precision);
    recalls.push_back(s.per_label.back().recall);
    f1s.push_back(s.per_label.back().f1);
    const bool both = tp + fn > 0 && tp + fn < static_cast<double>(n);
    if (both) {
      s.auroc.push_back(roc_auc(column_truth, column_score));
      s.average_precision.push_back(average_precision(column_truth, column_score));
      aurocs.push_back(*s.auroc.back());
      aps.push_back(*s.average_precision.back());
    } else {
      s.auroc.emplace_back();
      s.average_precision.emplace_back();
    }
  }
  s.accuracy = static_cast<double>(equal) / static_cast<double>(n * labels);
  s.micro = prf(tp_all, fp_all, fn_all);
  s.macro.precision = numpy_mean(precisions);
  s.macro.recall = numpy_mean(recalls);
  s.macro.f1 = numpy_mean(f1s);
  s.macro.support = s.micro.support;
  if (!aurocs.empty()) {
    s.macro_auroc = numpy_mean(aurocs);
    s.macro_average_precision = numpy_mean(aps);
  }
  return s;
}

}  // namespace chexgen::metrics
