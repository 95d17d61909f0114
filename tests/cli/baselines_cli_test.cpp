// `chexgen baselines` end to end on 12 images of the bundled NIH sample: the folders and manifests it writes are
// read back by `chexgen inspect` with the source's labels, the split keeps patients apart and is reproducible, and
// unreadable images are named with the manifest row.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
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
const std::vector<std::string> kGenerators{"held-out", "copies",   "blur-1",   "blur-2",   "blur-4",  "noise-8",
                                           "noise-16", "noise-32", "downup-2", "downup-4", "downup-8"};

// The header and the first `n` rows of data/sample/labels.csv (one-hot NIH, with patient_id).
fs::path write_subset(const fs::path& dir, int n) {
  std::ifstream in(kRoot / "data/sample/labels.csv");
  std::ofstream out(dir / "labels.csv");
  std::string line;
  for (int i = 0; i <= n && std::getline(in, line); ++i) out << line << "\n";
  return dir / "labels.csv";
}

std::vector<std::string> baselines_args(const fs::path& manifest, const fs::path& out) {
  return {"-q",
          "baselines",
          manifest.string(),
          "--out",
          out.string(),
          "--format",
          "onehot",
          "--label-set",
          "nih",
          "--image-root",
          (kRoot / "data/sample").string()};
}

