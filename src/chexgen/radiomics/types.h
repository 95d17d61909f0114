// Data shared by the radiomics filters and feature classes.
//
// Everything is 2-D: an image is a plane of doubles, the region of interest (ROI) a plane of 0/1 flags of the
// same size. Feature classes read a Discretized plane: gray levels 1..ng inside the ROI, 0 outside, exactly as
// PyRadiomics' binImage leaves them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "chexgen/image/image.h"

namespace chexgen::radiomics {

using ImageD = Image<double>;      // one channel
using Mask = Image<std::uint8_t>;  // one channel; nonzero = inside the ROI

struct Discretized {
  int width = 0;
  int height = 0;
  std::vector<std::int32_t> levels;   // width * height, row-major; 1..ng inside the ROI, 0 outside
  int ng = 0;                         // largest level inside the ROI (PyRadiomics' Ng)
  std::vector<std::int32_t> present;  // the levels that occur inside the ROI, ascending (PyRadiomics' grayLevels)
  std::int64_t roi_count = 0;         // pixels inside the ROI

  std::int32_t at(int x, int y) const { return levels[static_cast<std::size_t>(y) * width + x]; }
};

// A feature class's output: values in the order of its names() list.
struct FeatureClassValues {
  std::span<const std::string_view> names;
  std::vector<double> values;
};

}  // namespace chexgen::radiomics
