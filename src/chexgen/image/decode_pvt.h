// Private to the image decoders: the decoded samples before conversion to the caller's mode,
// the per-format decoders, and the error helper they share.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chexgen/image/decode.h"

namespace chexgen::detail {

// Samples as the file holds them, after palette expansion and with alpha already dropped.
// Exactly one of the three sample vectors is filled, with width * height * channels values.
struct DecodedImage {
  enum class Depth { u8, u16, f32 };  // f32: DICOM output of the VOI stage, 0..255 scale
  int width = 0;
  int height = 0;
  int channels = 0;  // 1 (gray) or 3 (RGB)
  Depth depth = Depth::u8;
  std::vector<std::uint8_t> samples_u8;
  std::vector<std::uint16_t> samples_u16;
  std::vector<float> samples_f32;
};

// Throws InputError{source}: "<source>: <reason>".
[[noreturn]] void throw_decode_error(std::string_view source, std::string reason);

// Refuses dimensions that are zero, negative, or above the limit, before anything is allocated.
void check_image_size(std::string_view source, std::string_view format, std::int64_t width, std::int64_t height,
                      const DecodeLimits& limits);

DecodedImage decode_png(std::span<const std::uint8_t> bytes, std::string_view source, const DecodeLimits& limits);
DecodedImage decode_jpeg(std::span<const std::uint8_t> bytes, std::string_view source, const DecodeLimits& limits);
DecodedImage decode_dicom(std::span<const std::uint8_t> bytes, std::string_view source, const DecodeLimits& limits);

}  // namespace chexgen::detail
