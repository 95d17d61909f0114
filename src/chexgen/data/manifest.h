// Dataset manifests: the list of images a run works on, with prompts, patient ids and labels.
// Readers for CheXGenBench's real and synthetic CSVs, one-column-per-label CSVs, Hugging Face
// imagefolder metadata.jsonl, and bare folders of images. See docs/manifests.md.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/data/label_set.h"

namespace chexgen {

enum class ManifestFormat {
  auto_detect,             // from the extension (.jsonl, a directory) or the CSV header
  chexgenbench_real,       // CSV: path, annotated_prompt, chexpert_labels (a Python dict literal)
  chexgenbench_synthetic,  // CSV: img_savename | synthetic_filename, prompt | annotated_prompt
  onehot,                  // CSV: an image column and one 1/0/-1/blank column per label
  jsonl,                   // JSON Lines: file_name, optional prompt and labels_dict object
  folder,                  // a directory of images, no labels
};

// "auto", "chexgenbench-real", "chexgenbench-synthetic", "onehot", "jsonl", "folder".
std::string_view manifest_format_name(ManifestFormat f);
// The inverse; an unknown name is a UsageError listing the known ones.
ManifestFormat parse_manifest_format(std::string_view name);

// Column (or JSON key) names. Empty means the format's default (docs/manifests.md, "Columns").
// A column named here explicitly must exist; a default column that is optional may be absent.
struct ManifestColumns {
  std::string image;  // real: path; synthetic: img_savename, else synthetic_filename; onehot/jsonl: file_name
  std::string
      prompt;  // real: annotated_prompt; synthetic: prompt, else annotated_prompt; onehot/jsonl: prompt if present
  std::string labels;   // dict of label -> value. real: chexpert_labels (required); synthetic: chexpert_labels if
                        // present; jsonl: labels_dict if present; onehot: not used
  std::string patient;  // patient_id if present
  std::string id;       // sample id; default: the image cell as written
};

struct ManifestOptions {
  ManifestFormat format = ManifestFormat::auto_detect;
  std::filesystem::path image_root;  // image paths are relative to this; empty: the manifest's folder
  ManifestColumns columns;
  // The label set. Dict formats (real, synthetic, jsonl): the names a dict may use, default chexpert14.
  // onehot: the label columns, in this order; each must be a header column.
  std::vector<std::string> label_names;
  // onehot only, instead of label_names: "FIRST:LAST", every header column from FIRST to LAST inclusive.
  std::string label_column_range;
  // false: any bad row makes read_manifest throw (after every row has been checked and reported).
  // true: bad rows are reported, counted in Dataset::n_skipped and left out.
  bool skip_bad = false;
};

struct Sample {
  std::string id;                         // unique within the dataset
  std::string image_ref;                  // the image path as written in the manifest
  std::filesystem::path image_path;       // image_ref resolved against the image root
  std::optional<std::string> prompt;      // absent when there is no prompt column or the cell is empty
  std::optional<std::string> patient_id;  // absent when there is no patient column or the cell is empty
  std::vector<LabelValue> labels;         // one per Dataset::labels entry
  std::vector<std::pair<std::string, std::string>> extra;  // every other column, as text, in column order
  std::size_t row = 0;  // 1-based line in the manifest where the record starts; 0 for folders

  const std::string* extra_value(std::string_view column) const;  // that column's cell, if the sample has it
};

struct Dataset {
  std::filesystem::path source;
  ManifestFormat format = ManifestFormat::auto_detect;
  LabelSet labels;
  std::string image_column;  // the column (or JSON key) that held image paths, for messages; empty for folders
  std::vector<Sample> samples;
  std::size_t n_skipped = 0;  // bad rows left out (only with skip_bad); each one is in the ErrorReport

  LabelValue label(std::size_t sample, std::string_view name) const;
  bool has_column(std::string_view column) const;  // an extra column (of the first sample)
};

// Where a problem with a sample's image is reported: the manifest, the sample's row and the image column; for a
// folder manifest (no rows), the image file itself.
Location sample_location(const Dataset& dataset, const Sample& sample);

// Detects the format of `path` (auto_detect rules in docs/manifests.md). An unknown or ambiguous
// format is a UsageError that lists what was seen and asks for --format.
ManifestFormat detect_manifest_format(const std::filesystem::path& path, const ManifestOptions& options);

// Reads a manifest. Every problem found is added to `errors` (file, row, column, reason).
// Throws InputError when the manifest cannot be used at all (unreadable, malformed CSV, missing
// column) or when there is a bad row and !options.skip_bad; UsageError for contradictory options.
Dataset read_manifest(const std::filesystem::path& path, const ManifestOptions& options, ErrorReport& errors);

}  // namespace chexgen
