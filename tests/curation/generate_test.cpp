// The generation plan of `chexgen generate` (sample ids, seeds, file names, and the rows it refuses), the command
// template's expansion, and a whole run through the command backend read back with chexgen's own manifest reader.
// Source of truth: the naming and seeding rules of docs/generate.md, written out by hand below.
#include "chexgen/curation/generate.h"

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
#include "chexgen/data/manifest.h"
#include "chexgen/image/decode.h"

namespace chexgen {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("chexgen_generate_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A CheXGenBench real-style manifest read by chexgen itself, so that rows, ids and labels are what users get.
Dataset read_csv_manifest(const fs::path& dir, const std::string& text, ManifestOptions options = {}) {
  const fs::path path = dir / "prompts.csv";
  write_file_atomically(path, text);
  ErrorReport errors;
  return read_manifest(path, options, errors);
}

const char* kThreeRows =
    "path,annotated_prompt,chexpert_labels,patient_id\n"
    "images/00000013_005.png,Small left pleural effusion.,\"{'Pleural Effusion': 1.0}\",p13\n"
    "images/00000042_000.png,Mild cardiomegaly.,\"{'Cardiomegaly': 1, 'Edema': 0}\",p42\n"
    "other/00000099_001.jpg,No acute findings.,\"{'No Finding': 1}\",\n";

std::vector<std::string> names(const GenerationPlan& plan) {
  std::vector<std::string> out;
  for (const auto& j : plan.jobs) out.push_back(j.file_name);
  return out;
}

std::vector<std::int64_t> seeds(const GenerationPlan& plan) {
  std::vector<std::int64_t> out;
  for (const auto& j : plan.jobs) out.push_back(j.seed);
  return out;
}

TEST(GeneratePlan, OneImagePerPromptIsNamedAfterTheImageStemWithSeedZero) {
  const Dataset d = read_csv_manifest(fresh_dir("plan1"), kThreeRows);
  ErrorReport errors;
  const GenerationPlan plan = plan_generations(d, {}, errors);
  EXPECT_EQ(plan.per_prompt, 1);
  EXPECT_THAT(plan.seeds, ElementsAre(0));
  EXPECT_THAT(names(plan), ElementsAre("SyntheticImg_00000013_005.png", "SyntheticImg_00000042_000.png",
                                       "SyntheticImg_00000099_001.png"));
  EXPECT_THAT(seeds(plan), ElementsAre(0, 0, 0));
  EXPECT_EQ(plan.jobs[1].sample_id, "00000042_000");
  EXPECT_EQ(plan.jobs[1].prompt, "Mild cardiomegaly.");
  EXPECT_EQ(plan.jobs[2].sample, 2u);
  EXPECT_TRUE(errors.empty());
}

TEST(GeneratePlan, ExplicitSeedsGiveKImagesPerPromptSampleMajor) {
  const Dataset d = read_csv_manifest(fresh_dir("plan2"), kThreeRows);
  ErrorReport errors;
  GenerationPlanOptions o;
  o.seeds = {639, 25, 7};
  const GenerationPlan plan = plan_generations(d, o, errors);
  EXPECT_EQ(plan.per_prompt, 3);
  ASSERT_EQ(plan.jobs.size(), 9u);
  EXPECT_THAT(seeds(plan), ElementsAre(639, 25, 7, 639, 25, 7, 639, 25, 7));
  EXPECT_EQ(plan.jobs[0].file_name, "SyntheticImg_00000013_005_0.png");
  EXPECT_EQ(plan.jobs[2].file_name, "SyntheticImg_00000013_005_2.png");
  EXPECT_EQ(plan.jobs[4].file_name, "SyntheticImg_00000042_000_1.png");
  EXPECT_EQ(plan.jobs[4].k, 1);
  EXPECT_EQ(plan.jobs[8].file_name, "SyntheticImg_00000099_001_2.png");
  EXPECT_EQ(plan.jobs[8].prompt, "No acute findings.");

  // --per-prompt may repeat the count of --seeds, and K = 1 with one explicit seed keeps the short name.
  o.per_prompt = 3;
  EXPECT_EQ(plan_generations(d, o, errors).jobs.size(), 9u);
  GenerationPlanOptions one;
  one.seeds = {1234};
  const GenerationPlan p1 = plan_generations(d, one, errors);
  EXPECT_EQ(p1.jobs[0].file_name, "SyntheticImg_00000013_005.png");
  EXPECT_EQ(p1.jobs[0].seed, 1234);
}

TEST(GeneratePlan, DerivedSeedsCountUpFromTheBaseSeed) {
  const Dataset d = read_csv_manifest(fresh_dir("plan3"), kThreeRows);
  ErrorReport errors;
  GenerationPlanOptions o;
  o.per_prompt = 4;
  o.base_seed = 100;
  const GenerationPlan plan = plan_generations(d, o, errors);
  EXPECT_THAT(plan.seeds, ElementsAre(100, 101, 102, 103));
  const std::vector<std::int64_t> per_job = seeds(plan);
  ASSERT_EQ(per_job.size(), 12u);
  EXPECT_THAT(std::vector<std::int64_t>(per_job.begin(), per_job.begin() + 5), ElementsAre(100, 101, 102, 103, 100));
  o.base_seed = -2;  // torch.manual_seed takes negative seeds too
  EXPECT_THAT(plan_generations(d, o, errors).seeds, ElementsAre(-2, -1, 0, 1));
}

TEST(GeneratePlan, InconsistentOptionsAreUsageErrors) {
  const Dataset d = read_csv_manifest(fresh_dir("plan4"), kThreeRows);
  ErrorReport errors;
  GenerationPlanOptions o;
  o.seeds = {1, 2};
  o.per_prompt = 3;
  try {
    plan_generations(d, o, errors);
    FAIL() << "a K different from the number of seeds was accepted";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--per-prompt 3"));
    EXPECT_THAT(e.what(), HasSubstr("2 seed(s)"));
  }
  GenerationPlanOptions negative;
  negative.per_prompt = -1;
  EXPECT_THROW(plan_generations(d, negative, errors), UsageError);
}

TEST(GeneratePlan, IdsFromTheIdColumnAreUsedAsTheyAre) {
  const fs::path dir = fresh_dir("plan5");
  ManifestOptions mo;
  mo.columns.id = "study";
  const Dataset d = read_csv_manifest(dir,
                                      "path,annotated_prompt,chexpert_labels,study\n"
                                      "a/x.png,One.,{},s-1.a\n"
                                      "b/x.png,Two.,{},s_2\n",
                                      mo);
  ErrorReport errors;
  GenerationPlanOptions o;
  o.ids_from_column = true;
  EXPECT_THAT(names(plan_generations(d, o, errors)), ElementsAre("SyntheticImg_s-1.a.png", "SyntheticImg_s_2.png"));

  // Without --id-column the two images share the stem "x": both rows are named.
  try {
    plan_generations(d, {}, errors);
    FAIL() << "colliding ids were accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().row, 3u);
    EXPECT_THAT(e.reason(), HasSubstr("sample id 'x' is also the id of row 2"));
    EXPECT_THAT(e.reason(), HasSubstr("--id-column"));
  }
}

TEST(GeneratePlan, IdsThatCannotBeFileNamesAreRefusedWithTheirRow) {
  const fs::path dir = fresh_dir("plan6");
  const Dataset d = read_csv_manifest(dir,
                                      "path,annotated_prompt,chexpert_labels,study\n"
                                      "ok.png,One.,{},fine\n"
                                      "my scan (1).png,Two.,{},has/slash\n");
  ErrorReport errors;
  try {
    plan_generations(d, {}, errors);
    FAIL() << "an unsafe id was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, (dir / "prompts.csv").string());
    EXPECT_EQ(e.where().row, 3u);
    EXPECT_EQ(e.where().column, "path");
    EXPECT_THAT(e.reason(), HasSubstr("'my scan (1)'"));
    EXPECT_THAT(e.reason(), HasSubstr("--id-column"));
  }
  ManifestOptions mo;
  mo.columns.id = "study";
  const Dataset by_column = read_csv_manifest(dir, read_file_bytes(dir / "prompts.csv"), mo);
  GenerationPlanOptions o;
  o.ids_from_column = true;
  ErrorReport errors2;
  try {
    plan_generations(by_column, o, errors2);
    FAIL() << "an unsafe id was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().row, 3u);
    EXPECT_THAT(e.reason(), HasSubstr("sample id 'has/slash' cannot be part of a file name"));
  }
}

TEST(GeneratePlan, EveryRowWithoutAPromptIsReportedAndTheFirstIsThrown) {
  const fs::path dir = fresh_dir("plan7");
  const Dataset d = read_csv_manifest(dir,
                                      "path,annotated_prompt,chexpert_labels\n"
                                      "a.png,One.,{}\n"
                                      "b.png,,{}\n"
                                      "c.png,Three.,{}\n"
                                      "d.png,\"  \",{}\n");
  ErrorReport errors;
  try {
    plan_generations(d, {}, errors);
    FAIL() << "rows without prompts were accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().row, 3u);
    EXPECT_THAT(e.reason(), HasSubstr("no prompt"));
    EXPECT_THAT(e.reason(), HasSubstr("and 1 more bad rows"));
  }
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors.errors()[1].where().row, 5u);
}

TEST(GeneratePlan, AnEmptyManifestIsAnInputError) {
  Dataset d;
  d.source = "empty.csv";
  ErrorReport errors;
  EXPECT_THROW(plan_generations(d, {}, errors), InputError);
}

TEST(GenerateCommand, TemplatesExpandKnownPlaceholdersOnceAndQuotePaths) {
  const std::string cmd = expand_command_template(
      "python gen.py --prompts {prompts_file} --out {out_dir} --size {width}x{height} {unknown} {json: {}}",
      {{"prompts_file", shell_quote("/s/prompts.txt")},
       {"out_dir", "'{prompts_file}'"},  // a value is not expanded again
       {"width", "512"},
       {"height", "256"}});
  EXPECT_EQ(cmd, "python gen.py --prompts '/s/prompts.txt' --out '{prompts_file}' --size 512x256 {unknown} {json: {}}");
}

// A stand-in for a user's diffusers script: for each line of jobs.jsonl, a gray PNG whose first pixel is the
// length of "seed=S;prompt=P" and whose next pixels are its bytes, so each file shows which job made it.
const char* kTaggingScript = R"(import json, os, sys
from PIL import Image
jobs, out, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for line in open(jobs):
    j = json.loads(line)
    tag = ("seed=%d;prompt=%s" % (j["seed"], j["prompt"])).encode()
    data = bytes([len(tag)]) + tag
    Image.frombytes("L", (w, h), data + bytes(w * h - len(data))).save(os.path.join(out, j["file_name"]))
)";

