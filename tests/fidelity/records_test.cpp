// The mapping from a metrics::FidelityReport to result records, shared by chexgen metrics and the fidelity suite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/fidelity/records.h"

namespace chexgen::fidelity {
namespace {

using results::Metric;
using S = metrics::FidelityScalar;

metrics::FidelityReport report() {
  metrics::FidelityReport r;
  r.values.fid = 12.5;
  metrics::KidResult kid;
  kid.mean = 0.25;
  kid.std = 0.125;
  kid.subset_size = 40;
  kid.subset_mmd2 = {0.1, 0.4};
  r.values.kid = kid;
  metrics::PrdcResult p;
  p.k = 5;
  p.precision = 0.75;
  p.recall = 0.5;
  p.density = 1.25;
  p.coverage = 0.25;
  p.precision_fakes = 30;
  p.recall_reals = 20;
  p.density_memberships = 250;
  p.coverage_reals = 10;
  r.values.prdc = p;
  r.values.real_is = metrics::InceptionScoreResult{3.0, 0.5, {2.5, 3.5}};
  r.intervals[S::fid] = {11.0, 14.0};
  r.intervals[S::kid_mean] = {0.2, 0.3};
  r.intervals[S::real_is_mean] = {2.0, 4.0};
  return r;
}

TEST(FidelityRecords, EveryComputedMetricKeyedByItsSpaceWithIntervalAndDetails) {
  const auto records = fidelity_records(report(), "RadDino", "Inception", "Inception logits");
  ASSERT_EQ(records.size(), 7u);
  std::vector<std::string> titles;
  for (const auto& r : records) titles.push_back(results::column_title(r.key));
  EXPECT_THAT(titles, ::testing::ElementsAre("FID (RadDino)", "KID (RadDino)", "Precision", "Recall", "Density",
                                             "Coverage", "Inception Score"));
  EXPECT_EQ(records[0].value, 12.5);
  EXPECT_EQ(records[0].interval->low, 11.0);
  EXPECT_EQ(records[1].details["std"], 0.125);
  EXPECT_EQ(records[1].details["subset_size"], 40);
  EXPECT_EQ(records[1].details["subsets"], 2);
  EXPECT_EQ(records[1].interval->high, 0.3);
  EXPECT_FALSE(records[2].interval);
  EXPECT_EQ(records[2].details["count"], 30);
  EXPECT_EQ(records[4].details["count"], 250);
  EXPECT_EQ(records[5].details["k"], 5);
  // Real logits only: the synthetic Inception Score is skipped, its null (the real set's) is kept beside it.
  const results::MetricRecord& is = records[6];
  EXPECT_FALSE(is.value);
  EXPECT_EQ(is.skipped, "no synthetic logits");
  EXPECT_EQ(is.details["real"]["value"], 3.0);
  EXPECT_EQ(is.details["real"]["interval"][1], 4.0);
  EXPECT_EQ(is.details["from"], "Inception logits");
}

TEST(FidelityRecords, NothingComputedNoRecords) {
  EXPECT_TRUE(fidelity_records(metrics::FidelityReport{}, "x", "y").empty());
}

}  // namespace
}  // namespace chexgen::fidelity
