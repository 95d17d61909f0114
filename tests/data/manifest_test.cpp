#include "chexgen/data/manifest.h"

#include <gtest/gtest.h>

#include "test_paths.h"

namespace chexgen {
namespace {

using test::manifest_fixture;

Dataset read(const std::string& name, ManifestOptions options = {}) {
  ErrorReport errors;
  Dataset d = read_manifest(manifest_fixture(name), options, errors);
  EXPECT_TRUE(errors.empty()) << errors.errors().front().what();
  return d;
}

// Reads a manifest that must fail; returns the thrown error's message and the report.
std::string read_error(const std::string& name, ManifestOptions options, ErrorReport& errors) {
  try {
    read_manifest(manifest_fixture(name), options, errors);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << name << ": no InputError";
  return "";
}

std::string fixture_str(const std::string& name) { return manifest_fixture(name).string(); }

TEST(ManifestFormat, NamesRoundTrip) {
  for (const auto f :
       {ManifestFormat::auto_detect, ManifestFormat::chexgenbench_real, ManifestFormat::chexgenbench_synthetic,
        ManifestFormat::onehot, ManifestFormat::jsonl, ManifestFormat::folder}) {
    EXPECT_EQ(parse_manifest_format(manifest_format_name(f)), f);
  }
  EXPECT_THROW(parse_manifest_format("tsv"), UsageError);
}

TEST(ManifestFormat, DetectedFromExtensionAndHeader) {
  const ManifestOptions o;
  EXPECT_EQ(detect_manifest_format(manifest_fixture("real.csv"), o), ManifestFormat::chexgenbench_real);
  EXPECT_EQ(detect_manifest_format(manifest_fixture("synthetic.csv"), o), ManifestFormat::chexgenbench_synthetic);
  EXPECT_EQ(detect_manifest_format(manifest_fixture("synthetic_filename.csv"), o),
            ManifestFormat::chexgenbench_synthetic);
  EXPECT_EQ(detect_manifest_format(manifest_fixture("onehot.csv"), o), ManifestFormat::onehot);
  EXPECT_EQ(detect_manifest_format(manifest_fixture("metadata.jsonl"), o), ManifestFormat::jsonl);
  EXPECT_EQ(detect_manifest_format(manifest_fixture("folder"), o), ManifestFormat::folder);
  try {
    detect_manifest_format(manifest_fixture("ambiguous.csv"), o);
    ADD_FAILURE() << "ambiguous header accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("fits both chexgenbench-real"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("give --format"), std::string::npos);
  }
  try {
    detect_manifest_format(manifest_fixture("unknown_format.csv"), o);
    ADD_FAILURE() << "unknown header accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot tell the manifest format from the header (columns: 'image', 'text')"),
              std::string::npos)
        << e.what();
  }
}

TEST(RealManifest, ReadsEveryRow) {
  const Dataset d = read("real.csv");
  EXPECT_EQ(d.format, ManifestFormat::chexgenbench_real);
  EXPECT_EQ(d.labels.names(), LabelSet::chexpert14().names());
  EXPECT_EQ(d.n_skipped, 0u);
  EXPECT_EQ(d.image_column, "path");
  ASSERT_EQ(d.samples.size(), 8u);
  const Sample& s1 = d.samples[0];
  EXPECT_EQ(s1.id, "p10/s1.jpg");
  EXPECT_EQ(s1.image_ref, "p10/s1.jpg");
  EXPECT_EQ(s1.image_path, manifest_fixture("p10/s1.jpg"));
  EXPECT_EQ(s1.row, 2u);
  EXPECT_EQ(s1.prompt, "Small left pleural effusion.");
  EXPECT_FALSE(s1.patient_id.has_value());
  EXPECT_EQ(d.label(0, "Atelectasis"), LabelValue::positive);
  EXPECT_EQ(d.label(0, "Cardiomegaly"), LabelValue::missing);
  EXPECT_EQ(d.label(0, "Edema"), LabelValue::uncertain);
  EXPECT_EQ(d.label(0, "Fracture"), LabelValue::missing);
  EXPECT_EQ(d.label(0, "No Finding"), LabelValue::missing);
  EXPECT_THROW(d.label(0, "Effusion"), UsageError);
  // Embedded quotes, commas and a newline in the prompt; the record spans lines 3-4.
  EXPECT_EQ(d.samples[1].prompt, "Findings: \"mild\" cardiomegaly, no edema.\nImpression: stable, unchanged.");
  EXPECT_EQ(d.samples[1].row, 3u);
  EXPECT_EQ(d.samples[2].row, 5u);
  EXPECT_EQ(d.label(2, "No Finding"), LabelValue::positive);
  EXPECT_EQ(d.label(2, "Pneumonia"), LabelValue::negative);
  EXPECT_EQ(d.label(2, "Support Devices"), LabelValue::uncertain);
  EXPECT_FALSE(d.samples[3].prompt.has_value());  // empty cell
  EXPECT_EQ(d.samples[4].prompt, "  Right lower lobe  consolidation,   concerning for pneumonia.  ");
  EXPECT_EQ(d.label(5, "Enlarged Cardiomediastinum"), LabelValue::negative);  // -0.0
  EXPECT_EQ(d.samples[7].prompt,
            "\xC3\x89largissement cardiaque \xE2\x80\x94 \xE5\xBF\x83\xE8\x84\x8F\xE6\x89\xA9\xE5\xA4\xA7");
  EXPECT_TRUE(d.samples[0].extra.empty());
}

TEST(RealManifest, BomAndCrlfGiveTheSameDataset) {
  const Dataset a = read("real.csv");
  const Dataset b = read("real_bom_crlf.csv");
  ASSERT_EQ(a.samples.size(), b.samples.size());
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    EXPECT_EQ(a.samples[i].id, b.samples[i].id);
    EXPECT_EQ(a.samples[i].row, b.samples[i].row);
    EXPECT_EQ(a.samples[i].labels, b.samples[i].labels);
    if (i != 1) {
      EXPECT_EQ(a.samples[i].prompt, b.samples[i].prompt);
    }
  }
  EXPECT_EQ(b.samples[1].prompt, "Findings: \"mild\" cardiomegaly, no edema.\r\nImpression: stable, unchanged.");
}

