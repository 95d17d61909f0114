// Shared by the manifest readers (manifest_*.cpp); not part of the public API.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>

#include "chexgen/data/csv_table.h"
#include "chexgen/data/manifest.h"

namespace chexgen::manifest_detail {

// Collects samples row by row: resolves image paths, rejects empty paths and duplicate ids, and
// turns a bad row into a reported, counted skip.
class SampleCollector {
 public:
  SampleCollector(Dataset& dataset, const ManifestOptions& options, ErrorReport& errors);

  // Adds a finished sample (image_ref, id, row, ... filled in; image_path is resolved here).
  // `image_column` / `id_column` name the columns in messages. Throws InputError for an empty
  // image path or a duplicate id.
  void add(Sample sample, const std::string& image_column, const std::string& id_column);
  // Image paths are resolved against this (default: options.image_root, else the manifest's folder).
  void set_image_root(std::filesystem::path root) { image_root_ = std::move(root); }
  // Records a bad row (kept here until flush_errors).
  void reject(const InputError& e) { bad_.push_back(e); }
  std::size_t n_bad() const { return bad_.size(); }
  // Moves the bad rows into the ErrorReport, in file order (row, then the order they were found).
  // Returns the first one, or nullopt.
  std::optional<InputError> flush_errors();

 private:
  Dataset& dataset_;
  std::filesystem::path image_root_;
  ErrorReport& errors_;
  std::unordered_map<std::string, std::size_t> id_rows_;
  std::vector<InputError> bad_;
};

// The label set for dict formats: options.label_names, else chexpert14.
LabelSet dict_label_set(const ManifestOptions& options);

// Fills `labels` (already sized to `set`) from a parsed dict; an unknown name throws at `where`.
void apply_label_dict(const std::vector<std::pair<std::string, LabelValue>>& dict, const LabelSet& set,
                      const Location& where, std::vector<LabelValue>& labels);

ManifestFormat detect_csv_format(const CsvTable& table);

void read_csv_manifest(const CsvTable& table, ManifestFormat format, const ManifestOptions& options,
                       SampleCollector& collector, Dataset& dataset);
void read_jsonl_manifest(const std::filesystem::path& path, const ManifestOptions& options, SampleCollector& collector,
                         Dataset& dataset);
void read_folder_manifest(const std::filesystem::path& path, const ManifestOptions& options, SampleCollector& collector,
                          Dataset& dataset);

}  // namespace chexgen::manifest_detail
