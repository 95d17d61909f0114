// Privacy measures against numpy/scipy (tests/fixtures/make_privacy_golden.py): CheXGenBench's pixel distance to the
// last bit (its uint8 wrap included) and the corrected one, the latent distance, nearest neighbours by cosine with
// their ranks and ties, Clopper-Pearson intervals, and the calibrated copy rate.
#include <fstream>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/metrics/privacy.h"
#include "test_data.h"

namespace chexgen::metrics {
namespace {

using testing::within;
using json = nlohmann::json;

const json& golden() {
  static const json g = [] {
    std::ifstream in(std::string(CHEXGEN_SOURCE_DIR) + "/tests/golden/privacy/privacy_golden.json");
    return json::parse(in);
  }();
  return g;
}

std::vector<std::uint8_t> bytes(const json& j) { return j.get<std::vector<std::uint8_t>>(); }

MatrixD matrix(const json& rows) {
  MatrixD m(rows.size(), rows[0].size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) m(i, j) = rows[i][j].get<double>();
  return m;
}

TEST(PrivacyReference, PixelDistancesAreCheXGenBenchsBitForBitAndTheCorrectedOnes) {
  for (const auto& p : golden()["pixels"]) {
    const auto a = bytes(p["a"]), b = bytes(p["b"]);
    // Integer squares summed exactly: the same bits as numpy's dot product, on any BLAS kernel.
    EXPECT_EQ(chexgenbench_pixel_distance(a, b), p["chexgenbench"].get<double>()) << a.size();
    EXPECT_EQ(pixel_rms_distance(a, b), p["corrected"].get<double>()) << a.size();
  }
  const auto& first = golden()["pixels"][0];  // (10, 200) against (20, 190)
  EXPECT_NEAR(chexgenbench_pixel_distance(bytes(first["a"]), bytes(first["b"])), 174.0919, 1e-4);
  EXPECT_EQ(pixel_rms_distance(bytes(first["a"]), bytes(first["b"])), 10.0);
  EXPECT_THROW(pixel_rms_distance(std::vector<std::uint8_t>(3), std::vector<std::uint8_t>(4)), std::invalid_argument);
}

TEST(PrivacyReference, LatentDistance) {
  const auto& l = golden()["latent"];
  const auto a = l["a"].get<std::vector<double>>(), b = l["b"].get<std::vector<double>>();
  EXPECT_TRUE(within(latent_distance(a, b), l["distance"].get<double>(), 0, 1e-14));
}

TEST(PrivacyReference, NearestByCosineRanksAndTiesAsNumpy) {
  const auto& c = golden()["cosine"];
  const MatrixD q = matrix(c["queries"]), r = matrix(c["reference"]);
  const std::size_t k = c["k"];
  for (const DistanceTiling tiling : {DistanceTiling{}, DistanceTiling{3, 4, 1}, DistanceTiling{5, 7, 3}}) {
    const CosineNeighbours n = nearest_by_cosine(q.view(), r.view(), k, tiling);
    for (std::size_t i = 0; i < q.rows(); ++i)
      for (std::size_t j = 0; j < k; ++j) {
        EXPECT_EQ(n.index[i * k + j], c["index"][i][j].get<std::size_t>()) << i << "," << j;
        EXPECT_TRUE(within(n.similarity[i * k + j], c["similarity"][i][j].get<double>(), 1e-12, 0)) << i << "," << j;
      }
  }
  MatrixD zero = q;
  for (std::size_t j = 0; j < zero.cols(); ++j) zero(4, j) = 0;
  try {
    nearest_by_cosine(zero.view(), r.view(), 1, {}, "generations", "training");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("generations:5: a feature vector of length 0"));
  }
}

TEST(PrivacyReference, ClopperPearsonIsScipysBetaPpf) {
  for (const auto& c : golden()["clopper_pearson"]) {
    const Interval i = clopper_pearson(c["k"], c["n"], c["confidence"]);
    EXPECT_TRUE(within(i.low, c["interval"][0].get<double>(), 1e-14, 1e-11)) << c.dump();
    EXPECT_TRUE(within(i.high, c["interval"][1].get<double>(), 1e-14, 1e-11)) << c.dump();
  }
}

TEST(PrivacyReference, CalibratedCopyRate) {
  const auto& g = golden()["copy_rate"];
  const auto generated = g["generated"].get<std::vector<double>>();
  const auto calibration = g["calibration"].get<std::vector<double>>();
  const auto null = g["null"].get<std::vector<double>>();
  const CopyRate c = calibrated_copy_rate(generated, calibration, null, g["quantile"]);
  EXPECT_TRUE(within(c.threshold, g["threshold"].get<double>(), 0, 1e-15));
  EXPECT_EQ(c.generated.above, g["generated_above"].get<std::size_t>());
  EXPECT_EQ(c.generated.n, generated.size());
  EXPECT_EQ(c.null.above, g["null_above"].get<std::size_t>());
  EXPECT_TRUE(within(c.generated.interval.low, g["generated_interval"][0].get<double>(), 1e-14, 1e-11));
  EXPECT_TRUE(within(c.generated.interval.high, g["generated_interval"][1].get<double>(), 1e-14, 1e-11));
  EXPECT_TRUE(within(c.null.interval.high, g["null_interval"][1].get<double>(), 1e-14, 1e-11));
  EXPECT_TRUE(within(c.excess, g["excess"].get<double>(), 1e-15, 0));
  EXPECT_EQ(c.exchangeable.low, g["exchangeable"][0].get<double>());
  EXPECT_EQ(c.exchangeable.high, g["exchangeable"][1].get<double>());
  for (const char* key : {"median_generated", "p95_generated", "median_null", "p95_null"}) {
    const double ours = std::string(key) == "median_generated" ? c.median_generated
                        : std::string(key) == "p95_generated"  ? c.p95_generated
                        : std::string(key) == "median_null"    ? c.median_null
                                                               : c.p95_null;
    EXPECT_TRUE(within(ours, g[key].get<double>(), 0, 1e-15)) << key;
  }
}

TEST(PrivacyReference, TiledDistanceIsTheLargestBlockRms) {
  const auto& g = golden()["tiled"];
  const auto a = bytes(g["a"]), b = bytes(g["b"]);
  const int w = g["width"], h = g["height"], c = g["channels"];
  EXPECT_TRUE(within(tiled_pixel_distance(a, b, w, h, c), g["distance"].get<double>(), 0, 1e-15));
  // One tile is the whole image's RMS; the local change stands out in the tiled distance only.
  EXPECT_TRUE(within(tiled_pixel_distance(a, b, w, h, c, 1), g["whole_image_rms"].get<double>(), 0, 1e-15));
  EXPECT_GT(g["distance"].get<double>(), 2 * g["whole_image_rms"].get<double>());
  EXPECT_EQ(tiled_pixel_distance(a, a, w, h, c), 0.0);
}

TEST(PrivacyReference, MembershipAucAndTprAtLowFprAreSklearns) {
  const auto& g = golden()["membership"];
  const auto members = g["members"].get<std::vector<double>>();
  const auto non_members = g["non_members"].get<std::vector<double>>();
  EXPECT_TRUE(within(roc_auc(members, non_members), g["auc"].get<double>(), 0, 1e-15));
  for (const auto& [fpr, tpr] : g["tpr_at_fpr"].items())
    EXPECT_EQ(tpr_at_fpr(members, non_members, std::stod(fpr)), tpr.get<double>()) << fpr;
  // Separated sets: AUC 1, every member found before any non-member; the reverse: 0.
  const std::vector<double> low{0, 1, 2}, high{3, 4};
  EXPECT_EQ(roc_auc(high, low), 1.0);
  EXPECT_EQ(roc_auc(low, high), 0.0);
  EXPECT_EQ(tpr_at_fpr(high, low, 0.0), 1.0);
  EXPECT_EQ(roc_auc(low, low), 0.5);
}

TEST(PrivacyReference, PatientAwareNndrSkipsTheNearestRowsPatient) {
  const auto& g = golden()["nndr"];
  const MatrixD ref = matrix(g["reference"]), queries = matrix(g["queries"]);
  const auto patients = g["patients"].get<std::vector<std::size_t>>();
  const auto expected = g["ratio"].get<std::vector<double>>();
  for (const std::size_t block : {4, 64}) {
    const DistanceTiling tiling{block, block, 2};
    const std::vector<double> ratio = patient_aware_nndr(queries.view(), ref.view(), patients, tiling);
    ASSERT_EQ(ratio.size(), expected.size());
    for (std::size_t i = 0; i < ratio.size(); ++i)
      EXPECT_TRUE(within(ratio[i], expected[i], 1e-12, 1e-10)) << i << ": " << ratio[i] << " vs " << expected[i];
  }
  EXPECT_EQ(expected[0], 0.0);  // the exact copy
}

}  // namespace
}  // namespace chexgen::metrics