std::string read_tag(const fs::path& png) {
  const Image8 image = read_image_u8(png, ColorMode::gray);
  const std::size_t n = image.data.at(0);
  return std::string(image.data.begin() + 1, image.data.begin() + 1 + static_cast<std::ptrdiff_t>(n));
}

TEST(GenerateCommand, ARunWritesImagesAndAGenerationsManifestChexgenReadsBack) {
  const fs::path dir = fresh_dir("run");
  write_file_atomically(dir / "gen.py", kTaggingScript);
  const Dataset d = read_csv_manifest(dir, kThreeRows);
  ErrorReport errors;
  GenerationPlanOptions po;
  po.seeds = {639, 25};
  const GenerationPlan plan = plan_generations(d, po, errors);

  GenerationOptions go;
  go.size = {24, 24};
  go.backend = CommandBackend{
      "/usr/bin/python3 " + shell_quote((dir / "gen.py").string()) + " {jobs_file} {out_dir} {width} {height}", 4,
      "tagger"};
  std::size_t started_with = 99, done = 0;
  go.callbacks.started = [&](std::size_t n, std::size_t from_journal) {
    started_with = n;
    EXPECT_EQ(from_journal, 0u);
  };
  go.callbacks.image_done = [&] { ++done; };
  const fs::path out = dir / "out";
  const GenerationRun run = generate_images(d, plan, out, go);
  EXPECT_EQ(started_with, 6u);
  EXPECT_EQ(done, 6u);
  EXPECT_EQ(run.n_images, 6u);
  EXPECT_EQ(run.n_generated, 6u);
  EXPECT_EQ(run.n_prompts, 3u);
  EXPECT_EQ(run.commands_run, 2u);  // batches of 4: 4 + 2
  EXPECT_EQ(read_tag(out / "images/SyntheticImg_00000042_000_1.png"), "seed=25;prompt=Mild cardiomegaly.");
  EXPECT_FALSE(fs::exists(out / "staging"));

  ManifestOptions mo;
  mo.format = ManifestFormat::chexgenbench_synthetic;
  ErrorReport read_errors;
  const Dataset back = read_manifest(out / "generations.csv", mo, read_errors);
  ASSERT_EQ(back.samples.size(), 6u);
  const Sample& s = back.samples[3];  // second prompt, k = 1
  EXPECT_EQ(s.image_ref, "images/SyntheticImg_00000042_000_1.png");
  EXPECT_TRUE(fs::exists(s.image_path));
  EXPECT_EQ(s.prompt, "Mild cardiomegaly.");
  EXPECT_EQ(s.patient_id, "p42");
  EXPECT_EQ(back.label(3, "Cardiomegaly"), LabelValue::positive);
  EXPECT_EQ(back.label(3, "Edema"), LabelValue::negative);
  EXPECT_EQ(back.label(3, "Atelectasis"), LabelValue::missing);
  EXPECT_EQ(back.label(0, "Pleural Effusion"), LabelValue::positive);
  EXPECT_THAT(s.extra, ElementsAre(std::pair<std::string, std::string>{"sample_id", "00000042_000"},
                                   std::pair<std::string, std::string>{"k", "1"},
                                   std::pair<std::string, std::string>{"seed", "25"}));
  EXPECT_FALSE(back.samples[5].patient_id.has_value());  // the source row had none

  EXPECT_EQ(read_file_bytes(out / "images/prompt_INFO.csv"),
            "prompt,img_savename\n"
            "Small left pleural effusion.,SyntheticImg_00000013_005_0.png\n"
            "Small left pleural effusion.,SyntheticImg_00000013_005_1.png\n"
            "Mild cardiomegaly.,SyntheticImg_00000042_000_0.png\n"
            "Mild cardiomegaly.,SyntheticImg_00000042_000_1.png\n"
            "No acute findings.,SyntheticImg_00000099_001_0.png\n"
            "No acute findings.,SyntheticImg_00000099_001_1.png\n");
  const auto info = nlohmann::json::parse(read_file_bytes(out / "generation.json"));
  EXPECT_EQ(info["backend"], "command");
  EXPECT_EQ(info["model"], "tagger");
  EXPECT_EQ(info["seeds"], nlohmann::json({639, 25}));
  EXPECT_EQ(info["size"], "24x24");
  EXPECT_EQ(info["n_images"], 6);

  // A second run finds everything journaled and runs nothing.
  started_with = 99;
  go.callbacks.started = [&](std::size_t n, std::size_t from_journal) {
    started_with = n;
    EXPECT_EQ(from_journal, 6u);
  };
  const GenerationRun again = generate_images(d, plan, out, go);
  EXPECT_EQ(started_with, 0u);
  EXPECT_EQ(again.commands_run, 0u);
  EXPECT_EQ(again.n_from_journal, 6u);

  // A changed prompt makes its K images again, and only those; the manifests follow.
  Dataset changed = d;
  changed.samples[1].prompt = "Moderate cardiomegaly.";
  const GenerationPlan plan2 = plan_generations(changed, po, errors);
  go.callbacks.started = [&](std::size_t n, std::size_t from_journal) {
    started_with = n;
    EXPECT_EQ(from_journal, 4u);
  };
  const GenerationRun third = generate_images(changed, plan2, out, go);
  EXPECT_EQ(started_with, 2u);
  EXPECT_EQ(third.commands_run, 1u);
  EXPECT_EQ(read_tag(out / "images/SyntheticImg_00000042_000_0.png"), "seed=639;prompt=Moderate cardiomegaly.");
  EXPECT_EQ(read_tag(out / "images/SyntheticImg_00000013_005_0.png"), "seed=639;prompt=Small left pleural effusion.");
  EXPECT_THAT(read_file_bytes(out / "generations.csv"), HasSubstr("Moderate cardiomegaly."));
  EXPECT_THAT(read_file_bytes(out / "generations.csv"), Not(HasSubstr("Mild cardiomegaly.")));

  // So does a changed seed.
  go.callbacks.started = [&](std::size_t n, std::size_t) { started_with = n; };
  GenerationPlanOptions po2;
  po2.seeds = {639, 26};
  const GenerationPlan plan3 = plan_generations(changed, po2, errors);
  const GenerationRun fourth = generate_images(changed, plan3, out, go);
  EXPECT_EQ(started_with, 3u);  // k = 1 of each of the three prompts
  EXPECT_EQ(fourth.n_from_journal, 3u);
  EXPECT_EQ(read_tag(out / "images/SyntheticImg_00000099_001_1.png"), "seed=26;prompt=No acute findings.");

  // Another generator's journal is not continued.
  go.backend = CommandBackend{std::get<CommandBackend>(go.backend).command_template, 4, "other-model"};
  EXPECT_THROW(generate_images(d, plan, out, go), UsageError);
}

