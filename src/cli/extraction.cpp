#include "cli/extraction.h"

#include <cstdlib>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/log.h"
#include "chexgen/core/progress.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {

void add_store_option(CLI::App* cmd, std::string& store) {
  cmd->add_option("--store", store, "Feature store directory (default: $CHEXGEN_STORE, else ~/.cache/chexgen/store)");
}

void add_radiomics_options(CLI::App* cmd, ExtractorArgs& a) {
  cmd->add_option("--config", a.config, "Radiomics configuration: frd-v1 (CheXGenBench) | full")->default_val("frd-v1");
  cmd->add_option("--resample-spacing", a.resample_spacing,
                  "Resample to this pixel spacing in mm before filtering (configuration default: 2; 0 turns it off)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--size", a.size,
                  "Resize every image to SIZE x SIZE first (0 keeps native sizes, as CheXGenBench does)")
      ->default_val(512)
      ->check(CLI::Range(0, max_resize_side_px));
  cmd->add_option("--resize-filter", a.resize_filter, "Filter for --size: nearest | bilinear | bicubic | lanczos")
      ->default_val("lanczos");
}

void add_extractor_options(CLI::App* cmd, ExtractorArgs& a) {
  add_radiomics_options(cmd, a);
  add_store_option(cmd, a.store);
}

std::filesystem::path store_root(const std::string& store) {
  if (!store.empty()) return store;
  if (const char* env = std::getenv("CHEXGEN_STORE"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "chexgen/store";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache/chexgen/store";
  throw UsageError("no feature store: give --store DIR (or set CHEXGEN_STORE)");
}

radiomics::RadiomicsConfig radiomics_config(const ExtractorArgs& a) {
  radiomics::RadiomicsConfig c = radiomics::radiomics_preset(a.config);
  if (a.resample_spacing) c.resample_spacing = *a.resample_spacing;
  c.image_size = a.size;
  c.resize_filter = parse_resample_filter(a.resize_filter);
  return c;
}

features::DatasetFeatures extract_dataset(const Dataset& dataset, bool skip_bad,
                                          const features::ImageFeatureExtractor& extractor,
                                          features::FeatureStore& store, const GlobalOptions& global,
                                          const std::string& what, const std::string& label) {
  return features::extract_dataset_features(dataset, extractor, store,
                                            features::ExtractionOptions{global.threads, skip_bad}, Log(!global.quiet),
                                            what, label);
}

ExtractedSet extract_set(const std::string& manifest, const ManifestOptions& options,
                         const features::ImageFeatureExtractor& extractor, features::FeatureStore& store,
                         const GlobalOptions& global, const std::string& what, const std::string& label) {
  ErrorReport errors;
  ExtractedSet out;
  out.dataset = read_manifest_or_report(manifest, options, errors);
  print_errors(errors);  // rows left out with --skip-bad
  if (out.dataset.samples.empty()) throw InputError(Location{manifest}, "the manifest lists no images");
  out.features = extract_dataset(out.dataset, options.skip_bad, extractor, store, global, what, label);
  return out;
}

void write_lines(const std::filesystem::path& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + '\n';
  write_file_atomically(path, text);
}

}  // namespace chexgen::cli
