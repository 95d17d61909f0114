// `chexgen reports score`: reports written for real test images, scored against the radiologists' reports with the
// metrics and bootstrap intervals of LLaVA-Rad's rrg_eval (run.py with bootstrap_ci=True, the path of the published
// numbers; docs/reports.md). Results are metric records (results/results.h), so the leaderboard shows them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "chexgen/results/results.h"
#include "chexgen/rrg/chexbert.h"
#include "chexgen/rrg/radgraph.h"
#include "chexgen/rrg/rouge.h"

namespace chexgen::rrg {

struct ReportPair {
  std::string id;          // "id" when the line has one, else the line number
  std::string prediction;  // the generated report
  std::string reference;   // the radiologist's report
  std::size_t line = 0;    // 1-based line of the JSONL file
};

// rrg_eval's input: JSON Lines, one object per line with string members "prediction" and "reference" ("id" and
// others optional). CRLF line ends are accepted. A line that is not such an object, and a file without pairs, are
// InputErrors naming the file and line.
std::vector<ReportPair> read_report_pairs(const std::filesystem::path& jsonl);

enum class ReportScorer { bleu1, bleu4, rouge_l, chexbert, radgraph };

// "bleu1,bleu4,rougeL,chexbert,radgraph" (rrg_eval's names BLEU-1, BLEU-4, ROUGE-L, CheXbert, F1-RadGraph are also
// accepted). An unknown name is a UsageError listing the known ones.
std::vector<ReportScorer> parse_report_scorers(std::string_view list);

struct ReportScoreOptions {
  std::vector<ReportScorer> scorers;      // empty: BLEU-1, BLEU-4, ROUGE-L, and CheXbert / F1-RadGraph when given
  std::size_t bootstrap = 500;            // resamples of every interval (rrg_eval: 500)
  double confidence = 0.95;
  std::uint64_t bleu_seed = 12345;        // SACREBLEU_SEED's default
  std::uint32_t rouge_seed = 3;           // run.py's np.random.seed(3)
  std::uint32_t scipy_seed = 3;           // random_state=3 of the CheXbert and RadGraph bootstraps
  std::filesystem::path labels_pred, labels_ref;  // CheXbert label CSVs of the predictions and the references
  // Or the labels themselves (from a CheXbert model), one row per pair each, and what made them.
  std::vector<ChexbertRow> predicted_labels, reference_labels;
  std::string labels_source;
  std::filesystem::path radgraph_annotations;     // RadGraph's annotations of predictions then references
  std::string generator;                  // the results' generator name
  int threads = 0;                        // the metrics run side by side on this many workers (0: all cores)
};

struct ReportScores {
  results::Results results;
  std::vector<RougeScore> rouge;          // per pair, when ROUGE-L was scored
  std::vector<RadGraphReward> radgraph;   // per pair, when F1-RadGraph was scored
};

ReportScores score_reports(const std::vector<ReportPair>& pairs, const ReportScoreOptions& options);

// rrg_eval's main.csv: a column per metric (its names), rows median, ci_l, ci_h.
std::vector<std::string> main_csv(const results::Results& results);
// id, line, and each per-report score that was computed (ROUGE-L P/R/F, F1-RadGraph reward and its P/R).
std::vector<std::string> per_report_csv(const std::vector<ReportPair>& pairs, const ReportScores& scores);

}  // namespace chexgen::rrg