namespace chexgen::metrics {
namespace {

// The full-scale search in float32 gives exactly the answers of the same (float) rows searched in double: the same
// neighbours, ties to the lower row, and the same canonical similarities; a bad row is named.
TEST(PrivacySearch, Float32GivesTheAnswersOfTheSameRowsInDouble) {
  std::mt19937 rng(12);
  std::normal_distribution<float> normal;
  MatrixF q(300, 16), r(1000, 16);
  for (std::size_t i = 0; i < q.values().size(); ++i) q.data()[i] = normal(rng);
  for (std::size_t i = 0; i < r.values().size(); ++i) r.data()[i] = normal(rng);
  for (std::size_t i = 0; i < 300; i += 7) {  // near copies, and exact duplicates in the reference (ties)
    for (std::size_t j = 0; j < 16; ++j) q(i, j) = r(3 * i, j) + 1e-4f * normal(rng);
    std::copy(r.row(3 * i), r.row(3 * i) + 16, r.row(3 * i + 1));
  }
  normalise_rows_in_place(q, "q");
  normalise_rows_in_place(r, "r");
  const DistanceTiling small{64, 128, 2};  // many tiles, two workers
  const CosineNeighbours f = nearest_unit_rows<float>(q.view(), r.view(), 3, small);
  MatrixD qd(300, 16), rd(1000, 16);
  std::copy(q.values().begin(), q.values().end(), qd.data());
  std::copy(r.values().begin(), r.values().end(), rd.data());
  const CosineNeighbours d = nearest_unit_rows<double>(qd.view(), rd.view(), 3);
  EXPECT_EQ(f.index, d.index);
  EXPECT_EQ(f.similarity, d.similarity);
  for (std::size_t i = 0; i < 300; i += 7) {
    EXPECT_EQ(f.best_index(i), 3 * i) << i;  // the lower of the two equal rows
    EXPECT_EQ(f.index[i * 3 + 1], 3 * i + 1) << i;
  }
  MatrixF bad(2, 3, {1, 2, 3, 0, 0, 0});
  try {
    normalise_rows_in_place(bad, "train.npy");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("train.npy"));
    EXPECT_EQ(e.where().row, 2u);
  }
}

}  // namespace
}  // namespace chexgen::metrics
