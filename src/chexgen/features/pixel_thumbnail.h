// The weight-free feature space of the privacy search (docs/privacy.md): each image as a small gray thumbnail,
// centred and scaled to unit length, so that the cosine of two rows is the Pearson correlation of their pixels
// (the pixel-space copy detector of Akbar et al. 2023 and EchoNet-Synthetic).
#pragma once

#include <vector>

#include "chexgen/features/extractor.h"
#include "chexgen/image/image.h"

namespace chexgen::features {

inline constexpr int kDefaultThumbnailSide = 64;

// The row of one image: converted to 8-bit gray, resized to side x side with Pillow's BILINEAR filter
// (Image.resize((side, side), Image.BILINEAR)), then x − mean(x) divided by its Euclidean norm, in row-major order.
// A uniform image has no correlation with anything: std::invalid_argument.
std::vector<double> pixel_thumbnail(const Image8& gray, int side = kDefaultThumbnailSide);

// The extractor of that row (feature space "Pixels", store id "pixel-thumbnail-<side>").
Extractor pixel_thumbnail_extractor(int side = kDefaultThumbnailSide);

}  // namespace chexgen::features
