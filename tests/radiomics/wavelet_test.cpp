// The wavelet image type (PyRadiomics' getWaveletImage / _swt3, force2D, level 1) against
// - pywt 1.1 (tests/golden/radiomics/filters/wavelet.json, made by tests/fixtures/make_radiomics_filter_golden.py),
// - PyRadiomics' first-order statistics of the four bands for the 24 NIH images, with and without the 2 mm
//   resampling (pyradiomics_frd_v1_nih24.csv, pyradiomics_frd_v1_noresample_nih24.csv).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "chexgen/radiomics/preprocess.h"
#include "chexgen/radiomics/resample.h"
#include "chexgen/radiomics/wavelet.h"
#include "test_support.h"

namespace chexgen::radiomics {
namespace {

using testing::close;

TEST(Wavelet, MatchesPywtGolden) {
  const nlohmann::json golden = testing::read_filter_golden("wavelet.json");
  ASSERT_GE(golden["cases"].size(), 13u);
  for (const auto& c : golden["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const ImageD image = testing::nih_crop(c["image"], c["crop"]);
    const auto bands = wavelet_bands(image, c["wavelet"].get<std::string>());
    ASSERT_EQ(bands.size(), c["bands"].size());
    for (std::size_t b = 0; b < bands.size(); ++b) {
      EXPECT_EQ(bands[b].name, c["bands"][b][0]);
      const auto expected = c["bands"][b][1].get<std::vector<double>>();
      ASSERT_EQ(bands[b].image.width, image.width);
      ASSERT_EQ(bands[b].image.height, image.height);
      ASSERT_EQ(bands[b].image.data.size(), expected.size());
      // Bit-identical: the same products summed in pywt's order (wavelet.cpp, pywt_wrapped_output).
      for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(bands[b].image.data[i], expected[i])
            << bands[b].name << " pixel " << i << ": " << bands[b].image.data[i] << " vs " << expected[i];
      }
    }
  }
}

struct Stats {
  double mean = 0, min = 0, max = 0, variance = 0;
};

// PyRadiomics' first-order Mean, Minimum, Maximum and Variance (population) over the ROI. Long double sums stay
// within an ulp of numpy's pairwise sums; a plain double loop over 65536 pixels drifts by ~2e-12.
Stats roi_stats(const ImageD& image, const Mask& mask) {
  long double sum = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  std::size_t n = 0;
  for (std::size_t i = 0; i < image.data.size(); ++i) {
    if (!mask.data[i]) continue;
    sum += image.data[i];
    lo = std::min(lo, image.data[i]);
    hi = std::max(hi, image.data[i]);
    ++n;
  }
  const double mean = static_cast<double>(sum / n);
  long double squares = 0;
  for (std::size_t i = 0; i < image.data.size(); ++i) {
    if (mask.data[i]) squares += (image.data[i] - mean) * (image.data[i] - mean);
  }
  return Stats{mean, lo, hi, static_cast<double>(squares / n)};
}

void expect_band_stats(const testing::FeatureTable& table, std::size_t row, const WaveletBand& band, const Mask& mask) {
  SCOPED_TRACE(band.name);
  const Stats s = roi_stats(band.image, mask);
  const std::string prefix = band.name + "_firstorder_";
  // Detail-band means are ~1e-17 of bands spanning +-300: absolute tolerance. The rest relative to 1e-11
  // (measured worst 4.2e-15 relative; means 2.4e-14 absolute).
  EXPECT_TRUE(close(s.mean, table.value(row, prefix + "Mean"), 1e-11, 1e-12)) << s.mean;
  EXPECT_TRUE(close(s.min, table.value(row, prefix + "Minimum"), 1e-11, 0)) << s.min;
  EXPECT_TRUE(close(s.max, table.value(row, prefix + "Maximum"), 1e-11, 0)) << s.max;
  EXPECT_TRUE(close(s.variance, table.value(row, prefix + "Variance"), 1e-11, 0)) << s.variance;
}

TEST(Wavelet, MatchesPyRadiomicsBandStatisticsAfterResampling) {
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_nih24.csv");
  ASSERT_EQ(table.images.size(), 24u);
  for (std::size_t r = 0; r < table.images.size(); ++r) {
    SCOPED_TRACE(table.images[r]);
    const ImageD image = normalize(to_double(testing::nih_image(table.images[r])), 100);
    const Plane plane = resample_like_pyradiomics(image, chexgenbench_mask(512, 512), 2.0, 10);
    const auto bands = wavelet_bands(plane.image);
    ASSERT_EQ(bands.size(), 4u);
    for (const WaveletBand& band : bands) expect_band_stats(table, r, band, plane.mask);
  }
}

TEST(Wavelet, MatchesPyRadiomicsBandStatisticsWithoutResampling) {
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_noresample_nih24.csv");
  const Mask mask = chexgenbench_mask(512, 512);  // pixel (0, 0) is outside the ROI
  for (std::size_t r = 0; r < 8; ++r) {
    SCOPED_TRACE(table.images[r]);
    const ImageD image = normalize(to_double(testing::nih_image(table.images[r])), 100);
    for (const WaveletBand& band : wavelet_bands(image)) expect_band_stats(table, r, band, mask);
  }
}

TEST(Wavelet, FirstLetterIsTheXAxis) {
  // An image that varies only along x has no high-pass response along y: LH and HH vanish, HL does not.
  ImageD image(10, 7, 1);
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 10; ++x) image.at(x, y) = (x * 37 % 11) - 3.0;
  }
  const auto bands = wavelet_bands(image, "db2");
  ASSERT_EQ(bands.size(), 4u);
  EXPECT_EQ(bands[0].name, "wavelet-LH");
  EXPECT_EQ(bands[1].name, "wavelet-HL");
  EXPECT_EQ(bands[2].name, "wavelet-HH");
  EXPECT_EQ(bands[3].name, "wavelet-LL");
  auto peak = [](const ImageD& im) {
    double m = 0;
    for (double v : im.data) m = std::max(m, std::abs(v));
    return m;
  };
  EXPECT_LT(peak(bands[0].image), 1e-12);
  EXPECT_GT(peak(bands[1].image), 1.0);
  EXPECT_LT(peak(bands[2].image), 1e-12);
}

TEST(Wavelet, ConstantImageHasOnlyAnApproximation) {
  // Each orthonormal low-pass filter sums to sqrt(2), so one level along x and y doubles a constant.
  ImageD image(6, 5, 1);
  std::fill(image.data.begin(), image.data.end(), 3.0);
  for (std::string_view name : supported_wavelets()) {
    SCOPED_TRACE(name);
    const auto bands = wavelet_bands(image, name);
    for (double v : bands[3].image.data) EXPECT_NEAR(v, 6.0, 1e-9);
    for (int b = 0; b < 3; ++b) {
      for (double v : bands[b].image.data) EXPECT_NEAR(v, 0.0, 1e-9);
    }
  }
}

TEST(Wavelet, RefusesBadInput) {
  const ImageD image(4, 4, 1);
  try {
    wavelet_bands(image, "bior1.3");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bior1.3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("coif1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("haar"), std::string::npos) << e.what();
  }
  EXPECT_THROW(wavelet_bands(ImageD(), "coif1"), std::invalid_argument);
  EXPECT_THROW(wavelet_bands(ImageD(4, 4, 3), "coif1"), std::invalid_argument);
}

}  // namespace
}  // namespace chexgen::radiomics
