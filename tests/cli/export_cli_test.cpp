// `chexgen export` end to end on the layout generate and filter leave behind (GEN/images, GEN/generation.json,
// FILTER/kept.csv or graded.csv, FILTER/summary.json): what it prints, the files it writes, that a rerun copies
// nothing, the dataset as Hugging Face's imagefolder reads it (restated in tests/fixtures/check_export_with_python.py),
// and bad input named by file and row with exit code 3.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/image/decode.h"
#include "run_command.h"

namespace chexgen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

const fs::path kRoot(CHEXGEN_SOURCE_DIR);

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A small gray PNG, different for each shade.
void write_png_file(const fs::path& p, int shade) {
  Image8 image(4, 3, 1);
  for (std::size_t i = 0; i < image.data.size(); ++i) image.data[i] = static_cast<std::uint8_t>(shade + i);
  fs::create_directories(p.parent_path());
  write_png(p, image);
}

struct Layout {
  fs::path gen, filter;
};

// GEN/images/SyntheticImg_{0..4}.png + generation.json; FILTER/graded.csv, kept.csv and summary.json whose
// image_root is GEN (the paths in the CSVs are relative to it, as the filter leaves them).
Layout make_layout(const fs::path& dir) {
  Layout l{dir / "gen", dir / "filter"};
  for (int i = 0; i < 5; ++i) write_png_file(l.gen / "images" / ("SyntheticImg_" + std::to_string(i) + ".png"), 20 * i);
  write_text(l.gen / "generation.json",
             R"({"backend": "images-api", "model": "sana-0.6b-cxr", "base_url": "http://127.0.0.1:9",
                 "seeds": [639, 25], "per_prompt": 1, "size": "512x512", "n_prompts": 5, "n_images": 5,
                 "manifest": "prompts.csv"})");
  const std::string header = "img_savename,prompt,chexpert_labels,sample_id,k,seed,quality\n";
  const std::vector<std::string> rows{
      "images/SyntheticImg_0.png,Left pleural effusion.,\"{'Pleural Effusion': 1.0, 'Edema': -1.0}\",0,0,639,"
      "High Quality\n",
      "images/SyntheticImg_1.png,Mild cardiomegaly.,\"{'Cardiomegaly': 1.0}\",1,0,639,Medium Quality\n",
      "images/SyntheticImg_2.png,Pulmonary edema.,\"{'Edema': 1.0}\",2,0,639,Low Quality\n",
      "images/SyntheticImg_3.png,No acute findings.,\"{'No Finding': 1.0}\",3,0,639,unparsed\n",
      "images/SyntheticImg_4.png,Right pneumothorax.,\"{'Pneumothorax': 1.0}\",4,0,639,error\n"};
  write_text(l.filter / "graded.csv", header + rows[0] + rows[1] + rows[2] + rows[3] + rows[4]);
  write_text(l.filter / "kept.csv", header + rows[0] + rows[1]);
  nlohmann::json summary{{"manifest", (l.gen / "generations.csv").string()},
                         {"image_root", l.gen.string()},
                         {"n_images", 5},
                         {"counts",
                          {{"High Quality", 1},
                           {"Medium Quality", 1},
                           {"Low Quality", 1},
                           {"Not Relevant", 0},
                           {"unparsed", 1},
                           {"error", 1}}},
                         {"keep", {"High Quality", "Medium Quality"}},
                         {"model", "healthgpt-m3"},
                         {"base_url", "http://127.0.0.1:8"},
                         {"meta_prompt", "You are an expert radiologist and medical annotator."},
                         {"question_template", "Given the prompt {prompt}, classify the following image"},
                         {"temperature", 0}};
  write_text(l.filter / "summary.json", summary.dump(2));
  return l;
}

