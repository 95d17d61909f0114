// Image-text alignment against numpy's cosine similarities (tests/golden/text/alignment.json), hand-checked
// geometry, and the errors.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/files.h"
#include "chexgen/features/npy.h"
#include "chexgen/metrics/alignment.h"

namespace chexgen::metrics {
namespace {

using ::testing::HasSubstr;
const std::filesystem::path kGolden = std::filesystem::path(CHEXGEN_SOURCE_DIR) / "tests/golden/text";

std::string error_of(const MatrixD& a, const MatrixD& t) {
  try {
    image_text_alignment(a, t, "images.npy", "texts.npy");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Alignment, MatchesNumpy) {
  const MatrixD images = features::read_npy(kGolden / "alignment_images.npy").to_f64();
  const MatrixD texts = features::read_npy(kGolden / "alignment_texts.npy").to_f64();
  const auto ref = nlohmann::json::parse(read_file_bytes(kGolden / "alignment.json"));
  const AlignmentResult r = image_text_alignment(images, texts, "images", "texts");
  ASSERT_EQ(r.per_sample.size(), 8u);
  double worst = 0;
  for (std::size_t i = 0; i < 8; ++i)
    worst = std::max(worst, std::abs(r.per_sample[i] - ref["per_sample"][i].get<double>()));
  std::printf("alignment: worst |ours - numpy| %.3g, mean %.17g vs %.17g\n", worst, r.mean, ref["mean"].get<double>());
  EXPECT_LE(worst, 1e-14);
  EXPECT_NEAR(r.mean, ref["mean"].get<double>(), 1e-14);
  EXPECT_NEAR(r.per_sample[2], -1.0, 1e-15);
}

TEST(Alignment, HandChecked) {
  const MatrixD a(4, 2, {1, 0, 3, 4, 1e200, 1e200, 1e-200, 0});
  const MatrixD t(4, 2, {0, 5, 6, 8, -1, -1, 7, 0});
  const AlignmentResult r = image_text_alignment(a, t, "a", "t");
  EXPECT_DOUBLE_EQ(r.per_sample[0], 0.0);   // orthogonal
  EXPECT_DOUBLE_EQ(r.per_sample[1], 1.0);   // same direction, other length
  EXPECT_DOUBLE_EQ(r.per_sample[2], -1.0);  // opposite; no overflow at 1e200
  EXPECT_DOUBLE_EQ(r.per_sample[3], 1.0);   // no underflow at 1e-200
  EXPECT_DOUBLE_EQ(r.mean, 0.25);
}

TEST(Alignment, ErrorsNameTheSourceAndRow) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const MatrixD ok(3, 2, {1, 2, 3, 4, 5, 6});
  EXPECT_THAT(error_of(ok, MatrixD(2, 2, 1.0)), HasSubstr("texts.npy: 2 text embeddings for 3 images (images.npy)"));
  EXPECT_THAT(error_of(ok, MatrixD(3, 3, 1.0)), HasSubstr("texts.npy: text embeddings of dimension 3"));
  EXPECT_THAT(error_of(MatrixD(0, 2), MatrixD(0, 2)), HasSubstr("no embeddings"));
  EXPECT_THAT(error_of(MatrixD(3, 2, {1, 2, 0, 0, 5, 6}), ok), HasSubstr("images.npy:2: the embedding is all zeros"));
  EXPECT_THAT(error_of(ok, MatrixD(3, 2, {1, 2, 3, 4, nan, 6})), HasSubstr("texts.npy:3: embedding value nan"));
  EXPECT_THAT(error_of(ok, MatrixD(3, 2, {1, -inf, 3, 4, 5, 6})), HasSubstr("texts.npy:1: embedding value -inf"));
}

}  // namespace
}  // namespace chexgen::metrics
