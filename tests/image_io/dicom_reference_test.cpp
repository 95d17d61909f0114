// DICOM decoding against the DICOM standard's formulas (PS3.3 C.11), evaluated here in double from
// the stored values that tests/fixtures/make_dicom_fixtures.cpp wrote (formulas restated below).
// Every fixture is 7 x 5; pixel i = y * 7 + x.
// Float tolerance: |a - g| <= 1e-4 (the decoder stores float32; 255 has a float spacing of 1.5e-5).
// 8-bit output must be round-half-up of g, except within 1e-3 of a tie, where float32 may go either way.
#include <cmath>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/image/decode.h"
#include "image_io_test_support.h"

namespace chexgen {
namespace {

using test::image_fixture;

constexpr int kWidth = 7;
constexpr int kHeight = 5;
constexpr int kPixels = kWidth * kHeight;

// PS3.3 C.11.2.1.2.1, "LINEAR" window to 0..255.
double window_linear(double x, double c, double w) {
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}
// PS3.3 C.11.2.1.3.2, "LINEAR_EXACT".
double window_linear_exact(double x, double c, double w) {
  if (x <= c - w / 2) return 0;
  if (x > c + w / 2) return 255;
  return ((x - c) / w + 0.5) * 255;
}
// PS3.3 C.11.2.1.3.1, "SIGMOID".
double window_sigmoid(double x, double c, double w) { return 255 / (1 + std::exp(-4 * (x - c) / w)); }

// Stored 12-bit values of the mono*_u12* files: i * 4095 / 34 (integer division); min 0, max 4095.
double u12_min_max(int i) { return static_cast<double>(i * 4095 / 34) / 4095.0 * 255.0; }

void expect_gray(const std::string& fixture, const std::function<double(int)>& expected) {
  SCOPED_TRACE(fixture);
  const ImageF f = read_image_float(image_fixture(fixture), ColorMode::gray);
  const Image8 u = read_image_u8(image_fixture(fixture), ColorMode::gray);
  ASSERT_EQ(f.width, kWidth);
  ASSERT_EQ(f.height, kHeight);
  ASSERT_EQ(f.channels, 1);
  ASSERT_EQ(u.data.size(), static_cast<std::size_t>(kPixels));
  for (int i = 0; i < kPixels; ++i) {
    const double g = expected(i);
    EXPECT_LE(std::abs(f.data[i] - g), 1e-4) << "pixel " << i << ": got " << f.data[i] << ", expected " << g;
    const double frac = g - std::floor(g);
    if (std::abs(frac - 0.5) > 1e-3) {
      EXPECT_EQ(u.data[i], static_cast<int>(std::floor(g + 0.5))) << "pixel " << i << ", expected " << g;
    }
  }
  // RGB output replicates gray.
  const Image8 rgb = read_image_u8(image_fixture(fixture), ColorMode::rgb);
  ASSERT_EQ(rgb.channels, 3);
  for (int i = 0; i < kPixels; ++i) {
    EXPECT_EQ(rgb.data[3 * i], u.data[i]);
    EXPECT_EQ(rgb.data[3 * i + 1], u.data[i]);
    EXPECT_EQ(rgb.data[3 * i + 2], u.data[i]);
  }
}

TEST(DicomReference, Monochrome2MinMaxIgnoresBitsAboveBitsStored) {
  // Odd pixels carry 0xA000 in the unused high bits; the expected values ignore them.
  expect_gray("dicom/mono2_u12.dcm", u12_min_max);
}

TEST(DicomReference, Monochrome1IsInverted) {
  expect_gray("dicom/mono1_u12.dcm", [](int i) { return 255.0 - u12_min_max(i); });
}

TEST(DicomReference, JpegLosslessEqualsUncompressed) { expect_gray("dicom/mono2_u12_jpeg_lossless.dcm", u12_min_max); }
TEST(DicomReference, JpegLsLosslessEqualsUncompressed) { expect_gray("dicom/mono2_u12_jpegls.dcm", u12_min_max); }
TEST(DicomReference, RleEqualsUncompressed) { expect_gray("dicom/mono2_u12_rle.dcm", u12_min_max); }

TEST(DicomReference, SignedRescaleThenFirstLinearWindow) {
  // stored = -1000 + 61 i (signed 16 bits); x = 0.5 * stored - 100; first window: centre 0, width 500.
  expect_gray("dicom/mono2_s16_rescale_window.dcm", [](int i) {
    const double x = 0.5 * (-1000 + 61 * i) - 100;
    return window_linear(x, 0, 500);
  });
}

TEST(DicomReference, EightBitLinearExactWindow) {
  // stored = 7 i (8 bits); centre 120, width 100, LINEAR_EXACT.
  expect_gray("dicom/mono2_u8_window_exact.dcm", [](int i) { return window_linear_exact(7 * i, 120, 100); });
}

TEST(DicomReference, SigmoidWindowOnMonochrome1) {
  // stored = 30 i (10 of 16 bits); centre 512, width 400, SIGMOID; MONOCHROME1 inverts the result.
  expect_gray("dicom/mono1_u10_sigmoid.dcm", [](int i) { return 255 - window_sigmoid(30 * i, 512, 400); });
}

TEST(DicomReference, VoiLutTakesPrecedenceOverWindow) {
  // stored = 117 i; LUT (4096 entries from 0, 12 bits) LUT[k] = k * k / 4096; output LUT / 4095 * 255.
  expect_gray("dicom/mono2_u12_voilut.dcm", [](int i) {
    const long k = 117L * i;
    return static_cast<double>(k * k / 4096) / 4095.0 * 255.0;
  });
}

TEST(DicomReference, RgbPlanarConfigurationOne) {
  // R = 7 i, G = 255 - 5 i, B = 37 i mod 256, stored plane by plane.
  const Image8 rgb = read_image_u8(image_fixture("dicom/rgb8_planar.dcm"), ColorMode::rgb);
  const Image8 gray = read_image_u8(image_fixture("dicom/rgb8_planar.dcm"), ColorMode::gray);
  ASSERT_EQ(rgb.channels, 3);
  ASSERT_EQ(rgb.data.size(), static_cast<std::size_t>(3 * kPixels));
  for (int i = 0; i < kPixels; ++i) {
    const unsigned r = (7 * i) % 256, g = 255 - 5 * i, b = (37 * i) % 256;
    EXPECT_EQ(rgb.data[3 * i], r) << i;
    EXPECT_EQ(rgb.data[3 * i + 1], g) << i;
    EXPECT_EQ(rgb.data[3 * i + 2], b) << i;
    // Pillow's RGB -> L (ITU-R 601-2 luma, 16-bit fixed point with rounding).
    EXPECT_EQ(gray.data[i], (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) << i;
  }
}

}  // namespace
}  // namespace chexgen
