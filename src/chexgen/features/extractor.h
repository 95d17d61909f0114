// Extractors as the evaluations use them. The ones chexgen knows by name (docs/models.md), CheXGenBench's three
// networks and radiomics, are presets: one table says, for each, the name a sidecar or --preset uses, the feature
// space its results are reported in and the role the fidelity suite gives it; the deep stage keys its preprocessing
// and outputs by the same enum.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chexgen/features/extract.h"

namespace chexgen::features {

enum class ExtractorPreset { inception_fid, raddino, biovil_image, radiomics, generic };

// What the fidelity suite does with an extractor's features.
enum class FeatureRole {
  distribution,     // FID and KID (and PRDC when it is the PRDC extractor) on the first output
  alignment_image,  // the image side of the image-text alignment score; no FID or KID of its own
  radiomic,         // FRD; FID, KID and PRDC on standardised radiomics where no network is given
};

struct ExtractorPresetInfo {
  ExtractorPreset preset;
  std::string_view name;   // in sidecars and on the command line: "inception-fid", ...
  std::string_view space;  // its results' feature space ("Inception"); empty for generic: the model's own name
  FeatureRole role;
  int table_rank;        // CheXGenBench's column order: Inception, RadDino, other models, radiomics
  bool prdc;             // PRDC runs on these features when they are given (CheXGenBench: RadDino)
  bool inception_score;  // the Inception Score comes from its "logits" output
};

std::span<const ExtractorPresetInfo> extractor_presets();
const ExtractorPresetInfo& preset_info(ExtractorPreset preset);
// Presets by name; `generic` has none (a sidecar gives its own steps instead).
std::optional<ExtractorPreset> preset_by_name(std::string_view name);
// "inception-fid, raddino, biovil-image" (the network presets), for messages.
std::string network_preset_names();

// An image extractor ready for an evaluation: what computes its rows, its preset (so its feature space and role),
// and the named column ranges of a row. deep::load_image_extractor and radiomics::as_extractor make them.
struct Extractor {
  ImageFeatureExtractor rows;
  ExtractorPreset preset = ExtractorPreset::generic;
  std::string name;  // the model's own name (a generic model's feature space)
  struct Output {
    std::string name;
    std::size_t offset = 0, dim = 0;
  };
  std::vector<Output> outputs;  // the first one holds the features of FID, KID and PRDC
  nlohmann::ordered_json description = nlohmann::ordered_json::object();  // model file, device...: for provenance

  // The feature space its results are reported in: the preset's, else the name.
  std::string space() const;
  const ExtractorPresetInfo& info() const { return preset_info(preset); }
};

}  // namespace chexgen::features
