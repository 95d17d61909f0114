// The dataset export (curation/export.h) on small PNGs made here and manifests in CheXGenBench's synthetic shape:
// the metadata lines and their key order, the label policies, the round trip through chexgen's own JSONL reader,
// every bad input named by file and row, resume, stale and foreign files, hard links, and the card.
#include "chexgen/curation/export.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/data/label_set.h"
#include "chexgen/core/hash.h"
#include "chexgen/data/manifest.h"
#include "chexgen/image/decode.h"

namespace chexgen {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("chexgen_export_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A small gray PNG whose pixels depend on `shade`, so that different shades give different files.
void write_image(const fs::path& p, int shade) {
  Image8 image(6, 5, 1);
  for (std::size_t i = 0; i < image.data.size(); ++i) image.data[i] = static_cast<std::uint8_t>(shade + i);
  fs::create_directories(p.parent_path());
  write_png(p, image);
}

Dataset read(const fs::path& manifest, ManifestOptions options = {}) {
  ErrorReport errors;
  return read_manifest(manifest, options, errors);
}

std::vector<nlohmann::ordered_json> read_jsonl(const fs::path& p) {
  std::vector<nlohmann::ordered_json> lines;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::ordered_json::parse(line));
  }
  return lines;
}

constexpr const char* kHeader = "img_savename,prompt,chexpert_labels,sample_id,k,seed,quality\n";

// The filter's kept.csv shape with one row per grade outcome (rows 2..7 of the file).
fs::path write_graded(const fs::path& dir) {
  for (int i = 0; i < 6; ++i) write_image(dir / "images" / ("SyntheticImg_" + std::to_string(i) + ".png"), 10 * i);
  write_text(dir / "graded.csv",
             std::string(kHeader) +
                 "images/SyntheticImg_0.png,Small left pleural effusion.,\"{'Pleural Effusion': 1.0, 'Edema': -1.0, "
                 "'Atelectasis': 0.0, 'Cardiomegaly': None}\",s0,0,639,High Quality\n"
                 "images/SyntheticImg_1.png,\"Cardiomegaly, \"\"mild\"\".\",\"{'Cardiomegaly': 1.0}\",s1,0,639,"
                 "Medium Quality\n"
                 "images/SyntheticImg_2.png,Edema.,\"{'Edema': 1.0}\",s2,0,639,Low Quality\n"
                 "images/SyntheticImg_3.png,Normal.,\"{'No Finding': 1.0}\",s3,0,639,Not Relevant\n"
                 "images/SyntheticImg_4.png,Pneumothorax.,\"{'Pneumothorax': 1.0}\",s4,0,639,unparsed\n"
                 "images/SyntheticImg_5.png,Fracture.,\"{'Fracture': 1.0}\",s5,0,639,error\n");
  return dir / "graded.csv";
}

// Issue 18: a kept.csv made before the images were regenerated must not ship the new, never graded, images with the
// old grades. The filter writes each graded image's SHA-256; export compares it with the file it is about to copy.
TEST(Export, AnImageChangedSinceItWasGradedIsRefused) {
  const auto dir = fresh_dir("regraded");
  write_image(dir / "a.png", 1);
  write_image(dir / "b.png", 2);
  const auto sha = [](const fs::path& p) {
    const std::string bytes = read_file_bytes(p);
    return sha256_hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  };
  write_text(dir / "kept.csv", "img_savename,prompt,chexpert_labels,quality,image_sha256\n"
                               "a.png,A.,{},High Quality," + sha(dir / "a.png") + "\n"
                               "b.png,B.,{},High Quality," + sha(dir / "b.png") + "\n");
  write_image(dir / "b.png", 3);  // regenerated after the filter ran
  ErrorReport errors;
  try {
    export_dataset(read(dir / "kept.csv"), dir / "out", ExportOptions{}, errors);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("kept.csv:3: column 'img_savename': image '"));
    EXPECT_THAT(e.what(), HasSubstr("the image has changed since it was graded"));
  }
  EXPECT_FALSE(fs::exists(dir / "out" / "metadata.jsonl"));
  write_image(dir / "b.png", 2);  // the graded content again: exported
  ErrorReport none;
  EXPECT_EQ(export_dataset(read(dir / "kept.csv"), dir / "out", ExportOptions{}, none).n_exported, 2u);
}

