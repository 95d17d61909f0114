// Intensity preprocessing before filtering and discretisation, as PyRadiomics does it.
#pragma once

#include "chexgen/image/image.h"
#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

// 8-bit gray image as doubles (values 0..255).
ImageD to_double(const Image8& image);

// sitk.Normalize followed by `* scale`: (x - mean) / sd * scale over the whole image (not only the ROI), with
// the N-1 standard deviation. A constant image (sd 0) throws std::invalid_argument.
ImageD normalize(const ImageD& image, double scale);

// The CheXGenBench ROI: every pixel except (0, 0), which it leaves out so that the mask has two labels.
Mask chexgenbench_mask(int width, int height);

}  // namespace chexgen::radiomics