TEST(RealManifest, ImageRootAndIdColumn) {
  ManifestOptions o;
  o.image_root = "/data/mimic";
  o.columns.id = "annotated_prompt";
  ErrorReport errors;
  // annotated_prompt as id: row 6 has an empty prompt -> an empty id is a bad row.
  const std::string msg = read_error("real.csv", o, errors);
  EXPECT_NE(msg.find("real.csv:6: column 'annotated_prompt': empty sample id"), std::string::npos) << msg;
  o.skip_bad = true;
  ErrorReport errors2;
  const Dataset d = read_manifest(manifest_fixture("real.csv"), o, errors2);
  EXPECT_EQ(d.n_skipped, 1u);
  ASSERT_EQ(d.samples.size(), 7u);
  EXPECT_EQ(d.samples[0].id, "Small left pleural effusion.");
  EXPECT_EQ(d.samples[0].image_path, std::filesystem::path("/data/mimic/p10/s1.jpg"));
}

TEST(RealManifest, EveryBadRowIsReportedWithFileRowAndColumn) {
  ErrorReport errors;
  const std::string msg = read_error("real_bad_rows.csv", {}, errors);
  const std::string f = fixture_str("real_bad_rows.csv");
  EXPECT_EQ(msg, f + ":3: record has 4 fields, the header has 3 (and 5 more bad rows; --skip-bad leaves them out)");
  ASSERT_EQ(errors.size(), 6u);
  const auto& e = errors.errors();
  EXPECT_EQ(std::string(e[0].what()), f + ":3: record has 4 fields, the header has 3");
  EXPECT_EQ(std::string(e[1].what()),
            f + ":4: column 'chexpert_labels': labels dict, character 11: value 0.5 of label 'Edema' is not one of "
                "1.0, 0.0, -1.0, None, nan");
  EXPECT_EQ(e[2].where().row, 5u);
  EXPECT_EQ(e[2].where().column, "chexpert_labels");
  EXPECT_NE(e[2].reason().find("unknown label 'Edemaa' (label set: Atelectasis, "), std::string::npos) << e[2].reason();
  EXPECT_EQ(std::string(e[3].what()), f + ":7: column 'path': empty image path");
  EXPECT_EQ(std::string(e[4].what()),
            f + ":8: column 'annotated_prompt': invalid UTF-8 at byte 4 of the field (byte 0xE9)");
  EXPECT_EQ(std::string(e[5].what()), f + ":9: column 'path': duplicate sample id 'a/ok1.jpg' (first on line 2)");
}

