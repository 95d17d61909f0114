// libFuzzer target: arbitrary bytes into the CSV reader and the labels-dict parser.
// A bad input must end in chexgen::InputError (file/row named); anything else (a crash, a sanitizer
// report, another exception type, a broken invariant) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chexgen/core/error.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/data/label_dict.h"
#include "chexgen/data/label_set.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    chexgen::ErrorReport row_errors;
    const chexgen::CsvTable table = chexgen::parse_csv(text, "fuzz.csv", row_errors);
    for (const auto& record : table.records) {
      CHEXGEN_ASSERT(record.fields.size() == table.header.size(), "a kept record has the wrong number of fields");
      for (const auto& field : record.fields) (void)chexgen::parse_label_cell(field);
    }
  } catch (const chexgen::InputError&) {
  }
  try {
    const auto dict = chexgen::parse_label_dict(text, {"fuzz.csv", 2, "chexpert_labels"});
    for (std::size_t i = 0; i < dict.size(); ++i) {
      CHEXGEN_ASSERT(!dict[i].first.empty(), "empty label name accepted");
      for (std::size_t j = 0; j < i; ++j) CHEXGEN_ASSERT(dict[i].first != dict[j].first, "duplicate label accepted");
    }
  } catch (const chexgen::InputError&) {
  }
  return 0;
}
