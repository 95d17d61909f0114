// Resampling and cropping (PyRadiomics' resampleImage / cropToTumorMask) against
// - PyRadiomics' own diagnostics for the 24 NIH images (pyradiomics_frd_v1_nih24.csv: interpolated image mean,
//   minimum, maximum and mask voxel count after normalize -> 2 mm),
// - scipy (tests/golden/radiomics/filters/resample.json, made by tests/fixtures/make_radiomics_filter_golden.py),
// - a direct tensor-product B-spline evaluation written here (dense solve for the coefficients).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "chexgen/radiomics/preprocess.h"
#include "chexgen/radiomics/resample.h"
#include "test_support.h"

namespace chexgen::radiomics {
namespace {

using testing::close;

// Same integer rule as the golden script: ((x-cx)/rx)^2 + ((y-cy)/ry)^2 <= 1.
Mask ellipse_mask(int w, int h, long cx, long cy, long rx, long ry) {
  Mask m(w, h, 1);
  for (long y = 0; y < h; ++y) {
    for (long x = 0; x < w; ++x) {
      m.at(x, y) = (x - cx) * (x - cx) * ry * ry + (y - cy) * (y - cy) * rx * rx <= rx * rx * ry * ry;
    }
  }
  return m;
}

Mask case_mask(const nlohmann::json& c, int w, int h) {
  if (c.contains("mask_ellipse")) {
    const auto& e = c["mask_ellipse"];
    return ellipse_mask(w, h, e[0], e[1], e[2], e[3]);
  }
  Mask m(w, h, 1);
  const auto values = c["mask"].get<std::vector<int>>();
  for (std::size_t i = 0; i < values.size(); ++i) m.data.at(i) = static_cast<std::uint8_t>(values[i]);
  return m;
}

TEST(Resample, MatchesScipyGolden) {
  const nlohmann::json golden = testing::read_filter_golden("resample.json");
  ASSERT_GE(golden["cases"].size(), 10u);
  for (const auto& c : golden["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const ImageD image = testing::nih_crop(c["image"], c["crop"]);
    const Mask mask = case_mask(c, image.width, image.height);
    const Plane out = resample_like_pyradiomics(image, mask, c["spacing"], c["pad"], c["input_spacing"]);
    ASSERT_EQ(out.image.width, c["size"][0]);
    ASSERT_EQ(out.image.height, c["size"][1]);
    ASSERT_EQ(out.mask.width, out.image.width);
    ASSERT_EQ(out.mask.height, out.image.height);
    // Both sides are double B-splines of 0..255 data; only summation order differs (measured worst 1.7e-13).
    if (c.contains("image_out")) {
      const auto expected = c["image_out"].get<std::vector<double>>();
      const auto expected_mask = c["mask_out"].get<std::vector<int>>();
      ASSERT_EQ(out.image.data.size(), expected.size());
      for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_TRUE(close(out.image.data[i], expected[i], 1e-12, 1e-11))
            << "pixel " << i << ": " << out.image.data[i] << " vs " << expected[i];
        EXPECT_EQ(out.mask.data[i], expected_mask[i]) << "mask pixel " << i;
      }
    } else {
      double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (double v : out.image.data) {
        sum += v;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      const auto& stats = c["stats"];
      EXPECT_TRUE(close(sum / out.image.data.size(), stats["mean"], 1e-12, 0)) << sum / out.image.data.size();
      EXPECT_TRUE(close(lo, stats["min"], 1e-12, 1e-11)) << lo;
      EXPECT_TRUE(close(hi, stats["max"], 1e-12, 1e-11)) << hi;
      EXPECT_EQ(std::count_if(out.mask.data.begin(), out.mask.data.end(), [](auto v) { return v != 0; }),
                stats["mask_count"].get<long>());
      for (const auto& s : c["samples"]) {
        EXPECT_TRUE(close(out.image.at(s[0], s[1]), s[2], 1e-12, 1e-11)) << s;
      }
    }
  }
}

TEST(Resample, MatchesPyRadiomicsInterpolatedDiagnostics) {
  // CheXGenBench: normalize (scale 100) -> resample 1 mm -> 2 mm, padDistance 10, ROI = all but pixel (0, 0).
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_nih24.csv");
  ASSERT_EQ(table.images.size(), 24u);
  for (std::size_t r = 0; r < table.images.size(); ++r) {
    SCOPED_TRACE(table.images[r]);
    const ImageD image = normalize(to_double(testing::nih_image(table.images[r])), 100);
    const Plane out = resample_like_pyradiomics(image, chexgenbench_mask(512, 512), 2.0, 10);
    ASSERT_EQ(out.image.width, 256);
    ASSERT_EQ(out.image.height, 256);
    long double sum = 0;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (double v : out.image.data) {
      sum += v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    const double mean = static_cast<double>(sum / out.image.data.size());
    // The mean is ~0.1 of data spanning +-300, so its relative tolerance is looser than min/max's (measured
    // worst 2.4e-15 relative on min/max, 1.1e-14 absolute = 1.8e-12 relative on the mean).
    EXPECT_TRUE(close(mean, table.value(r, "diagnostics_Image-interpolated_Mean"), 1e-9, 1e-11)) << mean;
    EXPECT_TRUE(close(lo, table.value(r, "diagnostics_Image-interpolated_Minimum"), 1e-11, 0)) << lo;
    EXPECT_TRUE(close(hi, table.value(r, "diagnostics_Image-interpolated_Maximum"), 1e-11, 0)) << hi;
    const auto count = std::count(out.mask.data.begin(), out.mask.data.end(), std::uint8_t{1});
    EXPECT_EQ(static_cast<double>(count), table.value(r, "diagnostics_Mask-interpolated_VoxelNum"));
  }
}

// --- An independent, slow evaluation: coefficients by a dense solve of the interpolation conditions
// s[i] = (c[i-1] + 4 c[i] + c[i+1]) / 6 with mirror boundaries, then all 16 tensor-product terms.

std::vector<double> solve_dense(std::vector<double> a, std::vector<double> b, int n) {
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int r = col + 1; r < n; ++r) {
      if (std::abs(a[r * n + col]) > std::abs(a[pivot * n + col])) pivot = r;
    }
    for (int k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
    std::swap(b[col], b[pivot]);
    for (int r = col + 1; r < n; ++r) {
      const double f = a[r * n + col] / a[col * n + col];
      for (int k = col; k < n; ++k) a[r * n + k] -= f * a[col * n + k];
      b[r] -= f * b[col];
    }
  }
  std::vector<double> x(n);
  for (int r = n - 1; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < n; ++k) s -= a[r * n + k] * x[k];
    x[r] = s / a[r * n + r];
  }
  return x;
}

int mirror(int i, int n) {
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

std::vector<double> line_coefficients(const std::vector<double>& s) {
  const int n = static_cast<int>(s.size());
  std::vector<double> a(static_cast<std::size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) {
    a[i * n + mirror(i - 1, n)] += 1.0 / 6.0;
    a[i * n + i] += 4.0 / 6.0;
    a[i * n + mirror(i + 1, n)] += 1.0 / 6.0;
  }
  return solve_dense(a, s, n);
}

double cubic_bspline(double t) {
  t = std::abs(t);
  if (t < 1) return 2.0 / 3.0 - t * t + t * t * t / 2.0;
  if (t < 2) return (2 - t) * (2 - t) * (2 - t) / 6.0;
  return 0.0;
}

TEST(Resample, SeparableEvaluationMatchesTensorProduct) {
  const nlohmann::json crop = {123, 45, 64, 48};
  const ImageD image = testing::nih_crop("00000211_013.png", crop);
  const int w = image.width, h = image.height;
  ImageD coef = image;
  for (int y = 0; y < h; ++y) {
    std::vector<double> row(image.data.begin() + y * w, image.data.begin() + (y + 1) * w);
    const auto c = line_coefficients(row);
    std::copy(c.begin(), c.end(), coef.data.begin() + y * w);
  }
  for (int x = 0; x < w; ++x) {
    std::vector<double> col(h);
    for (int y = 0; y < h; ++y) col[y] = coef.at(x, y);
    const auto c = line_coefficients(col);
    for (int y = 0; y < h; ++y) coef.at(x, y) = c[y];
  }
  for (double spacing : {2.0, 1.5, 3.0, 0.75}) {
    SCOPED_TRACE(spacing);
    const Plane out = resample_like_pyradiomics(image, ellipse_mask(w, h, 30, 25, 20, 14), spacing, 3);
    // The grid, recomputed here from the bounding box x 10..50, y 11..39.
    auto first = [&](int lo) { return std::max(0.0, std::floor((lo - 0.5) / spacing - 3)); };
    const double fx = first(10), fy = first(11);
    int checked = 0;
    for (int ky = 0; ky < out.image.height; ++ky) {
      for (int kx = 0; kx < out.image.width; ++kx) {
        const double cx = 0.5 * (spacing - 1) + fx * spacing + kx * spacing;
        const double cy = 0.5 * (spacing - 1) + fy * spacing + ky * spacing;
        double expected = 0.0;
        if (cx >= -0.5 && cx < w - 0.5 && cy >= -0.5 && cy < h - 0.5) {
          const int bx = static_cast<int>(std::floor(cx)), by = static_cast<int>(std::floor(cy));
          for (int j = -1; j <= 2; ++j) {
            for (int i = -1; i <= 2; ++i) {
              expected += cubic_bspline(cx - (bx + i)) * cubic_bspline(cy - (by + j)) *
                          coef.at(mirror(bx + i, w), mirror(by + j, h));
            }
          }
          ++checked;
        }
        ASSERT_NEAR(out.image.at(kx, ky), expected, 1e-9) << kx << "," << ky;
      }
    }
    EXPECT_GT(checked, 50);
  }
}

TEST(Resample, HalvingA512PlaneKeepsEveryPixelOfTheRoi) {
  // Facts of the CheXGenBench case: ceil(512 / 2) pixels per axis, new pixel k at old index 2k + 0.5, so the
  // nearest-neighbour mask rounds up to old pixel 2k + 1 and never meets the excluded pixel (0, 0).
  ImageD image(512, 512, 1);
  for (int y = 0; y < 512; ++y) {
    for (int x = 0; x < 512; ++x) image.at(x, y) = 3.0 * x - 2.0 * y + 7.0;  // linear: reproduced exactly
  }
  const Plane out = resample_like_pyradiomics(image, chexgenbench_mask(512, 512), 2.0, 10);
  ASSERT_EQ(out.image.width, 256);
  ASSERT_EQ(out.image.height, 256);
  EXPECT_TRUE(std::all_of(out.mask.data.begin(), out.mask.data.end(), [](auto v) { return v == 1; }));
  // A cubic B-spline reproduces a linear ramp away from the edges (mirroring bends it near them, by ~0.27^d).
  for (int k : {17, 128, 200, 237}) {
    EXPECT_NEAR(out.image.at(k, 100), 3.0 * (2 * k + 0.5) - 2.0 * (2 * 100 + 0.5) + 7.0, 1e-9) << k;
    EXPECT_NEAR(out.image.at(100, k), 3.0 * (2 * 100 + 0.5) - 2.0 * (2 * k + 0.5) + 7.0, 1e-9) << k;
  }
}

TEST(Resample, OddSizeLeavesTheLastPixelOutsideTheImage) {
  // 511 pixels: ceil(255.5) = 256 new pixels, the last at old index 510.5 = n - 0.5, outside ITK's buffer -> 0.
  ImageD image(511, 9, 1);
  std::fill(image.data.begin(), image.data.end(), 5.0);
  Mask mask(511, 9, 1);
  std::fill(mask.data.begin(), mask.data.end(), std::uint8_t{1});
  const Plane out = resample_like_pyradiomics(image, mask, 2.0, 0);
  ASSERT_EQ(out.image.width, 256);
  EXPECT_NEAR(out.image.at(254, 2), 5.0, 1e-12);
  EXPECT_EQ(out.image.at(255, 2), 0.0);
  EXPECT_EQ(out.mask.at(254, 2), 1);
  EXPECT_EQ(out.mask.at(255, 2), 0);
}

TEST(CropToMask, BoundingBoxPlusPadClippedToTheImage) {
  ImageD image(20, 10, 1);
  for (std::size_t i = 0; i < image.data.size(); ++i) image.data[i] = static_cast<double>(i);
  Mask mask(20, 10, 1);
  mask.at(5, 3) = 1;
  mask.at(9, 4) = 1;
  const Plane out = crop_to_mask(image, mask, 4);  // x 1..13, y 0 (clipped from -1)..8
  ASSERT_EQ(out.image.width, 13);
  ASSERT_EQ(out.image.height, 9);
  EXPECT_EQ(out.image.at(0, 0), image.at(1, 0));
  EXPECT_EQ(out.image.at(12, 8), image.at(13, 8));
  EXPECT_EQ(out.mask.at(4, 3), 1);
  EXPECT_EQ(out.mask.at(8, 4), 1);
  EXPECT_EQ(std::count(out.mask.data.begin(), out.mask.data.end(), std::uint8_t{1}), 2);

  const Plane whole = crop_to_mask(image, mask, 100);
  EXPECT_EQ(whole.image.data, image.data);
}

TEST(Resample, SameSpacingOnlyCrops) {
  const ImageD image = testing::nih_crop("00000061_012.png", nlohmann::json{0, 0, 30, 20});
  const Mask mask = ellipse_mask(30, 20, 10, 8, 4, 3);
  const Plane crop = crop_to_mask(image, mask, 2);
  for (double input : {1.0, 0.8}) {
    const Plane same = resample_like_pyradiomics(image, mask, input * (1 + 1e-7), 2, input);  // numpy.allclose
    EXPECT_EQ(same.image.data, crop.image.data);
    EXPECT_EQ(same.mask.data, crop.mask.data);
    EXPECT_EQ(same.image.width, crop.image.width);
  }
  // A one-pixel ROI keeps the input spacing on both axes, so it is only cropped too.
  Mask dot(30, 20, 1);
  dot.at(0, 19) = 1;
  const Plane single = resample_like_pyradiomics(image, dot, 2.0, 3);
  EXPECT_EQ(single.image.width, 4);
  EXPECT_EQ(single.image.height, 4);
  EXPECT_EQ(single.image.at(0, 3), image.at(0, 19));
}

TEST(Resample, RefusesBadInput) {
  const ImageD image(8, 8, 1);
  Mask mask(8, 8, 1);
  EXPECT_THROW(resample_like_pyradiomics(image, mask, 2.0, 1), std::invalid_argument);  // empty ROI
  EXPECT_THROW(crop_to_mask(image, mask, 1), std::invalid_argument);
  mask.at(3, 3) = 1;
  mask.at(4, 5) = 1;
  EXPECT_THROW(resample_like_pyradiomics(image, Mask(8, 7, 1), 2.0, 1), std::invalid_argument);
  EXPECT_THROW(crop_to_mask(image, Mask(7, 8, 1), 1), std::invalid_argument);
  EXPECT_THROW(resample_like_pyradiomics(image, mask, 2.0, -1), std::invalid_argument);
  EXPECT_THROW(crop_to_mask(image, mask, -1), std::invalid_argument);
  for (double bad : {0.0, -2.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_THROW(resample_like_pyradiomics(image, mask, bad, 1), std::invalid_argument) << bad;
    EXPECT_THROW(resample_like_pyradiomics(image, mask, 2.0, 1, bad), std::invalid_argument) << bad;
  }
  EXPECT_THROW(resample_like_pyradiomics(image, mask, 1e-9, 1), std::invalid_argument);  // absurd size
}

}  // namespace
}  // namespace chexgen::radiomics
