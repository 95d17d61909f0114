// Corpus BLEU as sacrebleu 2.x computes it with its defaults (BLEU(): tokenizer 13a, smooth_method "exp", cased,
// closest reference length) and its bootstrap (corpus_score(..., n_bootstrap=B)), which LLaVA-Rad's rrg_eval reports
// as BLEU-1 (max_ngram_order=1) and BLEU-4 (docs/reports.md, "BLEU").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chexgen::rrg {

// sacrebleu's Tokenizer13a as BLEU applies it to a segment (after str.rstrip()): its tokens, UTF-8.
std::vector<std::string> bleu_tokens(std::string_view text);

// The sufficient statistics of a corpus or a segment: lengths, matched and total n-grams per order 1..max_order.
struct BleuStats {
  std::int64_t hyp_len = 0, ref_len = 0;
  std::vector<std::int64_t> correct, total;
};

struct BleuScore {
  double score = 0;                // 0-100
  std::vector<double> precisions;  // per order, 0-100
  double brevity_penalty = 1;
  BleuStats stats;
};

// sacrebleu's BLEU.compute_bleu with smooth_method "exp" and effective_order off.
BleuScore bleu_from_stats(const BleuStats& stats);

struct BleuBootstrap {
  std::size_t resamples = 0;
  std::uint64_t seed = 12345;        // SACREBLEU_SEED's default
  double mean = 0;                   // Score._mean: statistics.mean of the resampled scores
  double half_width = 0;             // Score._ci: half the distance between the n//40-th and (n − n//40 − 1)-th
  double low = 0, high = 0;          // mean ∓ half_width: rrg_eval's ci_l, ci_h
  bool float32_exact = true;         // every resampled sum below 2^24, where sacrebleu's float32 sums are exact
};

struct CorpusBleu {
  BleuScore corpus;                      // the reported value (rrg_eval's "median" is this full-corpus score)
  std::optional<BleuBootstrap> bootstrap;
};

// The statistics of predictions[i] against references[i] (one reference each), n-grams up to max_order (1..4), on
// `threads` workers (0: all cores).
std::vector<BleuStats> bleu_segment_stats(const std::vector<std::string>& predictions,
                                          const std::vector<std::string>& references, int max_order,
                                          int threads = 1);

// Corpus BLEU with n-grams up to `order` (at most the statistics' order, so that BLEU-1 and BLEU-4 share one pass
// over the text) and sacrebleu's bootstrap; resamples < 2: none (sacrebleu's n_bootstrap=1). segments non-empty.
CorpusBleu corpus_bleu(const std::vector<BleuStats>& segments, int order, std::size_t resamples,
                       std::uint64_t seed = 12345);

}  // namespace chexgen::rrg
