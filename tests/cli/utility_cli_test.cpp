// `chexgen utility probe` end to end on baselines of 60 sample radiographs: the outputs CheXGenBench writes, the
// results read back and joined by the leaderboard, and bad inputs named.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/results/results.h"
#include "run_command.h"

namespace chexgen::testing {
namespace {

using results::Metric;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::vector<std::string> probe_args(const fs::path& b, const fs::path& out, std::vector<std::string> more) {
  std::vector<std::string> args = {"utility",
                                   "probe",
                                   "--test",
                                   (b / "reference/metadata.jsonl").string(),
                                   "--test-label-set",
                                   "nih",
                                   "--radiomics",
                                   "--size",
                                   "64",
                                   "--labels",
                                   "Pneumonia,No Finding",
                                   "--C",
                                   "0.1",
                                   "--bootstrap",
                                   "100",
                                   "--store",
                                   (out.parent_path() / "store").string(),
                                   "--out",
                                   out.string()};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(UtilityCli, ProbeWritesCheXGenBenchsOutputsAndJoinsTheLeaderboard) {
  const fs::path dir = make_temp_dir();
  const fs::path b = make_sample_baselines(dir, 60);
  // The held-out images' twins: the blur-1 images name their source row (source_id), as CheXGenBench's rows pair
  // `path` with `synthetic_filename`.
  auto r =
      run_chexgen(probe_args(b, dir / "blur",
                             {"--train-real", (b / "held-out/metadata.jsonl").string(), "--real-id-column", "source_id",
                              "--real-label-set", "nih", "--train-synthetic", (b / "blur-1/metadata.jsonl").string(),
                              "--synthetic-label-set", "nih", "--setting", "mixed"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("setting mixed (fixed protocol)"));
  EXPECT_THAT(r.out, HasSubstr("Utility AUROC (Radiomics probe, mixed)"));
  const results::Results res = results::read_results(dir / "blur");
  EXPECT_EQ(res.evaluation, "utility");
  EXPECT_EQ(res.generator, "blur-1");
  const auto auroc = res.overall.value({Metric::utility_auroc, "Radiomics probe, mixed"});
  ASSERT_TRUE(auroc.has_value());
  EXPECT_GE(*auroc, 0.0);
  EXPECT_LE(*auroc, 1.0);
  EXPECT_EQ(res.overall.details["pairs"].get<std::size_t>(), 30u);
  EXPECT_EQ(res.overall.n_synthetic, 15u);  // half the pairs train on their twin
  ASSERT_EQ(res.per_label.size(), 2u);
  EXPECT_EQ(res.per_label[0].label, "Pneumonia");
  const std::string metrics = read_text(dir / "blur/metrics.csv");
  EXPECT_THAT(metrics, HasSubstr("features,accuracy,precision_micro,recall_micro,f1_micro,precision_macro,"
                                 "recall_macro,f1_macro,auc_macro,precision_Pneumonia,precision_No Finding,"));
  EXPECT_THAT(read_text(dir / "blur/per_class_metrics.csv"),
              HasSubstr("features,class,precision,recall,f1,auc,average_precision,support\n"));
  EXPECT_THAT(read_text(dir / "blur/predictions.csv"), HasSubstr("image,Pneumonia_prob,Pneumonia_pred,"));
  EXPECT_THAT(read_text(dir / "blur/roc.csv"), HasSubstr("features,class,fpr,tpr,threshold\n"));

  // A synthetic set alone carries its own labels; the leaderboard joins both rows' utility columns.
  r = run_chexgen(
      probe_args(b, dir / "copies",
                 {"--train-synthetic", (b / "copies/metadata.jsonl").string(), "--synthetic-label-set", "nih"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_chexgen({"leaderboard", (dir / "copies").string(), (dir / "blur").string(), "--sort",
                   "Utility AUROC (Radiomics probe, all_synthetic)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Utility AUROC (Radiomics probe, mixed)"));
  EXPECT_THAT(r.out, HasSubstr("Utility AUROC (Radiomics probe, all_synthetic)"));
}

// Prompt-label agreement: a classifier trained on the real held-out images, applied to images made from them. The
// held-out images themselves (the "held-out" generator) are its own training images: it agrees with their labels at
// least as well as on the unseen real test images; noise of sd 32 washes the findings out.
TEST(UtilityCli, AgreementScoresSyntheticImagesAgainstTheirPrompts) {
  const fs::path dir = make_temp_dir();
  const fs::path b = make_sample_baselines(dir, 60);
  std::map<std::string, double> agreement;
  double real_test = 0;
  for (const std::string g : {"held-out", "noise-32"}) {
    auto r = run_chexgen(probe_args(
        b, dir / g,
        {"--train-real", (b / "held-out/metadata.jsonl").string(), "--real-id-column", "source_id", "--real-label-set",
         "nih", "--train-synthetic", (b / g / "metadata.jsonl").string(), "--synthetic-label-set", "nih", "--setting",
         "all_original", "--agreement", "--labels", "Pneumonia"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("Prompt agreement AUROC (Radiomics probe, all_original)"));
    const results::Results res = results::read_results(dir / g);
    EXPECT_EQ(res.generator, g);
    const auto* rec = res.overall.find({Metric::prompt_agreement, "Radiomics probe, all_original"});
    ASSERT_NE(rec, nullptr);
    ASSERT_TRUE(rec->value.has_value());
    EXPECT_EQ(rec->details["synthetic_images"].get<std::size_t>(), 30u);
    agreement[g] = *rec->value;
    real_test = rec->details["real_test_auroc"].get<double>();
  }
  EXPECT_GE(agreement["held-out"], real_test);
  EXPECT_GT(agreement["held-out"], agreement["noise-32"]);
  // Without all_original it is refused.
  auto r = run_chexgen(probe_args(
      b, dir / "x",
      {"--train-synthetic", (b / "blur-1/metadata.jsonl").string(), "--synthetic-label-set", "nih", "--agreement"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--setting all_original"));
}

// A network trained from scratch (ResNet-18 at 64 px, one thread), killed with SIGKILL after its first epoch and run
// again, ends exactly where an uninterrupted run ends: the same training log (but its times) and the same test
// probabilities.
std::string without_seconds(const std::string& log) {
  std::string out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.rfind(','));         // data_wait_seconds
    out += line.substr(0, line.rfind(',')) + "\n";  // seconds
  }
  return out;
}

TEST(UtilityCli, TrainingResumesAfterAKillAndEndsWhereAnUninterruptedRunEnds) {
  const fs::path dir = make_temp_dir();
  const fs::path b = make_sample_baselines(dir, 40);
  auto args = [&](const fs::path& out) {
    return std::vector<std::string>{"--threads",
                                    "1",
                                    "utility",
                                    "train",
                                    "--train-real",
                                    (b / "held-out/metadata.jsonl").string(),
                                    "--real-label-set",
                                    "nih",
                                    "--setting",
                                    "all_original",
                                    "--test",
                                    (b / "reference/metadata.jsonl").string(),
                                    "--test-label-set",
                                    "nih",
                                    "--labels",
                                    "Pneumonia,No Finding",
                                    "--arch",
                                    "resnet18",
                                    "--image-size",
                                    "64",
                                    "--epochs",
                                    "4",
                                    "--batch-size",
                                    "8",
                                    "--validation-fraction",
                                    "0.25",
                                    "--bootstrap",
                                    "50",
                                    "--out",
                                    out.string()};
  };
  auto r = run_chexgen(args(dir / "whole"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Utility AUROC (ResNet-18 from scratch, all_original)"));
  const std::string log = read_text(dir / "whole/training_log.csv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 5);  // the header and 4 epochs
  const results::Results res = results::read_results(dir / "whole");
  const auto* auroc = res.overall.find({Metric::utility_auroc, "ResNet-18 from scratch, all_original"});
  ASSERT_NE(auroc, nullptr);
  EXPECT_EQ(res.overall.details["classifiers"]["ResNet-18 from scratch, all_original"]["initial_weights"],
            "none: trained from scratch");

  const fs::path killed = dir / "killed";
  r = run_chexgen_killed_when(args(killed), [&] {
    const std::string text = read_text(killed / "training_log.csv");
    return std::count(text.begin(), text.end(), '\n') >= 2;  // epoch 1 is written
  });
  ASSERT_EQ(r.exit_code, 128 + 9) << "the run ended before it could be killed: " << r.err;
  const std::string partial = read_text(killed / "training_log.csv");
  EXPECT_LT(std::count(partial.begin(), partial.end(), '\n'), 5);
  r = run_chexgen(args(killed));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("resuming"));
  EXPECT_EQ(without_seconds(read_text(killed / "training_log.csv")), without_seconds(log));
  EXPECT_EQ(read_text(killed / "predictions.csv"), read_text(dir / "whole/predictions.csv"));

  // The trained network tested again by `utility evaluate`: the same predictions as the training run's test.
  r = run_chexgen({"--threads", "1", "utility", "evaluate", "--checkpoint", (dir / "whole/best.pt").string(), "--test",
                   (b / "reference/metadata.jsonl").string(), "--test-label-set", "nih", "--bootstrap", "50", "--out",
                   (dir / "evaluated").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(dir / "evaluated/predictions.csv"), read_text(dir / "whole/predictions.csv"));
  EXPECT_EQ(results::read_results(dir / "evaluated").generator, "held-out");
  r = run_chexgen({"utility", "evaluate", "--checkpoint", (dir / "whole/best.pt").string(), "--test",
                   (b / "reference/metadata.jsonl").string(), "--out", (dir / "evaluated2").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // read with the default CheXpert label set, the NIH dicts are refused by row
  EXPECT_THAT(r.err, HasSubstr("reference/metadata.jsonl:1: column 'labels_dict': unknown label"));

  // --seeds 2: two runs in their own folders, the records their mean with the sd.
  auto two = args(dir / "seeds");
  *std::find(two.begin(), two.end(), "4") = "1";  // --epochs 1
  two.insert(two.end(), {"--seeds", "2"});
  r = run_chexgen(two);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(sd over 2 seeds)"));
  const results::Results both = results::read_results(dir / "seeds");
  const auto* mean = both.overall.find({Metric::utility_auroc, "ResNet-18 from scratch, all_original"});
  ASSERT_NE(mean, nullptr);
  const double a42 = *results::read_results(dir / "seeds/seed-42").overall.value(mean->key);
  const double a43 = *results::read_results(dir / "seeds/seed-43").overall.value(mean->key);
  EXPECT_DOUBLE_EQ(*mean->value, (a42 + a43) / 2);
  EXPECT_DOUBLE_EQ(mean->details["sd"].get<double>(), std::abs(a42 - a43) / std::sqrt(2.0));

  // Other options with the same folder: refused, not mixed.
  auto other = args(killed);
  *std::find(other.begin(), other.end(), "64") = "96";
  r = run_chexgen(other);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("was made from other inputs or options"));
}

TEST(UtilityCli, BadInputsAreNamed) {
  const fs::path dir = make_temp_dir();
  const fs::path b = make_sample_baselines(dir, 20);
  // mixed needs both sets
  auto r = run_chexgen(probe_args(b, dir / "x",
                                  {"--train-synthetic", (b / "blur-1/metadata.jsonl").string(), "--synthetic-label-set",
                                   "nih", "--setting", "mixed"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--setting mixed trains on real images: give --train-real"));
  // no features
  auto args = probe_args(b, dir / "x",
                         {"--train-synthetic", (b / "blur-1/metadata.jsonl").string(), "--synthetic-label-set", "nih"});
  args.erase(std::find(args.begin(), args.end(), "--radiomics"));
  r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--model M.pt (repeatable) or --radiomics"));
  // a label the training set lacks
  args = probe_args(b, dir / "x",
                    {"--train-synthetic", (b / "blur-1/metadata.jsonl").string(), "--synthetic-label-set", "nih"});
  *std::find(args.begin(), args.end(), "Pneumonia,No Finding") = "Pleural Effusion";
  r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("'Pleural Effusion' is not a label of"));
  // an unknown setting
  r = run_chexgen(
      probe_args(b, dir / "x", {"--train-synthetic", (b / "blur-1/metadata.jsonl").string(), "--setting", "half"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--setting must be all_original, all_synthetic, mixed or augmented"));
}

}  // namespace
}  // namespace chexgen::testing