TEST(GenerateCommand, JpegFilesAreDecodedAndSavedAsPngGrayWhenTheirChannelsAreEqual) {
  const fs::path dir = fresh_dir("jpeg");
  // Whatever the name says, the bytes decide: a gray JPEG and a colour JPEG written under the expected .png names.
  write_file_atomically(dir / "jpeg.py", R"(import json, os, sys
from PIL import Image
jobs, out = sys.argv[1], sys.argv[2]
for i, line in enumerate(open(jobs)):
    j = json.loads(line)
    im = Image.new("L", (16, 16), 128) if i == 0 else Image.new("RGB", (16, 16), (200, 30, 30))
    im.save(os.path.join(out, j["file_name"]), format="JPEG", quality=100)
)");
  const Dataset d = read_csv_manifest(dir,
                                      "path,annotated_prompt,chexpert_labels\n"
                                      "a.png,One.,{}\n"
                                      "b.png,Two.,{}\n");
  ErrorReport errors;
  const GenerationPlan plan = plan_generations(d, {}, errors);
  GenerationOptions go;
  go.size = {16, 16};
  go.backend =
      CommandBackend{"/usr/bin/python3 " + shell_quote((dir / "jpeg.py").string()) + " {jobs_file} {out_dir}", 8, ""};
  generate_images(d, plan, dir / "out", go);
  const std::string a = read_file_bytes(dir / "out/images/SyntheticImg_a.png");
  const std::string b = read_file_bytes(dir / "out/images/SyntheticImg_b.png");
  ASSERT_EQ(sniff_image_format({reinterpret_cast<const std::uint8_t*>(a.data()), a.size()}), ImageFormat::png);
  ASSERT_EQ(sniff_image_format({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()}), ImageFormat::png);
  // The IHDR colour type (byte 25 of a PNG): 0 gray, 2 RGB.
  EXPECT_EQ(a.at(25), 0);
  EXPECT_EQ(b.at(25), 2);
  const Image8 gray = read_image_u8(dir / "out/images/SyntheticImg_a.png", ColorMode::gray);
  for (const std::uint8_t v : gray.data) EXPECT_NEAR(v, 128, 1);
}

