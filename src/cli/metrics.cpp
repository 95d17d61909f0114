// chexgen metrics: FID, KID, precision/recall/density/coverage and the Inception Score of a synthetic
// feature set against a real one, from .npy feature (and logit) files (docs/metrics.md).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/version.h"
#include "chexgen/features/npy.h"
#include "chexgen/fidelity/records.h"
#include "chexgen/metrics/fidelity.h"
#include "chexgen/results/results.h"
#include "cli/commands.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {

struct MetricsArgs {
  std::string real_path;
  std::string synthetic_path;
  std::string real_logits_path;
  std::string synthetic_logits_path;
  std::vector<std::string> metrics;
  bool metrics_given = false;
  int k = 5;
  std::size_t kid_subsets = 100;
  std::size_t kid_subset_size = 0;  // 0 = min(1000, n_real, n_synthetic)
  std::uint64_t seed = 42;
  std::size_t bootstrap = 0;
  double confidence = 0.95;
  std::size_t is_splits = 10;
  std::string json_path;
  std::string space = "features";
};

using ojson = nlohmann::ordered_json;

metrics::FidelityOptions fidelity_options(const MetricsArgs& a, const GlobalOptions& global) {
  metrics::FidelityOptions o;
  o.fid = o.kid = o.prdc = o.inception_score = false;
  for (const std::string& m : a.metrics) {
    if (m == "fid") {
      o.fid = true;
    } else if (m == "kid") {
      o.kid = true;
    } else if (m == "prdc") {
      o.prdc = true;
    } else if (m == "is") {
      o.inception_score = true;
    } else {
      throw UsageError(fmt::format("--metrics: unknown metric '{}' (choose from fid, kid, prdc, is)", m));
    }
  }
  const bool have_logits = !a.real_logits_path.empty() || !a.synthetic_logits_path.empty();
  if (o.inception_score && !have_logits) {
    if (a.metrics_given) throw UsageError("--metrics is: give --synthetic-logits and/or --real-logits");
    o.inception_score = false;  // the default list includes "is" only for when logits are given
  }
  if (!o.fid && !o.kid && !o.prdc && !o.inception_score) throw UsageError("--metrics: no metric selected");
  if ((o.fid || o.kid || o.prdc) && (a.real_path.empty() || a.synthetic_path.empty())) {
    throw UsageError("FID, KID and PRDC need --real and --synthetic feature files");
  }
  o.seed = a.seed;
  o.kid_options.subsets = a.kid_subsets;
  o.kid_options.subset_size = a.kid_subset_size;
  o.prdc_options.k = a.k;
  o.prdc_options.threads = global.threads;
  o.is_options.splits = a.is_splits;
  o.bootstrap.resamples = a.bootstrap;
  o.bootstrap.confidence = a.confidence;
  o.show_progress = !global.quiet;
  return o;
}

std::string with_interval(const metrics::FidelityReport& r, metrics::FidelityScalar name, const std::string& value) {
  const auto it = r.intervals.find(name);
  if (it == r.intervals.end()) return value;
  return fmt::format("{} [{:.6g}, {:.6g}]", value, it->second.low, it->second.high);
}

