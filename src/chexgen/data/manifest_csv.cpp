// CSV manifests: CheXGenBench real (labels as a Python dict literal), CheXGenBench synthetic,
// and one column per label (e.g. the NIH ChestX-ray14 labels.csv).
#include <fmt/format.h>

#include "chexgen/data/label_dict.h"
#include "chexgen/data/manifest_pvt.h"

namespace chexgen::manifest_detail {
namespace {

constexpr std::ptrdiff_t kAbsent = -1;

std::string header_list(const CsvTable& table) {
  std::string out;
  for (const auto& h : table.header) {
    if (!out.empty()) out += ", ";
    out += fmt::format("'{}'", h);
  }
  return out;
}

[[noreturn]] void missing_column(const CsvTable& table, std::string_view what, std::string_view name) {
  throw InputError({table.source, table.header_line},
                   fmt::format("no {} column '{}' in the header (columns: {})", what, name, header_list(table)));
}

// `explicit_name` given: it must exist. Otherwise the first present of `defaults`; if none is present,
// an error when `required`, else kAbsent.
std::ptrdiff_t find_column(const CsvTable& table, std::string_view what, const std::string& explicit_name,
                           std::initializer_list<std::string_view> defaults, bool required) {
  if (!explicit_name.empty()) {
    const auto i = table.column(explicit_name);
    if (i == kAbsent) missing_column(table, what, explicit_name);
    return i;
  }
  for (const auto name : defaults) {
    const auto i = table.column(name);
    if (i != kAbsent) return i;
  }
  if (required) {
    std::string names;
    for (const auto name : defaults) names += names.empty() ? std::string(name) : fmt::format("' or '{}", name);
    missing_column(table, what, names);
  }
  return kAbsent;
}

// The onehot label columns: the listed names, or a FIRST:LAST range of the header.
std::vector<std::ptrdiff_t> onehot_label_columns(const CsvTable& table, const ManifestOptions& options,
                                                 std::vector<std::string>& names) {
  std::vector<std::ptrdiff_t> cols;
  if (!options.label_names.empty()) {
    for (const auto& name : options.label_names) {
      const auto i = table.column(name);
      if (i == kAbsent) missing_column(table, "label", name);
      cols.push_back(i);
      names.push_back(name);
    }
    return cols;
  }
  if (options.label_column_range.empty()) {
    throw UsageError(
        fmt::format("{}: a onehot manifest needs its label columns: --labels a,b,c, --label-set chexpert|nih, or "
                    "--label-columns FIRST:LAST (columns: {})",
                    table.source, header_list(table)));
  }
  const auto colon = options.label_column_range.find(':');
  if (colon == std::string::npos) {
    throw UsageError(fmt::format("--label-columns '{}' is not FIRST:LAST", options.label_column_range));
  }
  const std::string first = options.label_column_range.substr(0, colon);
  const std::string last = options.label_column_range.substr(colon + 1);
  const auto a = table.column(first);
  const auto b = table.column(last);
  if (a == kAbsent) missing_column(table, "first label", first);
  if (b == kAbsent) missing_column(table, "last label", last);
  if (b < a)
    throw UsageError(fmt::format("--label-columns: column '{}' comes after '{}' in {}", first, last, table.source));
  for (auto i = a; i <= b; ++i) {
    cols.push_back(i);
    names.push_back(table.header[static_cast<std::size_t>(i)]);
  }
  return cols;
}

}  // namespace

ManifestFormat detect_csv_format(const CsvTable& table) {
  const bool real = table.column("path") != kAbsent && table.column("chexpert_labels") != kAbsent;
  const bool synthetic = table.column("img_savename") != kAbsent || table.column("synthetic_filename") != kAbsent;
  if (real && synthetic) {
    throw UsageError(fmt::format(
        "{}: the header fits both chexgenbench-real ('path' + 'chexpert_labels') and chexgenbench-synthetic "
        "('img_savename' or 'synthetic_filename'); give --format",
        table.source));
  }
  if (real) return ManifestFormat::chexgenbench_real;
  if (synthetic) return ManifestFormat::chexgenbench_synthetic;
  if (table.column("file_name") != kAbsent) return ManifestFormat::onehot;
  throw UsageError(fmt::format(
      "{}: cannot tell the manifest format from the header (columns: {}); expected 'path' + 'chexpert_labels' "
      "(chexgenbench-real), 'img_savename' or 'synthetic_filename' (chexgenbench-synthetic), or 'file_name' "
      "(onehot); give --format",
      table.source, header_list(table)));
}

void read_csv_manifest(const CsvTable& table, ManifestFormat format, const ManifestOptions& options,
                       SampleCollector& collector, Dataset& dataset) {
  const ManifestColumns& c = options.columns;
  const bool real = format == ManifestFormat::chexgenbench_real;
  const bool synthetic = format == ManifestFormat::chexgenbench_synthetic;
  const bool onehot = format == ManifestFormat::onehot;

  std::ptrdiff_t image_col = kAbsent, prompt_col = kAbsent, labels_col = kAbsent;
  if (real) {
    image_col = find_column(table, "image", c.image, {"path"}, true);
    prompt_col = find_column(table, "prompt", c.prompt, {"annotated_prompt"}, true);
    labels_col = find_column(table, "labels", c.labels, {"chexpert_labels"}, true);
  } else if (synthetic) {
    image_col = find_column(table, "image", c.image, {"img_savename", "synthetic_filename"}, true);
    prompt_col = find_column(table, "prompt", c.prompt, {"prompt", "annotated_prompt"}, true);
    labels_col = find_column(table, "labels", c.labels, {"chexpert_labels"}, false);
  } else {
    CHEXGEN_ASSERT(onehot, "read_csv_manifest called for a non-CSV format");
    if (!c.labels.empty())
      throw UsageError("--labels-column applies to dict formats; a onehot manifest has one column per label");
    image_col = find_column(table, "image", c.image, {"file_name"}, true);
    prompt_col = find_column(table, "prompt", c.prompt, {"prompt"}, false);
  }
  const std::ptrdiff_t patient_col = find_column(table, "patient", c.patient, {"patient_id"}, false);
  const std::ptrdiff_t id_col = c.id.empty() ? kAbsent : find_column(table, "id", c.id, {}, true);

  std::vector<std::ptrdiff_t> label_cols;
  if (onehot) {
    std::vector<std::string> names;
    label_cols = onehot_label_columns(table, options, names);
    dataset.labels = LabelSet(std::move(names));
  } else if (labels_col != kAbsent) {
    dataset.labels = dict_label_set(options);
  } else if (!options.label_names.empty()) {
    throw UsageError(fmt::format("{}: labels were given but the manifest has no labels column", table.source));
  }

  std::vector<bool> used(table.header.size(), false);
  for (const auto i : {image_col, prompt_col, labels_col, patient_col, id_col}) {
    if (i != kAbsent) used[static_cast<std::size_t>(i)] = true;
  }
  for (const auto i : label_cols) used[static_cast<std::size_t>(i)] = true;

  const std::string& image_name = table.header[static_cast<std::size_t>(image_col)];
  dataset.image_column = image_name;
  const std::string& id_name = id_col == kAbsent ? image_name : table.header[static_cast<std::size_t>(id_col)];
  dataset.samples.reserve(table.records.size());
  for (const CsvRecord& rec : table.records) {
    try {
      const auto cell = [&](std::ptrdiff_t i) -> const std::string& { return rec.fields[static_cast<std::size_t>(i)]; };
      Sample s;
      s.row = rec.line;
      s.image_ref = cell(image_col);
      s.id = id_col == kAbsent ? s.image_ref : cell(id_col);
      if (prompt_col != kAbsent && !cell(prompt_col).empty()) s.prompt = cell(prompt_col);
      if (patient_col != kAbsent && !cell(patient_col).empty()) s.patient_id = cell(patient_col);
      s.labels.assign(dataset.labels.size(), LabelValue::missing);
      if (labels_col != kAbsent) {
        const Location where{table.source, rec.line, table.header[static_cast<std::size_t>(labels_col)]};
        apply_label_dict(parse_label_dict(cell(labels_col), where), dataset.labels, where, s.labels);
      }
      for (std::size_t k = 0; k < label_cols.size(); ++k) {
        const std::string& text = cell(label_cols[k]);
        const auto v = parse_label_cell(text);
        if (!v) {
          throw InputError({table.source, rec.line, dataset.labels.name(k)},
                           fmt::format("label value '{}' is not 1, 0, -1 (or 1.0, 0.0, -1.0) or empty", text));
        }
        s.labels[k] = *v;
      }
      for (std::size_t i = 0; i < table.header.size(); ++i) {
        if (!used[i]) s.extra.emplace_back(table.header[i], rec.fields[i]);
      }
      collector.add(std::move(s), image_name, id_name);
    } catch (const InputError& e) {
      collector.reject(e);
    }
  }
}

}  // namespace chexgen::manifest_detail
