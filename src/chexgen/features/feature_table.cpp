#include "chexgen/features/feature_table.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "chexgen/core/files.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/features/npy.h"

namespace chexgen::features {
namespace {

std::string lines_of(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + '\n';
  return text;
}

}  // namespace

void write_feature_table(const std::filesystem::path& file, const FeatureTable& table) {
  CHEXGEN_ASSERT(table.images.size() == table.values.rows() && table.columns.size() == table.values.cols(),
                 "write_feature_table: names do not match the values");
  const std::string ext = file.extension().string();
  if (ext == ".csv") {
    std::string text = "image";
    for (const auto& c : table.columns) text += "," + csv_field(c);
    text += '\n';
    for (std::size_t r = 0; r < table.values.rows(); ++r) {
      text += csv_field(table.images[r]);
      for (std::size_t c = 0; c < table.values.cols(); ++c) text += fmt::format(",{}", table.values(r, c));
      text += '\n';
    }
    write_file_atomically(file, text);
  } else if (ext == ".npy") {
    write_npy(file, table.values.view());
    write_file_atomically(file.string() + ".columns.txt", lines_of(table.columns));
    write_file_atomically(file.string() + ".images.txt", lines_of(table.images));
  } else {
    throw UsageError(fmt::format("{}: a feature table is a .csv or a .npy file", file.string()));
  }
}

ReadFeatureTable read_feature_table_csv(const std::filesystem::path& file, ErrorReport& errors) {
  const std::string path = file.string();
  ErrorReport row_errors;
  const CsvTable t = read_csv_file(path, row_errors);
  if (!row_errors.empty()) {
    errors.merge(row_errors);
    throw InputError(Location{path}, fmt::format("{} malformed row(s)", row_errors.size()));
  }
  if (t.header.size() < 2 || t.records.empty())
    throw InputError(Location{path}, "a feature table needs an image column, at least one feature column and one row");
  // A column is numeric when every non-empty cell parses whole as a number; otherwise it is left out, with a warning
  // that quotes its first non-numeric cell (a typo there would otherwise cost a feature without a word).
  ReadFeatureTable out;
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
    out.warnings.push_back(fmt::format("{}:{}: column '{}' holds text ('{}'); the column is left out", path, text->line,
                                       t.header[c], text->fields[c]));
  }
  FeatureTable& table = out.table;
  for (std::size_t c : numeric) table.columns.push_back(t.header[c]);
  table.values = MatrixD(t.records.size(), numeric.size());
  for (std::size_t r = 0; r < t.records.size(); ++r) {
    table.images.push_back(t.records[r].fields[0]);
    for (std::size_t k = 0; k < numeric.size(); ++k) {
      const std::string& s = t.records[r].fields[numeric[k]];
      table.values(r, k) = s.empty() ? std::nan("") : std::strtod(s.c_str(), nullptr);
    }
  }
  return out;
}

}  // namespace chexgen::features
