// PyRadiomics' first-order feature class (radiomics/firstorder.py at commit 8ed5793): intensity statistics of the
// ROI pixels, value for value as numpy computes them (pairwise summation, nanpercentile's linear method, median).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

struct FirstOrderSettings {
  double voxel_array_shift = 0;  // voxelArrayShift: added to every value in Energy, TotalEnergy, RootMeanSquared
  double voxel_volume = 1;       // mm^3 per pixel (the product of the spacing), the factor of TotalEnergy
};

// PyRadiomics' 18 non-deprecated first-order names in its output order (10Percentile, 90Percentile, Energy, ...).
std::span<const std::string_view> firstorder_feature_names();

// The features of the ROI pixels `roi_values` (any order) whose discretised levels (>= 1, PyRadiomics' binImage
// output) are `roi_levels`, one per value. Throws std::invalid_argument for an empty ROI, sizes that differ, a
// level below 1 or a non-finite value.
FeatureClassValues firstorder_features(std::span<const double> roi_values, std::span<const std::int32_t> roi_levels,
                                       const FirstOrderSettings& settings);

// The same over the pixels of `image` where d.levels > 0, in row-major order.
FeatureClassValues firstorder_features(const ImageD& image, const Discretized& d, const FirstOrderSettings& settings);

}  // namespace chexgen::radiomics
