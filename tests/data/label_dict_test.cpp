#include "chexgen/data/label_dict.h"

#include <gtest/gtest.h>

namespace chexgen {
namespace {

using Dict = std::vector<std::pair<std::string, LabelValue>>;
const Location kWhere{"real.csv", 12, "chexpert_labels"};

Dict parse(std::string_view text) { return parse_label_dict(text, kWhere); }

// Returns the error message, or "" if the text parsed.
std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, "real.csv");
    EXPECT_EQ(e.where().row, 12u);
    EXPECT_EQ(e.where().column, "chexpert_labels");
    return e.what();
  }
  return "";
}

TEST(LabelDict, CheXGenBenchExample) {
  const Dict d = parse("{'Atelectasis': 1.0, 'Cardiomegaly': None, 'Edema': -1.0, 'Fracture': nan}");
  const Dict expected{{"Atelectasis", LabelValue::positive},
                      {"Cardiomegaly", LabelValue::missing},
                      {"Edema", LabelValue::uncertain},
                      {"Fracture", LabelValue::missing}};
  EXPECT_EQ(d, expected);
}

TEST(LabelDict, IntsDoubleQuotesWhitespaceTrailingComma) {
  const Dict d = parse(" {\n\t\"No Finding\" : 1 ,'Edema':0,  'Pneumonia':-1, 'A': 0., 'B': -0.0, 'C': +1.00, } \r\n");
  const Dict expected{{"No Finding", LabelValue::positive}, {"Edema", LabelValue::negative},
                      {"Pneumonia", LabelValue::uncertain}, {"A", LabelValue::negative},
                      {"B", LabelValue::negative},          {"C", LabelValue::positive}};
  EXPECT_EQ(d, expected);
  EXPECT_TRUE(parse("{}").empty());
  EXPECT_TRUE(parse("  { }  ").empty());
}

TEST(LabelDict, EscapedQuotesInNames) {
  const Dict d = parse(R"({'it\'s': 1, "say \"x\"": 0, 'back\\slash': -1})");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].first, "it's");
  EXPECT_EQ(d[1].first, "say \"x\"");
  EXPECT_EQ(d[2].first, "back\\slash");
}

TEST(LabelDict, RejectsWhatPythonWouldNotMeanAsALabel) {
  struct Case {
    const char* text;
    const char* message_part;
  };
  const Case cases[] = {
      {"", "expected '{' at the start of the labels dict, found the end"},
      {"Edema: 1", "character 1: expected '{'"},
      {"{'Edema': 0.5}", "value 0.5 of label 'Edema' is not one of"},
      {"{'Edema': 2}", "value 2 of label 'Edema'"},
      {"{'Edema': 1e0}", "expected ',' or '}'"},
      {"{'Edema': 01}", "leading zero"},
      {"{'Edema': NaN}", "expected a value for label 'Edema'"},
      {"{'Edema': none}", "expected a value for label 'Edema'"},
      {"{'Edema': Nonesuch}", "expected a value for label 'Edema'"},
      {"{'Edema': '1.0'}", "expected a value for label 'Edema'"},
      {"{'Edema': }", "expected a value for label 'Edema'"},
      {"{'Edema' 1.0}", "expected ':' after the label name"},
      {"{Edema: 1.0}", "expected a quoted label name, found 'E'"},
      {"{'Edema': 1.0", "expected ',' or '}' after a label value, found the end"},
      {"{'Edema: 1.0}", "label name is never closed"},
      {"{'Edema': 1.0, 'Edema': 0.0}", "label 'Edema' appears twice"},
      {"{'Edema': 1.0}}", "unexpected text after the closing '}'"},
      {"{'Edema': 1.0} x", "unexpected text after the closing '}'"},
      {"{'': 1.0}", "empty label name"},
      {"{'a\\nb': 1}", "unsupported escape"},
      {"{'a\nb': 1}", "line break inside a label name"},
      {"{,}", "expected a quoted label name, found ','"},
      {"{'a': 1,, 'b': 0}", "expected a quoted label name, found ','"},
      {"['Edema', 1]", "expected '{'"},
      {"{'Edema': -}", "expected a value for label 'Edema'"},
      {"{'Edema': --1}", "expected a value for label 'Edema'"},
  };
  for (const auto& c : cases) {
    const std::string msg = error_of(c.text);
    EXPECT_NE(msg.find("real.csv:12: column 'chexpert_labels': labels dict, character"), std::string::npos)
        << c.text << " -> " << msg;
    EXPECT_NE(msg.find(c.message_part), std::string::npos) << c.text << " -> " << msg;
  }
}

TEST(LabelDict, ErrorNamesTheCharacter) {
  EXPECT_NE(error_of("{'Edema': 0.5}").find("character 11:"), std::string::npos);
}

}  // namespace
}  // namespace chexgen

namespace chexgen {
namespace {

TEST(FormatLabelDict, WritesCheXGenBenchStyleAndReadsBack) {
  const LabelSet labels({"Atelectasis", "No Finding", "Pleural Effusion", "O'Brien\\sign"});
  const std::vector<LabelValue> values{LabelValue::positive, LabelValue::negative, LabelValue::uncertain,
                                       LabelValue::missing};
  const std::string text = format_label_dict(labels, values);
  EXPECT_EQ(text, "{'Atelectasis': 1.0, 'No Finding': 0.0, 'Pleural Effusion': -1.0, 'O\\'Brien\\\\sign': None}");
  const auto parsed = parse_label_dict(text, Location("x.csv", 2));
  ASSERT_EQ(parsed.size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(parsed[k].first, labels.name(k));
    EXPECT_EQ(parsed[k].second, values[k]);
  }
  EXPECT_EQ(label_dict_json(labels, values).dump(),
            "{\"Atelectasis\":1,\"No Finding\":0,\"Pleural Effusion\":-1,\"O'Brien\\\\sign\":null}");
}

}  // namespace
}  // namespace chexgen
