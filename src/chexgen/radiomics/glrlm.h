// PyRadiomics' gray level run length matrix (GLRLM) feature class (radiomics/glrlm.py and calculate_glrlm in
// radiomics/src/cmatrices.c at commit 8ed5793) for a 2-D plane: force2D, the in-plane angles of generateAngles, no
// distance weighting; features per angle, then averaged over the angles (np.nanmean).
#pragma once

#include <span>
#include <string_view>

#include "chexgen/radiomics/texture_plane.h"
#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

// PyRadiomics' 16 GLRLM names in its output order (GrayLevelNonUniformity, GrayLevelNonUniformityNormalized, ...).
std::span<const std::string_view> glrlm_feature_names();

// The features of the ROI of `d` (levels > 0; the plane need not be cropped to it). As PyRadiomics, which crops to
// the ROI's bounding box first: the angles are those generateAngles gives for that box (4; 1 for a box one pixel
// high or wide), an angle none of whose lines crosses the ROI twice is zeroed and deleted, rows of absent gray levels
// and columns of absent run lengths are left out, gray levels enter by their values. Every feature is NaN when no
// angle is left (a one-pixel ROI, for which PyRadiomics finds no angle, or ROI pixels that share no line). Throws
// std::invalid_argument when `d` is not consistent (sizes, levels outside d.present, empty ROI).
FeatureClassValues glrlm_features(const Discretized& d);
// The same from the plane of `d` coded by rank (texture_plane(d, LevelCoding::rank, ...)), which the extractor builds
// once per image type for all texture classes.
FeatureClassValues glrlm_features(const TexturePlane& ranks);

}  // namespace chexgen::radiomics