TEST(Export, WritesTheKeptRowsInSynthChexShape) {
  const auto dir = fresh_dir("shape");
  const Dataset dataset = read(write_graded(dir));
  ErrorReport errors;
  const ExportSummary s = export_dataset(dataset, dir / "out", ExportOptions{}, errors);

  EXPECT_EQ(s.n_rows, 6u);
  EXPECT_EQ(s.n_exported, 2u);
  EXPECT_TRUE(s.has_quality);
  EXPECT_THAT(s.rows_per_quality, ElementsAre(1, 1, 1, 1, 1, 1));
  EXPECT_THAT(s.exported_per_quality, ElementsAre(1, 1, 0, 0, 0, 0));
  EXPECT_THAT(s.left_out_per_quality, ElementsAre(0, 0, 1, 1, 1, 1));
  ASSERT_EQ(s.unparsed_or_error.size(), 2u);
  EXPECT_EQ(s.unparsed_or_error[0].row, 6u);
  EXPECT_EQ(s.unparsed_or_error[0].image, "images/SyntheticImg_4.png");
  EXPECT_EQ(s.unparsed_or_error[0].quality, "unparsed");
  EXPECT_EQ(s.unparsed_or_error[1].row, 7u);
  EXPECT_EQ(s.unparsed_or_error[1].quality, "error");
  EXPECT_EQ(s.n_copied, 2u);

  // The exact first line: key order, binary labels (1 stays 1; -1, 0 and missing become 0), the grade.
  std::ifstream in(dir / "out/metadata.jsonl");
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first,
            "{\"file_name\":\"images/SyntheticImg_0.png\",\"filename\":\"SyntheticImg_0.png\","
            "\"prompt\":\"Small left pleural effusion.\",\"labels_dict\":{\"Atelectasis\":0,\"Cardiomegaly\":0,"
            "\"Consolidation\":0,\"Edema\":0,\"Enlarged Cardiomediastinum\":0,\"Fracture\":0,\"Lung Lesion\":0,"
            "\"Lung Opacity\":0,\"No Finding\":0,\"Pleural Effusion\":1,\"Pleural Other\":0,\"Pneumonia\":0,"
            "\"Pneumothorax\":0,\"Support Devices\":0},\"quality\":\"High Quality\"}");
  const auto lines = read_jsonl(dir / "out/metadata.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["prompt"], "Cardiomegaly, \"mild\".");
  EXPECT_EQ(lines[1]["labels_dict"]["Cardiomegaly"], 1);
  EXPECT_EQ(lines[1]["quality"], "Medium Quality");

  // Images copied byte for byte; nothing else in images/.
  EXPECT_EQ(read_file_bytes(dir / "out/images/SyntheticImg_0.png"), read_file_bytes(dir / "images/SyntheticImg_0.png"));
  EXPECT_EQ(read_file_bytes(dir / "out/images/SyntheticImg_1.png"), read_file_bytes(dir / "images/SyntheticImg_1.png"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "out/images"), fs::directory_iterator()), 2);
  EXPECT_FALSE(fs::exists(dir / "out/.export-pending.json"));

  EXPECT_EQ(read_file_bytes(dir / "out/prompt_INFO.csv"),
            "prompt,img_savename\nSmall left pleural effusion.,SyntheticImg_0.png\n"
            "\"Cardiomegaly, \"\"mild\"\".\",SyntheticImg_1.png\n");

  const auto summary = nlohmann::json::parse(read_file_bytes(dir / "out/export.json"));
  EXPECT_EQ(summary["tool"], "chexgen export");
  EXPECT_EQ(summary["n_exported"], 2);
  EXPECT_EQ(summary["n_left_out"], 4);
  EXPECT_EQ(summary["left_out_per_quality"]["Low Quality"], 1);
  EXPECT_EQ(summary["left_out_per_quality"]["unparsed"], 1);
  ASSERT_EQ(summary["left_out_unparsed_or_error"].size(), 2u);
  EXPECT_EQ(summary["left_out_unparsed_or_error"][1]["row"], 7);
  EXPECT_EQ(summary["label_counts"]["Pleural Effusion"]["1"], 1);
  EXPECT_EQ(summary["label_counts"]["Edema"]["0"], 2);
}

