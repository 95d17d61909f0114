// `chexgen metrics` on committed fixtures (tests/golden/metrics/cli_*.npy), checked against the
// numpy/scipy values of tests/fixtures/make_metrics_golden.py.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/results/results.h"
#include "support/scratch_dir.h"
#include "test_data.h"

namespace {

using chexgen::results::Metric;
using chexgen::testing::golden;
using chexgen::testing::golden_path;
using chexgen::testing::within;
using ::testing::HasSubstr;

struct CommandRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class MetricsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
  dir_ = chexgen::testing::make_scratch_dir("metrics-cli");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CommandRun run(const std::vector<std::string>& args) const {
    std::string cmd = quote(CHEXGEN_BINARY) + " --quiet";
    for (const auto& a : args) cmd += " " + quote(a);
    const std::string err_file = (dir_ / "stderr.txt").string();
    cmd += " 2>" + quote(err_file);
    CommandRun r;
    std::FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_file);
    r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return r;
  }

  std::string out_json() const { return (dir_ / "out.json").string(); }

  std::filesystem::path dir_;
};

TEST_F(MetricsCliTest, AllMetricsMatchTheReference) {
  const auto& g = golden()["cli"];
  const CommandRun r =
      run({"metrics", "--real", golden_path("cli_real.npy"), "--synthetic", golden_path("cli_synthetic.npy"),
           "--synthetic-logits", golden_path("cli_synthetic_logits.npy"), "--real-logits",
           golden_path("cli_real_logits.npy"), "--kid-subsets", "1", "--kid-subset-size", "60", "--k", "5", "--seed",
           "7", "--json", out_json()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The results layout of chexgen fidelity (docs/results.md), the features named by --space (default "features").
  const auto res = chexgen::results::read_results(out_json());
  EXPECT_EQ(res.evaluation, "metrics");
  EXPECT_EQ(res.overall.n_real, 60u);
  EXPECT_EQ(res.overall.n_synthetic, 60u);
  EXPECT_EQ(res.provenance["dim"], 8);
  EXPECT_EQ(res.provenance["dtype"], "float32");
  EXPECT_EQ(res.provenance["options"]["seed"], 7);
  EXPECT_EQ(res.provenance["options"]["k"], 5);
  EXPECT_EQ(res.provenance["options"]["kid_subsets"], 1);
  const auto record = [&](Metric m) {
    const auto* r = res.overall.find({m, "features"});
    EXPECT_NE(r, nullptr) << chexgen::results::info(m).id;
    return r ? *r : chexgen::results::MetricRecord{};
  };
  // float32 features, accumulated in double: double rounding only.
  EXPECT_TRUE(within(*record(Metric::fid).value, g["fid"].get<double>(), 1e-9, 1e-9));
  // One subset of all 60 rows = the full-sample MMD²; float32 Gram (SGEMM) for float32 features.
  const auto kid = record(Metric::kid);
  EXPECT_TRUE(within(*kid.value, g["kid_full_sample"].get<double>(), 1e-5, 1e-5));
  EXPECT_EQ(kid.details["std"].get<double>(), 0.0);
  EXPECT_EQ(kid.details["subset_size"], 60);
  // PRDC: counts over 60 points, exact fractions.
  for (const Metric m : {Metric::precision, Metric::recall, Metric::density, Metric::coverage}) {
    const std::string key(chexgen::results::info(m).id);
    EXPECT_TRUE(within(*record(m).value, g[key].get<double>(), 1e-12, 0.0)) << key;
    EXPECT_EQ(record(m).details["k"], 5);
  }
  const auto is = record(Metric::inception_score);
  EXPECT_TRUE(within(*is.value, g["is_mean"].get<double>(), 1e-12, 1e-10));
  EXPECT_TRUE(within(is.details["std"].get<double>(), g["is_std"].get<double>(), 1e-12, 1e-10));
  EXPECT_TRUE(within(is.details["real"]["value"].get<double>(), g["real_is_mean"].get<double>(), 1e-12, 1e-10));
  EXPECT_TRUE(within(is.details["real"]["std"].get<double>(), g["real_is_std"].get<double>(), 1e-12, 1e-10));
  EXPECT_FALSE(record(Metric::fid).interval);
  EXPECT_THAT(r.out, HasSubstr("FID"));
  EXPECT_THAT(r.out, HasSubstr("precision"));
  EXPECT_THAT(r.out, HasSubstr("wrote " + out_json()));
}

TEST_F(MetricsCliTest, BootstrapAddsIntervals) {
  const CommandRun r = run({"metrics", "--real", golden_path("cli_real.npy"), "--synthetic",
                            golden_path("cli_synthetic.npy"), "--metrics", "fid,kid,prdc", "--kid-subsets", "2",
                            "--kid-subset-size", "20", "--bootstrap", "4", "--space", "RadDino", "--json", out_json()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto res = chexgen::results::read_results(out_json());
  ASSERT_EQ(res.overall.records.size(), 6u);  // FID, KID, PRDC: no Inception Score without logits
  for (const auto& r : res.overall.records) {
    ASSERT_TRUE(r.interval) << chexgen::results::column_title(r.key);
    EXPECT_LE(r.interval->low, r.interval->high) << chexgen::results::column_title(r.key);
    EXPECT_EQ(r.key.space, "RadDino");
  }
  EXPECT_EQ(res.provenance["bootstrap_resamples"], 4);
  EXPECT_EQ(res.provenance["options"]["bootstrap"], 4);
}

TEST_F(MetricsCliTest, BadInputsAreClearErrors) {
  // Dimension mismatch (8 vs 10 columns): exit code 3 (bad input), the file named.
  CommandRun r = run({"metrics", "--real", golden_path("cli_real.npy"), "--synthetic",
                      golden_path("cli_synthetic_logits.npy"), "--metrics", "fid", "--json", out_json()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("cli_synthetic_logits.npy"));
  EXPECT_THAT(r.err, HasSubstr("feature dimension 10 does not match"));
  EXPECT_FALSE(std::filesystem::exists(out_json()));

  r = run({"metrics", "--real", golden_path("bad_1d.npy"), "--synthetic", golden_path("cli_synthetic.npy"), "--json",
           out_json()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("bad_1d.npy"));

  // Explicit "is" without logits, and an unknown metric: usage errors (exit code 2).
  r = run({"metrics", "--real", golden_path("cli_real.npy"), "--synthetic", golden_path("cli_synthetic.npy"),
           "--metrics", "is", "--json", out_json()});
  EXPECT_EQ(r.exit_code, 2);
  r = run({"metrics", "--real", golden_path("cli_real.npy"), "--synthetic", golden_path("cli_synthetic.npy"),
           "--metrics", "fid,xyz", "--json", out_json()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown metric 'xyz'"));
  // k >= N is an error, not a number.
  r = run({"metrics", "--real", golden_path("cli_real.npy"), "--synthetic", golden_path("cli_synthetic.npy"),
           "--metrics", "prdc", "--k", "60", "--json", out_json()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // A KID subset larger than the sets.
  r = run({"metrics", "--real", golden_path("cli_real.npy"), "--synthetic", golden_path("cli_synthetic.npy"),
           "--metrics", "kid", "--kid-subset-size", "61", "--json", out_json()});
  EXPECT_EQ(r.exit_code, 2);
  // --json is required.
  r = run({"metrics", "--real", golden_path("cli_real.npy"), "--synthetic", golden_path("cli_synthetic.npy")});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
