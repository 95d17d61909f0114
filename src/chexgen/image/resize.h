// Resizing that reproduces Pillow 9.4's Image.resize(size, resample) exactly (box and reducing_gap
// left at their defaults), and PyTorch's non-antialiased bilinear interpolate. Formulas, the
// tolerances achieved against the references and the differences between the two: docs/resize.md.
#pragma once

#include <string_view>

#include "chexgen/image/image.h"

namespace chexgen {

// Pillow's Image.Resampling filters that chexgen supports.
enum class ResampleFilter {
  nearest,   // Image.NEAREST: the source pixel under each output pixel's centre (no averaging)
  bilinear,  // Image.BILINEAR: triangle filter, support 1, widened by the downscale factor
  bicubic,   // Image.BICUBIC: Keys cubic with a = -0.5, support 2, widened by the downscale factor
  lanczos,   // Image.LANCZOS: Lanczos-3 windowed sinc, support 3, widened by the downscale factor
};

// "nearest", "bilinear", "bicubic", "lanczos" (exact, lower case); anything else is a UsageError
// that lists the accepted names.
ResampleFilter parse_resample_filter(std::string_view name);
std::string_view resample_filter_name(ResampleFilter filter);

// Output sizes are limited to this many pixels per side (a guard against typing 299000 for 299).
inline constexpr int max_resize_side_px = 1 << 16;

struct ImageSize {
  int width = 0;
  int height = 0;
};

// "W" (a square W x W) or "WxH", positive decimal integers up to max_resize_side_px
// (e.g. "256", "299x299", "640x480") and at most default_max_image_pixels() in all (the --max-image-pixels limit
// that decoding applies too); anything else is a UsageError quoting the text.
ImageSize parse_image_size(std::string_view text);

// UsageError if an output of width x height would exceed default_max_image_pixels().
void check_output_pixels(int width, int height);

// Pillow's Image.resize((width, height), filter) of an 8-bit image, every channel independently
// ('L' for 1 channel, 'RGB' for 3; any channel count is accepted). Bit-identical to Pillow 9.4.
// An empty input, or a width or height outside 1..max_resize_side_px, is a UsageError.
Image8 resize(const Image8& image, int width, int height, ResampleFilter filter);

// Pillow's Image.resize of a float ('F') image, every channel independently: coefficients and
// sums in double, each pass stored as float, no clipping. Bit-identical to Pillow 9.4 for 1 channel.
ImageF resize(const ImageF& image, int width, int height, ResampleFilter filter);

// torch.nn.functional.interpolate(x, size=(height, width), mode='bilinear', align_corners=False,
// antialias=False): each output pixel blends the 2x2 source pixels around
// src = max((dst + 0.5) * in / out - 0.5, 0). No antialiasing: a strong downscale skips pixels.
ImageF resize_bilinear_torch(const ImageF& image, int width, int height);

}  // namespace chexgen