TEST(Export, RoundTripsThroughTheJsonlManifestReader) {
  const auto dir = fresh_dir("roundtrip");
  const Dataset source = read(write_graded(dir));
  for (const LabelPolicy policy : {LabelPolicy::binary, LabelPolicy::raw}) {
    SCOPED_TRACE(std::string(label_policy_name(policy)));
    ExportOptions options;
    options.label_policy = policy;
    options.keep = {Grade::high_quality, Grade::medium_quality, Grade::low_quality, Grade::not_relevant};
    ErrorReport errors;
    export_dataset(source, dir / "out", options, errors);

    ManifestOptions jsonl;
    jsonl.format = ManifestFormat::jsonl;
    const Dataset back = read(dir / "out/metadata.jsonl", jsonl);
    EXPECT_EQ(back.labels.names(), LabelSet::chexpert14().names());
    ASSERT_EQ(back.samples.size(), 4u);
    for (std::size_t i = 0; i < back.samples.size(); ++i) {
      const Sample& in = source.samples[i];
      const Sample& out = back.samples[i];
      EXPECT_EQ(out.image_ref, "images/" + in.image_path.filename().string());
      EXPECT_EQ(read_file_bytes(out.image_path), read_file_bytes(in.image_path));
      EXPECT_EQ(out.prompt, in.prompt);
      for (std::size_t k = 0; k < in.labels.size(); ++k) {
        const LabelValue expected = policy == LabelPolicy::raw             ? in.labels[k]
                                    : in.labels[k] == LabelValue::positive ? LabelValue::positive
                                                                           : LabelValue::negative;
        EXPECT_EQ(out.labels[k], expected) << i << " " << source.labels.name(k);
      }
      // filename and quality are kept as extra keys.
      ASSERT_EQ(out.extra.size(), 2u);
      EXPECT_EQ(out.extra[0].first, "filename");
      EXPECT_EQ(out.extra[0].second, in.image_path.filename().string());
      EXPECT_EQ(out.extra[1].first, "quality");
      EXPECT_EQ(out.extra[1].second, quality_names()[i]);
    }
    // The raw policy writes -1 and null as given.
    const auto lines = read_jsonl(dir / "out/metadata.jsonl");
    if (policy == LabelPolicy::raw) {
      EXPECT_EQ(lines[0]["labels_dict"]["Edema"], -1);
      EXPECT_EQ(lines[0]["labels_dict"]["Atelectasis"], 0);
      EXPECT_TRUE(lines[0]["labels_dict"]["Cardiomegaly"].is_null());
      EXPECT_TRUE(lines[0]["labels_dict"]["Fracture"].is_null());
    }
  }
}

TEST(Export, ReexportingAnExportGivesTheSameMetadata) {
  const auto dir = fresh_dir("reexport");
  ErrorReport errors;
  export_dataset(read(write_graded(dir)), dir / "a", ExportOptions{}, errors);
  ManifestOptions jsonl;
  jsonl.format = ManifestFormat::jsonl;
  export_dataset(read(dir / "a/metadata.jsonl", jsonl), dir / "b", ExportOptions{}, errors);
  EXPECT_EQ(read_file_bytes(dir / "b/metadata.jsonl"), read_file_bytes(dir / "a/metadata.jsonl"));
  EXPECT_EQ(read_file_bytes(dir / "b/prompt_INFO.csv"), read_file_bytes(dir / "a/prompt_INFO.csv"));
}

