// The fidelity evaluation as a library call, with stand-in extractors on real sample images: which extractor gives
// which records (the preset table's roles), the store reused across calls, the provenance, and the combinations
// that cannot work. The metric values are checked against references in suite_test.cpp and tests/metrics.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/log.h"
#include "chexgen/fidelity/evaluate.h"

namespace chexgen::fidelity {
namespace {

using features::ExtractorPreset;
using results::Metric;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);

struct Sets {
  fs::path dir;
  Dataset real, synthetic;
};

// 20 real and 16 synthetic sample images, labelled Effusion on every third row; each synthetic image's prompt is
// the prompt of a real one.
Sets sets() {
  Sets s;
  s.dir = fs::temp_directory_path() / ("chexgen-evaluate-" + std::to_string(getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(s.dir);
  fs::create_directories(s.dir / "synthetic");
  std::vector<fs::path> images;
  for (const auto& e : fs::directory_iterator(kRoot / "data/sample/images")) images.push_back(e.path());
  std::sort(images.begin(), images.end());
  const auto write = [&](const fs::path& file, std::size_t first, std::size_t n) {
    std::ofstream out(file);
    out << "file_name,prompt,Effusion\n";
    for (std::size_t i = 0; i < n; ++i)
      out << images[first + i].string() << ",report " << i % 20 << "," << (i % 3 == 0) << "\n";
  };
  write(s.dir / "real.csv", 0, 20);
  write(s.dir / "synthetic" / "metadata.csv", 40, 16);
  ManifestOptions o;
  o.format = ManifestFormat::onehot;
  o.label_names = {"Effusion"};
  o.columns.prompt = "prompt";
  ErrorReport errors;
  s.real = read_manifest(s.dir / "real.csv", o, errors);
  s.synthetic = read_manifest(s.dir / "synthetic/metadata.csv", o, errors);
  return s;
}

// A stand-in network: a few pixel statistics of each image, as a model with the given preset would return them.
features::Extractor stand_in(ExtractorPreset preset, const std::string& name, std::size_t dim = 6) {
  features::Extractor x;
  x.preset = preset;
  x.name = name;
  x.rows.id = "stand-in/" + name;
  for (std::size_t c = 0; c < dim; ++c) x.rows.columns.push_back("f" + std::to_string(c));
  x.rows.compute = [dim](const Image8& im) {
    std::vector<double> row(dim, 0.0);
    for (std::size_t i = 0; i < im.data.size(); ++i) row[i % dim] += im.data[i] / 255.0;
    for (std::size_t c = 0; c < dim; ++c) row[c] = std::sqrt(row[c] / static_cast<double>(im.data.size()) + c);
    return row;
  };
  x.outputs = {{"features", 0, dim}};
  return x;
}

std::vector<std::string> titles(const results::Results& r) {
  std::vector<std::string> t;
  for (const auto& k : r.columns) t.push_back(results::column_title(k));
  return t;
}

TEST(EvaluateFidelity, ThePresetTableDecidesWhichRecordsEachExtractorGives) {
  const Sets s = sets();
  FidelityOptions o;
  o.suite.kid_subsets = 5;
  features::Extractor inception = stand_in(ExtractorPreset::inception_fid, "my inception", 12);
  inception.outputs = {{"pool", 0, 8}, {"logits", 8, 4}};
  const std::vector<features::Extractor> extractors = {stand_in(ExtractorPreset::radiomics, "Radiomics"),
                                                       stand_in(ExtractorPreset::generic, "mine"),
                                                       stand_in(ExtractorPreset::raddino, "rad-dino"), inception};
  const FidelityRun run =
      evaluate_fidelity(s.real, s.synthetic, extractors, std::nullopt, s.dir / "store", o, Log(false));
  // CheXGenBench's order (Inception, RadDino, other models, radiomics); PRDC on RadDino; the Inception Score from the
  // logits output; radiomics gives FRD only, since networks are given.
  EXPECT_THAT(titles(run.results),
              ElementsAre("FID", "FID (RadDino)", "FID (mine)", "Inception Score", "KID", "KID (RadDino)", "KID (mine)",
                          "Precision", "Recall", "Density", "Coverage", "FRD"));
  EXPECT_EQ(run.results.generator, "synthetic");  // the synthetic manifest's folder
  EXPECT_EQ(run.results.overall.n_real, 20u);
  EXPECT_EQ(run.results.overall.n_synthetic, 16u);
  for (const auto& key : run.results.columns) EXPECT_TRUE(run.results.overall.value(key)) << column_title(key);
  const auto& p = run.results.provenance;
  EXPECT_EQ(p["extractors"].size(), 4u);
  EXPECT_EQ(p["extractors"][0]["preset"], "inception-fid");
  EXPECT_EQ(p["extractors"][3]["name"], "Radiomics");
  EXPECT_EQ(p["real"]["used"], 20);
  EXPECT_EQ(p["options"]["inception_score_from"], "logits");

  // From the pool features instead (CheXGenBench's number): another value, same keys.
  o.inception_score_from = InceptionScoreFrom::pool;
  const FidelityRun pool =
      evaluate_fidelity(s.real, s.synthetic, extractors, std::nullopt, s.dir / "store", o, Log(false));
  const results::MetricKey is{Metric::inception_score, "Inception"};
  EXPECT_NE(*pool.results.overall.value(is), *run.results.overall.value(is));
  fs::remove_all(s.dir);
}

TEST(EvaluateFidelity, RadiomicsAloneGivesEveryDistributionMetricAndPerLabelRecords) {
  const Sets s = sets();
  FidelityOptions o;
  o.suite.conditional = true;
  o.suite.kid_subsets = 5;
  o.generator = "stand-in";
  const FidelityRun run = evaluate_fidelity(s.real, s.synthetic, {stand_in(ExtractorPreset::radiomics, "Radiomics")},
                                            std::nullopt, s.dir / "store", o, Log(false));
  EXPECT_THAT(titles(run.results),
              ElementsAre("FID (Radiomics)", "KID (Radiomics)", "Precision (Radiomics)", "Recall (Radiomics)",
                          "Density (Radiomics)", "Coverage (Radiomics)", "FRD"));
  EXPECT_EQ(run.results.generator, "stand-in");
  ASSERT_EQ(run.results.per_label.size(), 1u);
  EXPECT_EQ(run.results.per_label[0].label, "Effusion");
  EXPECT_EQ(run.results.per_label[0].n_real, 7u);       // rows 0, 3, ..., 18
  EXPECT_EQ(run.results.per_label[0].n_synthetic, 6u);  // rows 0, 3, ..., 15
  fs::remove_all(s.dir);
}

TEST(EvaluateFidelity, ImpossibleCombinationsAreUsageErrors) {
  const Sets s = sets();
  const FidelityOptions o;
  features::TextFeatureExtractor text;
  text.id = "text";
  text.name = "text";
  text.dim = 4;
  try {
    evaluate_fidelity(s.real, s.synthetic, {stand_in(ExtractorPreset::raddino, "r")}, text, s.dir / "store", o,
                      Log(false));
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("the alignment score needs the BioViL-T image encoder too"));
  }
  EXPECT_THROW(evaluate_fidelity(s.real, s.synthetic, {}, std::nullopt, s.dir / "store", o, Log(false)), UsageError);
  try {
    evaluate_fidelity(s.real, s.synthetic, {stand_in(ExtractorPreset::inception_fid, "no logits")}, std::nullopt,
                      s.dir / "store", o, Log(false));
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("the Inception Score needs a 'logits' output, and no logits has only 'features'"));
  }
  Dataset empty = s.synthetic;
  empty.samples.clear();
  EXPECT_THROW(evaluate_fidelity(s.real, empty, {stand_in(ExtractorPreset::raddino, "r")}, std::nullopt,
                                 s.dir / "store", o, Log(false)),
               InputError);
  fs::remove_all(s.dir);
}

}  // namespace
}  // namespace chexgen::fidelity
