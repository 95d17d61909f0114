// TorchScript models on LibTorch against the Python reference (tests/golden/deep/README.md): the same images
// through the reference preprocessing and the same model in torch 1.13 must give the same features: within a
// tolerance against the committed goldens (made on another machine), bit for bit against torch run here. The probe
// models return their (strided) input, so they check the preprocessing itself, value by value.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/deep/torch_model.h"
#include "chexgen/features/npy.h"
#include "chexgen/image/decode.h"
#include "support/tolerance.h"
#include "support/torch_reference.h"

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

using testing::kDeepFeatureTolerance;

testing::RowAgreement compare(const std::vector<double>& ours, const features::NpyMatrix& ref) {
  const MatrixF r = ref.to_f32();
  return testing::compare_rows(std::span<const double>(ours), std::span<const float>(r.values()), r.cols());
}

TorchModel load_model(const std::string& name, bool optimize) {
  return TorchModel(load_model_spec(kRoot / "tests/fixtures/models" / (name + ".pt")),
                    RunOptions{DeviceChoice::cpu, 1, optimize});
}

const std::vector<std::string> kModels = {"probe_inception", "probe_raddino", "probe_biovil", "probe_generic",
                                          "tiny_inception",  "tiny_raddino",  "tiny_biovil",  "tiny_generic"};

class GoldenModel : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenModel, MatchesTorchInPython) {
  const std::string name = GetParam();
  const auto images = golden_images();
  ASSERT_EQ(images.size(), 6u);
  const features::NpyMatrix ref = features::read_npy(kRoot / "tests/golden/deep" / (name + ".npy"));
  for (const bool optimize : {false, true}) {
    TorchModel model = load_model(name, optimize);
    const auto a = compare(features_of(model, images), ref);
    RecordProperty(name + (optimize ? "_optimized" : "_plain"), fmt::format("{:.3g}", a.worst_relative));
    if (name.starts_with("probe_")) {
      // The preprocessed pixels themselves: Pillow-exact resizing and the libraries' own float rounding (no BLAS).
      EXPECT_EQ(a.worst_absolute, 0.0) << name << (optimize ? " optimized" : "");
    } else {
      EXPECT_LT(a.worst_relative, kDeepFeatureTolerance) << name << (optimize ? " optimized" : "");
    }
  }
}

// docs/models.md's claim: unoptimised, on one thread, LibTorch runs the kernels torch 1.13 runs in Python, so the
// features are the same float32 bits. Only on the same machine with the same BLAS kernels: the reference is
// computed here, now, by torch in Python.
TEST_P(GoldenModel, PlainModuleIsBitIdenticalToTorchOnThisMachine) {
  const testing::TorchReference& here = testing::torch_reference();
  if (here.dir.empty()) GTEST_SKIP() << here.unavailable;
  const std::string name = GetParam();
  const features::NpyMatrix ref = features::read_npy(here.dir / (name + ".npy"));
  TorchModel model = load_model(name, false);
  // Python ran the sidecar's batch size; so does chexgen's extraction. One batch here must give the same bits.
  std::vector<double> ours;
  const auto images = golden_images();
  const std::size_t batch = static_cast<std::size_t>(model.spec().batch_size);
  for (std::size_t start = 0; start < images.size(); start += batch) {
    const std::vector<fs::path> part(images.begin() + start, images.begin() + std::min(images.size(), start + batch));
    const auto rows = features_of(model, part);
    ours.insert(ours.end(), rows.begin(), rows.end());
  }
  const MatrixF r = ref.to_f32();
  ASSERT_EQ(ours.size(), r.rows() * r.cols());
  for (std::size_t k = 0; k < ours.size(); ++k)
    ASSERT_EQ(static_cast<float>(ours[k]), r.values()[k])
        << name << ": row " << k / r.cols() << ", column " << k % r.cols();
}

INSTANTIATE_TEST_SUITE_P(Deep, GoldenModel, ::testing::ValuesIn(kModels));

// The tolerance has teeth: each mistake a port of a preprocessing pipeline makes (a resampling filter, a crop one
// pixel off, a normalisation constant, a skipped step) moves the features of the tiny models, which average most of
// what they see, at least 10x beyond it (measured: 4e-4 to 5e-3 of the features' scale, and more).
TEST(TorchModel, AWrongPreprocessingStepExceedsTheBound) {
  using Op = PreprocessStep::Op;
  const auto images = golden_images();
  struct Mistake {
    const char* model;
    const char* what;
    Op op;  // every step of this kind is changed; normalize steps are removed when `change` is empty
    std::function<void(PreprocessStep&)> change;
  };
  const Mistake mistakes[] = {
      {"tiny_generic", "bicubic instead of lanczos", Op::resize,
       [](PreprocessStep& s) { s.filter = ResampleFilter::bicubic; }},
      {"tiny_generic", "std 0.23 instead of 0.2318", Op::normalize, [](PreprocessStep& s) { s.std = {0.23}; }},
      {"tiny_biovil", "crop offset floored instead of rounded (the tinted image: 163 instead of 164)", Op::center_crop,
       [](PreprocessStep& s) { s.round_offset = false; }},
      {"tiny_raddino", "bilinear instead of bicubic", Op::resize,
       [](PreprocessStep& s) { s.filter = ResampleFilter::bilinear; }},
      {"tiny_raddino", "no normalisation", Op::normalize, nullptr},
      {"tiny_inception", "bicubic instead of bilinear", Op::resize,
       [](PreprocessStep& s) { s.filter = ResampleFilter::bicubic; }},
  };
  for (const Mistake& m : mistakes) {
    ModelSpec spec = load_model_spec(kRoot / "tests/fixtures/models" / (std::string(m.model) + ".pt"));
    auto& steps = spec.preprocessing.steps;
    if (m.change) {
      for (auto& s : steps)
        if (s.op == m.op) m.change(s);
    } else {
      std::erase_if(steps, [&](const PreprocessStep& s) { return s.op == m.op; });
    }
    TorchModel model(spec, RunOptions{DeviceChoice::cpu, 1, false});
    const features::NpyMatrix ref = features::read_npy(kRoot / "tests/golden/deep" / (std::string(m.model) + ".npy"));
    const auto a = compare(features_of(model, images), ref);
    RecordProperty(std::string(m.model) + ": " + m.what, fmt::format("{:.3g}", a.worst_relative));
    EXPECT_GT(a.worst_relative, 10 * kDeepFeatureTolerance) << m.model << ": " << m.what;
  }
}

TEST(TorchModel, BatchSizeDoesNotChangeTheFeaturesBeyondRounding) {
  const auto images = golden_images();
  TorchModel model = load_model("tiny_raddino", false);
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
