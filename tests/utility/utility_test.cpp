// The utility suite's training sets and probe. Goldens: tests/fixtures/make_utility_probe_golden.py.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/log.h"
#include "chexgen/image/image.h"
#include "chexgen/utility/probe.h"
#include "chexgen/utility/training_set.h"
#include "support/scratch_dir.h"
#include "support/tolerance.h"

namespace chexgen::utility {
namespace {

namespace fs = std::filesystem;
using chexgen::testing::within;
using ::testing::HasSubstr;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);

const nlohmann::json& golden() {
  static const nlohmann::json g = [] {
    std::ifstream in(kRoot / "tests/golden/utility/probe_golden.json");
    return nlohmann::json::parse(in);
  }();
  return g;
}

Dataset read(const fs::path& path, ManifestFormat format, std::vector<std::string> labels = {}) {
  ManifestOptions o;
  o.format = format;
  o.label_names = std::move(labels);
  ErrorReport errors;
  return read_manifest(path, o, errors);
}

Dataset sample_dataset() {
  return read(kRoot / "data/sample/labels.csv", ManifestFormat::onehot, LabelSet::nih15().names());
}

std::string image_of(const TrainingSet& t, const Dataset& real, const Dataset& synthetic, std::size_t row) {
  const TrainingRow& r = t.rows[row];
  return (r.synthetic ? synthetic : real).samples[r.sample].image_ref;
}

// CheXGenBench's four settings and its validation split, row for row and in order (pandas, random, scikit-learn).
TEST(TrainingSet, ChexgenbenchProtocolIsCheXGenBenchsDataAndSplit) {
  const Dataset real = read(kRoot / "tests/golden/utility/settings_real.csv", ManifestFormat::chexgenbench_real);
  const Dataset synthetic =
      read(kRoot / "tests/golden/utility/settings_synthetic.csv", ManifestFormat::chexgenbench_synthetic);
  for (const char* name : {"all_original", "all_synthetic", "mixed", "augmented"}) {
    TrainingSetOptions o;
    o.setting = parse_setting(name);
    o.protocol = Protocol::chexgenbench;
    const TrainingSet t = build_training_set(&real, &synthetic, o);
    EXPECT_EQ(t.prompts_deduplicated, 3u);
    const auto& g = golden()["settings"][name];
    std::vector<std::string> rows, train, validation;
    for (std::size_t r = 0; r < t.rows.size(); ++r) rows.push_back(image_of(t, real, synthetic, r));
    for (std::size_t r : t.train) train.push_back(image_of(t, real, synthetic, r));
    for (std::size_t r : t.validation) validation.push_back(image_of(t, real, synthetic, r));
    EXPECT_EQ(rows, g["rows"].get<std::vector<std::string>>()) << name;
    EXPECT_EQ(train, g["train"].get<std::vector<std::string>>()) << name;
    EXPECT_EQ(validation, g["validation"].get<std::vector<std::string>>()) << name;
  }
}

// The default protocol: no patient and no real/synthetic pair on both sides of the validation split.
TEST(TrainingSet, FixedProtocolKeepsPatientsAndPairsOnOneSide) {
  const Dataset sample = sample_dataset();
  TrainingSetOptions o;
  o.setting = Setting::all_original;
  o.validation_fraction = 0.2;
  const TrainingSet t = build_training_set(&sample, nullptr, o);
  std::set<std::string> train_patients, validation_patients;
  for (std::size_t r : t.train) train_patients.insert(*sample.samples[t.rows[r].sample].patient_id);
  for (std::size_t r : t.validation) validation_patients.insert(*sample.samples[t.rows[r].sample].patient_id);
  for (const auto& p : validation_patients) EXPECT_EQ(train_patients.count(p), 0u) << p;
  EXPECT_NEAR(static_cast<double>(t.validation.size()), 32.0, 3.0);  // ceil(0.2 * 160), whole patients

  const Dataset real = read(kRoot / "tests/golden/utility/settings_real.csv", ManifestFormat::chexgenbench_real);
  const Dataset synthetic =
      read(kRoot / "tests/golden/utility/settings_synthetic.csv", ManifestFormat::chexgenbench_synthetic);
  o.setting = Setting::augmented;
  const TrainingSet a = build_training_set(&real, &synthetic, o);
  std::map<std::size_t, int> side;  // pair -> 1 training, 2 validation
  for (std::size_t r : a.train) side[a.rows[r].pair] |= 1;
  for (std::size_t r : a.validation) side[a.rows[r].pair] |= 2;
  for (const auto& [pair, s] : side) EXPECT_NE(s, 3) << "pair " << pair << " on both sides";
  // CheXGenBench's image-level split does put twins on both sides (the leak the default protocol removes).
  o.protocol = Protocol::chexgenbench;
  const TrainingSet leaky = build_training_set(&real, &synthetic, o);
  std::map<std::size_t, int> leaky_side;
  for (std::size_t r : leaky.train) leaky_side[leaky.rows[r].pair] |= 1;
  for (std::size_t r : leaky.validation) leaky_side[leaky.rows[r].pair] |= 2;
  EXPECT_TRUE(std::any_of(leaky_side.begin(), leaky_side.end(), [](const auto& p) { return p.second == 3; }));
}

TEST(TrainingSet, SaysWhatIsMissing) {
  const Dataset real = read(kRoot / "tests/golden/utility/settings_real.csv", ManifestFormat::chexgenbench_real);
  Dataset synthetic =
      read(kRoot / "tests/golden/utility/settings_synthetic.csv", ManifestFormat::chexgenbench_synthetic);
  TrainingSetOptions o;
  o.setting = Setting::mixed;
  EXPECT_THROW(build_training_set(&real, nullptr, o), UsageError);
  EXPECT_THROW(build_training_set(nullptr, &synthetic, o), UsageError);
  o.protocol = Protocol::chexgenbench;
  o.seed = 7;
  EXPECT_THROW(build_training_set(&real, &synthetic, o), UsageError);
  o = {};
  synthetic.samples.erase(synthetic.samples.begin() + 5);  // prompt 5 loses its twin
  try {
    build_training_set(&real, &synthetic, o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("settings_real.csv:7"));  // the header, then rows 0-4
    EXPECT_THAT(e.what(), HasSubstr("no synthetic twin"));
  }
  o.setting = Setting::all_original;  // needs no twin
  EXPECT_NO_THROW(build_training_set(&real, &synthetic, o));
}

// The features of the golden script: the means of a 4 x 4 grid of blocks and the standard deviation of all pixels.
features::Extractor block_extractor() {
  features::Extractor x;
  x.name = "Blocks";
  x.rows.id = "test-utility-blocks-v1";
  for (int i = 0; i < 17; ++i) x.rows.columns.push_back(i < 16 ? fmt::format("block{}", i) : "sd");
  x.rows.compute = [](const Image8& image) {
    std::vector<double> out;
    const int h = image.height, w = image.width;
    double total = 0;
    for (int bi = 0; bi < 4; ++bi)
      for (int bj = 0; bj < 4; ++bj) {
        double sum = 0;
        for (int y = bi * h / 4; y < (bi + 1) * h / 4; ++y)
          for (int xx = bj * w / 4; xx < (bj + 1) * w / 4; ++xx) sum += image.data[y * w + xx];
        out.push_back(sum / ((h / 4) * (w / 4)));
        total += sum;
      }
    const double mean = total / (static_cast<double>(h) * w);
    double sq = 0;
    for (std::uint8_t v : image.data) sq += (v - mean) * (v - mean);
    out.push_back(std::sqrt(sq / (static_cast<double>(h) * w)));
    return out;
  };
  x.outputs = {{"features", 0, 17}};
  return x;
}

// The probe end to end (training set, split, standardisation, fit, CheXGenBench's metrics) against scikit-learn.
TEST(Probe, IsScikitLearnsEndToEnd) {
  const Dataset sample = sample_dataset();
  Dataset real = sample, test = sample;
  real.samples.resize(100);
  test.samples.erase(test.samples.begin(), test.samples.begin() + 100);
  const nlohmann::json& g = golden()["probe"];
  chexgen::testing::ScratchDir store("utility-probe");
  ProbeOptions o;
  o.training.setting = Setting::all_original;
  o.training.protocol = Protocol::chexgenbench;
  o.logistic.C = g["C"].get<double>();
  o.scoring.bootstrap = 200;
  const UtilityRun run = evaluate_probe(&real, nullptr, test, {block_extractor()}, store.path(), o, Log(false));
  std::vector<std::size_t> train, validation;
  for (std::size_t r : run.training.train) train.push_back(run.training.rows[r].sample);
  for (std::size_t r : run.training.validation) validation.push_back(run.training.rows[r].sample);
  EXPECT_EQ(train, g["train"].get<std::vector<std::size_t>>());
  EXPECT_EQ(validation, g["validation"].get<std::vector<std::size_t>>());
  ASSERT_EQ(run.classifiers.size(), 1u);
  const TestedClassifier& ps = run.classifiers[0];
  EXPECT_EQ(ps.space, "Blocks probe, all_original");
  std::vector<std::string> fitted;
  for (std::size_t l : ps.fitted) fitted.push_back(run.labels[l]);
  ASSERT_EQ(fitted, g["fitted"].get<std::vector<std::string>>());
  EXPECT_EQ(ps.skipped.size(), run.labels.size() - fitted.size());
  double worst = 0;
  for (std::size_t i = 0; i < ps.test_probabilities.rows(); ++i)
    for (std::size_t k = 0; k < fitted.size(); ++k)
      worst = std::max(worst, std::abs(ps.test_probabilities(i, k) - g["probabilities"][i][k].get<double>()));
  EXPECT_LE(worst, 1e-6);
  // The scores are functions of the probabilities: exact where no two probabilities are within 1e-6 of the 0.5
  // threshold or of each other across classes (true of this fixture).
  EXPECT_TRUE(within(ps.test.accuracy, g["accuracy"], 0, 1e-15));
  EXPECT_TRUE(within(ps.test.macro.f1, g["f1_macro"], 0, 1e-15));
  EXPECT_TRUE(within(ps.test.micro.f1, g["f1_micro"], 0, 1e-15));
  EXPECT_TRUE(within(ps.test.macro.precision, g["precision_macro"], 0, 1e-15));
  EXPECT_TRUE(within(ps.test.macro.recall, g["recall_macro"], 0, 1e-15));
  EXPECT_TRUE(within(*ps.test.macro_auroc, g["auc_macro"], 0, 1e-15));
  EXPECT_TRUE(within(*ps.test.macro_average_precision, g["average_precision_macro"], 0, 1e-15));

  // The results: the three overall records in the probe's space, an interval by patient, a row per label.
  const results::Results& r = run.results;
  EXPECT_EQ(r.evaluation, "utility");
  const auto* auroc = r.overall.find({results::Metric::utility_auroc, "Blocks probe, all_original"});
  ASSERT_NE(auroc, nullptr);
  EXPECT_EQ(*auroc->value, *ps.test.macro_auroc);
  ASSERT_TRUE(auroc->interval.has_value());
  EXPECT_LT(auroc->interval->low, *auroc->value);
  EXPECT_GT(auroc->interval->high, *auroc->value);
  EXPECT_EQ(r.per_label.size(), run.labels.size());
  const auto lines = metrics_csv(run);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("accuracy,precision_micro,recall_micro,f1_micro,precision_macro,recall_macro,"
                                  "f1_macro,auc_macro,precision_Atelectasis"));
  EXPECT_EQ(predictions_csv(run, test).size(), test.samples.size() + 1);
}

}  // namespace
}  // namespace chexgen::utility

