// Results as records: JSON round trip (infinity and NaN included), and every malformed file named with the place.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/results/results.h"

namespace chexgen::results {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

Results sample() {
  Results r;
  r.evaluation = "fidelity";
  r.generator = "blur-2";
  r.columns = {{Metric::fid, "Radiomics"}, {Metric::precision, "Radiomics"}, {Metric::frd, "Radiomics"}};
  r.overall.n_real = 80;
  r.overall.n_synthetic = 79;
  MetricRecord fid{{Metric::fid, "Radiomics"}, 12.5, "", metrics::Interval{11.0, 14.25}, {{"note", 1}}};
  MetricRecord frd{{Metric::frd, "Radiomics"}, -std::numeric_limits<double>::infinity(), "", std::nullopt, {}};
  r.overall.records = {fid, frd};
  r.overall.details = {{"Radiomics", {{"columns_used", 397}}}};
  Comparison a;
  a.label = "Atelectasis";
  a.synthetic_rule = "synthetic samples labelled positive";
  a.n_real = 3;
  a.n_synthetic = 2;
  a.records = {
      MetricRecord{{Metric::precision, "Radiomics"}, std::nullopt, "too few", std::nullopt, {}},
      MetricRecord{{Metric::fid, "Radiomics"}, std::numeric_limits<double>::quiet_NaN(), "", std::nullopt, {}}};
  r.per_label = {a};
  r.provenance = {{"chexgen_version", "chexgen 0.1.0"}, {"options", {{"seed", 42}}}};
  return r;
}

TEST(ResultsJson, RoundTripsEveryField) {
  const Results r = sample();
  const auto j = to_json(r);
  EXPECT_EQ(j["format"], "chexgen-results/1");
  EXPECT_EQ(j["options"]["seed"], 42);  // provenance at the top level
  EXPECT_EQ(j["overall"]["records"][0]["title"], "FID (Radiomics)");
  EXPECT_EQ(j["overall"]["records"][1]["value"], "-inf");
  EXPECT_EQ(j["per_label"][0]["records"][1]["value"], "nan");
  const Results back = results_from_json(json::parse(j.dump()), "r.json");
  EXPECT_EQ(back.evaluation, "fidelity");
  EXPECT_EQ(back.generator, "blur-2");
  EXPECT_EQ(back.columns, r.columns);
  EXPECT_EQ(back.overall.n_real, 80u);
  EXPECT_EQ(back.overall.n_synthetic, 79u);
  ASSERT_EQ(back.overall.records.size(), 2u);
  const MetricRecord* fid = back.overall.find({Metric::fid, "Radiomics"});
  ASSERT_NE(fid, nullptr);
  EXPECT_EQ(fid->value, 12.5);
  ASSERT_TRUE(fid->interval);
  EXPECT_EQ(fid->interval->low, 11.0);
  EXPECT_EQ(fid->interval->high, 14.25);
  EXPECT_EQ(fid->details["note"], 1);
  EXPECT_EQ(back.overall.value({Metric::frd, "Radiomics"}), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(back.overall.details["Radiomics"]["columns_used"], 397);
  ASSERT_EQ(back.per_label.size(), 1u);
  EXPECT_EQ(back.per_label[0].label, "Atelectasis");
  EXPECT_EQ(back.per_label[0].synthetic_rule, "synthetic samples labelled positive");
  const MetricRecord* p = back.per_label[0].find({Metric::precision, "Radiomics"});
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->value);
  EXPECT_EQ(p->skipped, "too few");
  EXPECT_TRUE(std::isnan(*back.per_label[0].value({Metric::fid, "Radiomics"})));
  EXPECT_EQ(back.provenance["chexgen_version"], "chexgen 0.1.0");
  EXPECT_FALSE(back.provenance.contains("overall"));
  EXPECT_EQ(to_json(back).dump(), j.dump());
}

TEST(ResultsJson, NonFiniteNumbersHaveOneRepresentation) {
  EXPECT_EQ(number_to_json(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(number_to_json(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(number_to_json(std::nan("")), "nan");
  EXPECT_EQ(number_to_json(-0.5), -0.5);
  EXPECT_EQ(number_from_json("inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(number_from_json(json(3)), 3.0);
  EXPECT_EQ(number_from_json("Infinity"), std::nullopt);
  EXPECT_EQ(number_from_json(json(nullptr)), std::nullopt);
}

std::string error_of(const json& j) {
  try {
    results_from_json(j, "bad.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ResultsJson, MalformedFilesAreNamedWithThePlace) {
  const json good = json::parse(to_json(sample()).dump());
  EXPECT_THAT(error_of(json::array()), HasSubstr("bad.json: not chexgen results: the top level is not a JSON object"));
  json j = good;
  j.erase("format");
  EXPECT_THAT(error_of(j), HasSubstr("bad.json: not chexgen results: \"format\": \"chexgen-results/1\" expected"));
  j = good;
  j["overall"]["records"][1]["metric"] = "sharpness";
  EXPECT_THAT(error_of(j), HasSubstr("bad.json: overall.records[1].metric: unknown metric 'sharpness'"));
  j = good;
  j["per_label"][0]["records"][0].erase("skipped");
  EXPECT_THAT(error_of(j), HasSubstr("per_label[0].records[0]: neither a value nor the reason it was skipped"));
  j = good;
  j["overall"]["records"][0]["value"] = "high";
  EXPECT_THAT(error_of(j), HasSubstr("overall.records[0].value: not a number"));
  j = good;
  j["overall"]["records"][0]["interval"] = {1};
  EXPECT_THAT(error_of(j), HasSubstr("overall.records[0].interval: not [low, high]"));
  j = good;
  j["overall"]["records"][1] = j["overall"]["records"][0];
  EXPECT_THAT(error_of(j), HasSubstr("overall.records[1]: a second record of FID (Radiomics)"));
  j = good;
  j["overall"].erase("n_real");
  EXPECT_THAT(error_of(j), HasSubstr("overall: no \"n_real\""));
  j = good;
  j["overall"]["n_synthetic"] = -1;
  EXPECT_THAT(error_of(j), HasSubstr("overall.n_synthetic: not a count"));
  j = good;
  j["columns"][0].erase("space");
  EXPECT_THAT(error_of(j), HasSubstr("columns[0]: no \"space\""));
}

TEST(ResultsFile, WrittenAndReadBackAFolderWithoutOneIsNamed) {
  const auto dir = std::filesystem::temp_directory_path() / ("chexgen-results-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "blur-2");
  Results r = sample();
  r.generator.clear();
  write_results(dir / "blur-2/results.json", r);
  EXPECT_EQ(read_results(dir / "blur-2").generator, "blur-2");  // no name: the folder's
  try {
    read_results(dir);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr((dir / "results.json").string() + ": no results.json in this folder"));
  }
  { std::ofstream(dir / "torn.json") << "{\"format\": "; }
  try {
    read_results(dir / "torn.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("torn.json: not valid JSON"));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chexgen::results