void print_summary(const MetricsArgs& a, const metrics::FidelityReport& r, std::size_t n_real, std::size_t n_synthetic,
                   std::size_t dim) {
  const auto& v = r.values;
  fmt::print("chexgen metrics: {} real, {} synthetic, {} features, seed {}\n", n_real, n_synthetic, dim, a.seed);
  if (v.fid)
    fmt::print("  FID       {}\n", with_interval(r, metrics::FidelityScalar::fid, fmt::format("{:.6f}", *v.fid)));
  if (v.kid) {
    fmt::print("  KID       {} ± {:.6g} ({} subsets of {})\n",
               with_interval(r, metrics::FidelityScalar::kid_mean, fmt::format("{:.6g}", v.kid->mean)), v.kid->std,
               v.kid->subset_mmd2.size(), v.kid->subset_size);
  }
  if (v.prdc) {
    fmt::print("  precision {}\n  recall    {}\n  density   {}\n  coverage  {}   (k = {})\n",
               with_interval(r, metrics::FidelityScalar::precision, fmt::format("{:.4f}", v.prdc->precision)),
               with_interval(r, metrics::FidelityScalar::recall, fmt::format("{:.4f}", v.prdc->recall)),
               with_interval(r, metrics::FidelityScalar::density, fmt::format("{:.4f}", v.prdc->density)),
               with_interval(r, metrics::FidelityScalar::coverage, fmt::format("{:.4f}", v.prdc->coverage)), a.k);
  }
  if (v.synthetic_is) {
    fmt::print("  IS        {} ± {:.4f} (synthetic logits, {} splits)\n",
               with_interval(r, metrics::FidelityScalar::is_mean, fmt::format("{:.4f}", v.synthetic_is->mean)),
               v.synthetic_is->std, a.is_splits);
  }
  if (v.real_is) {
    fmt::print("  IS real   {} ± {:.4f} (real logits, {} splits)\n",
               with_interval(r, metrics::FidelityScalar::real_is_mean, fmt::format("{:.4f}", v.real_is->mean)),
               v.real_is->std, a.is_splits);
  }
  if (r.bootstrap_resamples > 0) {
    fmt::print("  [intervals: {:g} % bootstrap percentile, {} resamples]\n", 100.0 * a.confidence,
               r.bootstrap_resamples);
  }
  fmt::print("  wrote {}\n", a.json_path);
}

int run_metrics(const MetricsArgs& a, const GlobalOptions& global) {
  const metrics::FidelityOptions options = fidelity_options(a, global);
  const bool need_features = options.fid || options.kid || options.prdc;

  std::optional<features::NpyMatrix> real, synthetic;
  if (need_features) {
    real = features::read_npy(a.real_path);
    synthetic = features::read_npy(a.synthetic_path);
  }
  std::optional<MatrixD> real_logits, synthetic_logits;
  if (options.inception_score && !a.real_logits_path.empty())
    real_logits = features::read_npy(a.real_logits_path).to_f64();
  if (options.inception_score && !a.synthetic_logits_path.empty()) {
    synthetic_logits = features::read_npy(a.synthetic_logits_path).to_f64();
  }

  // float32 features stay float32 (memory-mapped); any float64 input makes both sets float64.
  const bool use_f32 = !need_features || (real->dtype() == features::NpyDtype::float32 &&
                                          synthetic->dtype() == features::NpyDtype::float32);
  metrics::FidelityReport report;
  auto fill = [&](auto& inputs) {
    inputs.real_source = a.real_path;
    inputs.synthetic_source = a.synthetic_path;
    inputs.real_logits_source = a.real_logits_path;
    inputs.synthetic_logits_source = a.synthetic_logits_path;
    if (real_logits) inputs.real_logits = real_logits->view();
    if (synthetic_logits) inputs.synthetic_logits = synthetic_logits->view();
  };
  if (use_f32) {
    metrics::FidelityInputs<float> inputs;
    if (need_features) {
      inputs.real = real->view_f32();
      inputs.synthetic = synthetic->view_f32();
    }
    fill(inputs);
    report = metrics::evaluate_fidelity(inputs, options);
  } else {
    const MatrixD real64 = real->to_f64();
    const MatrixD synthetic64 = synthetic->to_f64();
    metrics::FidelityInputs<double> inputs;
    inputs.real = real64.view();
    inputs.synthetic = synthetic64.view();
    fill(inputs);
    report = metrics::evaluate_fidelity(inputs, options);
  }

  const std::size_t n_real = need_features ? real->rows() : 0;
  const std::size_t n_synthetic = need_features ? synthetic->rows() : 0;
  const std::size_t dim = need_features ? real->cols() : 0;
  std::vector<std::string> selected;
  if (options.fid) selected.push_back("fid");
  if (options.kid) selected.push_back("kid");
  if (options.prdc) selected.push_back("prdc");
  if (options.inception_score) selected.push_back("is");

  results::Results out;
  out.evaluation = "metrics";
  out.generator = std::filesystem::path(need_features ? a.synthetic_path : a.synthetic_logits_path).stem().string();
  out.overall.n_real = n_real;
  out.overall.n_synthetic = n_synthetic;
  out.overall.records = fidelity::fidelity_records(report, a.space, a.space);
  for (const auto& r : out.overall.records) out.columns.push_back(r.key);
  auto path_or_null = [](const std::string& p) { return p.empty() ? ojson(nullptr) : ojson(p); };
  ojson& j = out.provenance;
  j["chexgen_version"] = version_string().substr(0, version_string().find('\n'));
  j["inputs"] = {{"real", path_or_null(a.real_path)},
                 {"synthetic", path_or_null(a.synthetic_path)},
                 {"real_logits", path_or_null(a.real_logits_path)},
                 {"synthetic_logits", path_or_null(a.synthetic_logits_path)}};
  j["dim"] = dim;
  j["dtype"] = use_f32 ? "float32" : "float64";
  j["options"] = ojson{{"metrics", selected},
                       {"seed", a.seed},
                       {"k", a.k},
                       {"kid_subsets", a.kid_subsets},
                       {"kid_subset_size", a.kid_subset_size},
                       {"kid_degree", options.kid_options.kernel.degree},
                       {"kid_coef0", options.kid_options.kernel.coef0},
                       {"is_splits", a.is_splits},
                       {"bootstrap", a.bootstrap},
                       {"confidence", a.confidence},
                       {"threads", global.threads}};
  if (report.bootstrap_resamples > 0) j["bootstrap_resamples"] = report.bootstrap_resamples;
  j["seconds"] = report.seconds;
  results::write_results(a.json_path, out);
  print_summary(a, report, n_real, n_synthetic, dim);
  return 0;
}

}  // namespace

