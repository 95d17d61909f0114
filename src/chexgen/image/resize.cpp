// Pillow-compatible resizing; see resize.h and docs/resize.md. The reference is Pillow 9.4.0:
// src/_imaging.c `_resize`, src/libImaging/Resample.c (`precompute_coeffs`, `normalize_coeffs_8bpc`,
// `ImagingResampleHorizontal/Vertical_8bpc/_32bpc`, `ImagingResampleInner`) and
// src/libImaging/Geometry.c (`ImagingScaleAffine`, used for NEAREST). Floating-point expressions are
// written in the same order as there, so that results are bit-identical.
#include "chexgen/image/resize.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/image/decode.h"

namespace chexgen {

namespace {

// ---------------------------------------------------------------- filters (Resample.c)

double bilinear_kernel(double x) {  // bilinear_filter: triangle, support 1
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

double bicubic_kernel(double x) {  // bicubic_filter: Keys cubic convolution, a = -0.5, support 2
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc(double x) {  // sinc_filter
  if (x == 0.0) return 1.0;
  x = x * std::numbers::pi;
  return std::sin(x) / x;
}

double lanczos_kernel(double x) {  // lanczos_filter: sinc windowed by sinc(x / 3), support 3
  if (-3.0 <= x && x < 3.0) return sinc(x) * sinc(x / 3);
  return 0.0;
}

struct ConvolutionFilter {
  double (*kernel)(double) = nullptr;
  double support = 0.0;  // half-width at scale 1, in source pixels
};

ConvolutionFilter convolution_filter(ResampleFilter filter) {
  switch (filter) {
    case ResampleFilter::bilinear: return {bilinear_kernel, 1.0};
    case ResampleFilter::bicubic: return {bicubic_kernel, 2.0};
    case ResampleFilter::lanczos: return {lanczos_kernel, 3.0};
    case ResampleFilter::nearest: break;
  }
  CHEXGEN_ASSERT(false, "nearest is not a convolution filter");
}

// ---------------------------------------------------------------- coefficients (precompute_coeffs)

// The taps of one axis: output index i reads `count[i]` source pixels from `first[i]` on, with
// weights `weights[i * taps_max + t]`.
struct AxisTaps {
  int taps_max = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<double> weights;
};

// precompute_coeffs with the default box (in0 = 0, in1 = in_size). The filter is stretched by the
// downscale factor (antialiasing) and each output pixel's weights are normalised to sum to 1.
AxisTaps precompute_taps(int in_size, int out_size, const ConvolutionFilter& filter) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter.support * filter_scale;
  const double inverse_filter_scale = 1.0 / filter_scale;

  AxisTaps taps;
  taps.taps_max = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(static_cast<std::size_t>(out_size) * taps.taps_max, 0.0);
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    // (int) truncates toward zero, as in Pillow; a negative value is clamped to 0 right after.
    const int first = std::max(static_cast<int>(center - support + 0.5), 0);
    const int last = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int count = last - first;
    double* w = &taps.weights[static_cast<std::size_t>(i) * taps.taps_max];
    double sum = 0.0;
    for (int t = 0; t < count; ++t) {
      w[t] = filter.kernel((static_cast<double>(t + first) - center + 0.5) * inverse_filter_scale);
      sum += w[t];
    }
    if (sum != 0.0) {
      for (int t = 0; t < count; ++t) w[t] /= sum;
    }
    taps.first[i] = first;
    taps.count[i] = count;
  }
  return taps;
}

// ---------------------------------------------------------------- sample arithmetic

// 8-bit: weights in fixed point with PRECISION_BITS = 22 fractional bits (normalize_coeffs_8bpc),
// integer sums started at one half, shifted back and clipped to 0..255 (clip8).
struct FixedPoint8 {
  using Sample = std::uint8_t;
  using Weight = std::int32_t;
  using Sum = std::int32_t;  // as Pillow's int: |sum| < 2^31 for every filter here
  static constexpr int precision_bits = 32 - 8 - 2;

  static Weight weight(double w) {
    const double scaled = w * (1 << precision_bits);
    return static_cast<Weight>(w < 0 ? -0.5 + scaled : 0.5 + scaled);
  }
  static Sum start() { return Sum{1} << (precision_bits - 1); }
  static Sum add(Sum sum, Sample s, Weight w) { return sum + static_cast<Sum>(s) * w; }
  static Sample finish(Sum sum) {
    return static_cast<Sample>(std::clamp(sum >> precision_bits, 0, 255));  // arithmetic shift = floor
  }
};

// Float ('F'): double weights and sums, each pass rounded to float (ImagingResample*_32bpc).
struct Float32 {
  using Sample = float;
  using Weight = double;
  using Sum = double;

