// Image-text alignment (CheXGenBench's alignment score; hi-ml ImageTextInferenceEngine
// .get_similarity_score_from_raw_data): the cosine similarity of each image embedding with the text embedding of
// its prompt, both L2-normalised first.
#pragma once

#include <string>
#include <vector>

#include "chexgen/core/matrix.h"

namespace chexgen::metrics {

struct AlignmentResult {
  double mean = 0;
  std::vector<double> per_sample;
};

// Cosine similarity of row i of `images` and row i of `texts` (each row divided by its L2 norm first, as hi-ml
// does), and their mean. The matrices must have the same shape with at least one row, else an InputError naming
// `text_source`; a row that is zero or holds a NaN or an infinity is an InputError naming its source and 1-based
// row.
AlignmentResult image_text_alignment(MatrixViewD images, MatrixViewD texts, const std::string& image_source,
                                     const std::string& text_source);

}  // namespace chexgen::metrics