TEST(Export, WithoutAQualityColumnEveryRowIsExportedAndNoQualityWritten) {
  const auto dir = fresh_dir("noquality");
  write_image(dir / "images/a.png", 1);
  write_image(dir / "images/b.png", 2);
  write_text(dir / "generations.csv",
             "img_savename,prompt,chexpert_labels,sample_id,k,seed\n"
             "images/a.png,A.,\"{'Edema': 1.0}\",a,0,1\nimages/b.png,B.,\"{'Edema': 0.0}\",b,0,1\n");
  ErrorReport errors;
  const auto s = export_dataset(read(dir / "generations.csv"), dir / "out", ExportOptions{}, errors);
  EXPECT_FALSE(s.has_quality);
  EXPECT_EQ(s.n_exported, 2u);
  const auto lines = read_jsonl(dir / "out/metadata.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_FALSE(lines[0].contains("quality"));
  EXPECT_EQ(lines[0]["labels_dict"]["Edema"], 1);
  EXPECT_EQ(lines[1]["labels_dict"]["Edema"], 0);
  EXPECT_THAT(read_file_bytes(dir / "out/README.md"), HasSubstr("no `quality` column"));
  EXPECT_TRUE(nlohmann::json::parse(read_file_bytes(dir / "out/export.json"))["keep"].is_null());
}

TEST(Export, LabelsNeedCheXpertNamesOrNoLabels) {
  const auto dir = fresh_dir("labels");
  write_image(dir / "a.png", 1);
  write_image(dir / "b.png", 2);
  // One-column-per-label: Atelectasis and Edema are CheXpert's; Effusion (NIH's name) is not.
  write_text(dir / "onehot.csv", "file_name,prompt,Atelectasis,Edema,Effusion\na.png,A.,1,-1,\nb.png,B.,,1,1\n");
  ManifestOptions onehot;
  onehot.format = ManifestFormat::onehot;
  onehot.label_names = {"Atelectasis", "Edema", "Effusion"};
  ErrorReport errors;
  try {
    export_dataset(read(dir / "onehot.csv", onehot), dir / "out", ExportOptions{}, errors);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, (dir / "onehot.csv").string());
    EXPECT_EQ(e.where().row, 3u);
    EXPECT_EQ(e.where().column, "Effusion");
    EXPECT_THAT(e.reason(), HasSubstr("not one of CheXpert's 14"));
  }
  EXPECT_FALSE(fs::exists(dir / "out/metadata.jsonl"));

  // A subset of CheXpert's names: the others are 0 (binary) or null (raw).
  onehot.label_names = {"Atelectasis", "Edema"};
  ExportOptions raw;
  raw.label_policy = LabelPolicy::raw;
  export_dataset(read(dir / "onehot.csv", onehot), dir / "out", raw, errors);
  auto lines = read_jsonl(dir / "out/metadata.jsonl");
  EXPECT_EQ(lines[0]["labels_dict"]["Atelectasis"], 1);
  EXPECT_EQ(lines[0]["labels_dict"]["Edema"], -1);
  EXPECT_TRUE(lines[0]["labels_dict"]["Pneumonia"].is_null());
  EXPECT_EQ(lines[0]["labels_dict"].size(), 14u);
  export_dataset(read(dir / "onehot.csv", onehot), dir / "out", ExportOptions{}, errors);
  lines = read_jsonl(dir / "out/metadata.jsonl");
  EXPECT_EQ(lines[0]["labels_dict"]["Edema"], 0);
  EXPECT_EQ(lines[0]["labels_dict"]["Pneumonia"], 0);

  // A label outside CheXpert's set that no row uses is harmless.
  write_text(dir / "unused.csv", "file_name,prompt,Atelectasis,Effusion\na.png,A.,1,\nb.png,B.,0,\n");
  onehot.label_names = {"Atelectasis", "Effusion"};
  export_dataset(read(dir / "unused.csv", onehot), dir / "out", ExportOptions{}, errors);
  EXPECT_EQ(read_jsonl(dir / "out/metadata.jsonl")[0]["labels_dict"]["Atelectasis"], 1);

  // No labels at all: an error naming the manifest unless no_labels.
  write_text(dir / "plain.csv", "img_savename,prompt\na.png,A.\nb.png,B.\n");
  try {
    export_dataset(read(dir / "plain.csv"), dir / "out", ExportOptions{}, errors);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, (dir / "plain.csv").string());
    EXPECT_THAT(e.reason(), HasSubstr("--no-labels"));
  }
  ExportOptions no_labels;
  no_labels.no_labels = true;
  const auto s = export_dataset(read(dir / "plain.csv"), dir / "out", no_labels, errors);
  EXPECT_TRUE(s.labels.empty());
  EXPECT_FALSE(read_jsonl(dir / "out/metadata.jsonl")[0].contains("labels_dict"));
}

