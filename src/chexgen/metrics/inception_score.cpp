#include "chexgen/metrics/inception_score.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "chexgen/core/error.h"
#include "chexgen/metrics/feature_checks.h"

namespace chexgen::metrics {

template <class T>
InceptionScoreResult inception_score(MatrixView<T> logits, const InceptionScoreOptions& options,
                                     const std::string& name) {
  if (options.splits == 0) throw UsageError("Inception Score needs at least one split");
  require_rows(logits, name, options.splits, "the Inception Score with " + std::to_string(options.splits) + " splits");
  require_finite(logits, name);
  const std::size_t n = logits.rows;
  const std::size_t c = logits.cols;

  // log p(y|x) for every row: logits − logsumexp(logits), stable by subtracting the row maximum.
  std::vector<double> log_p(n * c);
  for (std::size_t i = 0; i < n; ++i) {
    const T* r = logits.row(i);
    double* out = log_p.data() + i * c;
    double top = static_cast<double>(r[0]);
    for (std::size_t j = 1; j < c; ++j) top = std::max(top, static_cast<double>(r[j]));
    double sum = 0.0;
    for (std::size_t j = 0; j < c; ++j) sum += std::exp(static_cast<double>(r[j]) - top);
    const double lse = top + std::log(sum);
    for (std::size_t j = 0; j < c; ++j) out[j] = static_cast<double>(r[j]) - lse;
  }

  InceptionScoreResult result;
  std::vector<double> marginal(c);
  for (std::size_t s = 0; s < options.splits; ++s) {
    const std::size_t begin = s * n / options.splits;  // torch-fidelity: i * N // splits
    const std::size_t end = (s + 1) * n / options.splits;
    std::fill(marginal.begin(), marginal.end(), 0.0);
    for (std::size_t i = begin; i < end; ++i) {
      for (std::size_t j = 0; j < c; ++j) marginal[j] += std::exp(log_p[i * c + j]);
    }
    for (double& m : marginal) m /= static_cast<double>(end - begin);
    double kl_sum = 0.0;
    for (std::size_t i = begin; i < end; ++i) {
      double kl = 0.0;
      for (std::size_t j = 0; j < c; ++j) {
        const double p = std::exp(log_p[i * c + j]);
        if (p > 0.0) kl += p * (log_p[i * c + j] - std::log(marginal[j]));  // p = 0 contributes 0 (limit p log p)
      }
      kl_sum += kl;
    }
    result.split_scores.push_back(std::exp(kl_sum / static_cast<double>(end - begin)));
  }
  const double count = static_cast<double>(options.splits);
  double mean = 0.0;
  for (double v : result.split_scores) mean += v;
  mean /= count;
  double var = 0.0;
  for (double v : result.split_scores) var += (v - mean) * (v - mean);
  result.mean = mean;
  result.std = std::sqrt(var / count);  // np.std (torch-fidelity); torchmetrics uses divisor S − 1
  return result;
}

template InceptionScoreResult inception_score(MatrixView<float>, const InceptionScoreOptions&, const std::string&);
template InceptionScoreResult inception_score(MatrixView<double>, const InceptionScoreOptions&, const std::string&);

}  // namespace chexgen::metrics
