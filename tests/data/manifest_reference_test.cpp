// Label prevalence and prompt statistics against values computed independently by
// tests/fixtures/manifests/manifest_stats.py (Python csv + ast modules), stored in tests/golden/data/.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/data/dataset_summary.h"
#include "test_paths.h"

namespace chexgen {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot(CHEXGEN_SOURCE_DIR);

nlohmann::json load_golden(const std::string& name) {
  std::ifstream in(kRoot / "tests" / "golden" / "data" / name);
  EXPECT_TRUE(in) << name;
  return nlohmann::json::parse(in);
}

// Counts are exact; means are compared with |a - g| <= 1e-12 * |g| (JSON round-trip of a double).
void expect_matches_golden(const Dataset& d, const nlohmann::json& g) {
  ASSERT_EQ(d.samples.size(), g.at("n_samples").get<std::size_t>());
  const auto prevalence = label_prevalence(d);
  ASSERT_EQ(prevalence.size(), g.at("label_prevalence").size());
  for (std::size_t k = 0; k < prevalence.size(); ++k) {
    const auto& gl = g.at("label_prevalence").at(d.labels.name(k));
    SCOPED_TRACE(d.labels.name(k));
    EXPECT_EQ(prevalence[k].positive, gl.at("positive").get<std::size_t>());
    EXPECT_EQ(prevalence[k].negative, gl.at("negative").get<std::size_t>());
    EXPECT_EQ(prevalence[k].uncertain, gl.at("uncertain").get<std::size_t>());
    EXPECT_EQ(prevalence[k].missing, gl.at("missing").get<std::size_t>());
    const double gf = gl.at("positive_fraction").get<double>();
    EXPECT_LE(std::abs(prevalence[k].positive_fraction() - gf), 1e-12 * std::abs(gf));
  }
  const PromptStats s = prompt_stats(d);
  const auto& gp = g.at("prompts");
  EXPECT_EQ(s.n_with_prompt, gp.at("n_with_prompt").get<std::size_t>());
  EXPECT_EQ(s.words.min, gp.at("words").at("min").get<std::size_t>());
  EXPECT_EQ(s.words.max, gp.at("words").at("max").get<std::size_t>());
  EXPECT_LE(std::abs(s.words.mean - gp.at("words").at("mean").get<double>()), 1e-12 * s.words.mean);
  EXPECT_EQ(s.characters.min, gp.at("characters").at("min").get<std::size_t>());
  EXPECT_EQ(s.characters.max, gp.at("characters").at("max").get<std::size_t>());
  EXPECT_LE(std::abs(s.characters.mean - gp.at("characters").at("mean").get<double>()), 1e-12 * s.characters.mean);
  const Duplicates dup = find_duplicate_prompts(d);
  EXPECT_EQ(dup.n_groups, g.at("duplicate_prompts").at("n_groups").get<std::size_t>());
  EXPECT_EQ(dup.n_samples, g.at("duplicate_prompts").at("n_samples").get<std::size_t>());
}

TEST(ManifestReference, CheXGenBenchRealFixture) {
  ErrorReport errors;
  const Dataset d = read_manifest(test::manifest_fixture("real.csv"), {}, errors);
  expect_matches_golden(d, load_golden("real_stats.json"));
  // The BOM + CRLF copy has the same labels and prompts except CRLF inside one quoted prompt.
  const Dataset crlf = read_manifest(test::manifest_fixture("real_bom_crlf.csv"), {}, errors);
  const auto a = label_prevalence(d), b = label_prevalence(crlf);
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k].positive, b[k].positive);
}

// NIH ChestX-ray14 labels: data/sample/labels.csv (the committed sample) and the shared copy.
TEST(ManifestReference, NihLabelsCsv) {
  struct Case {
    fs::path csv;
    const char* golden;
  };
  const Case cases[] = {
      {kRoot / "data" / "sample" / "labels.csv", "nih_sample_labels_stats.json"},
      {kRoot / ".." / "shared" / "data" / "nih-cxr" / "labels.csv", "nih_shared_labels_stats.json"},
  };
  int checked = 0;
  for (const auto& c : cases) {
    if (!fs::exists(c.csv) || !fs::exists(kRoot / "tests" / "golden" / "data" / c.golden)) continue;
    SCOPED_TRACE(c.csv.string());
    ManifestOptions o;
    o.label_names = LabelSet::nih15().names();
    o.skip_bad = false;
    ErrorReport errors;
    const Dataset d = read_manifest(c.csv, o, errors);
    EXPECT_EQ(d.format, ManifestFormat::onehot);
    expect_matches_golden(d, load_golden(c.golden));
    // Patient ids are kept; the file_name column resolves against the CSV's folder.
    ASSERT_FALSE(d.samples.empty());
    EXPECT_TRUE(d.samples[0].patient_id.has_value());
    EXPECT_EQ(d.samples[0].image_path, c.csv.parent_path() / d.samples[0].image_ref);
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "neither data/sample/labels.csv nor ../shared/data/nih-cxr/labels.csv is present";
}

}  // namespace
}  // namespace chexgen