TEST(Export, BadRowsAreAllReportedWithFileAndRowBeforeAnythingIsWritten) {
  const auto dir = fresh_dir("badrows");
  write_image(dir / "a/x.png", 1);
  write_image(dir / "b/x.png", 2);
  write_image(dir / "c.png", 3);
  write_image(dir / "d.png", 4);
  write_text(dir / "kept.csv", std::string(kHeader) +
                                   "a/x.png,A.,{},a,0,1,High Quality\n"
                                   "b/x.png,B.,{},b,0,1,High Quality\n"     // same file name as row 2
                                   "c.png,C.,{},c,0,1,Great\n"              // not a grade
                                   "d.png,,{},d,0,1,high quality\n"         // no prompt (grade spelling is fine)
                                   "gone.png,E.,{},e,0,1,High Quality\n");  // no such image
  ErrorReport errors;
  try {
    export_dataset(read(dir / "kept.csv"), dir / "out", ExportOptions{}, errors);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("kept.csv:3: column 'img_savename': image '"));
    EXPECT_THAT(e.what(), HasSubstr("is also that of row 2 ('a/x.png')"));
  }
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_THAT(errors.errors()[1].what(), HasSubstr("kept.csv:4: column 'quality': quality 'Great' is not a grade"));
  EXPECT_THAT(errors.errors()[2].what(), HasSubstr("kept.csv:5: no prompt"));
  // The images of the other kept rows are still checked, so that one run names every problem.
  EXPECT_THAT(errors.errors()[3].what(), HasSubstr("kept.csv:6: column 'img_savename': image '"));
  EXPECT_THAT(errors.errors()[3].what(), HasSubstr("gone.png': cannot open file"));
  EXPECT_FALSE(fs::exists(dir / "out/images"));
  EXPECT_FALSE(fs::exists(dir / "out/metadata.jsonl"));
}