  static Weight weight(double w) { return w; }
  static Sum start() { return 0.0; }
  static Sum add(Sum sum, Sample s, Weight w) { return sum + s * w; }
  static Sample finish(Sum sum) { return static_cast<Sample>(sum); }
};

template <class Arith>
std::vector<typename Arith::Weight> convert_weights(const AxisTaps& taps) {
  std::vector<typename Arith::Weight> out(taps.weights.size());
  std::transform(taps.weights.begin(), taps.weights.end(), out.begin(), Arith::weight);
  return out;
}

// ---------------------------------------------------------------- the two passes

// One output row of the horizontal pass, `Channels` samples per pixel (0: `channels` at run time).
// The sums of a pixel's channels run side by side; each runs over the taps in order, as in Pillow.
template <class Arith, int Channels>
void resample_row(const typename Arith::Sample* src, typename Arith::Sample* dst, int channels, const AxisTaps& taps,
                  const std::vector<typename Arith::Weight>& weights) {
  if constexpr (Channels > 0) channels = Channels;
  constexpr int max_channels = Channels > 0 ? Channels : 1;
  const int out_width = static_cast<int>(taps.first.size());
  for (int x = 0; x < out_width; ++x) {
    const auto* w = &weights[static_cast<std::size_t>(x) * taps.taps_max];
    const auto* first = src + static_cast<std::size_t>(taps.first[x]) * channels;
    auto* out = dst + static_cast<std::size_t>(x) * channels;
    if constexpr (Channels > 0) {
      std::array<typename Arith::Sum, max_channels> sums;
      sums.fill(Arith::start());
      for (int t = 0; t < taps.count[x]; ++t) {
        for (int c = 0; c < Channels; ++c) sums[c] = Arith::add(sums[c], first[t * Channels + c], w[t]);
      }
      for (int c = 0; c < Channels; ++c) out[c] = Arith::finish(sums[c]);
    } else {
      for (int c = 0; c < channels; ++c) {
        auto sum = Arith::start();
        for (int t = 0; t < taps.count[x]; ++t) sum = Arith::add(sum, first[t * channels + c], w[t]);
        out[c] = Arith::finish(sum);
      }
    }
  }
}

// Horizontal pass over source rows [row_begin, row_end): output row r is source row row_begin + r.
template <class Arith>
Image<typename Arith::Sample> resample_horizontal(const Image<typename Arith::Sample>& in, const AxisTaps& taps,
                                                  int row_begin, int row_end) {
  const auto weights = convert_weights<Arith>(taps);
  const int channels = in.channels;
  Image<typename Arith::Sample> out(static_cast<int>(taps.first.size()), row_end - row_begin, channels);
  for (int y = row_begin; y < row_end; ++y) {
    const auto* src = &in.data[in.index(0, y)];
    auto* dst = &out.data[out.index(0, y - row_begin)];
    switch (channels) {
      case 1: resample_row<Arith, 1>(src, dst, channels, taps, weights); break;
      case 3: resample_row<Arith, 3>(src, dst, channels, taps, weights); break;
      default: resample_row<Arith, 0>(src, dst, channels, taps, weights); break;
    }
  }
  return out;
}

// Vertical pass: output row y blends source rows taps.first[y] - row_offset onwards. Each sample's
// sum runs over the taps in order, as in Pillow, but a whole row at a time.
template <class Arith>
Image<typename Arith::Sample> resample_vertical(const Image<typename Arith::Sample>& in, const AxisTaps& taps,
                                                int row_offset) {
  using Sample = typename Arith::Sample;
  const auto weights = convert_weights<Arith>(taps);
  const int out_height = static_cast<int>(taps.first.size());
  const std::size_t row_length = static_cast<std::size_t>(in.width) * in.channels;
  Image<Sample> out(in.width, out_height, in.channels);
  std::vector<typename Arith::Sum> sums(row_length);
  for (int y = 0; y < out_height; ++y) {
    const auto* w = &weights[static_cast<std::size_t>(y) * taps.taps_max];
    std::fill(sums.begin(), sums.end(), Arith::start());
    for (int t = 0; t < taps.count[y]; ++t) {
      const Sample* src = &in.data[in.index(0, taps.first[y] - row_offset + t)];
      for (std::size_t i = 0; i < row_length; ++i) sums[i] = Arith::add(sums[i], src[i], w[t]);
    }
    Sample* dst = &out.data[out.index(0, y)];
    for (std::size_t i = 0; i < row_length; ++i) dst[i] = Arith::finish(sums[i]);
  }
  return out;
}

// ImagingResampleInner: horizontal pass first (only on the source rows the vertical pass will
// read), then vertical; a pass whose size is unchanged is skipped.
template <class Arith>
Image<typename Arith::Sample> resample_convolution(const Image<typename Arith::Sample>& in, int width, int height,
                                                   const ConvolutionFilter& filter) {
  const bool need_horizontal = width != in.width;
  const bool need_vertical = height != in.height;
  const AxisTaps vertical = precompute_taps(in.height, height, filter);
  const int row_begin = vertical.first.front();
  const int row_end = vertical.first.back() + vertical.count.back();

  if (need_horizontal) {
    const AxisTaps horizontal = precompute_taps(in.width, width, filter);
    auto rows = resample_horizontal<Arith>(in, horizontal, row_begin, row_end);
    return need_vertical ? resample_vertical<Arith>(rows, vertical, row_begin) : rows;
  }
  if (need_vertical) return resample_vertical<Arith>(in, vertical, 0);
  return in;
}

// ---------------------------------------------------------------- nearest (ImagingScaleAffine)

// Source index of every output index: the position of the output pixel's centre, accumulated step
// by step as Pillow does (xo = a[2] + a[0] * 0.5; xo += a[0]), truncated. Indices outside the
// source (impossible in practice, but Pillow fills them with 0) are -1.
std::vector<int> nearest_indices(int in_size, int out_size) {
  const double step = static_cast<double>(in_size) / out_size;
  std::vector<int> index(out_size);
  double position = 0.0 + step * 0.5;
  for (int i = 0; i < out_size; ++i) {
    const int source = position < 0.0 ? -1 : static_cast<int>(position);  // COORD()
    index[i] = source < in_size ? source : -1;
    position += step;
  }
  return index;
}

template <class T>
Image<T> resample_nearest(const Image<T>& in, int width, int height) {
  const auto columns = nearest_indices(in.width, width);
  const auto rows = nearest_indices(in.height, height);
  Image<T> out(width, height, in.channels);  // zero-filled, as Pillow's fill = 1
  for (int y = 0; y < height; ++y) {
    if (rows[y] < 0) continue;
    const T* src = &in.data[in.index(0, rows[y])];
    T* dst = &out.data[out.index(0, y)];
    for (int x = 0; x < width; ++x) {
      if (columns[x] < 0) continue;
      std::copy_n(src + static_cast<std::size_t>(columns[x]) * in.channels, in.channels,
                  dst + static_cast<std::size_t>(x) * in.channels);
    }
  }
  return out;
}

// ---------------------------------------------------------------- checks and dispatch

template <class T>
void check_resize_arguments(const Image<T>& image, int width, int height) {
  if (image.width <= 0 || image.height <= 0 || image.channels <= 0) {
    throw UsageError(
        fmt::format("cannot resize an empty image ({}x{}, {} channels)", image.width, image.height, image.channels));
  }
  CHEXGEN_ASSERT(image.data.size() == static_cast<std::size_t>(image.width) * image.height * image.channels,
                 "image data size does not match width * height * channels");
  if (width < 1 || height < 1 || width > max_resize_side_px || height > max_resize_side_px) {
    throw UsageError(
        fmt::format("invalid output size {}x{}: width and height must be 1..{}", width, height, max_resize_side_px));
  }
  check_output_pixels(width, height);
}

template <class Arith>
Image<typename Arith::Sample> resize_pillow(const Image<typename Arith::Sample>& image, int width, int height,
                                            ResampleFilter filter) {
  check_resize_arguments(image, width, height);
  // Image.resize returns a copy when the size is unchanged (and the box is the whole image).
  if (width == image.width && height == image.height) return image;
  // _resize: NEAREST goes through the affine transform, every other filter through ImagingResample.
  if (filter == ResampleFilter::nearest) return resample_nearest(image, width, height);
  return resample_convolution<Arith>(image, width, height, convolution_filter(filter));
}

// ATen upsample_bilinear2d, align_corners = false, no scale factor given: per output index the
// two source indices and weights (area_pixel_compute_scale, area_pixel_compute_source_index and
// compute_indices_weights_linear), computed in float as ATen does for float tensors.
struct LinearTap {
  int index0 = 0;
  int index1 = 0;
  float lambda0 = 1.0F;
  float lambda1 = 0.0F;
};

std::vector<LinearTap> torch_linear_taps(int in_size, int out_size) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  std::vector<LinearTap> taps(out_size);
  for (int i = 0; i < out_size; ++i) {
    const float source = std::max(scale * (static_cast<float>(i) + 0.5F) - 0.5F, 0.0F);
    LinearTap& tap = taps[i];
    tap.index0 = std::min(static_cast<int>(source), in_size - 1);
    tap.index1 = std::min(tap.index0 + 1, in_size - 1);
    tap.lambda1 = std::clamp(source - static_cast<float>(tap.index0), 0.0F, 1.0F);
    tap.lambda0 = 1.0F - tap.lambda1;
  }
  return taps;
}

}  // namespace

