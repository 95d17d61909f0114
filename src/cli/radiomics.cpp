// chexgen radiomics: PyRadiomics-compatible feature vectors of every image in a manifest.
// chexgen frd: Fréchet Radiomics Distance between a real and a synthetic set (docs/radiomics.md).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/progress.h"
#include "chexgen/core/version.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/features/extract.h"
#include "chexgen/features/feature_table.h"
#include "chexgen/features/npy.h"
#include "chexgen/metrics/frd.h"
#include "chexgen/radiomics/extractor.h"
#include "cli/commands.h"
#include "cli/extraction.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {

using ojson = nlohmann::ordered_json;

// ---- chexgen radiomics ----

struct RadiomicsArgs {
  std::string manifest;
  ManifestArgs manifest_args;
  ExtractorArgs extractor;
  std::string out;
};

int run_radiomics(const RadiomicsArgs& a, const GlobalOptions& global) {
  const std::filesystem::path out(a.out);
  const std::string ext = out.extension().string();
  if (ext != ".csv" && ext != ".npy") throw UsageError(fmt::format("--out {}: use a .csv or .npy file name", a.out));
  const auto extractor = std::make_shared<const radiomics::RadiomicsExtractor>(radiomics_config(a.extractor));
  const features::ImageFeatureExtractor image_extractor = radiomics::as_image_extractor(extractor);
  features::FeatureStore store(store_root(a.extractor.store), image_extractor.id, image_extractor.columns);
  const ExtractedSet set =
      extract_set(a.manifest, a.manifest_args.options(), image_extractor, store, global, "radiomics", a.manifest);
  const auto& f = set.features;
  features::FeatureTable table{{}, extractor->columns(), f.values};
  for (std::size_t i : f.samples) table.images.push_back(set.dataset.samples[i].image_ref);
  features::write_feature_table(out, table);
  fmt::print("{}: {} images x {} features (configuration {})\n", a.out, f.values.rows(), f.values.cols(),
             extractor->config().name);
  return static_cast<int>(ExitCode::success);
}

// ---- chexgen frd ----

struct FrdArgs {
  std::string real, synthetic;
  ManifestArgs real_args, synthetic_args;
  std::string real_features, synthetic_features;
  bool skip_bad = false;
  ExtractorArgs extractor;
  bool match_sample_count = false;
  std::uint32_t seed = 42;
  bool paper_log = false;
  std::string json_path;
};

// A feature table written by `chexgen radiomics` or by PyRadiomics through pandas (features/feature_table.h), its
// warnings and bad rows printed.
features::ReadFeatureTable read_table(const std::string& path) {
  ErrorReport errors;
  try {
    features::ReadFeatureTable t = features::read_feature_table_csv(path, errors);
    for (const auto& w : t.warnings) fmt::print(stderr, "chexgen: warning: {} of FRD\n", w);
    return t;
  } catch (const InputError&) {
    print_errors(errors);
    throw;
  }
}

ojson finite_or_null(double v) { return std::isfinite(v) ? ojson(v) : ojson(nullptr); }

