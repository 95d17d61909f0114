// PyRadiomics' gray level size zone matrix (GLSZM) feature class (radiomics/glszm.py and calculate_glszm in
// radiomics/src/cmatrices.c at commit 8ed5793) for a 2-D plane: zones are 8-connected (force2D) sets of ROI pixels
// of one gray level.
#pragma once

#include <span>
#include <string_view>

#include "chexgen/radiomics/texture_plane.h"
#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

// PyRadiomics' 16 GLSZM names in its output order (GrayLevelNonUniformity, GrayLevelNonUniformityNormalized, ...).
std::span<const std::string_view> glszm_feature_names();

// The features of the ROI of `d` (levels > 0; the plane need not be cropped to it). Rows of absent gray levels and
// columns of absent zone sizes are left out, gray levels enter by their values; Nz is the number of zones, Np the
// number of ROI pixels. Every feature is NaN for a one-pixel ROI, for which PyRadiomics finds no angle and gives no
// value. Throws std::invalid_argument when `d` is not consistent (sizes, levels outside d.present, empty ROI).
FeatureClassValues glszm_features(const Discretized& d);
// The same from the plane of `d` coded by rank (texture_plane(d, LevelCoding::rank, ...)), which the extractor builds
// once per image type for all texture classes.
FeatureClassValues glszm_features(const TexturePlane& ranks);

}  // namespace chexgen::radiomics
