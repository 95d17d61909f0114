// `chexgen radiomics` and `chexgen frd` end to end: values against PyRadiomics' table, the feature store (a rerun
// measures nothing again), bad images, and FRD from feature tables against tests/golden/metrics/frd_golden.json.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);
const fs::path kNih = kRoot / "tests/golden/radiomics/nih24";
const fs::path kMetrics = kRoot / "tests/golden/metrics";

std::vector<std::vector<std::string>> read_csv_rows(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in) << p;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // the golden tables have CRLF line ends
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

// A one-column manifest of NIH images (the first `n` of PyRadiomics' table), plus optional extra lines.
fs::path write_manifest(const fs::path& dir, std::size_t n, const std::vector<std::string>& extra = {}) {
  const auto table = read_csv_rows(kRoot / "tests/golden/radiomics/pyradiomics_frd_v1_noresample_nih24.csv");
  const fs::path manifest = dir / "images.csv";
  std::ofstream out(manifest);
  out << "file_name,Effusion\n";
  for (std::size_t i = 1; i <= n; ++i) out << (kNih / table[i][0]).string() << ",0\n";
  for (const auto& e : extra) out << e << ",0\n";
  return manifest;
}

TEST(RadiomicsCli, MatchesPyRadiomicsAndReusesTheStore) {
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_manifest(dir, 2);
  const std::vector<std::string> args = {"-q",
                                         "radiomics",
                                         manifest.string(),
                                         "--format",
                                         "onehot",
                                         "--labels",
                                         "Effusion",
                                         "--size",
                                         "0",
                                         "--resample-spacing",
                                         "0",
                                         "--store",
                                         (dir / "store").string(),
                                         "--out",
                                         (dir / "f.csv").string()};
  auto r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ours = read_csv_rows(dir / "f.csv");
  const auto ref = read_csv_rows(kRoot / "tests/golden/radiomics/pyradiomics_frd_v1_noresample_nih24.csv");
  ASSERT_EQ(ours.size(), 3u);
  ASSERT_EQ(ours[0].size(), ref[0].size());
  for (std::size_t c = 1; c < ours[0].size(); ++c) EXPECT_EQ(ours[0][c], ref[0][c]);
  std::size_t close = 0, total = 0;
  for (std::size_t row = 1; row <= 2; ++row) {
    EXPECT_EQ(fs::path(ours[row][0]).filename().string(), ref[row][0]);
    for (std::size_t c = 1; c < ours[row].size(); ++c) {
      const double a = std::stod(ours[row][c]), b = std::stod(ref[row][c]);
      ++total;
      if (std::fabs(a - b) <= 1e-9 || std::fabs(a - b) <= 1e-6 * std::fabs(b)) ++close;
    }
  }
  EXPECT_GE(close, total * 99 / 100);

  // Same run again: everything comes from the store, the output is byte-identical.
  const std::string first = [&] {
    std::ifstream in(dir / "f.csv");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  std::vector<std::string> again = args;
  again.erase(again.begin());  // progress lines on: they carry the counts
  r = run_chexgen(again);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("2 images (0 computed, 2 from the store)"));
  std::ifstream in(dir / "f.csv");
  std::stringstream second;
  second << in.rdbuf();
  EXPECT_EQ(second.str(), first);
}

// The store remembers which hash an unchanged file has (paths.bin), so a rerun need not read it; an image rewritten
// in place, its modification time set back, is measured again all the same.
TEST(RadiomicsCli, ARewrittenImageIsMeasuredAgainWhateverItsModificationTime) {
  const fs::path dir = make_temp_dir();
  fs::create_directories(dir / "images");
  const fs::path a = dir / "images/a.png", b = dir / "images/b.png";
  fs::copy_file(kNih / "00000061_012.png", a);
  fs::copy_file(kNih / "00000211_013.png", b);
  usleep(2'100'000);  // files changed in the last 2 s are not remembered
  {
    std::ofstream m(dir / "images.csv");
    m << "file_name,Effusion\n" << a.string() << ",0\n" << b.string() << ",0\n";
  }
  const std::vector<std::string> args = {"radiomics", (dir / "images.csv").string(), "--format", "onehot",
                                         "--labels", "Effusion", "--size", "64", "--store", (dir / "store").string(),
                                         "--out", (dir / "f.csv").string()};
  auto r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("2 images (2 computed, 0 from the store)"));
  std::size_t remembered = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "store"))
    if (e.path().filename() == "paths.bin") remembered += fs::file_size(e.path());
  EXPECT_GT(remembered, 2 * (a.string().size() + 80));  // both files, with their stat values and hashes

  r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("2 images (0 computed, 2 from the store)"));

  // a.png becomes b.png's image, with a.png's old modification time.
  struct stat before {};
  ASSERT_EQ(stat(a.c_str(), &before), 0);
  fs::copy_file(b, a, fs::copy_options::overwrite_existing);
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, a.c_str(), times, 0), 0);
  r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("2 images (0 computed, 2 from the store)"));  // b's row is stored already
  const auto rows = read_csv_rows(dir / "f.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(rows[1].begin() + 1, rows[1].end()),
            std::vector<std::string>(rows[2].begin() + 1, rows[2].end()));
}

