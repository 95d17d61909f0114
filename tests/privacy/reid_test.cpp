// CheXGenBench's re-identification scores with a small Siamese model made by Debian's torch
// (tests/fixtures/make_reid_golden.py): chexgen's scores equal Python's within 1e-6, the aggregates follow from
// them, and a damaged head file is named.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

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

// The best score over the whole training set, every generation against every training image, equals the maximum of
// torch's scores of the same pairs; without held-out images the rate is not computed and says why.
TEST(Reid, TheBestMatchOverTheTrainingSetIsTorchs) {
  std::ifstream in(kRoot / "tests/golden/privacy/reid_golden.json");
  const nlohmann::json cross = nlohmann::json::parse(in)["cross"];
  const auto dataset = [](const nlohmann::json& refs, const std::string& source) {
    Dataset d;
    d.source = kRoot / source;
    for (const auto& rel : refs) {
      Sample s;
      s.id = s.image_ref = rel.get<std::string>();
      s.image_path = kRoot / "data/sample" / s.image_ref;
      s.row = d.samples.size() + 2;
      d.samples.push_back(s);
    }
    return d;
  };
  const Dataset train = dataset(cross["training"], "data/sample/labels.csv"),
                gens = dataset(cross["generations"], "gens/metadata.jsonl");
  const testing::ScratchDir store("reid-cross");
  PrivacyOptions o;
  o.link = false;
  const PrivacyRun run = evaluate_privacy(train, gens, nullptr, {}, tiny_reid(), store.path(), o, Log(false));
  const auto it = std::find_if(run.searches.begin(), run.searches.end(),
                               [](const SpaceSearch& s) { return s.space == "Re-ID"; });
  ASSERT_NE(it, run.searches.end());
  const auto scores = cross["scores"].get<std::vector<std::vector<double>>>();
  ASSERT_EQ(it->generated_similarity.size(), scores.size());
  std::size_t nearest_first = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto top = std::max_element(scores[i].begin(), scores[i].end());
    EXPECT_NEAR(it->generated_similarity[i], *top, 1e-6) << "generation " << i;
    EXPECT_EQ(it->generated_nearest[i], static_cast<std::size_t>(top - scores[i].begin())) << "generation " << i;
    nearest_first += it->generated_nearest[i] == 0 ? 1 : 0;
  }
  EXPECT_GT(nearest_first, 0u);  // both training images are someone's best match: the argmax is not trivial
  EXPECT_LT(nearest_first, scores.size());
  const auto* rate = run.results.overall.find({Metric::reid_rate, "Re-ID"});
  ASSERT_NE(rate, nullptr);
  EXPECT_FALSE(rate->value);
  EXPECT_THAT(rate->skipped, HasSubstr("--holdout"));
}

// best_matches scores every pair exactly as ReidHead::score and keeps the lower row of a tie, whatever the block
// boundaries (131 reference rows: two whole blocks and a ragged one) and the thread count.
TEST(Reid, BestMatchesIsTheMaximumOfEveryPairsScore) {
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  const std::size_t d = 8, nq = 40, nr = 131;
  ReidHead head;
  for (std::size_t i = 0; i < d; ++i) head.weight.push_back(-3 * std::abs(normal(rng)));
  head.bias = 1.5;
  MatrixD q(nq, d), ref(nr, d);
  for (std::size_t i = 0; i < nq * d; ++i) q.data()[i] = normal(rng);
  for (std::size_t i = 0; i < nr * d; ++i) ref.data()[i] = normal(rng);
  // Query 3 is reference row 70 exactly, and rows 70 and 129 are equal: the tie goes to row 70.
  std::copy(ref.row(70), ref.row(70) + d, ref.row(129));
  std::copy(ref.row(70), ref.row(70) + d, q.row(3));
  for (int threads : {1, 2}) {
    const BestMatches best = best_matches(head, q.view(), ref.view(), threads);
    for (std::size_t i = 0; i < nq; ++i) {
      double top = -1;
      std::size_t at = 0;
      for (std::size_t j = 0; j < nr; ++j) {
        const double v = head.score({q.row(i), d}, {ref.row(j), d});
        if (v > top) top = v, at = j;
      }
      EXPECT_DOUBLE_EQ(best.score[i], top) << "query " << i;
      EXPECT_EQ(best.index[i], at) << "query " << i;
    }
    EXPECT_EQ(best.index[3], 70u);
    EXPECT_EQ(best.score[3], 1.0 / (1.0 + std::exp(-1.5)));
  }
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