TEST(Export, UnreadableImagesAreNamedAndTheGoodOnesResumeLater) {
  const auto dir = fresh_dir("unreadable");
  write_image(dir / "good.png", 1);
  write_text(dir / "corrupt.png", "this is not a PNG");
  fs::copy_file(fs::path(CHEXGEN_SOURCE_DIR) / "tests/data/images/dicom/mono2_u12.dcm", dir / "scan.png");
  write_text(dir / "kept.csv", std::string(kHeader) +
                                   "good.png,A.,{},a,0,1,High Quality\n"
                                   "missing.png,B.,{},b,0,1,High Quality\n"
                                   "corrupt.png,C.,{},c,0,1,High Quality\n"
                                   "scan.png,D.,{},d,0,1,Medium Quality\n");
  ErrorReport errors;
  EXPECT_THROW(export_dataset(read(dir / "kept.csv"), dir / "out", ExportOptions{}, errors), InputError);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors.errors()[0].what(), HasSubstr("kept.csv:3: column 'img_savename': image '"));
  EXPECT_THAT(errors.errors()[0].what(), HasSubstr("missing.png': cannot open file"));
  EXPECT_THAT(errors.errors()[1].what(), HasSubstr("kept.csv:4: column 'img_savename': image '"));
  EXPECT_THAT(errors.errors()[1].what(), HasSubstr("unknown image format"));
  EXPECT_THAT(errors.errors()[2].what(), HasSubstr("kept.csv:5: column 'img_savename'"));
  EXPECT_THAT(errors.errors()[2].what(), HasSubstr("DICOM"));
  EXPECT_FALSE(fs::exists(dir / "out/metadata.jsonl"));
  EXPECT_TRUE(fs::exists(dir / "out/images/good.png"));  // copied before the failure was known; kept for a rerun

  // A rerun that keeps only the good row: the earlier copy is recognised as the export's own, not foreign.
  write_text(dir / "kept.csv", std::string(kHeader) + "good.png,A.,{},a,0,1,High Quality\n");
  errors = ErrorReport();
  const auto s = export_dataset(read(dir / "kept.csv"), dir / "out", ExportOptions{}, errors);
  EXPECT_EQ(s.n_already_there, 1u);
  EXPECT_EQ(s.n_copied, 0u);
  EXPECT_EQ(read_jsonl(dir / "out/metadata.jsonl").size(), 1u);
}

TEST(Export, ARerunCopiesOnlyWhatChangedAndRemovesWhatItNoLongerLists) {
  const auto dir = fresh_dir("resume");
  const fs::path manifest = write_graded(dir);
  ErrorReport errors;
  auto s = export_dataset(read(manifest), dir / "out", ExportOptions{}, errors);
  EXPECT_EQ(s.n_copied, 2u);
  const std::string metadata = read_file_bytes(dir / "out/metadata.jsonl");

  s = export_dataset(read(manifest), dir / "out", ExportOptions{}, errors);
  EXPECT_EQ(s.n_copied, 0u);
  EXPECT_EQ(s.n_already_there, 2u);
  EXPECT_EQ(read_file_bytes(dir / "out/metadata.jsonl"), metadata);

  // A changed source image is copied again.
  write_image(dir / "images/SyntheticImg_1.png", 200);
  s = export_dataset(read(manifest), dir / "out", ExportOptions{}, errors);
  EXPECT_EQ(s.n_copied, 1u);
  EXPECT_EQ(s.n_replaced, 1u);
  EXPECT_EQ(s.n_already_there, 1u);
  EXPECT_EQ(read_file_bytes(dir / "out/images/SyntheticImg_1.png"), read_file_bytes(dir / "images/SyntheticImg_1.png"));

  // Keeping fewer grades removes the image the earlier export wrote and this one leaves out.
  ExportOptions high_only;
  high_only.keep = {Grade::high_quality};
  s = export_dataset(read(manifest), dir / "out", high_only, errors);
  EXPECT_EQ(s.n_exported, 1u);
  EXPECT_EQ(s.n_removed_stale, 1u);
  EXPECT_FALSE(fs::exists(dir / "out/images/SyntheticImg_1.png"));
  EXPECT_TRUE(fs::exists(dir / "out/images/SyntheticImg_0.png"));
  EXPECT_EQ(s.left_out_per_quality[1], 1u);
}

