// The image degradations of the baseline generators: the blur is scipy's gaussian_filter (tests/golden/fidelity,
// made by make_blur_golden.py there); noise has the requested sd and is reproducible; down-up keeps the size.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/image/filters.h"
#include "chexgen/image/resize.h"

namespace chexgen {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot(CHEXGEN_SOURCE_DIR);

Image8 constant_image(int w, int h, std::uint8_t v) {
  Image8 im(w, h, 1);
  std::fill(im.data.begin(), im.data.end(), v);
  return im;
}

Image8 pattern_image(int w, int h) {
  Image8 im(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) im.at(x, y) = static_cast<std::uint8_t>((x * 7 + y * 13 + (x * y) % 5 * 29) % 256);
  return im;
}

TEST(GaussianBlur, KernelIsScipys) {
  const auto k = gaussian_kernel(2.0);
  ASSERT_EQ(k.size(), 17u);  // radius int(4 * 2 + 0.5) = 8
  double sum = 0;
  for (double v : k) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-15);
  EXPECT_NEAR(k[8] / k[9], std::exp(0.5 / 4.0), 1e-12);
  EXPECT_EQ(gaussian_kernel(1.0).size(), 9u);
  EXPECT_EQ(gaussian_kernel(4.0).size(), 33u);
}

TEST(GaussianBlur, ConstantImageStaysConstant) {
  for (const double sigma : {1.0, 2.0, 4.0}) {
    const Image8 out = gaussian_blur(constant_image(20, 9, 173), sigma);
    ASSERT_EQ(out.width, 20);
    ASSERT_EQ(out.height, 9);
    for (const auto v : out.data) ASSERT_EQ(v, 173) << "sigma " << sigma;
  }
}

TEST(GaussianBlur, ImpulseGivesTheSampledGaussian) {
  // An impulse far from the borders: the output is 255 g(dx) g(dy), with g the truncated, normalised Gaussian
  // computed here from its definition.
  for (const double sigma : {1.0, 2.0, 4.0}) {
    const int n = 61, c = 30;
    ImageF impulse(n, n, 1);
    impulse.at(c, c) = 255.0F;
    const ImageF out = gaussian_blur(impulse, sigma);
    const int radius = static_cast<int>(std::floor(4.0 * sigma + 0.5));
    double norm = 0;
    for (int i = -radius; i <= radius; ++i) norm += std::exp(-(i * i) / (2 * sigma * sigma));
    const auto g = [&](int d) { return std::abs(d) > radius ? 0.0 : std::exp(-(d * d) / (2 * sigma * sigma)) / norm; };
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x)
        ASSERT_NEAR(out.at(x, y), 255.0 * g(x - c) * g(y - c), 1e-4) << "sigma " << sigma << " at " << x << "," << y;
  }
}

TEST(GaussianBlur, MatchesScipyIncludingRepeatedReflections) {
  std::ifstream in(kRoot / "tests/golden/fidelity/blur_golden.json");
  ASSERT_TRUE(in) << "tests/golden/fidelity/blur_golden.json";
  const auto golden = nlohmann::json::parse(in);
  const int w = golden["width"], h = golden["height"];
  ImageF f(w, h, 1);
  Image8 u(w, h, 1);
  for (int i = 0; i < w * h; ++i) {
    f.data[i] = golden["input"][i].get<float>();
    u.data[i] = static_cast<std::uint8_t>(golden["input"][i].get<int>());
  }
  for (const auto& r : golden["results"]) {
    const double sigma = r["sigma"];
    const ImageF bf = gaussian_blur(f, sigma);
    const Image8 bu = gaussian_blur(u, sigma);
    ASSERT_EQ(bu.width, w);
    ASSERT_EQ(bu.height, h);
    for (int i = 0; i < w * h; ++i) {
      const double expected = r["blurred"][i];
      ASSERT_NEAR(bf.data[i], expected, 1e-4 * std::max(1.0, std::fabs(expected))) << "sigma " << sigma << " " << i;
      ASSERT_EQ(bu.data[i], r["rounded"][i].get<int>()) << "sigma " << sigma << " " << i;
    }
  }
}

TEST(GaussianNoise, HasTheRequestedSdAndIsReproducible) {
  const Image8 gray = constant_image(256, 256, 128);
  for (const double sd : {8.0, 16.0, 32.0}) {
    const Image8 noisy = add_gaussian_noise(gray, sd, 42, 3);
    ASSERT_EQ(noisy.width, 256);
    ASSERT_EQ(noisy.height, 256);
    double sum = 0, sum2 = 0;
    for (const auto v : noisy.data) {
      sum += v - 128.0;
      sum2 += (v - 128.0) * (v - 128.0);
    }
    const double n = static_cast<double>(noisy.data.size());
    const double mean = sum / n, sdev = std::sqrt(sum2 / n - mean * mean);
    // 65536 samples: the sd is known to well under 1 %; rounding adds 1/12 to the variance; sd 32 clips at 4 sd.
    EXPECT_NEAR(mean, 0.0, 0.05 * sd) << sd;
    EXPECT_NEAR(sdev, std::sqrt(sd * sd + 1.0 / 12.0), 0.02 * sd) << sd;
    EXPECT_EQ(noisy.data, add_gaussian_noise(gray, sd, 42, 3).data);
    EXPECT_NE(noisy.data, add_gaussian_noise(gray, sd, 42, 4).data);
    EXPECT_NE(noisy.data, add_gaussian_noise(gray, sd, 43, 3).data);
  }
  // Clipped, never wrapped: black and white stay in range and move inwards only.
  const Image8 black = add_gaussian_noise(constant_image(64, 64, 0), 32, 1, 0);
  const Image8 white = add_gaussian_noise(constant_image(64, 64, 255), 32, 1, 0);
  int black_zero = 0, white_full = 0;
  for (const auto v : black.data) black_zero += v == 0;
  for (const auto v : white.data) white_full += v == 255;
  EXPECT_NEAR(black_zero / 4096.0, 0.5, 0.05);
  EXPECT_NEAR(white_full / 4096.0, 0.5, 0.05);
}

TEST(DownUp, KeepsSizeAndFactorOneIsIdentity) {
  const Image8 im = pattern_image(37, 23);
  EXPECT_EQ(down_up(im, 1).data, im.data);
  for (const int f : {2, 4, 8}) {
    const Image8 out = down_up(im, f);
    EXPECT_EQ(out.width, 37);
    EXPECT_EQ(out.height, 23);
    EXPECT_NE(out.data, im.data);
    const Image8 expected =
        resize(resize(im, 37 / f, 23 / f, ResampleFilter::bilinear), 37, 23, ResampleFilter::bilinear);
    EXPECT_EQ(out.data, expected.data);
  }
  EXPECT_EQ(down_up(constant_image(16, 16, 90), 4).data, constant_image(16, 16, 90).data);
  EXPECT_THROW(down_up(im, 0), UsageError);
}

}  // namespace
}  // namespace chexgen
