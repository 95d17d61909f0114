#include "chexgen/data/csv_table.h"

#include <csv.h>

#include <fmt/format.h>

#include "chexgen/core/files.h"
#include "chexgen/core/utf8.h"

namespace chexgen {
namespace {

// Receives libcsv's callbacks. libcsv calls on_field for each field and on_record at each record end.
struct Collector {
  std::vector<std::string> fields;
  std::vector<CsvRecord> records;  // header first
  std::size_t record_start_line = 0;
  bool between_records = true;
};

void on_field(void* data, std::size_t len, void* user) {
  auto* c = static_cast<Collector*>(user);
  c->fields.emplace_back(data == nullptr ? "" : static_cast<const char*>(data), data == nullptr ? 0 : len);
}

void on_record(int /*terminator*/, void* user) {
  auto* c = static_cast<Collector*>(user);
  c->records.push_back(CsvRecord{c->record_start_line, std::move(c->fields)});
  c->fields.clear();
  c->between_records = true;
}

// Keep spaces: libcsv trims unquoted leading/trailing spaces unless told nothing is a space.
int no_space(unsigned char) { return 0; }

// One parser per call, freed on every path.
class Parser {
 public:
  Parser() {
    const int rc = csv_init(&p_, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    CHEXGEN_ASSERT(rc == 0, "csv_init failed");
    csv_set_space_func(&p_, no_space);
  }
  ~Parser() { csv_free(&p_); }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  csv_parser* get() { return &p_; }

 private:
  csv_parser p_{};
};

bool is_line_end_only(std::string_view chunk) { return chunk == "\n" || chunk == "\r\n" || chunk == "\r"; }

std::string describe_utf8_error(std::string_view field, std::size_t offset) {
  return fmt::format("invalid UTF-8 at byte {} of the field (byte 0x{:02X})", offset + 1,
                     static_cast<unsigned>(static_cast<unsigned char>(field[offset])));
}

}  // namespace

std::string_view strip_utf8_bom(std::string_view text) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  return text;
}

std::ptrdiff_t CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

CsvTable parse_csv(std::string_view text, std::string source_name, ErrorReport& row_errors) {
  text = strip_utf8_bom(text);
  Parser parser;
  Collector collector;

  // Feed libcsv one physical line at a time (a chunk ends after LF, after CRLF, or after a lone CR),
  // so that we know on which line each record starts.
  std::size_t line = 1;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = pos;
    while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
    if (end < text.size()) {
      if (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ++end;
      ++end;
    }
    const std::string_view chunk = text.substr(pos, end - pos);
    if (collector.between_records && !is_line_end_only(chunk)) {
      collector.record_start_line = line;
      collector.between_records = false;
    }
    const std::size_t parsed = csv_parse(parser.get(), chunk.data(), chunk.size(), on_field, on_record, &collector);
    if (parsed != chunk.size()) {
      const int err = csv_error(parser.get());
      if (err == CSV_EPARSE) {
        throw InputError({source_name, line},
                         fmt::format("malformed CSV at character {} of the line: a quote inside an unquoted field, "
                                     "or text after a closing quote (quote the field and double its quotes)",
                                     parsed + 1));
      }
      throw InputError({source_name, line}, fmt::format("CSV parser failed: {}", csv_strerror(err)));
    }
    pos = end;
    ++line;
  }
  if (csv_fini(parser.get(), on_field, on_record, &collector) != 0) {
    throw InputError({source_name, collector.record_start_line},
                     "a quoted field that starts in this record is never closed (missing '\"')");
  }

  CsvTable table;
  table.source = std::move(source_name);
  if (collector.records.empty()) throw InputError({table.source}, "empty CSV file: no header line");
  CsvRecord& head = collector.records.front();
  table.header = std::move(head.fields);
  table.header_line = head.line;
  for (std::size_t i = 0; i < table.header.size(); ++i) {
    const std::string& name = table.header[i];
    if (const auto bad = find_invalid_utf8(name)) {
      throw InputError({table.source, table.header_line},
                       fmt::format("header column {}: {}", i + 1, describe_utf8_error(name, *bad)));
    }
    if (name.empty())
      throw InputError({table.source, table.header_line}, fmt::format("header column {} has no name", i + 1));
    for (std::size_t j = 0; j < i; ++j) {
      if (table.header[j] == name) {
        throw InputError({table.source, table.header_line, name},
                         fmt::format("column name appears twice in the header (columns {} and {})", j + 1, i + 1));
      }
    }
  }

  table.records.reserve(collector.records.size() - 1);
  for (std::size_t r = 1; r < collector.records.size(); ++r) {
    CsvRecord& rec = collector.records[r];
    if (rec.fields.size() != table.header.size()) {
      row_errors.add(InputError({table.source, rec.line}, fmt::format("record has {} fields, the header has {}",
                                                                      rec.fields.size(), table.header.size())));
      continue;
    }
    bool valid = true;
    for (std::size_t f = 0; f < rec.fields.size() && valid; ++f) {
      if (const auto bad = find_invalid_utf8(rec.fields[f])) {
        row_errors.add(InputError({table.source, rec.line, table.header[f]}, describe_utf8_error(rec.fields[f], *bad)));
        valid = false;
      }
    }
    if (valid) table.records.push_back(std::move(rec));
  }
  return table;
}

CsvTable read_csv_file(const std::filesystem::path& path, ErrorReport& row_errors) {
  const std::string bytes = read_file_bytes(path);
  return parse_csv(bytes, path.string(), row_errors);
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string csv_record(const std::vector<std::string>& fields) {
  std::string record;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) record += ',';
    record += csv_field(fields[i]);
  }
  return record;
}

}  // namespace chexgen