TEST(RealManifest, SkipBadLeavesBadRowsOutAndCountsThem) {
  ManifestOptions o;
  o.skip_bad = true;
  ErrorReport errors;
  const Dataset d = read_manifest(manifest_fixture("real_bad_rows.csv"), o, errors);
  EXPECT_EQ(d.n_skipped, 6u);
  EXPECT_EQ(errors.size(), 6u);
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.samples[0].id, "a/ok1.jpg");
  EXPECT_EQ(d.samples[0].prompt, "fine");  // the first of two rows with this id is kept
  EXPECT_EQ(d.samples[1].id, "a/ok2.jpg");
  EXPECT_EQ(d.samples[1].row, 10u);
}

TEST(RealManifest, FatalErrors) {
  ManifestOptions real;
  real.format = ManifestFormat::chexgenbench_real;
  real.skip_bad = true;  // fatal errors are fatal even so
  {
    ErrorReport errors;
    const std::string msg = read_error("real_missing_column.csv", real, errors);
    EXPECT_EQ(
        msg,
        fixture_str("real_missing_column.csv") +
            ":1: no labels column 'chexpert_labels' in the header (columns: 'path', 'annotated_prompt', 'labels')");
    EXPECT_EQ(errors.size(), 1u);  // the fatal error is in the report too
  }
  {
    ManifestOptions renamed = real;
    renamed.columns.labels = "labels";
    EXPECT_EQ(read("real_missing_column.csv", renamed).samples.size(), 1u);
    renamed.columns.prompt = "report";
    ErrorReport errors;
    EXPECT_NE(
        read_error("real_missing_column.csv", renamed, errors).find(":1: no prompt column 'report' in the header"),
        std::string::npos);
  }
  {
    ErrorReport errors;
    const std::string msg = read_error("real_unterminated_quote.csv", real, errors);
    EXPECT_EQ(msg, fixture_str("real_unterminated_quote.csv") +
                       ":3: a quoted field that starts in this record is never closed (missing '\"')");
  }
  {
    ErrorReport errors;
    EXPECT_NE(read_error("real_stray_quote.csv", real, errors).find("real_stray_quote.csv:3: malformed CSV"),
              std::string::npos);
  }
  {
    ErrorReport errors;
    EXPECT_EQ(read_error("empty.csv", real, errors), fixture_str("empty.csv") + ": empty CSV file: no header line");
  }
  {
    ErrorReport errors;
    EXPECT_NE(read_error("duplicate_header.csv", real, errors).find(":1: column 'path': column name appears twice"),
              std::string::npos);
  }
  {
    ErrorReport errors;
    const std::string msg = read_error("no_such_manifest.csv", {}, errors);
    EXPECT_EQ(msg.rfind(fixture_str("no_such_manifest.csv") + ": cannot open file", 0), 0u) << msg;
    EXPECT_EQ(errors.size(), 1u);
  }
}

TEST(RealManifest, RowErrorsFoundBeforeAFatalErrorAreKept) {
  ManifestOptions o;
  o.columns.prompt = "no_such_column";
  ErrorReport errors;
  const std::string msg = read_error("real_bad_rows.csv", o, errors);
  EXPECT_NE(msg.find(":1: no prompt column 'no_such_column'"), std::string::npos) << msg;
  ASSERT_EQ(errors.size(), 3u);  // the two CSV-level bad rows, then the fatal error
  EXPECT_EQ(errors.errors()[0].where().row, 3u);
  EXPECT_EQ(errors.errors()[1].where().row, 8u);
  EXPECT_EQ(errors.errors()[2].where().row, 1u);
}

TEST(SyntheticManifest, ImgSavenameAndPrompt) {
  const Dataset d = read("synthetic.csv");
  EXPECT_EQ(d.format, ManifestFormat::chexgenbench_synthetic);
  EXPECT_TRUE(d.labels.empty());
  ASSERT_EQ(d.samples.size(), 3u);
  EXPECT_EQ(d.samples[2].id, "gen_2.png");
  EXPECT_EQ(d.samples[2].prompt, "Cardiomegaly, mild.");
  EXPECT_TRUE(d.samples[2].labels.empty());
  ASSERT_EQ(d.samples[2].extra.size(), 1u);
  EXPECT_EQ(d.samples[2].extra[0], (std::pair<std::string, std::string>{"seed", "3"}));
}

