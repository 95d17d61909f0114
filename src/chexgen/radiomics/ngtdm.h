// PyRadiomics' neighbouring gray tone difference matrix (NGTDM) feature class (radiomics/ngtdm.py and
// calculate_ngtdm in radiomics/src/cmatrices.c at commit 8ed5793) for a 2-D plane: the 3x3 neighbourhood (distance
// 1, force2D).
#pragma once

#include <span>
#include <string_view>

#include "chexgen/radiomics/texture_plane.h"
#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

// PyRadiomics' 5 NGTDM names in its output order (Busyness, Coarseness, Complexity, Contrast, Strength).
std::span<const std::string_view> ngtdm_feature_names();

// The features of the ROI of `d` (levels > 0; the plane need not be cropped to it). A pixel's neighbourhood average
// is taken over its neighbours inside the ROI; a pixel without any counts with difference 0 (n_i still counts it).
// PyRadiomics' fallbacks: Coarseness 10^6 when sum p_i s_i is 0; Contrast 0 and Busyness 0 for a single gray level
// (Ngp == 1, or a zero denominator); Strength 0 when sum s_i is 0. Every feature is NaN for a one-pixel ROI, for
// which PyRadiomics finds no angle and gives no value. Throws std::invalid_argument when `d` is not consistent
// (sizes, levels outside d.present, empty ROI).
FeatureClassValues ngtdm_features(const Discretized& d);
// The same from the plane of `d` coded by rank (texture_plane(d, LevelCoding::rank, ...)), which the extractor builds
// once per image type for all texture classes.
FeatureClassValues ngtdm_features(const TexturePlane& ranks);

}  // namespace chexgen::radiomics
