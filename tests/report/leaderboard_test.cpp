// The leaderboard from records: columns in the leaderboard's order, rows ranked in the sort metric's better
// direction with shared ranks for ties, rows without the value last, the default column, the printed forms.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chexgen/core/error.h"
#include "chexgen/report/leaderboard.h"

namespace chexgen::report {
namespace {

using results::Metric;
using results::MetricKey;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

results::Results run(const std::string& name, std::vector<std::pair<MetricKey, std::optional<double>>> values) {
  results::Results r;
  r.generator = name;
  r.overall.n_real = 10;
  r.overall.n_synthetic = 9;
  for (auto& [key, value] : values) {
    results::MetricRecord rec;
    rec.key = key;
    rec.value = value;
    if (!value) rec.skipped = "too few";
    r.overall.records.push_back(rec);
  }
  return r;
}

const MetricKey kFrd{Metric::frd, "Radiomics"}, kFid{Metric::fid, "Inception"}, kFidRad{Metric::fid, "RadDino"},
    kCoverage{Metric::coverage, "RadDino"};

std::vector<std::string> order(const Leaderboard& b) {
  std::vector<std::string> names;
  for (const auto& r : b.rows) names.push_back(r.generator + ":" + (r.rank ? std::to_string(*r.rank) : "-"));
  return names;
}

TEST(Leaderboard, ColumnsInLeaderboardOrderOnlyWhereSomeRowHasAValue) {
  const Leaderboard b = make_leaderboard(
      {run("a", {{kCoverage, 0.5}, {kFidRad, 3}, {kFid, 2}, {kFrd, std::nullopt}}), run("b", {{kFrd, std::nullopt}})});
  EXPECT_THAT(b.columns, ElementsAre(kFid, kFidRad, kCoverage));  // FRD: skipped everywhere
  ASSERT_TRUE(b.sorted_by);
  EXPECT_EQ(*b.sorted_by, kFid);  // not every row has FRD: the first FID column
}

// A generator's fidelity and privacy results are one row; a value replaces a skipped record of the same key; two
// values of one key cannot both be shown.
TEST(Leaderboard, ResultsOfOneGeneratorMakeOneRow) {
  const MetricKey copy{Metric::copy_rate, "Pixels"}, pixel{Metric::pixel_distance, "Pixels"};
  const Leaderboard b = make_leaderboard({run("a", {{kFrd, 3.0}, {copy, std::nullopt}}), run("b", {{kFrd, 1.0}}),
                                          run("a", {{copy, 0.25}, {pixel, std::nullopt}})});
  EXPECT_THAT(order(b), ElementsAre("b:1", "a:2"));
  EXPECT_THAT(b.columns, ElementsAre(kFrd, copy));
  EXPECT_EQ(b.rows[1].overall.value(copy), 0.25);
  EXPECT_EQ(b.rows[1].overall.value(kFrd), 3.0);
  EXPECT_NE(b.rows[1].overall.find(pixel), nullptr);
  try {
    make_leaderboard({run("a", {{kFrd, 3.0}}), run("a", {{kFrd, 2.0}})});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("two results give 'FRD' for the generator 'a'"));
  }
}

TEST(Leaderboard, LowerIsBetterTiesShareARankMissingValuesLast) {
  const Leaderboard b = make_leaderboard({run("a", {{kFrd, 3.0}}), run("b", {{kFrd, 1.0}}), run("c", {{kFid, 1}}),
                                          run("d", {{kFrd, 3.0}}), run("e", {{kFrd, -HUGE_VAL}})},
                                         "FRD");
  EXPECT_THAT(order(b), ElementsAre("e:1", "b:2", "a:3", "d:3", "c:-"));
}

TEST(Leaderboard, HigherIsBetterAndNanLast) {
  const Leaderboard b = make_leaderboard(
      {run("a", {{kCoverage, 0.2}}), run("b", {{kCoverage, std::nan("")}}), run("c", {{kCoverage, 0.9}})}, "Coverage");
  EXPECT_THAT(order(b), ElementsAre("c:1", "a:2", "b:3"));
}

// Membership AUC: nearer 0.5 is better, 0.375 and 0.625 tie; the header says so.
TEST(Leaderboard, NearerTheIdealIsBetterBothSidesTie) {
  const MetricKey auc{Metric::membership_auc, "Pixels"};
  const Leaderboard b = make_leaderboard({run("copier", {{auc, 0.95}}), run("a", {{auc, 0.375}}),
                                          run("b", {{auc, 0.52}}), run("c", {{auc, 0.625}}), run("d", {{auc, 0.0}})},
                                         "Membership AUC");
  EXPECT_THAT(order(b), ElementsAre("b:1", "a:2", "c:2", "copier:4", "d:5"));
  EXPECT_THAT(leaderboard_text(b), HasSubstr("sorted by Membership AUC (nearer 0.5 is better)"));
}

TEST(Leaderboard, FrdByDefaultWhenEveryRowHasIt) {
  const Leaderboard b = make_leaderboard({run("a", {{kFid, 1}, {kFrd, 5}}), run("b", {{kFid, 2}, {kFrd, 4}})});
  EXPECT_EQ(*b.sorted_by, kFrd);
  EXPECT_THAT(order(b), ElementsAre("b:1", "a:2"));
}

TEST(Leaderboard, AnUnknownSortColumnListsTheColumns) {
  try {
    make_leaderboard({run("a", {{kFid, 1}, {kFrd, 5}})}, "FID (RadDino)");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--sort: no metric column 'FID (RadDino)' in the results (columns: 'FRD', 'FID')"));
  }
}

TEST(Leaderboard, TextIsAlignedAndCsvIsFullPrecision) {
  const Leaderboard b =
      make_leaderboard({run("held-out", {{kFrd, 2.123456789}, {kFid, 10}}), run("x", {{kFrd, -HUGE_VAL}})});
  EXPECT_EQ(leaderboard_text(b),
            "sorted by FRD (lower is better)\n"
            "rank  generator    FRD  FID  n_real  n_synthetic\n"
            "   1  x           -inf    -      10            9\n"
            "   2  held-out   2.123   10      10            9\n");
  EXPECT_THAT(leaderboard_csv(b), ElementsAre("rank,generator,FRD,FID,n_real,n_synthetic", "1,x,-inf,,10,9",
                                              "2,held-out,2.123456789,10,10,9"));
}

TEST(Leaderboard, WithoutMetricsRowsKeepTheirOrder) {
  const Leaderboard b = make_leaderboard({run("a", {}), run("b", {})});
  EXPECT_FALSE(b.sorted_by);
  EXPECT_THAT(order(b), ElementsAre("a:1", "b:2"));
  EXPECT_THAT(leaderboard_text(b), HasSubstr("no metric columns in the results; rows in the order given\n"));
}

}  // namespace
}  // namespace chexgen::report