ResampleFilter parse_resample_filter(std::string_view name) {
  for (const auto filter :
       {ResampleFilter::nearest, ResampleFilter::bilinear, ResampleFilter::bicubic, ResampleFilter::lanczos}) {
    if (name == resample_filter_name(filter)) return filter;
  }
  throw UsageError(
      fmt::format("unknown resampling filter '{}' (expected nearest, bilinear, bicubic or lanczos)", name));
}

std::string_view resample_filter_name(ResampleFilter filter) {
  switch (filter) {
    case ResampleFilter::nearest: return "nearest";
    case ResampleFilter::bilinear: return "bilinear";
    case ResampleFilter::bicubic: return "bicubic";
    case ResampleFilter::lanczos: return "lanczos";
  }
  CHEXGEN_ASSERT(false, "unhandled ResampleFilter");
}

ImageSize parse_image_size(std::string_view text) {
  const auto fail = [&]() -> UsageError {
    return UsageError(
        fmt::format("invalid image size '{}': expected W or WxH with whole numbers 1..{}, "
                    "e.g. 256 or 299x299",
                    text, max_resize_side_px));
  };
  const auto parse_side = [&](std::string_view part) {
    int value = 0;
    const auto* end = part.data() + part.size();
    const auto [ptr, ec] = std::from_chars(part.data(), end, value);
    if (part.empty() || part.front() == '-' || part.front() == '+' || ec != std::errc{} || ptr != end || value < 1 ||
        value > max_resize_side_px) {
      throw fail();
    }
    return value;
  };
  const auto x = text.find('x');
  ImageSize size;
  if (x == std::string_view::npos) {
    size.width = size.height = parse_side(text);
  } else {
    size = {parse_side(text.substr(0, x)), parse_side(text.substr(x + 1))};
  }
  check_output_pixels(size.width, size.height);
  return size;
}

