#include "chexgen/features/extractor.h"

#include <array>

#include "chexgen/core/error.h"

namespace chexgen::features {
namespace {

constexpr std::array kPresets = {
    ExtractorPresetInfo{ExtractorPreset::inception_fid, "inception-fid", "Inception", FeatureRole::distribution, 0,
                        false, true},
    ExtractorPresetInfo{ExtractorPreset::raddino, "raddino", "RadDino", FeatureRole::distribution, 1, true, false},
    ExtractorPresetInfo{ExtractorPreset::biovil_image, "biovil-image", "BioViL-T", FeatureRole::alignment_image, 2,
                        false, false},
    ExtractorPresetInfo{ExtractorPreset::radiomics, "radiomics", "Radiomics", FeatureRole::radiomic, 3, false, false},
    ExtractorPresetInfo{ExtractorPreset::generic, "generic", "", FeatureRole::distribution, 2, false, false},
};

}  // namespace

std::span<const ExtractorPresetInfo> extractor_presets() { return kPresets; }

const ExtractorPresetInfo& preset_info(ExtractorPreset preset) {
  const auto i = static_cast<std::size_t>(preset);
  CHEXGEN_ASSERT(i < kPresets.size() && kPresets[i].preset == preset, "features: preset table out of order");
  return kPresets[i];
}

std::optional<ExtractorPreset> preset_by_name(std::string_view name) {
  for (const auto& p : kPresets)
    if (p.name == name && p.preset != ExtractorPreset::generic) return p.preset;
  return std::nullopt;
}

std::string network_preset_names() {
  std::string names;
  for (const auto& p : kPresets) {
    if (p.preset == ExtractorPreset::radiomics || p.preset == ExtractorPreset::generic) continue;
    names += (names.empty() ? "" : ", ") + std::string(p.name);
  }
  return names;
}

std::string Extractor::space() const {
  const std::string_view s = info().space;
  return s.empty() ? name : std::string(s);
}

}  // namespace chexgen::features
