// `chexgen inspect` end to end: exit codes, messages on stderr, and the --json report.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace chexgen::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);
const std::string kFixtures = (kRoot / "tests" / "fixtures" / "manifests").string();

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in) << p;
  return nlohmann::json::parse(in);
}

TEST(InspectCli, ReportsMissingUnreadableAndDuplicateImages) {
  const std::string json = make_temp_dir() + "/report.json";
  const auto r = run_chexgen({"-q", "inspect", "images.csv", "--labels", "Effusion", "--json", json}, kFixtures);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.out, HasSubstr("samples: 5\n"));
  EXPECT_THAT(r.out, HasSubstr("images: 3 found, 1 missing, 1 unreadable\n"));
  EXPECT_THAT(r.err, HasSubstr("images.csv:5: column 'file_name': image 'images/broken.png' cannot be read: "));
  EXPECT_THAT(r.err, HasSubstr("images.csv:6: column 'file_name': image 'images/missing.png' not found"));
  const auto j = read_json(json);
  EXPECT_EQ(j["n_samples"], 5);
  EXPECT_EQ(j["n_found"], 3);
  EXPECT_EQ(j["n_missing"], 1);
  EXPECT_EQ(j["n_unreadable"], 1);
  EXPECT_EQ(j["n_skipped"], 0);
  EXPECT_EQ(j["label_prevalence"]["Effusion"]["positive"], 2);
  EXPECT_EQ(j["label_prevalence"]["Effusion"]["negative"], 3);
  EXPECT_EQ(j["duplicate_images"]["n_groups"], 1);
  EXPECT_EQ(j["duplicate_images"]["examples"][0]["ids"], nlohmann::json({"images/ok1.png", "images/ok2.png"}));
  EXPECT_EQ(j["duplicate_prompts"]["examples"][0]["prompt"], "same prompt");
  EXPECT_EQ(j["prompts"]["n_with_prompt"], 4);
  ASSERT_EQ(j["errors"].size(), 2u);
  EXPECT_EQ(j["errors"][1]["row"], 6);
  EXPECT_EQ(j["errors"][1]["column"], "file_name");
}

TEST(InspectCli, SkipBadReportsButExitsZero) {
  const auto r = run_chexgen({"-q", "inspect", "images.csv", "--labels", "Effusion", "--skip-bad"}, kFixtures);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("images/missing.png' not found"));
}

TEST(InspectCli, NoDecodeOnlyChecksExistence) {
  const auto r = run_chexgen({"-q", "inspect", "images.csv", "--labels", "Effusion", "--no-decode"}, kFixtures);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr("images: 4 found, 1 missing, 0 unreadable (not decoded: --no-decode)"));
}

TEST(InspectCli, BadRowsAreListedAndCounted) {
  const std::string json = make_temp_dir() + "/report.json";
  const auto r = run_chexgen({"-q", "inspect", "real_bad_rows.csv", "--no-decode", "--json", json}, kFixtures);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err,
              HasSubstr("real_bad_rows.csv:9: column 'path': duplicate sample id 'a/ok1.jpg' (first on line 2)"));
  const auto j = read_json(json);
  EXPECT_EQ(j["manifest_read"], false);
  EXPECT_EQ(j["errors"].size(), 6u);

  const auto skip =
      run_chexgen({"-q", "inspect", "real_bad_rows.csv", "--no-decode", "--skip-bad", "--json", json}, kFixtures);
  EXPECT_EQ(skip.exit_code, 0) << skip.err;
  EXPECT_THAT(skip.out, HasSubstr("skipped bad rows: 6"));
  const auto js = read_json(json);
  EXPECT_EQ(js["n_samples"], 2);
  EXPECT_EQ(js["n_skipped"], 6);
  EXPECT_EQ(js["n_missing"], 2);  // the fixture has no images
  EXPECT_EQ(js["errors"].size(), 8u);
}

TEST(InspectCli, UsageErrors) {
  EXPECT_EQ(run_chexgen({"inspect", "ambiguous.csv"}, kFixtures).exit_code, 2);
  EXPECT_EQ(run_chexgen({"inspect", "onehot.csv"}, kFixtures).exit_code, 2);
  EXPECT_EQ(run_chexgen({"inspect", "real.csv", "--format", "tsv"}, kFixtures).exit_code, 2);
  EXPECT_EQ(run_chexgen({"inspect", "real.csv", "--label-set", "mimic"}, kFixtures).exit_code, 2);
  EXPECT_EQ(run_chexgen({"inspect", "real.csv", "--labels", "a", "--label-set", "nih"}, kFixtures).exit_code, 2);
  EXPECT_EQ(run_chexgen({"inspect", "no_such.csv"}, kFixtures).exit_code, 3);
}

// NIH labels: prevalence in the JSON report equals the Python reference (manifest_stats.py), for
// the committed sample (decoding every image) and for the shared copy (existence and hashes only).
TEST(InspectCli, NihLabelPrevalenceMatchesReference) {
  struct Case {
    fs::path csv;
    const char* golden;
    bool decode;
  };
  const Case cases[] = {
      {kRoot / "data" / "sample" / "labels.csv", "nih_sample_labels_stats.json", true},
      {kRoot / ".." / "shared" / "data" / "nih-cxr" / "labels.csv", "nih_shared_labels_stats.json", false},
  };
  int checked = 0;
  for (const auto& c : cases) {
    const fs::path golden = kRoot / "tests" / "golden" / "data" / c.golden;
    if (!fs::exists(c.csv) || !fs::exists(golden)) continue;
    SCOPED_TRACE(c.csv.string());
    const std::string json = make_temp_dir() + "/report.json";
    std::vector<std::string> args{"-q", "inspect", c.csv.string(), "--label-set", "nih", "--json", json};
    if (!c.decode) args.push_back("--no-decode");
    const auto r = run_chexgen(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = read_json(json);
    const auto g = read_json(golden);
    EXPECT_EQ(j["n_samples"], g["n_samples"]);
    EXPECT_EQ(j["n_missing"], 0);
    EXPECT_EQ(j["n_unreadable"], 0);
    for (const auto& [label, counts] : g["label_prevalence"].items()) {
      for (const char* k : {"positive", "negative", "uncertain", "missing"}) {
        EXPECT_EQ(j["label_prevalence"][label][k], counts[k]) << label << " " << k;
      }
    }
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "neither data/sample/labels.csv nor ../shared/data/nih-cxr/labels.csv is present";
}

}  // namespace
}  // namespace chexgen::testing
