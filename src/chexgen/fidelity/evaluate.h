// chexgen fidelity as a library call (docs/fidelity.md): the two datasets and the extractors in, the results out.
// Every image is measured once per extractor through the feature store; prompts are embedded through it too. The
// caller reads manifests, builds the extractors and writes the outputs (results.json, CheXGenBench's tables).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chexgen/data/manifest.h"
#include "chexgen/features/extract.h"
#include "chexgen/features/extractor.h"
#include "chexgen/features/text_features.h"
#include "chexgen/fidelity/suite.h"
#include "chexgen/results/results.h"

namespace chexgen {
class Log;
}

namespace chexgen::fidelity {

enum class InceptionScoreFrom {
  logits,  // the Inception Score: softmax of the 1008 logits
  pool,    // CheXGenBench's number: softmax over the 2048 pool features (torchmetrics InceptionScore(feature=2048))
};

struct FidelityOptions {
  SuiteOptions suite;
  bool deduplicate_real_prompts = true;  // CheXGenBench keeps the first real row of each prompt
  bool radiomics_metrics = false;        // FID, KID (and PRDC) on radiomics even when networks are given
  InceptionScoreFrom inception_score_from = InceptionScoreFrom::logits;
  bool skip_bad = false;  // leave unusable images out (listed) instead of stopping
  std::string generator;  // the results' name; empty: the synthetic manifest's folder name
};

// One synthetic image's image-text alignment, as CheXGenBench's loop computes it.
struct AlignmentScore {
  std::size_t sample = 0;  // index into the synthetic Dataset's samples
  double score = 0;
};

struct FidelityRun {
  results::Results results;
  std::vector<AlignmentScore> alignment;  // when a text model was given
};

// Runs every fidelity metric (suite.h) of `synthetic` against `real`, overall and (options.suite.conditional) per
// label. Extractors with the alignment_image role feed the alignment score with `text`; the radiomics extractor
// gives FRD (and FID/KID/PRDC on radiomics when no network is given, or with radiomics_metrics); PRDC runs on the
// RadDino extractor when there is one, else on the first one. Unusable images are InputErrors (or, with skip_bad,
// left out of every metric); an impossible combination (a text model without a BioViL-T image extractor, no
// extractor at all, an Inception Score without logits) is a UsageError.
FidelityRun evaluate_fidelity(const Dataset& real, const Dataset& synthetic,
                              const std::vector<features::Extractor>& extractors,
                              const std::optional<features::TextFeatureExtractor>& text,
                              const std::filesystem::path& store, const FidelityOptions& options, const Log& log);

// alignment_scores.csv: one line per synthetic image (id, image, prompt, score), unrounded, with its header.
std::vector<std::string> alignment_scores_csv(const FidelityRun& run, const Dataset& synthetic);

}  // namespace chexgen::fidelity
