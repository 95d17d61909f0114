// Image degradations with known effects (the baseline generators of docs/baselines.md, and the transformed copies of
// the privacy tests): Gaussian blur as scipy.ndimage computes it, seeded Gaussian noise, down-and-up sampling; and
// the rotation of the utility suite's training augmentation.
#pragma once

#include <cstdint>
#include <vector>

#include "chexgen/image/image.h"

namespace chexgen {

// Gaussian blur with standard deviation `sigma` pixels, as scipy.ndimage.gaussian_filter(x, sigma, mode='reflect',
// truncate=truncate): a separable kernel of radius round(truncate * sigma), normalised to sum 1, borders mirrored
// about the edge (d c b a | a b c d | d c b a). Every channel independently; sums in double. sigma <= 0 copies.
inline constexpr double kBlurTruncate = 4.0;
std::vector<double> gaussian_kernel(double sigma, double truncate = kBlurTruncate);  // 2 * radius + 1 taps
ImageF gaussian_blur(const ImageF& image, double sigma, double truncate = kBlurTruncate);
// The same on 8 bits: computed in double, rounded to nearest (halves up) and clipped to 0..255.
Image8 gaussian_blur(const Image8& image, double sigma, double truncate = kBlurTruncate);

// Adds independent Gaussian noise of standard deviation `sd` gray levels to every sample, rounded to nearest and
// clipped to 0..255. The noise is a pure function of (seed, stream): mt19937_64 (fixed by the standard) and a
// Box-Muller transform written here, not std::normal_distribution, whose algorithm differs between standard
// libraries; only a last-bit difference in a libm's log or cos could move a pixel across a rounding boundary.
Image8 add_gaussian_noise(const Image8& image, double sd, std::uint64_t seed, std::uint64_t stream);

// Pillow-exact bilinear resize down to max(1, size / factor) per side and back up to the original size.
// factor 1 returns a copy; factor < 1 is a UsageError.
Image8 down_up(const Image8& image, int factor);

// Rotation by `degrees` counter-clockwise about the image centre, the size kept, nearest neighbour, `fill` where the
// source falls outside (what torchvision's RandomRotation does to a PIL image: Image.rotate(angle, NEAREST)). Each
// output pixel centre is mapped back into the source; every channel alike.
Image8 rotate_nearest(const Image8& image, double degrees, std::uint8_t fill = 0);

}  // namespace chexgen
