#include "cli/manifest_args.h"

#include <fmt/format.h>

#include "chexgen/core/files.h"
#include "chexgen/core/json.h"
#include "chexgen/data/label_set.h"

namespace chexgen::cli {

ManifestOptions ManifestArgs::options() const {
  ManifestOptions o;
  o.format = parse_manifest_format(format);
  o.image_root = image_root;
  o.columns = ManifestColumns{image_column, prompt_column, labels_column, patient_column, id_column};
  if (!labels.empty() && !label_set.empty()) throw UsageError("give --labels or --label-set, not both");
  o.label_names = label_set.empty() ? labels : LabelSet::preset(label_set).names();
  o.label_column_range = label_columns;
  o.skip_bad = skip_bad;
  return o;
}

void add_manifest_options(CLI::App* cmd, ManifestArgs& a, const std::string& prefix) {
  const std::string p = prefix.empty() ? "--" : "--" + prefix + "-";
  const std::string whose = prefix.empty() ? "" : " (" + prefix + " manifest)";
  cmd->add_option(p + "format", a.format,
                  "auto | chexgenbench-real | chexgenbench-synthetic | onehot | jsonl | folder" + whose)
      ->default_val("auto");
  cmd->add_option(p + "image-root", a.image_root,
                  "Folder image paths are relative to (default: the manifest's folder)" + whose);
  cmd->add_option(p + "labels", a.labels, "Label names, comma-separated (onehot: the label columns)" + whose)
      ->delimiter(',');
  cmd->add_option(p + "label-set", a.label_set, "Named label set: chexpert | nih" + whose);
  cmd->add_option(p + "label-columns", a.label_columns, "onehot: label columns FIRST:LAST (inclusive)" + whose);
  cmd->add_option(p + "image-column", a.image_column, "Column with image paths (default by format)" + whose);
  cmd->add_option(p + "prompt-column", a.prompt_column, "Column with prompts (default by format)" + whose);
  cmd->add_option(p + "labels-column", a.labels_column, "Column with the labels dict (default by format)" + whose);
  cmd->add_option(p + "patient-column", a.patient_column,
                  "Column with patient ids (default: patient_id if present)" + whose);
  cmd->add_option(p + "id-column", a.id_column, "Column with sample ids (default: the image path)" + whose);
}

void add_skip_bad_flag(CLI::App* cmd, bool& skip_bad) {
  cmd->add_flag("--skip-bad", skip_bad, "Leave bad rows and images out, report and count them, exit 0");
}

void print_error(std::string_view message) {
  fmt::print(stderr, "chexgen: error: {}\n", printable_text(message, std::size_t{1} << 16));
}

void print_errors(const ErrorReport& errors) {
  for (const auto& e : errors.errors()) print_error(e.what());
}

Dataset read_manifest_or_report(const std::string& path, const ManifestOptions& options, ErrorReport& errors) {
  try {
    return read_manifest(path, options, errors);
  } catch (const InputError&) {
    print_errors(errors);
    fmt::print(stderr, "chexgen: {}: {} problem(s); the manifest was not used{}\n", path, errors.size(),
               options.skip_bad ? "" : " (--skip-bad leaves bad rows out)");
    throw;
  }
}

void write_json_file(const std::string& path, const nlohmann::ordered_json& j) {
  write_file_atomically(path, j.dump(2) + "\n");
}

}  // namespace chexgen::cli
