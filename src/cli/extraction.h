// What every feature-extracting subcommand (radiomics, frd, extract) shares: the radiomics configuration options,
// where the feature store lives, running an extractor over a manifest with progress and a throughput line, and
// writing small text outputs.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "chexgen/data/csv_table.h"
#include "chexgen/data/manifest.h"
#include "chexgen/features/extract.h"
#include "chexgen/radiomics/extractor.h"
#include "cli/commands.h"

namespace chexgen::cli {

// Options that choose the radiomics configuration and the store.
struct ExtractorArgs {
  std::string config = "frd-v1";
  std::optional<double> resample_spacing;
  int size = 512;
  std::string resize_filter = "lanczos";
  std::string store;
};

void add_store_option(CLI::App* cmd, std::string& store);
void add_radiomics_options(CLI::App* cmd, ExtractorArgs& a);  // --config, --resample-spacing, --size, --resize-filter
void add_extractor_options(CLI::App* cmd, ExtractorArgs& a);  // both of the above

// --store, else $CHEXGEN_STORE, else $XDG_CACHE_HOME/chexgen/store, else ~/.cache/chexgen/store.
std::filesystem::path store_root(const std::string& store);

radiomics::RadiomicsConfig radiomics_config(const ExtractorArgs& a);

struct ExtractedSet {
  Dataset dataset;
  features::DatasetFeatures features;
};

// Runs `extractor` over `dataset` through `store`, with a progress line labelled "<what>: <label>" and a closing
// line with counts and images/s (unless quiet). Bad images are printed; unless skip_bad they end the run.
features::DatasetFeatures extract_dataset(const Dataset& dataset, bool skip_bad,
                                          const features::ImageFeatureExtractor& extractor,
                                          features::FeatureStore& store, const GlobalOptions& global,
                                          const std::string& what, const std::string& label);

// Reads `manifest` and runs `extractor` over it through `store`, with a progress line labelled
// "<what>: <label>" and a closing line with counts and images/s (unless quiet). Bad images are printed; unless
// options.skip_bad they end the run with an InputError.
ExtractedSet extract_set(const std::string& manifest, const ManifestOptions& options,
                         const features::ImageFeatureExtractor& extractor, features::FeatureStore& store,
                         const GlobalOptions& global, const std::string& what, const std::string& label);

// The lines, each ending in '\n', written atomically.
void write_lines(const std::filesystem::path& path, const std::vector<std::string>& lines);

}  // namespace chexgen::cli