void check_output_pixels(int width, int height) {
  const std::int64_t pixels = std::int64_t{width} * height;
  if (pixels > default_max_image_pixels()) {
    throw UsageError(fmt::format("image size {}x{} ({} pixels) exceeds the image pixel limit of {} "
                                 "(--max-image-pixels)",
                                 width, height, pixels, default_max_image_pixels()));
  }
}

Image8 resize(const Image8& image, int width, int height, ResampleFilter filter) {
  return resize_pillow<FixedPoint8>(image, width, height, filter);
}

ImageF resize(const ImageF& image, int width, int height, ResampleFilter filter) {
  return resize_pillow<Float32>(image, width, height, filter);
}

ImageF resize_bilinear_torch(const ImageF& image, int width, int height) {
  check_resize_arguments(image, width, height);
  const auto columns = torch_linear_taps(image.width, width);
  const auto rows = torch_linear_taps(image.height, height);
  const int channels = image.channels;

  // Horizontal first, then vertical: out = h0 * (w0 * p00 + w1 * p01) + h1 * (w0 * p10 + w1 * p11),
  // the order of ATen's 2-D linear kernel.
  ImageF horizontal(width, image.height, channels);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < width; ++x) {
      const LinearTap& tap = columns[x];
      for (int c = 0; c < channels; ++c) {
        horizontal.at(x, y, c) = tap.lambda0 * image.at(tap.index0, y, c) + tap.lambda1 * image.at(tap.index1, y, c);
      }
    }
  }
  ImageF out(width, height, channels);
  const std::size_t row_length = static_cast<std::size_t>(width) * channels;
  for (int y = 0; y < height; ++y) {
    const LinearTap& tap = rows[y];
    const float* row0 = &horizontal.data[horizontal.index(0, tap.index0)];
    const float* row1 = &horizontal.data[horizontal.index(0, tap.index1)];
    float* dst = &out.data[out.index(0, y)];
    for (std::size_t i = 0; i < row_length; ++i) dst[i] = tap.lambda0 * row0[i] + tap.lambda1 * row1[i];
  }
  return out;
}

}  // namespace chexgen
