// A deep feature extractor as a user hands it over: a TorchScript file and its JSON sidecar (docs/models.md).
// Reading the sidecar needs no LibTorch; running the model does (torch_model.h).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "chexgen/deep/preprocess.h"

namespace chexgen::deep {

// One feature output of a model: element `index` of the tuple it returns (0 for a single tensor), [N, dim].
struct ModelOutput {
  std::string name;
  int index = 0;
  int dim = 0;
};

struct ModelSpec {
  std::filesystem::path model_path;  // the .pt file
  std::string name;
  Preprocessing preprocessing;
  std::vector<ModelOutput> outputs;
  int batch_size = 32;
  std::string weights_sha256;  // hex, of the .pt file's bytes

  // The feature store's id: the weights' hash plus the canonical JSON of preprocessing and outputs.
  std::string extractor_id() const;
  // "<output>_<i>" for every output in order: the columns of a stored row.
  std::vector<std::string> columns() const;
  int total_dim() const;
  // The first column of `output` in a stored row; an unknown name is a UsageError listing the outputs.
  int column_offset(const std::string& output) const;
};

// The outputs a preset's reference model returns (inception-fid: pool 2048 + logits 1008; raddino: cls 768;
// biovil-image: projected 128).
std::vector<ModelOutput> preset_outputs(features::ExtractorPreset preset);

// Reads `model` and its sidecar (the same path with .json). Without a sidecar, `preset` must name the
// preprocessing; with one, `preset` (when given) must agree with it. Every problem is an InputError naming the
// sidecar, or a UsageError for the options.
ModelSpec load_model_spec(const std::filesystem::path& model, const std::optional<std::string>& preset = {});

// How a text model's prompts become ids (the sidecar's "tokenizer" object; docs/models.md, "Text models").
struct TokenizerSettings {
  std::filesystem::path vocab;         // vocab.txt, resolved against the sidecar's folder
  bool lowercase = true;               // lowercase, and strip accents (NFD, drop Mn marks)
  int max_length = 512;                // the most ids of one prompt, [CLS] and [SEP] included
  std::string strip_trailing = "!?.";  // removed from the end of each prompt first (hi-ml's prompt.rstrip("!?."))
  // Longer texts: false, an error; true, the first max_length − 1 ids and [SEP] (CheXbert's rule for reports).
  bool truncate = false;
};

// A text encoder: forward(input_ids int64 [N, L], attention_mask int64 [N, L]) -> [N, dim] or a tuple with it.
struct TextModelSpec {
  std::filesystem::path model_path;  // the .pt file
  std::string name;
  TokenizerSettings tokenizer;
  ModelOutput output;  // the sidecar's one output: element `index` of what forward returns
  int batch_size = 32;
  std::string weights_sha256;  // hex, of the .pt file's bytes

  // The weights' hash plus the canonical JSON of the tokenizer settings (with the vocabulary's hash, not its
  // path) and the output.
  std::string extractor_id(const std::string& vocab_sha256) const;
};

// Reads `model` and its sidecar (the same path with .json), which must say "kind": "text" and give a
// "tokenizer" object and one output. Every problem is an InputError naming the sidecar (or the missing file).
// The vocabulary itself is read by the tokenizer (chexgen/text/wordpiece.h).
TextModelSpec load_text_model_spec(const std::filesystem::path& model);

}  // namespace chexgen::deep
