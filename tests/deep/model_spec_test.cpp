// Sidecars: what a model file is paired with, what is refused, and what changes the feature store's key.
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "chexgen/deep/model_spec.h"

namespace chexgen::deep {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kModels = fs::path(CHEXGEN_SOURCE_DIR) / "tests/fixtures/models";

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("chexgen-model-spec-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

template <class E>
std::string error_of(const fs::path& model, const std::optional<std::string>& preset = {}) {
  try {
    load_model_spec(model, preset);
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
}

TEST(ModelSpec, PresetSidecarBringsItsOutputs) {
  const ModelSpec s = load_model_spec(kModels / "tiny_inception.pt");
  EXPECT_EQ(s.name, "tiny_inception");
  EXPECT_EQ(s.preprocessing.preset, features::ExtractorPreset::inception_fid);
  ASSERT_EQ(s.outputs.size(), 2u);
  EXPECT_EQ(s.total_dim(), 2048 + 1008);
  EXPECT_EQ(s.column_offset("logits"), 2048);
  EXPECT_EQ(s.columns()[2048], "logits_0");
  EXPECT_EQ(s.batch_size, 4);
  EXPECT_THROW(s.column_offset("cls"), UsageError);
}

TEST(ModelSpec, WithoutASidecarAPresetIsNeeded) {
  const fs::path d = temp_dir("no-sidecar");
  fs::copy_file(kModels / "tiny_biovil.pt", d / "enc.pt");
  EXPECT_THAT(error_of<UsageError>(d / "enc.pt"), HasSubstr("has no sidecar"));
  const ModelSpec s = load_model_spec(d / "enc.pt", "biovil-image");
  EXPECT_EQ(s.outputs[0].dim, 128);
  EXPECT_THAT(error_of<UsageError>(d / "enc.pt", "biovil"), HasSubstr("unknown preprocessing preset 'biovil'"));
  EXPECT_THAT(error_of<InputError>(d / "missing.pt"), HasSubstr("missing.pt"));
  fs::remove_all(d);
}

TEST(ModelSpec, SidecarMistakesNameTheFile) {
  const fs::path d = temp_dir("mistakes");
  fs::copy_file(kModels / "tiny_biovil.pt", d / "m.pt");
  const auto with = [&](const std::string& sidecar) {
    write(d / "m.json", sidecar);
    return error_of<InputError>(d / "m.pt");
  };
  EXPECT_THAT(with("{"), HasSubstr("m.json: not valid JSON"));
  EXPECT_THAT(with(R"({"preprocess": "raddino"})"), HasSubstr("\"format\" must be \"chexgen-model/1\""));
  EXPECT_THAT(with(R"({"format": "chexgen-model/1", "preprocess": "raddino", "batchsize": 3})"),
              HasSubstr("unknown key 'batchsize'"));
  EXPECT_THAT(with(R"({"format": "chexgen-model/1", "preprocess": "raddino", "outputs": []})"),
              HasSubstr("outputs must be a non-empty list"));
  EXPECT_THAT(with(R"({"format": "chexgen-model/1", "preprocess": {"color": "gray", "steps": [
                      {"op": "to_float", "divide": 255}]}})"),
              HasSubstr("\"outputs\" is missing"));
  EXPECT_THAT(with(R"({"format": "chexgen-model/1", "kind": "text", "preprocess": "raddino"})"),
              HasSubstr("this is a 'text' model"));
  write(d / "m.json", R"({"format": "chexgen-model/1", "preprocess": "raddino"})");
  EXPECT_THAT(error_of<UsageError>(d / "m.pt", "biovil-image"), HasSubstr("disagrees with the sidecar"));
  fs::remove_all(d);
}

TEST(ModelSpec, TheStoreKeyFollowsWeightsAndSteps) {
  const fs::path d = temp_dir("key");
  fs::copy_file(kModels / "tiny_biovil.pt", d / "a.pt");
  fs::copy_file(kModels / "tiny_raddino.pt", d / "b.pt");
  const std::string a = load_model_spec(d / "a.pt", "biovil-image").extractor_id();
  EXPECT_NE(a, load_model_spec(d / "b.pt", "biovil-image").extractor_id());  // other weights
  EXPECT_NE(a, load_model_spec(d / "a.pt", "raddino").extractor_id());       // other steps
  fs::copy_file(d / "a.pt", d / "c.pt");
  // A renamed copy is the same extractor except for its name; the steps written out by hand are the same steps.
  write(d / "c.json", R"({"format": "chexgen-model/1", "name": "a", "preprocess": )" +
                          to_json(preset_preprocessing("biovil-image")).dump() +
                          R"(, "outputs": [{"name": "projected", "index": 0, "dim": 128}]})");
  EXPECT_EQ(a, load_model_spec(d / "c.pt").extractor_id());
  fs::remove_all(d);
}

}  // namespace
}  // namespace chexgen::deep