namespace chexgen::utility {
namespace {

// --seeds: the records' mean over the runs, the seeds' values and their sample sd; a value missing in one run is
// missing in the mean.
TEST(CombineSeeds, MeanAndSampleSdOfEachRecord) {
  std::vector<UtilityRun> runs(3);
  const double values[3] = {0.7, 0.8, 0.9};
  for (int i = 0; i < 3; ++i) {
    runs[i].results.overall.records.push_back(
        {{results::Metric::utility_auroc, "ResNet-18, all_synthetic"}, values[i], "", metrics::Interval{0.1, 0.2}, {}});
    runs[i].results.overall.records.push_back({{results::Metric::utility_f1, "ResNet-18, all_synthetic"},
                                               i == 1 ? std::nullopt : std::optional(0.5),
                                               "",
                                               std::nullopt,
                                               {}});
    runs[i].classifiers.emplace_back();
    runs[i].classifiers.back().space = "ResNet-18, all_synthetic";
  }
  const UtilityRun c = combine_seeds(runs, {42, 43, 44});
  const auto* auroc = c.results.overall.find({results::Metric::utility_auroc, "ResNet-18, all_synthetic"});
  ASSERT_NE(auroc, nullptr);
  EXPECT_NEAR(*auroc->value, 0.8, 1e-15);
  EXPECT_NEAR(auroc->details["sd"].get<double>(), 0.1, 1e-15);
  EXPECT_EQ(auroc->details["seeds"]["43"].get<double>(), 0.8);
  EXPECT_FALSE(auroc->interval.has_value());
  EXPECT_FALSE(c.results.overall.value({results::Metric::utility_f1, "ResNet-18, all_synthetic"}).has_value());
  ASSERT_EQ(c.classifiers.size(), 3u);
  EXPECT_EQ(c.classifiers[2].space, "ResNet-18, all_synthetic, seed 44");
}

}  // namespace
}  // namespace chexgen::utility
