// Preprocessing steps one by one, on images small enough to check by hand: the conventions that differ between
// the reference libraries (crop offsets, shortest-edge sizes, float rounding) are where a port goes wrong.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/deep/preprocess.h"

namespace chexgen::deep {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

Image8 ramp(int w, int h, int channels = 1) {
  Image8 im(w, h, channels);
  for (std::size_t i = 0; i < im.data.size(); ++i) im.data[i] = static_cast<std::uint8_t>(i % 251);
  return im;
}

Preprocessing parse(const std::string& text) { return parse_preprocessing(json::parse(text), Location{"m.json"}); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Preprocess, CenterCropOffsetsFollowEachLibrary) {
  // 7 columns cropped to 4: HF takes floor(3 / 2) = 1, torchvision round(1.5) = 2 (half to even); 9 -> 4:
  // floor(2.5) = 2 and round(2.5) = 2.
  for (const auto& [width, floor_x, round_x] : std::vector<std::array<int, 3>>{{7, 1, 2}, {9, 2, 2}, {11, 3, 4}}) {
    const Image8 im = ramp(width, 4);
    for (const bool round : {false, true}) {
      const Preprocessing p = parse(fmt::format(
          R"({{"color": "gray", "steps": [{{"op": "center_crop", "size": [4, 4], "offset": "{}"}},
              {{"op": "to_float", "scale": 1}}], "channels": 1}})",
          round ? "round" : "floor"));
      const PlanarImageF t = preprocess(im, p);
      ASSERT_EQ(t.width, 4);
      EXPECT_EQ(t.values[0], im.at(round ? round_x : floor_x, 0)) << "width " << width << " round " << round;
    }
  }
}

TEST(Preprocess, ShortestEdgeKeepsTheAspectRatioTruncated) {
  // 300 x 200 with shortest edge 100: the long side is int(100 * 300 / 200) = 150; 200 x 299 -> 100 x int(149.5).
  const Preprocessing p = parse(R"({"color": "gray", "channels": 1, "steps": [
      {"op": "resize", "shortest_edge": 100, "filter": "bilinear"}, {"op": "to_float", "divide": 255}]})");
  EXPECT_EQ(preprocess(ramp(300, 200), p).width, 150);
  const PlanarImageF t = preprocess(ramp(200, 299), p);
  EXPECT_EQ(t.width, 100);
  EXPECT_EQ(t.height, 149);
}

TEST(Preprocess, MinMaxIsHiMlsFloat64Arithmetic) {
  Image8 im(3, 1, 1);
  im.data = {10, 11, 200};
  const Preprocessing p = parse(R"({"color": "gray", "channels": 1, "input": {"dtype": "uint8"},
                                    "steps": [{"op": "minmax_uint8"}]})");
  const PlanarImageF t = preprocess(im, p);
  // (11 - 10) / 190 * 255 = 1.342... truncates to 1.
  EXPECT_EQ(t.values, (std::vector<float>{0, 1, 255}));
  Image8 flat(2, 2, 1);
  flat.data = {7, 7, 7, 7};
  EXPECT_THROW(preprocess(flat, p), std::invalid_argument);
}

TEST(Preprocess, FloatConversionsRoundAsTheirLibraries) {
  Image8 im(2, 1, 1);
  im.data = {1, 254};
  const auto convert = [&](const std::string& step) {
    return preprocess(im, parse(R"({"color": "gray", "channels": 1, "steps": [)" + step + "]}")).values;
  };
  // HF: float32(double(v) * (1/255)); torchvision: float32(v) / 255.0f.
  EXPECT_EQ(
      convert(R"({"op": "to_float", "scale": 0.00392156862745098})"),
      (std::vector<float>{static_cast<float>(1 * 0.00392156862745098), static_cast<float>(254 * 0.00392156862745098)}));
  EXPECT_EQ(convert(R"({"op": "to_float", "divide": 255})"), (std::vector<float>{1.0f / 255.0f, 254.0f / 255.0f}));
  EXPECT_EQ(convert(R"({"op": "to_float", "divide": 255}, {"op": "normalize", "mean": 0.5, "std": 0.25})"),
            (std::vector<float>{(1.0f / 255.0f - 0.5f) / 0.25f, (254.0f / 255.0f - 0.5f) / 0.25f}));
}

