#include "chexgen/image/filters.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <type_traits>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/numeric.h"
#include "chexgen/image/resize.h"

namespace chexgen {
namespace {

// One channel of a separable blur, in double: rows first, then columns.
template <class T>
std::vector<double> blur_channel(const Image<T>& image, int channel, const std::vector<double>& kernel) {
  const int w = image.width, h = image.height;
  const int radius = static_cast<int>(kernel.size() / 2);
  std::vector<double> row_pass(static_cast<std::size_t>(w) * h);
  std::vector<int> taps_x(static_cast<std::size_t>(w + 2 * radius));
  for (int i = 0; i < w + 2 * radius; ++i) taps_x[i] = reflect_index(i - radius, w);
  std::vector<int> taps_y(static_cast<std::size_t>(h + 2 * radius));
  for (int i = 0; i < h + 2 * radius; ++i) taps_y[i] = reflect_index(i - radius, h);

  std::vector<double> line(static_cast<std::size_t>(w + 2 * radius));
  for (int y = 0; y < h; ++y) {
    for (int i = 0; i < w + 2 * radius; ++i) line[i] = static_cast<double>(image.at(taps_x[i], y, channel));
    for (int x = 0; x < w; ++x) {
      double sum = 0;
      for (std::size_t k = 0; k < kernel.size(); ++k) sum += kernel[k] * line[x + k];
      row_pass[static_cast<std::size_t>(y) * w + x] = sum;
    }
  }
  std::vector<double> out(static_cast<std::size_t>(w) * h);
  std::vector<double> column(static_cast<std::size_t>(h + 2 * radius));
  for (int x = 0; x < w; ++x) {
    for (int i = 0; i < h + 2 * radius; ++i) column[i] = row_pass[static_cast<std::size_t>(taps_y[i]) * w + x];
    for (int y = 0; y < h; ++y) {
      double sum = 0;
      for (std::size_t k = 0; k < kernel.size(); ++k) sum += kernel[k] * column[y + k];
      out[static_cast<std::size_t>(y) * w + x] = sum;
    }
  }
  return out;
}

std::uint8_t to_u8(double v) {
  const double r = std::floor(v + 0.5);
  return static_cast<std::uint8_t>(std::clamp(r, 0.0, 255.0));
}

}  // namespace

std::vector<double> gaussian_kernel(double sigma, double truncate) {
  if (!(sigma > 0)) return {1.0};
  const int radius = static_cast<int>(truncate * sigma + 0.5);
  std::vector<double> k(static_cast<std::size_t>(2 * radius + 1));
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) {
    k[i + radius] = std::exp(-0.5 * i * i / (sigma * sigma));
    sum += k[i + radius];
  }
  for (double& v : k) v /= sum;
  return k;
}

namespace {

// Both pixel types blur the same way, in double; only the final store differs (float as is, 8 bits rounded).
template <class T>
Image<T> blur_image(const Image<T>& image, double sigma, double truncate) {
  if (!(sigma > 0) || image.empty()) return image;
  const auto kernel = gaussian_kernel(sigma, truncate);
  Image<T> out(image.width, image.height, image.channels);
  for (int c = 0; c < image.channels; ++c) {
    const auto plane = blur_channel(image, c, kernel);
    for (std::size_t i = 0; i < plane.size(); ++i) {
      if constexpr (std::is_same_v<T, float>)
        out.data[i * image.channels + c] = static_cast<float>(plane[i]);
      else
        out.data[i * image.channels + c] = to_u8(plane[i]);
    }
  }
  return out;
}

}  // namespace

ImageF gaussian_blur(const ImageF& image, double sigma, double truncate) { return blur_image(image, sigma, truncate); }

Image8 gaussian_blur(const Image8& image, double sigma, double truncate) { return blur_image(image, sigma, truncate); }

Image8 add_gaussian_noise(const Image8& image, double sd, std::uint64_t seed, std::uint64_t stream) {
  std::mt19937_64 engine(splitmix64(seed ^ splitmix64(stream)));  // unrelated seeds for (seed, stream) pairs
  constexpr double two_pow_53 = 9007199254740992.0;
  Image8 out = image;
  // Box-Muller: each pair of uniforms gives two independent standard normals.
  for (std::size_t i = 0; i < out.data.size(); i += 2) {
    const double u1 = static_cast<double>((engine() >> 11) + 1) / two_pow_53;  // (0, 1]: log is finite
    const double u2 = static_cast<double>(engine() >> 11) / two_pow_53;        // [0, 1)
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    out.data[i] = to_u8(image.data[i] + sd * r * std::cos(angle));
    if (i + 1 < out.data.size()) out.data[i + 1] = to_u8(image.data[i + 1] + sd * r * std::sin(angle));
  }
  return out;
}

Image8 down_up(const Image8& image, int factor) {
  if (factor < 1) throw UsageError(fmt::format("down-up factor must be 1 or more, got {}", factor));
  if (factor == 1) return image;
  const Image8 small =
      resize(image, std::max(1, image.width / factor), std::max(1, image.height / factor), ResampleFilter::bilinear);
  return resize(small, image.width, image.height, ResampleFilter::bilinear);
}

Image8 rotate_nearest(const Image8& image, double degrees, std::uint8_t fill) {
  Image8 out(image.width, image.height, image.channels);
  const double angle = degrees * std::numbers::pi / 180.0, c = std::cos(angle), s = std::sin(angle);
  const double cx = image.width / 2.0, cy = image.height / 2.0;
  const int channels = image.channels;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      // The output pixel's centre, rotated back (clockwise in image coordinates, whose y axis points down).
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const double sx = c * dx - s * dy + cx, sy = s * dx + c * dy + cy;
      const int ix = static_cast<int>(std::floor(sx)), iy = static_cast<int>(std::floor(sy));
      const bool inside = ix >= 0 && iy >= 0 && ix < image.width && iy < image.height;
      for (int ch = 0; ch < channels; ++ch)
        out.data[(static_cast<std::size_t>(y) * image.width + x) * channels + ch] =
            inside ? image.data[(static_cast<std::size_t>(iy) * image.width + ix) * channels + ch] : fill;
    }
  return out;
}

}  // namespace chexgen
