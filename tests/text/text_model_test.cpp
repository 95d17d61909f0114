// The TorchScript text encoder against torch 1.13 in Python (tests/golden/text/README.md): the same prompts through
// the reference tokenizer, the same batching and padding, and the same model must give the same embeddings.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/files.h"
#include "chexgen/deep/text_model.h"
#include "chexgen/features/npy.h"
#include "chexgen/text/wordpiece.h"

namespace chexgen::deep {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);
const fs::path kFixtures = kRoot / "tests/fixtures/text";
const fs::path kModel = kFixtures / "tiny_text.pt";

template <class E = InputError, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
}

struct Golden {
  std::vector<std::string> prompts;
  std::vector<std::vector<std::int64_t>> ids;
  std::vector<Location> locations;
};

Golden golden_prompts() {
  Golden g;
  for (const auto& p : json::parse(read_file_bytes(kRoot / "tests/golden/text/tiny_text_prompts.json"))) {
    g.prompts.push_back(p["prompt"]);
    g.ids.push_back(p["ids"]);
    g.locations.emplace_back("prompts.csv", g.prompts.size() + 1, "prompt");
  }
  return g;
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("chexgen-text-model-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A copy of the tiny model in its own folder, with the sidecar edited by `edit`.
fs::path model_copy(const fs::path& d, const std::function<void(json&)>& edit) {
  fs::copy_file(kModel, d / "m.pt", fs::copy_options::overwrite_existing);
  fs::copy_file(kFixtures / "vocab.txt", d / "vocab.txt", fs::copy_options::overwrite_existing);
  json sidecar = json::parse(read_file_bytes(kFixtures / "tiny_text.json"));
  edit(sidecar);
  std::ofstream(d / "m.json") << sidecar.dump(1);
  return d / "m.pt";
}

TEST(TextModel, MatchesTorchInPython) {
  const Golden g = golden_prompts();
  ASSERT_EQ(g.prompts.size(), 8u);
  const features::NpyMatrix ref = features::read_npy(kRoot / "tests/golden/text/tiny_text_embeddings.npy");
  ASSERT_EQ(ref.rows(), 8u);
  ASSERT_EQ(ref.cols(), 16u);
  const MatrixF r = ref.to_f32();
  for (const bool optimize : {false, true}) {
    TextModel model(kModel, RunOptions{DeviceChoice::cpu, 1, optimize});
    EXPECT_EQ(model.name(), "tiny_text");
    EXPECT_EQ(model.dim(), 16);
    EXPECT_EQ(model.device_name(), "cpu");
    for (std::size_t i = 0; i < g.prompts.size(); ++i)
      EXPECT_EQ(model.encode(g.prompts[i], g.locations[i]), g.ids[i]) << g.prompts[i];
    const MatrixD ours = model.embed(g.prompts, g.locations);
    ASSERT_EQ(ours.rows(), 8u);
    ASSERT_EQ(ours.cols(), 16u);
    double worst = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      double scale = 0, diff = 0;
      for (std::size_t j = 0; j < 16; ++j) {
        scale = std::max(scale, std::abs(static_cast<double>(r(i, j))));
        diff = std::max(diff, std::abs(ours(i, j) - r(i, j)));
      }
      worst = std::max(worst, diff / scale);
    }
    RecordProperty(optimize ? "tiny_text_optimized" : "tiny_text_plain", fmt::format("{:.3g}", worst));
    std::printf("tiny_text %s: worst relative difference %.3g\n", optimize ? "optimized" : "plain", worst);
    EXPECT_LE(worst, 1e-6) << (optimize ? "optimized" : "plain");
  }
}

TEST(TextModel, BatchingFollowsTheSidecar) {
  // The tiny model adds the unmasked mean, so a prompt's row depends on its batch's padding: with batch size 1
  // (no padding) the first prompts differ from the golden rows, made in batches of 3.
  const fs::path d = temp_dir("batch");
  const fs::path m = model_copy(d, [](json& j) { j["batch_size"] = 1; });
  const Golden g = golden_prompts();
  TextModel one(m, RunOptions{DeviceChoice::cpu, 1, false});
  TextModel three(kModel, RunOptions{DeviceChoice::cpu, 1, false});
  const MatrixD a = one.embed(g.prompts, g.locations);
  const MatrixD b = three.embed(g.prompts, g.locations);
  EXPECT_NE(a(0, 0), b(0, 0));  // prompt 1 (6 ids) is padded to 11 in its batch of 3
  // Prompt 3 is the longest of its batch, so it has no padding either way.
  for (std::size_t j = 0; j < 16; ++j) EXPECT_NEAR(a(2, j), b(2, j), 1e-6);
  EXPECT_EQ(one.embed({}, {}).rows(), 0u);
  fs::remove_all(d);
}

TEST(TextModel, PromptProblemsNameTheirLocation) {
  TextModel model(kModel, RunOptions{DeviceChoice::cpu, 1, false});
  std::string long_prompt;
  for (int i = 0; i < 30; ++i) long_prompt += "no ";  // 30 words + [CLS] + [SEP] = 32 ids: just fits
  EXPECT_EQ(model.encode(long_prompt, {}).size(), 32u);
  const std::vector<Location> where{{"prompts.csv", 2, "prompt"}, {"prompts.csv", 3, "prompt"}};
  EXPECT_THAT(error_of([&] {
                model.embed({"effusion", long_prompt + "no"}, where);
              }),
              HasSubstr("prompts.csv:3: column 'prompt': the prompt is 33 tokens long with [CLS] and [SEP]; text model "
                        "'tiny_text' takes at most 32"));
  EXPECT_THAT(error_of([&] {
                model.embed({"bad \xC3(", "effusion"}, where);
              }),
              HasSubstr("prompts.csv:2: column 'prompt': the text is not valid UTF-8 (byte 4)"));
  // Trailing "!?." are stripped before the length counts.
  EXPECT_EQ(model.encode(long_prompt + "!?.", {}).size(), 32u);
}

TEST(TextModel, TheKeyFollowsWeightsVocabularyAndSettings) {
  const fs::path d = temp_dir("key");
  const auto id_with = [&](const std::function<void(json&)>& edit) {
    return TextModel(model_copy(d, edit), RunOptions{DeviceChoice::cpu, 1, false}).extractor_id();
  };
  const std::string base = id_with([](json&) {});
  EXPECT_EQ(base, TextModel(kModel, RunOptions{DeviceChoice::cpu, 1, false}).extractor_id());  // same bytes
  EXPECT_THAT(base, HasSubstr("tiny_text"));
  EXPECT_THAT(base, HasSubstr(text::BertTokenizer::from_file(kFixtures / "vocab.txt").vocab_sha256()));
  EXPECT_NE(base, id_with([](json& j) { j["tokenizer"]["lowercase"] = false; }));
  EXPECT_NE(base, id_with([](json& j) { j["tokenizer"]["strip_trailing"] = "."; }));
  EXPECT_NE(base, id_with([](json& j) { j["tokenizer"]["max_length"] = 64; }));
  EXPECT_EQ(base, id_with([](json& j) { j["batch_size"] = 5; }));  // batching is not part of the features
  // The vocabulary counts by content, not by name.
  fs::copy_file(kFixtures / "vocab.txt", d / "other.txt", fs::copy_options::overwrite_existing);
  EXPECT_EQ(base, id_with([](json& j) { j["tokenizer"]["vocab"] = "other.txt"; }));
  std::ofstream(d / "other.txt", std::ios::app) << "extra\n";
  EXPECT_NE(base, id_with([](json& j) { j["tokenizer"]["vocab"] = "other.txt"; }));
  fs::remove_all(d);
}

TEST(TextModel, SidecarMistakesNameTheFile) {
  const fs::path d = temp_dir("mistakes");
  const auto with = [&](const std::function<void(json&)>& edit) {
    const fs::path m = model_copy(d, edit);
    return error_of([&] { TextModel(m, RunOptions{DeviceChoice::cpu, 1, false}); });
  };
  EXPECT_EQ(with([](json&) {}), "no error");
  EXPECT_THAT(with([](json& j) { j.erase("kind"); }), HasSubstr("m.json: this sidecar is for a 'image' model"));
  EXPECT_THAT(with([](json& j) { j["preprocess"] = "raddino"; }), HasSubstr("m.json: unknown key 'preprocess'"));
  EXPECT_THAT(with([](json& j) { j.erase("tokenizer"); }), HasSubstr("\"tokenizer\" is missing"));
  EXPECT_THAT(with([](json& j) { j["tokenizer"]["cased"] = true; }), HasSubstr("tokenizer: unknown key 'cased'"));
  EXPECT_THAT(with([](json& j) { j["tokenizer"].erase("vocab"); }), HasSubstr("\"vocab\" must name the vocabulary"));
  EXPECT_THAT(with([](json& j) { j["tokenizer"]["max_length"] = 1; }), HasSubstr("\"max_length\" must be"));
  EXPECT_THAT(with([](json& j) { j["tokenizer"]["lowercase"] = "yes"; }), HasSubstr("\"lowercase\" must be"));
  EXPECT_THAT(with([](json& j) { j["tokenizer"]["vocab"] = "nope.txt"; }), HasSubstr("nope.txt"));
  EXPECT_THAT(with([](json& j) {
                j["outputs"].push_back({{"name", "raw"}, {"index", 0}, {"dim", 16}});
              }),
              HasSubstr("a text model has one output"));
  EXPECT_THAT(with([](json& j) { j.erase("outputs"); }), HasSubstr("\"outputs\" is missing"));
  EXPECT_THAT(with([](json& j) { j["kind"] = 3; }), HasSubstr("\"kind\" must be"));
  EXPECT_THAT(with([](json& j) { j["format"] = 1; }), HasSubstr("\"format\" must be \"chexgen-model/1\""));
  std::ofstream(d / "vocab2.txt") << "[PAD]\n[UNK]\n[SEP]\n";
  EXPECT_THAT(with([](json& j) { j["tokenizer"]["vocab"] = "vocab2.txt"; }),
              HasSubstr("vocab2.txt: the vocabulary has no [CLS]"));
  fs::remove(d / "m.json");
  EXPECT_THAT(error_of([&] {
                TextModel(d / "m.pt", RunOptions{DeviceChoice::cpu, 1, false});
              }),
              HasSubstr("m.json: not found: a text model needs its sidecar"));
  fs::remove_all(d);
}

TEST(TextModel, OutputsThatDoNotMatchTheSidecarNameTheModel) {
  const fs::path d = temp_dir("outputs");
  const auto embed_with = [&](const std::function<void(json&)>& edit) {
    TextModel model(model_copy(d, edit), RunOptions{DeviceChoice::cpu, 1, false});
    return error_of([&] { model.embed({"effusion"}, {Location{"p.csv", 2}}); });
  };
  EXPECT_THAT(embed_with([](json& j) { j["outputs"][0]["index"] = 2; }),
              HasSubstr("m.pt: output 'projected' is element 2 of what forward returns, which has 2 tensor(s)"));
  EXPECT_THAT(embed_with([](json& j) { j["outputs"][0]["dim"] = 8; }),
              HasSubstr("output 'projected' has shape [1, 16] for a batch of 1; the sidecar says dim 8"));
  fs::remove_all(d);
}

TEST(TextModel, ChexgenExtractStillRefusesTextModels) {
  EXPECT_THAT(error_of([] { load_model_spec(kModel); }),
              HasSubstr("tiny_text.json: this is a 'text' model; chexgen extract runs image models"));
}

TEST(TextModel, NotTorchScriptIsAnInputError) {
  const fs::path d = temp_dir("garbage");
  const fs::path m = model_copy(d, [](json&) {});
  std::ofstream(m, std::ios::trunc) << "not a model";
  EXPECT_THAT(error_of([&] {
                TextModel(m, RunOptions{DeviceChoice::cpu, 1, false});
              }),
              HasSubstr("m.pt: cannot load the TorchScript model"));
  fs::remove_all(d);
}

}  // namespace
}  // namespace chexgen::deep
