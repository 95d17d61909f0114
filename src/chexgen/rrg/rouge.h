// ROUGE-L as rouge-score computes it (RougeScorer(["rougeL"], use_stemmer=False).score(reference, prediction)) and
// its BootstrapAggregator, which LLaVA-Rad's rrg_eval reports: the median of B bootstrap means, with the 2.5 and 97.5
// percentiles, drawn from numpy's global legacy generator as `np.random.seed(3)` leaves it (docs/reports.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chexgen::rrg {

// rouge-score's default tokenizer: str.lower(), every run of characters other than [a-z0-9] a separator.
std::vector<std::string> rouge_tokens(std::string_view text);

struct RougeScore {
  double precision = 0, recall = 0, fmeasure = 0;
};

// The aggregate of the per-pair scores: low, mid and high percentiles of the bootstrap means of each measure.
struct RougeAggregate {
  RougeScore low, mid, high;
  std::size_t resamples = 0;
  double confidence = 0.95;
  std::uint32_t seed = 3;
};

// One score per pair (reference i, prediction i), on `threads` workers (0: all cores).
std::vector<RougeScore> rouge_l_scores(const std::vector<std::string>& predictions,
                                       const std::vector<std::string>& references, int threads = 1);

// BootstrapAggregator(confidence_interval, n_samples=resamples).aggregate() on a legacy RandomState(seed) that has
// drawn nothing else. resamples >= 1; scores non-empty.
RougeAggregate rouge_bootstrap(const std::vector<RougeScore>& scores, std::size_t resamples, double confidence,
                               std::uint32_t seed);

}  // namespace chexgen::rrg
