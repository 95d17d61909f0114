// `chexgen fidelity` end to end with small stand-in models: CheXGenBench's columns and tables, the real set's prompt
// deduplication, the store shared with `chexgen extract`, and wiring that agrees with `chexgen metrics` on the
// exported features. The metric values themselves are checked against references in tests/metrics and
// tests/fidelity; the baseline orderings of the main job in baselines_cli_test.cpp.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/results/results.h"
#include "run_command.h"

namespace chexgen::testing {
namespace {

using results::Metric;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);
const fs::path kModels = kRoot / "tests/fixtures/models";

std::vector<std::string> sample_images() {
  std::vector<std::string> images;
  for (const auto& e : fs::directory_iterator(kRoot / "data/sample/images")) images.push_back(e.path().string());
  std::sort(images.begin(), images.end());
  return images;
}

// file_name,prompt,Effusion: rows [first, first + n) of the sample; prompts repeat every `distinct` rows.
fs::path write_manifest(const fs::path& path, std::size_t first, std::size_t n, std::size_t distinct) {
  const auto images = sample_images();
  std::ofstream out(path);
  out << "file_name,prompt,Effusion\n";
  for (std::size_t i = 0; i < n; ++i)
    out << images[first + i] << ",report " << (i % distinct) << "," << (i % 3 == 0 ? 1 : 0) << "\n";
  return path;
}

std::vector<std::string> manifest_flags() {
  std::vector<std::string> f;
  for (const std::string side : {"real", "synthetic"})
    for (const std::string& a : {"--" + side + "-format", std::string("onehot"), "--" + side + "-labels",
                                 std::string("Effusion"), "--" + side + "-prompt-column", std::string("prompt")})
      f.push_back(a);
  return f;
}

TEST(FidelityCli, DeepModelsGiveCheXGenBenchsTablesAndAgreeWithChexgenMetrics) {
  const fs::path dir = make_temp_dir();
  const fs::path real = write_manifest(dir / "real.csv", 0, 28, 24);  // 4 repeated prompts: 24 real rows remain
  const fs::path syn = write_manifest(dir / "synthetic.csv", 40, 20, 20);
  std::vector<std::string> args = {"--threads",
                                   "1",
                                   "fidelity",
                                   "--real",
                                   real.string(),
                                   "--synthetic",
                                   syn.string(),
                                   "--model",
                                   (kModels / "tiny_inception.pt").string(),
                                   "--model",
                                   (kModels / "tiny_raddino.pt").string(),
                                   "--conditional",
                                   "--size",
                                   "64",
                                   "--store",
                                   (dir / "store").string(),
                                   "--out",
                                   (dir / "out").string(),
                                   "--extra-info",
                                   "tiny models"};
  for (const auto& f : manifest_flags()) args.push_back(f);
  const auto r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("fidelity: real: 24 images; 4 with a prompt already seen left out"));
  const std::string table = read_text(dir / "out/image_generation_metrics.csv");
  EXPECT_EQ(table.substr(0, table.find('\n')),
            "FID,FID (RadDino),Inception Score,KID,KID (RadDino),Precision,Recall,Density,Coverage,FRD,Extra Info");
  const std::string cond = read_text(dir / "out/conditional_image_generation_metrics.csv");
  EXPECT_THAT(cond, HasSubstr(",Extra Info,Pathology\n"));
  EXPECT_THAT(cond, HasSubstr(",tiny models,Effusion\n"));
  const results::Results j = results::read_results(dir / "out");
  EXPECT_EQ(j.generator, "tiny models");
  EXPECT_EQ(j.provenance["real"]["duplicate_prompts_left_out"], 4);
  EXPECT_EQ(j.overall.n_real, 24u);
  EXPECT_EQ(j.overall.n_synthetic, 20u);
  ASSERT_EQ(j.per_label.size(), 1u);
  EXPECT_EQ(j.per_label[0].label, "Effusion");
  EXPECT_EQ(j.per_label[0].synthetic_rule, "synthetic samples labelled positive");
  const results::MetricRecord* is = j.overall.find({Metric::inception_score, "Inception"});
  ASSERT_NE(is, nullptr);
  EXPECT_EQ(is->details["splits"], 10);
  const double fid_raddino = *j.overall.value({Metric::fid, "RadDino"});

