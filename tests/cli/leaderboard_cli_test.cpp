// `chexgen leaderboard` on hand-written results.json files: columns in table order, rows ranked in each column's
// better direction, the CSV at full precision, and bad files and columns named.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run_command.h"

namespace chexgen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// Three generators: held-out best by FRD and FID, blur-4 worst; noise-32 has the highest coverage.
fs::path write_results(const fs::path& dir) {
  write_text(dir / "held-out/results.json", R"J({"extra_info": "held-out", "overall": {
      "FID (Radiomics)": 1.234567, "KID (Radiomics)": 0.0123456, "Precision (Radiomics)": 0.8,
      "Recall (Radiomics)": 0.7,
      "Density (Radiomics)": 0.9, "Coverage (Radiomics)": 0.8, "FRD": 2.1, "n_real": 80, "n_synthetic": 80,
      "skipped": {"Inception Score": "no Inception model was given"}}, "conditional": []})J");
  write_text(dir / "blur-4/results.json", R"J({"extra_info": "blur-4", "overall": {
      "FID (Radiomics)": 40.5, "KID (Radiomics)": 0.5, "Precision (Radiomics)": 0.1, "Recall (Radiomics)": 0.05,
      "Density (Radiomics)": 0.02, "Coverage (Radiomics)": 0.01, "FRD": 35.25, "n_real": 80, "n_synthetic": 80}})J");
  write_text(dir / "noise-32/results.json", R"J({"extra_info": "noise-32", "overall": {
      "FRD": 12.0, "FID (Radiomics)": 9.87654321, "KID (Radiomics)": 0.2, "Precision (Radiomics)": 0.5,
      "Recall (Radiomics)": 0.6, "Density (Radiomics)": 0.4, "Coverage (Radiomics)": 0.95, "n_real": 80,
      "n_synthetic": 78, "intervals": {"FRD": {"low": 11.0, "high": 13.0}}}})J");
  return dir;
}

// The data lines of the table (after the "sorted by" line and the header).
std::vector<std::string> table_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST(LeaderboardCli, RanksByFrdAscendingByDefault) {
  const fs::path dir = write_results(make_temp_dir());
  const auto r = run_chexgen({"leaderboard", (dir / "blur-4").string(), (dir / "held-out/results.json").string(),
                              (dir / "noise-32").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = table_lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0], "sorted by FRD (lower is better)");
  // Columns: rank, generator, FRD, FID..., KID..., Precision, Recall, Density, Coverage, then the counts.
  EXPECT_THAT(lines[1], ::testing::MatchesRegex(
                            "rank +generator +FRD +FID \\(Radiomics\\) +KID \\(Radiomics\\) +Precision \\(Radiomics\\) "
                            "+Recall \\(Radiomics\\) +Density \\(Radiomics\\) +Coverage \\(Radiomics\\) +n_real "
                            "+n_synthetic"));
  EXPECT_THAT(lines[2], ::testing::MatchesRegex(" *1 +held-out +2\\.1 +1\\.235 +0\\.01235 .* 80 +80"));
  EXPECT_THAT(lines[3], ::testing::MatchesRegex(" *2 +noise-32 +12 +9\\.877 .* 80 +78"));
  EXPECT_THAT(lines[4], ::testing::MatchesRegex(" *3 +blur-4 +35\\.25 +40\\.5 .*"));
  // Aligned: every line of the table is as wide as the header, the generator column starts in the same place.
  EXPECT_EQ(lines[2].find("held-out"), lines[1].find("generator"));
  EXPECT_EQ(lines[4].find("blur-4"), lines[1].find("generator"));
  EXPECT_EQ(lines[2].size(), lines[1].size());
  EXPECT_THAT(r.out, Not(HasSubstr("skipped")));
  EXPECT_THAT(r.out, Not(HasSubstr("intervals")));
}

