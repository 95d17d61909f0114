#include "chexgen/metrics/alignment.h"

#include <cmath>

#include <fmt/format.h>

namespace chexgen::metrics {
namespace {

// Row i divided by its L2 norm. The norm is taken of the row scaled by its largest magnitude, so that neither
// large values overflow nor tiny ones underflow the sum of squares.
std::vector<double> unit_row(MatrixViewD m, std::size_t i, const std::string& source) {
  const double* r = m.row(i);
  double largest = 0;
  for (std::size_t j = 0; j < m.cols; ++j) {
    if (!std::isfinite(r[j]))
      throw InputError(Location{source, i + 1},
                       fmt::format("embedding value {} (column {}) is not finite", r[j], j + 1));
    largest = std::max(largest, std::abs(r[j]));
  }
  if (largest == 0) throw InputError(Location{source, i + 1}, "the embedding is all zeros; it has no direction");
  double sum = 0;
  for (std::size_t j = 0; j < m.cols; ++j) sum += (r[j] / largest) * (r[j] / largest);
  const double norm = largest * std::sqrt(sum);
  std::vector<double> unit(m.cols);
  for (std::size_t j = 0; j < m.cols; ++j) unit[j] = r[j] / norm;
  return unit;
}

}  // namespace

AlignmentResult image_text_alignment(MatrixViewD images, MatrixViewD texts, const std::string& image_source,
                                     const std::string& text_source) {
  if (texts.rows != images.rows)
    throw InputError(Location{text_source}, fmt::format("{} text embeddings for {} images ({}): one per image",
                                                        texts.rows, images.rows, image_source));
  if (texts.cols != images.cols)
    throw InputError(Location{text_source}, fmt::format("text embeddings of dimension {}, image embeddings ({}) of {}: "
                                                        "the two encoders must share one embedding space",
                                                        texts.cols, image_source, images.cols));
  if (images.rows == 0 || images.cols == 0)
    throw InputError(Location{text_source},
                     fmt::format("no embeddings to compare ({} x {})", images.rows, images.cols));
  AlignmentResult result;
  result.per_sample.reserve(images.rows);
  double total = 0;
  for (std::size_t i = 0; i < images.rows; ++i) {
    const std::vector<double> a = unit_row(images, i, image_source);
    const std::vector<double> t = unit_row(texts, i, text_source);
    double cos = 0;
    for (std::size_t j = 0; j < a.size(); ++j) cos += a[j] * t[j];
    result.per_sample.push_back(cos);
    total += cos;
  }
  result.mean = total / static_cast<double>(images.rows);
  return result;
}

}  // namespace chexgen::metrics
