// PyRadiomics' "Wavelet" image type for a 2-D plane: imageoperations.getWaveletImage / _swt3 with force2D,
// start_level 0 and level 1, i.e. one level of pywt.swtn (periodic, no normalisation) over the x and y axes.
//
// Conventions, as PyRadiomics runs them on a (1, H, W) single-slice array:
// - an odd width or height is first padded by one pixel copied from the opposite edge (numpy.pad 'wrap'), and the
//   bands are cropped back to H x W;
// - along one axis of length n with decomposition filter f of length L:
//   out[i] = sum_{k < L} f[k] * in[(i + L/2 - k) mod n]   (pywt's swt, level 1);
// - band names: pywt's keys with a -> L (low-pass) and d -> H (high-pass); the first letter is the x axis, the
//   second the y axis (PyRadiomics' axes list (2, 1)); so "wavelet-LH" is low-pass along x, high-pass along y.
// Details and measured agreement: docs/radiomics-filters.md.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chexgen/radiomics/types.h"

namespace chexgen::radiomics {

struct WaveletBand {
  std::string name;  // "wavelet-LH", "wavelet-HL", "wavelet-HH", "wavelet-LL"
  ImageD image;      // same size as the input
};

// The wavelets wavelet_bands accepts (pywt names): haar, db1-db4, sym2-sym4, coif1, coif2.
std::span<const std::string_view> supported_wavelets();

// The four bands in PyRadiomics' order LH, HL, HH, LL. Throws std::invalid_argument for an empty or multi-channel
// image and for a wavelet not in supported_wavelets() (the message lists them).
std::vector<WaveletBand> wavelet_bands(const ImageD& image, std::string_view wavelet = "coif1");

}  // namespace chexgen::radiomics
