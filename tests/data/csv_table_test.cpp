#include "chexgen/data/csv_table.h"

#include <gtest/gtest.h>

namespace chexgen {
namespace {

CsvTable parse(std::string_view text, ErrorReport& errors) { return parse_csv(text, "t.csv", errors); }

CsvTable parse_clean(std::string_view text) {
  ErrorReport errors;
  CsvTable t = parse(text, errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors.errors()[0].what());
  return t;
}

std::string fatal_error(std::string_view text) {
  ErrorReport errors;
  try {
    parse(text, errors);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Csv, QuotedFieldsWithCommasQuotesAndNewlines) {
  const CsvTable t = parse_clean(
      "id,text,n\n"
      "1,\"a, \"\"quoted\"\"\nsecond line\",x\n"
      "2,plain,y\n");
  ASSERT_EQ(t.header, (std::vector<std::string>{"id", "text", "n"}));
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[0].fields[1], "a, \"quoted\"\nsecond line");
  EXPECT_EQ(t.records[0].line, 2u);
  EXPECT_EQ(t.records[1].line, 4u);  // the quoted newline takes a physical line
  EXPECT_EQ(t.records[1].fields, (std::vector<std::string>{"2", "plain", "y"}));
  EXPECT_EQ(t.column("n"), 2);
  EXPECT_EQ(t.column("missing"), -1);
}

TEST(Csv, BomCrlfAndCrAreHandled) {
  const CsvTable crlf = parse_clean(
      "\xEF\xBB\xBF"
      "a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n");
  ASSERT_EQ(crlf.header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(crlf.records.size(), 2u);
  EXPECT_EQ(crlf.records[0].fields[1], "x\r\ny");
  EXPECT_EQ(crlf.records[1].line, 4u);
  const CsvTable cr = parse_clean("a,b\r1,2\r3,4");
  ASSERT_EQ(cr.records.size(), 2u);
  EXPECT_EQ(cr.records[1].line, 3u);
  EXPECT_EQ(cr.records[1].fields[1], "4");  // no final line end
}

TEST(Csv, SpacesAreKeptAndBlankLinesSkipped) {
  const CsvTable t = parse_clean("a,b\n\n  x , y\n\r\n\"q\",\n");
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[0].fields, (std::vector<std::string>{"  x ", " y"}));
  EXPECT_EQ(t.records[0].line, 3u);
  EXPECT_EQ(t.records[1].fields, (std::vector<std::string>{"q", ""}));
  EXPECT_EQ(t.records[1].line, 5u);
}

TEST(Csv, WrongFieldCountAndBadUtf8AreRowErrors) {
  ErrorReport errors;
  const CsvTable t = parse("a,b\n1,2\n1,2,3\n4\n5,caf\xE9\n6,ok\n", errors);
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[1].line, 6u);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_STREQ(errors.errors()[0].what(), "t.csv:3: record has 3 fields, the header has 2");
  EXPECT_STREQ(errors.errors()[1].what(), "t.csv:4: record has 1 fields, the header has 2");
  EXPECT_STREQ(errors.errors()[2].what(), "t.csv:5: column 'b': invalid UTF-8 at byte 4 of the field (byte 0xE9)");
}

TEST(Csv, FatalErrorsNameTheLine) {
  EXPECT_EQ(fatal_error(""), "t.csv: empty CSV file: no header line");
  EXPECT_EQ(fatal_error("\n\n"), "t.csv: empty CSV file: no header line");
  EXPECT_NE(fatal_error("a,b\n1,2\n3,\"open\n4,5\n")
                .find("t.csv:3: a quoted field that starts in this record is never closed"),
            std::string::npos);
  EXPECT_NE(fatal_error("a,b\n1,2\n3,say \"hi\"\n").find("t.csv:3: malformed CSV"), std::string::npos);
  EXPECT_NE(fatal_error("a,b\n\"x\"y,2\n").find("t.csv:2: malformed CSV"), std::string::npos);
  EXPECT_EQ(fatal_error("a,a\n1,2\n"),
            "t.csv:1: column 'a': column name appears twice in the header (columns 1 and 2)");
  EXPECT_EQ(fatal_error("a,,b\n"), "t.csv:1: header column 2 has no name");
  EXPECT_NE(fatal_error("a,\xFF\n").find("t.csv:1: header column 2: invalid UTF-8"), std::string::npos);
}

TEST(Csv, UnreadableFileNamesThePath) {
  ErrorReport errors;
  try {
    read_csv_file("/nonexistent/dir/m.csv", errors);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, "/nonexistent/dir/m.csv");
  }
}

}  // namespace
}  // namespace chexgen

namespace chexgen {
namespace {

TEST(CsvRecord, QuotesWhatNeedsItAndParsesBack) {
  const std::vector<std::string> fields{"plain", "a,b", "say \"hi\"", "two\nlines", ""};
  const std::string record = csv_record(fields);
  EXPECT_EQ(record, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",");
  ErrorReport errors;
  const CsvTable table = parse_csv("h1,h2,h3,h4,h5\n" + record + "\n", "t.csv", errors);
  ASSERT_EQ(table.records.size(), 1u);
  EXPECT_EQ(table.records[0].fields, fields);
  EXPECT_EQ(csv_record({}), "");
}

}  // namespace
}  // namespace chexgen
