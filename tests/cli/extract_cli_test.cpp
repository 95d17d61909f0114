// `chexgen extract` end to end: the exported features are the Python reference's (tests/golden/deep), a rerun and
// a run after a failure only compute what is missing, bad images and misbehaving models are named, radiomics
// goes through the same command.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/features/npy.h"
#include "run_command.h"
#include "support/tolerance.h"
#include "support/torch_reference.h"

namespace chexgen::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);
const fs::path kModels = kRoot / "tests/fixtures/models";

std::vector<std::string> golden_images() {
  std::ifstream in(kRoot / "tests/golden/deep/images.txt");
  std::vector<std::string> images;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) images.push_back((kRoot / line).string());
  return images;
}

fs::path write_manifest(const fs::path& dir, const std::vector<std::string>& images) {
  const fs::path manifest = dir / "images.csv";
  std::ofstream out(manifest);
  out << "file_name,Effusion\n";
  for (const auto& im : images) out << im << ",0\n";
  return manifest;
}

std::vector<std::string> extract_args(const fs::path& manifest, const fs::path& dir, const std::string& model) {
  return {"extract",  manifest.string(), "--format", "onehot",  "--labels",
          "Effusion", "--model",         model,      "--store", (dir / "store").string()};
}

TEST(ExtractCli, ExportsThePythonReferenceFeaturesAndReusesTheStore) {
  const fs::path dir = make_temp_dir();
  const auto images = golden_images();
  const fs::path manifest = write_manifest(dir, images);
  auto args = extract_args(manifest, dir, (kModels / "tiny_generic.pt").string());
  // One thread, as the golden file was made: convolutions split over threads may sum in another order.
  args.insert(args.end(), {"--no-optimize", "--threads", "1", "--out", (dir / "out").string()});
  auto r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("tiny_generic: " + manifest.string() + ": 6 images (6 computed, 0 from the store)"));
  EXPECT_THAT(r.err, HasSubstr("images/s"));

  // Within 1e-5 of the features' scale of the committed golden, made on a machine whose BLAS kernels may round
  // otherwise (tests/deep/torch_model_test.cpp shows that a wrong preprocessing step exceeds the bound);
  // PlainModelIsBitIdenticalToTorchOnThisMachine checks the bits.
  const auto ours = features::read_npy(dir / "out/emb.npy").to_f32();
  const auto golden = features::read_npy(kRoot / "tests/golden/deep/tiny_generic.npy").to_f32();
  ASSERT_EQ(ours.rows(), 6u);
  ASSERT_EQ(ours.cols(), golden.cols());
  EXPECT_LT(compare_rows(std::span<const float>(ours.values()), std::span<const float>(golden.values()), ours.cols())
                .worst_relative,
            kDeepFeatureTolerance);
  const std::string index = read_text(dir / "out/index.csv");
  EXPECT_THAT(index, HasSubstr("row,id,image\n0,"));
  EXPECT_THAT(index, HasSubstr("5," + images[5] + "," + images[5] + "\n"));
  const auto info = nlohmann::json::parse(read_text(dir / "out/extraction.json"));
  EXPECT_EQ(info["extractor"]["preset"], "generic");
  EXPECT_EQ(info["computed"], 6);
  // Where the time went: every part measured, the network's inference on one thread within the wall time.
  const auto& time = info["time_summed_over_threads"];
  for (const char* part : {"reading", "preparing", "computing", "waiting_for_inputs"})
    EXPECT_GT(time[part].get<double>(), 0.0) << part;
  EXPECT_LE(time["computing"].get<double>(), info["seconds"].get<double>());
  EXPECT_THAT(r.err, HasSubstr("time summed over threads: reading "));
  EXPECT_THAT(r.err, HasSubstr(", inference waiting for inputs "));

  // Again: nothing is computed, the export is the same.
  const std::string first = read_text(dir / "out/emb.npy");
  r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("6 images (0 computed, 6 from the store)"));
  EXPECT_EQ(read_text(dir / "out/emb.npy"), first);
}