TEST(RadiomicsCli, BadImagesNameTheRowAndSkipBadLeavesThemOut) {
  const fs::path dir = make_temp_dir();
  { std::ofstream(dir / "broken.png") << "not a png"; }
  const fs::path manifest = write_manifest(dir, 1, {(dir / "broken.png").string(), (dir / "missing.png").string()});
  std::vector<std::string> args = {"-q",
                                   "radiomics",
                                   manifest.string(),
                                   "--format",
                                   "onehot",
                                   "--labels",
                                   "Effusion",
                                   "--size",
                                   "64",
                                   "--store",
                                   (dir / "store").string(),
                                   "--out",
                                   (dir / "f.npy").string()};
  auto r = run_chexgen(args);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("images.csv:3: column 'file_name': image '" + (dir / "broken.png").string() + "'"));
  EXPECT_THAT(r.err, HasSubstr("images.csv:4: column 'file_name': image '" + (dir / "missing.png").string() + "'"));
  EXPECT_FALSE(fs::exists(dir / "f.npy"));
  args.push_back("--skip-bad");
  r = run_chexgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 images x 398 features"));
  const auto columns = read_csv_rows(dir / "f.npy.columns.txt");
  EXPECT_EQ(columns.size(), 398u);
  EXPECT_EQ(columns[0][0], "diagnostics_Image-original_Mean");
  EXPECT_EQ(read_csv_rows(dir / "f.npy.images.txt").size(), 1u);
}

TEST(FrdCli, FeatureTablesMatchTheFrdV1Steps) {
  const fs::path dir = make_temp_dir();
  std::ifstream golden_in(kMetrics / "frd_golden.json");
  const auto golden = nlohmann::json::parse(golden_in)["cases"];
  for (const auto& [name, match] : {std::pair<std::string, bool>{"mixed", false}, {"mixed_matched", true}}) {
    std::vector<std::string> args = {"frd",
                                     "--real-features",
                                     (kMetrics / "frd_mixed_real.csv").string(),
                                     "--synthetic-features",
                                     (kMetrics / "frd_mixed_synthetic.csv").string(),
                                     "--paper-log",
                                     "--json",
                                     (dir / (name + ".json")).string()};
    if (match) args.push_back("--match-sample-count");
    const auto r = run_chexgen(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("real image real_003.png has NaN features; left out"));
    EXPECT_THAT(r.err, HasSubstr("frd_mixed_real.csv:2: column 'diagnostics_Versions_PyRadiomics' holds text "
                                 "('v3.1.0'); the column is left out of FRD"));
    std::ifstream in(dir / (name + ".json"));
    const auto j = nlohmann::json::parse(in);
    const double expected = golden[name]["log_frechet_distance"];
    EXPECT_NEAR(j["frd"].get<double>(), expected, 1e-9 * std::fabs(expected)) << name;
    EXPECT_EQ(j["columns_used"], golden[name]["columns_used"]);
    EXPECT_EQ(j["dropped_columns"], nlohmann::json({"f4"}));
    EXPECT_EQ(j["real"]["non_numeric_columns_left_out"], nlohmann::json({"diagnostics_Versions_PyRadiomics"}));
    EXPECT_EQ(j["real"]["rows_with_nan"], nlohmann::json({"real_003.png", "real_050.png"}));
    EXPECT_EQ(j["synthetic"]["rows_used"], golden[name]["synthetic_used"]);
  }
}

TEST(FrdCli, ImagesEndToEnd) {
  const fs::path dir = make_temp_dir();
  const fs::path real = dir / "real";
  const fs::path syn = dir / "syn";
  fs::create_directories(real);
  fs::create_directories(syn);
  std::size_t k = 0;
  for (const auto& e : fs::directory_iterator(kNih)) {
    if (k >= 8) break;
    fs::copy_file(e.path(), (k % 2 ? syn : real) / e.path().filename());
    ++k;
  }
  const auto r = run_chexgen({"-q", "frd", "--real", real.string(), "--synthetic", syn.string(), "--size", "128",
                              "--store", (dir / "store").string(), "--json", (dir / "frd.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(dir / "frd.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_GT(j["frechet_distance"].get<double>(), 0);
  EXPECT_EQ(j["real"]["measured"], 4);
  EXPECT_EQ(j["options"]["extraction"]["config"], "frd-v1");
  EXPECT_EQ(j["options"]["extraction"]["size"], 128);
  EXPECT_FALSE(j["options"]["paper_log"].get<bool>());
  EXPECT_EQ(j["frd"], j["frechet_distance"]);
}

TEST(FrdCli, UsageErrors) {
  EXPECT_EQ(run_chexgen({"frd", "--real", "a"}).exit_code, 2);
  EXPECT_EQ(run_chexgen({"frd", "--real-features", "a.csv"}).exit_code, 2);
  EXPECT_EQ(run_chexgen({"radiomics", "x", "--out", "f.txt"}).exit_code, 2);
  EXPECT_EQ(run_chexgen({"radiomics", "x", "--out", "f.csv", "--config", "nope"}).exit_code, 2);
}

}  // namespace
}  // namespace chexgen::testing
