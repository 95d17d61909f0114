#include "chexgen/radiomics/preprocess.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace chexgen::radiomics {

ImageD to_double(const Image8& image) {
  if (image.channels != 1) throw std::invalid_argument("radiomics needs a single-channel (gray) image");
  ImageD out(image.width, image.height, 1);
  for (std::size_t i = 0; i < image.data.size(); ++i) out.data[i] = image.data[i];
  return out;
}

ImageD normalize(const ImageD& image, double scale) {
  const std::size_t n = image.data.size();
  if (n < 2) throw std::invalid_argument("cannot normalise an image with fewer than 2 pixels");
  // Two passes (mean, then squared deviations), as numpy's mean and std(ddof=1); long double sums keep the
  // result within an ulp or two of numpy's pairwise sums (a plain double loop drifts by ~1e-12 at 512x512).
  long double sum = 0;
  for (double v : image.data) sum += v;
  const double count = static_cast<double>(n);
  const double mean = static_cast<double>(sum / n);
  long double squares = 0;
  for (double v : image.data) {
    const double d = v - mean;
    squares += d * d;
  }
  const double variance = static_cast<double>(squares) / (count - 1.0);
  const double sd = std::sqrt(variance);
  if (!(sd > 0.0)) throw std::invalid_argument("cannot normalise a constant image (standard deviation 0)");
  ImageD out(image.width, image.height, 1);
  for (std::size_t i = 0; i < n; ++i) out.data[i] = (image.data[i] - mean) / sd * scale;
  return out;
}

Mask chexgenbench_mask(int width, int height) {
  Mask mask(width, height, 1);
  std::fill(mask.data.begin(), mask.data.end(), std::uint8_t{1});
  if (!mask.data.empty()) mask.data[0] = 0;
  return mask;
}

}  // namespace chexgen::radiomics
