// `chexgen leaderboard` on hand-written results.json files: columns in table order, rows ranked in each column's
// better direction, the CSV at full precision, and bad files and columns named.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

// A results.json as chexgen writes it (docs/results.md), with these overall records: {metric id, space, value}; a
// value of null makes a skipped record.
struct Value {
  const char* metric;
  const char* space;
  nlohmann::json value;
};
void write_run(const fs::path& file, const std::string& generator, const std::vector<Value>& values, int n_real = 80,
               int n_synthetic = 80) {
  nlohmann::json records = nlohmann::json::array();
  for (const Value& v : values) {
    nlohmann::json r = {{"metric", v.metric}, {"space", v.space}};
    if (v.value.is_null())
      r["skipped"] = "a reason";
    else
      r["value"] = v.value;
    records.push_back(r);
  }
  write_text(file, nlohmann::json{{"format", "chexgen-results/1"},
                                  {"evaluation", "fidelity"},
                                  {"generator", generator},
                                  {"columns", nlohmann::json::array()},
                                  {"overall", {{"n_real", n_real}, {"n_synthetic", n_synthetic}, {"records", records}}}}
                       .dump(2));
}

// Three generators: held-out best by FRD and FID, blur-4 worst; noise-32 has the highest coverage.
fs::path write_results(const fs::path& dir) {
  write_run(dir / "held-out/results.json", "held-out",
            {{"fid", "Radiomics", 1.234567},
             {"kid", "Radiomics", 0.0123456},
             {"precision", "Radiomics", 0.8},
             {"recall", "Radiomics", 0.7},
             {"density", "Radiomics", 0.9},
             {"coverage", "Radiomics", 0.8},
             {"frd", "Radiomics", 2.1},
             {"inception_score", "Inception", nullptr}});
  write_run(dir / "blur-4/results.json", "blur-4",
            {{"fid", "Radiomics", 40.5},
             {"kid", "Radiomics", 0.5},
             {"precision", "Radiomics", 0.1},
             {"recall", "Radiomics", 0.05},
             {"density", "Radiomics", 0.02},
             {"coverage", "Radiomics", 0.01},
             {"frd", "Radiomics", 35.25}});
  write_run(dir / "noise-32/results.json", "noise-32",
            {{"frd", "Radiomics", 12.0},
             {"fid", "Radiomics", 9.87654321},
             {"kid", "Radiomics", 0.2},
             {"precision", "Radiomics", 0.5},
             {"recall", "Radiomics", 0.6},
             {"density", "Radiomics", 0.4},
             {"coverage", "Radiomics", 0.95}},
            80, 78);
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
  EXPECT_THAT(r.out, Not(HasSubstr("Inception Score")));  // skipped in the one row that has it
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
  write_run(dir / "a.json", "a",
            {{"fid", "Inception", 10},
             {"fid", "RadDino", 3},
             {"inception_score", "Inception", 2.5},
             {"precision", "RadDino", 0.5},
             {"alignment", "BioViL-T", 0.3},
             {"frd", "Radiomics", 1.0}});
  write_run(dir / "b.json", "b",
            {{"fid", "Inception", 5}, {"kid", "Inception", 0.1}, {"precision", "RadDino", nullptr}});
  const auto r = run_chexgen({"leaderboard", (dir / "a.json").string(), (dir / "b.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = table_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], "sorted by FID (lower is better)");  // b has no FRD
  EXPECT_THAT(lines[1],
              ::testing::MatchesRegex("rank +generator +FRD +FID +FID \\(RadDino\\) +KID +Inception Score +Precision "
                                      "+Alignment_score +n_real +n_synthetic"));
  EXPECT_THAT(lines[2], ::testing::MatchesRegex(" *1 +b +- +5 +- +0\\.1 +- +- +- +80 +80"));
  EXPECT_THAT(lines[3], ::testing::MatchesRegex(" *2 +a +1 +10 +3 +- +2\\.5 +0\\.5 +0\\.3 +80 +80"));

  // Rows without the sort column come last, unranked.
  const auto s =
      run_chexgen({"leaderboard", (dir / "b.json").string(), (dir / "a.json").string(), "--sort", "Inception Score"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const auto sl = table_lines(s.out);
  EXPECT_EQ(sl[0], "sorted by Inception Score (higher is better)");
  EXPECT_THAT(sl[2], ::testing::MatchesRegex(" *1 +a .*"));
  EXPECT_THAT(sl[3], ::testing::MatchesRegex(" *- +b .*"));

  // Equal values share a rank.
  write_run(dir / "c.json", "c", {{"fid", "Inception", 5}, {"frd", "Radiomics", 2}});
  const auto t =
      run_chexgen({"leaderboard", (dir / "a.json").string(), (dir / "b.json").string(), (dir / "c.json").string()});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const auto tl = table_lines(t.out);
  EXPECT_THAT(tl[2], ::testing::MatchesRegex(" *1 +b .*"));
  EXPECT_THAT(tl[3], ::testing::MatchesRegex(" *1 +c .*"));
  EXPECT_THAT(tl[4], ::testing::MatchesRegex(" *3 +a .*"));
}

TEST(LeaderboardCli, BadFilesAndColumnsAreNamed) {
  const fs::path dir = write_results(make_temp_dir());
  write_text(dir / "broken.json", "{\"overall\": {\"FRD\": 1.0,");
  write_text(dir / "old.json", R"J({"extra_info": "x", "overall": {"FRD": 1.0}})J");  // before the results format
  write_text(dir / "array.json", "[1, 2]");
  write_run(dir / "unknown.json", "x", {{"fid", "Radiomics", 1.0}, {"sharpness", "Radiomics", 2.0}});
  write_run(dir / "text.json", "x", {{"fid", "Radiomics", "low"}});
  fs::create_directories(dir / "empty");

  auto r = run_chexgen({"leaderboard", (dir / "held-out").string(), (dir / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr((dir / "missing.json").string() + ": file not found"));
  EXPECT_EQ(r.out, "");

  r = run_chexgen({"leaderboard", (dir / "broken.json").string(), (dir / "old.json").string(),
                   (dir / "array.json").string(), (dir / "empty").string(), (dir / "unknown.json").string(),
                   (dir / "text.json").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr((dir / "broken.json").string() + ": not valid JSON"));
  EXPECT_THAT(r.err, HasSubstr((dir / "old.json").string() + ": not chexgen results: \"format\": "
                                                             "\"chexgen-results/1\" expected"));
  EXPECT_THAT(r.err, HasSubstr((dir / "array.json").string() + ": not chexgen results: the top level is not"));
  EXPECT_THAT(r.err, HasSubstr((dir / "empty/results.json").string() + ": no results.json in this folder"));
  EXPECT_THAT(r.err,
              HasSubstr((dir / "unknown.json").string() + ": overall.records[1].metric: unknown metric 'sharpness'"));
  EXPECT_THAT(r.err, HasSubstr((dir / "text.json").string() + ": overall.records[0].value: not a number"));
  EXPECT_THAT(r.err, HasSubstr("6 of 6 results file(s) could not be used"));

  r = run_chexgen({"leaderboard", (dir / "held-out").string(), "--sort", "FID"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--sort: no metric column 'FID' in the results (columns: 'FRD', 'FID (Radiomics)'"));

  r = run_chexgen({"leaderboard"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace chexgen::testing
