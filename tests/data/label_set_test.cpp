#include "chexgen/data/label_set.h"

#include <gtest/gtest.h>

#include "chexgen/core/error.h"

namespace chexgen {
namespace {

TEST(LabelSet, Chexpert14InCheXGenBenchOrder) {
  const LabelSet s = LabelSet::chexpert14();
  ASSERT_EQ(s.size(), 14u);
  EXPECT_EQ(s.name(0), "Atelectasis");
  EXPECT_EQ(s.name(4), "Enlarged Cardiomediastinum");
  EXPECT_EQ(s.name(8), "No Finding");
  EXPECT_EQ(s.name(13), "Support Devices");
  EXPECT_EQ(s.index("Pleural Effusion"), 9u);
  EXPECT_FALSE(s.index("Effusion").has_value());
}

TEST(LabelSet, Nih15AndPresets) {
  const LabelSet s = LabelSet::preset("nih");
  ASSERT_EQ(s.size(), 15u);
  EXPECT_EQ(s.name(2), "Effusion");
  EXPECT_EQ(s.name(14), "No Finding");
  EXPECT_EQ(LabelSet::preset("chexpert").names(), LabelSet::chexpert14().names());
  EXPECT_THROW(LabelSet::preset("mimic"), UsageError);
}

TEST(LabelSet, AnyListWorksButNamesAreUniqueAndNonEmpty) {
  const LabelSet s({"b", "a"});
  EXPECT_EQ(s.index("a"), 1u);
  EXPECT_EQ(s.joined(), "b, a");
  EXPECT_THROW(LabelSet({"a", "a"}), UsageError);
  EXPECT_THROW(LabelSet({"a", ""}), UsageError);
}

TEST(LabelCell, ParsesCheXpertConvention) {
  EXPECT_EQ(parse_label_cell("1"), LabelValue::positive);
  EXPECT_EQ(parse_label_cell("1.0"), LabelValue::positive);
  EXPECT_EQ(parse_label_cell("0"), LabelValue::negative);
  EXPECT_EQ(parse_label_cell("0.0"), LabelValue::negative);
  EXPECT_EQ(parse_label_cell("-1"), LabelValue::uncertain);
  EXPECT_EQ(parse_label_cell("-1.0"), LabelValue::uncertain);
  EXPECT_EQ(parse_label_cell(""), LabelValue::missing);
  for (const char* bad : {"2", "0.5", " 1", "1 ", "yes", "true", "nan", "1e0", "-", ".", "+1", "--1"}) {
    EXPECT_FALSE(parse_label_cell(bad).has_value()) << bad;
  }
  EXPECT_EQ(label_value_name(LabelValue::uncertain), "uncertain");
}

}  // namespace
}  // namespace chexgen
