// A 2-D Laplacian of Gaussian image type, opt-in (CheXGenBench's FRD configuration produces none).
//
// PyRadiomics' LoG image type (getLoGImage) is SimpleITK's LaplacianRecursiveGaussianImageFilter, a 3-D recursive
// (Deriche) approximation normalised across scale; on a single-slice volume PyRadiomics skips it (every size must
// be at least 4), so it has no 2-D behaviour to reproduce. Ours is defined instead as
// scipy.ndimage.gaussian_laplace(image, sigma_mm / spacing, mode='reflect', truncate=4.0):
//   - sampled Gaussian of radius int(4 * sigma + 0.5) pixels, normalised to sum 1, and its second derivative
//     (x^2 / sigma^4 - 1 / sigma^2) times that normalised Gaussian;
//   - boundary 'reflect' (d c b a | a b c d | d c b a), repeated for kernels longer than the image;
//   - result = smooth_x(d2_y(image)) + d2_x(smooth_y(image)), with no sigma^2 scale normalisation.
// Details and measured agreement: docs/radiomics-filters.md.
#pragma once

#include <string>

#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

// The Laplacian of Gaussian of `image` (pixels `spacing` mm wide, x and y) at scale sigma_mm, same size as the
// input. Throws std::invalid_argument for an empty or multi-channel image, for a non-positive or non-finite
// sigma_mm or spacing, and for a kernel radius (4 sigma / spacing) of 2^20 pixels or more.
ImageD laplacian_of_gaussian(const ImageD& image, double sigma_mm, double spacing = 1.0);

// The image-type name in PyRadiomics' style, sigma written as Python's str(float) with '.' replaced by '-':
// 2.0 -> "log-sigma-2-0-mm-2D", 0.5 -> "log-sigma-0-5-mm-2D".
std::string log_image_type_name(double sigma_mm);

}  // namespace chexgen::radiomics
