// Whole feature vectors against PyRadiomics (tests/golden/radiomics/pyradiomics_frd_v1*_nih24.csv): the column
// names and order, then every value, for CheXGenBench's FRD-v1 configuration with and without the 2 mm resampling.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chexgen/core/error.h"
#include "chexgen/radiomics/extractor.h"
#include "test_support.h"

namespace chexgen::radiomics {
namespace {

// The share of values within 1e-6 relative (or 1e-9 absolute), and the largest relative difference, over the
// columns `which` selects.
struct Agreement {
  std::size_t values = 0, close = 0;
  double worst = 0;
  std::string worst_where;
};

bool detail_band(const std::string& column) {
  return column.starts_with("wavelet-LH_") || column.starts_with("wavelet-HL_") || column.starts_with("wavelet-HH_");
}

template <class Which>
Agreement compare(const RadiomicsExtractor& extractor, const testing::FeatureTable& table,
                  const std::vector<std::size_t>& images, const Which& which) {
  EXPECT_EQ(extractor.columns(), table.columns);
  Agreement a;
  for (std::size_t r : images) {
    const std::vector<double> ours = extractor.extract(testing::nih_image(table.images[r]));
    for (std::size_t c = 0; c < ours.size() && c < table.columns.size(); ++c) {
      if (!which(table.columns[c])) continue;
      const double ref = table.rows[r][c];
      ++a.values;
      if (testing::close(ours[c], ref, 1e-6, 1e-9)) ++a.close;
      const double rel = std::fabs(ours[c] - ref) / std::max({std::fabs(ref), std::fabs(ours[c]), 1e-9});
      if (!(rel <= a.worst)) {
        a.worst = rel;
        a.worst_where = table.images[r] + " " + table.columns[c];
      }
    }
  }
  std::printf("%zu of %zu values within 1e-6; worst relative difference %.3g at %s\n", a.close, a.values, a.worst,
              a.worst_where.c_str());
  return a;
}

RadiomicsConfig chexgenbench_native(double spacing) {
  RadiomicsConfig c = radiomics_preset("frd-v1");
  c.image_size = 0;  // the reference measured the images as they are
  c.resample_spacing = spacing;
  return c;
}

// Images 0, 1, 4, 5 of the 24 (all 24 were checked once: docs/radiomics.md). After resampling, about 1-2 % of
// image 0's wavelet detail pixels are zero up to rounding (flat regions), which puts them on the bin edge 0.
const std::vector<std::size_t> kImages = {0, 1, 4, 5};

TEST(RadiomicsExtractor, FrdV1WithoutResamplingMatchesPyRadiomics) {
  // Every value within 1e-6: normalisation and the wavelet transform are bit-identical to numpy's and pywt's, so
  // even zero-up-to-rounding detail pixels land in the reference's bins.
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_noresample_nih24.csv");
  ASSERT_EQ(table.columns.size(), 390u);
  const Agreement a = compare(RadiomicsExtractor(chexgenbench_native(0)), table, kImages, [](auto&) { return true; });
  EXPECT_EQ(a.close, a.values) << a.worst_where;
  EXPECT_LE(a.worst, 1e-6) << a.worst_where;
}

TEST(RadiomicsExtractor, FrdV1WithResamplingMatchesPyRadiomics) {
  // The reference resampled with scipy's B-spline, whose last-bit rounding we do not replicate: diagnostics,
  // Original and wavelet-LL agree to 1e-6 everywhere, the detail bands too wherever no pixel is zero up to
  // rounding (images 1, 4, 5); in image 0 such pixels fall on the other side of the bin edge 0.
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_nih24.csv");
  ASSERT_EQ(table.columns.size(), 398u);
  const RadiomicsExtractor extractor(chexgenbench_native(2));
  const Agreement smooth = compare(extractor, table, kImages, [](const std::string& c) { return !detail_band(c); });
  EXPECT_EQ(smooth.close, smooth.values) << smooth.worst_where;
  const Agreement detail = compare(extractor, table, {1, 4, 5}, detail_band);
  EXPECT_EQ(detail.close, detail.values) << detail.worst_where;
  const Agreement flat = compare(extractor, table, {0}, detail_band);
  EXPECT_LT(flat.close, flat.values);  // the documented limit; if this starts to pass, update docs/radiomics.md
}

TEST(RadiomicsExtractor, FullPresetMatchesPyRadiomics) {
  // tests/golden/radiomics/pyradiomics_full_noresample_nih4.csv: PyRadiomics with every GLCM feature (MCC too) and
  // GLDM, no resampling. PyRadiomics makes no LoG images for a single slice; ours are left out for the comparison.
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_full_noresample_nih4.csv");
  RadiomicsConfig c = radiomics_preset("full");
  c.image_size = 0;
  c.resample_spacing = 0;
  c.log_sigmas.clear();
  const RadiomicsExtractor extractor(c);
  const auto is_mcc = [](const std::string& col) { return col.ends_with("_glcm_MCC"); };
  const Agreement a = compare(extractor, table, {0, 3}, [&](const std::string& col) { return !is_mcc(col); });
  EXPECT_EQ(a.close, a.values) << a.worst_where;
  // MCC: the square root of the second-largest eigenvalue of a non-symmetric matrix with an eps term in every
  // cell (numpy's eigvals); ours solves the same matrix with a general solver, so only rounding separates them.
  const Agreement mcc = compare(extractor, table, {0, 3}, is_mcc);
  EXPECT_LE(mcc.worst, 1e-12) << mcc.worst_where;
}

TEST(RadiomicsExtractor, ConfigurationIdNamesEveryChoice) {
  RadiomicsConfig a = radiomics_preset("frd-v1");
  RadiomicsConfig b = a;
  b.bin_width = 10;
  RadiomicsConfig c = a;
  c.image_size = 0;
  EXPECT_NE(a.id(), b.id());
  EXPECT_NE(a.id(), c.id());
  EXPECT_EQ(a.id(), radiomics_preset("frd-v1").id());
  EXPECT_THROW(radiomics_preset("frd-v2"), UsageError);
  // MCC's own version is in the id only where MCC is computed: frd-v1 rows in a store stay valid when it changes.
  EXPECT_EQ(a.id().find("mcc="), std::string::npos);
  EXPECT_FALSE(a.computes_mcc());
  EXPECT_TRUE(radiomics_preset("full").computes_mcc());
  EXPECT_NE(radiomics_preset("full").id().find(" mcc=2"), std::string::npos);
  RadiomicsConfig d = a;
  d.glcm_features.push_back("MCC");
  EXPECT_NE(d.id().find(" mcc=2"), std::string::npos);
}

TEST(RadiomicsExtractor, FullPresetAddsLogImagesAndGldm) {
  const RadiomicsExtractor full(radiomics_preset("full"));
  const auto& cols = full.columns();
  EXPECT_NE(std::find(cols.begin(), cols.end(), "original_gldm_DependenceEntropy"), cols.end());
  EXPECT_NE(std::find(cols.begin(), cols.end(), "original_glcm_MCC"), cols.end());
  EXPECT_NE(std::find(cols.begin(), cols.end(), "log-sigma-2-0-mm-2D_firstorder_Mean"), cols.end());
  Image8 small(64, 48, 1);
  for (std::size_t i = 0; i < small.data.size(); ++i) small.data[i] = static_cast<std::uint8_t>((i * 7919) % 251);
  RadiomicsConfig native = radiomics_preset("full");
  native.image_size = 0;
  const auto values = RadiomicsExtractor(native).extract(small);
  EXPECT_EQ(values.size(), cols.size());
}

TEST(RadiomicsExtractor, RefusesWhatItCannotMeasure) {
  RadiomicsConfig native = radiomics_preset("frd-v1");
  native.image_size = 0;
  const RadiomicsExtractor e(native);
  EXPECT_THROW(e.extract(Image8(32, 32, 1)), std::invalid_argument);  // constant image: no normalisation
  EXPECT_THROW(e.extract(Image8(1, 5, 1)), std::invalid_argument);
  EXPECT_THROW(e.extract(Image8(8, 8, 3)), std::invalid_argument);
}

}  // namespace
}  // namespace chexgen::radiomics