  // The same features through `chexgen extract` (from the store, nothing recomputed) and `chexgen metrics`: the
  // suite used the first row of each prompt, rows 0..23 of the real manifest.
  write_manifest(dir / "real24.csv", 0, 24, 24);
  for (const std::string side : {"real24", "synthetic"}) {
    std::vector<std::string> ex = {"--threads",       "1",
                                   "extract",         (dir / (side + ".csv")).string(),
                                   "--format",        "onehot",
                                   "--labels",        "Effusion",
                                   "--prompt-column", "prompt",
                                   "--model",         (kModels / "tiny_raddino.pt").string(),
                                   "--store",         (dir / "store").string(),
                                   "--out",           (dir / ("x_" + side)).string()};
    const auto e = run_chexgen(ex);
    ASSERT_EQ(e.exit_code, 0) << e.err;
    EXPECT_THAT(e.err, HasSubstr("(0 computed,"));
  }
  const auto m = run_chexgen({"metrics", "--real", (dir / "x_real24/cls.npy").string(), "--synthetic",
                              (dir / "x_synthetic/cls.npy").string(), "--metrics", "fid", "--space", "RadDino",
                              "--json", (dir / "m.json").string()});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const auto mj = results::read_results(dir / "m.json");
  EXPECT_NEAR(*mj.overall.value({Metric::fid, "RadDino"}), fid_raddino, 1e-9 * fid_raddino);
}