TEST(LeaderboardCli, HigherIsBetterColumnsRankDescendingAndCsvHasFullPrecision) {
  const fs::path dir = write_results(make_temp_dir());
  const fs::path csv = dir / "board.csv";
  const auto r = run_chexgen({"leaderboard", (dir / "held-out").string(), (dir / "blur-4").string(),
                              (dir / "noise-32").string(), "--sort", "Coverage (Radiomics)", "--csv", csv.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = table_lines(r.out);
  EXPECT_EQ(lines[0], "sorted by Coverage (Radiomics) (higher is better)");
  EXPECT_THAT(lines[2], HasSubstr("noise-32"));
  EXPECT_THAT(lines[3], HasSubstr("held-out"));
  EXPECT_THAT(lines[4], HasSubstr("blur-4"));
  EXPECT_EQ(read_text(csv),
            "rank,generator,FRD,FID (Radiomics),KID (Radiomics),Precision (Radiomics),Recall (Radiomics),"
            "Density (Radiomics),Coverage (Radiomics),n_real,n_synthetic\n"
            "1,noise-32,12,9.87654321,0.2,0.5,0.6,0.4,0.95,80,78\n"
            "2,held-out,2.1,1.234567,0.0123456,0.8,0.7,0.9,0.8,80,80\n"
            "3,blur-4,35.25,40.5,0.5,0.1,0.05,0.02,0.01,80,80\n");

  // A lower-is-better column other than FRD.
  const auto k = run_chexgen({"leaderboard", (dir / "held-out").string(), (dir / "blur-4").string(),
                              (dir / "noise-32").string(), "--sort", "KID (Radiomics)"});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  const auto kl = table_lines(k.out);
  EXPECT_EQ(kl[0], "sorted by KID (Radiomics) (lower is better)");
  EXPECT_THAT(kl[2], HasSubstr("held-out"));
  EXPECT_THAT(kl[4], HasSubstr("blur-4"));
}

TEST(LeaderboardCli, MissingCellsAndTheDefaultWithoutFrd) {
  const fs::path dir = make_temp_dir();
  write_text(dir / "a.json", R"J({"extra_info": "a", "overall": {"FID": 10, "FID (RadDino)": 3, "Inception Score": 2.5,
      "Precision": 0.5, "Alignment_score": 0.3, "FRD": 1.0}})J");
  write_text(dir / "b.json", R"J({"extra_info": "b", "overall": {"FID": 5, "KID": 0.1, "Precision": null}})J");
  const auto r = run_chexgen({"leaderboard", (dir / "a.json").string(), (dir / "b.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = table_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], "sorted by FID (lower is better)");  // b has no FRD
  EXPECT_THAT(lines[1], ::testing::MatchesRegex(
                            "rank +generator +FRD +FID +FID \\(RadDino\\) +KID +Inception Score +Precision "
                            "+Alignment_score"));
  EXPECT_THAT(lines[2], ::testing::MatchesRegex(" *1 +b +- +5 +- +0\\.1 +- +- +-"));
  EXPECT_THAT(lines[3], ::testing::MatchesRegex(" *2 +a +1 +10 +3 +- +2\\.5 +0\\.5 +0\\.3"));

  // Rows without the sort column come last, unranked.
  const auto s = run_chexgen({"leaderboard", (dir / "b.json").string(), (dir / "a.json").string(), "--sort",
                              "Inception Score"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const auto sl = table_lines(s.out);
  EXPECT_EQ(sl[0], "sorted by Inception Score (higher is better)");
  EXPECT_THAT(sl[2], ::testing::MatchesRegex(" *1 +a .*"));
  EXPECT_THAT(sl[3], ::testing::MatchesRegex(" *- +b .*"));

  // Equal values share a rank.
  write_text(dir / "c.json", R"J({"extra_info": "c", "overall": {"FID": 5, "FRD": 2}})J");
  const auto t = run_chexgen({"leaderboard", (dir / "a.json").string(), (dir / "b.json").string(),
                              (dir / "c.json").string()});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const auto tl = table_lines(t.out);
  EXPECT_THAT(tl[2], ::testing::MatchesRegex(" *1 +b .*"));
  EXPECT_THAT(tl[3], ::testing::MatchesRegex(" *1 +c .*"));
  EXPECT_THAT(tl[4], ::testing::MatchesRegex(" *3 +a .*"));
}

TEST(LeaderboardCli, BadFilesAndColumnsAreNamed) {
  const fs::path dir = write_results(make_temp_dir());
  write_text(dir / "broken.json", "{\"overall\": {\"FRD\": 1.0,");
  write_text(dir / "no_overall.json", R"J({"extra_info": "x", "FRD": 1.0})J");
  write_text(dir / "array.json", "[1, 2]");
  fs::create_directories(dir / "empty");

  auto r = run_chexgen({"leaderboard", (dir / "held-out").string(), (dir / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr((dir / "missing.json").string() + ": file not found"));
  EXPECT_EQ(r.out, "");

  r = run_chexgen({"leaderboard", (dir / "broken.json").string(), (dir / "no_overall.json").string(),
                   (dir / "array.json").string(), (dir / "empty").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr((dir / "broken.json").string() + ": not valid JSON"));
  EXPECT_THAT(r.err, HasSubstr((dir / "no_overall.json").string() + ": no \"overall\" object"));
  EXPECT_THAT(r.err, HasSubstr((dir / "array.json").string() + ": not a results.json"));
  EXPECT_THAT(r.err, HasSubstr((dir / "empty/results.json").string() + ": no results.json in this folder"));
  EXPECT_THAT(r.err, HasSubstr("4 of 4 results file(s) could not be used"));

  r = run_chexgen({"leaderboard", (dir / "held-out").string(), "--sort", "FID"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--sort: no metric column 'FID' in the results (columns: 'FRD', 'FID (Radiomics)'"));

  r = run_chexgen({"leaderboard"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace chexgen::testing
