#include "chexgen/results/metric.h"

#include <array>
#include <cmath>

#include <fmt/format.h>

#include "chexgen/core/error.h"

namespace chexgen::results {
namespace {

// The feature spaces of CheXGenBench's own extractors (features/extractor.cpp names them the same way).
constexpr std::string_view kInception = "Inception", kRadDino = "RadDino", kBioVil = "BioViL-T",
                           kRadiomics = "Radiomics", kPixels = "Pixels", kReid = "Re-ID",
                           kUtility = "ResNet-50, all_synthetic", kAgreement = "ResNet-50, all_original",
                           kReports = "Reports", kChexbert = "CheXbert", kRadGraph = "RadGraph";

constexpr std::string_view kChexbertNeeds =
    "CheXbert's labels of each predicted and reference report (a CheXbert model, or its label CSVs)";
constexpr std::string_view kChexbertReference =
    "LLaVA-Rad rrg_eval: scikit-learn precision_recall_fscore_support F1 over CheXbert's binarised labels, median "
    "and percentile interval of scipy.stats.bootstrap (random_state=3)";

constexpr std::array kTable = {
    MetricInfo{Metric::frd, "frd", "FRD", kRadiomics, Better::lower, "ln of a squared distance",
               "radiomic features of both sets (rows with NaN left out)",
               "CheXGenBench's FRD: ln of frd-score frd_v1's Fréchet distance on z-scored radiomics"},
    MetricInfo{Metric::fid, "fid", "FID", kInception, Better::lower, "squared feature units",
               "features of both sets, at least 2 rows each", "pytorch-fid calculate_frechet_distance"},
    MetricInfo{Metric::kid, "kid", "KID", kInception, Better::lower, "squared feature units",
               "features of both sets, at least 2 rows each",
               "torch-fidelity KID (cubic polynomial kernel, unbiased MMD², mean over subsets)"},
    MetricInfo{Metric::inception_score, "inception_score", "Inception Score", kInception, Better::higher, "",
               "classifier logits of the synthetic set, at least one row per split",
               "torch-fidelity / torchmetrics Inception Score (exp of the mean KL divergence)"},
    MetricInfo{Metric::precision, "precision", "Precision", kRadDino, Better::higher, "fraction",
               "features of both sets, more than k rows each", "prdc (Naeem et al. 2020), k = 5"},
    MetricInfo{Metric::recall, "recall", "Recall", kRadDino, Better::higher, "fraction",
               "features of both sets, more than k rows each", "prdc (Naeem et al. 2020), k = 5"},
    MetricInfo{Metric::density, "density", "Density", kRadDino, Better::higher, "",
               "features of both sets, more than k rows each", "prdc (Naeem et al. 2020), k = 5"},
    MetricInfo{Metric::coverage, "coverage", "Coverage", kRadDino, Better::higher, "fraction",
               "features of both sets, more than k rows each", "prdc (Naeem et al. 2020), k = 5"},
    MetricInfo{Metric::alignment, "alignment", "Alignment_score", kBioVil, Better::higher, "cosine",
               "image embeddings of the synthetic set and text embeddings of their prompts",
               "hi-ml ImageTextInferenceEngine, mean over images"},
    MetricInfo{Metric::copy_rate, "copy_rate", "Copy rate", kPixels, Better::lower, "fraction",
               "features of the training set, the generations and held-out real images",
               "fraction of generations whose nearest training image (cosine) is nearer than the held-out images' "
               "q-quantile (docs/privacy.md); not in CheXGenBench"},
    MetricInfo{Metric::membership_auc, "membership_auc", "Membership AUC", kPixels, Better::nearer, "ROC AUC",
               "features of the training set, the generations and held-out real images",
               "distance-based membership inference (docs/privacy.md): training vs held-out images scored by their "
               "most similar generation; 0.5 when the generations say nothing of the training set",
               0.5},
    MetricInfo{Metric::nndr_rate, "nndr_rate", "NNDR rate", kPixels, Better::lower, "fraction",
               "features of the training set (patient ids where known) and the generations",
               "fraction of generations whose patient-aware nearest-neighbour distance ratio is below 1/3 "
               "(sail-sg DiffMemorize's mem_ratio, made patient-aware; docs/privacy.md)"},
    MetricInfo{Metric::data_copying, "data_copying", "Data-copying C_T", kPixels, Better::nearer, "Z score",
               "features of the training set, the generations and held-out real images",
               "Meehan et al. 2020's C_T (casey-meehan/data-copying): per-cell Z-scored Mann-Whitney U of distances "
               "to the training set, generations against held-out images; below 0 copies, above 0 underfits "
               "(docs/privacy.md)",
               0.0},
    MetricInfo{Metric::reid_mean, "reid_mean", "Avg Re-ID", kReid, Better::lower, "probability",
               "a re-identification model and generations linked to their prompt's training image",
               "CheXGenBench privacy_metrics.py: mean over prompts of Mean_reid_scores (Packhäuser et al. 2022)"},
    MetricInfo{Metric::reid_max, "reid_max", "Max Re-ID", kReid, Better::lower, "probability",
               "a re-identification model and generations linked to their prompt's training image",
               "CheXGenBench privacy_metrics.py: the largest Max_reid_scores"},
    MetricInfo{Metric::reid_count, "reid_count", "Count Re-ID > δ", kReid, Better::lower, "prompts",
               "a re-identification model and generations linked to their prompt's training image",
               "CheXGenBench's paper: prompts whose Max_reid_scores exceeds δ (--reid-threshold, default 0.5)"},
    MetricInfo{Metric::reid_rate, "reid_rate", "Re-ID rate", kReid, Better::lower, "fraction",
               "a re-identification model, features of the training set, the generations and held-out real images",
               "fraction of generations whose best re-identification score over the whole training set is above the "
               "held-out images' q-quantile (docs/privacy.md); not in CheXGenBench"},
    MetricInfo{Metric::pixel_distance, "pixel_distance", "Avg pixel distance", kPixels, Better::higher,
               "gray levels (0-255)", "generations linked to their prompt's training image",
               "CheXGenBench privacy_metrics.py, corrected (RMS in floating point, each generation's own image)"},
    MetricInfo{Metric::latent_distance, "latent_distance", "Avg latent distance", kRadDino, Better::higher,
               "feature units", "features of the generations and of their prompts' training images",
               "CheXGenBench privacy_metrics.py (||a - b|| / sqrt(d) on RadDino's pooled output)"},
    MetricInfo{Metric::utility_auroc, "utility_auroc", "Utility AUROC", kUtility, Better::higher, "ROC AUC",
               "training images of the setting with labels, and labelled real test images",
               "CheXGenBench downstream_inference.py auc_macro: the mean of scikit-learn's roc_auc_score over the "
               "labels with both classes in the test set (docs/utility.md)"},
    MetricInfo{Metric::utility_average_precision, "utility_average_precision", "Utility AP", kUtility, Better::higher,
               "average precision", "training images of the setting with labels, and labelled real test images",
               "the mean of scikit-learn's average_precision_score over the labels with both classes in the test "
               "set; not in CheXGenBench (docs/utility.md)"},
    MetricInfo{Metric::utility_f1, "utility_f1", "Utility F1", kUtility, Better::higher, "F1",
               "training images of the setting with labels, and labelled real test images",
               "CheXGenBench downstream_inference.py f1_macro: scikit-learn's f1_score(average='macro', "
               "zero_division=0) of the predictions at probability 0.5"},
    MetricInfo{Metric::prompt_agreement, "prompt_agreement", "Prompt agreement AUROC", kAgreement, Better::higher,
               "ROC AUC", "a classifier trained on real images, synthetic images with their prompts' labels",
               "does each image show what its prompt asked for: the macro AUROC of a classifier trained on real "
               "images, scored on the synthetic images against their prompts' labels; not in CheXGenBench "
               "(docs/utility.md)"},
    MetricInfo{Metric::bleu_1, "bleu_1", "BLEU-1", kReports, Better::higher, "0-100",
               "a predicted and a reference report per test image",
               "LLaVA-Rad rrg_eval: sacrebleu BLEU(max_ngram_order=1).corpus_score, bootstrap interval mean ± ci"},
    MetricInfo{Metric::bleu_4, "bleu_4", "BLEU-4", kReports, Better::higher, "0-100",
               "a predicted and a reference report per test image",
               "LLaVA-Rad rrg_eval: sacrebleu BLEU().corpus_score, bootstrap interval mean ± ci"},
    MetricInfo{Metric::rouge_l, "rouge_l", "ROUGE-L", kReports, Better::higher, "F-measure",
               "a predicted and a reference report per test image",
               "LLaVA-Rad rrg_eval: rouge-score ROUGE-L F-measure, BootstrapAggregator median and 2.5/97.5 percentiles"},
    MetricInfo{Metric::f1_radgraph, "f1_radgraph", "F1-RadGraph", kRadGraph, Better::higher, "F1",
               "RadGraph annotations of each predicted and reference report",
               "LLaVA-Rad rrg_eval: F1RadGraph partial reward, median and percentile interval of scipy.stats.bootstrap "
               "(random_state=3)"},
    MetricInfo{Metric::chexbert_micro_f1_14, "chexbert_micro_f1_14", "Micro-F1-14", kChexbert, Better::higher, "F1",
               kChexbertNeeds, kChexbertReference},
    MetricInfo{Metric::chexbert_macro_f1_14, "chexbert_macro_f1_14", "Macro-F1-14", kChexbert, Better::higher, "F1",
               kChexbertNeeds, kChexbertReference},
    MetricInfo{Metric::chexbert_micro_f1_5, "chexbert_micro_f1_5", "Micro-F1-5", kChexbert, Better::higher, "F1",
               kChexbertNeeds, kChexbertReference},
    MetricInfo{Metric::chexbert_macro_f1_5, "chexbert_macro_f1_5", "Macro-F1-5", kChexbert, Better::higher, "F1",
               kChexbertNeeds, kChexbertReference},
    MetricInfo{Metric::chexbert_micro_f1_14_plus, "chexbert_micro_f1_14_plus", "Micro-F1-14+", kChexbert,
               Better::higher, "F1", kChexbertNeeds, kChexbertReference},
    MetricInfo{Metric::chexbert_macro_f1_14_plus, "chexbert_macro_f1_14_plus", "Macro-F1-14+", kChexbert,
               Better::higher, "F1", kChexbertNeeds, kChexbertReference},
    MetricInfo{Metric::chexbert_micro_f1_5_plus, "chexbert_micro_f1_5_plus", "Micro-F1-5+", kChexbert, Better::higher,
               "F1", kChexbertNeeds, kChexbertReference},
    MetricInfo{Metric::chexbert_macro_f1_5_plus, "chexbert_macro_f1_5_plus", "Macro-F1-5+", kChexbert, Better::higher,
               "F1", kChexbertNeeds, kChexbertReference},
};

}  // namespace

std::span<const MetricInfo> metric_table() { return kTable; }

const MetricInfo& info(Metric metric) {
  const auto i = static_cast<std::size_t>(metric);
  CHEXGEN_ASSERT(i < kTable.size() && kTable[i].metric == metric, "results: metric table out of order");
  return kTable[i];
}

std::optional<Metric> metric_by_id(std::string_view id) {
  for (const MetricInfo& m : kTable)
    if (m.id == id) return m.metric;
  return std::nullopt;
}

double rank_key(const MetricInfo& m, double value) {
  switch (m.better) {
    case Better::lower: return value;
    case Better::higher: return -value;
    case Better::nearer: return std::abs(value - m.ideal);
  }
  return value;
}

std::string better_text(const MetricInfo& m) {
  switch (m.better) {
    case Better::lower: return "lower is better";
    case Better::higher: return "higher is better";
    case Better::nearer: return fmt::format("nearer {} is better", m.ideal);
  }
  return "";
}

std::string column_title(const MetricKey& key) {
  const MetricInfo& m = info(key.metric);
  std::string title(m.title);
  if (key.space != m.default_space) title += " (" + key.space + ")";
  return title;
}

bool leaderboard_before(const MetricKey& a, const MetricKey& b) {
  if (a.metric != b.metric) return a.metric < b.metric;
  const bool a_default = a.space == info(a.metric).default_space, b_default = b.space == info(b.metric).default_space;
  if (a_default != b_default) return a_default;
  return column_title(a) < column_title(b);
}

}  // namespace chexgen::results