TEST(GenerateCommand, PromptsWithLineBreaksNeedTheJobsFile) {
  const fs::path dir = fresh_dir("linebreak");
  write_file_atomically(dir / "gen.py", kTaggingScript);
  const Dataset d = read_csv_manifest(dir,
                                      "path,annotated_prompt,chexpert_labels\n"
                                      "a.png,One.,{}\n"
                                      "b.png,\"Findings: none.\nImpression: normal.\",{}\n"
                                      // Python's splitlines() splits at U+2028 and \v too (issue 18)
                                      "c.png,Left\xe2\x80\xa8" "effusion.,{}\n"
                                      "d.png,Right\veffusion.,{}\n");
  ErrorReport errors;
  const GenerationPlan plan = plan_generations(d, {}, errors);
  GenerationOptions go;
  go.size = {16, 16};
  go.backend = CommandBackend{"cat {prompts_file} > /dev/null; /usr/bin/python3 " +
                                  shell_quote((dir / "gen.py").string()) + " {jobs_file} {out_dir} {width} {height}",
                              8, ""};
  try {
    generate_images(d, plan, dir / "out", go);
    FAIL() << "a prompt with a line break went into prompts.txt";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().row, 3u);
    EXPECT_THAT(e.reason(), HasSubstr("line break"));
    EXPECT_THAT(e.reason(), HasSubstr("(and 2 more prompts with line breaks)"));
  }
  // Reading only the JSON Lines file, the same prompt is fine.
  go.backend = CommandBackend{
      "/usr/bin/python3 " + shell_quote((dir / "gen.py").string()) + " {jobs_file} {out_dir} {width} {height}", 8, ""};
  generate_images(d, plan, dir / "out", go);
  EXPECT_EQ(read_tag(dir / "out/images/SyntheticImg_b.png"), "seed=0;prompt=Findings: none.\nImpression: normal.");
}

}  // namespace
}  // namespace chexgen
