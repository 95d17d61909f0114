// CheXGenBench's re-identification scores with a small Siamese model made by Debian's torch
// (tests/fixtures/make_reid_golden.py): chexgen's scores equal Python's within 1e-6, the aggregates follow from
// them, and a damaged head file is named.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/log.h"
#include "chexgen/deep/torch_model.h"
#include "chexgen/privacy/evaluate.h"
#include "support/scratch_dir.h"

namespace chexgen::privacy {
namespace {

using results::Metric;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);
const fs::path kModel = kRoot / "tests/fixtures/reid/tiny_reid.pt";

ReidModel tiny_reid() {
  const deep::RunOptions run{deep::DeviceChoice::cpu, 1, true};
  return {deep::load_image_extractor(kModel, run), read_reid_head(reid_head_path(kModel))};
}

TEST(Reid, ScoresAreTorchsWithinOneMillionth) {
  std::ifstream in(kRoot / "tests/golden/privacy/reid_golden.json");
  const nlohmann::json g = nlohmann::json::parse(in)["prompts"];
  // The golden's images as a training set and generations linked by source_id.
  Dataset train, gens;
  train.source = kRoot / "data/sample/labels.csv";
  gens.source = kRoot / "gens/metadata.jsonl";
  std::size_t row = 1;
  for (const auto& p : g) {
    Sample t;
    t.id = t.image_ref = p["real"].get<std::string>();
    t.image_path = kRoot / "data/sample" / t.image_ref;
    t.row = train.samples.size() + 2;
    train.samples.push_back(t);
    for (const auto& rel : p["generations"]) {
      Sample s;
      s.id = s.image_ref = rel.get<std::string>() + "#" + std::to_string(row);
      s.image_path = kRoot / "data/sample" / rel.get<std::string>();
      s.extra = {{"source_id", t.id}};
      s.row = row++;
      gens.samples.push_back(s);
    }
  }
  const testing::ScratchDir store("reid");
  PrivacyOptions o;
  o.reid_threshold = 0.445;
  const PrivacyRun run = evaluate_privacy(train, gens, nullptr, {}, tiny_reid(), store.path(), o, Log(false));
  ASSERT_EQ(run.prompts.size(), g.size());
  double highest = 0, mean_of_means = 0;
  std::size_t above = 0;
  for (std::size_t p = 0; p < g.size(); ++p) {
    const auto expected = g[p]["scores"].get<std::vector<double>>();
    ASSERT_EQ(run.prompts[p].reid.size(), expected.size());
    for (std::size_t j = 0; j < expected.size(); ++j)
      EXPECT_NEAR(run.prompts[p].reid[j], expected[j], 1e-6) << "prompt " << p << " generation " << j;
    const double top = *std::max_element(expected.begin(), expected.end());
    highest = std::max(highest, top);
    above += top > 0.445 ? 1 : 0;
    double sum = 0;
    for (double v : expected) sum += v;
    mean_of_means += sum / expected.size() / g.size();
  }
  EXPECT_NEAR(*run.results.overall.value({Metric::reid_mean, "Re-ID"}), mean_of_means, 1e-6);
  EXPECT_NEAR(*run.results.overall.value({Metric::reid_max, "Re-ID"}), highest, 1e-6);
  EXPECT_EQ(*run.results.overall.value({Metric::reid_count, "Re-ID"}), static_cast<double>(above));
  EXPECT_EQ(above, 1u);  // the golden's highest scores straddle 0.445: the count is not trivially 0 or all
  const auto csv = per_prompt_csv(run, train, gens);
  EXPECT_THAT(csv[0], HasSubstr("Real Path,Prompt,Generations,Mean_reid_scores,Max_reid_scores,"));
}

TEST(Reid, ADamagedHeadIsNamed) {
  const testing::ScratchDir dir("reid-head");
  const auto write = [&](const std::string& text) {
    std::ofstream(dir / "h.json") << text;
    return dir / "h.json";
  };
  EXPECT_THROW(read_reid_head(dir / "missing.json"), InputError);
  try {
    read_reid_head(write(R"({"weight": [1, "x"], "bias": 0})"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("weight[1]"));
    EXPECT_THAT(e.what(), HasSubstr("h.json"));
  }
  try {
    read_reid_head(write(R"({"weight": [1, 2]})"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bias"));
  }
  EXPECT_THROW(read_reid_head(write("{")), InputError);
  const ReidHead head = read_reid_head(write(R"({"weight": [2, -1], "bias": 0.5})"));
  const std::vector<double> a{1, 3}, b{0, 1};
  EXPECT_DOUBLE_EQ(head.score(a, b), 1.0 / (1.0 + std::exp(-(0.5 + 2 * 1 - 1 * 2))));
}

TEST(Reid, AHeadOfTheWrongSizeIsAUsageError) {
  ReidModel m = tiny_reid();
  m.head.weight.pop_back();
  Dataset d;
  d.source = "x.csv";
  Sample s;
  s.id = "a";
  d.samples.push_back(s);
  EXPECT_THROW(evaluate_privacy(d, d, nullptr, {}, m, "unused", {}, Log(false)), UsageError);
}

}  // namespace
}  // namespace chexgen::privacy
