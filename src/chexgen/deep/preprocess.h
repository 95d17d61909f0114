// How an image file becomes a network's input: the preprocessing steps of docs/models.md, each computed exactly as
// the reference library it names (Pillow, torchvision, Hugging Face processors, hi-ml). No LibTorch here: the
// result is a plain CHW buffer that the model runner copies into a batch tensor.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "chexgen/core/error.h"
#include "chexgen/features/extractor.h"
#include "chexgen/image/image.h"
#include "chexgen/image/resize.h"

namespace chexgen::deep {

struct PreprocessStep {
  enum class Op { minmax_uint8, to_gray, resize, center_crop, to_float, normalize };
  Op op = Op::resize;
  // resize: exactly `size`, or the short side to `shortest_edge` (then size is unused); center_crop: `size`
  ImageSize size;
  int shortest_edge = 0;
  ResampleFilter filter = ResampleFilter::bilinear;
  bool round_offset = false;  // center_crop: Python round (torchvision) instead of floor (HF)
  // to_float: float32(double(v) * scale) when divide == 0, else float32(v) / float32(divide)
  double scale = 1.0;
  double divide = 0.0;
  std::vector<double> mean, std;  // normalize: one value, or one per channel
};

enum class InputDtype { float32, uint8 };

struct Preprocessing {
  features::ExtractorPreset preset = features::ExtractorPreset::generic;  // the preset it came from
  ColorMode color = ColorMode::rgb;
  std::vector<PreprocessStep> steps;
  int channels = 3;  // a 1-channel result is repeated to this many
  InputDtype dtype = InputDtype::float32;
  int height = 0, width = 0;  // expected input size (0: not checked)
};

// The steps of a network preset of docs/models.md (inception-fid, raddino, biovil-image); by name, anything else is a
// UsageError listing them.
Preprocessing preset_preprocessing(features::ExtractorPreset preset);
Preprocessing preset_preprocessing(const std::string& name);

// A preprocessing object of a sidecar (docs/models.md). Every error is an InputError at `where` naming the key.
Preprocessing parse_preprocessing(const nlohmann::json& j, const Location& where);
// The canonical JSON of a preprocessing (what the store key hashes): presets are written out step by step, so a
// preset and the same steps written by hand share their rows.
nlohmann::json to_json(const Preprocessing& p);

// The model input of one decoded image (decoded with p.color): C x H x W values in plane order, float32 values
// (or 8-bit values when p.dtype is uint8) held exactly in float. An image the steps cannot handle (a constant image
// for minmax_uint8, a crop larger than the image, a size that does not match p.height/p.width) throws
// std::invalid_argument with the reason.
PlanarImageF preprocess(const Image8& image, const Preprocessing& p);

}  // namespace chexgen::deep