TEST(ExportCli, ExportsTheGradedSetAndCountsWhatItLeavesOut) {
  const fs::path dir = make_temp_dir();
  const Layout l = make_layout(dir);
  const fs::path out = dir / "dataset";
  auto r = run_chexgen({"-q", "export", (l.filter / "graded.csv").string(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("exported 2 of 5 images to " + out.string() + "/images (2 copied, 0 already there"));
  EXPECT_THAT(r.out, HasSubstr("card: filter healthgpt-m3"));
  EXPECT_THAT(r.out, HasSubstr("generator sana-0.6b-cxr (" + (l.gen / "generation.json").string() + ")"));
  EXPECT_THAT(r.err, HasSubstr("image paths are resolved against " + l.gen.string()));
  EXPECT_THAT(r.err, HasSubstr("graded.csv: left out 3 of 5 rows by quality: Low Quality 1, Not Relevant 0, "
                               "unparsed 1, error 1"));
  EXPECT_THAT(r.err, HasSubstr("graded.csv:5: left out (unparsed): images/SyntheticImg_3.png"));
  EXPECT_THAT(r.err, HasSubstr("graded.csv:6: left out (error): images/SyntheticImg_4.png"));

  const auto lines = read_jsonl(out / "metadata.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["file_name"], "images/SyntheticImg_0.png");
  EXPECT_EQ(lines[0]["filename"], "SyntheticImg_0.png");
  EXPECT_EQ(lines[0]["prompt"], "Left pleural effusion.");
  EXPECT_EQ(lines[0]["labels_dict"]["Pleural Effusion"], 1);
  EXPECT_EQ(lines[0]["labels_dict"]["Edema"], 0);
  EXPECT_EQ(lines[1]["quality"], "Medium Quality");
  EXPECT_TRUE(fs::exists(out / "images/SyntheticImg_1.png"));
  EXPECT_FALSE(fs::exists(out / "images/SyntheticImg_2.png"));

  const std::string card = read_text((out / "README.md").string());
  EXPECT_THAT(card, HasSubstr("`healthgpt-m3`"));
  EXPECT_THAT(card, HasSubstr("You are an expert radiologist and medical annotator."));
  EXPECT_THAT(card, HasSubstr("- seeds: 639, 25"));
  EXPECT_THAT(card, HasSubstr("| unparsed | 1 | 0 | 1 |"));
  const auto summary = nlohmann::json::parse(read_text((out / "export.json").string()));
  EXPECT_EQ(summary["left_out_per_quality"]["error"], 1);
  EXPECT_EQ(summary["left_out_unparsed_or_error"].size(), 2u);

  // A rerun copies nothing and writes the same metadata.
  const std::string metadata = read_text((out / "metadata.jsonl").string());
  r = run_chexgen({"-q", "export", (l.filter / "graded.csv").string(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(0 copied, 2 already there, 0 replaced)"));
  EXPECT_EQ(read_text((out / "metadata.jsonl").string()), metadata);

  // An image with other content (regenerated; this layout's graded.csv has no image_sha256 to catch it) replaces the
  // exported copy: the command reads that copy back to compare, as its own file, and may then write over it.
  write_png_file(l.gen / "images" / "SyntheticImg_0.png", 99);
  r = run_chexgen({"-q", "export", (l.filter / "graded.csv").string(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(1 copied, 1 already there, 1 replaced)"));
  EXPECT_EQ(read_text((out / "images/SyntheticImg_0.png").string()),
            read_text((l.gen / "images/SyntheticImg_0.png").string()));

  // Keeping only High Quality removes the Medium Quality image this folder held.
  r = run_chexgen(
      {"-q", "export", (l.filter / "graded.csv").string(), "--out", out.string(), "--keep", "High Quality"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("left out 4 of 5 rows by quality: Medium Quality 1, Low Quality 1"));
  EXPECT_THAT(r.err, HasSubstr("removed 1 image(s)"));
  EXPECT_FALSE(fs::exists(out / "images/SyntheticImg_1.png"));
}

TEST(ExportCli, HuggingFaceImagefolderRulesReadTheExport) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  const fs::path dir = make_temp_dir();
  const Layout l = make_layout(dir);
  const fs::path out = dir / "dataset";
  auto r =
      run_chexgen({"-q", "export", (l.filter / "kept.csv").string(), "--out", out.string(), "--label-policy", "raw"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string command = "/usr/bin/python3 " + (kRoot / "tests/fixtures/check_export_with_python.py").string() +
                              " " + out.string() + " 2>&1";
  std::string text;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, n);
  const int status = pclose(pipe);
  if (text.find("No module named 'PIL'") != std::string::npos) GTEST_SKIP() << "no Pillow";
  ASSERT_EQ(status, 0) << text;
  const auto loaded = nlohmann::json::parse(text);
  EXPECT_EQ(loaded["n_rows"], 2);
  EXPECT_EQ(loaded["columns"], nlohmann::json({"image", "filename", "prompt", "labels_dict", "quality"}));
  const auto& row = loaded["rows"][0];
  EXPECT_EQ(row["image"]["format"], "PNG");
  EXPECT_EQ(row["image"]["size"], nlohmann::json({4, 3}));
  EXPECT_EQ(row["filename"], "SyntheticImg_0.png");
  EXPECT_EQ(row["prompt"], "Left pleural effusion.");
  EXPECT_EQ(row["labels_dict"].size(), 14u);
  EXPECT_EQ(row["labels_dict"]["Edema"], -1);  // raw policy
  EXPECT_TRUE(row["labels_dict"]["Atelectasis"].is_null());
  EXPECT_EQ(loaded["rows"][1]["quality"], "Medium Quality");
}

// Issue 18: "export kept.csv --out ." replaced the user's README.md and metadata.jsonl. A folder that holds files
// chexgen did not make is refused before anything is written; the user's files are untouched.
TEST(ExportCli, AFolderWithTheUsersFilesIsRefusedAndLeftAsItWas) {
  const fs::path dir = make_temp_dir();
  const Layout l = make_layout(dir);
  const fs::path users = dir / "project";
  write_text(users / "README.md", "my notes\n");
  write_text(users / "metadata.jsonl", "{\"mine\": 1}\n");
  auto r = run_chexgen({"-q", "export", (l.filter / "kept.csv").string(), "--out", users.string()});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr(users.string() + ": the folder is not empty and was not made by chexgen"));
  EXPECT_EQ(read_text((users / "README.md").string()), "my notes\n");
  EXPECT_EQ(read_text((users / "metadata.jsonl").string()), "{\"mine\": 1}\n");
  EXPECT_FALSE(fs::exists(users / "images"));
  // A new folder is claimed, and a rerun into it is allowed.
  r = run_chexgen({"-q", "export", (l.filter / "kept.csv").string(), "--out", (dir / "new").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "new" / ".chexgen-output"));
  r = run_chexgen({"-q", "export", (l.filter / "kept.csv").string(), "--out", (dir / "new").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(ExportCli, ReadsItsOwnExportBackAsAJsonlManifest) {
  const fs::path dir = make_temp_dir();
  const Layout l = make_layout(dir);
  const fs::path out = dir / "dataset";
  auto r = run_chexgen({"-q", "export", (l.filter / "kept.csv").string(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The export as input: quality comes from its "quality" key; a second export writes the same lines.
  r = run_chexgen({"-q", "export", (out / "metadata.jsonl").string(), "--out", (dir / "again").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text((dir / "again/metadata.jsonl").string()), read_text((out / "metadata.jsonl").string()));
  EXPECT_THAT(r.out, HasSubstr("card: filter unknown; generator unknown"));
  EXPECT_THAT(read_text((dir / "again/README.md").string()), HasSubstr("Generator model and seeds: unknown"));
}

TEST(ExportCli, BadInputIsNamedByFileAndRow) {
  const fs::path dir = make_temp_dir();
  const Layout l = make_layout(dir);
  write_text(l.gen / "images/SyntheticImg_1.png", "truncated");
  write_text(l.filter / "bad.csv",
             "img_savename,prompt,chexpert_labels,quality\n"
             "images/SyntheticImg_0.png,A.,{},High Quality\n"
             "images/SyntheticImg_1.png,B.,{},High Quality\n"
             "images/missing.png,C.,{},Medium Quality\n"
             "images/SyntheticImg_2.png,D.,{},Excellent\n");
  const fs::path out = dir / "dataset";
  auto r = run_chexgen(
      {"-q", "export", (l.filter / "bad.csv").string(), "--out", out.string(), "--image-root", l.gen.string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // Every problem in one run: the bad quality, and the images of the other kept rows, read and decoded.
  EXPECT_THAT(r.err, HasSubstr("bad.csv:5: column 'quality': quality 'Excellent' is not a grade"));
  EXPECT_THAT(r.err, HasSubstr("bad.csv:3: column 'img_savename': image '" +
                               (l.gen / "images/SyntheticImg_1.png").string() + "'"));
  EXPECT_THAT(r.err, HasSubstr("bad.csv:4: column 'img_savename': image '" + (l.gen / "images/missing.png").string() +
                               "': cannot open file"));
  EXPECT_THAT(r.err, HasSubstr("3 problem(s); no metadata.jsonl was written"));
  EXPECT_FALSE(fs::exists(out / "images"));

  // Image problems alone are found while copying: the good image is copied (a rerun keeps it), no metadata.
  write_text(l.filter / "bad.csv",
             "img_savename,prompt,chexpert_labels,quality\n"
             "images/SyntheticImg_0.png,A.,{},High Quality\n"
             "images/SyntheticImg_1.png,B.,{},High Quality\n");
  r = run_chexgen(
      {"-q", "export", (l.filter / "bad.csv").string(), "--out", out.string(), "--image-root", l.gen.string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("bad.csv:3: column 'img_savename': image '" +
                               (l.gen / "images/SyntheticImg_1.png").string() + "'"));
  EXPECT_THAT(r.err, HasSubstr("1 problem(s); no metadata.jsonl was written to " + out.string() +
                               " (images already copied stay; a rerun keeps them)"));
  EXPECT_FALSE(fs::exists(out / "metadata.jsonl"));
  EXPECT_TRUE(fs::exists(out / "images/SyntheticImg_0.png"));
}

TEST(ExportCli, OptionMistakesAreUsageErrors) {
  const fs::path dir = make_temp_dir();
  const Layout l = make_layout(dir);
  write_text(l.gen / "generations.csv",
             "img_savename,prompt,chexpert_labels\nimages/SyntheticImg_0.png,A.,\"{'Edema': 1.0}\"\n");
  // --keep needs a quality column.
  auto r = run_chexgen(
      {"export", (l.gen / "generations.csv").string(), "--out", (dir / "a").string(), "--keep", "High Quality"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("has no 'quality' column"));
  // Without --keep every row is exported, and quality is not written.
  r = run_chexgen({"-q", "export", (l.gen / "generations.csv").string(), "--out", (dir / "a").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(read_text((dir / "a/metadata.jsonl").string()), Not(HasSubstr("quality")));
  // Unknown grade, unknown policy.
  r = run_chexgen({"export", (l.filter / "kept.csv").string(), "--out", (dir / "b").string(), "--keep", "Good"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("'Good' is not a grade"));
  r = run_chexgen(
      {"export", (l.filter / "kept.csv").string(), "--out", (dir / "b").string(), "--label-policy", "ternary"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Exporting into the generation folder itself (chexgen's own, as generate leaves it).
  write_text(l.gen / ".chexgen-output", "");
  r = run_chexgen({"export", (l.filter / "kept.csv").string(), "--out", l.gen.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("the export's own image folder"));
}

}  // namespace
}  // namespace chexgen::testing
