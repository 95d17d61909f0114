// chexgen::resize and resize_bilinear_torch (and `chexgen resize`) against the golden files of
// tests/fixtures/make_resize_golden.py (Pillow 9.4 Image.resize; ATen's align_corners=False
// bilinear formula evaluated in numpy float64), stored in tests/golden/resize/.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/image/decode.h"
#include "chexgen/image/resize.h"

namespace chexgen {
namespace {

const std::string golden_dir = std::string(CHEXGEN_SOURCE_DIR) + "/tests/golden/resize/";

// One array of arrays.bin, as indexed by cases.json.
struct GoldenArray {
  std::string dtype;  // "uint8" or "float32"
  int height = 0;
  int width = 0;
  int channels = 1;
  std::size_t offset = 0;
  std::size_t nbytes = 0;
};

struct GoldenCase {
  std::string name;
  std::string reference;  // "pillow" or "torch_bilinear"
  ResampleFilter filter = ResampleFilter::nearest;
  int width = 0;
  int height = 0;
  std::string input;
  std::string output;
};

// A committed PNG decoded in `mode` and resized, as `chexgen resize` does.
struct GoldenPngCase {
  std::string name;
  std::string png;  // relative to the repository root
  ColorMode mode = ColorMode::gray;
  ResampleFilter filter = ResampleFilter::nearest;
  int width = 0;
  int height = 0;
  std::string output;
};

class Golden {
 public:
  Golden() {
    std::ifstream json_file(golden_dir + "cases.json");
    if (!json_file) throw std::runtime_error("cannot open " + golden_dir + "cases.json");
    const auto j = nlohmann::json::parse(json_file);
    for (const auto& [name, a] : j.at("arrays").items()) {
      GoldenArray array;
      array.dtype = a.at("dtype").get<std::string>();
      const auto shape = a.at("shape").get<std::vector<int>>();
      array.height = shape.at(0);
      array.width = shape.at(1);
      array.channels = shape.size() == 3 ? shape.at(2) : 1;
      array.offset = a.at("offset").get<std::size_t>();
      array.nbytes = a.at("nbytes").get<std::size_t>();
      arrays_.emplace(name, array);
    }
    for (const auto& c : j.at("cases")) {
      cases_.push_back({c.at("name").get<std::string>(), c.at("reference").get<std::string>(),
                        parse_resample_filter(c.at("filter").get<std::string>()), c.at("width").get<int>(),
                        c.at("height").get<int>(), c.at("input").get<std::string>(),
                        c.at("output").get<std::string>()});
    }
    for (const auto& c : j.at("png_cases")) {
      png_cases_.push_back({c.at("name").get<std::string>(), c.at("png").get<std::string>(),
                            c.at("mode").get<std::string>() == "rgb" ? ColorMode::rgb : ColorMode::gray,
                            parse_resample_filter(c.at("filter").get<std::string>()), c.at("width").get<int>(),
                            c.at("height").get<int>(), c.at("output").get<std::string>()});
    }
    std::ifstream blob_file(golden_dir + "arrays.bin", std::ios::binary);
    if (!blob_file) throw std::runtime_error("cannot open " + golden_dir + "arrays.bin");
    blob_.assign(std::istreambuf_iterator<char>(blob_file), std::istreambuf_iterator<char>());
  }

  const std::vector<GoldenCase>& cases() const { return cases_; }
  const std::vector<GoldenPngCase>& png_cases() const { return png_cases_; }
  const GoldenArray& array(const std::string& name) const { return arrays_.at(name); }

  template <class T>
  Image<T> image(const std::string& name) const {
    const GoldenArray& a = array(name);
    const bool is_u8 = std::is_same_v<T, std::uint8_t>;
    if (a.dtype != (is_u8 ? "uint8" : "float32")) throw std::runtime_error(name + ": unexpected dtype " + a.dtype);
    Image<T> im(a.width, a.height, a.channels);
    if (a.nbytes != im.data.size() * sizeof(T) || a.offset + a.nbytes > blob_.size()) {
      throw std::runtime_error(name + ": size does not match arrays.bin");
    }
    std::memcpy(im.data.data(), blob_.data() + a.offset, a.nbytes);  // little-endian host assumed
    return im;
  }