TEST(Export, RefusesFoldersItDoesNotOwn) {
  const auto dir = fresh_dir("foreign");
  const fs::path manifest = write_graded(dir);
  write_image(dir / "out/images/someone_elses.png", 7);
  ErrorReport errors;
  // A folder without chexgen's marker is refused as a whole (core/files.h), before anything is read or written.
  try {
    export_dataset(read(manifest), dir / "out", ExportOptions{}, errors);
    FAIL() << "expected an OutputError";
  } catch (const OutputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("out: the folder is not empty and was not made by chexgen"));
  }
  // In a folder of chexgen's (made by another command), the images folder must still hold only the export's files.
  write_text(dir / "out" / std::string(kOutputMarker), "");
  write_text(dir / std::string(kOutputMarker), "");  // the generation folder, as chexgen generate leaves it
  try {
    export_dataset(read(manifest), dir / "out", ExportOptions{}, errors);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("holds 1 file(s) that no earlier `chexgen export`"));
    EXPECT_THAT(e.what(), HasSubstr("someone_elses.png"));
  }
  EXPECT_TRUE(fs::exists(dir / "out/images/someone_elses.png"));
  EXPECT_FALSE(fs::exists(dir / "out/metadata.jsonl"));

  // Exporting into the folder the images were generated into would put every source image in the dataset.
  try {
    export_dataset(read(manifest), dir, ExportOptions{}, errors);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("the export's own image folder"));
  }
  EXPECT_FALSE(fs::exists(dir / "metadata.jsonl"));
}

TEST(Export, LinkMakesHardLinks) {
  const auto dir = fresh_dir("link");
  const fs::path manifest = write_graded(dir);
  ExportOptions options;
  options.link = true;
  ErrorReport errors;
  auto s = export_dataset(read(manifest), dir / "out", options, errors);
  EXPECT_EQ(s.n_linked, 2u);
  EXPECT_EQ(s.n_copied, 0u);
  EXPECT_TRUE(fs::equivalent(dir / "out/images/SyntheticImg_0.png", dir / "images/SyntheticImg_0.png"));
  EXPECT_EQ(fs::hard_link_count(dir / "images/SyntheticImg_0.png"), 2u);
  s = export_dataset(read(manifest), dir / "out", options, errors);
  EXPECT_EQ(s.n_already_there, 2u);
}

TEST(Export, CardNamesTheModelsPromptsAndSeeds) {
  const auto dir = fresh_dir("card");
  const fs::path manifest = write_graded(dir);
  write_text(dir / "summary.json",
             R"({"manifest": "gen/generations.csv", "image_root": "/data/gen", "counts": {"High Quality": 1},
                 "keep": ["High Quality", "Medium Quality"], "model": "healthgpt-m3", "base_url": "http://vlm:8000",
                 "meta_prompt": "You are an expert radiologist.\nGrade it.", "temperature": 0,
                 "question_template": "Given the prompt {prompt}, classify"})");
  write_text(dir / "generation.json",
             R"({"backend": "images-api", "model": "sana-0.6b-cxr", "base_url": "http://gen:9000",
                 "seeds": [639, 25], "per_prompt": 2, "size": "512x512", "n_prompts": 3, "n_images": 6})");
  ExportOptions options;
  ASSERT_EQ(find_filter_summary(manifest), dir / "summary.json");
  options.filter = read_filter_info(*find_filter_summary(manifest));
  const auto gen = find_generation_info(manifest, dir, &*options.filter);
  ASSERT_EQ(gen, dir / "generation.json");
  options.generation = read_generation_info(*gen);
  EXPECT_EQ(options.filter->image_root, "/data/gen");
  EXPECT_EQ(options.generation->seeds, (std::vector<std::int64_t>{639, 25}));
  ErrorReport errors;
  export_dataset(read(manifest), dir / "out", options, errors);
  const std::string card = read_file_bytes(dir / "out/README.md");
  EXPECT_THAT(card, HasSubstr("`healthgpt-m3` at http://vlm:8000, temperature 0"));
  EXPECT_THAT(card, HasSubstr("```text\nYou are an expert radiologist.\nGrade it.\n```"));
  EXPECT_THAT(card, HasSubstr("```text\nGiven the prompt {prompt}, classify\n```"));
  EXPECT_THAT(card, HasSubstr("- model: `sana-0.6b-cxr` (images-api at http://gen:9000)"));
  EXPECT_THAT(card, HasSubstr("- seeds: 639, 25"));
  EXPECT_THAT(card, HasSubstr("| Low Quality | 1 | 0 | 1 |"));
  EXPECT_THAT(card, HasSubstr("- row 6: `images/SyntheticImg_4.png` (unparsed)"));
  EXPECT_THAT(card, HasSubstr("| Pleural Effusion | 1 | 1 | 50.0% |"));
  EXPECT_THAT(card, HasSubstr("load_dataset(\"imagefolder\", data_dir="));
  const auto summary = nlohmann::json::parse(read_file_bytes(dir / "out/export.json"));
  EXPECT_EQ(summary["vlm_model"], "healthgpt-m3");
  EXPECT_EQ(summary["generator_model"], "sana-0.6b-cxr");

  // Without them the card says so.
  export_dataset(read(manifest), dir / "out2", ExportOptions{}, errors);
  const std::string bare = read_file_bytes(dir / "out2/README.md");
  EXPECT_THAT(bare, HasSubstr("meta-prompt and question template: unknown"));
  EXPECT_THAT(bare, HasSubstr("Generator model and seeds: unknown"));
}

