// The one table of metric kinds: consistent, and CheXGenBench's column names printed from keys.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "chexgen/results/metric.h"

namespace chexgen::results {
namespace {

TEST(MetricTable, EveryKindOnceInEnumOrderWithAUniqueId) {
  std::set<std::string_view> ids, titles;
  for (std::size_t i = 0; i < metric_table().size(); ++i) {
    const MetricInfo& m = metric_table()[i];
    EXPECT_EQ(static_cast<std::size_t>(m.metric), i) << m.id;
    EXPECT_EQ(&info(m.metric), &m);
    EXPECT_TRUE(ids.insert(m.id).second) << m.id;
    EXPECT_TRUE(titles.insert(m.title).second) << m.title;
    EXPECT_EQ(metric_by_id(m.id), m.metric);
    EXPECT_FALSE(m.default_space.empty()) << m.id;
    EXPECT_FALSE(m.needs.empty()) << m.id;
  }
  EXPECT_EQ(metric_by_id("FID"), std::nullopt);  // ids, not titles
  EXPECT_EQ(metric_by_id(""), std::nullopt);
}

TEST(MetricTable, BetterDirections) {
  for (Metric m : {Metric::frd, Metric::fid, Metric::kid, Metric::copy_rate, Metric::nndr_rate, Metric::reid_mean,
                   Metric::reid_max, Metric::reid_count, Metric::reid_rate})
    EXPECT_EQ(info(m).better, Better::lower) << info(m).id;
  // Privacy: a generation far from its prompt's training image copies less.
  for (Metric m : {Metric::inception_score, Metric::precision, Metric::recall, Metric::density, Metric::coverage,
                   Metric::alignment, Metric::pixel_distance, Metric::latent_distance, Metric::utility_auroc,
                   Metric::utility_average_precision, Metric::utility_f1, Metric::prompt_agreement})
    EXPECT_EQ(info(m).better, Better::higher) << info(m).id;
  // An AUC of 0.5 says nothing of membership; a C_T of 0 neither copies nor underfits: both sides are worse.
  EXPECT_EQ(info(Metric::membership_auc).better, Better::nearer);
  EXPECT_EQ(info(Metric::membership_auc).ideal, 0.5);
  EXPECT_EQ(info(Metric::data_copying).better, Better::nearer);
  EXPECT_EQ(info(Metric::data_copying).ideal, 0.0);
  EXPECT_EQ(rank_key(info(Metric::membership_auc), 0.25), rank_key(info(Metric::membership_auc), 0.75));
  EXPECT_EQ(rank_key(info(Metric::fid), 2.0), 2.0);
  EXPECT_EQ(rank_key(info(Metric::coverage), 0.25), -0.25);
  EXPECT_EQ(better_text(info(Metric::membership_auc)), "nearer 0.5 is better");
  EXPECT_EQ(better_text(info(Metric::fid)), "lower is better");
}

// CheXGenBench's tables: image_generation_metrics.csv names the Inception metrics, PRDC on RadDino, the alignment
// score and FRD by the bare title.
TEST(ColumnTitle, BareInTheMetricsDefaultSpaceElseTheSpaceInParentheses) {
  EXPECT_EQ(column_title({Metric::fid, "Inception"}), "FID");
  EXPECT_EQ(column_title({Metric::fid, "RadDino"}), "FID (RadDino)");
  EXPECT_EQ(column_title({Metric::kid, "Radiomics"}), "KID (Radiomics)");
  EXPECT_EQ(column_title({Metric::inception_score, "Inception"}), "Inception Score");
  EXPECT_EQ(column_title({Metric::precision, "RadDino"}), "Precision");
  EXPECT_EQ(column_title({Metric::coverage, "Inception"}), "Coverage (Inception)");
  EXPECT_EQ(column_title({Metric::alignment, "BioViL-T"}), "Alignment_score");
  EXPECT_EQ(column_title({Metric::frd, "Radiomics"}), "FRD");
  EXPECT_EQ(column_title({Metric::fid, "my model"}), "FID (my model)");
  // The paper's privacy aggregates.
  EXPECT_EQ(column_title({Metric::pixel_distance, "Pixels"}), "Avg pixel distance");
  EXPECT_EQ(column_title({Metric::latent_distance, "RadDino"}), "Avg latent distance");
  EXPECT_EQ(column_title({Metric::copy_rate, "RadDino"}), "Copy rate (RadDino)");
  EXPECT_EQ(column_title({Metric::reid_mean, "Re-ID"}), "Avg Re-ID");
  EXPECT_EQ(column_title({Metric::reid_count, "Re-ID"}), "Count Re-ID > δ");
}

TEST(ColumnTitle, LeaderboardOrderIsKindThenDefaultSpaceThenTitle) {
  const MetricKey frd{Metric::frd, "Radiomics"}, fid{Metric::fid, "Inception"}, fid_rad{Metric::fid, "RadDino"},
      fid_a{Metric::fid, "A model"}, kid{Metric::kid, "Inception"};
  EXPECT_TRUE(leaderboard_before(frd, fid));
  EXPECT_TRUE(leaderboard_before(fid, fid_a));
  EXPECT_TRUE(leaderboard_before(fid_a, fid_rad));
  EXPECT_TRUE(leaderboard_before(fid_rad, kid));
  EXPECT_FALSE(leaderboard_before(fid, fid));
}

}  // namespace
}  // namespace chexgen::results
