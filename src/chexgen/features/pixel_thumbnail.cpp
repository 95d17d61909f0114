#include "chexgen/features/pixel_thumbnail.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/image/resize.h"

namespace chexgen::features {

std::vector<double> pixel_thumbnail(const Image8& gray, int side) {
  CHEXGEN_ASSERT(gray.channels == 1 && side >= 2, "pixel_thumbnail: a gray image and a side of 2 or more");
  const Image8 small = resize(gray, side, side, ResampleFilter::bilinear);
  std::vector<double> row(small.data.begin(), small.data.end());
  double sum = 0;
  for (double v : row) sum += v;
  const double mean = sum / static_cast<double>(row.size());
  double squares = 0;
  for (double& v : row) {
    v -= mean;
    squares += v * v;
  }
  if (!(squares > 0))
    throw std::invalid_argument(
        fmt::format("the {}x{} thumbnail is uniform (every pixel {}): it has no correlation "
                    "with any image",
                    side, side, static_cast<int>(small.data.front())));
  const double norm = std::sqrt(squares);
  for (double& v : row) v /= norm;
  return row;
}

Extractor pixel_thumbnail_extractor(int side) {
  Extractor x;
  x.rows.id = fmt::format("pixel-thumbnail-{}", side);
  const std::size_t n = static_cast<std::size_t>(side) * static_cast<std::size_t>(side);
  x.rows.columns.reserve(n);
  for (std::size_t i = 0; i < n; ++i) x.rows.columns.push_back("p" + std::to_string(i));
  x.rows.color = ColorMode::gray;
  x.rows.compute = [side](const Image8& image) { return pixel_thumbnail(image, side); };
  x.rows.require_finite = true;
  x.preset = ExtractorPreset::generic;
  x.name = "Pixels";
  x.outputs = {{"thumbnail", 0, n}};
  x.description = {{"thumbnail", fmt::format("{}x{} gray, Pillow bilinear, centred, unit length", side, side)}};
  return x;
}

}  // namespace chexgen::features
