// RFC 4180 CSV through libcsv (strict mode), with the physical line where every record starts,
// so that error messages can point at the line a user sees in an editor.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "chexgen/core/error.h"

namespace chexgen {

struct CsvRecord {
  std::size_t line = 0;  // 1-based physical line where the record starts (quoted fields may span lines)
  std::vector<std::string> fields;
};

// A header record and the records after it. Every record kept here is valid UTF-8 and has as many
// fields as the header.
struct CsvTable {
  std::string source;  // file name used in messages
  std::vector<std::string> header;
  std::size_t header_line = 0;
  std::vector<CsvRecord> records;

  // Index of a header column, or -1.
  std::ptrdiff_t column(std::string_view name) const;
};

// Parses CSV text: a UTF-8 byte-order mark is stripped; CRLF, LF and CR line ends; fields quoted
// with '"' may hold commas, quotes (doubled) and line breaks; spaces are kept as they are (not
// trimmed); blank lines are skipped.
//
// Fatal problems throw InputError naming `source_name` and the line: no header, a malformed quote
// (strict mode), a quoted field never closed, a header cell that is empty, repeated or not UTF-8.
// A record with the wrong number of fields or invalid UTF-8 is added to `row_errors` and left out
// of `records`; the caller decides whether that is fatal.
CsvTable parse_csv(std::string_view text, std::string source_name, ErrorReport& row_errors);

// Reads and parses a file; a file that cannot be read is an InputError naming it.
CsvTable read_csv_file(const std::filesystem::path& path, ErrorReport& row_errors);

// One field for a CSV file that parse_csv (and any RFC 4180 reader) reads back as `text`: quoted, with quotes
// doubled, when it holds a comma, a quote or a line break.
std::string csv_field(std::string_view text);
// One record: the fields through csv_field, joined by commas (no line end).
std::string csv_record(const std::vector<std::string>& fields);

// Strips a leading UTF-8 byte-order mark (EF BB BF).
std::string_view strip_utf8_bom(std::string_view text);

}  // namespace chexgen
