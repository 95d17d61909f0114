// write_png: what it writes reads back bit for bit; failures are OutputErrors naming the path.
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/image/decode.h"
#include "support/scratch_dir.h"

namespace chexgen {
namespace {

class WritePngTest : public ::testing::Test {
 protected:
  void SetUp() override {
dir_ = chexgen::testing::make_scratch_dir("write-png"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Image8 random_image(int width, int height, int channels, unsigned seed) {
    Image8 image(width, height, channels);
    std::mt19937 rng(seed);
    for (auto& v : image.data) v = static_cast<std::uint8_t>(rng() & 0xFF);
    return image;
  }
  std::filesystem::path dir_;
};

TEST_F(WritePngTest, GrayRoundTrip) {
  const Image8 image = random_image(13, 7, 1, 1);
  write_png(dir_ / "gray.png", image);
  const Image8 back = read_image_u8(dir_ / "gray.png", ColorMode::gray);
  EXPECT_EQ(back.width, 13);
  EXPECT_EQ(back.height, 7);
  EXPECT_EQ(back.channels, 1);
  EXPECT_EQ(back.data, image.data);
}

TEST_F(WritePngTest, RgbRoundTrip) {
  const Image8 image = random_image(5, 11, 3, 2);
  write_png(dir_ / "rgb.png", image);
  const Image8 back = read_image_u8(dir_ / "rgb.png", ColorMode::rgb);
  EXPECT_EQ(back.width, 5);
  EXPECT_EQ(back.height, 11);
  EXPECT_EQ(back.data, image.data);
}

TEST_F(WritePngTest, OverwritesAnExistingFile) {
  write_png(dir_ / "x.png", random_image(4, 4, 1, 3));
  const Image8 second = random_image(2, 3, 3, 4);
  write_png(dir_ / "x.png", second);
  EXPECT_EQ(read_image_u8(dir_ / "x.png", ColorMode::rgb).data, second.data);
}

TEST_F(WritePngTest, UnwritablePathIsOutputErrorNamingIt) {
  const auto path = dir_ / "no_such_folder" / "out.png";
  try {
    write_png(path, random_image(2, 2, 1, 5));
    FAIL() << "expected OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST_F(WritePngTest, EmptyImageIsOutputError) {
  EXPECT_THROW(write_png(dir_ / "empty.png", Image8()), OutputError);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "empty.png"));
}

}  // namespace
}  // namespace chexgen