// Unoptimised, on as many threads, LibTorch runs the very kernels torch 1.13 runs in Python: the same float32 bits,
// against torch run on this machine now (a golden file would pin the BLAS kernels of the machine that made it).
TEST(ExtractCli, PlainModelIsBitIdenticalToTorchOnThisMachine) {
  const TorchReference& here = torch_reference();
  if (here.dir.empty()) GTEST_SKIP() << here.unavailable;
  const fs::path dir = make_temp_dir();
  auto args = extract_args(write_manifest(dir, golden_images()), dir, (kModels / "tiny_generic.pt").string());
  args.insert(args.end(), {"--no-optimize", "--threads", "1", "--out", (dir / "out").string()});
  const auto r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ours = features::read_npy(dir / "out/emb.npy").to_f32();
  const auto ref = features::read_npy(here.dir / "tiny_generic.npy").to_f32();
  ASSERT_EQ(ours.values().size(), ref.values().size());
  for (std::size_t k = 0; k < ref.values().size(); ++k) ASSERT_EQ(ours.values()[k], ref.values()[k]) << k;
}

TEST(ExtractCli, AFailedRunKeepsWhatItComputed) {
  const fs::path dir = make_temp_dir();
  auto images = golden_images();
  images.push_back((dir / "late.png").string());  // not there yet
  const fs::path manifest = write_manifest(dir, images);
  const auto args = extract_args(manifest, dir, (kModels / "tiny_biovil.pt").string());
  auto r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("images.csv:8: column 'file_name': image '" + images.back() + "'"));
  fs::copy_file(images[0], dir / "late.png");  // the user fixes the input; the same content is already stored
  r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("7 images (0 computed, 7 from the store)"));
}

TEST(ExtractCli, BadImagesAndBadModelOutputsAreNamed) {
  const fs::path dir = make_temp_dir();
  { std::ofstream(dir / "broken.png") << "not a png"; }
  const auto images = golden_images();
  const fs::path manifest = write_manifest(dir, {images[0], (dir / "broken.png").string(), images[1]});
  auto args = extract_args(manifest, dir, (kRoot / "tests/fixtures/faulty_models/nan_output.pt").string());
  auto r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("images.csv:2: column 'file_name': image '" + images[0] +
                               "': the model returned nan for feature 'features_0'"));
  EXPECT_THAT(r.err, HasSubstr("images.csv:3: column 'file_name': image '" + (dir / "broken.png").string()));
  EXPECT_THAT(r.err, HasSubstr("3 of 3 images could not be measured"));

  args = extract_args(manifest, dir, (kModels / "tiny_biovil.pt").string());
  args.push_back("--skip-bad");
  r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 images x 128 features"));

  args = extract_args(manifest, dir, (kRoot / "tests/fixtures/faulty_models/wrong_dim.pt").string());
  r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("wrong_dim.pt: output 'features' has shape [2, 5] for a batch of 2; the sidecar says "
                               "dim 4"));
}

TEST(ExtractCli, RadiomicsGoesThroughTheSameCommand) {
  const fs::path dir = make_temp_dir();
  const fs::path nih = kRoot / "tests/golden/radiomics/nih24";
  const fs::path manifest = write_manifest(dir, {(nih / "00000061_012.png").string()});
  const auto r = run_chexgen({"-q", "extract", manifest.string(), "--format", "onehot", "--labels", "Effusion",
                              "--preset", "radiomics", "--size", "0", "--resample-spacing", "0", "--store",
                              (dir / "store").string(), "--out", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto m = features::read_npy(dir / "out/radiomics.npy");
  EXPECT_EQ(m.dtype(), features::NpyDtype::float64);
  EXPECT_EQ(m.cols(), 390u);  // frd-v1 without resampling
}

TEST(ExtractCli, UsageMistakesExitTwo) {
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_manifest(dir, {golden_images()[0]});
  auto r = run_chexgen({"extract", manifest.string(), "--store", (dir / "s").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("give --model M.pt"));
  r = run_chexgen({"extract", manifest.string(), "--model", (kModels / "tiny_biovil.pt").string(), "--device", "tpu"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--device must be auto, cpu or cuda, not 'tpu'"));
  r = run_chexgen(
      {"extract", manifest.string(), "--model", (kModels / "tiny_biovil.pt").string(), "--preset", "raddino"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--preset raddino disagrees with the sidecar"));
}

}  // namespace
}  // namespace chexgen::testing
