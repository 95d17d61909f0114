#include "chexgen/radiomics/log_filter.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "chexgen/core/numeric.h"

namespace chexgen::radiomics {
namespace {

void check_positive(double value, const char* what) {
  if (!std::isfinite(value) || !(value > 0.0)) {
    throw std::invalid_argument(fmt::format("{} must be a positive number of mm, got {}", what, value));
  }
}

struct Kernels {
  int radius = 0;
  std::vector<double> smooth;  // 2 * radius + 1 taps, offset -radius .. radius
  std::vector<double> second;  // its second derivative
};

// scipy.ndimage's _gaussian_kernel1d for orders 0 and 2 (truncate 4.0).
Kernels gaussian_kernels(double sigma) {
  Kernels k;
  k.radius = static_cast<int>(4.0 * sigma + 0.5);
  const int taps = 2 * k.radius + 1;
  const double sigma2 = sigma * sigma;
  k.smooth.resize(taps);
  double sum = 0.0;
  for (int t = 0; t < taps; ++t) {
    const double x = t - k.radius;
    k.smooth[t] = std::exp(-0.5 / sigma2 * x * x);
    sum += k.smooth[t];
  }
  for (double& v : k.smooth) v /= sum;
  k.second.resize(taps);
  for (int t = 0; t < taps; ++t) {
    const double x = t - k.radius;
    k.second[t] = (x * x / (sigma2 * sigma2) - 1.0 / sigma2) * k.smooth[t];
  }
  return k;
}

// Correlation of every row with a symmetric kernel of `radius`, reflect boundary.
ImageD filter_rows(const ImageD& in, const std::vector<double>& kernel, int radius) {
  const int w = in.width;
  ImageD out(w, in.height, 1);
  std::vector<double> ext(static_cast<std::size_t>(w) + 2 * radius);
  for (int y = 0; y < in.height; ++y) {
    const double* row = &in.data[in.index(0, y)];
    for (std::size_t j = 0; j < ext.size(); ++j) ext[j] = row[reflect_index(static_cast<int>(j) - radius, w)];
    double* dst = &out.data[out.index(0, y)];
    for (std::size_t t = 0; t < kernel.size(); ++t) {
      const double c = kernel[t];
      const double* src = &ext[t];
      for (int x = 0; x < w; ++x) dst[x] += c * src[x];
    }
  }
  return out;
}

// The same along columns.
ImageD filter_columns(const ImageD& in, const std::vector<double>& kernel, int radius) {
  const int w = in.width;
  const int h = in.height;
  ImageD out(w, h, 1);
  for (int y = 0; y < h; ++y) {
    double* dst = &out.data[out.index(0, y)];
    for (std::size_t t = 0; t < kernel.size(); ++t) {
      const double c = kernel[t];
      const double* src = &in.data[in.index(0, reflect_index(y + static_cast<int>(t) - radius, h))];
      for (int x = 0; x < w; ++x) dst[x] += c * src[x];
    }
  }
  return out;
}

// Python's repr of a float (shortest round-trip digits; exponent form below 1e-4 and from 1e16 on).
std::string python_float_repr(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  const std::string sci(buffer, result.ptr);  // e.g. "-1.25e+00"
  const std::size_t e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  const int exponent = std::stoi(sci.substr(e + 1));
  std::string sign;
  if (!mantissa.empty() && mantissa[0] == '-') {
    sign = "-";
    mantissa.erase(0, 1);
  }
  std::string digits = mantissa;
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  if (exponent < -4 || exponent >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    return out + fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  }
  if (exponent < 0) return sign + "0." + std::string(-exponent - 1, '0') + digits;
  const std::size_t int_digits = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= int_digits) return sign + digits + std::string(int_digits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

}  // namespace

ImageD laplacian_of_gaussian(const ImageD& image, double sigma_mm, double spacing) {
  if (image.channels != 1) throw std::invalid_argument("the LoG filter needs a single-channel image");
  if (image.empty()) throw std::invalid_argument("the LoG filter needs a non-empty image");
  check_positive(sigma_mm, "LoG sigma");
  check_positive(spacing, "pixel spacing");
  const double sigma = sigma_mm / spacing;
  if (!(4.0 * sigma + 0.5 < (1 << 20))) {
    throw std::invalid_argument(
        fmt::format("LoG sigma {} mm at {} mm per pixel needs a kernel of over 2^21 taps", sigma_mm, spacing));
  }
  const Kernels k = gaussian_kernels(sigma);
  // scipy's generic_laplace: the second derivative along axis 0 (y), then along axis 1 (x) added to it; each a
  // gaussian_filter that runs its 1-D passes over y first, then x.
  ImageD out = filter_rows(filter_columns(image, k.second, k.radius), k.smooth, k.radius);
  const ImageD along_x = filter_rows(filter_columns(image, k.smooth, k.radius), k.second, k.radius);
  for (std::size_t i = 0; i < out.data.size(); ++i) out.data[i] += along_x.data[i];
  return out;
}

std::string log_image_type_name(double sigma_mm) {
  check_positive(sigma_mm, "LoG sigma");
  std::string sigma = python_float_repr(sigma_mm);
  std::replace(sigma.begin(), sigma.end(), '.', '-');
  return "log-sigma-" + sigma + "-mm-2D";
}

}  // namespace chexgen::radiomics