// The README's main job in small: baseline generators from the bundled sample, each through the fidelity suite on
// radiomic features. The orderings any user expects must hold: held-out real images beat every degraded set, and a
// stronger degradation of one kind scores worse, on FRD and on FID (Radiomics).
TEST(FidelityCli, BaselineOrderingsHoldOnTheSample) {
  const fs::path dir = make_temp_dir();
  auto r = run_chexgen({"-q", "baselines", (kRoot / "data/sample/labels.csv").string(), "--format", "onehot",
                        "--label-set", "nih", "--out", (dir / "baselines").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> generators = {"held-out", "blur-1",   "blur-2",   "blur-4",   "noise-8", "noise-16",
                                               "noise-32", "downup-2", "downup-4", "downup-8", "copies"};
  std::map<std::string, std::map<Metric, double>> score;
  for (const auto& g : generators) {
    r = run_chexgen({"-q", "fidelity", "--real", (dir / "baselines/reference/metadata.jsonl").string(), "--synthetic",
                     (dir / "baselines" / g / "metadata.jsonl").string(), "--real-label-set", "nih",
                     "--synthetic-label-set", "nih", "--size", "256", "--store", (dir / "store").string(), "--out",
                     (dir / "results" / g).string()});
    ASSERT_EQ(r.exit_code, 0) << g << ": " << r.err;
    const results::Results j = results::read_results(dir / "results" / g / "results.json");
    EXPECT_EQ(j.generator, g);
    for (const Metric m : {Metric::frd, Metric::fid, Metric::kid, Metric::precision})
      if (const auto v = j.overall.value({m, "Radiomics"})) score[g][m] = *v;
  }
  for (const Metric column : {Metric::frd, Metric::fid}) {
    for (const auto& g : generators) {
      if (g == "held-out" || g == "copies") continue;
      EXPECT_LT(score["held-out"][column], score[g][column])
          << results::column_title({column, "Radiomics"}) << ": held-out vs " << g;
    }
    for (const std::string family : {"blur-", "noise-", "downup-"}) {
      std::vector<double> v;
      for (const auto& g : generators)
        if (g.starts_with(family)) v.push_back(score[g][column]);
      ASSERT_EQ(v.size(), 3u);
      EXPECT_LT(v[0], v[1]) << results::column_title({column, "Radiomics"}) << " " << family;
      EXPECT_LT(v[1], v[2]) << results::column_title({column, "Radiomics"}) << " " << family;
    }
  }
  // Perfect copies look perfect to fidelity metrics (which is why the privacy suite exists).
  EXPECT_LT(score["copies"][Metric::fid], 1e-6);
  const auto board = run_chexgen({"leaderboard", (dir / "results/held-out").string(), (dir / "results/blur-4").string(),
                                  (dir / "results/noise-32").string()});
  ASSERT_EQ(board.exit_code, 0) << board.err;
  EXPECT_LT(board.out.find("held-out"), board.out.find("noise-32"));
}

// The alignment score end to end against hi-ml's computation restated in Python
// (tests/fixtures/make_alignment_golden.py): BioViL-T-shaped stand-in models, each image with its own prompt.
TEST(FidelityCli, AlignmentScoreMatchesTheReferencePerImage) {
  const fs::path dir = make_temp_dir();
  const fs::path golden = kRoot / "tests/golden/fidelity_alignment";
  const fs::path real = write_manifest(dir / "real.csv", 0, 12, 12);
  std::vector<std::string> args = {"--threads",
                                   "1",
                                   "fidelity",
                                   "--real",
                                   real.string(),
                                   "--synthetic",
                                   (golden / "synthetic.csv").string(),
                                   "--model",
                                   (kModels / "tiny_biovil.pt").string(),
                                   "--text-model",
                                   (kRoot / "tests/fixtures/text/tiny_text128.pt").string(),
                                   "--size",
                                   "64",
                                   "--store",
                                   (dir / "store").string(),
                                   "--out",
                                   (dir / "out").string()};
  for (const auto& f : manifest_flags()) args.push_back(f);
  const auto r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto expected = nlohmann::json::parse(read_text(golden / "expected.json"));
  const results::Results j = results::read_results(dir / "out");
  const results::MetricKey alignment{Metric::alignment, "BioViL-T"};
  EXPECT_NEAR(*j.overall.value(alignment), expected["Alignment_score"].get<double>(), 1e-6);
  std::ifstream scores(dir / "out/alignment_scores.csv");
  std::string line;
  std::getline(scores, line);
  EXPECT_EQ(line, "id,image,prompt,alignment_score");
  for (const auto& want : expected["per_image"]) {
    ASSERT_TRUE(std::getline(scores, line));
    EXPECT_NEAR(std::stod(line.substr(line.rfind(',') + 1)), want.get<double>(), 1e-6) << line;
  }
  // The BioViL-T image model serves the alignment only: no FID column of its own.
  EXPECT_EQ(j.overall.find({Metric::fid, "tiny_biovil"}), nullptr);
  EXPECT_THAT(r.err, HasSubstr("prompts: 12 to embed with tiny_text128, 0 from the store"));
  // Again: the prompt embeddings come from the store, the score is the same.
  const auto again = run_chexgen(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("prompts: 0 to embed with tiny_text128, 12 from the store"));
  EXPECT_EQ(results::read_results(dir / "out").overall.value(alignment), j.overall.value(alignment));
}

TEST(FidelityCli, MistakesAreNamed) {
  const fs::path dir = make_temp_dir();
  const fs::path real = write_manifest(dir / "real.csv", 0, 12, 12);
  std::vector<std::string> args = {"fidelity",    "--real",         real.string(), "--synthetic",
                                   real.string(), "--no-radiomics", "--out",       (dir / "out").string()};
  for (const auto& f : manifest_flags()) args.push_back(f);
  auto r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--no-radiomics leaves no feature extractor"));
  args = {"fidelity",
          "--real",
          real.string(),
          "--synthetic",
          real.string(),
          "--text-model",
          (kRoot / "tests/fixtures/text/tiny_text128.pt").string(),
          "--model",
          (kModels / "tiny_raddino.pt").string(),
          "--size",
          "64",
          "--store",
          (dir / "s").string(),
          "--out",
          (dir / "out").string()};
  for (const auto& f : manifest_flags()) args.push_back(f);
  r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("the alignment score needs the BioViL-T image encoder too"));
}

}  // namespace
}  // namespace chexgen::testing
