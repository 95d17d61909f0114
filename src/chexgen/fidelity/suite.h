// The fidelity suite (docs/fidelity.md): every fidelity metric of one synthetic set against one real set, overall
// and per label, named as CheXGenBench's result tables name them. Feature extraction happens before (the feature
// store); this stage chooses rows, subsets and metrics, and says why a metric was skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chexgen/data/manifest.h"
#include "chexgen/metrics/bootstrap.h"
#include "chexgen/metrics/matrix.h"

namespace chexgen {
class Progress;
}

namespace chexgen::fidelity {

// Features of one extractor, one row per taking-part sample (SuiteInputs::real_samples / synthetic_samples order).
struct FeatureBlock {
  std::string name;         // for reports: "Inception", "RadDino", "Radiomics", a model's name
  std::string suffix;       // appended to "FID" and "KID": "" (Inception), " (RadDino)", " (Radiomics)", " (name)"
  std::string prdc_suffix;  // appended to Precision/Recall/Density/Coverage when PRDC runs on this block
  std::string extractor_id;
  // Radiomic features: rows with a NaN are left out, and both sets are z-scored with the real subset's statistics
  // (non-finite columns out), as FRD does, before FID, KID and PRDC.
  bool radiomic = false;
  metrics::MatrixD real, synthetic;
};

struct SuiteInputs {
  const Dataset* real = nullptr;
  const Dataset* synthetic = nullptr;
  std::vector<std::size_t> real_samples, synthetic_samples;  // Dataset::samples indices taking part, in row order
  std::vector<FeatureBlock> blocks;                          // FID and KID on each, in table order
  std::optional<std::size_t> prdc_block;                     // PRDC on this block
  std::optional<metrics::MatrixD> synthetic_logits;          // Inception Score (rows: synthetic_samples)
  std::string logits_name = "Inception logits";
  std::optional<FeatureBlock> frd;                           // FRD on these raw radiomic features
  std::vector<std::string> frd_columns;                      // their column names
  std::optional<std::vector<double>> alignment;              // image-text cosine per synthetic row
};

struct SuiteOptions {
  bool conditional = false;
  std::uint64_t seed = 42;          // KID subsets, bootstrap resamples, FRD's subsample
  std::size_t kid_subsets = 100;    // KID subset size: min(n_real, n_synthetic), as CheXGenBench
  int prdc_k = 5;
  std::size_t is_splits = 10;
  bool frd_match_sample_count = false;
  std::size_t bootstrap = 0;        // resamples for percentile intervals (0: none)
  int threads = 0;
};

// The metrics of one pair of subsets.
struct SubsetResult {
  std::string label;                                   // empty for the overall comparison
  std::string synthetic_rule;                          // how the synthetic subset was chosen (conditional)
  std::size_t n_real = 0, n_synthetic = 0;
  std::vector<std::pair<std::string, double>> values;  // table column -> value, in table order
  std::map<std::string, std::string> skipped;          // table column -> why it was not computed
  std::map<std::string, metrics::Interval> intervals;  // with bootstrap
  nlohmann::ordered_json details;                      // KID std, IS std, FRD's rows and columns, ...

  std::optional<double> value(const std::string& column) const;
};

struct SuiteResult {
  std::vector<std::string> columns;  // every metric column the inputs allow, in table order
  SubsetResult overall;
  std::vector<SubsetResult> conditional;
};

// The table columns of these inputs, in CheXGenBench's order: FID..., Inception Score, KID..., Precision, Recall,
// Density, Coverage (each with the PRDC block's suffix), Alignment_score, FRD.
std::vector<std::string> suite_columns(const SuiteInputs& inputs);

// Runs every metric overall and (options.conditional) for each label of the real set's label set: the real samples
// positive for it against the synthetic samples positive for it when the synthetic set has that label, else those
// whose prompt is one of those real samples' prompts (CheXGenBench's rule). A metric whose subset is too small is
// skipped with the reason; overall, too small a set is an InputError.
SuiteResult run_fidelity_suite(const SuiteInputs& inputs, const SuiteOptions& options, Progress* progress = nullptr);

// CheXGenBench keeps the first real row of each prompt (pandas drop_duplicates on the prompt column). Returns the
// samples kept, in order; rows without a prompt are all kept.
struct Deduplication {
  std::vector<std::size_t> kept;
  std::size_t duplicates = 0;       // rows left out
  std::size_t without_prompt = 0;   // rows that could not be compared
};
Deduplication deduplicate_by_prompt(const Dataset& dataset, const std::vector<std::size_t>& samples);

// results.json's "overall" / "conditional" entries: {"<column>": value, ..., "n_real", "n_synthetic", "skipped",
// "intervals", "details"}.
nlohmann::ordered_json to_json(const SubsetResult& r);

// CheXGenBench's CSV tables: image_generation_metrics.csv (one row) and conditional_image_generation_metrics.csv
// (one row per label, plus "Pathology"), both with "Extra Info". A skipped metric is an empty cell.
std::string overall_table_csv(const SuiteResult& r, const std::string& extra_info);
std::string conditional_table_csv(const SuiteResult& r, const std::string& extra_info);

}  // namespace chexgen::fidelity