int run_frd(const FrdArgs& a, const GlobalOptions& global) {
  const bool from_tables = !a.real_features.empty() || !a.synthetic_features.empty();
  if (from_tables && (a.real_features.empty() || a.synthetic_features.empty()))
    throw UsageError("give both --real-features and --synthetic-features");
  if (from_tables && (!a.real.empty() || !a.synthetic.empty()))
    throw UsageError("give either manifests (--real, --synthetic) or feature tables (--real-features, ...), not both");
  if (!from_tables && (a.real.empty() || a.synthetic.empty()))
    throw UsageError("give --real and --synthetic manifests (or --real-features and --synthetic-features)");

  metrics::FrdOptions options;
  options.match_sample_count = a.match_sample_count;
  options.seed = a.seed;
  options.paper_log = a.paper_log;

  std::vector<std::string> columns, real_ids, syn_ids;
  MatrixD real, syn;
  ojson sets = ojson::object();
  ojson extraction = nullptr;
  if (from_tables) {
    features::ReadFeatureTable real_table = read_table(a.real_features);
    features::ReadFeatureTable syn_table = read_table(a.synthetic_features);
    features::FeatureTable& rt = real_table.table;
    features::FeatureTable& st = syn_table.table;
    if (rt.columns != st.columns)
      throw InputError(Location{a.synthetic_features},
                       fmt::format("its numeric columns differ from those of {} ({} vs {})", a.real_features,
                                   st.columns.size(), rt.columns.size()));
    columns = rt.columns;
    real = std::move(rt.values);
    syn = std::move(st.values);
    real_ids = rt.images;
    syn_ids = st.images;
    sets["real"] = ojson{{"features", a.real_features}, {"non_numeric_columns_left_out", real_table.dropped_columns}};
    sets["synthetic"] =
        ojson{{"features", a.synthetic_features}, {"non_numeric_columns_left_out", syn_table.dropped_columns}};
  } else {
    const auto extractor = std::make_shared<const radiomics::RadiomicsExtractor>(radiomics_config(a.extractor));
    const features::ImageFeatureExtractor image_extractor = radiomics::as_image_extractor(extractor);
    features::FeatureStore store(store_root(a.extractor.store), image_extractor.id, image_extractor.columns);
    ManifestOptions ro = a.real_args.options(), so = a.synthetic_args.options();
    ro.skip_bad = so.skip_bad = a.skip_bad;
    ExtractedSet r = extract_set(a.real, ro, image_extractor, store, global, "radiomics", "real");
    ExtractedSet s = extract_set(a.synthetic, so, image_extractor, store, global, "radiomics", "synthetic");
    columns = extractor->columns();
    for (std::size_t i : r.features.samples) real_ids.push_back(r.dataset.samples[i].id);
    for (std::size_t i : s.features.samples) syn_ids.push_back(s.dataset.samples[i].id);
    auto set_json = [](const std::string& manifest, const ExtractedSet& e) {
      return ojson{{"manifest", manifest},
                   {"samples", e.dataset.samples.size()},
                   {"measured", e.features.samples.size()},
                   {"left_out", e.dataset.samples.size() - e.features.samples.size()},
                   {"computed", e.features.computed},
                   {"from_store", e.features.reused},
                   {"seconds", e.features.seconds}};
    };
    sets["real"] = set_json(a.real, r);
    sets["synthetic"] = set_json(a.synthetic, s);
    real = std::move(r.features.values);
    syn = std::move(s.features.values);
    extraction = ojson{{"config", extractor->config().name},
                       {"extractor_id", image_extractor.id},
                       {"size", a.extractor.size},
                       {"resize_filter", a.extractor.resize_filter},
                       {"resample_spacing", extractor->config().resample_spacing},
                       {"store", store.directory().string()}};
  }

  const metrics::FrdResult result = metrics::compute_frd(real.view(), syn.view(), columns, options);
  auto ids_of = [](const std::vector<std::size_t>& rows, const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    for (std::size_t i : rows) out.push_back(ids[i]);
    return out;
  };
  const auto real_nan = ids_of(result.real_rows_with_nan, real_ids);
  const auto syn_nan = ids_of(result.synthetic_rows_with_nan, syn_ids);
  for (const auto& id : real_nan)
    fmt::print(stderr, "chexgen: warning: real image {} has NaN features; left out\n", id);
  for (const auto& id : syn_nan)
    fmt::print(stderr, "chexgen: warning: synthetic image {} has NaN features; left out\n", id);

  fmt::print("FRD {}: {:.6g}   (Fréchet distance {:.6g}, ln {:.6g})\n",
             options.paper_log ? "(ln, CheXGenBench's scale)" : "(Fréchet distance)", result.frd,
             result.frechet_distance, result.log_frechet_distance);
  fmt::print("rows used: real {} of {}, synthetic {} of {}; columns used {} of {}\n", result.real_used,
             result.real_rows, result.synthetic_used, result.synthetic_rows, result.columns_used, result.columns);

  if (!a.json_path.empty()) {
    sets["real"]["rows"] = result.real_rows;
    sets["real"]["rows_used"] = result.real_used;
    sets["real"]["rows_with_nan"] = real_nan;
    sets["synthetic"]["rows"] = result.synthetic_rows;
    sets["synthetic"]["rows_used"] = result.synthetic_used;
    sets["synthetic"]["rows_with_nan"] = syn_nan;
    ojson j;
    j["frd"] = finite_or_null(result.frd);
    j["frechet_distance"] = finite_or_null(result.frechet_distance);
    j["log_frechet_distance"] = finite_or_null(result.log_frechet_distance);
    j["real"] = sets["real"];
    j["synthetic"] = sets["synthetic"];
    j["columns"] = result.columns;
    j["columns_used"] = result.columns_used;
    j["dropped_columns"] = result.dropped_columns;
    j["options"] = ojson{{"paper_log", options.paper_log},
                         {"match_sample_count", options.match_sample_count},
                         {"seed", options.seed},
                         {"extraction", extraction}};
    j["chexgen_version"] = version_string().substr(0, version_string().find('\n'));
    write_json_file(a.json_path, j);
  }
  return static_cast<int>(ExitCode::success);
}

}  // namespace

void add_radiomics_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<RadiomicsArgs>();
  CLI::App* cmd =
      app.add_subcommand("radiomics", "PyRadiomics-compatible radiomic features of every image in a manifest");
  cmd->add_option("manifest", args->manifest, "Manifest: CSV, metadata.jsonl, or a folder of images")->required();
  cmd->add_option("--out", args->out,
                  "Output: FILE.csv (first column the image path) or FILE.npy (+ FILE.npy.columns.txt, .images.txt)")
      ->required();
  add_extractor_options(cmd, args->extractor);
  add_manifest_options(cmd, args->manifest_args);
  add_skip_bad_flag(cmd, args->manifest_args.skip_bad);
  cmd->callback([args, &global, &exit_code] { exit_code = run_radiomics(*args, global); });
}

void add_frd_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<FrdArgs>();
  CLI::App* cmd = app.add_subcommand("frd", "Fréchet Radiomics Distance between a real and a synthetic image set");
  cmd->add_option("--real", args->real, "Real images: a manifest (CSV, metadata.jsonl or folder)");
  cmd->add_option("--synthetic", args->synthetic, "Synthetic images: a manifest");
  cmd->add_option("--real-features", args->real_features,
                  "Instead of --real: a feature table (CSV from chexgen radiomics or PyRadiomics)");
  cmd->add_option("--synthetic-features", args->synthetic_features, "Instead of --synthetic: a feature table");
  cmd->add_flag("--match-sample-count", args->match_sample_count,
                "Subsample the larger set to the smaller one's size (as CheXGenBench does)");
  cmd->add_option("--seed", args->seed, "Seed of that subsample (numpy's legacy np.random.seed)")->default_val(42);
  cmd->add_flag("--paper-log", args->paper_log, "Report ln of the Fréchet distance, CheXGenBench's FRD scale");
  cmd->add_option("--json", args->json_path, "Write the result and the options used as JSON to this file");
  add_extractor_options(cmd, args->extractor);
  add_manifest_options(cmd, args->real_args, "real");
  add_manifest_options(cmd, args->synthetic_args, "synthetic");
  add_skip_bad_flag(cmd, args->skip_bad);
  cmd->callback([args, &global, &exit_code] { exit_code = run_frd(*args, global); });
}

}  // namespace chexgen::cli