void add_metrics_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<MetricsArgs>();
  CLI::App* cmd = app.add_subcommand("metrics",
                                     "FID, KID, precision/recall/density/coverage and Inception Score "
                                     "from .npy feature files (docs/metrics.md)");
  cmd->add_option("--real", args->real_path, "Real features: .npy, n x d, float32 or float64");
  cmd->add_option("--synthetic", args->synthetic_path, "Synthetic features: .npy, m x d");
  cmd->add_option("--real-logits", args->real_logits_path, "Classifier logits of the real images (.npy, n x classes)");
  cmd->add_option("--synthetic-logits", args->synthetic_logits_path,
                  "Classifier logits of the synthetic images (.npy, m x classes)");
  auto* metrics_opt = cmd->add_option("--metrics", args->metrics, "Comma-separated subset of fid,kid,prdc,is")
                          ->delimiter(',')
                          ->default_val(std::vector<std::string>{"fid", "kid", "prdc", "is"});
  cmd->add_option("--k", args->k, "PRDC: nearest neighbour k")->default_val(5)->check(CLI::PositiveNumber);
  cmd->add_option("--kid-subsets", args->kid_subsets, "KID: number of subsets")
      ->default_val(100)
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--kid-subset-size", args->kid_subset_size,
                  "KID: rows per subset (default min(1000, n_real, n_synthetic))");
  cmd->add_option("--seed", args->seed, "Seed of KID subsets and bootstrap resamples")->default_val(42);
  cmd->add_option("--bootstrap", args->bootstrap, "Bootstrap resamples for percentile intervals (0 = none)")
      ->default_val(0)
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--confidence", args->confidence, "Bootstrap interval coverage")->default_val(0.95);
  cmd->add_option("--is-splits", args->is_splits, "Inception Score: number of splits")
      ->default_val(10)
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--json", args->json_path, "Write the results (docs/results.md) to this file")->required();
  cmd->add_option("--space", args->space,
                  "The features' name in the results: FID, KID and PRDC are keyed by it, e.g. RadDino "
                  "(docs/results.md)")
      ->default_val("features");
  cmd->callback([args, metrics_opt, &global, &exit_code] {
    args->metrics_given = metrics_opt->count() > 0;
    exit_code = run_metrics(*args, global);
  });
}

}  // namespace chexgen::cli
