// Format sniffing, dispatch to the per-format decoders, and the conversion of decoded samples
// to the caller's colour mode and sample type (Pillow's rules where Pillow defines them).
#include "chexgen/image/decode.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/image/decode_pvt.h"

namespace chexgen {
namespace detail {

void throw_decode_error(std::string_view source, std::string reason) {
  throw InputError(Location{std::string(source)}, std::move(reason));
}

void check_image_size(std::string_view source, std::string_view format, std::int64_t width, std::int64_t height,
                      const DecodeLimits& limits) {
  if (width <= 0 || height <= 0) {
    throw_decode_error(source, fmt::format("corrupt {}: invalid image size {} x {}", format, width, height));
  }
  if (width > limits.max_pixels / height) {
    throw_decode_error(source, fmt::format("unsupported {}: image of {} x {} pixels exceeds the limit of {} pixels "
                                           "(raise it with --max-image-pixels if the image is genuine)",
                                           format, width, height, limits.max_pixels));
  }
}

}  // namespace detail

namespace {
std::atomic<std::int64_t> g_default_max_pixels{std::int64_t{1} << 26};
}  // namespace

std::int64_t default_max_image_pixels() { return g_default_max_pixels.load(std::memory_order_relaxed); }

void set_default_max_image_pixels(std::int64_t pixels) {
  if (pixels <= 0) throw UsageError(fmt::format("the image pixel limit must be positive, got {}", pixels));
  g_default_max_pixels.store(pixels, std::memory_order_relaxed);
}

namespace {

using detail::DecodedImage;

constexpr std::array<std::uint8_t, 8> kPngSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// Pillow's 8-bit RGB -> L: ITU-R 601-2 luma in 16-bit fixed point with rounding
// (Pillow libImaging/Convert.c, L24 macro: R*19595 + G*38470 + B*7471 + 0x8000, >> 16).
std::uint8_t luma_u8(std::uint32_t r, std::uint32_t g, std::uint32_t b) {
  return static_cast<std::uint8_t>((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

// Pillow's RGB -> F: (R*299 + G*587 + B*114) / 1000 (Convert.c, rgb2f with the L macro).
float luma_f32_from_u8(std::uint32_t r, std::uint32_t g, std::uint32_t b) {
  return static_cast<float>(r * 299u + g * 587u + b * 114u) / 1000.0F;
}
float luma_f32(double r, double g, double b) { return static_cast<float>((r * 299 + g * 587 + b * 114) / 1000.0); }

// 16-bit -> 8-bit: round(v * 255 / 65535). v / 257 is never exactly halfway, so no tie rule is needed.
std::uint8_t scale_u16_to_u8(std::uint16_t v) { return static_cast<std::uint8_t>((v * 255u + 32767u) / 65535u); }
double scale_u16_to_unit255(std::uint16_t v) { return v * 255.0 / 65535.0; }
std::uint8_t round_f32_to_u8(float v) {
  const float r = std::floor(v + 0.5F);
  return static_cast<std::uint8_t>(std::clamp(r, 0.0F, 255.0F));
}

// Samples of any depth as 8-bit, channel count unchanged.
std::vector<std::uint8_t> samples_as_u8(const DecodedImage& d) {
  switch (d.depth) {
    case DecodedImage::Depth::u8: return d.samples_u8;
    case DecodedImage::Depth::u16: {
      std::vector<std::uint8_t> out(d.samples_u16.size());
      std::transform(d.samples_u16.begin(), d.samples_u16.end(), out.begin(), scale_u16_to_u8);
      return out;
    }
    case DecodedImage::Depth::f32: {
      std::vector<std::uint8_t> out(d.samples_f32.size());
      std::transform(d.samples_f32.begin(), d.samples_f32.end(), out.begin(), round_f32_to_u8);
      return out;
    }
  }
  CHEXGEN_ASSERT(false, "unknown sample depth");
}

Image8 to_u8(const DecodedImage& d, ColorMode mode) {
  const std::vector<std::uint8_t> s = samples_as_u8(d);
  const std::size_t n = static_cast<std::size_t>(d.width) * d.height;
  if (mode == ColorMode::gray) {
    Image8 out(d.width, d.height, 1);
    if (d.channels == 1) {
      out.data = s;
    } else {
      for (std::size_t i = 0; i < n; ++i) out.data[i] = luma_u8(s[3 * i], s[3 * i + 1], s[3 * i + 2]);
    }
    return out;
  }
  Image8 out(d.width, d.height, 3);
  if (d.channels == 3) {
    out.data = s;
  } else {
    for (std::size_t i = 0; i < n; ++i) out.data[3 * i] = out.data[3 * i + 1] = out.data[3 * i + 2] = s[i];
  }
  return out;
}

// Samples of any depth on the 0..255 float scale, channel count unchanged.
std::vector<double> samples_as_unit255(const DecodedImage& d) {
  std::vector<double> out;
  switch (d.depth) {
    case DecodedImage::Depth::u8: out.assign(d.samples_u8.begin(), d.samples_u8.end()); break;
    case DecodedImage::Depth::u16:
      out.resize(d.samples_u16.size());
      std::transform(d.samples_u16.begin(), d.samples_u16.end(), out.begin(), scale_u16_to_unit255);
      break;
    case DecodedImage::Depth::f32: out.assign(d.samples_f32.begin(), d.samples_f32.end()); break;
  }
  return out;
}

ImageF to_float(const DecodedImage& d, ColorMode mode) {
  const std::size_t n = static_cast<std::size_t>(d.width) * d.height;
  ImageF out(d.width, d.height, mode == ColorMode::gray ? 1 : 3);
  if (mode == ColorMode::gray && d.channels == 3) {
    if (d.depth == DecodedImage::Depth::u8) {
      const auto& s = d.samples_u8;
      for (std::size_t i = 0; i < n; ++i) out.data[i] = luma_f32_from_u8(s[3 * i], s[3 * i + 1], s[3 * i + 2]);
    } else {
      const std::vector<double> s = samples_as_unit255(d);
      for (std::size_t i = 0; i < n; ++i) out.data[i] = luma_f32(s[3 * i], s[3 * i + 1], s[3 * i + 2]);
    }
    return out;
  }
  const std::vector<double> s = samples_as_unit255(d);
  if (out.channels == d.channels) {
    std::transform(s.begin(), s.end(), out.data.begin(), [](double v) { return static_cast<float>(v); });
  } else {  // gray -> RGB: replicate
    for (std::size_t i = 0; i < n; ++i) {
      out.data[3 * i] = out.data[3 * i + 1] = out.data[3 * i + 2] = static_cast<float>(s[i]);
    }
  }
  return out;
}

DecodedImage decode_any(std::span<const std::uint8_t> bytes, std::string_view source, const DecodeLimits& limits) {
  if (limits.max_pixels <= 0) throw UsageError("DecodeLimits::max_pixels must be positive");
  if (bytes.empty()) detail::throw_decode_error(source, "empty file (0 bytes), not an image");
  DecodedImage d;
  switch (sniff_image_format(bytes)) {
    case ImageFormat::png: d = detail::decode_png(bytes, source, limits); break;
    case ImageFormat::jpeg: d = detail::decode_jpeg(bytes, source, limits); break;
    case ImageFormat::dicom: d = detail::decode_dicom(bytes, source, limits); break;
    case ImageFormat::unknown: {
      std::string head;
      for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i) {
        head += fmt::format("{}{:02x}", i == 0 ? "" : " ", bytes[i]);
      }
      detail::throw_decode_error(source,
                                 fmt::format("unknown image format (not PNG, JPEG or DICOM with a 'DICM' preamble): "
                                             "file of {} bytes starts with {}",
                                             bytes.size(), head));
    }
  }
  CHEXGEN_ASSERT(d.channels == 1 || d.channels == 3, "decoder returned an unexpected channel count");
  return d;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string read_image_file(const std::filesystem::path& path) {
  return read_file_bytes(path);  // a missing, unreadable or non-regular file is an InputError naming the path
}

}  // namespace

ImageFormat sniff_image_format(std::span<const std::uint8_t> bytes) {
  // A prefix of the PNG signature counts as PNG, so that a cut-off PNG is reported as truncated.
  const std::size_t png_n = std::min(bytes.size(), kPngSignature.size());
  if (png_n > 0 && std::equal(bytes.begin(), bytes.begin() + png_n, kPngSignature.begin())) return ImageFormat::png;
  if (bytes.size() >= 132 && std::memcmp(bytes.data() + 128, "DICM", 4) == 0) return ImageFormat::dicom;
  if (bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8) return ImageFormat::jpeg;  // SOI marker
  return ImageFormat::unknown;
}

Image8 decode_image_u8(std::span<const std::uint8_t> bytes, std::string_view source_name, ColorMode mode,
                       const DecodeLimits& limits) {
  return to_u8(decode_any(bytes, source_name, limits), mode);
}

ImageF decode_image_float(std::span<const std::uint8_t> bytes, std::string_view source_name, ColorMode mode,
                          const DecodeLimits& limits) {
  return to_float(decode_any(bytes, source_name, limits), mode);
}

Image8 decode_image_u8(std::span<const std::uint8_t> bytes, std::string_view source_name, ColorMode mode) {
  return decode_image_u8(bytes, source_name, mode, DecodeLimits{});
}

ImageF decode_image_float(std::span<const std::uint8_t> bytes, std::string_view source_name, ColorMode mode) {
  return decode_image_float(bytes, source_name, mode, DecodeLimits{});
}

Image8 read_image_u8(const std::filesystem::path& path, ColorMode mode) {
  const std::string bytes = read_image_file(path);
  return decode_image_u8(as_bytes(bytes), path.string(), mode);
}

ImageF read_image_float(const std::filesystem::path& path, ColorMode mode) {
  const std::string bytes = read_image_file(path);
  return decode_image_float(as_bytes(bytes), path.string(), mode);
}

}  // namespace chexgen
