// The baseline generators: the split keeps every patient on one side and depends only on the seed; the generators
// apply the degradations of image/filters.h (tested in tests/image_io/filters_test.cpp); write_baselines writes
// folders the manifest reader reads back.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/data/manifest.h"
#include "chexgen/fidelity/baselines.h"
#include "chexgen/image/decode.h"
#include "chexgen/image/resize.h"

namespace chexgen::fidelity {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot(CHEXGEN_SOURCE_DIR);

Image8 pattern_image(int w, int h) {
  Image8 im(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) im.at(x, y) = static_cast<std::uint8_t>((x * 7 + y * 13 + (x * y) % 5 * 29) % 256);
  return im;
}

// A dataset of `patients` patients with `per_patient(p)` images each, no files behind it.
Dataset synthetic_dataset(int patients, int (*per_patient)(int), bool with_patient_ids = true) {
  Dataset d;
  d.source = "test.csv";
  d.labels = LabelSet({"Effusion"});
  std::size_t row = 2;
  for (int p = 0; p < patients; ++p) {
    for (int k = 0; k < per_patient(p); ++k) {
      Sample s;
      s.id = "p" + std::to_string(p) + "_" + std::to_string(k) + ".png";
      s.image_ref = s.id;
      if (with_patient_ids) s.patient_id = std::to_string(p * 7);
      s.labels = {k % 2 ? LabelValue::positive : LabelValue::negative};
      s.row = row++;
      d.samples.push_back(s);
    }
  }
  return d;
}

int varied(int p) { return 1 + (p * 5) % 4; }  // 1..4 images per patient
int one(int) { return 1; }

TEST(BaselineSplit, KeepsEveryPatientOnOneSideAndIsDeterministic) {
  const Dataset d = synthetic_dataset(40, varied);
  const Split a = split_by_patient(d, 42);
  EXPECT_TRUE(a.by_patient);
  EXPECT_EQ(a.reference.size() + a.held_out.size(), d.samples.size());
  std::map<std::string, int> side;
  for (const auto i : a.reference) side[*d.samples[i].patient_id] |= 1;
  for (const auto i : a.held_out) side[*d.samples[i].patient_id] |= 2;
  for (const auto& [patient, s] : side) EXPECT_NE(s, 3) << "patient " << patient << " is on both sides";
  EXPECT_EQ(a.n_reference_patients + a.n_held_out_patients, 40u);
  // The greedy fill lands within a patient's images of half.
  const double half = d.samples.size() / 2.0;
  EXPECT_LE(std::fabs(a.reference.size() - half), 4.0);

  const Split b = split_by_patient(d, 42);
  EXPECT_EQ(a.reference, b.reference);
  EXPECT_EQ(a.held_out, b.held_out);
  const Split c = split_by_patient(d, 7);
  EXPECT_NE(a.reference, c.reference);
  // Halves are in manifest order.
  EXPECT_TRUE(std::is_sorted(a.reference.begin(), a.reference.end()));
  EXPECT_TRUE(std::is_sorted(a.held_out.begin(), a.held_out.end()));
}

TEST(BaselineSplit, DoesNotDependOnRowOrder) {
  Dataset d = synthetic_dataset(30, varied);
  const Split a = split_by_patient(d, 5);
  std::set<std::string> ref_a;
  for (const auto i : a.reference) ref_a.insert(d.samples[i].id);
  std::reverse(d.samples.begin(), d.samples.end());
  const Split b = split_by_patient(d, 5);
  std::set<std::string> ref_b;
  for (const auto i : b.reference) ref_b.insert(d.samples[i].id);
  EXPECT_EQ(ref_a, ref_b);
}

TEST(BaselineSplit, WithoutPatientIdsSplitsBySampleIntoExactHalves) {
  const Dataset d = synthetic_dataset(21, one, false);
  const Split s = split_by_patient(d, 42);
  EXPECT_FALSE(s.by_patient);
  EXPECT_EQ(s.n_without_patient, 21u);
  EXPECT_EQ(s.reference.size(), 10u);
  EXPECT_EQ(s.held_out.size(), 11u);
}

TEST(BaselineSplit, OnePatientCannotBeSplit) {
  const Dataset d = synthetic_dataset(1, varied);
  EXPECT_THROW(split_by_patient(d, 42), InputError);
  EXPECT_THROW(split_by_patient(Dataset{}, 42), InputError);
}

TEST(BaselineSplit, PermutationIsAFixedSequence) {
  // mt19937_64's output is fixed by the standard, and the shuffle is ours: these are the same everywhere.
  const auto p = seeded_permutation(10, 42);
  std::vector<std::size_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_EQ(p, seeded_permutation(10, 42));
  EXPECT_NE(p, seeded_permutation(10, 43));
}

TEST(BaselineGenerators, StandardListAndApply) {
  const auto gens = standard_baselines();
  std::vector<std::string> names;
  for (const auto& g : gens) names.push_back(g.name);
  EXPECT_EQ(names, (std::vector<std::string>{"held-out", "copies", "blur-1", "blur-2", "blur-4", "noise-8", "noise-16",
                                             "noise-32", "downup-2", "downup-4", "downup-8"}));
  const Image8 im = pattern_image(32, 32);
  for (const auto& g : gens) {
    const Image8 out = apply_baseline(g, im, 42, 0);
    EXPECT_EQ(out.width, 32) << g.name;
    EXPECT_EQ(out.height, 32) << g.name;
    EXPECT_EQ(out.channels, 1) << g.name;
    if (g.kind == BaselineKind::held_out || g.kind == BaselineKind::copies) {
      EXPECT_EQ(out.data, im.data) << g.name;
    }
  }
}

TEST(BaselineFiles, NamesArePngAndUnique) {
  Dataset d;
  for (const char* ref : {"a/x.jpg", "b/x.png", "x_2.png", "c/y.dcm", "noext"}) {
    Sample s;
    s.image_ref = ref;
    d.samples.push_back(s);
  }
  EXPECT_EQ(output_file_names(d), (std::vector<std::string>{"x.png", "x_2.png", "x_2_2.png", "y.png", "noext.png"}));
}

TEST(BaselineFiles, WritesSetsTheReaderReadsBack) {
  // Five images of the bundled sample, three patients, written and read back through the JSONL reader.
  const fs::path dir = fs::temp_directory_path() / ("chexgen-baselines-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream m(dir / "m.csv");
    m << "file_name,patient_id,Effusion,Mass\n";
    m << "images/00000061_012.png,61,1,0\nimages/00000061_015.png,61,0,0\n";
    m << "images/00000211_013.png,211,0,1\n";
    m << "images/00000506_013.png,506,1,1\nimages/00000506_015.png,506,0,1\n";
  }
  ManifestOptions mo;
  mo.label_names = {"Effusion", "Mass"};
  mo.image_root = kRoot / "data/sample";
  ErrorReport errors;
  const Dataset d = read_manifest(dir / "m.csv", mo, errors);
  ASSERT_EQ(d.samples.size(), 5u);
  for (const auto& s : d.samples) ASSERT_TRUE(fs::exists(s.image_path)) << s.image_path;

  const fs::path out = dir / "out";
  const BaselineRun run = write_baselines(d, out, BaselineOptions{42, 2}, errors);
  ASSERT_TRUE(errors.empty());
  ASSERT_EQ(run.sets.size(), 12u);
  for (const auto& set : run.sets) {
    ASSERT_TRUE(fs::exists(out / set.name / "metadata.jsonl")) << set.name;
    EXPECT_FALSE(fs::exists(out / (set.name + ".partial"))) << set.name;
    ManifestOptions jo;
    jo.label_names = {"Effusion", "Mass"};
    ErrorReport e;
    const Dataset back = read_manifest(out / set.name / "metadata.jsonl", jo, e);
    ASSERT_EQ(back.samples.size(), set.samples.size()) << set.name;
    for (std::size_t k = 0; k < back.samples.size(); ++k) {
      const Sample& src = d.samples[set.samples[k]];
      EXPECT_EQ(back.samples[k].labels, src.labels) << set.name;
      EXPECT_EQ(back.samples[k].patient_id, src.patient_id) << set.name;
      const Image8 im = read_image_u8(back.samples[k].image_path, ColorMode::gray);
      EXPECT_EQ(im.width, 256);
      EXPECT_EQ(im.channels, 1);
    }
  }
  // copies are the reference images, held-out the held-out ones, pixel for pixel.
  for (const auto i : run.split.reference) {
    const auto name = run.file_names[i];
    EXPECT_EQ(read_image_u8(out / "copies" / name, ColorMode::gray).data,
              read_image_u8(d.samples[i].image_path, ColorMode::gray).data);
    EXPECT_FALSE(fs::exists(out / "held-out" / name));
  }
  for (const auto i : run.split.held_out) {
    EXPECT_EQ(read_image_u8(out / "held-out" / run.file_names[i], ColorMode::gray).data,
              read_image_u8(d.samples[i].image_path, ColorMode::gray).data);
  }
  const auto info = nlohmann::json::parse(std::ifstream(out / "baselines.json"));
  EXPECT_EQ(info["seed"], 42);
  EXPECT_EQ(info["split"]["by"], "patient");
  EXPECT_EQ(info["generators"].size(), 11u);
  EXPECT_EQ(info["generators"][2]["parameters"]["sigma_px"], 1.0);

  // A rerun with another seed replaces every folder: no file of the first split stays behind.
  std::ofstream(out / "blur-2" / "stale.png") << "x";
  const BaselineRun again = write_baselines(d, out, BaselineOptions{7, 1}, errors);
  EXPECT_FALSE(fs::exists(out / "blur-2" / "stale.png"));
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(out / "held-out")) files += entry.path().extension() == ".png";
  EXPECT_EQ(files, again.split.held_out.size());
  fs::remove_all(dir);
}

