// Feature tables: one row per image, named feature columns, in the one layout chexgen writes them.
//  - CSV: a header "image,<column>,...", then one line per image: its path as the manifest writes it, then the
//    values (shortest round-trip form; NaN as "nan"). PyRadiomics' tables written through pandas have the same shape
//    (first column the image), so chexgen frd reads either.
//  - .npy: the values (float64, rows x columns) in FILE.npy, the column names in FILE.npy.columns.txt and the
//    image paths in FILE.npy.images.txt, one per line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/core/matrix.h"

namespace chexgen::features {

struct FeatureTable {
  std::vector<std::string> images;   // one per row
  std::vector<std::string> columns;  // one per column of values
  MatrixD values;
};

// Writes `table` as FILE.csv, or as FILE.npy with its two lists; any other extension is a UsageError. Atomic per
// file.
void write_feature_table(const std::filesystem::path& file, const FeatureTable& table);

// A CSV feature table, read leniently as pandas would hand it over: the first column names the image; a column
// holding any non-numeric text is left out (as CheXGenBench drops pandas' object columns) and named in `warnings`
// with the file, line and first such cell; an empty cell is NaN. Malformed rows are added to `errors` (file, row)
// and then an InputError is thrown; so is one for a table without an image column, a feature column and a row.
struct ReadFeatureTable {
  FeatureTable table;
  std::vector<std::string> dropped_columns;
  std::vector<std::string> warnings;
};
ReadFeatureTable read_feature_table_csv(const std::filesystem::path& file, ErrorReport& errors);

}  // namespace chexgen::features
