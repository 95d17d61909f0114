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

struct ProbeOptions : UtilityOptions {
  metrics::LogisticOptions logistic;
  bool skip_bad = false;  // images that cannot be measured are left out (reported) instead of ending the run
};

// Runs the probe for each extractor (one TestedClassifier each, space "<extractor's space> probe, <setting>").
// `real` or `synthetic` may be null where the setting does not need it; `test` holds the real test images. Features
// go through the store at `store`.
UtilityRun evaluate_probe(const Dataset* real, const Dataset* synthetic, const Dataset& test,
                          const std::vector<features::Extractor>& extractors, const std::filesystem::path& store,
                          const ProbeOptions& options, const Log& log);

}  // namespace chexgen::utility
