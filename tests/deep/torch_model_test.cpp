// TorchScript models on LibTorch against the Python reference (tests/golden/deep/README.md): the same images
// through the reference preprocessing and the same model in torch 1.13 must give the same features. The probe
// models return their (strided) input, so they check the preprocessing itself, value by value.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "chexgen/deep/torch_model.h"
#include "chexgen/features/npy.h"
#include "chexgen/image/decode.h"

namespace chexgen::deep {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);

std::vector<fs::path> golden_images() {
  std::ifstream in(kRoot / "tests/golden/deep/images.txt");
  std::vector<fs::path> images;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) images.push_back(kRoot / line);
  return images;
}

// Every golden image through chexgen's preprocessing and the model, one batch.
std::vector<double> features_of(TorchModel& model, const std::vector<fs::path>& images) {
  std::vector<PlanarImageF> inputs;
  for (const auto& p : images)
    inputs.push_back(preprocess(read_image_u8(p, model.spec().preprocessing.color), model.spec().preprocessing));
  std::vector<const PlanarImageF*> batch;
  for (const auto& in : inputs) batch.push_back(&in);
  std::vector<double> rows;
  model.run(batch, rows);
  return rows;
}

struct Agreement {
  double worst_relative = 0;  // max |ours - ref| / max |ref| of the row, over rows
  double worst_absolute = 0;
};

Agreement compare(const std::vector<double>& ours, const features::NpyMatrix& ref) {
  EXPECT_EQ(ours.size(), ref.rows() * ref.cols());
  const metrics::MatrixF r = ref.to_f32();
  Agreement a;
  for (std::size_t i = 0; i < ref.rows(); ++i) {
    double scale = 0, diff = 0;
    for (std::size_t j = 0; j < ref.cols(); ++j) {
      scale = std::max(scale, std::abs(static_cast<double>(r(i, j))));
      diff = std::max(diff, std::abs(ours[i * ref.cols() + j] - r(i, j)));
    }
    a.worst_absolute = std::max(a.worst_absolute, diff);
    a.worst_relative = std::max(a.worst_relative, scale > 0 ? diff / scale : diff);
  }
  return a;
}

class GoldenModel : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenModel, MatchesTorchInPython) {
  const std::string name = GetParam();
  const auto images = golden_images();
  ASSERT_EQ(images.size(), 6u);
  const features::NpyMatrix ref = features::read_npy(kRoot / "tests/golden/deep" / (name + ".npy"));
  for (const bool optimize : {false, true}) {
    TorchModel model(load_model_spec(kRoot / "tests/fixtures/models" / (name + ".pt")),
                     RunOptions{DeviceChoice::cpu, 1, optimize});
    const Agreement a = compare(features_of(model, images), ref);
    RecordProperty(name + (optimize ? "_optimized" : "_plain"), fmt::format("{:.3g}", a.worst_relative));
    if (name.starts_with("probe_")) {
      // The preprocessed pixels themselves: Pillow-exact resizing and the libraries' own float rounding.
      EXPECT_EQ(a.worst_absolute, 0.0) << name << (optimize ? " optimized" : "");
    } else {
      // The bound: features agree to 1e-4 of their scale (convolutions may sum in another order).
      EXPECT_LT(a.worst_relative, 1e-4) << name << (optimize ? " optimized" : "");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Deep, GoldenModel,
                         ::testing::Values("probe_inception", "probe_raddino", "probe_biovil", "probe_generic",
                                           "tiny_inception", "tiny_raddino", "tiny_biovil", "tiny_generic"));

TEST(TorchModel, BatchSizeDoesNotChangeTheFeaturesBeyondRounding) {
  const auto images = golden_images();
  TorchModel model(load_model_spec(kRoot / "tests/fixtures/models/tiny_raddino.pt"),
                   RunOptions{DeviceChoice::cpu, 1, false});
  const std::vector<double> together = features_of(model, images);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::vector<double> alone = features_of(model, {images[i]});
    for (std::size_t j = 0; j < alone.size(); ++j)
      ASSERT_NEAR(alone[j], together[i * alone.size() + j], 1e-5 * (1 + std::abs(alone[j])));
  }
}

TEST(TorchModel, AModelThatDisagreesWithItsSidecarIsNamed) {
  const fs::path dir = kRoot / "tests/fixtures/faulty_models";
  const auto images = golden_images();
  TorchModel wrong(load_model_spec(dir / "wrong_dim.pt"), RunOptions{DeviceChoice::cpu, 1, true});
  try {
    features_of(wrong, images);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("wrong_dim.pt: output 'features' has shape [6, 5] for a batch of 6; the "
                                    "sidecar says dim 4"));
  }
  try {
    TorchModel broken(load_model_spec(dir / "not_torchscript.pt"), RunOptions{});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not_torchscript.pt: cannot load the TorchScript model"));
  }
}

TEST(TorchModel, CudaWithoutAGpuIsAUsageError) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW(TorchModel(load_model_spec(kRoot / "tests/fixtures/models/tiny_biovil.pt"),
                          RunOptions{DeviceChoice::cuda, 1, true}),
               UsageError);
}

}  // namespace
}  // namespace chexgen::deep
