#include "chexgen/radiomics/discretize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace chexgen::radiomics {
namespace {

// Python's float modulo: fmod, moved into the divisor's sign.
double python_mod(double x, double w) {
  double r = std::fmod(x, w);
  if (r != 0.0) {
    if ((w < 0.0) != (r < 0.0)) r += w;
  } else {
    r = std::copysign(0.0, w);
  }
  return r;
}

// The edges numpy.arange(low, high, w) produces, and numpy.digitize on them.
class BinEdges {
 public:
  BinEdges(double minimum, double maximum, double w) {
    low_ = minimum - python_mod(minimum, w);
    const double high = maximum + 2.0 * w;
    count_ = static_cast<std::int64_t>(std::ceil((high - low_) / w));
    second_ = low_ + w;
    delta_ = second_ - low_;
    if (count_ <= 1) {  // flat region: PyRadiomics substitutes one bin [e - 0.5, e + 0.5)
      flat_ = true;
      low_ -= 0.5;
      second_ = low_ + 1.0;
      delta_ = 1.0;
      count_ = 2;
    }
    inverse_delta_ = 1.0 / delta_;
  }

  double edge(std::int64_t i) const {
    if (i <= 0) return low_;
    if (i == 1) return second_;
    return flat_ ? low_ + static_cast<double>(i) : low_ + static_cast<double>(i) * delta_;
  }

  // Number of edges <= x: a guess from the spacing, then corrected against the edges themselves, so that the
  // result is numpy.digitize's whatever the guess's rounding.
  std::int32_t level(double x) const {
    // The guess is clamped before the conversion (which truncates towards zero: off by one below 0, which the
    // correction absorbs), so no libm floor call is needed per value.
    const double t = std::clamp((x - low_) * inverse_delta_, -1.0, static_cast<double>(count_ - 1));
    std::int64_t k = static_cast<std::int64_t>(t);  // guess: edge(k) <= x
    while (k + 1 < count_ && edge(k + 1) <= x) ++k;
    while (k >= 0 && edge(k) > x) --k;
    return static_cast<std::int32_t>(k + 1);
  }

 private:
  double low_ = 0, second_ = 0, delta_ = 1, inverse_delta_ = 1;
  std::int64_t count_ = 0;
  bool flat_ = false;
};

void require_bin_width(double w) {
  if (!(w > 0.0) || !std::isfinite(w)) throw std::invalid_argument("bin width must be a positive number");
}

}  // namespace

std::vector<std::int32_t> discretize_values(std::span<const double> values, double bin_width) {
  require_bin_width(bin_width);
  if (values.empty()) throw std::invalid_argument("cannot discretise an empty region of interest");
  double lo = values[0], hi = values[0];
  for (double v : values) {
    if (!std::isfinite(v)) throw std::invalid_argument("non-finite value inside the region of interest");
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const BinEdges edges(lo, hi, bin_width);
  std::vector<std::int32_t> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = edges.level(values[i]);
  return out;
}

Discretized discretize(const ImageD& image, const Mask& mask, double bin_width) {
  require_bin_width(bin_width);
  if (image.channels != 1 || mask.channels != 1 || image.width != mask.width || image.height != mask.height)
    throw std::invalid_argument("image and mask must be single-channel planes of the same size");
  Discretized d;
  d.width = image.width;
  d.height = image.height;
  d.levels.assign(image.data.size(), 0);
  bool any = false;
  double lo = 0, hi = 0;
  for (std::size_t i = 0; i < image.data.size(); ++i) {
    if (!mask.data[i]) continue;
    const double v = image.data[i];
    if (!std::isfinite(v)) throw std::invalid_argument("non-finite value inside the region of interest");
    if (!any) {
      lo = hi = v;
      any = true;
    } else {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    ++d.roi_count;
  }
  if (!any) throw std::invalid_argument("cannot discretise an empty region of interest");
  const BinEdges edges(lo, hi, bin_width);
  std::vector<char> seen(static_cast<std::size_t>(edges.level(hi)) + 1, 0);  // levels grow with values
  for (std::size_t i = 0; i < image.data.size(); ++i) {
    if (!mask.data[i]) continue;
    const std::int32_t level = edges.level(image.data[i]);
    d.levels[i] = level;
    seen[static_cast<std::size_t>(level)] = 1;
  }
  for (std::size_t g = 0; g < seen.size(); ++g)
    if (seen[g]) d.present.push_back(static_cast<std::int32_t>(g));
  d.ng = d.present.empty() ? 0 : d.present.back();
  return d;
}

}  // namespace chexgen::radiomics
