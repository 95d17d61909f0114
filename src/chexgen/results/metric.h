// The one table of metric kinds chexgen reports (docs/results.md): what each is called, which direction is better,
// its unit and what computing it needs. A metric is data, not a string: results are records keyed by a metric kind
// and a feature space; CheXGenBench's column names, the leaderboard's columns and the JSON keys are three ways of
// printing such a key, each written once, here.
#pragma once

#include <compare>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace chexgen::results {

// In the order of the leaderboard's columns.
enum class Metric {
  frd,
  fid,
  kid,
  inception_score,
  precision,
  recall,
  density,
  coverage,
  alignment,
  copy_rate,        // privacy: generations nearer a training image than the held-out images' q-quantile
  membership_auc,   // privacy: training images told from held-out ones by their nearest generation
  nndr_rate,        // privacy: generations much nearer one training patient than any other
  data_copying,     // privacy: Meehan et al.'s C_T, generations' distances to the training set against unseen images'
  reid_mean,        // privacy: CheXGenBench's mean re-identification score against the prompt's training image
  reid_max,         // privacy: the highest of those scores
  reid_count,       // privacy: prompts whose highest score is above the threshold δ
  reid_rate,        // privacy: generations re-identified with a training image above the held-out images' q-quantile
  pixel_distance,   // privacy: CheXGenBench's mean pixel distance to the prompt's training image
  latent_distance,  // privacy: CheXGenBench's mean latent distance to the prompt's training image
  utility_auroc,    // utility: macro AUROC on real test images of a classifier trained on the setting's images
  utility_average_precision,  // utility: macro average precision of that classifier
  utility_f1,                 // utility: macro F1 of its predictions at probability 0.5
  prompt_agreement,           // fidelity through utility: macro AUROC of a real-trained classifier on synthetic images
                              // against their prompts' labels
  // Report generation (docs/reports.md): reports written for real test images, scored against the radiologists'.
  bleu_1,                     // sacrebleu corpus BLEU, unigrams
  bleu_4,                     // sacrebleu corpus BLEU, up to 4-grams
  rouge_l,                    // rouge-score ROUGE-L F-measure, median of bootstrap means
  f1_radgraph,                // F1-RadGraph (partial reward), median of the bootstrap distribution
  chexbert_micro_f1_14,       // CheXbert labels' micro F1 over 14 observations, uncertain as negative
  chexbert_macro_f1_14,
  chexbert_micro_f1_5,        // over Cardiomegaly, Edema, Consolidation, Atelectasis, Pleural Effusion
  chexbert_macro_f1_5,
  chexbert_micro_f1_14_plus,  // uncertain as positive
  chexbert_macro_f1_14_plus,
  chexbert_micro_f1_5_plus,
  chexbert_macro_f1_5_plus,
};

// Which values are better: lower, higher, or nearer the metric's ideal value (a membership AUC of 0.5, a C_T of 0).
enum class Better { lower, higher, nearer };

struct MetricInfo {
  Metric metric;
  std::string_view id;             // in JSON and on the command line: "fid", "inception_score", ...
  std::string_view title;          // CheXGenBench's column name: "FID", "Inception Score", "Alignment_score"
  std::string_view default_space;  // the feature space CheXGenBench's bare title stands for
  Better better;
  std::string_view unit;       // "" for a pure number
  std::string_view needs;      // what computing it takes
  std::string_view reference;  // what it reproduces (docs/metrics.md says how exactly)
  double ideal = 0;            // with Better::nearer: the value of a perfect result
};

// How far a value is from the best, for ranking: the value (lower is better), its negation (higher), or its distance
// from the ideal (nearer). Smaller is better in all three.
double rank_key(const MetricInfo& m, double value);

// "lower is better", "higher is better", "nearer 0.5 is better".
std::string better_text(const MetricInfo& m);

// Every metric kind, in enum order.
std::span<const MetricInfo> metric_table();
const MetricInfo& info(Metric metric);
std::optional<Metric> metric_by_id(std::string_view id);

// A result's identity: a metric kind in a feature space ("Inception", "RadDino", "BioViL-T", "Radiomics", or the name
// of a model given by the user).
struct MetricKey {
  Metric metric = Metric::fid;
  std::string space;

  auto operator<=>(const MetricKey&) const = default;
};

// CheXGenBench's name of the column: the title alone in the metric's default space, else followed by " (space)":
// "FID", "FID (RadDino)", "Precision" (RadDino), "Precision (Inception)", "FRD" (Radiomics).
std::string column_title(const MetricKey& key);

// The leaderboard's column order: by metric kind, the default space first, then by column title.
bool leaderboard_before(const MetricKey& a, const MetricKey& b);

}  // namespace chexgen::results
