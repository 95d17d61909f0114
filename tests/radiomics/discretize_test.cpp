// Discretisation and normalisation against PyRadiomics' rules, and the first-order diagnostics in the golden
// tables (which PyRadiomics computes from the raw and normalised image).
#include <gtest/gtest.h>

#include <cmath>

#include "chexgen/radiomics/discretize.h"
#include "chexgen/radiomics/preprocess.h"
#include "test_support.h"

namespace chexgen::radiomics {
namespace {

using testing::close;

TEST(Discretize, DocumentedExampleEdgesFromZero) {
  // PyRadiomics' docstring: ROI 54..166 with bin width 25 has edges 50, 75, ..., 175.
  const std::vector<double> values = {54, 74.999, 75, 100, 124.5, 150, 166};
  const auto levels = discretize_values(values, 25);
  EXPECT_EQ(levels, (std::vector<std::int32_t>{1, 1, 2, 3, 3, 5, 5}));
}

TEST(Discretize, NegativeMinimumUsesFloorModulo) {
  // min -7 with width 5: Python's -7 % 5 == 3, so the first edge is -10.
  const auto levels = discretize_values(std::vector<double>{-7, -5, -0.1, 0, 4.99, 5}, 5);
  EXPECT_EQ(levels, (std::vector<std::int32_t>{1, 2, 2, 3, 3, 4}));
}

TEST(Discretize, MaximumOnAnEdgeOpensANewBin) {
  const auto levels = discretize_values(std::vector<double>{0, 10}, 5);
  EXPECT_EQ(levels, (std::vector<std::int32_t>{1, 3}));
}

TEST(Discretize, MaskedPixelsAreZeroAndLevelsListed) {
  ImageD image(3, 1, 1);
  image.data = {100, 1, 12};
  Mask mask(3, 1, 1);
  mask.data = {0, 1, 1};
  const Discretized d = discretize(image, mask, 5);
  EXPECT_EQ(d.levels, (std::vector<std::int32_t>{0, 1, 3}));
  EXPECT_EQ(d.present, (std::vector<std::int32_t>{1, 3}));
  EXPECT_EQ(d.ng, 3);
  EXPECT_EQ(d.roi_count, 2);
}

TEST(Discretize, RefusesBadInput) {
  EXPECT_THROW(discretize_values(std::vector<double>{}, 5), std::invalid_argument);
  EXPECT_THROW(discretize_values(std::vector<double>{1, NAN}, 5), std::invalid_argument);
  EXPECT_THROW(discretize_values(std::vector<double>{1}, 0), std::invalid_argument);
  ImageD image(2, 1, 1);
  Mask mask(2, 1, 1);
  EXPECT_THROW(discretize(image, mask, 5), std::invalid_argument);  // empty ROI
}

TEST(Normalize, MatchesPyRadiomicsDiagnostics) {
  // diagnostics_Image-original_* are the raw 8-bit statistics; the normalised image has mean 0 and sd 100.
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_noresample_nih24.csv");
  for (std::size_t r = 0; r < 4; ++r) {
    const ImageD raw = to_double(testing::nih_image(table.images[r]));
    double sum = 0, lo = 255, hi = 0;
    for (double v : raw.data) {
      sum += v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    EXPECT_TRUE(close(sum / raw.data.size(), table.value(r, "diagnostics_Image-original_Mean"), 1e-12, 0));
    EXPECT_EQ(lo, table.value(r, "diagnostics_Image-original_Minimum"));
    EXPECT_EQ(hi, table.value(r, "diagnostics_Image-original_Maximum"));
    const ImageD z = normalize(raw, 100);
    double zsum = 0, zsq = 0;
    for (double v : z.data) zsum += v;
    const double zmean = zsum / z.data.size();
    for (double v : z.data) zsq += (v - zmean) * (v - zmean);
    EXPECT_NEAR(zmean, 0, 1e-9);
    EXPECT_NEAR(std::sqrt(zsq / (z.data.size() - 1)), 100, 1e-9);
    // The golden minimum and maximum of the normalised image inside the ROI.
    EXPECT_TRUE(close(*std::min_element(z.data.begin() + 1, z.data.end()),
                      table.value(r, "original_firstorder_Minimum"), 1e-12, 1e-12));
    EXPECT_TRUE(close(*std::max_element(z.data.begin() + 1, z.data.end()),
                      table.value(r, "original_firstorder_Maximum"), 1e-12, 1e-12));
  }
  EXPECT_THROW(normalize(ImageD(4, 4, 1), 100), std::invalid_argument);
}

}  // namespace
}  // namespace chexgen::radiomics
