// Meehan et al.'s data-copying test against numpy/scipy/scikit-learn (tests/fixtures/make_data_copying_golden.py):
// C_T and each cell's Zu with given cells, the Mann-Whitney U with ties, PCA (up to each axis's sign) for tall and
// wide data, Lloyd's k-means from given centres; then the whole test on planted copies.
#include <cmath>
#include <fstream>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/metrics/data_copying.h"

namespace chexgen::metrics {
namespace {

using json = nlohmann::json;

const json& golden() {
  static const json g = [] {
    std::ifstream in(std::string(CHEXGEN_SOURCE_DIR) + "/tests/golden/privacy/data_copying_golden.json");
    return json::parse(in);
  }();
  return g;
}

MatrixD matrix(const json& rows) {
  MatrixD m(rows.size(), rows[0].size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) m(i, j) = rows[i][j].get<double>();
  return m;
}

std::vector<std::size_t> labels(const json& j) { return j.get<std::vector<std::size_t>>(); }

TEST(DataCopyingReference, CtAndEveryCellsZuAreMeehansFormula) {
  const json& g = golden()["c_t"];
  const MatrixD t = matrix(g["train"]), p = matrix(g["test"]), q = matrix(g["generated"]);
  const DataCopying d = data_copying(t.view(), labels(g["train_cells"]), p.view(), labels(g["test_cells"]), q.view(),
                                     labels(g["generated_cells"]), g["cells"].get<std::size_t>(),
                                     g["tau"].get<double>());
  ASSERT_TRUE(d.c_t);
  EXPECT_NEAR(*d.c_t, g["value"].get<double>(), 1e-12);
  EXPECT_LT(*d.c_t, -2);  // the cell of near copies pulls it far below 0
  ASSERT_EQ(d.cells.size(), g["zu"].size());
  for (std::size_t c = 0; c < d.cells.size(); ++c) {
    EXPECT_EQ(d.cells[c].counted, g["counted"][c].get<bool>()) << "cell " << c;
    if (g["zu"][c].is_null()) {
      EXPECT_FALSE(d.cells[c].zu) << "cell " << c;
    } else {
      ASSERT_TRUE(d.cells[c].zu) << "cell " << c;
      EXPECT_NEAR(*d.cells[c].zu, g["zu"][c].get<double>(), 1e-12) << "cell " << c;
    }
  }
  // A cell without test images cannot be tested: said, with the cell.
  std::vector<std::size_t> no_test_in_3 = labels(g["test_cells"]);
  for (auto& c : no_test_in_3)
    if (c == 3) c = 2;
  try {
    data_copying(t.view(), labels(g["train_cells"]), p.view(), no_test_in_3, q.view(), labels(g["generated_cells"]),
                 4, 0.1);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("cell 3 of 4"));
  }
}

TEST(DataCopyingReference, MannWhitneyUCountsTiesAsHalves) {
  const json& g = golden()["mann_whitney"];
  const auto x = g["x"].get<std::vector<double>>(), y = g["y"].get<std::vector<double>>();
  EXPECT_EQ(mann_whitney_u(x, y), g["u"].get<double>());
  EXPECT_EQ(mann_whitney_u(std::vector<double>{1, 2}, std::vector<double>{2, 0}), 2.5);
}

TEST(DataCopyingReference, PcaIsScikitLearnsUpToEachAxissSign) {
  for (const json& g : golden()["pca"]) {
    const MatrixD x = matrix(g["x"]), expected = matrix(g["projected"]);
    const Pca pca = fit_pca(x.view(), g["components"].get<std::size_t>());
    const auto variance = g["variance"].get<std::vector<double>>();
    ASSERT_EQ(pca.variance.size(), variance.size()) << g["name"];
    for (std::size_t c = 0; c < variance.size(); ++c)
      EXPECT_NEAR(pca.variance[c], variance[c], 1e-10 * variance[0]) << g["name"] << " component " << c;
    const MatrixD projected = pca.project(x.view());
    for (std::size_t c = 0; c < variance.size(); ++c) {
      const double sign = projected(0, c) * expected(0, c) < 0 ? -1.0 : 1.0;
      for (std::size_t i = 0; i < x.rows(); ++i)
        EXPECT_NEAR(sign * projected(i, c), expected(i, c), 1e-9) << g["name"] << " row " << i << " component " << c;
    }
  }
}

TEST(DataCopyingReference, LloydIsScikitLearnsFromTheSameCentres) {
  const json& g = golden()["kmeans"];
  const MatrixD x = matrix(g["x"]);
  const KMeans km = lloyd(x.view(), matrix(g["init"]));
  EXPECT_TRUE(km.converged);
  EXPECT_EQ(km.labels, labels(g["labels"]));
  const MatrixD centres = matrix(g["centres"]);
  for (std::size_t c = 0; c < centres.rows(); ++c)
    for (std::size_t j = 0; j < centres.cols(); ++j) EXPECT_NEAR(km.centres(c, j), centres(c, j), 1e-12);
}

// Seeded k-means++ is deterministic, finds three well-separated blobs whatever the seed, and gives every row its
// nearest centre.
TEST(DataCopying, KMeansPlusPlusFindsSeparatedBlobs) {
  std::mt19937 rng(4);
  std::normal_distribution<double> noise(0, 0.3);
  MatrixD x(90, 2);
  for (std::size_t i = 0; i < 90; ++i) {
    x(i, 0) = 10.0 * static_cast<double>(i % 3) + noise(rng);
    x(i, 1) = noise(rng);
  }
  for (std::uint64_t seed : {1, 2, 3}) {
    const KMeans a = fit_kmeans(x.view(), 3, seed), b = fit_kmeans(x.view(), 3, seed);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_TRUE(a.converged);
    for (std::size_t i = 3; i < 90; ++i) EXPECT_EQ(a.labels[i], a.labels[i % 3]) << "seed " << seed;
    EXPECT_EQ(nearest_centre(x.view(), a.centres.view()), a.labels);
  }
}

// The whole test: generations that are near copies of training rows give C_T far below 0, fresh draws from the same
// distribution give C_T near 0, and the null set (fresh draws) too; the cells keep at least min_test test rows.
TEST(DataCopying, PlantedCopiesDriveCtBelowZeroAndFreshDrawsKeepItNearZero) {
  std::mt19937 rng(8);
  std::normal_distribution<double> normal;
  const auto draw = [&](std::size_t n) {
    MatrixD m(n, 12);
    for (std::size_t i = 0; i < n * 12; ++i) m.data()[i] = normal(rng);
    return m;
  };
  const MatrixD train = draw(400), test = draw(200), fresh = draw(200), null = draw(150);
  MatrixD copies = draw(200);
  for (std::size_t i = 0; i < 100; ++i)
    for (std::size_t j = 0; j < 12; ++j) copies(i, j) = train(i, j) + 0.01 * normal(rng);
  const MatrixViewD null_view = null.view();
  DataCopyingOptions o;
  o.components = 8;
  const DataCopyingTest with_copies = data_copying_test(train.view(), test.view(), copies.view(), &null_view, o);
  const DataCopyingTest without = data_copying_test(train.view(), test.view(), fresh.view(), &null_view, o);
  EXPECT_EQ(with_copies.components, 8u);
  EXPECT_GT(with_copies.explained, 0.5);
  EXPECT_LT(with_copies.explained, 1.0);
  EXPECT_GT(with_copies.cells, 1u);
  for (const auto& c : with_copies.generated.cells) EXPECT_GE(c.test, o.min_test);
  ASSERT_TRUE(with_copies.generated.c_t && without.generated.c_t && without.null && without.null->c_t);
  // C_T averages the cells' Z: with half the generations copies, a cell of 20 test images and 20 generations has
  // U about n·m/4, Z about −2.7; the average of ~10 independent null cells has a standard deviation near 0.3.
  EXPECT_LT(*with_copies.generated.c_t, -2.5);
  EXPECT_LT(std::abs(*without.generated.c_t), 1.5);
  EXPECT_LT(std::abs(*without.null->c_t), 1.5);
  EXPECT_EQ(*with_copies.null->c_t, *without.null->c_t);  // the same cells and test sample
  // The training rows in another order: the same cells, the same C_T to the last bit.
  MatrixD reversed(train.rows(), train.cols());
  for (std::size_t i = 0; i < train.rows(); ++i)
    std::copy(train.row(i), train.row(i) + train.cols(), reversed.row(train.rows() - 1 - i));
  const DataCopyingTest again = data_copying_test(reversed.view(), test.view(), copies.view(), &null_view, o);
  EXPECT_EQ(again.cells, with_copies.cells);
  EXPECT_EQ(*again.generated.c_t, *with_copies.generated.c_t);

}

}  // namespace
}  // namespace chexgen::metrics
