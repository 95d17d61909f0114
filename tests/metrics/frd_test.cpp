// FRD against tests/golden/metrics/frd_golden.json (tests/fixtures/make_frd_golden.py: the frd_v1 steps in numpy
// and scipy), and numpy's legacy np.random.choice subsets.
#include <fstream>
#include <limits>

#include "chexgen/metrics/frd.h"
#include "chexgen/metrics/sampling.h"
#include "test_data.h"

namespace chexgen::testing {
namespace {

const nlohmann::json& frd_golden() {
  static const nlohmann::json j = [] {
    std::ifstream in(golden_path("frd_golden.json"));
    return nlohmann::json::parse(in);
  }();
  return j;
}

std::vector<std::string> names(std::size_t d) {
  std::vector<std::string> out;
  for (std::size_t j = 0; j < d; ++j) out.push_back("f" + std::to_string(j));
  return out;
}

TEST(Frd, MatchesTheFrdV1Steps) {
  for (const auto& [name, c] : frd_golden()["cases"].items()) {
    SCOPED_TRACE(name);
    const MatrixD real = load_f64("frd_" + name + "_real.npy");
    const MatrixD syn = load_f64("frd_" + name + "_synthetic.npy");
    metrics::FrdOptions options;
    options.match_sample_count = c["match_sample_count"];
    options.seed = c["seed"];
    options.paper_log = true;
    const auto cols = names(real.cols());
    const metrics::FrdResult r = metrics::compute_frd(real.view(), syn.view(), cols, options);
    EXPECT_TRUE(within(r.frechet_distance, c["frechet_distance"], 0, 1e-8));
    EXPECT_TRUE(within(r.frd, c["log_frechet_distance"], 1e-9, 1e-9));
    EXPECT_EQ(r.real_used, c["real_used"].get<std::size_t>());
    EXPECT_EQ(r.synthetic_used, c["synthetic_used"].get<std::size_t>());
    EXPECT_EQ(r.columns_used, c["columns_used"].get<std::size_t>());
    std::vector<std::string> dropped;
    for (int j : c["dropped_columns"]) dropped.push_back(cols[j]);
    EXPECT_EQ(r.dropped_columns, dropped);
    EXPECT_EQ(r.real_rows_with_nan, c["real_rows_with_nan"].get<std::vector<std::size_t>>());
    EXPECT_EQ(r.synthetic_rows_with_nan, c["synthetic_rows_with_nan"].get<std::vector<std::size_t>>());
    // The reference's float32 cast moves the result by far less than any difference worth reporting.
    EXPECT_TRUE(within(r.frd, c["frd_float32"], 1e-6, 1e-6));
    options.paper_log = false;
    EXPECT_EQ(metrics::compute_frd(real.view(), syn.view(), cols, options).frd, r.frechet_distance);
  }
}

TEST(Frd, RefusesTooFewRowsAndMismatchedColumns) {
  const MatrixD a(3, 2, std::vector<double>{1, 2, 3, 4, 5, 7});
  const MatrixD one(1, 2, std::vector<double>{1, 2});
  const MatrixD wide(3, 3, 1.0);
  const auto cols = names(2);
  EXPECT_THROW(metrics::compute_frd(a.view(), one.view(), cols), InputError);
  EXPECT_THROW(metrics::compute_frd(one.view(), a.view(), cols), InputError);
  EXPECT_THROW(metrics::compute_frd(a.view(), wide.view(), cols), InputError);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const MatrixD nans(3, 2, std::vector<double>{1, nan, nan, 4, 5, 7});
  EXPECT_THROW(metrics::compute_frd(nans.view(), a.view(), cols), InputError);  // one row left
}

TEST(NumpyLegacyChoice, MatchesNumpy) {
  for (const auto& c : frd_golden()["numpy_choice"]) {
    EXPECT_EQ(metrics::numpy_legacy_choice(c["seed"], c["n"], c["m"]), c["indices"].get<std::vector<std::size_t>>())
        << c.dump();
  }
}

}  // namespace
}  // namespace chexgen::testing
