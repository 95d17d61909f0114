// chexgen::resize: argument parsing, errors, hand-computed values and invariants.
// (Agreement with Pillow and torch on real images: resize_reference_test.cpp.)
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/image/resize.h"

namespace chexgen {
namespace {

constexpr ResampleFilter all_filters[] = {ResampleFilter::nearest, ResampleFilter::bilinear, ResampleFilter::bicubic,
                                          ResampleFilter::lanczos};

TEST(ResampleFilter, ParsesEveryNameAndRoundTrips) {
  for (const auto f : all_filters) EXPECT_EQ(parse_resample_filter(resample_filter_name(f)), f);
  EXPECT_EQ(parse_resample_filter("bilinear"), ResampleFilter::bilinear);
  EXPECT_EQ(resample_filter_name(ResampleFilter::lanczos), "lanczos");
}

TEST(ResampleFilter, UnknownNameIsUsageErrorListingTheChoices) {
  for (const char* bad : {"", "box", "hamming", "Bilinear", "bilinear ", "antialias"}) {
    try {
      parse_resample_filter(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(std::string("'") + bad + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("nearest, bilinear, bicubic or lanczos"), std::string::npos) << message;
    }
  }
}

TEST(ImageSize, ParsesSquareAndRectangle) {
  const auto square = parse_image_size("256");
  EXPECT_EQ(square.width, 256);
  EXPECT_EQ(square.height, 256);
  const auto rect = parse_image_size("640x480");
  EXPECT_EQ(rect.width, 640);
  EXPECT_EQ(rect.height, 480);
  EXPECT_EQ(parse_image_size("1x1").width, 1);
  EXPECT_EQ(parse_image_size("65536x1").width, max_resize_side_px);
  // Issue 18: the side limit alone let 65536 x 65536 (4.3 G pixels) through to a failed allocation; the pixel limit
  // that decoding applies refuses it with a message.
  EXPECT_THROW((void)parse_image_size("65536"), UsageError);
  EXPECT_EQ(parse_image_size("8192").width, 8192);  // 2^26 pixels: the default limit itself
}

TEST(ImageSize, RejectsMalformedOrOutOfRangeSizes) {
  for (const char* bad : {"", "0", "-5", "+5", "12x", "x12", "1.5", "256x256x3", "99999999999", "65537", " 256", "256 ",
                          "0x10", "10x0", "10X10", "ten", "10*10"}) {
    try {
      parse_image_size(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

Image8 ramp8(int width, int height, int channels) {
  Image8 im(width, height, channels);
  for (std::size_t i = 0; i < im.data.size(); ++i) im.data[i] = static_cast<std::uint8_t>((i * 37 + i / 7) % 256);
  return im;
}

TEST(Resize, InvalidSizeOrEmptyImageIsUsageError) {
  const Image8 im = ramp8(8, 6, 1);
  for (const auto f : all_filters) {
    EXPECT_THROW(resize(im, 0, 4, f), UsageError);
    EXPECT_THROW(resize(im, 4, -1, f), UsageError);
    EXPECT_THROW(resize(im, max_resize_side_px + 1, 4, f), UsageError);
    EXPECT_THROW(resize(Image8{}, 4, 4, f), UsageError);
    EXPECT_THROW(resize(ImageF(0, 3, 1), 4, 4, f), UsageError);
  }
  EXPECT_THROW(resize_bilinear_torch(ImageF(8, 6, 1), 0, 3), UsageError);
  EXPECT_THROW(resize_bilinear_torch(ImageF{}, 3, 3), UsageError);
}

TEST(Resize, SameSizeIsACopy) {
  const Image8 im = ramp8(9, 7, 3);
  for (const auto f : all_filters) EXPECT_EQ(resize(im, 9, 7, f).data, im.data);
}

// Pillow's NEAREST takes the source pixel under each output pixel's centre: x_src = floor((x + 0.5) * 4 / 2).
TEST(Resize, NearestPicksThePixelUnderTheCentre) {
  Image8 im(4, 4, 1);
  for (int i = 0; i < 16; ++i) im.data[i] = static_cast<std::uint8_t>(i);
  const Image8 out = resize(im, 2, 2, ResampleFilter::nearest);
  EXPECT_EQ(out.data, (std::vector<std::uint8_t>{5, 7, 13, 15}));
  const Image8 up = resize(im, 8, 1, ResampleFilter::nearest);  // rows: floor(0.5 * 4) = 2
  EXPECT_EQ(up.data, (std::vector<std::uint8_t>{8, 8, 9, 9, 10, 10, 11, 11}));
}

// Pillow BILINEAR 4 -> 2 (scale 2, support 2): output 0 has centre 1 and taps 0..2 with triangle
// weights 0.75, 0.75, 0.25 (normalised: 3/7, 3/7, 1/7); output 1 has taps 1..3 with 1/7, 3/7, 3/7.
TEST(Resize, BilinearDownscaleMatchesHandComputedWeights) {
  ImageF im(4, 1, 1);
  im.data = {0.0F, 70.0F, 140.0F, 210.0F};
  const ImageF out = resize(im, 2, 1, ResampleFilter::bilinear);
  EXPECT_NEAR(out.data[0], 50.0, 1e-4);   // (3*0 + 3*70 + 140) / 7
  EXPECT_NEAR(out.data[1], 160.0, 1e-4);  // (70 + 3*140 + 3*210) / 7
  Image8 im8(4, 1, 1);
  im8.data = {0, 70, 140, 210};
  EXPECT_EQ(resize(im8, 2, 1, ResampleFilter::bilinear).data, (std::vector<std::uint8_t>{50, 160}));
}

// torch bilinear, align_corners=False: src = max((dst + 0.5) * in / out - 0.5, 0), no antialias.
TEST(ResizeTorch, HandComputedDownscaleAndUpscale) {
  ImageF im(4, 1, 1);
  im.data = {0.0F, 70.0F, 140.0F, 210.0F};
  const ImageF down = resize_bilinear_torch(im, 2, 1);  // src 0.5 and 2.5
  EXPECT_FLOAT_EQ(down.data[0], 35.0F);
  EXPECT_FLOAT_EQ(down.data[1], 175.0F);
  ImageF two(2, 1, 1);
  two.data = {10.0F, 50.0F};
  const ImageF up = resize_bilinear_torch(two, 4, 1);  // src 0 (clamped), 0.25, 0.75, 1.25 -> edge
  EXPECT_FLOAT_EQ(up.data[0], 10.0F);
  EXPECT_FLOAT_EQ(up.data[1], 20.0F);
  EXPECT_FLOAT_EQ(up.data[2], 40.0F);
  EXPECT_FLOAT_EQ(up.data[3], 50.0F);
  // A 4x downscale reads only columns 1, 2 (src 1.5) and 5, 6 (src 5.5): the bright columns 3 and 4
  // vanish. No antialiasing, unlike Pillow, whose widened triangle sees them.
  ImageF stripes(8, 1, 1);
  stripes.data = {0, 0, 0, 100, 100, 0, 0, 0};
  EXPECT_EQ(resize_bilinear_torch(stripes, 2, 1).data, (std::vector<float>{0.0F, 0.0F}));
  EXPECT_GT(resize(stripes, 2, 1, ResampleFilter::bilinear).data[0], 10.0F);
}

TEST(Resize, ConstantImageStaysConstant) {
  for (const auto f : all_filters) {
    for (const auto& [w, h] : {std::pair{1, 1}, {5, 3}, {17, 40}, {61, 9}}) {
      Image8 im8(23, 19, 1);
      std::fill(im8.data.begin(), im8.data.end(), std::uint8_t{255});
      for (const auto v : resize(im8, w, h, f).data) ASSERT_EQ(v, 255) << resample_filter_name(f);
      ImageF imf(23, 19, 1);
      std::fill(imf.data.begin(), imf.data.end(), 117.25F);
      for (const auto v : resize(imf, w, h, f).data) ASSERT_NEAR(v, 117.25, 1e-4) << resample_filter_name(f);
      for (const auto v : resize_bilinear_torch(imf, w, h).data) ASSERT_NEAR(v, 117.25, 1e-4);
    }
  }
}

// Channels are resized independently: an RGB result equals three gray results.
TEST(Resize, ChannelsAreIndependent) {
  const Image8 rgb = ramp8(13, 11, 3);
  for (const auto f : all_filters) {
    const Image8 out = resize(rgb, 7, 17, f);
    for (int c = 0; c < 3; ++c) {
      Image8 gray(13, 11, 1);
      for (int y = 0; y < 11; ++y)
        for (int x = 0; x < 13; ++x) gray.at(x, y) = rgb.at(x, y, c);
      const Image8 gray_out = resize(gray, 7, 17, f);
      for (int y = 0; y < 17; ++y)
        for (int x = 0; x < 7; ++x) ASSERT_EQ(out.at(x, y, c), gray_out.at(x, y)) << resample_filter_name(f);
    }
  }
}

// Ringing filters overshoot at hard edges; 8-bit results are clipped to 0..255, float ones are not.
TEST(Resize, LanczosOvershootIsClippedIn8BitOnly) {
  Image8 im8(8, 1, 1);
  im8.data = {0, 0, 0, 0, 255, 255, 255, 255};
  ImageF imf(8, 1, 1);
  imf.data.assign(im8.data.begin(), im8.data.end());
  const Image8 out8 = resize(im8, 20, 1, ResampleFilter::lanczos);
  const ImageF outf = resize(imf, 20, 1, ResampleFilter::lanczos);
  float lo = 0.0F;
  float hi = 0.0F;
  for (int x = 0; x < 20; ++x) {
    lo = std::min(lo, outf.data[x]);
    hi = std::max(hi, outf.data[x]);
  }
  EXPECT_LT(lo, -1.0F);
  EXPECT_GT(hi, 256.0F);
  EXPECT_EQ(*std::min_element(out8.data.begin(), out8.data.end()), 0);
  EXPECT_EQ(*std::max_element(out8.data.begin(), out8.data.end()), 255);
}

}  // namespace
}  // namespace chexgen