TEST(Preprocess, GrayIsPillowsLumaAndExpandsToThreePlanes) {
  Image8 im(1, 1, 3);
  im.data = {255, 0, 0};  // pure red: (255 * 19595 + 0x8000) >> 16 = 76
  const Preprocessing p = parse(R"({"color": "rgb", "channels": 3, "input": {"dtype": "uint8"},
                                    "steps": [{"op": "to_gray"}]})");
  const PlanarImageF t = preprocess(im, p);
  EXPECT_EQ(t.channels, 3);
  EXPECT_EQ(t.values, (std::vector<float>{76, 76, 76}));
}

TEST(Preprocess, RgbStaysPlanarPerChannel) {
  Image8 im(2, 1, 3);
  im.data = {1, 2, 3, 4, 5, 6};
  const Preprocessing p = parse(R"({"color": "rgb", "input": {"dtype": "uint8"}, "steps": []})");
  EXPECT_EQ(preprocess(im, p).values, (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(Preprocess, PresetsAreTheirDocumentedSteps) {
  const Preprocessing inception = preset_preprocessing("inception-fid");
  EXPECT_EQ(inception.dtype, InputDtype::uint8);
  const PlanarImageF t = preprocess(ramp(512, 512, 3), inception);
  EXPECT_EQ(t.channels, 3);
  EXPECT_EQ(t.width, 299);
  const Preprocessing raddino = preset_preprocessing("raddino");
  EXPECT_EQ(preprocess(ramp(400, 300, 3), raddino).width, 518);
  const Preprocessing biovil = preset_preprocessing("biovil-image");
  const PlanarImageF b = preprocess(ramp(600, 400, 3), biovil);
  EXPECT_EQ(b.width, 448);
  EXPECT_EQ(b.height, 448);
  EXPECT_THROW(preset_preprocessing("inception"), UsageError);
  // A preset written out by hand is the same preprocessing (the store key depends only on the steps).
  Preprocessing again = parse_preprocessing(to_json(raddino), Location{"x"});
  EXPECT_EQ(to_json(again), to_json(raddino));
}

TEST(Preprocess, SidecarMistakesAreNamed) {
  EXPECT_THAT(error_of(R"({"color": "grey", "steps": []})"), HasSubstr("m.json: preprocess.color must be"));
  EXPECT_THAT(error_of(R"({"color": "gray", "steps": [], "colour": 1})"), HasSubstr("unknown key 'colour'"));
  EXPECT_THAT(error_of(R"({"color": "gray", "steps": [{"op": "blur"}]})"), HasSubstr("unknown op 'blur'"));
  EXPECT_THAT(error_of(R"({"color": "gray", "steps": [{"op": "resize", "size": 10}]})"),
              HasSubstr("resize needs a \"filter\""));
  EXPECT_THAT(error_of(R"({"color": "gray", "steps": [{"op": "resize", "size": 10, "shortest_edge": 3,
                           "filter": "bilinear"}]})"),
              HasSubstr("exactly one of"));
  EXPECT_THAT(error_of(R"({"color": "gray", "steps": [{"op": "normalize", "mean": 1, "std": 1}]})"),
              HasSubstr("normalize must come after to_float"));
  EXPECT_THAT(error_of(R"({"color": "gray", "steps": []})"), HasSubstr("a float32 input needs a to_float step"));
  EXPECT_THAT(error_of(R"({"color": "gray", "steps": [{"op": "to_float", "divide": 255},
                           {"op": "normalize", "mean": 1, "std": 0}]})"),
              HasSubstr("std holds a zero"));
  EXPECT_THAT(error_of(R"({"color": "gray", "steps": [{"op": "center_crop", "size": [3, 3]},
                           {"op": "to_float", "divide": 255}]})"),
              HasSubstr("needs an \"offset\""));
}

TEST(Preprocess, ImagesTheStepsCannotHandleAreRefusedWithTheReason) {
  const Preprocessing crop = parse(R"({"color": "gray", "channels": 1, "steps": [
      {"op": "center_crop", "size": [8, 8], "offset": "floor"}, {"op": "to_float", "divide": 255}]})");
  try {
    preprocess(ramp(5, 20), crop);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("center crop 8x8 is larger than the 5x20 image"));
  }
  const Preprocessing sized = parse(R"({"color": "gray", "channels": 1, "input": {"height": 10, "width": 10},
      "steps": [{"op": "to_float", "divide": 255}]})");
  EXPECT_THROW(preprocess(ramp(10, 11), sized), std::invalid_argument);
}

}  // namespace
}  // namespace chexgen::deep
