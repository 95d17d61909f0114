// PNG and JPEG decoding against Pillow 9.4: tests/golden/image_io/expected_pixels.json holds, for every
// fixture, Pillow's Image.open(f).convert("L" / "RGB" / "F") (8-bit PNG, all JPEG), or for 16-bit PNG
// the documented deviation round(v * 255 / 65535) computed with numpy. All comparisons are exact:
// same libjpeg-turbo on both sides, and integer or identically ordered float arithmetic.
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/image/decode.h"
#include "image_io_test_support.h"

namespace chexgen {
namespace {

using test::expected_pixels;
using test::image_fixture;

const std::vector<std::string> kFixtures = {
    "png/gray1.png",
    "png/gray2.png",
    "png/gray4.png",
    "png/gray8.png",
    "png/gray8_trns.png",
    "png/gray16.png",
    "png/gray_alpha8.png",
    "png/gray_alpha16.png",
    "png/rgb8.png",
    "png/rgb8_interlaced.png",
    "png/rgb16.png",
    "png/rgba8.png",
    "png/rgba16.png",
    "png/palette1.png",
    "png/palette2.png",
    "png/palette4.png",
    "png/palette8.png",
    "png/palette4_trns.png",
    "png/palette8_trns.png",
    "jpeg/gray.jpg",
    "jpeg/ycbcr420.jpg",
    "jpeg/ycbcr444.jpg",
    "jpeg/ycbcr422_progressive.jpg",
};

class PillowReferenceTest : public ::testing::TestWithParam<std::string> {
 protected:
  const nlohmann::json& expected() const { return expected_pixels().at("files").at(GetParam()); }
  std::filesystem::path path() const { return image_fixture(GetParam()); }
};

template <class T>
void expect_pixels_equal(const Image<T>& actual, const nlohmann::json& want, const std::string& key, int channels) {
  ASSERT_EQ(actual.width, want.at("width").get<int>());
  ASSERT_EQ(actual.height, want.at("height").get<int>());
  ASSERT_EQ(actual.channels, channels);
  const auto& values = want.at(key);
  ASSERT_EQ(values.size(), actual.data.size()) << key;
  int mismatches = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const T expected = static_cast<T>(values[i].get<double>());
    if (actual.data[i] != expected && ++mismatches <= 5) {
      ADD_FAILURE() << key << " sample " << i << " (pixel " << i / channels << ", channel " << i % channels << "): got "
                    << +actual.data[i] << ", Pillow/golden " << +expected;
    }
  }
  EXPECT_EQ(mismatches, 0) << key;
}

TEST_P(PillowReferenceTest, GrayU8MatchesConvertL) {
  expect_pixels_equal(read_image_u8(path(), ColorMode::gray), expected(), "L", 1);
}

TEST_P(PillowReferenceTest, RgbU8MatchesConvertRGB) {
  expect_pixels_equal(read_image_u8(path(), ColorMode::rgb), expected(), "RGB", 3);
}

TEST_P(PillowReferenceTest, GrayFloatMatchesConvertF) {
  expect_pixels_equal(read_image_float(path(), ColorMode::gray), expected(), "F", 1);
}

TEST_P(PillowReferenceTest, RgbFloatMatchesRgbValues) {
  expect_pixels_equal(read_image_float(path(), ColorMode::rgb), expected(), "RGB_F", 3);
}

TEST_P(PillowReferenceTest, DecodingFromMemoryEqualsReadingTheFile) {
  const std::string bytes = read_file_bytes(path());
  const std::span<const std::uint8_t> span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  EXPECT_EQ(decode_image_u8(span, "x", ColorMode::rgb).data, read_image_u8(path(), ColorMode::rgb).data);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PillowReferenceTest, ::testing::ValuesIn(kFixtures),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(PillowReferenceGolden, CoversEveryFixture) { EXPECT_EQ(expected_pixels().at("files").size(), kFixtures.size()); }

TEST(SniffImageFormat, RecognisesSignatures) {
  const std::uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0};
  const std::uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0};
  std::vector<std::uint8_t> dicom(132, 0);
  std::memcpy(dicom.data() + 128, "DICM", 4);
  const std::uint8_t text[] = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(sniff_image_format(png), ImageFormat::png);
  EXPECT_EQ(sniff_image_format(std::span(png, 3)), ImageFormat::png);  // a cut-off signature: truncated PNG
  EXPECT_EQ(sniff_image_format(jpeg), ImageFormat::jpeg);
  EXPECT_EQ(sniff_image_format(dicom), ImageFormat::dicom);
  EXPECT_EQ(sniff_image_format(text), ImageFormat::unknown);
  EXPECT_EQ(sniff_image_format({}), ImageFormat::unknown);
}

// The NIH ChestX-ray14 image bundled with the repository (data/sample, 256 x 256 8-bit gray).
TEST(BundledSample, MatchesPillowDigest) {
  const auto& sample = expected_pixels().at("bundled_sample");
  const std::filesystem::path path = std::filesystem::path(CHEXGEN_SOURCE_DIR) / sample.at("path").get<std::string>();
  const Image8 gray = read_image_u8(path, ColorMode::gray);
  EXPECT_EQ(gray.width, sample.at("width").get<int>());
  EXPECT_EQ(gray.height, sample.at("height").get<int>());
  EXPECT_EQ(sha256_hex(gray.data), sample.at("sha256_L").get<std::string>());
  EXPECT_EQ(sha256_hex(read_image_u8(path, ColorMode::rgb).data), sample.at("sha256_RGB").get<std::string>());
}

// A real NIH ChestX-ray14 image (512 x 512, 8-bit gray), when this machine has the data set;
// the golden holds SHA-256 digests of Pillow's convert("L") and convert("RGB") bytes.
TEST(NihSample, MatchesPillowDigest) {
  const auto& golden = expected_pixels();
  if (!golden.contains("nih_sample")) GTEST_SKIP() << "golden made without the NIH sample";
  const auto& sample = golden.at("nih_sample");
  const std::filesystem::path path = sample.at("path").get<std::string>();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not on this machine";
  const Image8 gray = read_image_u8(path, ColorMode::gray);
  EXPECT_EQ(gray.width, sample.at("width").get<int>());
  EXPECT_EQ(gray.height, sample.at("height").get<int>());
  EXPECT_EQ(sha256_hex(gray.data), sample.at("sha256_L").get<std::string>());
  EXPECT_EQ(sha256_hex(read_image_u8(path, ColorMode::rgb).data), sample.at("sha256_RGB").get<std::string>());
}

}  // namespace
}  // namespace chexgen
