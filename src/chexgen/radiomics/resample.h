// Cropping and resampling of a 2-D plane before feature extraction, as PyRadiomics' imageoperations.resampleImage
// and cropToTumorMask do it for a single-slice volume (the z axis is left untouched).
//
// Grid (resampleImage, per axis, from the ROI's bounding box [lo, lo + extent)):
//   an axis whose bounding box is one pixel wide keeps the input spacing; if then both spacings equal the input
//   one (numpy.allclose), the plane is only cropped (crop_to_mask);
//   ratio = input / new spacing; first = max(0, floor((lo - 0.5) * ratio - pad));
//   last = min(ceil(n * ratio) - 1, ceil((lo + extent - 0.5) * ratio + pad)); size = last - first + 1;
//   new pixel k sits at input continuous index 0.5 * (new - input) / input + first / ratio + k * new / input.
// Image values: ITK's cubic B-spline (BSplineDecompositionImageFilter + BSplineInterpolateImageFunction, order 3,
// mirror boundary), computed separably: each row prefiltered and evaluated at the new x positions, then that plane
// prefiltered and evaluated along y (ITK's tensor-product sum in another order). A point outside [-0.5, n - 0.5)
// on either axis gets 0, as ResampleImageFilter's default pixel value. The prefilter's causal initial value is the
// exact mirror-boundary sum (as scipy.ndimage.spline_filter computes it and as ITK does for lines of at most 18
// pixels); ITK truncates that sum for longer lines at its tolerance 1e-10, so ITK itself differs from this by up
// to ~1e-8 on 0..255 data. PyRadiomics' golden tables were made with the exact sum.
// Mask values: nearest neighbour with halves rounded up (ITK's NearestNeighborInterpolateImageFunction).
// Details and measured agreement: docs/radiomics-filters.md.
#pragma once

#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

struct Plane {
  ImageD image;
  Mask mask;
};

// The ROI's bounding box (nonzero mask pixels) grown by pad_distance pixels on each side, clipped to the image;
// image and mask cropped to it (PyRadiomics' cropToTumorMask). Throws std::invalid_argument for an empty ROI,
// a negative pad, or image and mask of different sizes.
Plane crop_to_mask(const ImageD& image, const Mask& mask, int pad_distance);

// Image and mask resampled from pixels of `input_spacing` mm (x and y) to `spacing` mm on PyRadiomics' grid
// (see above); if the new spacing equals the input one, crop_to_mask(image, mask, pad_distance).
// Throws std::invalid_argument for non-positive or non-finite spacings, a negative pad, an empty ROI, or image and
// mask of different sizes.
Plane resample_like_pyradiomics(const ImageD& image, const Mask& mask, double spacing, int pad_distance,
                                double input_spacing = 1.0);

}  // namespace chexgen::radiomics
