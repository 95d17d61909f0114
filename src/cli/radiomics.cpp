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
  std::vector<std::string> images;
  for (std::size_t i : f.samples) images.push_back(set.dataset.samples[i].image_ref);
  if (ext == ".csv") {
    std::vector<std::string> lines;
    std::string header = "image";
    for (const auto& c : extractor->columns()) header += "," + c;
    lines.push_back(header);
    for (std::size_t r = 0; r < f.values.rows(); ++r) {
      std::string line = csv_field(images[r]);
      for (std::size_t c = 0; c < f.values.cols(); ++c) line += fmt::format(",{}", f.values(r, c));
      lines.push_back(std::move(line));
    }
    write_lines(out, lines);
  } else {
    features::write_npy(out, f.values.view());
    write_lines(out.string() + ".columns.txt", extractor->columns());
    write_lines(out.string() + ".images.txt", images);
  }
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

// A feature table written by `chexgen radiomics` or by PyRadiomics through pandas: the first column names the
// image; columns holding any non-numeric text are left out (as CheXGenBench drops pandas' object columns); an
// empty cell is NaN.
struct FeatureTable {
  std::vector<std::string> columns, dropped_columns, images;
  MatrixD values;
};

FeatureTable read_feature_table(const std::string& path) {
  ErrorReport errors;
  const CsvTable t = read_csv_file(path, errors);
  if (!errors.empty()) {
    print_errors(errors);
    throw InputError(Location{path}, "malformed rows (listed above)");
  }
  if (t.header.size() < 2 || t.records.empty())
    throw InputError(Location{path}, "a feature table needs an image column, at least one feature column and one row");
  // A column is numeric when every non-empty cell parses whole as a number; otherwise it is left out, with a warning
  // that quotes its first non-numeric cell (a typo there would otherwise cost a feature without a word).
  FeatureTable out;
  std::vector<std::size_t> numeric;
  for (std::size_t c = 1; c < t.header.size(); ++c) {
    const CsvRecord* text = nullptr;
    for (const auto& r : t.records) {
      const std::string& s = r.fields[c];
      char* end = nullptr;
      std::strtod(s.c_str(), &end);
      if (!s.empty() && end != s.c_str() + s.size()) {
        text = &r;
        break;
      }
    }
    if (!text) {
      numeric.push_back(c);
      continue;
    }
    out.dropped_columns.push_back(t.header[c]);
    fmt::print(stderr, "chexgen: warning: {}:{}: column '{}' holds text ('{}'); the column is left out of FRD\n", path,
               text->line, t.header[c], text->fields[c]);
  }
  for (std::size_t c : numeric) out.columns.push_back(t.header[c]);
  out.values = MatrixD(t.records.size(), numeric.size());
  for (std::size_t r = 0; r < t.records.size(); ++r) {
    out.images.push_back(t.records[r].fields[0]);
    for (std::size_t k = 0; k < numeric.size(); ++k) {
      const std::string& s = t.records[r].fields[numeric[k]];
      out.values(r, k) = s.empty() ? std::nan("") : std::strtod(s.c_str(), nullptr);
    }
  }
  return out;
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
    FeatureTable rt = read_feature_table(a.real_features);
    FeatureTable st = read_feature_table(a.synthetic_features);
    if (rt.columns != st.columns)
      throw InputError(Location{a.synthetic_features},
                       fmt::format("its numeric columns differ from those of {} ({} vs {})", a.real_features,
                                   st.columns.size(), rt.columns.size()));
    columns = rt.columns;
    real = std::move(rt.values);
    syn = std::move(st.values);
    real_ids = rt.images;
    syn_ids = st.images;
    sets["real"] = ojson{{"features", a.real_features}, {"non_numeric_columns_left_out", rt.dropped_columns}};
    sets["synthetic"] = ojson{{"features", a.synthetic_features}, {"non_numeric_columns_left_out", st.dropped_columns}};
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
