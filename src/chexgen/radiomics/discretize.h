// Fixed-bin-width discretisation, value for value as PyRadiomics' binImage / getBinEdges.
#pragma once

#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

// Bin edges start at the multiple of `bin_width` at or below the ROI minimum (Python's floor modulo) and are
// laid out as numpy.arange lays them out (edge i = low + i * ((low + w) - low)); a value's level is the number of
// edges at or below it (numpy.digitize). Pixels outside the mask get level 0. Throws std::invalid_argument for a
// bin width <= 0, a size mismatch or an empty ROI; non-finite values inside the ROI are refused the same way.
Discretized discretize(const ImageD& image, const Mask& mask, double bin_width);

// The same rule applied to a list of ROI values (for first-order features on several slices at once).
std::vector<std::int32_t> discretize_values(std::span<const double> values, double bin_width);

}  // namespace chexgen::radiomics