TEST(SyntheticManifest, SyntheticFilenameAnnotatedPromptAndLabels) {
  const Dataset d = read("synthetic_filename.csv");
  ASSERT_EQ(d.samples.size(), 1u);
  EXPECT_EQ(d.image_column, "synthetic_filename");
  EXPECT_EQ(d.samples[0].prompt, "Edema.");
  EXPECT_EQ(d.label(0, "Edema"), LabelValue::positive);
  ManifestOptions o;
  o.label_names = {"Edema", "Other"};
  const Dataset custom = read("synthetic_filename.csv", o);
  EXPECT_EQ(custom.labels.names(), (std::vector<std::string>{"Edema", "Other"}));
  EXPECT_EQ(custom.samples[0].labels, (std::vector<LabelValue>{LabelValue::positive, LabelValue::missing}));
  o.label_names = {"Other"};
  ErrorReport errors;
  EXPECT_NE(read_error("synthetic_filename.csv", o, errors)
                .find(":2: column 'chexpert_labels': unknown label 'Edema' (label set: Other)"),
            std::string::npos);
}

TEST(OnehotManifest, LabelsByListOrRange) {
  ManifestOptions o;
  o.label_names = {"Effusion", "Mass", "No Finding"};
  const Dataset d = read("onehot.csv", o);
  EXPECT_EQ(d.format, ManifestFormat::onehot);
  ASSERT_EQ(d.samples.size(), 4u);
  EXPECT_EQ(d.samples[0].image_path, manifest_fixture("images/a.png"));
  EXPECT_EQ(d.samples[0].patient_id, "7");
  EXPECT_FALSE(d.samples[3].patient_id.has_value());
  EXPECT_EQ(d.samples[0].labels,
            (std::vector<LabelValue>{LabelValue::positive, LabelValue::negative, LabelValue::negative}));
  EXPECT_EQ(d.samples[3].labels,
            (std::vector<LabelValue>{LabelValue::positive, LabelValue::uncertain, LabelValue::missing}));
  ASSERT_EQ(d.samples[1].extra.size(), 1u);
  EXPECT_EQ(d.samples[1].extra[0].first, "age");
  EXPECT_FALSE(d.samples[0].prompt.has_value());

  ManifestOptions range;
  range.label_column_range = "Effusion:No Finding";
  const Dataset r = read("onehot.csv", range);
  EXPECT_EQ(r.labels.names(), d.labels.names());
  for (std::size_t i = 0; i < d.samples.size(); ++i) EXPECT_EQ(r.samples[i].labels, d.samples[i].labels);

  ManifestOptions reordered;
  reordered.label_names = {"No Finding", "Effusion"};
  EXPECT_EQ(read("onehot.csv", reordered).samples[2].labels,
            (std::vector<LabelValue>{LabelValue::positive, LabelValue::negative}));
}

TEST(OnehotManifest, LabelColumnsMustBeGivenAndExist) {
  ErrorReport errors;
  try {
    read_manifest(manifest_fixture("onehot.csv"), {}, errors);
    ADD_FAILURE() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("a onehot manifest needs its label columns"), std::string::npos);
  }
  ManifestOptions o;
  o.label_names = {"Effusion", "Hernia"};
  EXPECT_NE(read_error("onehot.csv", o, errors).find("onehot.csv:1: no label column 'Hernia' in the header"),
            std::string::npos);
  ManifestOptions backwards;
  backwards.label_column_range = "Mass:Effusion";
  EXPECT_THROW(read_manifest(manifest_fixture("onehot.csv"), backwards, errors), UsageError);
  ManifestOptions both;
  both.label_column_range = "Effusion:Mass";
  both.label_names = {"Mass"};
  EXPECT_THROW(read_manifest(manifest_fixture("onehot.csv"), both, errors), UsageError);
}

TEST(OnehotManifest, BadCellsNameRowAndLabelColumn) {
  ManifestOptions o;
  o.label_names = {"Effusion", "Mass"};
  ErrorReport errors;
  read_error("onehot_bad.csv", o, errors);
  ASSERT_EQ(errors.size(), 2u);
  const std::string f = fixture_str("onehot_bad.csv");
  EXPECT_EQ(std::string(errors.errors()[0].what()),
            f + ":3: column 'Effusion': label value 'yes' is not 1, 0, -1 (or 1.0, 0.0, -1.0) or empty");
  EXPECT_EQ(std::string(errors.errors()[1].what()),
            f + ":4: column 'Mass': label value '2' is not 1, 0, -1 (or 1.0, 0.0, -1.0) or empty");
}

