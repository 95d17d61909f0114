#include "chexgen/radiomics/resample.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

namespace chexgen::radiomics {
namespace {

void check_plane(const ImageD& image, const Mask& mask) {
  if (image.channels != 1 || mask.channels != 1) throw std::invalid_argument("image and mask must be single-channel");
  if (image.width != mask.width || image.height != mask.height) {
    throw std::invalid_argument(
        fmt::format("image is {}x{} but mask is {}x{}", image.width, image.height, mask.width, mask.height));
  }
}

void check_pad(int pad_distance) {
  if (pad_distance < 0) throw std::invalid_argument(fmt::format("padDistance must be >= 0, got {}", pad_distance));
}

struct Box {  // inclusive pixel bounds
  int x0, y0, x1, y1;
};

Box roi_bounding_box(const Mask& mask) {
  Box box{mask.width, mask.height, -1, -1};
  for (int y = 0; y < mask.height; ++y) {
    const std::uint8_t* row = &mask.data[static_cast<std::size_t>(y) * mask.width];
    const std::uint8_t* row_end = row + mask.width;
    const auto first = std::find_if(row, row_end, [](std::uint8_t v) { return v != 0; });
    if (first == row_end) continue;
    const auto last = std::find_if(std::make_reverse_iterator(row_end), std::make_reverse_iterator(first),
                                   [](std::uint8_t v) { return v != 0; });
    box.x0 = std::min(box.x0, static_cast<int>(first - row));
    box.x1 = std::max(box.x1, static_cast<int>(last.base() - row) - 1);
    box.y0 = std::min(box.y0, y);
    box.y1 = y;
  }
  if (box.x1 < 0) throw std::invalid_argument("the mask has no ROI pixel (all zero)");
  return box;
}

template <class T>
Image<T> crop_image(const Image<T>& image, const Box& box) {
  Image<T> out(box.x1 - box.x0 + 1, box.y1 - box.y0 + 1, 1);
  for (int y = 0; y < out.height; ++y) {
    const T* src = &image.data[image.index(box.x0, box.y0 + y)];
    std::copy(src, src + out.width, &out.data[out.index(0, y)]);
  }
  return out;
}

// The cubic B-spline pole sqrt(3) - 2 (Unser 1999, Box 2), as ITK computes it.
const double kPole = std::sqrt(3.0) - 2.0;

// In-place cubic B-spline prefilter with mirror boundaries of `lanes` interleaved lines of length n: sample i of
// line l at data[i * stride + l]. `first` holds `lanes` doubles of scratch. Lanes is an int or an
// std::integral_constant, so that the row blocks get a compile-time trip count.
template <class Lanes>
void prefilter_interleaved(double* data, int n, Lanes lanes_count, std::size_t stride, double* first) {
  if (n == 1) return;  // a single sample is its own coefficient (ITK and scipy leave it unchanged)
  const int lanes = static_cast<int>(lanes_count);
  const double z = kPole;
  const double gain = (1.0 - z) * (1.0 - 1.0 / z);  // 6 for cubic splines, applied to every sample
  auto line = [&](int i) { return data + static_cast<std::size_t>(i) * stride; };

  // Causal initial value for a mirror-extended line: sum over k of z^k s[mirror(k)] over one period, i.e.
  // (s[0] + z^(n-1) s[n-1] + sum_{k=1}^{n-2} (z^k + z^(2n-2-k)) s[k]) / (1 - z^(2n-2)). Terms below z^k = 1e-30
  // are dropped (they cannot change a double sum of data of one magnitude, and would go subnormal).
  const double z_last = std::pow(z, n - 1);
  const double* last = line(n - 1);
  for (int l = 0; l < lanes; ++l) first[l] = data[l] + z_last * last[l];
  double zk = z;
  for (int k = 1; k < n - 1 && std::abs(zk) > 1e-30; ++k) {
    const double* a = line(k);
    const double* b = line(n - 1 - k);
    for (int l = 0; l < lanes; ++l) first[l] += zk * (a[l] + z_last * b[l]);
    zk *= z;
  }
  const double first_scale = gain / (1.0 - z_last * z_last);
  for (int l = 0; l < lanes; ++l) data[l] = first[l] * first_scale;

  for (int i = 1; i < n; ++i) {  // causal recursion
    double* cur = line(i);
    const double* prev = line(i - 1);
    for (int l = 0; l < lanes; ++l) cur[l] = gain * cur[l] + z * prev[l];
  }
  // Anticausal initial value for mirror boundaries (Unser 1999, Box 2, with its erratum), then the recursion.
  double* tail = line(n - 1);
  const double* before_tail = line(n - 2);
  const double factor = z / (z * z - 1.0);
  for (int l = 0; l < lanes; ++l) tail[l] = factor * (z * before_tail[l] + tail[l]);
  for (int i = n - 2; i >= 0; --i) {
    double* cur = line(i);
    const double* next = line(i + 1);
    for (int l = 0; l < lanes; ++l) cur[l] = z * (next[l] - cur[l]);
  }
}

// Where the new pixels of one axis fall in the input: continuous index (origin_mm + k * step_mm) / input_mm.
struct AxisGrid {
  int size = 0;
  double origin_mm = 0.0;
  double step_mm = 0.0;
  double input_mm = 0.0;
  double continuous_index(int k) const { return (origin_mm + k * step_mm) * (1.0 / input_mm); }
};

// resampleImage's grid along one axis: ROI [lo, lo + extent) of an axis of n pixels.
AxisGrid pyradiomics_axis_grid(int lo, int extent, int n, double input_mm, double new_mm, int pad) {
  const double ratio = input_mm / new_mm;
  double first = std::floor((lo - 0.5) * ratio - pad);
  double last = std::ceil((lo + extent - 0.5) * ratio + pad);
  const double max_last = std::ceil(n * ratio) - 1.0;
  if (first < 0) first = 0;
  if (last > max_last) last = max_last;
  const double size = last - first + 1.0;
  if (!(size >= 1.0) || size > (1 << 20)) {
    throw std::invalid_argument(
        fmt::format("resampling {} pixels of {} mm to {} mm gives {} pixels", n, input_mm, new_mm, size));
  }
  const double origin_index = 0.5 * (new_mm - input_mm) / input_mm + first / ratio;
  return AxisGrid{static_cast<int>(size), input_mm * origin_index, new_mm, input_mm};
}

// ITK's ImageFunction::IsInsideBuffer for a continuous index.
bool inside_buffer(double c, int n) { return c >= -0.5 && c < n - 0.5; }

// Mirror boundary of BSplineInterpolateImageFunction, repeated for lines shorter than the spline's support.
int mirror_index(int i, int n) {
  if (n == 1) return 0;
  const int period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

struct SplineTaps {
  bool inside = false;
  int index[4] = {0, 0, 0, 0};
  double weight[4] = {0, 0, 0, 0};
};

// The four cubic B-spline weights and mirrored coefficient indices at each new pixel of an axis (ITK's
// SetInterpolationWeights for order 3: support floor(c) - 1 .. floor(c) + 2).
std::vector<SplineTaps> spline_taps(const AxisGrid& grid, int n) {
  std::vector<SplineTaps> taps(grid.size);
  for (int k = 0; k < grid.size; ++k) {
    const double c = grid.continuous_index(k);
    SplineTaps& t = taps[k];
    t.inside = inside_buffer(c, n);
    if (!t.inside) continue;
    const double base = std::floor(c);
    const double w = c - base;
    t.weight[3] = (1.0 / 6.0) * w * w * w;
    t.weight[0] = (1.0 / 6.0) + 0.5 * w * (w - 1.0) - t.weight[3];
    t.weight[2] = w + t.weight[0] - 2.0 * t.weight[3];
    t.weight[1] = 1.0 - t.weight[0] - t.weight[2] - t.weight[3];
    for (int j = 0; j < 4; ++j) t.index[j] = mirror_index(static_cast<int>(base) - 1 + j, n);
  }
  return taps;
}

// Nearest input index of each new pixel (halves rounded up), or -1 outside the buffer.
std::vector<int> nearest_indices(const AxisGrid& grid, int n) {
  std::vector<int> nearest(grid.size);
  for (int k = 0; k < grid.size; ++k) {
    const double c = grid.continuous_index(k);
    nearest[k] = inside_buffer(c, n) ? static_cast<int>(std::floor(c + 0.5)) : -1;
  }
  return nearest;
}

// ITK prefilters the whole image (rows, then columns) and sums the 4x4 tensor-product terms at each new pixel.
// The x and y operators commute, so this does the same in another order, with less work: per row, prefilter and
// evaluate at the new x positions; then prefilter that narrower plane along y and evaluate at the new y positions.
ImageD interpolate_bspline(const ImageD& image, const AxisGrid& gx, const AxisGrid& gy) {
  const int w = image.width;
  const int h = image.height;
  const std::vector<SplineTaps> tx = spline_taps(gx, w);
  const std::vector<SplineTaps> ty = spline_taps(gy, h);
  const std::size_t nx = gx.size;

  std::vector<double> along_x(static_cast<std::size_t>(h) * nx);
  constexpr int kRows = 8;  // rows filtered together, transposed so that the recursions vectorise
  std::vector<double> block(static_cast<std::size_t>(w) * kRows);
  std::vector<double> first(std::max<std::size_t>(kRows, nx));
  for (int y0 = 0; y0 < h; y0 += kRows) {
    const int rows = std::min(kRows, h - y0);
    for (int r = 0; r < rows; ++r) {
      const double* src = &image.data[static_cast<std::size_t>(y0 + r) * w];
      for (int x = 0; x < w; ++x) block[static_cast<std::size_t>(x) * rows + r] = src[x];
    }
    if (rows == kRows) {
      prefilter_interleaved(block.data(), w, std::integral_constant<int, kRows>{}, kRows, first.data());
    } else {
      prefilter_interleaved(block.data(), w, rows, rows, first.data());
    }
    for (int r = 0; r < rows; ++r) {
      double* dst = &along_x[static_cast<std::size_t>(y0 + r) * nx];
      const double* coef = block.data() + r;
      for (std::size_t k = 0; k < nx; ++k) {
        const SplineTaps& t = tx[k];  // all weights 0 outside the image: the column stays 0 below
        dst[k] = t.weight[0] * coef[t.index[0] * rows] + t.weight[1] * coef[t.index[1] * rows] +
                 t.weight[2] * coef[t.index[2] * rows] + t.weight[3] * coef[t.index[3] * rows];
      }
    }
  }
  prefilter_interleaved(along_x.data(), h, static_cast<int>(nx), nx, first.data());

  ImageD out(gx.size, gy.size, 1);
  for (int ky = 0; ky < gy.size; ++ky) {
    const SplineTaps& t = ty[ky];
    if (!t.inside) continue;  // stays 0
    double* dst = &out.data[static_cast<std::size_t>(ky) * nx];
    const double* r0 = &along_x[t.index[0] * nx];
    const double* r1 = &along_x[t.index[1] * nx];
    const double* r2 = &along_x[t.index[2] * nx];
    const double* r3 = &along_x[t.index[3] * nx];
    for (std::size_t k = 0; k < nx; ++k) {
      dst[k] = t.weight[0] * r0[k] + t.weight[1] * r1[k] + t.weight[2] * r2[k] + t.weight[3] * r3[k];
    }
  }
  return out;
}

Mask interpolate_nearest(const Mask& mask, const AxisGrid& gx, const AxisGrid& gy) {
  const std::vector<int> ix = nearest_indices(gx, mask.width);
  const std::vector<int> iy = nearest_indices(gy, mask.height);
  Mask out(gx.size, gy.size, 1);
  for (int ky = 0; ky < gy.size; ++ky) {
    if (iy[ky] < 0) continue;
    for (int kx = 0; kx < gx.size; ++kx) {
      if (ix[kx] >= 0) out.at(kx, ky) = mask.at(ix[kx], iy[ky]);
    }
  }
  return out;
}

void check_spacing(double value, const char* what) {
  if (!std::isfinite(value) || !(value > 0.0)) {
    throw std::invalid_argument(fmt::format("{} must be a positive number of mm, got {}", what, value));
  }
}

// numpy.allclose for one pair (rtol 1e-5, atol 1e-8, relative to the second argument).
bool numpy_close(double a, double b) { return std::abs(a - b) <= 1e-8 + 1e-5 * std::abs(b); }

}  // namespace

Plane crop_to_mask(const ImageD& image, const Mask& mask, int pad_distance) {
  check_plane(image, mask);
  check_pad(pad_distance);
  Box box = roi_bounding_box(mask);
  box.x0 = std::max(box.x0 - pad_distance, 0);
  box.y0 = std::max(box.y0 - pad_distance, 0);
  box.x1 = std::min(box.x1 + pad_distance, image.width - 1);
  box.y1 = std::min(box.y1 + pad_distance, image.height - 1);
  return Plane{crop_image(image, box), crop_image(mask, box)};
}

Plane resample_like_pyradiomics(const ImageD& image, const Mask& mask, double spacing, int pad_distance,
                                double input_spacing) {
  check_plane(image, mask);
  check_pad(pad_distance);
  check_spacing(spacing, "resampled pixel spacing");
  check_spacing(input_spacing, "input pixel spacing");
  const Box box = roi_bounding_box(mask);
  const int extent_x = box.x1 - box.x0 + 1;
  const int extent_y = box.y1 - box.y0 + 1;
  // An axis on which the ROI is one pixel wide is not resampled.
  const double new_x = extent_x == 1 ? input_spacing : spacing;
  const double new_y = extent_y == 1 ? input_spacing : spacing;
  if (numpy_close(input_spacing, new_x) && numpy_close(input_spacing, new_y)) {
    return crop_to_mask(image, mask, pad_distance);
  }
  const AxisGrid gx = pyradiomics_axis_grid(box.x0, extent_x, image.width, input_spacing, new_x, pad_distance);
  const AxisGrid gy = pyradiomics_axis_grid(box.y0, extent_y, image.height, input_spacing, new_y, pad_distance);
  if (static_cast<double>(gx.size) * gy.size > (1 << 28)) {
    throw std::invalid_argument(fmt::format("resampled plane of {}x{} pixels is too large", gx.size, gy.size));
  }
  return Plane{interpolate_bspline(image, gx, gy), interpolate_nearest(mask, gx, gy)};
}

}  // namespace chexgen::radiomics
