// PyRadiomics' gray level co-occurrence matrix (GLCM) feature class (radiomics/glcm.py and calculate_glcm in
// radiomics/src/cmatrices.c at commit 8ed5793) for a 2-D plane: distance 1, the in-plane angles of generateAngles,
// symmetric matrices, no weighting; features per angle, then averaged over the angles.
#pragma once

#include <span>
#include <string_view>

#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

struct GlcmSettings {
  // MCC needs the eigenvalues of an Ng x Ng matrix per angle, far more work than all other features together;
  // without it its value is NaN.
  bool compute_mcc = true;
};

// PyRadiomics' 24 non-deprecated GLCM names in its output order (Autocorrelation, JointAverage, ...).
std::span<const std::string_view> glcm_feature_names();

// The features of the ROI of `d` (levels > 0). The angles are those PyRadiomics generates for a plane of
// d.width x d.height pixels (4, fewer for a plane one pixel wide or high); the matrix rows and columns are the gray
// levels present in the ROI, indexed by their level values. Angles without any pair are left out; with none left,
// every feature is NaN (MCC is 1 when the ROI holds one gray level). Throws std::invalid_argument when `d` is not
// consistent: sizes, an empty ROI, `present` not the ascending list of the levels inside the ROI, ng not its last.
FeatureClassValues glcm_features(const Discretized& d, const GlcmSettings& settings = {});

}  // namespace chexgen::radiomics