TEST(BaselinesCli, WritesSetsThatInspectReadsBackWithTheLabels) {
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_subset(dir, 12);
  const fs::path out = dir / "baselines";
  auto r = run_chexgen(baselines_args(manifest, out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("split of 12 images by patient (seed 42)"));
  for (const auto& g : kGenerators) EXPECT_THAT(r.out, HasSubstr(g));

  const auto info = nlohmann::json::parse(read_text(out / "baselines.json"));
  EXPECT_EQ(info["split"]["by"], "patient");
  EXPECT_EQ(info["split"]["n_images"], 12);
  const int n_ref = info["split"]["reference"]["n_images"], n_held = info["split"]["held_out"]["n_images"];
  EXPECT_EQ(n_ref + n_held, 12);
  EXPECT_GE(n_ref, 4);
  EXPECT_GE(n_held, 4);
  ASSERT_EQ(info["generators"].size(), kGenerators.size());

  // Patients never on both sides; copies = reference; every held-out generator has the held-out rows.
  const auto reference = read_jsonl(out / "reference/metadata.jsonl");
  const auto held_out = read_jsonl(out / "held-out/metadata.jsonl");
  ASSERT_EQ(static_cast<int>(reference.size()), n_ref);
  ASSERT_EQ(static_cast<int>(held_out.size()), n_held);
  std::set<std::string> ref_patients;
  for (const auto& l : reference) ref_patients.insert(l["patient_id"].get<std::string>());
  for (const auto& l : held_out) EXPECT_EQ(ref_patients.count(l["patient_id"].get<std::string>()), 0u) << l.dump();
  EXPECT_EQ(read_text(out / "copies/metadata.jsonl"), read_text(out / "reference/metadata.jsonl"));
  for (const auto& g : kGenerators) {
    if (g == "copies") continue;
    EXPECT_EQ(read_text(out / g / "metadata.jsonl"), read_text(out / "held-out/metadata.jsonl")) << g;
  }
  // The first row of the sample (00000061_012: Effusion, Edema, Infiltration, Pleural_Thickening, Pneumonia).
  bool found = false;
  for (const auto* set : {&reference, &held_out}) {
    for (const auto& l : *set) {
      if (l["file_name"] != "00000061_012.png") continue;
      found = true;
      EXPECT_EQ(l["labels_dict"]["Effusion"], 1);
      EXPECT_EQ(l["labels_dict"]["Pneumonia"], 1);
      EXPECT_EQ(l["labels_dict"]["Mass"], 0);
      EXPECT_EQ(l["labels_dict"].size(), 15u);
      EXPECT_EQ(l["source_id"], "images/00000061_012.png");
    }
  }
  EXPECT_TRUE(found);

  // inspect reads every set back: all images decode, and the label counts of the two halves add up to the
  // source's.
  auto src = run_chexgen({"-q", "inspect", manifest.string(), "--label-set", "nih", "--image-root",
                          (kRoot / "data/sample").string(), "--json", (dir / "src.json").string()});
  ASSERT_EQ(src.exit_code, 0) << src.err;
  const auto src_report = nlohmann::json::parse(read_text(dir / "src.json"));
  std::map<std::string, nlohmann::json> reports;
  for (const std::string set : {"reference", "held-out", "copies", "blur-4", "noise-32", "downup-8"}) {
    const fs::path json = dir / (set + ".json");
    r = run_chexgen(
        {"-q", "inspect", (out / set / "metadata.jsonl").string(), "--label-set", "nih", "--json", json.string()});
    ASSERT_EQ(r.exit_code, 0) << set << ": " << r.err;
    reports[set] = nlohmann::json::parse(read_text(json));
    EXPECT_EQ(reports[set]["format"], "jsonl");
    EXPECT_EQ(reports[set]["n_found"], reports[set]["n_samples"]);
  }
  EXPECT_EQ(reports["reference"]["n_samples"], n_ref);
  EXPECT_EQ(reports["blur-4"]["n_samples"], n_held);
  for (const auto& [label, counts] : src_report["label_prevalence"].items()) {
    EXPECT_EQ(reports["reference"]["label_prevalence"][label]["positive"].get<int>() +
                  reports["held-out"]["label_prevalence"][label]["positive"].get<int>(),
              counts["positive"].get<int>())
        << label;
    EXPECT_EQ(reports["copies"]["label_prevalence"][label], reports["reference"]["label_prevalence"][label]);
    EXPECT_EQ(reports["downup-8"]["label_prevalence"][label], reports["held-out"]["label_prevalence"][label]);
  }
}

TEST(BaselinesCli, SameSeedSameFilesOtherSeedOtherSplit) {
  const fs::path dir = make_temp_dir();
  const fs::path manifest = write_subset(dir, 12);
  auto args = baselines_args(manifest, dir / "a");
  args.insert(args.end(), {"--threads", "2"});
  ASSERT_EQ(run_chexgen(args).exit_code, 0);
  args = baselines_args(manifest, dir / "b");
  args.insert(args.end(), {"--threads", "1"});
  ASSERT_EQ(run_chexgen(args).exit_code, 0);
  for (const auto& g : kGenerators) {
    const std::string meta = read_text(dir / "a" / g / "metadata.jsonl");
    EXPECT_EQ(meta, read_text(dir / "b" / g / "metadata.jsonl")) << g;
    for (const auto& l : read_jsonl(dir / "a" / g / "metadata.jsonl")) {
      const std::string f = l["file_name"];
      EXPECT_EQ(read_text(dir / "a" / g / f), read_text(dir / "b" / g / f)) << g << "/" << f;
    }
  }
  // Another seed, into the same folder: the folder then holds only the new split's files.
  args = baselines_args(manifest, dir / "a");
  args.insert(args.end(), {"--seed", "3"});
  ASSERT_EQ(run_chexgen(args).exit_code, 0);
  const auto info = nlohmann::json::parse(read_text(dir / "a/baselines.json"));
  EXPECT_EQ(info["seed"], 3);
  std::set<std::string> listed, present;
  for (const auto& l : read_jsonl(dir / "a/held-out/metadata.jsonl")) listed.insert(l["file_name"].get<std::string>());
  for (const auto& e : fs::directory_iterator(dir / "a/held-out"))
    if (e.path().extension() == ".png") present.insert(e.path().filename().string());
  EXPECT_EQ(listed, present);
  EXPECT_NE(read_text(dir / "a/reference/metadata.jsonl"), read_text(dir / "b/reference/metadata.jsonl"));
}

TEST(BaselinesCli, WithoutPatientIdsSaysSoAndSplitsBySample) {
  const fs::path dir = make_temp_dir();
  {
    std::ofstream m(dir / "m.csv");
    m << "file_name,Effusion\n";
    for (const char* f : {"00000061_012", "00000061_015", "00000211_013", "00000211_018"})
      m << (kRoot / "data/sample/images" / (std::string(f) + ".png")).string() << ",0\n";
  }
  const auto r = run_chexgen(
      {"-q", "baselines", (dir / "m.csv").string(), "--out", (dir / "out").string(), "--labels", "Effusion"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no sample has a patient id"));
  EXPECT_THAT(r.out, HasSubstr("reference 2 images (2 samples), held-out 2 images (2 samples)"));
  EXPECT_EQ(nlohmann::json::parse(read_text(dir / "out/baselines.json"))["split"]["by"], "sample");
}

TEST(BaselinesCli, UnreadableImagesAreNamedWithTheirRow) {
  const fs::path dir = make_temp_dir();
  { std::ofstream(dir / "broken.png") << "not a png"; }
  {
    std::ofstream m(dir / "m.csv");
    m << "file_name,patient_id,Effusion\n";
    m << (kRoot / "data/sample/images/00000061_012.png").string() << ",1,0\n";
    m << "broken.png,2,0\n";
    m << (kRoot / "data/sample/images/00000211_013.png").string() << ",3,1\n";
  }
  auto r =
      run_chexgen({"baselines", (dir / "m.csv").string(), "--out", (dir / "out").string(), "--labels", "Effusion"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr((dir / "m.csv").string() + ":3: column 'file_name': image '" +
                               (dir / "broken.png").string() + "'"));
  EXPECT_THAT(r.err, HasSubstr("1 image(s) could not be read"));
  EXPECT_FALSE(fs::exists(dir / "out/reference"));

  r = run_chexgen({"baselines", (dir / "nope.csv").string(), "--out", (dir / "out").string(), "--labels", "Effusion"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("nope.csv"));
  r = run_chexgen({"baselines", (dir / "m.csv").string(), "--labels", "Effusion"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace chexgen::testing
