// Text embeddings through the feature store (the prompts of the image-text alignment score): each text is keyed by
// the SHA-256 of its bytes under the text model's id, so a second evaluation of the same prompts (another generator,
// another seed) embeds nothing again.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/core/matrix.h"

namespace chexgen {
class Log;
}

namespace chexgen::features {

// What a text model is to this stage (deep::as_text_extractor makes one from a TorchScript text encoder).
struct TextFeatureExtractor {
  std::string id;      // the store's key
  std::string name;    // for messages
  std::string source;  // where it came from (a model file), for the results' provenance
  std::size_t dim = 0;
  // One row of `dim` values per text, in order; a text it cannot embed is an InputError at where[i].
  std::function<MatrixD(const std::vector<std::string>& texts, const std::vector<Location>& where)> embed;
};

struct TextFeatures {
  MatrixD values;  // one row per text, in order
  std::size_t computed = 0, reused = 0;
};

// Every text's row, from the store under `store_root` or computed (and stored); `log` says how many of each, after
// `label` ("fidelity: prompts").
TextFeatures embed_texts(const TextFeatureExtractor& extractor, const std::vector<std::string>& texts,
                         const std::vector<Location>& where, const std::filesystem::path& store_root, const Log& log,
                         const std::string& label);

}  // namespace chexgen::features
