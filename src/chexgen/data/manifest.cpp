#include "chexgen/data/manifest.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "chexgen/data/manifest_pvt.h"

namespace chexgen {
namespace {

struct FormatName {
  ManifestFormat format;
  std::string_view name;
};
constexpr std::array<FormatName, 6> kFormatNames{{
    {ManifestFormat::auto_detect, "auto"},
    {ManifestFormat::chexgenbench_real, "chexgenbench-real"},
    {ManifestFormat::chexgenbench_synthetic, "chexgenbench-synthetic"},
    {ManifestFormat::onehot, "onehot"},
    {ManifestFormat::jsonl, "jsonl"},
    {ManifestFormat::folder, "folder"},
}};

bool has_jsonl_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jsonl";
}

bool is_csv_format(ManifestFormat f) {
  return f == ManifestFormat::chexgenbench_real || f == ManifestFormat::chexgenbench_synthetic ||
         f == ManifestFormat::onehot;
}

}  // namespace

std::string_view manifest_format_name(ManifestFormat f) {
  for (const auto& [format, name] : kFormatNames) {
    if (format == f) return name;
  }
  CHEXGEN_ASSERT(false, "unknown ManifestFormat");
}

ManifestFormat parse_manifest_format(std::string_view name) {
  for (const auto& [format, n] : kFormatNames) {
    if (n == name) return format;
  }
  throw UsageError(fmt::format(
      "unknown manifest format '{}' (known: auto, chexgenbench-real, chexgenbench-synthetic, onehot, jsonl, folder)",
      name));
}

const std::string* Sample::extra_value(std::string_view column) const {
  for (const auto& [k, v] : extra)
    if (k == column) return &v;
  return nullptr;
}

bool Dataset::has_column(std::string_view column) const {
  return !samples.empty() && samples.front().extra_value(column) != nullptr;
}

LabelValue Dataset::label(std::size_t sample, std::string_view name) const {
  const auto i = labels.index(name);
  if (!i) throw UsageError(fmt::format("unknown label '{}' (label set: {})", name, labels.joined()));
  return samples.at(sample).labels.at(*i);
}

ManifestFormat detect_manifest_format(const std::filesystem::path& path, const ManifestOptions& options) {
  if (options.format != ManifestFormat::auto_detect) return options.format;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return ManifestFormat::folder;
  if (has_jsonl_extension(path)) return ManifestFormat::jsonl;
  ErrorReport ignored;
  return manifest_detail::detect_csv_format(read_csv_file(path, ignored));
}

Dataset read_manifest(const std::filesystem::path& path, const ManifestOptions& options, ErrorReport& errors) {
  using namespace manifest_detail;
  if (!options.label_column_range.empty() && !options.label_names.empty()) {
    throw UsageError(
        "give the label columns either as a list (--labels/--label-set) or as a range (--label-columns), not both");
  }
  Dataset dataset;
  dataset.source = path;
  SampleCollector collector(dataset, options, errors);
  try {
    std::error_code ec;
    if (options.format == ManifestFormat::folder ||
        (options.format == ManifestFormat::auto_detect && std::filesystem::is_directory(path, ec))) {
      dataset.format = ManifestFormat::folder;
      read_folder_manifest(path, options, collector, dataset);
    } else if (options.format == ManifestFormat::jsonl ||
               (options.format == ManifestFormat::auto_detect && has_jsonl_extension(path))) {
      dataset.format = ManifestFormat::jsonl;
      read_jsonl_manifest(path, options, collector, dataset);
    } else {
      ErrorReport csv_row_errors;
      const CsvTable table = read_csv_file(path, csv_row_errors);
      for (const auto& e : csv_row_errors.errors()) collector.reject(e);
      dataset.format = options.format == ManifestFormat::auto_detect ? detect_csv_format(table) : options.format;
      CHEXGEN_ASSERT(is_csv_format(dataset.format), "CSV reader chosen for a non-CSV format");
      read_csv_manifest(table, dataset.format, options, collector, dataset);
    }
    const std::size_t n_bad = collector.n_bad();
    const std::optional<InputError> first = collector.flush_errors();
    if (n_bad > 0) {
      if (!options.skip_bad) {
        // Every bad row is in `errors` now; the exception carries the first one.
        if (n_bad == 1) throw *first;
        throw InputError(first->where(), fmt::format("{} (and {} more bad rows; --skip-bad leaves them out)",
                                                     first->reason(), n_bad - 1));
      }
      dataset.n_skipped = n_bad;
    }
  } catch (const InputError& e) {
    // A fatal problem goes into the report too, after the bad rows found before it (a bad-row
    // summary is there already, by its first row).
    collector.flush_errors();
    bool known = false;
    for (const auto& r : errors.errors()) {
      if (r.where().file == e.where().file && r.where().row == e.where().row && r.where().column == e.where().column)
        known = true;
    }
    if (!known) errors.add(e);
    throw;
  }
  return dataset;
}

namespace manifest_detail {

SampleCollector::SampleCollector(Dataset& dataset, const ManifestOptions& options, ErrorReport& errors)
    : dataset_(dataset), errors_(errors) {
  image_root_ = options.image_root.empty() ? dataset.source.parent_path() : options.image_root;
}

void SampleCollector::add(Sample sample, const std::string& image_column, const std::string& id_column) {
  const std::string source = dataset_.source.string();
  if (sample.image_ref.empty()) throw InputError({source, sample.row, image_column}, "empty image path");
  if (sample.id.empty()) throw InputError({source, sample.row, id_column}, "empty sample id");
  const auto [it, inserted] = id_rows_.emplace(sample.id, sample.row);
  if (!inserted) {
    throw InputError({source, sample.row, id_column},
                     fmt::format("duplicate sample id '{}' (first on line {})", sample.id, it->second));
  }
  sample.image_path = image_root_ / std::filesystem::path(sample.image_ref);
  dataset_.samples.push_back(std::move(sample));
}

std::optional<InputError> SampleCollector::flush_errors() {
  std::stable_sort(bad_.begin(), bad_.end(),
                   [](const InputError& a, const InputError& b) { return a.where().row < b.where().row; });
  std::optional<InputError> first;
  if (!bad_.empty()) first.emplace(bad_.front());
  for (const auto& e : bad_) errors_.add(e);
  bad_.clear();
  return first;
}

LabelSet dict_label_set(const ManifestOptions& options) {
  if (!options.label_column_range.empty()) {
    throw UsageError("--label-columns applies to onehot manifests only; use --labels or --label-set");
  }
  return options.label_names.empty() ? LabelSet::chexpert14() : LabelSet(options.label_names);
}

void apply_label_dict(const std::vector<std::pair<std::string, LabelValue>>& dict, const LabelSet& set,
                      const Location& where, std::vector<LabelValue>& labels) {
  for (const auto& [name, value] : dict) {
    const auto i = set.index(name);
    if (!i) throw InputError(where, fmt::format("unknown label '{}' (label set: {})", name, set.joined()));
    labels[*i] = value;
  }
}

}  // namespace manifest_detail
Location sample_location(const Dataset& dataset, const Sample& sample) {
  if (sample.row == 0) return Location{sample.image_path.string()};
  return Location{dataset.source.string(), sample.row, dataset.image_column};
}

}  // namespace chexgen
