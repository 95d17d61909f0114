// PyRadiomics' gray level dependence matrix (GLDM) feature class (radiomics/gldm.py and calculate_gldm in
// radiomics/src/cmatrices.c at commit 8ed5793) for a 2-D plane with the default settings: alpha 0, distance 1, the 8
// in-plane neighbours (force2D).
#pragma once

#include <span>
#include <string_view>

#include "chexgen/radiomics/texture_plane.h"
#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

// PyRadiomics' 14 non-deprecated GLDM names in its output order (DependenceEntropy, DependenceNonUniformity, ...).
std::span<const std::string_view> gldm_feature_names();

// The features of the ROI of `d` (levels > 0; the plane need not be cropped to it). A pixel's dependence is 1 + the
// number of its 8 neighbours inside the ROI with the same level; rows of absent gray levels and columns of absent
// dependences are left out, gray levels enter by their values, Nz is the number of ROI pixels. Every feature is NaN
// for a one-pixel ROI, for which PyRadiomics finds no angle and gives no value. Throws std::invalid_argument when `d`
// is not consistent (sizes, levels outside d.present, empty ROI).
FeatureClassValues gldm_features(const Discretized& d);
// The same from the plane of `d` coded by rank (texture_plane(d, LevelCoding::rank, ...)), which the extractor builds
// once per image type for all texture classes.
FeatureClassValues gldm_features(const TexturePlane& ranks);

}  // namespace chexgen::radiomics
