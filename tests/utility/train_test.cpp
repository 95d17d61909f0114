// The network input of the utility suite's training: CheXGenBench's square resize and flip, the default protocol's
// padding that keeps the aspect, ImageNet normalisation, and augmentation drawn from the seed alone.
#include <cmath>

#include <gtest/gtest.h>

#include "chexgen/image/filters.h"
#include "chexgen/image/resize.h"
#include "chexgen/utility/train.h"

namespace chexgen::utility {
namespace {

Image8 ramp(int w, int h) {
  Image8 im(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      im.data[static_cast<std::size_t>(y) * w + x] = static_cast<std::uint8_t>((x * 7 + y * 3) % 256);
  return im;
}

float normalised(std::uint8_t v, int channel) {
  constexpr float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
  return (static_cast<float>(v) / 255.0f - mean[channel]) / sd[channel];
}

TEST(NetworkInput, ChexgenbenchSquashesToASquareAsPillow) {
  const Image8 im = ramp(100, 60);
  const std::vector<float> x = network_input(im, Protocol::chexgenbench, 64, false, 0);
  const Image8 expected = resize(im, 64, 64, ResampleFilter::bilinear);
  ASSERT_EQ(x.size(), 3u * 64 * 64);
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < expected.data.size(); ++i)
      ASSERT_EQ(x[c * 64 * 64 + i], normalised(expected.data[i], c)) << c << " " << i;
}

TEST(NetworkInput, FixedKeepsTheAspectByPadding) {
  const Image8 im = ramp(100, 50);
  const std::vector<float> x = network_input(im, Protocol::fixed, 64, false, 0);
  const Image8 inner = resize(im, 64, 32, ResampleFilter::bilinear);
  for (int y = 0; y < 64; ++y)
    for (int xx = 0; xx < 64; ++xx) {
      const bool inside = y >= 16 && y < 48;
      const std::uint8_t v = inside ? inner.data[static_cast<std::size_t>(y - 16) * 64 + xx] : 0;
      ASSERT_EQ(x[static_cast<std::size_t>(y) * 64 + xx], normalised(v, 0)) << xx << "," << y;
    }
}

TEST(NetworkInput, AugmentationIsAFunctionOfTheDrawAndFixedNeverFlips) {
  const Image8 im = ramp(80, 80);
  EXPECT_EQ(network_input(im, Protocol::chexgenbench, 64, true, 5),
            network_input(im, Protocol::chexgenbench, 64, true, 5));
  EXPECT_NE(network_input(im, Protocol::chexgenbench, 64, true, 5),
            network_input(im, Protocol::chexgenbench, 64, true, 6));
  EXPECT_NE(network_input(im, Protocol::fixed, 64, true, 5), network_input(im, Protocol::fixed, 64, false, 5));
  // A flip is a mirror of the rotated image; the default protocol's augmented images are rotations only: over many
  // draws, the left half of the (left-dark) ramp stays darker than the right half every time.
  int flipped = 0;
  for (std::uint64_t draw = 0; draw < 40; ++draw)
    for (Protocol p : {Protocol::fixed, Protocol::chexgenbench}) {
      const std::vector<float> x = network_input(im, p, 64, true, draw);
      double left = 0, right = 0;
      for (int y = 16; y < 48; ++y)
        for (int xx = 8; xx < 56; ++xx) (xx < 32 ? left : right) += x[static_cast<std::size_t>(y) * 64 + xx];
      if (left > right) {
        EXPECT_EQ(p, Protocol::chexgenbench);
        ++flipped;
      }
    }
  EXPECT_GT(flipped, 5);  // CheXGenBench's flips half of them
}

TEST(RotateNearest, TurnsCounterClockwiseAboutTheCentre) {
  Image8 im(9, 9, 1);
  im.data[4 * 9 + 8] = 255;  // the middle of the right edge
  const Image8 r = rotate_nearest(im, 90.0);
  EXPECT_EQ(r.data[0 * 9 + 4], 255);  // now the middle of the top edge
  EXPECT_EQ(rotate_nearest(im, 0.0).data, im.data);
}

}  // namespace
}  // namespace chexgen::utility
