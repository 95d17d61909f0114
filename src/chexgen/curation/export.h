// `chexgen export`: a graded (or any) manifest -> a dataset in SynthCheX-75K's shape that Hugging Face `datasets`
// loads with load_dataset("imagefolder", data_dir=DIR): DIR/images/, DIR/metadata.jsonl (file_name, filename,
// prompt, labels_dict, quality), CheXGenBench's DIR/prompt_INFO.csv, a dataset card DIR/README.md and the run's
// counts in DIR/export.json. See docs/export.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/curation/grade.h"
#include "chexgen/data/manifest.h"

namespace chexgen {

struct ProgressOptions;

// How a source label becomes a labels_dict value.
enum class LabelPolicy {
  binary,  // the dataset card's convention: positive (1) -> 1; negative, uncertain and missing -> 0
  raw,     // as given: 1, 0, -1, null
};
// "binary", "raw".
std::string_view label_policy_name(LabelPolicy p);
// The inverse; anything else is a UsageError.
LabelPolicy parse_label_policy(std::string_view name);

// What `chexgen filter` recorded in its summary.json, for the card.
struct FilterInfo {
  std::filesystem::path path;
  std::string model, base_url, meta_prompt, question_template;
  std::optional<double> temperature;
  std::vector<std::string> keep;  // the grades the filter kept
  std::string image_root;         // the folder the filter resolved image paths against ("" if not recorded)
  std::string manifest;           // the manifest the filter graded ("" if not recorded)
};

// What `chexgen generate` recorded in its generation.json, for the card.
struct GenerationInfo {
  std::filesystem::path path;
  std::string backend;                         // "images-api" or "command"
  std::string model, base_url, command, size;  // "" when not recorded
  std::vector<std::int64_t> seeds;
  std::optional<std::int64_t> per_prompt, n_prompts, n_images;
};

// Read those files. A file that cannot be read, is not a JSON object, or lacks the fields that make it what it
// claims to be (summary.json: "meta_prompt" and "counts"; generation.json: "backend" and "seeds") is an InputError
// naming it.
FilterInfo read_filter_info(const std::filesystem::path& path);
GenerationInfo read_generation_info(const std::filesystem::path& path);

// Where the card's provenance is looked for when not given: the filter's summary.json beside the manifest; the
// generator's generation.json beside the manifest, then in the image root, then beside the manifest the filter
// graded. Returns the first that exists.
std::optional<std::filesystem::path> find_filter_summary(const std::filesystem::path& manifest);
std::optional<std::filesystem::path> find_generation_info(const std::filesystem::path& manifest,
                                                          const std::filesystem::path& image_root,
                                                          const FilterInfo* filter);

// True when the dataset has a `quality` column (key): every sample then has one in Sample::extra.
bool has_quality_column(const Dataset& dataset);

struct ExportOptions {
  std::vector<Grade> keep{Grade::high_quality, Grade::medium_quality};  // used only with a quality column
  LabelPolicy label_policy = LabelPolicy::binary;
  bool no_labels = false;                    // write no labels_dict (required when the manifest has no labels)
  bool link = false;                         // hard-link the images instead of copying them
  int threads = 0;                           // 0 = all cores
  std::optional<FilterInfo> filter;          // for the card; absent: "unknown"
  std::optional<GenerationInfo> generation;  // the same
};

// A row left out because its quality was "unparsed" or "error" (these are listed one by one; rows graded below
// --keep are only counted).
struct LeftOutRow {
  std::size_t row = 0;
  std::string image;    // the image path as written in the manifest
  std::string quality;  // "unparsed" or "error"
};

struct LabelTally {
  std::string name;  // a CheXpert label
  // Exported values: positive (1), negative (0), uncertain (-1), missing (null). Under the binary policy only the
  // first two are non-zero.
  std::size_t positive = 0, negative = 0, uncertain = 0, missing = 0;
};

struct ExportSummary {
  std::size_t n_rows = 0;      // samples in the manifest
  std::size_t n_exported = 0;  // lines in metadata.jsonl
  bool has_quality = false;
  // Per quality_names() entry (curation/grade.h): rows in the manifest, rows exported, rows left out (all zero without quality).
  std::vector<std::size_t> rows_per_quality, exported_per_quality, left_out_per_quality;
  std::vector<LeftOutRow> unparsed_or_error;  // left-out rows whose quality is unparsed or error, in row order
  std::vector<LabelTally> labels;             // CheXpert's 14 in order; empty with no_labels
  // What happened to each exported image in DIR/images.
  std::size_t n_copied = 0, n_linked = 0, n_already_there = 0, n_replaced = 0;
  std::size_t n_removed_stale = 0;  // images an earlier export into DIR wrote that this one does not list
  double elapsed_s = 0;
};

// Exports `dataset` into `out_dir`. Kept rows: every row without a quality column, else those whose quality is one
// of options.keep. Checks first, before writing anything, and reports every problem in `errors` (file, row, column)
// then throws the first: a quality that is not a grade, "unparsed" or "error"; a kept row without a prompt; two
// kept rows whose images have the same file name; a label outside CheXpert's 14 that a kept row uses (labels the
// rows never use are dropped); no labels at all without options.no_labels; an image name whose extension is not
// .png, .jpg or .jpeg. Then each kept image is read, decoded with chexgen's decoder (PNG or JPEG only: imagefolder
// cannot load DICOM) and copied (or hard-linked) to out_dir/images/<file name> unless an identical file is already
// there; unreadable images are reported the same way, after every image was tried, and then nothing but the images
// already copied is written. metadata.jsonl, prompt_INFO.csv, README.md and export.json are written atomically at
// the end. Images in out_dir/images that an earlier export wrote and this one does not list are removed; any other
// file there is a UsageError (the folder is not ours), as is an out_dir/images that holds source images.
// `progress`: when given, a progress display over the kept images on stderr.
ExportSummary export_dataset(const Dataset& dataset, const std::filesystem::path& out_dir, const ExportOptions& options,
                             ErrorReport& errors, const ProgressOptions* progress = nullptr);

}  // namespace chexgen