TEST(Export, ProvenanceFilesAreChecked) {
  const auto dir = fresh_dir("provenance");
  write_text(dir / "summary.json", R"({"n": 3})");
  EXPECT_THROW(read_filter_info(dir / "summary.json"), InputError);
  write_text(dir / "summary.json", "{not json");
  try {
    read_filter_info(dir / "summary.json");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, (dir / "summary.json").string());
  }
  write_text(dir / "generation.json", R"({"backend": "command", "seeds": [1, "two"]})");
  EXPECT_THROW(read_generation_info(dir / "generation.json"), InputError);
  EXPECT_EQ(find_generation_info(dir / "m.csv", fs::path(), nullptr), dir / "generation.json");
  EXPECT_EQ(find_generation_info(fresh_dir("nowhere") / "m.csv", fs::path(), nullptr), std::nullopt);
}

TEST(Export, QualityKeysInJsonlAreCheckedPerRow) {
  const auto dir = fresh_dir("jsonlquality");
  write_image(dir / "a.png", 1);
  write_image(dir / "b.png", 2);
  write_text(dir / "m.jsonl",
             "{\"file_name\": \"a.png\", \"prompt\": \"A.\", \"quality\": \"Low Quality\"}\n"
             "{\"file_name\": \"b.png\", \"prompt\": \"B.\"}\n");
  ExportOptions options;
  options.no_labels = true;
  ErrorReport errors;
  try {
    export_dataset(read(dir / "m.jsonl"), dir / "out", options, errors);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("m.jsonl:2: column 'quality': no 'quality' (other rows have one)"));
  }
}

TEST(Export, GradeListsAndPolicies) {
  EXPECT_EQ(parse_grade_list("High Quality,Medium Quality"),
            (std::vector<Grade>{Grade::high_quality, Grade::medium_quality}));
  EXPECT_EQ(parse_grade_list(" not relevant , HIGH QUALITY"),
            (std::vector<Grade>{Grade::not_relevant, Grade::high_quality}));
  EXPECT_THROW(parse_grade_list("High"), UsageError);
  EXPECT_THROW(parse_grade_list("High Quality,High Quality"), UsageError);
  EXPECT_THROW(parse_grade_list(" , "), UsageError);
  EXPECT_EQ(parse_label_policy("raw"), LabelPolicy::raw);
  EXPECT_THROW(parse_label_policy("ternary"), UsageError);
}

}  // namespace
}  // namespace chexgen
