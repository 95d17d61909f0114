// The fidelity suite (docs/fidelity.md): every fidelity metric of one synthetic set against one real set, overall
// and per label, as result records (chexgen/results). Feature extraction happens before (the feature
// store); this stage chooses rows, subsets and metrics, and says why a metric was skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chexgen/core/matrix.h"
#include "chexgen/data/manifest.h"
#include "chexgen/results/results.h"

namespace chexgen {
class Progress;
}

namespace chexgen::fidelity {

// Features of one extractor, one row per taking-part sample (SuiteInputs::real_samples / synthetic_samples order).
struct FeatureBlock {
  std::string space;  // the feature space of its results: "Inception", "RadDino", "Radiomics", a model's name
  std::string extractor_id;
  // Radiomic features: rows with a NaN are left out, and both sets are z-scored with the real subset's statistics
  // (non-finite columns out), as FRD does, before FID, KID and PRDC.
  bool radiomic = false;
  MatrixD real, synthetic;
};

struct SuiteInputs {
  const Dataset* real = nullptr;
  const Dataset* synthetic = nullptr;
  std::vector<std::size_t> real_samples, synthetic_samples;  // Dataset::samples indices taking part, in row order
  std::vector<FeatureBlock> blocks;                          // FID and KID on each, in table order
  std::optional<std::size_t> prdc_block;                     // PRDC on this block
  std::optional<MatrixD> synthetic_logits;                   // Inception Score (rows: synthetic_samples)
  std::string logits_space = "Inception";                    // the Inception Score's feature space
  std::string logits_name = "Inception logits";              // what the logits are, for the record's details
  std::optional<FeatureBlock> frd;                           // FRD on these raw radiomic features
  std::vector<std::string> frd_columns;                      // their column names
  std::optional<std::vector<double>> alignment;              // image-text cosine per synthetic row
  std::string alignment_space = "BioViL-T";
};

struct SuiteOptions {
  bool conditional = false;
  std::uint64_t seed = 42;        // KID subsets, bootstrap resamples, FRD's subsample
  std::size_t kid_subsets = 100;  // KID subset size: min(n_real, n_synthetic), as CheXGenBench
  int prdc_k = 5;
  std::size_t is_splits = 10;
  bool frd_match_sample_count = false;
  std::size_t bootstrap = 0;  // resamples for percentile intervals (0: none)
  int threads = 0;
};

// The metric keys of these inputs in CheXGenBench's table order: FID on each block, Inception Score, KID on each
// block, Precision, Recall, Density, Coverage (on the PRDC block), alignment, FRD.
std::vector<results::MetricKey> suite_columns(const SuiteInputs& inputs);

// Runs every metric overall and (options.conditional) for each label of the real set's label set: the real samples
// positive for it against the synthetic samples positive for it when the synthetic set has that label, else those
// whose prompt is one of those real samples' prompts (CheXGenBench's rule). A metric whose subset is too small is
// a record with the reason it was skipped; overall, too small a set is an InputError. The results' evaluation is
// "fidelity"; their generator and provenance are the caller's to fill in.
results::Results run_fidelity_suite(const SuiteInputs& inputs, const SuiteOptions& options,
                                    Progress* progress = nullptr);

// CheXGenBench keeps the first real row of each prompt (pandas drop_duplicates on the prompt column). Returns the
// samples kept, in order; rows without a prompt are all kept.
struct Deduplication {
  std::vector<std::size_t> kept;
  std::size_t duplicates = 0;      // rows left out
  std::size_t without_prompt = 0;  // rows that could not be compared
};
Deduplication deduplicate_by_prompt(const Dataset& dataset, const std::vector<std::size_t>& samples);

// CheXGenBench's CSV tables: image_generation_metrics.csv (one row) and conditional_image_generation_metrics.csv
// (one row per label, plus "Pathology"), both with "Extra Info" (the results' generator). Columns are named by
// results::column_title; a skipped metric is an empty cell.
std::string overall_table_csv(const results::Results& r);
std::string conditional_table_csv(const results::Results& r);

}  // namespace chexgen::fidelity
