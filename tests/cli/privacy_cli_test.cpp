// `chexgen privacy` end to end on baselines of 40 sample radiographs: the copies generator is linked to its training
// rows and found, the outputs are written and read back, the leaderboard joins the privacy columns to a generator's
// row, and bad inputs are errors naming the file and row or the options.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/image/decode.h"
#include "chexgen/results/results.h"
#include "run_command.h"

namespace chexgen::testing {
namespace {

using results::Metric;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::vector<std::string> privacy_args(const fs::path& b, const std::string& generator, const fs::path& out) {
  return {"privacy",
          "--train",
          (b / "reference/metadata.jsonl").string(),
          "--train-id-column",
          "source_id",
          "--train-label-set",
          "nih",
          "--generations",
          (b / generator / "metadata.jsonl").string(),
          "--generations-label-set",
          "nih",
          "--holdout",
          (b / "held-out/metadata.jsonl").string(),
          "--holdout-label-set",
          "nih",
          "--store",
          (out.parent_path() / "store").string(),
          "--pixel-size",  // the sample's own size: no upsampling
          "256",
          "--out",
          out.string()};
}

TEST(PrivacyCli, CopiesAreFlaggedAndTheLeaderboardShowsPrivacyColumns) {
  const fs::path dir = make_temp_dir();
  const fs::path b = make_sample_baselines(dir, 40);
  auto copies_args = privacy_args(b, "copies", dir / "privacy-copies");
  copies_args.insert(copies_args.end(), {"--sheet-pairs", "4", "--radiomics", "--size", "64"});
  auto r = run_chexgen(copies_args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Copy rate"));
  EXPECT_THAT(r.out, HasSubstr("Avg pixel distance"));
  const results::Results res = results::read_results(dir / "privacy-copies");
  EXPECT_EQ(res.evaluation, "privacy");
  EXPECT_EQ(res.generator, "copies");
  EXPECT_EQ(res.overall.value({Metric::copy_rate, "Pixels"}), 1.0);
  EXPECT_EQ(res.overall.value({Metric::pixel_distance, "Pixels"}), 0.0);
  // Radiomics (--radiomics): a search space of its own, standardised on the training images, no latent distance.
  EXPECT_EQ(res.overall.value({Metric::copy_rate, "Radiomics"}), 1.0);
  const auto* radiomic_rate = res.overall.find({Metric::copy_rate, "Radiomics"});
  ASSERT_NE(radiomic_rate, nullptr);
  EXPECT_GT(radiomic_rate->details["features"]["columns_used"].get<std::size_t>(), 50u);
  EXPECT_NE(res.overall.find({Metric::data_copying, "Radiomics"}), nullptr);
  EXPECT_EQ(res.overall.find({Metric::latent_distance, "Radiomics"}), nullptr);
  const std::size_t n = res.overall.n_synthetic;
  const auto per_prompt = read_text(dir / "privacy-copies/privacy_per_prompt.csv");
  EXPECT_EQ(occurrences(per_prompt, "\n"), n + 1);
  const auto flagged = read_text(dir / "privacy-copies/flagged_pairs.csv");
  EXPECT_EQ(occurrences(flagged, ",yes,Pixels,"), n);
  // The contact sheet: the first 4 pairs (--sheet-pairs 4), 3 to a row on white; each an exact copy, so the
  // generation's tile equals the training image's tile beside it, and the CSV says where each pair is.
  EXPECT_THAT(flagged, HasSubstr(",0,1\n"));
  EXPECT_THAT(flagged, HasSubstr(",0,4\n"));
  EXPECT_THAT(flagged, Not(HasSubstr(",0,5\n")));
  const Image8 sheet = read_image_u8(dir / "privacy-copies/contact_sheet.png", ColorMode::gray);
  const int tile = 192, inner = 4, outer = 24;
  EXPECT_EQ(sheet.width, outer + 3 * (2 * tile + inner + outer));
  EXPECT_EQ(sheet.height, outer + 2 * (tile + outer));
  for (int pair = 0; pair < 4; ++pair) {
    const int x0 = outer + (pair % 3) * (2 * tile + inner + outer), y0 = outer + (pair / 3) * (tile + outer);
    std::size_t differing = 0, white = 0;
    for (int y = 0; y < tile; ++y)
      for (int x = 0; x < tile; ++x) {
        differing += sheet.at(x0 + x, y0 + y) != sheet.at(x0 + tile + inner + x, y0 + y) ? 1 : 0;
        white += sheet.at(x0 + x, y0 + y) == 255 ? 1 : 0;
      }
    EXPECT_EQ(differing, 0u) << "pair " << pair;
    EXPECT_LT(white, static_cast<std::size_t>(tile * tile / 2)) << "pair " << pair;  // a radiograph, not background
  }
  EXPECT_EQ(sheet.at(outer + 3 * (2 * tile + inner + outer) - 1, sheet.height - 1), 255);
  EXPECT_EQ(sheet.at(outer + 1 * (2 * tile + inner + outer) + 5, outer + tile + outer + 5), 255);  // no 5th pair

  EXPECT_THAT(r.out, HasSubstr("(the first 4 on "));

  // Unlinked generators (made from held-out images) still get the copy search.
  auto args = privacy_args(b, "blur-1", dir / "privacy-blur");
  args.push_back("--no-link");
  r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const results::Results blur = results::read_results(dir / "privacy-blur");
  EXPECT_LT(*blur.overall.value({Metric::copy_rate, "Pixels"}), 0.5);
  EXPECT_FALSE(fs::exists(dir / "privacy-blur/privacy_per_prompt.csv"));

  // The leaderboard: one row per generator, sorted by the copy rate on request.
  r = run_chexgen(
      {"leaderboard", (dir / "privacy-copies").string(), (dir / "privacy-blur").string(), "--sort", "Copy rate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sorted by Copy rate"));
  EXPECT_LT(r.out.find("blur-1"), r.out.find("copies"));  // lower is better
}

TEST(PrivacyCli, BadInputsAreNamed) {
  const fs::path dir = make_temp_dir();
  const fs::path b = make_sample_baselines(dir, 40);
  // Held-out images of training patients.
  auto args = privacy_args(b, "copies", dir / "out");
  args[12] = (b / "reference/metadata.jsonl").string();  // --holdout
  auto r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("are also in the training set"));
  // A generation linked to no training row: unlinked held-out images without --no-link.
  r = run_chexgen(privacy_args(b, "held-out", dir / "out"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("held-out/metadata.jsonl:1: column 'source_id'"));
  EXPECT_THAT(r.err, HasSubstr("is the id of no training image"));
  // A missing generated image: the manifest and its row.
  fs::remove(b / "copies" / read_jsonl(b / "copies/metadata.jsonl")[1]["file_name"].get<std::string>());
  r = run_chexgen(privacy_args(b, "copies", dir / "out"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("copies/metadata.jsonl:2"));
  // Contradictory options.
  args = privacy_args(b, "blur-1", dir / "out");
  for (const char* a : {"--no-link", "--source-column", "x"}) args.push_back(a);
  r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--no-link and --source-column"));
  args = privacy_args(b, "blur-1", dir / "out");
  for (const char* a : {"--no-link", "--compat", "numpy"}) args.push_back(a);
  r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--compat must be corrected or chexgenbench"));
  EXPECT_FALSE(fs::exists(dir / "out/results.json"));
}

}  // namespace
}  // namespace chexgen::testing
