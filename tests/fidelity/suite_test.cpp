// The fidelity suite against an independent numpy/scipy restatement (tests/fixtures/make_fidelity_suite_golden.py):
// radiomic features z-scored with the real subset's statistics, FID, KID, PRDC and FRD overall and for one label
// under CheXGenBench's prompt rule; plus the table columns, skip reasons and prompt deduplication.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/features/npy.h"
#include "chexgen/fidelity/suite.h"

namespace chexgen::fidelity {
namespace {

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kGolden = fs::path(CHEXGEN_SOURCE_DIR) / "tests/golden/fidelity_suite";

struct Case {
  Dataset real, synthetic;
  nlohmann::json expected;
  MatrixD real_features, synthetic_features;
};

Case load_case(bool synthetic_labels = false) {
  Case c;
  std::ifstream in(kGolden / "case.json");
  const auto j = nlohmann::json::parse(in);
  c.expected = j;
  c.real.source = "real.csv";
  c.synthetic.source = "synthetic.csv";
  c.real.labels = LabelSet({"A", "B"});
  const auto value = [](int v) { return v ? LabelValue::positive : LabelValue::negative; };
  for (std::size_t i = 0; i < j["real_prompts"].size(); ++i) {
    Sample s;
    s.id = "r" + std::to_string(i);
    s.prompt = j["real_prompts"][i].get<std::string>();
    s.labels = {value(j["real_labels_A"][i]), value(j["real_labels_B"][i])};
    c.real.samples.push_back(s);
  }
  if (synthetic_labels) c.synthetic.labels = LabelSet({"A"});
  for (std::size_t i = 0; i < j["synthetic_prompts"].size(); ++i) {
    Sample s;
    s.id = "s" + std::to_string(i);
    s.prompt = j["synthetic_prompts"][i].get<std::string>();
    if (synthetic_labels) s.labels = {i % 2 ? LabelValue::positive : LabelValue::negative};
    c.synthetic.samples.push_back(s);
  }
  c.real_features = features::read_npy(kGolden / "real.npy").to_f64();
  c.synthetic_features = features::read_npy(kGolden / "synthetic.npy").to_f64();
  return c;
}

SuiteInputs radiomics_inputs(const Case& c) {
  SuiteInputs in;
  in.real = &c.real;
  in.synthetic = &c.synthetic;
  for (std::size_t i = 0; i < c.real.samples.size(); ++i) in.real_samples.push_back(i);
  for (std::size_t i = 0; i < c.synthetic.samples.size(); ++i) in.synthetic_samples.push_back(i);
  FeatureBlock b;
  b.space = "Radiomics";
  b.radiomic = true;
  b.real = c.real_features;
  b.synthetic = c.synthetic_features;
  in.blocks.push_back(b);
  in.prdc_block = 0;
  in.frd = b;
  for (int k = 0; k < 6; ++k) in.frd_columns.push_back("f" + std::to_string(k));
  return in;
}

using results::Metric;
using results::MetricKey;

// The golden file names each value by CheXGenBench's column title.
std::optional<double> value_titled(const results::Comparison& r, const std::string& title) {
  for (const auto& rec : r.records)
    if (results::column_title(rec.key) == title) return rec.value;
  return std::nullopt;
}

std::vector<std::string> titles(const std::vector<MetricKey>& keys) {
  std::vector<std::string> t;
  for (const auto& k : keys) t.push_back(results::column_title(k));
  return t;
}

void expect_values(const results::Comparison& r, const nlohmann::json& expected) {
  for (const auto& [column, value] : expected.items()) {
    if (column.starts_with("n_")) continue;
    const auto ours = value_titled(r, column);
    ASSERT_TRUE(ours) << column;
    const double ref = value.get<double>();
    EXPECT_NEAR(*ours, ref, 1e-9 * std::max(1.0, std::abs(ref))) << column;
  }
}

TEST(FidelitySuite, RadiomicMetricsMatchNumpyOverallAndForALabel) {
  const Case c = load_case();
  const SuiteInputs in = radiomics_inputs(c);
  SuiteOptions o;
  o.conditional = true;
  const results::Results r = run_fidelity_suite(in, o);
  EXPECT_THAT(titles(r.columns),
              ElementsAre("FID (Radiomics)", "KID (Radiomics)", "Precision (Radiomics)", "Recall (Radiomics)",
                          "Density (Radiomics)", "Coverage (Radiomics)", "FRD"));
  expect_values(r.overall, c.expected["overall"]);
  EXPECT_EQ(r.overall.details["Radiomics"]["rows_with_nan_left_out"]["synthetic"], 1);
  EXPECT_EQ(r.overall.details["Radiomics"]["columns_left_out"], 1);  // the constant real column
  ASSERT_EQ(r.per_label.size(), 2u);
  const results::Comparison& a = r.per_label[0];
  EXPECT_EQ(a.label, "A");
  EXPECT_EQ(a.n_real, c.expected["A"]["n_real"].get<std::size_t>());
  EXPECT_EQ(a.n_synthetic, c.expected["A"]["n_synthetic"].get<std::size_t>());
  EXPECT_THAT(a.synthetic_rule, HasSubstr("prompt is one of the real subset's prompts"));
  nlohmann::json a_expected = c.expected["A"];
  expect_values(a, a_expected);
  EXPECT_TRUE(a.value({Metric::kid, "Radiomics"}));  // computed, on random subsets (not pinned)
}

TEST(FidelitySuite, SyntheticLabelsChooseTheSyntheticSubsetWhenPresent) {
  const Case c = load_case(true);
  SuiteOptions o;
  o.conditional = true;
  const results::Results r = run_fidelity_suite(radiomics_inputs(c), o);
  EXPECT_EQ(r.per_label[0].n_synthetic, 20u);  // the odd rows are labelled A
  EXPECT_THAT(r.per_label[0].synthetic_rule, HasSubstr("labelled positive"));
  // B is not a synthetic label: the prompt rule again.
  EXPECT_THAT(r.per_label[1].synthetic_rule, HasSubstr("prompt"));
}

TEST(FidelitySuite, SmallSubsetsAreSkippedWithTheReasonAndTheOverallSetMustSuffice) {
  Case c = load_case();
  // Only two real rows positive for B: PRDC (k = 5) is skipped there, FID and FRD still run.
  for (std::size_t i = 0; i < c.real.samples.size(); ++i)
    c.real.samples[i].labels[1] = i < 2 ? LabelValue::positive : LabelValue::negative;
  SuiteOptions o;
  o.conditional = true;
  results::Results r = run_fidelity_suite(radiomics_inputs(c), o);
  r.generator = "model x";
  const results::Comparison& b = r.per_label[1];
  EXPECT_EQ(b.n_real, 2u);
  const results::MetricRecord* precision = b.find({Metric::precision, "Radiomics"});
  ASSERT_NE(precision, nullptr);
  EXPECT_FALSE(precision->value);
  EXPECT_THAT(precision->skipped, HasSubstr("PRDC with k = 5 needs more than 5 of each"));
  EXPECT_TRUE(b.value({Metric::fid, "Radiomics"}));
  EXPECT_THAT(overall_table_csv(r),
              HasSubstr("FID (Radiomics),KID (Radiomics),Precision (Radiomics),Recall (Radiomics),"
                        "Density (Radiomics),Coverage (Radiomics),FRD,Extra Info\n"));
  const std::string cond = conditional_table_csv(r);
  EXPECT_THAT(cond, HasSubstr(",Extra Info,Pathology\n"));
  EXPECT_THAT(cond, ContainsRegex(",,,,,[0-9.]+,model x,B\n"));  // KID, four empty PRDC cells, FRD
  // Overall, a set too small is an error, not a skip.
  SuiteInputs tiny = radiomics_inputs(c);
  tiny.real_samples = {0, 1, 2};
  tiny.blocks[0].real = MatrixD(3, 6, 1.0);
  tiny.frd->real = tiny.blocks[0].real;
  EXPECT_THROW(run_fidelity_suite(tiny, SuiteOptions{}), InputError);
}

TEST(FidelitySuite, ColumnsFollowCheXGenBenchsOrder) {
  const Case c = load_case();
  SuiteInputs in = radiomics_inputs(c);
  FeatureBlock inception, raddino;
  inception.space = "Inception";
  raddino.space = "RadDino";
  in.blocks = {inception, raddino};
  in.prdc_block = 1;
  in.synthetic_logits = MatrixD(41, 3);
  in.alignment = std::vector<double>(41, 0.5);
  EXPECT_THAT(titles(suite_columns(in)),
              ElementsAre("FID", "FID (RadDino)", "Inception Score", "KID", "KID (RadDino)", "Precision", "Recall",
                          "Density", "Coverage", "Alignment_score", "FRD"));
}

TEST(FidelitySuite, DeduplicationKeepsTheFirstRowOfEachPrompt) {
  const Case c = load_case();
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i < c.real.samples.size(); ++i) all.push_back(i);
  Dataset d = c.real;
  d.samples[39].prompt.reset();
  const Deduplication dd = deduplicate_by_prompt(d, all);
  // 40 rows, prompts "finding 0".."finding 29": rows 30..38 repeat rows 0..8; row 39 has no prompt.
  EXPECT_EQ(dd.duplicates, 9u);
  EXPECT_EQ(dd.without_prompt, 1u);
  EXPECT_EQ(dd.kept.size(), 31u);
  EXPECT_EQ(dd.kept.back(), 39u);
}

}  // namespace
}  // namespace chexgen::fidelity
