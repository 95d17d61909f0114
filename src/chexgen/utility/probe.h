// chexgen utility probe as a library call (docs/utility.md): the fast mode of the utility suite. Per label, an L2
// logistic regression on stored features of any extractor (radiomics included), standardised on the training rows,
// trained on the setting's images and scored on real test images (run.h: CheXGenBench's metrics, intervals by
// patient, the validation rows' scores beside them).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "chexgen/data/manifest.h"
#include "chexgen/features/extractor.h"
#include "chexgen/metrics/logistic.h"
#include "chexgen/utility/run.h"

namespace chexgen {
class Log;
}

namespace chexgen::utility {

struct ProbeOptions {
  TrainingSetOptions training;
  metrics::LogisticOptions logistic;
  ScoringOptions scoring;           // its seed is the training set's (set by evaluate_probe)
  std::vector<std::string> labels;  // empty: every label of the training images' label set
  int threads = 0;
  bool skip_bad = false;
  std::string generator;  // the results' name; empty: the synthetic (else real) training manifest's folder name
  // Prompt–label agreement: with a classifier trained on real images only (all_original), score every synthetic
  // image against its prompt's labels (its real row's, else its own).
  bool agreement = false;
};

// Runs the probe for each extractor (one TestedClassifier each, space "<extractor's space> probe, <setting>").
// `real` or `synthetic` may be null where the setting does not need it; `test` holds the real test images. Features
// go through the store at `store`.
UtilityRun evaluate_probe(const Dataset* real, const Dataset* synthetic, const Dataset& test,
                          const std::vector<features::Extractor>& extractors, const std::filesystem::path& store,
                          const ProbeOptions& options, const Log& log);

}  // namespace chexgen::utility
