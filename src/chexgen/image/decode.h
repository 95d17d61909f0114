// Image decoding: PNG (libpng), JPEG (libjpeg-turbo), DICOM (DCMTK), chosen by content, not by extension.
// Every failure (missing, empty, truncated, corrupt, unsupported) is an InputError naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "chexgen/image/image.h"

namespace chexgen {

enum class ImageFormat { png, jpeg, dicom, unknown };

// The process-wide default pixel limit: 2^26 = 67,108,864 pixels (8192 x 8192), about four times the largest chest
// radiograph; a decoder then holds at most ~0.5 GB for 16-bit RGB. The CLI's --max-image-pixels sets it;
// `pixels` must be positive (UsageError otherwise).
std::int64_t default_max_image_pixels();
void set_default_max_image_pixels(std::int64_t pixels);

// Guards against decompression bombs: a header (PNG IHDR, JPEG SOF, DICOM Rows x Columns) declaring more pixels than
// this is refused (InputError "unsupported ...: image of W x H pixels exceeds the limit") before the decoder reserves
// memory in proportion to it.
struct DecodeLimits {
  std::int64_t max_pixels = default_max_image_pixels();  // width * height
};

// Guesses the format from the first bytes (PNG signature, JPEG SOI, DICOM "DICM" at offset 128).
ImageFormat sniff_image_format(std::span<const std::uint8_t> bytes);

// Decodes to 8-bit gray or RGB. 16-bit samples are scaled to 8 bits; alpha is dropped
// (composited on nothing, as Pillow's convert does); palettes are expanded.
Image8 read_image_u8(const std::filesystem::path& path, ColorMode mode);
// Decodes to float on the 0..255 scale, keeping the precision of 16-bit and DICOM data.
ImageF read_image_float(const std::filesystem::path& path, ColorMode mode);

// The same from a buffer already in memory; `source_name` is used in error messages.
Image8 decode_image_u8(std::span<const std::uint8_t> bytes, std::string_view source_name, ColorMode mode);
ImageF decode_image_float(std::span<const std::uint8_t> bytes, std::string_view source_name, ColorMode mode);
// The same with explicit limits (the overloads above use DecodeLimits{}).
Image8 decode_image_u8(std::span<const std::uint8_t> bytes, std::string_view source_name, ColorMode mode,
                       const DecodeLimits& limits);
ImageF decode_image_float(std::span<const std::uint8_t> bytes, std::string_view source_name, ColorMode mode,
                          const DecodeLimits& limits);

// Encodes an 8-bit gray or RGB image as PNG bytes.
std::string encode_png(const Image8& image);
// Writes an 8-bit gray or RGB image as PNG, atomically (a reader never sees half a file); failure is an
// OutputError naming the path.
void write_png(const std::filesystem::path& path, const Image8& image);

}  // namespace chexgen