 private:
  std::map<std::string, GoldenArray> arrays_;
  std::vector<GoldenCase> cases_;
  std::vector<GoldenPngCase> png_cases_;
  std::vector<char> blob_;
};

const Golden& golden() {
  static const Golden g;
  return g;
}

bool is_u8(const GoldenCase& c) { return golden().array(c.input).dtype == "uint8"; }

struct Difference {
  std::size_t differing = 0;  // samples whose value differs at all
  double max_abs = 0.0;
  std::size_t samples = 0;
};

template <class T>
Difference compare(const Image<T>& actual, const Image<T>& expected) {
  Difference d;
  d.samples = expected.data.size();
  for (std::size_t i = 0; i < expected.data.size(); ++i) {
    const double diff = std::abs(static_cast<double>(actual.data[i]) - static_cast<double>(expected.data[i]));
    if (diff != 0.0) ++d.differing;
    if (diff > d.max_abs) d.max_abs = diff;
  }
  return d;
}

template <class T>
void expect_shape(const Image<T>& actual, const Image<T>& expected, const std::string& name) {
  ASSERT_EQ(actual.width, expected.width) << name;
  ASSERT_EQ(actual.height, expected.height) << name;
  ASSERT_EQ(actual.channels, expected.channels) << name;
}

TEST(ResizeReference, GoldenFilesCoverEveryFilterAndKind) {
  std::map<std::string, int> count;
  for (const auto& c : golden().cases()) {
    count[c.reference + "/" + (is_u8(c) ? "u8/" : "float/") + std::string(resample_filter_name(c.filter))]++;
  }
  for (const char* key :
       {"pillow/u8/nearest", "pillow/u8/bilinear", "pillow/u8/bicubic", "pillow/u8/lanczos", "pillow/float/nearest",
        "pillow/float/bilinear", "pillow/float/bicubic", "pillow/float/lanczos", "torch_bilinear/float/bilinear"}) {
    EXPECT_GE(count[key], 8) << key;
  }
}

// Acceptance (issue): 8-bit results equal Pillow's except at most 1 grey level on at most 0.1 % of
// the samples of each case. The next test checks that we in fact reach bit-identity.
TEST(ResizeReference, Pillow8BitWithinOneLevelOnAtMostOnePermille) {
  int checked = 0;
  for (const auto& c : golden().cases()) {
    if (c.reference != "pillow" || !is_u8(c)) continue;
    const auto input = golden().image<std::uint8_t>(c.input);
    const auto expected = golden().image<std::uint8_t>(c.output);
    const auto actual = resize(input, c.width, c.height, c.filter);
    expect_shape(actual, expected, c.name);
    const Difference d = compare(actual, expected);
    EXPECT_LE(d.max_abs, 1.0) << c.name;
    EXPECT_LE(static_cast<double>(d.differing), 0.001 * static_cast<double>(d.samples)) << c.name;
    ++checked;
  }
  EXPECT_GT(checked, 150);
}

TEST(ResizeReference, Pillow8BitIsBitIdentical) {
  std::size_t differing = 0;
  std::size_t samples = 0;
  for (const auto& c : golden().cases()) {
    if (c.reference != "pillow" || !is_u8(c)) continue;
    const auto actual = resize(golden().image<std::uint8_t>(c.input), c.width, c.height, c.filter);
    const auto expected = golden().image<std::uint8_t>(c.output);
    expect_shape(actual, expected, c.name);
    const Difference d = compare(actual, expected);
    EXPECT_EQ(d.differing, 0U) << c.name << ": max difference " << d.max_abs;
    differing += d.differing;
    samples += d.samples;
  }
  EXPECT_EQ(differing, 0U) << "of " << samples << " samples";
}

// |a - g| <= 1e-4: Pillow's 'F' path is double sums rounded to float per pass; we do the same, so the
// bound (about 3 float ulps at 255) only leaves room for a compiler that reorders the sums.
TEST(ResizeReference, PillowFloatWithin1e4) {
  int checked = 0;
  double worst = 0.0;
  for (const auto& c : golden().cases()) {
    if (c.reference != "pillow" || is_u8(c)) continue;
    const auto expected = golden().image<float>(c.output);
    const auto actual = resize(golden().image<float>(c.input), c.width, c.height, c.filter);
    expect_shape(actual, expected, c.name);
    const Difference d = compare(actual, expected);
    EXPECT_LE(d.max_abs, 1e-4) << c.name;
    worst = std::max(worst, d.max_abs);
    ++checked;
  }
  EXPECT_GT(checked, 90);
  RecordProperty("max_abs_difference", fmt::format("{:.3g}", worst));
}

// Same sums in the same order as Pillow: on this platform the float results are bit-identical too.
TEST(ResizeReference, PillowFloatIsBitIdentical) {
  std::size_t differing = 0;
  for (const auto& c : golden().cases()) {
    if (c.reference != "pillow" || is_u8(c)) continue;
    const auto actual = resize(golden().image<float>(c.input), c.width, c.height, c.filter);
    const auto expected = golden().image<float>(c.output);
    expect_shape(actual, expected, c.name);
    const Difference d = compare(actual, expected);
    EXPECT_EQ(d.differing, 0U) << c.name << ": max difference " << d.max_abs;
    differing += d.differing;
  }
  EXPECT_EQ(differing, 0U);
}

// |a - g| <= 1e-4: the golden values are ATen's formula in numpy float32, the arithmetic we do, so
// the bound (about 3 float ulps at 330) only leaves room for a compiler that fuses multiply-adds.
TEST(ResizeReference, TorchBilinearWithin1e4) {
  int checked = 0;
  double worst = 0.0;
  for (const auto& c : golden().cases()) {
    if (c.reference != "torch_bilinear") continue;
    const auto expected = golden().image<float>(c.output);
    const auto actual = resize_bilinear_torch(golden().image<float>(c.input), c.width, c.height);
    expect_shape(actual, expected, c.name);
    for (std::size_t i = 0; i < expected.data.size(); ++i) {
      const double g = expected.data[i];
      ASSERT_LE(std::abs(actual.data[i] - g), 1e-4) << c.name << " sample " << i;
      worst = std::max(worst, std::abs(actual.data[i] - g));
    }
    ++checked;
  }
  EXPECT_GE(checked, 24);
  RecordProperty("max_abs_difference", fmt::format("{:.3g}", worst));
}

// The CheXGenBench Inception preprocessing: a whole 512x512 NIH radiograph to 299x299, bilinear.
TEST(ResizeReference, FullRadiograph512To299BilinearIsBitIdentical) {
  const auto input = golden().image<std::uint8_t>("nih_full_512x512");
  const auto expected = golden().image<std::uint8_t>("nih_full_512x512__pillow_bilinear_299x299");
  const auto actual = resize(input, 299, 299, ResampleFilter::bilinear);
  expect_shape(actual, expected, "512->299");
  const Difference d = compare(actual, expected);
  EXPECT_EQ(d.differing, 0U) << "max difference " << d.max_abs;
}

// Decoding (read_image_u8) then resizing, the path of `chexgen resize`, against Pillow's
// Image.open(png).convert(mode).resize(size, filter).
TEST(ResizeReference, DecodedSamplePngIsBitIdentical) {
  ASSERT_FALSE(golden().png_cases().empty());
  for (const auto& c : golden().png_cases()) {
    const Image8 decoded = read_image_u8(std::string(CHEXGEN_SOURCE_DIR) + "/" + c.png, c.mode);
    const auto actual = resize(decoded, c.width, c.height, c.filter);
    const auto expected = golden().image<std::uint8_t>(c.output);
    expect_shape(actual, expected, c.name);
    EXPECT_EQ(compare(actual, expected).differing, 0U) << c.name;
  }
}

// The PNGs written by `chexgen resize` in the CTest fixture `resize_cli_output` (tests/resize/CMakeLists.txt),
// named <golden case name>.png in $CHEXGEN_RESIZE_CLI_OUTPUT_DIR; skipped when run outside that fixture.
TEST(ResizeCli, WrittenPngsMatchPillow) {
  const char* dir = std::getenv("CHEXGEN_RESIZE_CLI_OUTPUT_DIR");
  if (dir == nullptr) GTEST_SKIP() << "run by CTest after `chexgen resize` (test cli_resize_*)";
  for (const auto& c : golden().png_cases()) {
    const Image8 written = read_image_u8(std::string(dir) + "/" + c.name + ".png", c.mode);
    const auto expected = golden().image<std::uint8_t>(c.output);
    expect_shape(written, expected, c.name);
    EXPECT_EQ(compare(written, expected).differing, 0U) << c.name;
  }
}

// A resize that differs from the golden output must fail: the comparison is not vacuous.
TEST(ResizeReference, WrongFilterIsDetected) {
  const auto input = golden().image<std::uint8_t>("nih_full_512x512");
  const auto expected = golden().image<std::uint8_t>("nih_full_512x512__pillow_bilinear_299x299");
  const Difference d = compare(resize(input, 299, 299, ResampleFilter::bicubic), expected);
  EXPECT_GT(d.differing, 1000U);
}

}  // namespace
}  // namespace chexgen
