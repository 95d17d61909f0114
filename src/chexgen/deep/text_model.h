// A TorchScript text encoder with its BERT tokenizer (docs/models.md, "Text models"): prompts in, one embedding
// row per prompt out, for the image-text alignment score. LibTorch's headers stay inside text_model.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/core/matrix.h"
#include "chexgen/deep/model_spec.h"
#include "chexgen/deep/torch_model.h"
#include "chexgen/features/text_features.h"

namespace chexgen::text {
class BertTokenizer;
}

namespace chexgen::deep {

class TextModel {
 public:
  // Reads `model`, its sidecar M.json ("kind": "text") and the vocabulary the sidecar names; loads the module on
  // the chosen device. Problems with the files are InputErrors naming them; `cuda` without a GPU is a UsageError.
  TextModel(const std::filesystem::path& model, const RunOptions& options);
  ~TextModel();
  TextModel(const TextModel&) = delete;
  TextModel& operator=(const TextModel&) = delete;

  const std::string& name() const;
  // The weights' SHA-256 plus the canonical JSON of the tokenizer settings (with the vocabulary's SHA-256) and the
  // output: what a cached text embedding must be keyed by.
  std::string extractor_id() const;
  int dim() const;
  const TextModelSpec& spec() const { return spec_; }
  const text::BertTokenizer& tokenizer() const;
  std::string device_name() const;

  // The ids of one prompt: the sidecar's strip_trailing characters removed from its end, then [CLS] ... [SEP].
  // Invalid UTF-8, or more than max_length ids, is an InputError at `where`; with the sidecar's "truncate", a longer
  // text keeps its first max_length − 1 ids and [SEP].
  std::vector<std::int64_t> encode(const std::string& prompt, const Location& where) const;

  // One row per prompt, in order, computed in batches of the sidecar's batch_size, each batch padded with [PAD]
  // (attention mask 0) to its longest prompt. A prompt that encode() refuses is an InputError at locations[i];
  // every prompt is encoded before the model runs. A model whose output does not match the sidecar is an
  // InputError naming the model.
  MatrixD embed(const std::vector<std::string>& prompts, const std::vector<Location>& locations);

 private:
  struct Impl;
  TextModelSpec spec_;
  std::unique_ptr<Impl> impl_;
};

// The text model as the feature stage sees it: its id, name, width and embed().
features::TextFeatureExtractor as_text_extractor(std::shared_ptr<TextModel> model);

}  // namespace chexgen::deep
