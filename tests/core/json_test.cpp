// core/json.h: the bounded parser, the lines of JSON Lines and the terminal-safe text.
#include "chexgen/core/json.h"

#include <string>

#include <gtest/gtest.h>

namespace chexgen {
namespace {

std::string parse_error(const std::string& text) {
  try {
    (void)parse_json(text, Location{"m.jsonl", 3});
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ParseJson, DeepNestingIsAnInputErrorNotACrash) {
  const std::string deep = "{\"extra\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(parse_error(deep), "m.jsonl:3: JSON nested deeper than 256 levels");
  EXPECT_FALSE(try_parse_json(std::string(200000, '[')).has_value());
  // Depth 255 (the outer object and 254 arrays) is read; one more level is refused.
  const auto nested = [](int arrays) {
    return "{\"a\": " + std::string(arrays, '[') + std::string(arrays, ']') + "}";
  };
  EXPECT_EQ(parse_json(nested(255), Location{}).dump().size(), nested(255).size() - 1);  // dump drops the space
  EXPECT_EQ(parse_error(nested(256)), "m.jsonl:3: JSON nested deeper than 256 levels");
}

TEST(ParseJson, HugeNumbersAndSyntaxErrorsAreInputErrors) {
  EXPECT_EQ(parse_error("{\"x\": 1e999}"), "m.jsonl:3: a JSON number too large for a double (such as 1e999)");
  EXPECT_EQ(parse_error("[-1e400]"), "m.jsonl:3: a JSON number too large for a double (such as 1e999)");
  EXPECT_NE(parse_error("{\"x\": }").find("m.jsonl:3: not valid JSON"), std::string::npos);
  EXPECT_EQ(parse_json("{\"x\": 1e308}", Location{})["x"].get<double>(), 1e308);
  EXPECT_FALSE(try_parse_json("1e999").has_value());
}

TEST(PrintableText, EscapesControlsAndBadBytesKeepsUnicode) {
  EXPECT_EQ(printable_text("\x1b]0;owned\x07\x1b[2Jred"), "\\x1b]0;owned\\x07\\x1b[2Jred");
  EXPECT_EQ(printable_text("line 1\nline\t2\r"), "line 1\nline\t2\\x0d");
  EXPECT_EQ(printable_text("Pleural effusion \xc3\xa9 \xe2\x80\x94 ok"), "Pleural effusion \xc3\xa9 \xe2\x80\x94 ok");
  EXPECT_EQ(printable_text("bad \xff\xfe byte"), "bad \\xff\\xfe byte");
  EXPECT_EQ(printable_text("csi \xc2\x9b" "31m"), "csi \\xc2\\x9b31m");
  EXPECT_EQ(printable_text("truncated \xe2\x80"), "truncated \\xe2\\x80");
  EXPECT_EQ(printable_text(std::string(10, 'a'), 4), "aaaa...");
}

}  // namespace
}  // namespace chexgen

namespace chexgen {
namespace {

TEST(JsonLines, NumbersLinesDropsLineEndsAndKeepsBlankOnes) {
  const std::vector<JsonLine> lines = json_lines("{\"a\":1}\r\n\n  \t\r\n{\"b\":\"x\\r\"}\n{\"c\":3}");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].text, "{\"a\":1}");
  EXPECT_TRUE(lines[1].blank());
  EXPECT_TRUE(lines[2].blank());
  EXPECT_EQ(lines[3].number, 4u);
  EXPECT_EQ(lines[3].text, "{\"b\":\"x\\r\"}");
  EXPECT_EQ(lines[4].text, "{\"c\":3}");  // the last line needs no "\n"
  EXPECT_FALSE(lines[4].blank());
  EXPECT_TRUE(json_lines("").empty());
  EXPECT_EQ(json_lines("x\n").size(), 1u);  // nothing after a final "\n"
}

}  // namespace
}  // namespace chexgen