TEST(JsonlManifest, ImagefolderMetadata) {
  const Dataset d = read("metadata.jsonl");
  EXPECT_EQ(d.format, ManifestFormat::jsonl);
  EXPECT_EQ(d.labels.names(), LabelSet::chexpert14().names());
  ASSERT_EQ(d.samples.size(), 3u);
  EXPECT_EQ(d.samples[0].row, 1u);
  EXPECT_EQ(d.samples[1].row, 3u);  // blank line 2 skipped
  EXPECT_EQ(d.samples[2].row, 4u);
  EXPECT_EQ(d.samples[0].image_path, manifest_fixture("images/a.png"));
  EXPECT_EQ(d.label(0, "Pleural Effusion"), LabelValue::positive);
  EXPECT_EQ(d.label(0, "Edema"), LabelValue::missing);
  EXPECT_EQ(d.samples[1].prompt, "Mild \"cardiomegaly\", no edema.");
  EXPECT_EQ(d.label(1, "Cardiomegaly"), LabelValue::positive);
  EXPECT_EQ(d.label(1, "Edema"), LabelValue::negative);
  EXPECT_EQ(d.label(1, "Pneumonia"), LabelValue::uncertain);
  EXPECT_EQ(d.samples[1].patient_id, "12");
  EXPECT_FALSE(d.samples[2].prompt.has_value());
  ASSERT_EQ(d.samples[0].extra.size(), 1u);
  EXPECT_EQ(d.samples[0].extra[0], (std::pair<std::string, std::string>{"split", "train"}));
  ASSERT_EQ(d.samples[1].extra.size(), 1u);
  EXPECT_EQ(d.samples[1].extra[0], (std::pair<std::string, std::string>{"view", "{\"pa\":true}"}));
}

TEST(JsonlManifest, BadLines) {
  ErrorReport errors;
  const std::string msg = read_error("metadata_bad.jsonl", {}, errors);
  ASSERT_EQ(errors.size(), 7u);
  const std::string f = fixture_str("metadata_bad.jsonl");
  std::vector<std::string> messages;
  for (const auto& e : errors.errors()) messages.emplace_back(e.what());
  EXPECT_EQ(messages[0], f + ":2: column 'labels_dict': label 'Edema' has value 0.5; expected 1, 0, -1 or null");
  EXPECT_EQ(messages[1], f + ":3: not valid JSON (at byte 2)");
  EXPECT_EQ(messages[2], f + ":4: a line must hold one JSON object");
  EXPECT_EQ(messages[3], f + ":5: column 'file_name': no 'file_name' key (the image path)");
  EXPECT_EQ(messages[4].rfind(f + ":6: column 'labels_dict': unknown label 'Oedema'", 0), 0u) << messages[4];
  EXPECT_EQ(messages[5], f + ":7: column 'labels_dict': no 'labels_dict' object (other lines have one)");
  EXPECT_EQ(messages[6], f + ":8: invalid UTF-8 at byte 23 of the line");
  EXPECT_EQ(msg.rfind(f + ":2: column 'labels_dict'", 0), 0u) << msg;  // the first bad row in file order

  ManifestOptions skip;
  skip.skip_bad = true;
  ErrorReport errors2;
  const Dataset d = read_manifest(manifest_fixture("metadata_bad.jsonl"), skip, errors2);
  EXPECT_EQ(d.samples.size(), 1u);
  EXPECT_EQ(d.n_skipped, 7u);
}

TEST(FolderManifest, ImagesSortedNoLabels) {
  const Dataset d = read("folder");
  EXPECT_EQ(d.format, ManifestFormat::folder);
  EXPECT_TRUE(d.labels.empty());
  ASSERT_EQ(d.samples.size(), 3u);  // notes.txt is not an image
  EXPECT_EQ(d.samples[0].id, "sub/x2.PNG");
  EXPECT_EQ(d.samples[1].id, "sub/x3.jpeg");
  EXPECT_EQ(d.samples[2].id, "x1.png");
  EXPECT_EQ(d.samples[2].image_path, manifest_fixture("folder") / "x1.png");
  EXPECT_EQ(d.samples[2].row, 0u);
  ManifestOptions o;
  o.label_names = {"Edema"};
  ErrorReport errors;
  EXPECT_THROW(read_manifest(manifest_fixture("folder"), o, errors), UsageError);
}

}  // namespace
}  // namespace chexgen
