#include "chexgen/radiomics/preprocess.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "chexgen/core/numeric.h"

namespace chexgen::radiomics {

ImageD to_double(const Image8& image) {
  if (image.channels != 1) throw std::invalid_argument("radiomics needs a single-channel (gray) image");
  ImageD out(image.width, image.height, 1);
  for (std::size_t i = 0; i < image.data.size(); ++i) out.data[i] = image.data[i];
  return out;
}

namespace {

// np.add.reduce over a whole array as numpy 1.24 runs it: pairwise within buffers of 8192 elements, the buffer
// sums added in order.
double numpy_sum(const std::vector<double>& a) {
  constexpr std::size_t kBuffer = 8192;
  double s = 0.0;
  for (std::size_t start = 0; start < a.size(); start += kBuffer)
    s += numpy_pairwise_sum(a.data() + start, std::min(kBuffer, a.size() - start));
  return s;
}

}  // namespace

ImageD normalize(const ImageD& image, double scale) {
  const std::size_t n = image.data.size();
  if (n < 2) throw std::invalid_argument("cannot normalise an image with fewer than 2 pixels");
  // (x - x.mean()) / x.std(ddof=1) with numpy's exact arithmetic (the reference tables were made that way, and
  // a flat region's wavelet detail is zero up to rounding, on a bin edge: the last bit decides its bin).
  const double count = static_cast<double>(n);
  const double mean = numpy_sum(image.data) / count;
  std::vector<double> squares(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double d = image.data[i] - mean;
    squares[i] = d * d;
  }
  const double sd = std::sqrt(numpy_sum(squares) / (count - 1.0));
  if (!(sd > 0.0) || !std::isfinite(sd))
    throw std::invalid_argument("cannot normalise a constant image (standard deviation 0)");
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