TEST(BaselineFiles, UnreadableImagesAreNamedAndNothingIsReplaced) {
  const fs::path dir = fs::temp_directory_path() / ("chexgen-baselines-bad-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  { std::ofstream(dir / "broken.png") << "not a png"; }
  {
    std::ofstream m(dir / "m.csv");
    m << "file_name,patient_id,Effusion\n";
    m << (kRoot / "data/sample/images/00000061_012.png").string() << ",1,0\n";
    m << "broken.png,2,0\n";
    m << "missing.png,3,0\n";
  }
  ManifestOptions mo;
  mo.label_names = {"Effusion"};
  ErrorReport errors;
  const Dataset d = read_manifest(dir / "m.csv", mo, errors);
  EXPECT_THROW(write_baselines(d, dir / "out", BaselineOptions{42, 1}, errors), InputError);
  ASSERT_EQ(errors.size(), 2u);
  std::set<std::string> messages;
  for (const auto& e : errors.errors()) messages.insert(e.where().render());
  EXPECT_TRUE(messages.count((dir / "m.csv").string() + ":3: column 'file_name'")) << *messages.begin();
  EXPECT_TRUE(messages.count((dir / "m.csv").string() + ":4: column 'file_name'"));
  EXPECT_FALSE(fs::exists(dir / "out" / "reference"));
  EXPECT_FALSE(fs::exists(dir / "out" / "reference.partial"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chexgen::fidelity
